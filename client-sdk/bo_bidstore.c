/* bidopen client: the local bid record store (bo/bidstore.h). */
#include "bo/bidstore.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/envelope.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/tender.h"
#include "bo/uscc.h"

#define RECORD_VERSION 1

static void say(char *detail, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *detail, size_t n, const char *fmt, ...)
{
    if (!detail || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, n, fmt, ap);
    va_end(ap);
}

void bo_bid_record_cleanup(bo_bid_record *r)
{
    if (!r)
        return;
    free(r->ri);
    free(r->enc_cert);
    free(r->receipt_sig);
    memset(r, 0, sizeof(*r));
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    if (!p || !n)
        return NULL;
    uint8_t *d = malloc(n);
    if (d)
        memcpy(d, p, n);
    return d;
}

bo_err bo_bid_record_copy(bo_bid_record *dst, const bo_bid_record *src)
{
    *dst = *src;
    dst->ri = dup_bytes(src->ri, src->ri_len);
    dst->enc_cert = dup_bytes(src->enc_cert, src->enc_cert_len);
    dst->receipt_sig = dup_bytes(src->receipt_sig, src->receipt_sig_len);
    if ((src->ri_len && !dst->ri) || (src->enc_cert_len && !dst->enc_cert) ||
        (src->receipt_sig_len && !dst->receipt_sig)) {
        bo_bid_record_cleanup(dst);
        return BO_E_NOMEM;
    }
    return BO_E_OK;
}

static bool names_ok(const char *oid, const char *uscc)
{
    return oid && bo_oid_valid(oid) && strcmp(oid, ".") != 0 && strcmp(oid, "..") != 0 &&
           uscc && bo_uscc_valid(uscc);
}

bo_err bo_bid_record_make(const char *envelope_path, const uint8_t *enc_cert, size_t enc_len,
                          const char *oid, const char *uscc, const uint8_t commitment[32],
                          bo_bid_record *out, char *detail, size_t n)
{
    memset(out, 0, sizeof(*out));
    if (!names_ok(oid, uscc) || !enc_cert || !enc_len || !commitment) {
        say(detail, n, "a bid record needs a valid oid, USCC, encryption certificate and "
                       "key commitment");
        return BO_E_INVALID_ARG;
    }
    if (enc_len > BO_BIDSTORE_CERT_MAX) {
        say(detail, n, "the encryption certificate is over %u bytes", BO_BIDSTORE_CERT_MAX);
        return BO_E_TOO_BIG;
    }
    if (strlen(envelope_path) >= sizeof(out->envelope)) {
        say(detail, n, "the envelope's path is too long");
        return BO_E_INVALID_ARG;
    }
    bo_envelope_info info;
    bo_err err = bo_envelope_info_file(envelope_path, &info, detail, n);
    if (err)
        return err;
    size_t idx = 0;
    err = bo_envelope_find_recipient(&info, enc_cert, enc_len, &idx);
    if (err) {
        bo_cert_info ci;
        if (bo_cert_describe(enc_cert, enc_len, &ci) == BO_E_OK)
            say(detail, n, "%s is not sealed to the encryption certificate serial %s (%s)",
                envelope_path, ci.serial, ci.cn);
        else
            say(detail, n, "%s is not sealed to the encryption certificate", envelope_path);
        bo_envelope_info_cleanup(&info);
        return err;
    }
    const bo_bytes *ri = &info.ri[idx].der;
    if (ri->len > BO_BIDSTORE_RI_MAX) {
        say(detail, n, "the RecipientInfo is over %u bytes", BO_BIDSTORE_RI_MAX);
        bo_envelope_info_cleanup(&info);
        return BO_E_TOO_BIG;
    }
    snprintf(out->seal.oid, sizeof(out->seal.oid), "%s", oid);
    snprintf(out->seal.uscc, sizeof(out->seal.uscc), "%s", uscc);
    memcpy(out->seal.env_sha256, info.sha256, 32);
    out->seal.env_size = info.size;
    bo_sha256(ri->p, ri->len, out->seal.ri_sha256);
    memcpy(out->seal.commitment, commitment, 32);
    snprintf(out->cipher, sizeof(out->cipher), "%s",
             info.cipher == BO_ENVELOPE_AES256_GCM ? "aes-256-gcm" : "aes-256-cbc");
    snprintf(out->envelope, sizeof(out->envelope), "%s", envelope_path);
    out->ri = dup_bytes(ri->p, ri->len);
    out->ri_len = ri->len;
    out->enc_cert = dup_bytes(enc_cert, enc_len);
    out->enc_cert_len = enc_len;
    bo_cert_fpr(enc_cert, enc_len, out->enc_fpr);
    out->created = bo_clock_now_ms();
    bo_envelope_info_cleanup(&info);
    if (!out->ri || !out->enc_cert) {
        bo_bid_record_cleanup(out);
        return BO_E_NOMEM;
    }
    return BO_E_OK;
}

/* ------------------------------------------------------------------- JSON ---- */

static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (!hex)
        return -1;
    bo_hex_encode(p, len, hex);
    int rc = json_object_set_new(o, key, json_string(hex));
    free(hex);
    return rc;
}

bo_err bo_bid_record_to_json(const bo_bid_record *r, bo_buf *out)
{
    json_t *o = json_object();
    if (!o)
        return BO_E_NOMEM;
    int rc = 0;
    rc |= json_object_set_new(o, "v", json_integer(RECORD_VERSION));
    rc |= json_object_set_new(o, "oid", json_string(r->seal.oid));
    rc |= json_object_set_new(o, "uscc", json_string(r->seal.uscc));
    rc |= set_hex(o, "env_sha256", r->seal.env_sha256, 32);
    rc |= json_object_set_new(o, "env_size", json_integer((json_int_t)r->seal.env_size));
    rc |= set_hex(o, "commitment", r->seal.commitment, 32);
    rc |= set_hex(o, "ri_sha256", r->seal.ri_sha256, 32);
    rc |= set_hex(o, "ri", r->ri, r->ri_len);
    rc |= set_hex(o, "enc_cert", r->enc_cert, r->enc_cert_len);
    rc |= set_hex(o, "enc_fpr", r->enc_fpr, 32);
    if (r->cipher[0])
        rc |= json_object_set_new(o, "cipher", json_string(r->cipher));
    if (r->envelope[0])
        rc |= json_object_set_new(o, "envelope", json_string(r->envelope));
    rc |= json_object_set_new(o, "created", json_integer(r->created));
    bo_cert_info ci;
    if (r->enc_cert_len && bo_cert_describe(r->enc_cert, r->enc_cert_len, &ci) == BO_E_OK) {
        /* for people reading the file; not read back */
        char t[40];
        rc |= json_object_set_new(o, "enc_cert_serial", json_string(ci.serial));
        rc |= json_object_set_new(
            o, "enc_cert_not_after",
            json_string(bo_time_format_rfc3339(ci.not_after, t, sizeof(t))));
    }
    if (r->has_receipt) {
        json_t *rc_o = json_object();
        if (!rc_o) {
            json_decref(o);
            return BO_E_NOMEM;
        }
        rc |= json_object_set_new(rc_o, "ts", json_integer(r->receipt_ts));
        rc |= set_hex(rc_o, "sig", r->receipt_sig, r->receipt_sig_len);
        rc |= set_hex(rc_o, "key_fpr", r->server_key_fpr, 32);
        rc |= json_object_set_new(rc_o, "verified", json_boolean(r->receipt_verified));
        rc |= json_object_set_new(rc_o, "replaced", json_boolean(r->replaced));
        rc |= json_object_set_new(o, "receipt", rc_o);
    }
    char *s = rc ? NULL : json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!s)
        return BO_E_NOMEM;
    bo_err err = bo_buf_append_str(out, s);
    if (!err)
        err = bo_buf_append_str(out, "\n");
    free(s);
    return err;
}

/* A hex field of exactly len bytes (want_len) or of 1..max bytes (*got set). */
static bo_err get_hex(json_t *o, const char *key, uint8_t *fixed, size_t want_len,
                      uint8_t **dyn, size_t *got, size_t max, char *detail, size_t n)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s) {
        say(detail, n, "%s: missing", key);
        return BO_E_MALFORMED;
    }
    size_t sl = strlen(s);
    if (fixed) {
        if (sl != 2 * want_len || bo_hex_decode(s, sl, fixed, want_len)) {
            say(detail, n, "%s: expected %zu bytes in hex", key, want_len);
            return BO_E_MALFORMED;
        }
        return BO_E_OK;
    }
    if (sl == 0 || sl % 2) {
        say(detail, n, "%s: expected hex", key);
        return BO_E_MALFORMED;
    }
    if (sl / 2 > max) {
        say(detail, n, "%s: over %zu bytes", key, max);
        return BO_E_TOO_BIG;
    }
    *dyn = malloc(sl / 2);
    if (!*dyn)
        return BO_E_NOMEM;
    if (bo_hex_decode(s, sl, *dyn, sl / 2)) {
        say(detail, n, "%s: expected hex", key);
        return BO_E_MALFORMED;
    }
    *got = sl / 2;
    return BO_E_OK;
}

static bo_err parse_obj(json_t *o, bo_bid_record *r, char *detail, size_t n)
{
    if (!json_is_object(o)) {
        say(detail, n, "not a JSON object");
        return BO_E_MALFORMED;
    }
    json_t *v = json_object_get(o, "v");
    if (!json_is_integer(v) || json_integer_value(v) != RECORD_VERSION) {
        say(detail, n, "v: expected %d", RECORD_VERSION);
        return BO_E_MALFORMED;
    }
    const char *oid = json_string_value(json_object_get(o, "oid"));
    const char *uscc = json_string_value(json_object_get(o, "uscc"));
    if (!oid || !bo_oid_valid(oid) || !strcmp(oid, ".") || !strcmp(oid, "..")) {
        say(detail, n, "oid: not a valid opening id");
        return BO_E_MALFORMED;
    }
    if (!uscc || !bo_uscc_valid(uscc)) {
        say(detail, n, "uscc: not a valid USCC");
        return BO_E_MALFORMED;
    }
    snprintf(r->seal.oid, sizeof(r->seal.oid), "%s", oid);
    snprintf(r->seal.uscc, sizeof(r->seal.uscc), "%s", uscc);
    json_t *sz = json_object_get(o, "env_size");
    if (!json_is_integer(sz) || json_integer_value(sz) <= 0) {
        say(detail, n, "env_size: expected a positive integer");
        return BO_E_MALFORMED;
    }
    r->seal.env_size = (uint64_t)json_integer_value(sz);
    bo_err err = get_hex(o, "env_sha256", r->seal.env_sha256, 32, NULL, NULL, 0, detail, n);
    if (!err)
        err = get_hex(o, "commitment", r->seal.commitment, 32, NULL, NULL, 0, detail, n);
    if (!err)
        err = get_hex(o, "ri_sha256", r->seal.ri_sha256, 32, NULL, NULL, 0, detail, n);
    if (!err)
        err = get_hex(o, "enc_fpr", r->enc_fpr, 32, NULL, NULL, 0, detail, n);
    if (!err)
        err = get_hex(o, "ri", NULL, 0, &r->ri, &r->ri_len, BO_BIDSTORE_RI_MAX, detail, n);
    if (!err)
        err = get_hex(o, "enc_cert", NULL, 0, &r->enc_cert, &r->enc_cert_len,
                      BO_BIDSTORE_CERT_MAX, detail, n);
    if (err)
        return err;
    uint8_t h[32];
    bo_sha256(r->ri, r->ri_len, h);
    if (memcmp(h, r->seal.ri_sha256, 32) != 0) {
        say(detail, n, "ri_sha256: not the SHA-256 of ri");
        return BO_E_MALFORMED;
    }
    bo_cert_fpr(r->enc_cert, r->enc_cert_len, h);
    if (memcmp(h, r->enc_fpr, 32) != 0) {
        say(detail, n, "enc_fpr: not the fingerprint of enc_cert");
        return BO_E_MALFORMED;
    }
    const char *s = json_string_value(json_object_get(o, "cipher"));
    if (s && strlen(s) < sizeof(r->cipher))
        snprintf(r->cipher, sizeof(r->cipher), "%s", s);
    s = json_string_value(json_object_get(o, "envelope"));
    if (s && strlen(s) < sizeof(r->envelope))
        snprintf(r->envelope, sizeof(r->envelope), "%s", s);
    json_t *cr = json_object_get(o, "created");
    if (json_is_integer(cr))
        r->created = json_integer_value(cr);
    json_t *rc = json_object_get(o, "receipt");
    if (rc) {
        json_t *ts = json_object_get(rc, "ts");
        if (!json_is_integer(ts)) {
            say(detail, n, "receipt.ts: expected an integer");
            return BO_E_MALFORMED;
        }
        r->receipt_ts = json_integer_value(ts);
        err = get_hex(rc, "sig", NULL, 0, &r->receipt_sig, &r->receipt_sig_len, BO_SIG_MAX,
                      detail, n);
        if (!err)
            err = get_hex(rc, "key_fpr", r->server_key_fpr, 32, NULL, NULL, 0, detail, n);
        if (err)
            return err;
        r->receipt_verified = json_is_true(json_object_get(rc, "verified"));
        r->replaced = json_is_true(json_object_get(rc, "replaced"));
        r->has_receipt = true;
    }
    return BO_E_OK;
}

bo_err bo_bid_record_from_json(const char *json, size_t len, bo_bid_record *out, char *detail,
                               size_t n)
{
    memset(out, 0, sizeof(*out));
    if (len > BO_BIDSTORE_RECORD_MAX) {
        say(detail, n, "a record is at most %u bytes", BO_BIDSTORE_RECORD_MAX);
        return BO_E_TOO_BIG;
    }
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        say(detail, n, "line %d: %s", je.line, je.text);
        return BO_E_MALFORMED;
    }
    bo_err err = parse_obj(o, out, detail, n);
    json_decref(o);
    if (err)
        bo_bid_record_cleanup(out);
    return err;
}

bo_err bo_bid_record_read(const char *path, bo_bid_record *out, char *detail, size_t n)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (!f) {
        say(detail, n, "%s: %s", path, strerror(errno));
        return BO_E_IO;
    }
    bo_buf b;
    bo_buf_init(&b, BO_BIDSTORE_RECORD_MAX);
    char tmp[16384];
    size_t got;
    bo_err err = BO_E_OK;
    while (!err && (got = fread(tmp, 1, sizeof(tmp), f)) > 0)
        err = bo_buf_append(&b, tmp, got);
    if (!err && ferror(f))
        err = BO_E_IO;
    fclose(f);
    if (err) {
        say(detail, n, "%s: %s", path,
            err == BO_E_TOO_BIG ? "too big for a bid record" : "cannot be read");
        bo_buf_cleanup(&b);
        return err;
    }
    char why[256] = "";
    err = bo_bid_record_from_json(b.data ? (const char *)b.data : "", b.len, out, why,
                                  sizeof(why));
    if (err)
        say(detail, n, "%s: %s", path, why);
    bo_buf_cleanup(&b);
    return err;
}

/* --------------------------------------------------------------- files ---- */

static bo_err fsync_dir(const char *path)
{
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof(dir), ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return BO_E_IO;
    int rc = fsync(fd);
    close(fd);
    return rc ? BO_E_IO : BO_E_OK;
}

bo_err bo_bid_record_write(const char *path, const bo_bid_record *r, char *detail, size_t n)
{
    bo_buf b;
    bo_buf_init(&b, BO_BIDSTORE_RECORD_MAX);
    bo_err err = bo_bid_record_to_json(r, &b);
    if (err) {
        bo_buf_cleanup(&b);
        say(detail, n, "cannot encode the bid record: %s", bo_strerror(err));
        return err;
    }
    char tmp[1200];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        bo_buf_cleanup(&b);
        say(detail, n, "%s: path too long", path);
        return BO_E_IO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        say(detail, n, "%s: %s", tmp, strerror(errno));
        bo_buf_cleanup(&b);
        return BO_E_IO;
    }
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(fd, b.data + off, b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    bool ok = off == b.len && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    bo_buf_cleanup(&b);
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            e = errno;
        unlink(tmp);
        say(detail, n, "%s: %s", path, strerror(e));
        return BO_E_IO;
    }
    if (fsync_dir(path)) {
        say(detail, n, "%s: cannot sync its directory", path);
        return BO_E_IO;
    }
    return BO_E_OK;
}

bo_err bo_bidstore_default_dir(char *out, size_t n)
{
    const char *env = getenv(BO_BIDSTORE_ENV);
    int len;
    if (env && *env) {
        len = snprintf(out, n, "%s", env);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            if (n)
                out[0] = 0;
            return BO_E_CONFIG;
        }
        len = snprintf(out, n, "%s/.bidopen/bids", home);
    }
    if (len < 0 || (size_t)len >= n) {
        if (n)
            out[0] = 0;
        return BO_E_TOO_BIG;
    }
    return BO_E_OK;
}

/* mkdir -p with mode 0700 for what it creates. */
static bo_err mkdirs(const char *path, char *detail, size_t n)
{
    char p[1024];
    if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
        say(detail, n, "%s: path too long", path);
        return BO_E_IO;
    }
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != 0)
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            say(detail, n, "cannot create %s: %s", p, strerror(errno));
            return BO_E_IO;
        }
        *s = c;
        if (!c)
            break;
    }
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        say(detail, n, "%s is not a directory", p);
        return BO_E_IO;
    }
    return BO_E_OK;
}

static bo_err pick_dir(const char *dir, char out[1024], char *detail, size_t n)
{
    if (dir && *dir) {
        if (snprintf(out, 1024, "%s", dir) >= 1024) {
            say(detail, n, "store directory path too long");
            return BO_E_CONFIG;
        }
        return BO_E_OK;
    }
    bo_err err = bo_bidstore_default_dir(out, 1024);
    if (err)
        say(detail, n, "no bid store directory: set $HOME or $%s", BO_BIDSTORE_ENV);
    return err ? BO_E_CONFIG : BO_E_OK;
}

bo_err bo_bidstore_save(const char *dir, const bo_bid_record *r, char *detail, size_t n)
{
    if (!names_ok(r->seal.oid, r->seal.uscc)) {
        say(detail, n, "the record has no valid oid or USCC");
        return BO_E_INVALID_ARG;
    }
    char base[1024], sub[1200], path[1300], hex[65];
    bo_err err = pick_dir(dir, base, detail, n);
    if (err)
        return err;
    snprintf(sub, sizeof(sub), "%s/%s", base, r->seal.oid);
    err = mkdirs(sub, detail, n);
    if (err)
        return err;
    snprintf(path, sizeof(path), "%s/%s.json", sub, bo_hex_encode(r->seal.env_sha256, 32, hex));
    return bo_bid_record_write(path, r, detail, n);
}

static int by_created_desc(const void *a, const void *b)
{
    const bo_bid_record *x = a, *y = b;
    return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

void bo_bid_records_free(bo_bid_record *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        bo_bid_record_cleanup(&v[i]);
    free(v);
}

bo_err bo_bidstore_load(const char *dir, const char *oid, const char *uscc,
                        bo_bid_record **out, size_t *n_out, char *detail, size_t n)
{
    *out = NULL;
    *n_out = 0;
    if (detail && n)
        detail[0] = 0;
    if (!oid || !bo_oid_valid(oid) || !strcmp(oid, ".") || !strcmp(oid, "..")) {
        say(detail, n, "not a valid opening id");
        return BO_E_INVALID_ARG;
    }
    char base[1024], sub[1200];
    bo_err err = pick_dir(dir, base, detail, n);
    if (err)
        return err;
    snprintf(sub, sizeof(sub), "%s/%s", base, oid);
    DIR *d = opendir(sub);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return BO_E_OK;
        say(detail, n, "%s: %s", sub, strerror(errno));
        return BO_E_IO;
    }
    bo_bid_record *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    err = BO_E_OK;
    while (!err && (de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl != 64 + 5 || strcmp(de->d_name + 64, ".json") != 0)
            continue; /* temporary files and anything else */
        if (cnt == BO_BIDSTORE_MAX_RECORDS) {
            say(detail, n, "%s: more than %u records", sub, BO_BIDSTORE_MAX_RECORDS);
            err = BO_E_TOO_MANY;
            break;
        }
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 8;
            bo_bid_record *nv = realloc(v, nc * sizeof(*nv));
            if (!nv) {
                err = BO_E_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        char path[1300], why[400];
        snprintf(path, sizeof(path), "%s/%.*s", sub, 69, de->d_name);
        bo_err e = bo_bid_record_read(path, &v[cnt], why, sizeof(why));
        if (e == BO_E_NOMEM) {
            err = e;
            break;
        }
        if (e) {
            say(detail, n, "skipped %s", why);
            continue;
        }
        char hex[65];
        if (strncmp(de->d_name, bo_hex_encode(v[cnt].seal.env_sha256, 32, hex), 64) != 0 ||
            strcmp(v[cnt].seal.oid, oid) != 0) {
            say(detail, n, "skipped %s: its name does not match its content", path);
            bo_bid_record_cleanup(&v[cnt]);
            continue;
        }
        if (uscc && strcmp(v[cnt].seal.uscc, uscc) != 0) {
            bo_bid_record_cleanup(&v[cnt]);
            continue;
        }
        cnt++;
    }
    closedir(d);
    if (err) {
        bo_bid_records_free(v, cnt);
        return err;
    }
    if (cnt)
        qsort(v, cnt, sizeof(*v), by_created_desc);
    else {
        free(v);
        v = NULL;
    }
    *out = v;
    *n_out = cnt;
    return BO_E_OK;
}

bo_err bo_bidstore_find(const char *dir, const char *oid, const char *uscc,
                        const uint8_t *env_sha256, bo_bid_record *out, char *detail, size_t n)
{
    memset(out, 0, sizeof(*out));
    bo_bid_record *v;
    size_t cnt;
    bo_err err = bo_bidstore_load(dir, oid, uscc, &v, &cnt, detail, n);
    if (err)
        return err;
    for (size_t i = 0; i < cnt; i++) {
        if (env_sha256 && memcmp(v[i].seal.env_sha256, env_sha256, 32) != 0)
            continue;
        *out = v[i];
        memset(&v[i], 0, sizeof(v[i]));
        bo_bid_records_free(v, cnt);
        return BO_E_OK;
    }
    bo_bid_records_free(v, cnt);
    say(detail, n, "no record of %s for opening %s", env_sha256 ? "this bid" : "a bid", oid);
    return BO_E_NOT_FOUND;
}

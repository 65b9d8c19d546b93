/* bidopen-server: the `export` request (docs/protocol.md §11, docs/transcript.md): the record
 * as JSON, OCDS or the printable HTML, and the transcript, full or public, in pieces of at
 * most 128 KiB. The bytes come from session/ (bo/export.h, bo/transcript.h), the same code
 * `bidopen verify` and the CLI use; they are a pure function of the room's log, so a client
 * that asks for the pieces one after the other gets the same document as long as the log
 * does not grow (once the opening is over, it does not). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/export.h"
#include "bo/log.h"
#include "bo/transcript.h"
#include "bo_server_internal.h"

#define PIECE_MAX (128u * 1024u)
#define EXPORT_MAX (BO_TRANSCRIPT_MAX_BYTES)

/* Whether the opening is over: then its record and public log are anyone's. */
static bool over(const bo_room *r)
{
    bo_phase p = bo_session_phase(r->sess);
    return p == BO_PHASE_CLOSED || p == BO_PHASE_FAILED;
}

/* Who may export what: this opening's host, supervisors and operators everything, at any
 * time; anyone else the record's formats and the public transcript once the opening is
 * over. Replies with the refusal and returns false. */
static bool allowed(bo_conn *c, const bo_room *r, bo_export_format f, uint64_t id)
{
    bo_role role = c->actor.role;
    bool host = role == BO_ROLE_HOST && !memcmp(c->actor.fpr, bo_session_host_fpr(r->sess), 32);
    if (host || role == BO_ROLE_SUPERVISOR || role == BO_ROLE_OPERATOR)
        return true;
    if (f == BO_EXPORT_TRANSCRIPT) {
        bo__conn_reply_err(c, true, id, role == BO_ROLE_HOST ? BO_E_NOT_HOST : BO_E_FORBIDDEN,
                           "the full transcript is for the opening's host, supervisors and "
                           "operators");
        return false;
    }
    if (!over(r)) {
        bo__conn_reply_err(c, true, id, role == BO_ROLE_HOST ? BO_E_NOT_HOST : BO_E_FORBIDDEN,
                           "the record and the public transcript are public once the opening "
                           "is closed or failed");
        return false;
    }
    return true;
}

static const bo_event *room_event(void *ud, size_t i)
{
    return &((const bo_room *)ud)->evs[i].ev;
}

/* The last signed head of the log, for the documents' integrity section. */
static void last_head(const bo_room *r, bo_export_meta *meta)
{
    memset(meta, 0, sizeof(*meta));
    for (size_t i = r->n_evs; i > 0; i--)
        if (r->evs[i - 1].ev.kind == BO_EV_HEAD_SIGNED &&
            bo_export_meta_from_head(&r->evs[i - 1].ev, meta) == BO_E_OK)
            return;
}

/* The whole document into out. */
static bo_err render(const bo_srv *srv, const bo_room *r, bo_export_format f, bo_buf *out,
                     char *detail, size_t n)
{
    if (f == BO_EXPORT_TRANSCRIPT || f == BO_EXPORT_TRANSCRIPT_PUBLIC) {
        bo_transcript_server s;
        memset(&s, 0, sizeof(s));
        s.cert = (bo_bytes){srv->sign_cert, srv->sign_cert_len};
        s.spki = (bo_bytes){srv->sign_spki, srv->sign_spki_len};
        memcpy(s.key_fpr, srv->sign_key_fpr, 32);
        return bo_transcript_build(r->oid,
                                   f == BO_EXPORT_TRANSCRIPT ? BO_TRANSCRIPT_FULL
                                                             : BO_TRANSCRIPT_PUBLIC,
                                   &s, r->n_evs, room_event, (void *)r, out);
    }
    bo_buf rec;
    bo_buf_init(&rec, BO_EXPORT_RECORD_MAX);
    bo_err err = bo_session_record(r->sess, &rec);
    if (!err) {
        bo_export_meta meta;
        last_head(r, &meta);
        err = bo_export_render(f, rec.data, rec.len, &meta, out, detail, n);
    }
    bo_buf_cleanup(&rec);
    return err;
}

void bo__export_request(bo_conn *c, const bo_msg *m)
{
    const char *oid = m->u.export_req.oid;
    bo_export_format f;
    if (bo_export_format_parse(m->u.export_req.format, &f)) {
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD,
                           "format: record, ocds, html, transcript or transcript_public");
        return;
    }
    bo_room *r = bo_oid_valid(oid) ? bo__room_get(c->srv, oid, false) : NULL;
    if (!r || r->state != BO_ROOM_READY || !bo_session_tender(r->sess)) {
        bo__conn_reply_err(c, true, m->id, BO_E_NOT_FOUND, "no such opening on this server");
        return;
    }
    if (!allowed(c, r, f, m->id))
        return;
    bo_buf doc;
    bo_buf_init(&doc, EXPORT_MAX);
    char detail[256] = "";
    bo_err err = render(c->srv, r, f, &doc, detail, sizeof(detail));
    if (err) {
        bo_log(BO_LOG_ERROR, "export", r->oid, c->id, err, "export %s failed: %s",
               bo_export_format_name(f), detail[0] ? detail : bo_strerror(err));
        bo__conn_reply_err(c, true, m->id, err == BO_E_TOO_BIG ? BO_E_TOO_BIG : BO_E_INTERNAL,
                           "the export could not be made");
        bo_buf_cleanup(&doc);
        return;
    }
    uint64_t offset = m->u.export_req.has_offset ? m->u.export_req.offset : 0;
    if (offset > doc.len) {
        bo_buf_cleanup(&doc);
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, "offset: past the end of the export");
        return;
    }
    size_t piece = doc.len - offset < PIECE_MAX ? doc.len - offset : PIECE_MAX;
    bo_mpmap *mm = bo_mpmap_new(&err);
    bo_buf out;
    bo_buf_init(&out, PIECE_MAX + 1024);
    if (mm) {
        /* an empty document cannot happen (every export has bytes); an empty last piece
         * (offset == total) is sent as an empty bin */
        static const uint8_t nothing[1];
        bo_mpmap_bin(mm, "data", piece ? doc.data + offset : nothing, piece);
        bo_mpmap_u64(mm, "offset", offset);
        bo_mpmap_u64(mm, "total", doc.len);
        bo_mpmap_str(mm, "mime", bo_export_mime(f));
        err = bo_mpmap_finish(mm, &out);
        bo_mpmap_free(mm);
    }
    if (!mm || err)
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
    else
        bo__conn_reply_ok(c, m->id, out.data, out.len);
    bo_buf_cleanup(&out);
    bo_buf_cleanup(&doc);
}

/* Every kind of configuration mistake is refused with a message naming the option. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bo_config.h"

static char dir[64];
static char file[128];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/bo-config-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/f.pem", dir);
    FILE *f = fopen(file, "w");
    fputs("x\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    unlink(file);
    rmdir(dir);
    return 0;
}

static void good(bo_config *c)
{
    bo_config_defaults(c);
    strcpy(c->tls_cert, file);
    strcpy(c->tls_key, file);
    strcpy(c->staff, file);
    strcpy(c->sign_key, file);
    strcpy(c->trust, dir);
    strcpy(c->data, dir);
}

static void expect_refusal(bo_config *c, const char *option)
{
    char detail[512] = "";
    assert_int_equal(bo_config_validate(c, detail, sizeof detail), BO_E_CONFIG);
    if (!strstr(detail, option))
        fail_msg("'%s' does not name option %s", detail, option);
}

static void valid_config_passes(void **state)
{
    bo_config c;
    good(&c);
    char detail[512] = "";
    assert_int_equal(bo_config_validate(&c, detail, sizeof detail), BO_E_OK);
}

static void each_mistake_named(void **state)
{
    bo_config c;
    good(&c), c.tls_cert[0] = 0, expect_refusal(&c, "tls-cert");
    good(&c), strcpy(c.tls_key, "/nonexistent/key.pem"), expect_refusal(&c, "tls-key");
    good(&c), strcpy(c.trust, "/nonexistent"), expect_refusal(&c, "trust");
    good(&c), c.staff[0] = 0, expect_refusal(&c, "staff");
    good(&c), c.sign_key[0] = 0, expect_refusal(&c, "sign-key");
    good(&c), strcpy(c.sign_cert, "/nonexistent"), expect_refusal(&c, "sign-cert");
    good(&c), c.data[0] = 0, expect_refusal(&c, "data");
    good(&c), strcpy(c.redis, "localhost"), expect_refusal(&c, "redis");
    good(&c), strcpy(c.redis, "10.0.0.1:99999"), expect_refusal(&c, "redis");
    good(&c), strcpy(c.log_level, "loud"), expect_refusal(&c, "log-level");
    good(&c), strcpy(c.web_root, "/nonexistent"), expect_refusal(&c, "web-root");
    good(&c), c.msg_burst = 5, c.msg_rate = 10, expect_refusal(&c, "msg-burst");
}

static void command_line_and_file(void **state)
{
    bo_config c;
    char detail[512] = "";
    bo_config_defaults(&c);
    char *bad_int[] = {"x", "--port=70000"};
    assert_int_equal(bo_config_parse_args(&c, 2, bad_int, detail, sizeof detail), BO_E_CONFIG);
    assert_non_null(strstr(detail, "port"));
    char *unknown[] = {"x", "--colour=blue"};
    assert_int_equal(bo_config_parse_args(&c, 2, unknown, detail, sizeof detail), BO_E_CONFIG);
    assert_non_null(strstr(detail, "colour"));
    char *bad_bool[] = {"x", "--crl-required=perhaps"};
    assert_int_equal(bo_config_parse_args(&c, 2, bad_bool, detail, sizeof detail), BO_E_CONFIG);
    assert_non_null(strstr(detail, "crl-required"));
    char *missing[] = {"x", "--trust"};
    assert_int_equal(bo_config_parse_args(&c, 2, missing, detail, sizeof detail), BO_E_CONFIG);
    assert_non_null(strstr(detail, "trust"));

    char conf[160];
    snprintf(conf, sizeof conf, "%s/server.conf", dir);
    FILE *f = fopen(conf, "w");
    fputs("# comment\nport = 9443\nlisten = \"::1\"\nmax-lag = 12\n", f);
    fclose(f);
    char arg[200];
    snprintf(arg, sizeof arg, "--config=%s", conf);
    char *with_file[] = {"x", arg, "--port=9444"};
    bo_config_defaults(&c);
    assert_int_equal(bo_config_parse_args(&c, 3, with_file, detail, sizeof detail), BO_E_CONFIG);
    assert_non_null(strstr(detail, "max-lag")); /* 12 is below its minimum */
    f = fopen(conf, "w");
    fputs("port = 9443\nlisten = \"::1\"\n", f);
    fclose(f);
    bo_config_defaults(&c);
    assert_int_equal(bo_config_parse_args(&c, 3, with_file, detail, sizeof detail), BO_E_OK);
    assert_int_equal(c.port, 9444); /* the command line wins */
    assert_string_equal(c.listen, "::1");
    f = fopen(conf, "w");
    fputs("port 9443\n", f);
    fclose(f);
    assert_int_equal(bo_config_parse_args(&c, 3, with_file, detail, sizeof detail), BO_E_CONFIG);
    assert_non_null(strstr(detail, ":1:"));
    unlink(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_config_passes),
        cmocka_unit_test(each_mistake_named),
        cmocka_unit_test(command_line_and_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

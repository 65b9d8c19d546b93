/* Generates docs/errors.md from the one error list (core/include/bo/err.h). */
#include <stdio.h>
#include <string.h>

#include "bo/err.h"

int main(void)
{
    printf("# bidopen error codes\n\n");
    printf("Generated from `core/include/bo/err.h` by `tools/errdoc`; do not edit by hand "
           "(`cmake --build build --target errors-doc` rewrites it, and the `errors-doc` test "
           "fails when it is stale).\n\n");
    printf("Every refusal on the wire is `{t:\"err\", re:<id>, code:\"E_...\", msg:\"...\"}`. "
           "Codes are stable: they are never renumbered or reused. `msg` may carry more detail "
           "than the sentence below.\n");
    const char *group = "";
    bo_err e;
    for (unsigned i = 0; bo_err_at(i, &e); i++) {
        if (strcmp(group, bo_err_group(e)) != 0) {
            group = bo_err_group(e);
            printf("\n## %s\n\n| code | number | meaning |\n| --- | --- | --- |\n", group);
        }
        printf("| `%s` | %d | %s |\n", bo_err_name(e), (int)e, bo_strerror(e));
    }
    return 0;
}

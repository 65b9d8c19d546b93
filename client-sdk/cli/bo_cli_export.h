/* bidopen CLI: `host export` and `verify` (bo_cli_export.c; docs/cli.md). */
#ifndef BO_CLI_EXPORT_H
#define BO_CLI_EXPORT_H

#include "bo_cli.h"

/** host export: downloads o->format (or every format into o->all_dir) of o->oid through the
 * server's export request and writes the files. Returns the exit code: 0, 2 when the server
 * refused a format, 3 no connection, 4 timeout, 5 a local error. */
int bo_cli_run_export(const bo_cli_opts *o);

/** verify: checks o->transcript offline (bo_verify) against o->trust and prints one line per
 * finding. Returns 0 when nothing is wrong, 2 when something is, 5 when the transcript or
 * the trust store cannot be read. */
int bo_cli_run_verify(const bo_cli_opts *o);

#endif

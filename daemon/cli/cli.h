/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The mqlink command-line tool: one file per command (pub.c, sub.c,
 * status.c, ping.c), and what they share: the connection to mqlinkd on an
 * mql_loop (connect.c), the exit codes, usage errors.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mqlink/ipc.h>
#include <mqlink/loop.h>

/* Exit codes; docs/cli.md and `mqlink --help` list them too. */
enum {
        EXIT_OK = 0,
        EXIT_REFUSED = 1,   /* the daemon refused a command (-ERR); or stdout failed */
        EXIT_USAGE = 2,     /* bad arguments, or an input file that cannot be read */
        EXIT_NOCONNECT = 3, /* cannot connect to the daemon's socket */
        EXIT_LOST = 4,      /* the connection was lost or the daemon broke the protocol */
        EXIT_TIMEOUT = 5,   /* sub -W: the time ran out */
};

/* One run of one command. */
struct cli {
        const char *socket_path; /* -S, or NULL for the library's default */
        const char *command;     /* "pub"..., for messages */
        struct mql_loop *loop;
        struct mql_ipc_client *client;
        void *data;    /* the command's own state, for its callbacks */
        int exit_code; /* what main() returns once the loop stops */
        bool done;     /* cli_finish() was called: later news is ignored */
};

/* Commands: argv[0] is the command's name. Each returns an exit code. */
int cli_pub(struct cli *cli, int argc, char **argv);
int cli_sub(struct cli *cli, int argc, char **argv);
int cli_status(struct cli *cli, int argc, char **argv);
int cli_ping(struct cli *cli, int argc, char **argv);

/* Prints "mqlink: <message>" (unless fmt is NULL: getopt has told already)
 * and a pointer to the command's --help to stderr; returns EXIT_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Prints "mqlink: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Creates the loop and connects to the daemon, the client attached to the
 * loop; on_message (may be NULL) gets `cli` as its userdata, max_output is
 * as in mql_ipc_client_config. The end of the connection ends the run with
 * EXIT_LOST. With `signals`, SIGINT and SIGTERM end it with EXIT_OK.
 * Returns EXIT_OK, or EXIT_NOCONNECT after printing why.
 */
int cli_connect(struct cli *cli, mql_ipc_message_fn on_message, size_t max_output, bool signals);
/* Runs the loop until cli_finish(); returns the exit code. */
int cli_run(struct cli *cli);
/* Ends the run with `code` (the first call wins). */
void cli_finish(struct cli *cli, int code);
/* Frees the client and the loop. */
void cli_disconnect(struct cli *cli);

/*
 * For reply callbacks: when reply is NULL, reports the lost connection (or
 * -EMSGSIZE) and ends the run with EXIT_LOST; for -ERR prints
 * "mqlink: <what>: refused: <code> <text>". Returns true when the reply is
 * +OK or PONG.
 */
bool cli_reply_ok(struct cli *cli, const char *what, const struct mql_ipc_frame *reply, int error);
/* Parses a decimal number in [min, max]; returns 0 or -EINVAL. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* Writes s[0..len) to f with control bytes shown as '?', so that a
 * string from the daemon cannot drive the terminal. */
void cli_print_safe(FILE *f, const char *s, size_t len);

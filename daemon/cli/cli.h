/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The mqlink command-line tool: one file per command (pub.c, sub.c,
 * status.c, ping.c), and what they share (connect.c): the options every
 * command has, the run on a connection to mqlinkd on an mql_loop, the exit
 * codes, usage errors.
 */

#include <getopt.h>
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

/* A command's own options, for cli_parse(): c is what getopt_long()
 * returned (optarg and optind as it left them). Returns 0, or an exit code
 * after printing why. */
typedef int (*cli_option_fn)(struct cli *cli, int c, int argc, char **argv);

/* From cli_parse(): the command has nothing left to do (--help). */
#define CLI_DONE (-1)

/*
 * Parses a command's arguments with getopt_long(shortopts, longopts), both
 * of which list -S/--socket and -h/--help: -S sets the socket, -h prints
 * help(), the command's own options go to option (NULL: it has none), and
 * operands are refused. Returns 0 to go on, CLI_DONE, or an exit code after
 * printing why (EXIT_USAGE, or what option returned).
 */
int cli_parse(struct cli *cli, int argc, char **argv, const char *shortopts,
              const struct option *longopts, void (*help)(void), cli_option_fn option);

/* The options pub and sub share, into the frame they send: -q QOS (0, 1
 * or 2) and -b BROKER (a name, pointing at arg). Each returns 0, or
 * EXIT_USAGE after printing why. */
int cli_option_qos(struct cli *cli, const char *arg, struct mql_ipc_frame *f);
int cli_option_broker(struct cli *cli, const char *arg, struct mql_ipc_frame *f);

/* How a command uses its connection to the daemon, for cli_exec(). */
struct cli_session {
        /* For MSG frames, or NULL; gets `cli` as its userdata. */
        mql_ipc_message_fn on_message;
        size_t max_output; /* as in mql_ipc_client_config */
        bool signals;      /* SIGINT and SIGTERM end the run with EXIT_OK */
        /* Once connected: sends the command's first frames, starts its
         * timers or input. Returns EXIT_OK, or an exit code after printing
         * why. */
        int (*start)(struct cli *cli);
        /* Last, before the connection and the loop are freed, whatever
         * happened (may be NULL): frees what the command keeps on the loop. */
        void (*stop)(struct cli *cli);
};

/*
 * The run of a command whose arguments are parsed: creates the loop,
 * connects to the daemon (the client attached to the loop), calls start,
 * runs the loop until cli_finish(), calls stop, and frees the client and
 * the loop. The end of the connection ends the run with EXIT_LOST.
 * Returns the exit code: EXIT_NOCONNECT when the connection could not be
 * made, after printing why.
 */
int cli_exec(struct cli *cli, const struct cli_session *session);
/* Ends the run with `code` (the first call wins). */
void cli_finish(struct cli *cli, int code);
/* Sends f, its reply to on_reply(userdata). Returns EXIT_OK, or EXIT_LOST
 * after printing "mqlink: <what>: cannot send: <why>". */
int cli_send(struct cli *cli, const char *what, const struct mql_ipc_frame *f,
             mql_ipc_reply_fn on_reply, void *userdata);

/*
 * For reply callbacks: when reply is NULL, reports the lost connection (or
 * -EMSGSIZE) and ends the run with EXIT_LOST; for -ERR prints
 * "mqlink: <what>: refused: <code> <text>". Returns true when the reply is
 * +OK or PONG.
 */
bool cli_reply_ok(struct cli *cli, const char *what, const struct mql_ipc_frame *reply, int error);
/* As cli_reply_ok(), for a reply the run cannot go on without: -ERR ends
 * the run too, with EXIT_REFUSED. */
bool cli_reply_ok_or_end(struct cli *cli, const char *what, const struct mql_ipc_frame *reply,
                         int error);
/* Parses a decimal number in [min, max]; returns 0 or -EINVAL. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* Writes s[0..len) to f with control bytes shown as '?', so that a
 * string from the daemon cannot drive the terminal. */
void cli_print_safe(FILE *f, const char *s, size_t len);

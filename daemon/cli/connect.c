/* SPDX-License-Identifier: MIT */

/* What every command shares: the options they all have, the run on a
 * connection to mqlinkd on an mql_loop, and how failures are told to the
 * user. */

#define _GNU_SOURCE 1
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mqlink/mqlink.h>

#include "cli.h"

/* How long to retry while the daemon's listen backlog is full (EAGAIN:
 * a Unix socket has no pending connect to wait for). */
#define CONNECT_TRIES 50
#define CONNECT_RETRY_NSEC (20 * 1000 * 1000)

void cli_error(const char *fmt, ...) {
        va_list ap;

        fputs("mqlink: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...) {
        va_list ap;

        if (fmt) {
                fputs("mqlink: ", stderr);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        fprintf(stderr, "Try 'mqlink %s%s--help' for more information.\n",
                cli->command ? cli->command : "", cli->command ? " " : "");
        return EXIT_USAGE;
}

void cli_print_safe(FILE *f, const char *s, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
        }
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                unsigned d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        if (v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int cli_parse(struct cli *cli, int argc, char **argv, const char *shortopts,
              const struct option *longopts, void (*help)(void), cli_option_fn option) {
        int c, r;

        while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) >= 0) {
                switch (c) {
                case 'S':
                        cli->socket_path = optarg;
                        break;
                case 'h':
                        help();
                        return CLI_DONE;
                case '?': /* getopt has told what */
                        return cli_usage_error(cli, NULL);
                default:
                        r = option ? option(cli, c, argc, argv) : cli_usage_error(cli, NULL);
                        if (r != 0)
                                return r;
                }
        }
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
        return 0;
}

int cli_option_qos(struct cli *cli, const char *arg, struct mql_ipc_frame *f) {
        uint64_t n;

        if (cli_parse_u64(arg, 0, 2, &n) < 0)
                return cli_usage_error(cli, "-q: 0, 1 or 2, not '%s'", arg);
        f->qos = (uint8_t)n;
        return 0;
}

int cli_option_broker(struct cli *cli, const char *arg, struct mql_ipc_frame *f) {
        if (!*arg)
                return cli_usage_error(cli, "-b: empty broker name");
        f->broker = (struct mql_ipc_str){ arg, strlen(arg) };
        return 0;
}

void cli_finish(struct cli *cli, int code) {
        if (cli->done)
                return;
        cli->done = true;
        cli->exit_code = code;
        mql_loop_exit(cli->loop, code);
}

static void report_lost(struct cli *cli, int error) {
        if (cli->done)
                return;
        switch (error) {
        case -EBADMSG:
        case -EMSGSIZE:
        case -EPROTO:
                cli_error("the daemon broke the protocol: %s", strerror(-error));
                break;
        case -EPIPE:
                cli_error("the daemon closed the connection");
                break;
        default:
                cli_error("connection to the daemon lost: %s", strerror(-error));
                break;
        }
        cli_finish(cli, EXIT_LOST);
}

bool cli_reply_ok(struct cli *cli, const char *what, const struct mql_ipc_frame *reply, int error) {
        if (!reply) {
                if (error == -EMSGSIZE && !cli->done) {
                        cli_error("%s: the daemon's answer is too large", what);
                        cli_finish(cli, EXIT_LOST);
                } else
                        report_lost(cli, error);
                return false;
        }
        if (reply->kind != MQL_IPC_ERR)
                return true;
        fprintf(stderr, "mqlink: %s: refused: ", what);
        cli_print_safe(stderr, reply->code.ptr, reply->code.len);
        if (reply->text.len) {
                fputc(' ', stderr);
                cli_print_safe(stderr, reply->text.ptr, reply->text.len);
        }
        fputc('\n', stderr);
        return false;
}

bool cli_reply_ok_or_end(struct cli *cli, const char *what, const struct mql_ipc_frame *reply,
                         int error) {
        if (cli_reply_ok(cli, what, reply, error))
                return true;
        cli_finish(cli, reply ? EXIT_REFUSED : EXIT_LOST);
        return false;
}

int cli_send(struct cli *cli, const char *what, const struct mql_ipc_frame *f,
             mql_ipc_reply_fn on_reply, void *userdata) {
        int r = mql_ipc_client_send(cli->client, f, on_reply, userdata);
        if (r < 0) {
                cli_error("%s: cannot send: %s", what, strerror(-r));
                return EXIT_LOST;
        }
        return EXIT_OK;
}

static void on_close(struct mql_ipc_client *c, int error, void *userdata) {
        report_lost(userdata, error);
}

static int on_signal(struct mql_loop_source *src, int signo, void *userdata) {
        cli_finish(userdata, EXIT_OK);
        return 0;
}

static int add_signals(struct cli *cli) {
        sigset_t set;
        int r;

        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        /* The loop takes them through a signalfd: they must be blocked. */
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return -errno;
        r = mql_loop_add_signal(cli->loop, NULL, SIGINT, on_signal, cli);
        if (r >= 0)
                r = mql_loop_add_signal(cli->loop, NULL, SIGTERM, on_signal, cli);
        return r;
}

static int new_client(struct cli *cli, const struct mql_ipc_client_config *cfg) {
        int r = -EAGAIN;

        for (int i = 0; i < CONNECT_TRIES && r == -EAGAIN; i++) {
                if (i > 0)
                        nanosleep(&(struct timespec){ .tv_nsec = CONNECT_RETRY_NSEC }, NULL);
                r = mql_ipc_client_new(cfg, &cli->client);
        }
        return r;
}

/* Creates the loop and connects to the daemon, the client attached to the
 * loop. Returns EXIT_OK, or EXIT_NOCONNECT after printing why. */
static int connect_daemon(struct cli *cli, const struct cli_session *s) {
        const char *path = cli->socket_path ? cli->socket_path : mql_ipc_client_socket_path();
        struct mql_ipc_client_config cfg = {
                .socket_path = path,
                .max_output = s->max_output,
                .on_message = s->on_message,
                .on_close = on_close,
                .userdata = cli,
        };
        int r;

        r = mql_loop_new(&cli->loop);
        if (r >= 0 && s->signals)
                r = add_signals(cli);
        if (r < 0) {
                cli_error("cannot set up the event loop: %s", strerror(-r));
                return EXIT_NOCONNECT;
        }
        r = new_client(cli, &cfg);
        if (r < 0) {
                const char *hint = r == -EACCES || r == -EPERM ? "check the socket's permissions"
                                                               : "is mqlinkd running?";
                cli_error("cannot connect to %s: %s (%s)", path, strerror(-r), hint);
                return EXIT_NOCONNECT;
        }
        r = mql_ipc_client_attach_loop(cli->client, cli->loop);
        if (r < 0) {
                cli_error("cannot watch the connection: %s", strerror(-r));
                return EXIT_NOCONNECT;
        }
        return EXIT_OK;
}

/* Runs the loop until cli_finish(); returns the exit code. */
static int run(struct cli *cli) {
        int r = mql_loop_run(cli->loop);
        if (r < 0 && !cli->done) {
                cli_error("event loop failed: %s", strerror(-r));
                return EXIT_LOST;
        }
        return cli->exit_code;
}

int cli_exec(struct cli *cli, const struct cli_session *s) {
        int r = connect_daemon(cli, s);

        if (r == EXIT_OK)
                r = s->start(cli);
        if (r == EXIT_OK)
                r = run(cli);
        if (s->stop)
                s->stop(cli);
        cli->client = mql_ipc_client_free(cli->client);
        cli->loop = mql_loop_free(cli->loop);
        return r;
}

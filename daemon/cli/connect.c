/* SPDX-License-Identifier: MIT */

/* The connection to mqlinkd that every command uses, on an mql_loop, and
 * how its failures are told to the user. */

#define _GNU_SOURCE 1
#include <errno.h>
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

int cli_connect(struct cli *cli, mql_ipc_message_fn on_message, size_t max_output, bool signals) {
        const char *path = cli->socket_path ? cli->socket_path : mql_ipc_client_socket_path();
        struct mql_ipc_client_config cfg = {
                .socket_path = path,
                .max_output = max_output,
                .on_message = on_message,
                .on_close = on_close,
                .userdata = cli,
        };
        int r;

        r = mql_loop_new(&cli->loop);
        if (r >= 0 && signals)
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

int cli_run(struct cli *cli) {
        int r = mql_loop_run(cli->loop);
        if (r < 0 && !cli->done) {
                cli_error("event loop failed: %s", strerror(-r));
                return EXIT_LOST;
        }
        return cli->exit_code;
}

void cli_disconnect(struct cli *cli) {
        cli->client = mql_ipc_client_free(cli->client);
        cli->loop = mql_loop_free(cli->loop);
}

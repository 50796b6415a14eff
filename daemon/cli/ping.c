/* SPDX-License-Identifier: MIT */

/* mqlink ping: PING, and the time until PONG. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void) {
        printf("Usage: mqlink ping [-S SOCKET]\n"
               "\n"
               "Checks that the daemon answers, and how fast.\n"
               "\n"
               "  -S, --socket PATH      the daemon's socket\n"
               "  -h, --help             this help\n");
}

struct ping {
        struct cli *cli;
        mql_usec sent;
};

static void on_reply(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                     void *userdata) {
        struct ping *p = userdata;

        if (!cli_reply_ok(p->cli, "ping", reply, error)) {
                cli_finish(p->cli, reply ? EXIT_REFUSED : EXIT_LOST);
                return;
        }
        mql_usec t = mql_loop_now(p->cli->loop) - p->sent;
        printf("PONG in %llu.%03llu ms\n", (unsigned long long)(t / 1000),
               (unsigned long long)(t % 1000));
        cli_finish(p->cli, EXIT_OK);
}

int cli_ping(struct cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct ping p = { .cli = cli };
        int c, r;

        while ((c = getopt_long(argc, argv, "+S:h", options, NULL)) >= 0) {
                switch (c) {
                case 'S':
                        cli->socket_path = optarg;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        return cli_usage_error(cli, NULL);
                }
        }
        if (optind < argc)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);

        r = cli_connect(cli, NULL, 0, false);
        if (r == 0) {
                struct mql_ipc_frame f = { .kind = MQL_IPC_PING };
                p.sent = mql_loop_now(cli->loop);
                r = mql_ipc_client_send(cli->client, &f, on_reply, &p);
                if (r < 0) {
                        cli_error("ping: cannot send: %s", strerror(-r));
                        r = EXIT_LOST;
                }
        }
        if (r == 0)
                r = cli_run(cli);
        cli_disconnect(cli);
        return r;
}

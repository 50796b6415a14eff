/* SPDX-License-Identifier: MIT */

/* mqlink ping: PING, and the time until PONG. */

#include <stdio.h>

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

        if (!cli_reply_ok_or_end(p->cli, "ping", reply, error))
                return;
        mql_usec t = mql_loop_now(p->cli->loop) - p->sent;
        printf("PONG in %llu.%03llu ms\n", (unsigned long long)(t / 1000),
               (unsigned long long)(t % 1000));
        cli_finish(p->cli, EXIT_OK);
}

static int start(struct cli *cli) {
        struct ping *p = cli->data;
        struct mql_ipc_frame f = { .kind = MQL_IPC_PING };

        p->sent = mql_loop_now(cli->loop);
        return cli_send(cli, "ping", &f, on_reply, p);
}

int cli_ping(struct cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const struct cli_session session = { .start = start };
        struct ping p = { .cli = cli };
        int r = cli_parse(cli, argc, argv, "+S:h", options, help, NULL);

        if (r != 0)
                return r == CLI_DONE ? EXIT_OK : r;
        cli->data = &p;
        return cli_exec(cli, &session);
}

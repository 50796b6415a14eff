/* SPDX-License-Identifier: MIT */
/*
 * daemon_echo: a local program that uses mqlinkd instead of its own broker
 * connection. It subscribes to FILTER through the daemon, publishes one
 * message to TOPIC at QoS 1, prints what comes back, and exits once its own
 * message has arrived (or after COUNT messages).
 *
 *     ./build/examples/daemon_echo [-S SOCKET] [-b BROKER] [-C COUNT] TOPIC [FILTER]
 *
 *   -S SOCKET  the daemon's socket (default $MQLINK_SOCKET, else
 *              /run/mqlinkd/mqlinkd.sock)
 *   -b BROKER  the [broker:NAME] to use (default: the daemon's default one)
 *   -C COUNT   messages to print before exiting (default 1)
 *
 * It shows the whole client side of <mqlink/ipc.h>: commands are frames
 * (struct mql_ipc_frame) queued with mql_ipc_client_send(), their replies
 * come back in order to a callback each, deliveries (MSG) to on_message,
 * and the connection runs on an mql_loop next to anything else.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/ipc.h>
#include <mqlink/loop.h>
#include <mqlink/mqlink.h>

struct app {
        struct mql_loop *loop;
        struct mql_ipc_client *ipc;
        const char *topic;
        const char *broker;
        long count;
        int status;
};

static void quit(struct app *app, int status) {
        app->status = status;
        mql_loop_exit(app->loop, status);
}

/* -ERR carries a code word a program can test, and a text for people. */
static bool check_reply(struct app *app, const char *what, const struct mql_ipc_frame *reply,
                        int error) {
        if (error < 0) {
                fprintf(stderr, "daemon_echo: %s: connection lost: %s\n", what, mql_strerror(error));
                quit(app, 1);
                return false;
        }
        if (reply->kind == MQL_IPC_ERR) {
                fprintf(stderr, "daemon_echo: %s refused: %.*s %.*s\n", what, (int)reply->code.len,
                        reply->code.ptr, (int)reply->text.len, reply->text.ptr);
                quit(app, 1);
                return false;
        }
        return true;
}

static void on_published(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                         void *userdata) {
        /* +OK for a QoS 1 PUB: the broker sent PUBACK. */
        if (check_reply(userdata, "PUB", reply, error))
                fprintf(stderr, "published\n");
}

static void on_subscribed(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                          void *userdata) {
        struct app *app = userdata;
        static const char payload[] = "hello from daemon_echo";

        if (!check_reply(app, "SUB", reply, error))
                return;
        fprintf(stderr, "subscribed\n");
        /* Only now: published earlier, the message could pass the
         * subscription on its way. */
        struct mql_ipc_frame pub = {
                .kind = MQL_IPC_PUB,
                .topic = { app->topic, strlen(app->topic) },
                .payload = { payload, sizeof payload - 1 },
                .broker = { app->broker, app->broker ? strlen(app->broker) : 0 },
                .qos = 1,
        };
        int r = mql_ipc_client_send(c, &pub, on_published, app);
        if (r < 0) {
                fprintf(stderr, "daemon_echo: PUB: %s\n", mql_strerror(r));
                quit(app, 1);
        }
}

static void on_message(struct mql_ipc_client *c, const struct mql_ipc_frame *msg, void *userdata) {
        struct app *app = userdata;

        /* Views into the client's buffer: valid during this call only. */
        printf("%.*s %.*s (sid %.*s, broker %.*s, QoS %u)\n", (int)msg->topic.len, msg->topic.ptr,
               (int)msg->payload.len, msg->payload.ptr, (int)msg->sid.len, msg->sid.ptr,
               (int)msg->broker.len, msg->broker.ptr, msg->qos);
        fflush(stdout);
        if (--app->count == 0)
                quit(app, 0);
}

static void on_close(struct mql_ipc_client *c, int error, void *userdata) {
        fprintf(stderr, "daemon_echo: the daemon closed the connection: %s\n", mql_strerror(error));
        quit(userdata, 1);
}

int main(int argc, char **argv) {
        struct app app = { .count = 1 };
        const char *socket_path = NULL;
        int opt, r;

        while ((opt = getopt(argc, argv, "S:b:C:")) >= 0) {
                switch (opt) {
                case 'S':
                        socket_path = optarg;
                        break;
                case 'b':
                        app.broker = optarg;
                        break;
                case 'C':
                        app.count = strtol(optarg, NULL, 10);
                        break;
                default:
                        return 2;
                }
        }
        if (optind >= argc || app.count < 1) {
                fprintf(stderr, "usage: daemon_echo [-S SOCKET] [-b BROKER] [-C COUNT] TOPIC [FILTER]\n");
                return 2;
        }
        app.topic = argv[optind];
        const char *filter = optind + 1 < argc ? argv[optind + 1] : app.topic;

        r = mql_loop_new(&app.loop);
        if (r < 0)
                return 1;
        const struct mql_ipc_client_config cfg = {
                .socket_path = socket_path,
                .on_message = on_message,
                .on_close = on_close,
                .userdata = &app,
        };
        r = mql_ipc_client_new(&cfg, &app.ipc);
        if (r < 0) {
                fprintf(stderr, "daemon_echo: %s: %s (is mqlinkd running?)\n",
                        socket_path ? socket_path : mql_ipc_client_socket_path(), mql_strerror(r));
                mql_loop_free(app.loop);
                return 1;
        }
        mql_ipc_client_attach_loop(app.ipc, app.loop);

        /* "1" is our name for the subscription; MSG frames carry it. */
        struct mql_ipc_frame sub = {
                .kind = MQL_IPC_SUB,
                .sid = { "1", 1 },
                .topic = { filter, strlen(filter) },
                .broker = { app.broker, app.broker ? strlen(app.broker) : 0 },
                .qos = 1,
        };
        r = mql_ipc_client_send(app.ipc, &sub, on_subscribed, &app);
        if (r < 0) {
                fprintf(stderr, "daemon_echo: SUB %s: %s\n", filter, mql_strerror(r));
                app.status = 1;
        } else
                mql_loop_run(app.loop);

        mql_ipc_client_free(app.ipc);
        mql_loop_free(app.loop);
        return app.status;
}

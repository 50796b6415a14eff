/* SPDX-License-Identifier: MIT */
/*
 * simple: the luamqtt README example, in C.
 *
 * Connects, subscribes to a topic, publishes "hello" to it once the broker
 * has granted the subscription, receives its own message back,
 * acknowledges it by hand (manual_ack), disconnects cleanly and exits.
 * Everything happens in callbacks run by mql_loop_run().
 *
 *     ./build/examples/simple [mqtt://127.0.0.1:1883]
 *
 * Any broker URI works: mqtt://, mqtts:// (with the system's CAs),
 * unix:///path/to/socket. Exit status 0 once the message came back.
 */
#include <stdio.h>
#include <stdlib.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

#define TOPIC "mqlink/example/simple"

struct app {
        struct mql_loop *loop;
        int status; /* exit status: 1 until the message has come back */
        int subscribed;
};

/* `error` of on_state: a negative errno, or the broker's reason code. */
static const char *describe(int error) {
        return error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error);
}

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct mql_client *c = mql_client_from_session(s);

        if (error < 0 || n != 1 || reasons[0] >= 0x80) {
                fprintf(stderr, "simple: subscription refused\n");
                mql_client_disconnect(c, 0);
                return;
        }
        printf("subscribed to %s, granted QoS %u\n", TOPIC, reasons[0]);

        const struct mql_message msg = {
                .topic = mql_str_from(TOPIC),
                .payload = { .ptr = (const uint8_t *)"hello", .len = 5 },
                .qos = 1,
        };
        /* The message is copied: `msg` may go once this returns. No
         * completion callback: the echo tells us it arrived. */
        int r = mql_client_publish(c, &msg, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "simple: publish: %s\n", mql_strerror(r));
                mql_client_disconnect(c, 0);
        }
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;

        switch (state) {
        case MQL_CLIENT_CONNECTED:
                printf("connected to %s\n", mql_client_get_uri(c));
                /* The session remembers subscriptions and renews them after a
                 * reconnect that finds no session: subscribe once. */
                if (!app->subscribed++) {
                        const struct mql_subscription sub = { .filter = mql_str_from(TOPIC),
                                                              .qos = 1 };
                        int r = mql_client_subscribe(c, &sub, 1, NULL, on_subscribed, app);
                        if (r < 0)
                                fprintf(stderr, "simple: subscribe: %s\n", mql_strerror(r));
                }
                break;
        case MQL_CLIENT_WAITING:
                fprintf(stderr, "simple: %s: %s; retrying\n", mql_client_get_uri(c),
                        describe(error));
                break;
        case MQL_CLIENT_STOPPED:
                mql_loop_exit(app->loop, app->status);
                break;
        case MQL_CLIENT_CONNECTING:
                break;
        }
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        struct app *app = userdata;

        printf("received: topic=%.*s payload=%.*s qos=%u\n", (int)msg->topic.len, msg->topic.ptr,
               (int)msg->payload.len, (const char *)msg->payload.ptr, msg->qos);
        /* manual_ack: the broker hears PUBACK only now, once the message is
         * handled. Without manual_ack the library acknowledges on its own. */
        if (msg->qos > 0)
                mql_client_acknowledge(c, msg->packet_id, 0);
        app->status = 0;
        /* DISCONNECT goes out after the PUBACK; on_state then says STOPPED. */
        mql_client_disconnect(c, 0);
}

int main(int argc, char **argv) {
        const char *uri = argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883";
        struct app app = { .status = 1 };
        struct mql_client *c = NULL;
        int r;

        if (mql_loop_new(&app.loop) < 0)
                return 1;
        const struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .session = {
                        .version = MQL_V5,
                        .clean_start = true,
                        .keepalive = 60,
                        .manual_ack = true,
                },
                .on_state = on_state,
                .on_message = on_message,
                .userdata = &app,
        };
        r = mql_client_new(&cfg, &c);
        if (r < 0) {
                fprintf(stderr, "simple: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }
        mql_client_attach_loop(c, app.loop);
        mql_client_start(c);

        r = mql_loop_run(app.loop);

        mql_client_free(c);
        mql_loop_free(app.loop);
        return r == 0 ? 0 : 1;
}

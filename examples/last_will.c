/* SPDX-License-Identifier: MIT */
/*
 * last_will: the broker publishes a client's will when its connection
 * dies without a DISCONNECT.
 *
 * "watcher" subscribes to a status topic. Then "mortal" connects with a
 * will (that topic, payload "mortal went away", QoS 1) and publishes
 * "online" there.
 * Then mortal's connection is dropped abruptly: mql_client_free() without
 * mql_client_disconnect() closes the socket at once, as a crash or a
 * pulled cable would. The broker notices and publishes the will; the
 * watcher prints it and exits.
 *
 * A clean mql_client_disconnect(c, 0) would discard the will
 * (MQTT-3.1.2-10); MQTT 5 can ask for it anyway with reason 0x04
 * "Disconnect with Will Message".
 *
 *     ./build/examples/last_will [mqtt://127.0.0.1:1883]
 *
 * Exit status 0 once the will has arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

struct app {
        struct mql_loop *loop;
        struct mql_client *mortal;
        struct mql_client *watcher;
        char topic[80];
        bool watching;
        int status;
};

/* Runs from the loop, outside any client callback: a client must not be
 * freed from its own callbacks. */
static int drop_mortal(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct app *app = userdata;

        printf("mortal: dropping the connection without DISCONNECT\n");
        app->mortal = mql_client_free(app->mortal);
        return 0;
}

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct app *app = userdata;

        if (error < 0 || n != 1 || reasons[0] >= 0x80) {
                fprintf(stderr, "last_will: subscription refused\n");
                mql_loop_exit(app->loop, 1);
                return;
        }
        printf("watcher: watching %s\n", app->topic);
        /* Only now: the watcher must not miss mortal's "online". */
        mql_client_start(app->mortal);
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        struct app *app = userdata;

        printf("watcher: %.*s: \"%.*s\"\n", (int)msg->topic.len, msg->topic.ptr,
               (int)msg->payload.len, (const char *)msg->payload.ptr);
        if (msg->payload.len == 6 && memcmp(msg->payload.ptr, "online", 6) == 0) {
                mql_loop_add_time(app->loop, NULL, mql_loop_now(app->loop), drop_mortal, app);
                return;
        }
        printf("watcher: will received\n");
        app->status = 0;
        mql_client_disconnect(c, 0);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;
        bool is_watcher = c == app->watcher;

        switch (state) {
        case MQL_CLIENT_CONNECTED:
                if (is_watcher && !app->watching) {
                        app->watching = true;
                        const struct mql_subscription sub = { .filter = mql_str_from(app->topic),
                                                              .qos = 1 };
                        mql_client_subscribe(c, &sub, 1, NULL, on_subscribed, app);
                } else if (!is_watcher) {
                        const struct mql_message hello = {
                                .topic = mql_str_from(app->topic),
                                .payload = { (const uint8_t *)"online", 6 },
                                .qos = 1,
                        };
                        mql_client_publish(c, &hello, NULL, NULL);
                }
                break;
        case MQL_CLIENT_WAITING:
                fprintf(stderr, "last_will: %s: %s; retrying\n", is_watcher ? "watcher" : "mortal",
                        error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error));
                break;
        case MQL_CLIENT_STOPPED:
                if (is_watcher)
                        mql_loop_exit(app->loop, app->status);
                break;
        case MQL_CLIENT_CONNECTING:
                break;
        }
}

int main(int argc, char **argv) {
        const char *uri = argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883";
        struct app app = { .status = 1 };
        int r;

        snprintf(app.topic, sizeof(app.topic), "mqlink/example/last_will/%ld/status",
                 (long)getpid());
        if (mql_loop_new(&app.loop) < 0)
                return 1;

        /* The will is copied into the session: `will` may go after
         * mql_client_new(). */
        const struct mql_will will = {
                .topic = mql_str_from(app.topic),
                .payload = { (const uint8_t *)"mortal went away", 16 },
                .qos = 1,
        };
        struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .session = { .version = MQL_V5,
                             .clean_start = true,
                             .keepalive = 60,
                             .will = &will },
                .on_state = on_state,
                .on_message = on_message,
                .userdata = &app,
        };
        r = mql_client_new(&cfg, &app.mortal);
        if (r == 0) {
                cfg.session.will = NULL;
                r = mql_client_new(&cfg, &app.watcher);
        }
        if (r < 0) {
                fprintf(stderr, "last_will: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }
        mql_client_attach_loop(app.watcher, app.loop);
        mql_client_attach_loop(app.mortal, app.loop);
        mql_client_start(app.watcher); /* mortal starts once it is watched */

        r = mql_loop_run(app.loop);

        mql_client_free(app.mortal);
        mql_client_free(app.watcher);
        mql_loop_free(app.loop);
        return r == 0 ? 0 : 1;
}

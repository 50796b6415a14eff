/* SPDX-License-Identifier: MIT */
/*
 * multi: two clients in one thread, on one mql_loop, playing ping-pong.
 *
 * "ping" publishes a numbered message on a ping topic; "pong", subscribed
 * to it, answers with the same number on a pong topic; ping, subscribed to
 * that, sends the next one. After N rounds both disconnect and the
 * program prints the average round trip. No thread, no blocking call:
 * the loop watches both connections and their timers.
 *
 *     ./build/examples/multi [mqtt://127.0.0.1:1883 [N]]
 *
 * N defaults to 10. Exit status 0 once all rounds are done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

struct app {
        struct mql_loop *loop;
        struct mql_client *ping;
        struct mql_client *pong;
        char ping_topic[80];
        char pong_topic[80];
        unsigned rounds;
        unsigned done;
        mql_usec started;
        bool asked[2];  /* [0] pong, [1] ping: subscribed once each */
        int subscribed; /* the first exchange goes once both are */
        int stopped;
        int status;
};

static void send_number(struct mql_client *c, const char *topic, unsigned n) {
        char payload[16];
        int len = snprintf(payload, sizeof(payload), "%u", n);
        const struct mql_message msg = {
                .topic = mql_str_from(topic),
                .payload = { (const uint8_t *)payload, (size_t)len },
                .qos = 1,
        };
        int r = mql_client_publish(c, &msg, NULL, NULL);
        if (r < 0)
                fprintf(stderr, "multi: publish: %s\n", mql_strerror(r));
}

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct app *app = userdata;

        if (error < 0 || n != 1 || reasons[0] >= 0x80) {
                fprintf(stderr, "multi: subscription refused\n");
                mql_client_disconnect(app->ping, 0);
                mql_client_disconnect(app->pong, 0);
                return;
        }
        if (++app->subscribed == 2) {
                app->started = mql_loop_now(app->loop);
                send_number(app->ping, app->ping_topic, 1);
        }
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        struct app *app = userdata;
        char buf[16];

        snprintf(buf, sizeof(buf), "%.*s", (int)msg->payload.len, (const char *)msg->payload.ptr);
        unsigned n = (unsigned)strtoul(buf, NULL, 10);

        if (c == app->pong) {
                send_number(app->pong, app->pong_topic, n); /* the echo */
                return;
        }
        app->done = n;
        if (n < app->rounds) {
                send_number(app->ping, app->ping_topic, n + 1);
                return;
        }
        mql_usec took = mql_loop_now(app->loop) - app->started;
        printf("%u round trips, %.0f µs each on average\n", app->rounds,
               (double)took / app->rounds);
        app->status = 0;
        mql_client_disconnect(app->ping, 0);
        mql_client_disconnect(app->pong, 0);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;
        const char *who = c == app->ping ? "ping" : "pong";

        switch (state) {
        case MQL_CLIENT_CONNECTED: {
                printf("%s connected\n", who);
                /* On a reconnect the session renews what it needs. */
                if (app->asked[c == app->ping])
                        break;
                app->asked[c == app->ping] = true;
                const struct mql_subscription sub = {
                        .filter = mql_str_from(c == app->ping ? app->pong_topic : app->ping_topic),
                        .qos = 1,
                };
                if (mql_client_subscribe(c, &sub, 1, NULL, on_subscribed, app) < 0)
                        mql_client_disconnect(c, 0);
                break;
        }
        case MQL_CLIENT_WAITING:
                fprintf(stderr, "multi: %s: %s; retrying\n", who,
                        error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error));
                break;
        case MQL_CLIENT_STOPPED:
                if (++app->stopped == 2)
                        mql_loop_exit(app->loop, app->status);
                break;
        case MQL_CLIENT_CONNECTING:
                break;
        }
}

static int new_client(struct app *app, const char *uri, struct mql_client **ret) {
        const struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .session = { .version = MQL_V5, .clean_start = true, .keepalive = 60 },
                .on_state = on_state,
                .on_message = on_message,
                .userdata = app,
        };
        int r = mql_client_new(&cfg, ret);
        if (r < 0)
                return r;
        return mql_client_attach_loop(*ret, app->loop);
}

int main(int argc, char **argv) {
        const char *uri = argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883";
        struct app app = { .status = 1, .rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 10 };
        int r;

        if (app.rounds == 0)
                app.rounds = 1;
        snprintf(app.ping_topic, sizeof(app.ping_topic), "mqlink/example/multi/%ld/ping",
                 (long)getpid());
        snprintf(app.pong_topic, sizeof(app.pong_topic), "mqlink/example/multi/%ld/pong",
                 (long)getpid());
        if (mql_loop_new(&app.loop) < 0)
                return 1;
        r = new_client(&app, uri, &app.ping);
        if (r == 0)
                r = new_client(&app, uri, &app.pong);
        if (r < 0) {
                fprintf(stderr, "multi: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }
        mql_client_start(app.ping);
        mql_client_start(app.pong);

        r = mql_loop_run(app.loop);

        mql_client_free(app.ping);
        mql_client_free(app.pong);
        mql_loop_free(app.loop);
        return r == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * sub: subscribes to topic filters and prints each message as
 * "TOPIC PAYLOAD": a minimal mosquitto_sub -v.
 *
 *     ./build/examples/sub [-u mqtt://127.0.0.1:1883] [-q 0|1|2] [-C COUNT]
 *                          [-W SECONDS] [-3] FILTER...
 *
 *   -u URI      the broker (default mqtt://127.0.0.1:1883)
 *   -q QOS      the QoS asked for every filter (default 0)
 *   -C COUNT    exit 0 after COUNT messages
 *   -W SECONDS  exit 2 if they have not all come within SECONDS
 *   -3          speak MQTT 3.1.1 instead of 5.0
 *
 * It shows several filters in one SUBSCRIBE and their reason codes, a
 * timer and signals on the same mql_loop as the client (Ctrl-C
 * disconnects cleanly), and reconnection: stop the broker and start it
 * again, and sub carries on (the session subscribes again by itself).
 * "subscribed" goes to stderr once the broker has answered.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

struct app {
        struct mql_loop *loop;
        struct mql_client *client;
        struct mql_subscription *subs;
        size_t n_subs;
        long count; /* messages still wanted; -1: no limit */
        int status;
        bool subscribed;
};

static const char *describe(int error) {
        return error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error);
}

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct app *app = userdata;
        size_t granted = 0;

        for (size_t i = 0; i < n; i++) {
                if (reasons[i] >= 0x80)
                        fprintf(stderr, "sub: %.*s refused: %s\n", (int)app->subs[i].filter.len,
                                app->subs[i].filter.ptr, mql_reason_str(reasons[i]));
                else
                        granted++;
        }
        if (error < 0 || granted == 0) {
                fprintf(stderr, "sub: nothing to listen to\n");
                app->status = 1;
                mql_client_disconnect(app->client, 0);
                return;
        }
        fprintf(stderr, "sub: subscribed to %zu filter(s)\n", granted);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;

        switch (state) {
        case MQL_CLIENT_CONNECTED:
                if (!app->subscribed) {
                        app->subscribed = true;
                        int r = mql_client_subscribe(c, app->subs, app->n_subs, NULL, on_subscribed,
                                                     app);
                        if (r < 0) {
                                fprintf(stderr, "sub: subscribe: %s\n", mql_strerror(r));
                                app->status = 1;
                                mql_client_disconnect(c, 0);
                        }
                }
                break;
        case MQL_CLIENT_WAITING:
                fprintf(stderr, "sub: %s: %s; retrying\n", mql_client_get_uri(c), describe(error));
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

        fwrite(msg->topic.ptr, 1, msg->topic.len, stdout);
        fputc(' ', stdout);
        if (msg->payload.len)
                fwrite(msg->payload.ptr, 1, msg->payload.len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        if (app->count > 0 && --app->count == 0) {
                app->status = 0;
                mql_client_disconnect(c, 0);
        }
}

static int on_timeout(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct app *app = userdata;

        fprintf(stderr, "sub: timed out\n");
        app->status = 2;
        if (mql_client_disconnect(app->client, 0) < 0)
                mql_loop_exit(app->loop, 2);
        return 0;
}

static int on_signal(struct mql_loop_source *src, int signo, void *userdata) {
        struct app *app = userdata;

        app->status = 0;
        if (mql_client_disconnect(app->client, 0) < 0)
                mql_loop_exit(app->loop, 0);
        return 0;
}

static void usage(void) {
        fprintf(stderr, "usage: sub [-u URI] [-q QOS] [-C COUNT] [-W SECONDS] [-3] FILTER...\n");
        exit(2);
}

int main(int argc, char **argv) {
        const char *uri = "mqtt://127.0.0.1:1883";
        struct app app = { .count = -1 };
        enum mql_version version = MQL_V5;
        int qos = 0, timeout = 0, opt, r;

        while ((opt = getopt(argc, argv, "u:q:C:W:3")) != -1) {
                switch (opt) {
                case 'u':
                        uri = optarg;
                        break;
                case 'q':
                        qos = atoi(optarg);
                        if (qos < 0 || qos > 2)
                                usage();
                        break;
                case 'C':
                        app.count = atol(optarg);
                        if (app.count <= 0)
                                usage();
                        break;
                case 'W':
                        timeout = atoi(optarg);
                        break;
                case '3':
                        version = MQL_V311;
                        break;
                default:
                        usage();
                }
        }
        if (optind >= argc)
                usage();

        app.n_subs = (size_t)(argc - optind);
        app.subs = calloc(app.n_subs, sizeof(*app.subs));
        if (!app.subs)
                return 1;
        for (size_t i = 0; i < app.n_subs; i++)
                app.subs[i] = (struct mql_subscription){ .filter = mql_str_from(argv[optind + i]),
                                                         .qos = (uint8_t)qos };

        if (mql_loop_new(&app.loop) < 0)
                return 1;
        /* Signals come through the loop (a signalfd): block them first. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        mql_loop_add_signal(app.loop, NULL, SIGINT, on_signal, &app);
        mql_loop_add_signal(app.loop, NULL, SIGTERM, on_signal, &app);
        if (timeout > 0)
                mql_loop_add_time(app.loop, NULL,
                                  mql_loop_now(app.loop) + (mql_usec)timeout * 1000000u, on_timeout,
                                  &app);

        const struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .session = { .version = version, .clean_start = true, .keepalive = 60 },
                .on_state = on_state,
                .on_message = on_message,
                .userdata = &app,
        };
        r = mql_client_new(&cfg, &app.client);
        if (r < 0) {
                fprintf(stderr, "sub: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }
        mql_client_attach_loop(app.client, app.loop);
        mql_client_start(app.client);

        r = mql_loop_run(app.loop);

        mql_client_free(app.client);
        mql_loop_free(app.loop);
        free(app.subs);
        return r < 0 ? 1 : r;
}

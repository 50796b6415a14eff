/* SPDX-License-Identifier: MIT */
/*
 * pub: publishes one message given on the command line, waits until it is
 * complete (QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP), disconnects and
 * exits: a minimal mosquitto_pub.
 *
 *     ./build/examples/pub [-u mqtt://127.0.0.1:1883] [-q 0|1|2] [-r] [-3]
 *                          TOPIC MESSAGE
 *
 *   -u URI   the broker (default mqtt://127.0.0.1:1883)
 *   -q QOS   quality of service (default 0)
 *   -r       retain the message
 *   -3       speak MQTT 3.1.1 instead of 5.0
 *
 * It shows the offline queue: the message is published before the
 * connection is up, waits in the session, and goes out with the CONNECT.
 * One connection attempt only (no_reconnect): exit status 1 if it fails or
 * the broker refuses the message, 0 once it is delivered.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

struct app {
        struct mql_loop *loop;
        int status;
};

static void on_published(struct mql_session *s, uint16_t packet_id, int reason, void *userdata) {
        struct app *app = userdata;
        struct mql_client *c = mql_client_from_session(s);

        /* reason: 0, an MQTT 5 reason code (>= 0x80 refused; 0x10 "No
         * matching subscribers" is a success) or a negative errno. */
        if (reason < 0)
                fprintf(stderr, "pub: not published: %s\n", mql_strerror(reason));
        else if (reason >= 0x80)
                fprintf(stderr, "pub: refused by the broker: %s\n",
                        mql_reason_str((unsigned)reason));
        else
                printf("published (%s)\n", mql_reason_str((unsigned)reason));
        app->status = reason < 0 || reason >= 0x80;
        mql_client_disconnect(c, 0);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;

        if (state != MQL_CLIENT_STOPPED)
                return;
        /* With no_reconnect a failed attempt ends here too, with its error. */
        if (error)
                fprintf(stderr, "pub: %s: %s\n", mql_client_get_uri(c),
                        error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error));
        mql_loop_exit(app->loop, error ? 1 : app->status);
}

static void usage(void) {
        fprintf(stderr, "usage: pub [-u URI] [-q QOS] [-r] [-3] TOPIC MESSAGE\n");
        exit(2);
}

int main(int argc, char **argv) {
        const char *uri = "mqtt://127.0.0.1:1883";
        struct app app = { .status = 1 };
        enum mql_version version = MQL_V5;
        struct mql_client *c = NULL;
        int qos = 0, opt, r;
        bool retain = false;

        while ((opt = getopt(argc, argv, "u:q:r3")) != -1) {
                switch (opt) {
                case 'u':
                        uri = optarg;
                        break;
                case 'q':
                        qos = atoi(optarg);
                        if (qos < 0 || qos > 2)
                                usage();
                        break;
                case 'r':
                        retain = true;
                        break;
                case '3':
                        version = MQL_V311;
                        break;
                default:
                        usage();
                }
        }
        if (argc - optind != 2)
                usage();

        if (mql_loop_new(&app.loop) < 0)
                return 1;
        const struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .session = { .version = version, .clean_start = true, .keepalive = 60 },
                .no_reconnect = true,
                .connect_timeout_ms = 10000,
                .on_state = on_state,
                .userdata = &app,
        };
        r = mql_client_new(&cfg, &c);
        if (r < 0) {
                fprintf(stderr, "pub: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }

        /* Published while still stopped: it waits in the offline queue. */
        const struct mql_message msg = {
                .topic = mql_str_from(argv[optind]),
                .payload = { .ptr = (const uint8_t *)argv[optind + 1],
                             .len = strlen(argv[optind + 1]) },
                .qos = (uint8_t)qos,
                .retain = retain,
        };
        r = mql_client_publish(c, &msg, on_published, &app);
        if (r < 0) {
                fprintf(stderr, "pub: %s\n", mql_strerror(r));
                mql_client_free(c);
                return 1;
        }

        mql_client_attach_loop(c, app.loop);
        mql_client_start(c);
        r = mql_loop_run(app.loop);

        mql_client_free(c);
        mql_loop_free(app.loop);
        return r == 0 ? 0 : 1;
}

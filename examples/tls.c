/* SPDX-License-Identifier: MIT */
/*
 * tls: MQTT over TLS (mqtts://), verifying the broker against a CA file.
 *
 * Connects with the CA given on the command line (and optionally a client
 * certificate and key, for brokers with require_certificate), subscribes,
 * publishes to itself, receives, disconnects. The host name (or IP
 * address) of the URI is checked against the broker's certificate.
 *
 *     ./build/examples/tls CA_FILE [mqtts://127.0.0.1:8883 [CERT KEY]]
 *
 * A mosquitto listener for it:
 *     listener 8883 127.0.0.1
 *     cafile ca.crt
 *     certfile server.crt
 *     keyfile server.key
 *
 * One attempt only (no_reconnect): exit status 0 once the message came
 * back, 1 on failure, e.g. "certificate rejected" with the wrong CA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

#define TOPIC "mqlink/example/tls"

struct app {
        struct mql_loop *loop;
        int status;
};

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct mql_client *c = mql_client_from_session(s);
        const struct mql_message msg = {
                .topic = mql_str_from(TOPIC),
                .payload = { (const uint8_t *)"over TLS", 8 },
                .qos = 1,
        };

        if (error < 0 || n != 1 || reasons[0] >= 0x80 ||
            mql_client_publish(c, &msg, NULL, NULL) < 0)
                mql_client_disconnect(c, 0);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;

        if (state == MQL_CLIENT_CONNECTED) {
                printf("connected to %s, certificate verified\n", mql_client_get_uri(c));
                const struct mql_subscription sub = { .filter = mql_str_from(TOPIC), .qos = 1 };
                if (mql_client_subscribe(c, &sub, 1, NULL, on_subscribed, app) < 0)
                        mql_client_disconnect(c, 0);
        } else if (state == MQL_CLIENT_STOPPED) {
                if (error == -EKEYREJECTED)
                        fprintf(stderr, "tls: the broker's certificate was rejected "
                                        "(not signed by this CA, or not for this host)\n");
                else if (error)
                        fprintf(stderr, "tls: %s: %s\n", mql_client_get_uri(c),
                                error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error));
                mql_loop_exit(app->loop, error ? 1 : app->status);
        }
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        struct app *app = userdata;

        printf("received over TLS: %.*s\n", (int)msg->payload.len, (const char *)msg->payload.ptr);
        app->status = 0;
        mql_client_disconnect(c, 0);
}

/* The library logs why a handshake failed (OpenSSL's reason). */
static void on_log(int level, const char *msg, void *userdata) {
        fprintf(stderr, "tls: library: %s\n", msg);
}

int main(int argc, char **argv) {
        if (argc < 2 || argc == 4 || argc > 5) {
                fprintf(stderr, "usage: tls CA_FILE [mqtts://127.0.0.1:8883 [CERT KEY]]\n");
                return 2;
        }
        const char *uri = argc > 2 ? argv[2] : "mqtts://127.0.0.1:8883";
        struct app app = { .status = 1 };
        struct mql_client *c = NULL;

        mql_log_set(on_log, MQL_LOG_WARNING, NULL);
        if (mql_loop_new(&app.loop) < 0)
                return 1;
        /* Read (and the strings copied) by mql_client_new(). */
        const struct mql_tls_config tls = {
                .ca_file = argv[1],
                .cert_file = argc > 4 ? argv[3] : NULL,
                .key_file = argc > 4 ? argv[4] : NULL,
        };
        const struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .tls = &tls,
                .session = { .version = MQL_V5, .clean_start = true, .keepalive = 60 },
                .no_reconnect = true,
                .connect_timeout_ms = 10000,
                .on_state = on_state,
                .on_message = on_message,
                .userdata = &app,
        };
        int r = mql_client_new(&cfg, &c);
        if (r < 0) {
                /* -EIO: a file that cannot be read (the log says which). */
                fprintf(stderr, "tls: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }
        mql_client_attach_loop(c, app.loop);
        mql_client_start(c);

        r = mql_loop_run(app.loop);

        mql_client_free(c);
        mql_loop_free(app.loop);
        return r == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * mqtt5: MQTT 5 properties, and request/response with a Response Topic and
 * Correlation Data.
 *
 * Two clients on one loop. The responder subscribes to a request topic.
 * The requester subscribes to a response topic of its own, then sends a
 * request carrying
 *   Response Topic     where to answer
 *   Correlation Data   opaque bytes the answer must carry back
 *   Content Type, Message Expiry Interval, Payload Format Indicator
 *   User Properties    free key/value pairs (repeatable, order kept)
 * The responder answers on the Response Topic with the same Correlation
 * Data and user properties of its own; the requester matches the answer
 * to its request, prints it and both disconnect. Each client also prints
 * the properties of the broker's CONNACK (on_event), and sends CONNECT
 * user properties and a Session Expiry Interval.
 *
 *     ./build/examples/mqtt5 [mqtt://127.0.0.1:1883]
 *
 * Exit status 0 once the response has arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

#define REQUEST_TOPIC "mqlink/example/mqtt5/request"

struct app {
        struct mql_loop *loop;
        struct mql_client *requester;
        struct mql_client *responder;
        char response_topic[96];
        char correlation[32];
        bool subscribed[2]; /* [0] requester, [1] responder: once each */
        int ready;          /* subscriptions granted; the request goes at 2 */
        int stopped;        /* clients stopped; exit at 2 */
        int status;
};

/* Prints every property of a block: the iterator walks both decoded
 * (raw) and caller-built (list) properties. */
static void print_props(const char *what, const struct mql_props *props) {
        struct mql_prop_iter it;
        struct mql_prop p;

        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) > 0) {
                printf("  %s %s: ", what, mql_prop_name(p.id));
                switch (mql_prop_type(p.id)) {
                case MQL_PROP_TYPE_STRING:
                        printf("\"%.*s\"\n", (int)p.str.len, p.str.ptr);
                        break;
                case MQL_PROP_TYPE_STRING_PAIR:
                        printf("\"%.*s\" = \"%.*s\"\n", (int)p.pair.key.len, p.pair.key.ptr,
                               (int)p.pair.value.len, p.pair.value.ptr);
                        break;
                case MQL_PROP_TYPE_BINARY:
                        printf("%zu bytes \"%.*s\"\n", p.bin.len, (int)p.bin.len,
                               (const char *)p.bin.ptr);
                        break;
                default:
                        printf("%u\n", p.u32);
                        break;
                }
        }
}

static void send_request(struct app *app) {
        const struct mql_prop props[] = {
                { .id = MQL_PROP_RESPONSE_TOPIC, .str = mql_str_from(app->response_topic) },
                { .id = MQL_PROP_CORRELATION_DATA,
                  .bin = { (const uint8_t *)app->correlation, strlen(app->correlation) } },
                { .id = MQL_PROP_CONTENT_TYPE, .str = mql_str_from("text/plain") },
                { .id = MQL_PROP_PAYLOAD_FORMAT_INDICATOR, .u32 = 1 }, /* UTF-8 */
                { .id = MQL_PROP_MESSAGE_EXPIRY_INTERVAL, .u32 = 30 }, /* seconds */
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("app"), mql_str_from("mqlink mqtt5 example") } },
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("lang"), mql_str_from("C") } },
        };
        const struct mql_message msg = {
                .topic = mql_str_from(REQUEST_TOPIC),
                .payload = { (const uint8_t *)"what time is it?", 16 },
                .qos = 1,
                .props = { .list = props, .count = sizeof(props) / sizeof(props[0]) },
        };

        printf("requester: sending request, correlation \"%s\"\n", app->correlation);
        int r = mql_client_publish(app->requester, &msg, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "mqtt5: publish: %s\n", mql_strerror(r));
                mql_client_disconnect(app->requester, 0);
                mql_client_disconnect(app->responder, 0);
        }
}

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct app *app = userdata;

        if (error < 0 || n != 1 || reasons[0] >= 0x80) {
                fprintf(stderr, "mqtt5: subscription refused\n");
                mql_client_disconnect(app->requester, 0);
                mql_client_disconnect(app->responder, 0);
                return;
        }
        if (++app->ready == 2)
                send_request(app);
}

/* The responder: answer where the request says, with its correlation. */
static void responder_message(struct mql_client *c, const struct mql_message *msg,
                              struct app *app) {
        struct mql_prop rt, corr;

        printf("responder: request \"%.*s\"\n", (int)msg->payload.len,
               (const char *)msg->payload.ptr);
        print_props("request", &msg->props);
        if (!mql_props_find(&msg->props, MQL_PROP_RESPONSE_TOPIC, &rt)) {
                fprintf(stderr, "mqtt5: a request without a Response Topic\n");
                return;
        }
        bool has_corr = mql_props_find(&msg->props, MQL_PROP_CORRELATION_DATA, &corr);

        char topic[256];
        snprintf(topic, sizeof(topic), "%.*s", (int)rt.str.len, rt.str.ptr);
        struct mql_prop props[3] = {
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("served-by"), mql_str_from("responder") } },
                { .id = MQL_PROP_CONTENT_TYPE, .str = mql_str_from("text/plain") },
        };
        size_t n = 2;
        if (has_corr) /* the views stay valid during this callback */
                props[n++] = (struct mql_prop){ .id = MQL_PROP_CORRELATION_DATA, .bin = corr.bin };
        const struct mql_message reply = {
                .topic = mql_str_from(topic),
                .payload = { (const uint8_t *)"time to answer", 14 },
                .qos = 1,
                .props = { .list = props, .count = n },
        };
        int r = mql_client_publish(c, &reply, NULL, NULL);
        if (r < 0)
                fprintf(stderr, "mqtt5: reply: %s\n", mql_strerror(r));
}

/* The requester: is this the answer to our request? */
static void requester_message(struct mql_client *c, const struct mql_message *msg,
                              struct app *app) {
        struct mql_prop corr;

        if (!mql_props_find(&msg->props, MQL_PROP_CORRELATION_DATA, &corr) ||
            corr.bin.len != strlen(app->correlation) ||
            memcmp(corr.bin.ptr, app->correlation, corr.bin.len) != 0) {
                printf("requester: an answer to someone else's request, ignored\n");
                return;
        }
        printf("requester: response \"%.*s\" matches correlation \"%s\"\n", (int)msg->payload.len,
               (const char *)msg->payload.ptr, app->correlation);
        print_props("response", &msg->props);
        app->status = 0;
        mql_client_disconnect(app->requester, 0);
        mql_client_disconnect(app->responder, 0);
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        struct app *app = userdata;

        if (c == app->responder)
                responder_message(c, msg, app);
        else
                requester_message(c, msg, app);
}

/* Everything the session reports; here the CONNACK's properties: what the
 * broker allows (Receive Maximum, Maximum QoS, Topic Alias Maximum…). */
static void on_event(struct mql_client *c, const struct mql_event *ev, void *userdata) {
        struct app *app = userdata;

        if (ev->type != MQL_EVENT_CONNECTED)
                return;
        printf("%s: CONNACK, session present %d\n", c == app->responder ? "responder" : "requester",
               ev->connack.session_present);
        print_props("CONNACK", &ev->connack.props);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;
        const char *who = c == app->responder ? "responder" : "requester";

        switch (state) {
        case MQL_CLIENT_CONNECTED: {
                /* A reconnect finds the subscription in place, or the
                 * session renews it: subscribe on the first connection. */
                if (app->subscribed[c == app->responder])
                        break;
                app->subscribed[c == app->responder] = true;
                const struct mql_subscription sub = {
                        .filter = mql_str_from(c == app->responder ? REQUEST_TOPIC
                                                                   : app->response_topic),
                        .qos = 1,
                        .no_local = true, /* MQTT 5: not our own messages */
                };
                if (mql_client_subscribe(c, &sub, 1, NULL, on_subscribed, app) < 0)
                        mql_client_disconnect(c, 0);
                break;
        }
        case MQL_CLIENT_WAITING:
                fprintf(stderr, "mqtt5: %s: %s; retrying\n", who,
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

static int new_client(struct app *app, const char *uri, const char *id, struct mql_client **ret) {
        const struct mql_prop connect_props[] = {
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("example"), mql_str_from("mqtt5") } },
        };
        const struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .session = {
                        .version = MQL_V5,
                        .client_id = id,
                        .clean_start = true,
                        .keepalive = 60,
                        /* Keep the session 60 s after a connection breaks. */
                        .session_expiry = 60,
                        .user_props = connect_props,
                        .n_user_props = 1,
                },
                .on_state = on_state,
                .on_message = on_message,
                .on_event = on_event,
                .userdata = app,
        };
        int r = mql_client_new(&cfg, ret);
        if (r < 0)
                return r;
        mql_client_attach_loop(*ret, app->loop);
        return 0;
}

int main(int argc, char **argv) {
        const char *uri = argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883";
        struct app app = { .status = 1 };
        char id[64];
        int r;

        /* Unique per run, so that two runs on one broker do not mix. */
        snprintf(app.response_topic, sizeof(app.response_topic),
                 "mqlink/example/mqtt5/response/%ld", (long)getpid());
        snprintf(app.correlation, sizeof(app.correlation), "request-%ld-1", (long)getpid());

        if (mql_loop_new(&app.loop) < 0)
                return 1;
        snprintf(id, sizeof(id), "mqlink-mqtt5-responder-%ld", (long)getpid());
        r = new_client(&app, uri, id, &app.responder);
        if (r == 0) {
                snprintf(id, sizeof(id), "mqlink-mqtt5-requester-%ld", (long)getpid());
                r = new_client(&app, uri, id, &app.requester);
        }
        if (r < 0) {
                fprintf(stderr, "mqtt5: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }
        mql_client_start(app.responder);
        mql_client_start(app.requester);

        r = mql_loop_run(app.loop);

        mql_client_free(app.requester);
        mql_client_free(app.responder);
        mql_loop_free(app.loop);
        return r == 0 ? 0 : 1;
}

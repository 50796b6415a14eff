/* SPDX-License-Identifier: MIT */
/*
 * mql_client (mqlink/client.h) against a real mosquitto: each test starts
 * a broker of its own (broker.h) on 127.0.0.1 and runs its clients on one
 * mql_loop, driven by run_until()/WAIT_FOR() with a deadline. Nothing here
 * sleeps blindly: every wait is for a condition the test names, and a
 * timeout is a failure that prints the clients' states and the broker log.
 *
 * Where mosquitto decides an outcome (a reason code, a retained flag), the
 * expected value is the one the MQTT specification prescribes; the test
 * accepts the broker's freedom only where the specification gives it (a
 * CONNACK refusal may be 0x86 or 0x87).
 *
 * MQL_TEST_VERBOSE=1 prints the library's debug log and every state change,
 * and has mosquitto log every packet; MQL_TEST_FILTER=glob picks tests;
 * MQL_TEST_KEEP=1 keeps the brokers' directories (logs, persistence).
 */
#define _GNU_SOURCE 1
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "mqlink/client.h"
#include "mqlink/mqlink.h"

#define MAX_PEERS 6
#define MAX_TRANSITIONS 256
#define MAX_PUBS 2048
#define MAX_SUBS 32
#define MAX_USER_PROPS 8
#define MAX_COUNTS 1024

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define CONNECT_MS 5000 /* a connection on loopback, ASan and a busy CI included */
#define DELIVER_MS 5000

/* ------------------------------------------------------------ harness */

struct transition {
        enum mql_client_state state;
        int error;
        mql_usec at;
};

/* What a received message's MQTT 5 properties held, copied. */
struct rx_props {
        unsigned count;
        unsigned n_user;
        char *user_key[MAX_USER_PROPS];
        char *user_value[MAX_USER_PROPS];
        char *content_type;
        char *response_topic;
        uint8_t *correlation;
        size_t correlation_len;
        bool has_correlation;
        bool has_expiry;
        uint32_t expiry;
        bool has_format;
        uint32_t format;
};

/* A received message, copied out of the callback. */
struct rx {
        char *topic;
        uint8_t *payload;
        size_t len;
        uint8_t qos;
        bool retain;
        bool dup;
        struct rx_props props;
};

struct peer;
typedef void (*peer_message_fn)(struct peer *p, const struct mql_message *msg);

/* A transport of the test's own around the library's: counts the bytes, and
 * lets a test cut the connection under the client (shutdown()). */
struct wrap_transport {
        struct mql_transport base;
        struct mql_transport *inner;
        struct peer *owner;
};

struct peer {
        struct test_ctx *t;
        char name[32];
        struct mql_client *c;
        enum mql_client_state state;
        struct transition tr[MAX_TRANSITIONS];
        size_t n_tr;
        unsigned n_connected;
        bool session_present; /* of the last CONNACK */
        struct rx *rx;
        size_t n_rx;
        size_t cap_rx;
        bool keep_none;       /* count messages, copy none */
        peer_message_fn hook; /* called for every message, after copying */
        struct wrap_transport *wrap;
        size_t bytes_in;
        size_t bytes_out;
        mql_usec last_rx_at;
        mql_usec max_rx_gap;
};

struct pub_result {
        bool done;
        int reason;
        uint16_t packet_id;
};

struct sub_result {
        bool done;
        int error;
        size_t n;
        uint8_t *reasons;
};

struct test_ctx {
        struct test_broker b;
        struct mql_loop *loop;
        struct peer peers[MAX_PEERS];
        size_t n_peers;
        char uri[128];
        /* Results live here, not on a test's stack: a failed test's clients
         * are freed in teardown, and cancelled operations still call back. */
        struct pub_result pubs[MAX_PUBS];
        size_t n_pubs;
        struct sub_result subs[MAX_SUBS];
        size_t n_subs;
        unsigned counts[MAX_COUNTS];
        unsigned distinct;
        unsigned completed;
        int closed_fd;
        uint16_t closed_port;
        struct mql_loop_source *timer;
        struct peer *ticker; /* publishes on every tick of `timer` */
        unsigned ticks;
};

static bool verbose;

static void log_cb(int level, const char *msg, void *userdata) {
        fprintf(stderr, "# mqlink<%d>: %s\n", level, msg);
}

static const char *state_name(enum mql_client_state s) {
        switch (s) {
        case MQL_CLIENT_STOPPED:
                return "STOPPED";
        case MQL_CLIENT_CONNECTING:
                return "CONNECTING";
        case MQL_CLIENT_CONNECTED:
                return "CONNECTED";
        case MQL_CLIENT_WAITING:
                return "WAITING";
        }
        return "?";
}

/* What the test knows when it gives up: every client's history, and the
 * end of the broker's log. */
static void dump_diag(struct test_ctx *t) {
        for (size_t i = 0; i < t->n_peers; i++) {
                struct peer *p = &t->peers[i];
                fprintf(stderr, "# peer %s: state %s, %zu messages, %zu transitions:\n", p->name,
                        state_name(p->state), p->n_rx, p->n_tr);
                size_t from = p->n_tr > 12 ? p->n_tr - 12 : 0;
                for (size_t k = from; k < p->n_tr; k++)
                        fprintf(stderr, "#   %8.3f s %-10s error %d (%s)\n",
                                (double)p->tr[k].at / 1e6, state_name(p->tr[k].state),
                                p->tr[k].error,
                                p->tr[k].error < 0 ? mql_strerror(p->tr[k].error) : "-");
        }
        if (t->b.dir[0])
                test_broker_dump_log(&t->b, stderr, 6000);
}

/* Runs the loop until `cond` holds or `ms` have passed; evaluates to
 * whether it holds. */
#define RUN_UNTIL(t, cond, ms)                                                      \
        ({                                                                          \
                mql_usec _deadline = mql_loop_now((t)->loop) + (mql_usec)(ms)*1000; \
                bool _ok;                                                           \
                while (!(_ok = (cond))) {                                           \
                        mql_usec _now = mql_loop_now((t)->loop);                    \
                        if (_now >= _deadline)                                      \
                                break;                                              \
                        run_once(t, _deadline - _now);                              \
                }                                                                   \
                _ok;                                                                \
        })

#define WAIT_FOR(t, cond, ms)                                                             \
        do {                                                                              \
                if (!RUN_UNTIL(t, cond, ms)) {                                            \
                        dump_diag(t);                                                     \
                        fail_msg("%s:%d: timed out after %u ms waiting for %s", __FILE__, \
                                 __LINE__, (unsigned)(ms), #cond);                        \
                }                                                                         \
        } while (0)

static void run_once(struct test_ctx *t, mql_usec timeout) {
        mql_usec before = mql_loop_now(t->loop);
        int r = mql_loop_run_once(t->loop, timeout);

        if (r < 0) {
                dump_diag(t);
                fail_msg("mql_loop_run_once: %s", mql_strerror(r));
        }
        /* With nothing to wait for the loop returns at once; do not spin. */
        if (r == 0 && mql_loop_now(t->loop) - before < 500)
                poll(NULL, 0, 1);
}

/* The helper the brief names: run until *flag is set. */
static bool run_until(struct test_ctx *t, const bool *flag, unsigned timeout_ms) {
        return RUN_UNTIL(t, *flag, timeout_ms);
}

/* Drives the loop for `ms` whatever happens: to see that something does
 * NOT happen (a duplicate, a will after a clean disconnect). */
static void run_for(struct test_ctx *t, unsigned ms) {
        (void)RUN_UNTIL(t, false, ms);
}

static char *dup_str(struct mql_str s) {
        char *r = strndup(s.ptr ? s.ptr : "", s.len);
        assert_non_null(r);
        return r;
}

static void copy_props(struct rx_props *rp, const struct mql_props *props) {
        struct mql_prop_iter it;
        struct mql_prop p;

        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) > 0) {
                rp->count++;
                switch (p.id) {
                case MQL_PROP_USER_PROPERTY:
                        if (rp->n_user < MAX_USER_PROPS) {
                                rp->user_key[rp->n_user] = dup_str(p.pair.key);
                                rp->user_value[rp->n_user] = dup_str(p.pair.value);
                                rp->n_user++;
                        }
                        break;
                case MQL_PROP_CONTENT_TYPE:
                        rp->content_type = dup_str(p.str);
                        break;
                case MQL_PROP_RESPONSE_TOPIC:
                        rp->response_topic = dup_str(p.str);
                        break;
                case MQL_PROP_CORRELATION_DATA:
                        rp->has_correlation = true;
                        rp->correlation_len = p.bin.len;
                        rp->correlation = malloc(p.bin.len + 1);
                        assert_non_null(rp->correlation);
                        if (p.bin.len)
                                memcpy(rp->correlation, p.bin.ptr, p.bin.len);
                        break;
                case MQL_PROP_MESSAGE_EXPIRY_INTERVAL:
                        rp->has_expiry = true;
                        rp->expiry = p.u32;
                        break;
                case MQL_PROP_PAYLOAD_FORMAT_INDICATOR:
                        rp->has_format = true;
                        rp->format = p.u32;
                        break;
                default:
                        break;
                }
        }
}

static void free_rx(struct rx *r) {
        free(r->topic);
        free(r->payload);
        for (unsigned i = 0; i < r->props.n_user; i++) {
                free(r->props.user_key[i]);
                free(r->props.user_value[i]);
        }
        free(r->props.content_type);
        free(r->props.response_topic);
        free(r->props.correlation);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct peer *p = userdata;

        p->state = state;
        if (state == MQL_CLIENT_CONNECTED)
                p->n_connected++;
        if (p->n_tr < MAX_TRANSITIONS)
                p->tr[p->n_tr++] = (struct transition){ state, error, mql_loop_now(p->t->loop) };
        if (verbose)
                fprintf(stderr, "# %s: %s error %d (%s) uri %s\n", p->name, state_name(state),
                        error, error < 0 ? mql_strerror(error) : "-", mql_client_get_uri(c));
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        struct peer *p = userdata;
        mql_usec now = mql_loop_now(p->t->loop);

        if (p->last_rx_at && now - p->last_rx_at > p->max_rx_gap)
                p->max_rx_gap = now - p->last_rx_at;
        p->last_rx_at = now;

        if (!p->keep_none) {
                if (p->n_rx == p->cap_rx) {
                        p->cap_rx = p->cap_rx ? p->cap_rx * 2 : 16;
                        p->rx = realloc(p->rx, p->cap_rx * sizeof(*p->rx));
                        assert_non_null(p->rx);
                }
                struct rx *r = &p->rx[p->n_rx];
                *r = (struct rx){ .topic = dup_str(msg->topic),
                                  .len = msg->payload.len,
                                  .qos = msg->qos,
                                  .retain = msg->retain,
                                  .dup = msg->dup };
                r->payload = malloc(msg->payload.len + 1);
                assert_non_null(r->payload);
                if (msg->payload.len)
                        memcpy(r->payload, msg->payload.ptr, msg->payload.len);
                r->payload[msg->payload.len] = '\0'; /* for atoi() */
                copy_props(&r->props, &msg->props);
        }
        p->n_rx++;
        if (p->hook)
                p->hook(p, msg);
}

static void on_event(struct mql_client *c, const struct mql_event *ev, void *userdata) {
        struct peer *p = userdata;

        if (ev->type == MQL_EVENT_CONNECTED)
                p->session_present = ev->connack.session_present;
}

static void on_published(struct mql_session *s, uint16_t packet_id, int reason, void *userdata) {
        struct pub_result *r = userdata;

        assert_false(r->done); /* a publish completes once */
        r->done = true;
        r->reason = reason;
        r->packet_id = packet_id;
}

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct sub_result *r = userdata;

        r->done = true;
        r->error = error;
        r->n = n;
        if (n) {
                r->reasons = malloc(n);
                assert_non_null(r->reasons);
                memcpy(r->reasons, reasons, n);
        }
}

/* ---- transport wrapper ---- */

static struct wrap_transport *wrap_of(struct mql_transport *t) {
        return (struct wrap_transport *)t;
}
static int wrap_connect(struct mql_transport *t) {
        return mql_transport_connect(wrap_of(t)->inner);
}
static ssize_t wrap_read(struct mql_transport *t, void *buf, size_t len) {
        ssize_t n = mql_transport_read(wrap_of(t)->inner, buf, len);
        if (n > 0 && wrap_of(t)->owner)
                wrap_of(t)->owner->bytes_in += (size_t)n;
        return n;
}
static ssize_t wrap_writev(struct mql_transport *t, const struct iovec *iov, int iovcnt) {
        ssize_t n = mql_transport_writev(wrap_of(t)->inner, iov, iovcnt);
        if (n > 0 && wrap_of(t)->owner)
                wrap_of(t)->owner->bytes_out += (size_t)n;
        return n;
}
static int wrap_fd(struct mql_transport *t) {
        return mql_transport_fd(wrap_of(t)->inner);
}
static uint32_t wrap_events(struct mql_transport *t) {
        return mql_transport_events(wrap_of(t)->inner);
}
static void wrap_close(struct mql_transport *t) {
        mql_transport_close(wrap_of(t)->inner);
}
static void wrap_free(struct mql_transport *t) {
        struct wrap_transport *w = wrap_of(t);

        if (w->owner && w->owner->wrap == w)
                w->owner->wrap = NULL;
        mql_transport_free(w->inner);
        free(w);
}

static const struct mql_transport_ops wrap_ops = {
        .name = "test-wrap",
        .connect = wrap_connect,
        .read = wrap_read,
        .writev = wrap_writev,
        .fd = wrap_fd,
        .events = wrap_events,
        .close = wrap_close,
        .free = wrap_free,
};

static int wrap_factory(const char *uri, void *userdata, struct mql_transport **ret) {
        struct peer *p = userdata;
        struct wrap_transport *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        int r = mql_transport_new_uri(uri, NULL, &w->inner);
        if (r < 0) {
                free(w);
                return r;
        }
        w->base.ops = &wrap_ops;
        w->owner = p;
        p->wrap = w;
        *ret = &w->base;
        return 0;
}

/* ---- peers ---- */

static struct peer *peer_new(struct test_ctx *t, const char *name) {
        assert_true(t->n_peers < MAX_PEERS);
        struct peer *p = &t->peers[t->n_peers++];
        *p = (struct peer){ .t = t, .state = MQL_CLIENT_STOPPED };
        snprintf(p->name, sizeof(p->name), "%s", name);
        return p;
}

/* Defaults for a test client: fast reconnects, short connect timeout. */
static void peer_config(struct peer *p, struct mql_client_config *cfg, const char *const *uris,
                        size_t n_uris, enum mql_version version, const char *client_id) {
        *cfg = (struct mql_client_config){
                .uris = uris,
                .n_uris = n_uris,
                .session = { .version = version,
                             .client_id = client_id,
                             .clean_start = true,
                             .keepalive = 30 },
                .reconnect_min_ms = 50,
                .reconnect_max_ms = 500,
                .connect_timeout_ms = CONNECT_MS,
                .on_state = on_state,
                .on_message = on_message,
                .on_event = on_event,
                .userdata = p,
        };
}

static void peer_start(struct peer *p, const struct mql_client_config *cfg) {
        int r = mql_client_new(cfg, &p->c);
        if (r < 0)
                fail_msg("mql_client_new(%s): %s", p->name, mql_strerror(r));
        assert_int_equal(mql_client_attach_loop(p->c, p->t->loop), 0);
        assert_int_equal(mql_client_start(p->c), 0);
}

/* A client on `uri`, connected. */
static struct peer *connect_peer(struct test_ctx *t, const char *name, const char *uri,
                                 enum mql_version version, const char *client_id) {
        struct mql_client_config cfg;
        struct peer *p = peer_new(t, name);
        const char *uris[] = { uri };

        peer_config(p, &cfg, uris, 1, version, client_id);
        peer_start(p, &cfg);
        WAIT_FOR(t, p->state == MQL_CLIENT_CONNECTED, CONNECT_MS);
        return p;
}

static struct pub_result *pub_slot(struct test_ctx *t) {
        assert_true(t->n_pubs < MAX_PUBS);
        return &t->pubs[t->n_pubs++];
}

/* Publishes; returns the call's result and the completion slot. */
static int publish(struct peer *p, const char *topic, const void *payload, size_t len, uint8_t qos,
                   bool retain, const struct mql_props *props, struct pub_result **ret) {
        struct mql_message msg = {
                .topic = mql_str_from(topic),
                .payload = { .ptr = payload, .len = len },
                .qos = qos,
                .retain = retain,
        };
        struct pub_result *res = pub_slot(p->t);

        if (props)
                msg.props = *props;
        if (ret)
                *ret = res;
        return mql_client_publish(p->c, &msg, on_published, res);
}

/* Subscribes to `n` filters at `qos` in one SUBSCRIBE and waits for every
 * one to be granted that QoS. */
static void subscribe_all(struct peer *p, const char *const *filters, size_t n, uint8_t qos) {
        struct test_ctx *t = p->t;
        struct mql_subscription *subs = calloc(n, sizeof(*subs));

        assert_non_null(subs);
        for (size_t i = 0; i < n; i++)
                subs[i] =
                        (struct mql_subscription){ .filter = mql_str_from(filters[i]), .qos = qos };
        assert_true(t->n_subs < MAX_SUBS);
        struct sub_result *res = &t->subs[t->n_subs++];
        int r = mql_client_subscribe(p->c, subs, n, NULL, on_subscribed, res);
        free(subs);
        if (r < 0)
                fail_msg("mql_client_subscribe(%s): %s", p->name, mql_strerror(r));
        if (!run_until(t, &res->done, DELIVER_MS)) {
                dump_diag(t);
                fail_msg("%s: no SUBACK", p->name);
        }
        assert_int_equal(res->error, 0);
        assert_int_equal(res->n, n);
        for (size_t i = 0; i < n; i++)
                if (res->reasons[i] != qos)
                        fail_msg("filter %zu (%s): reason %#x, want QoS %u granted", i, filters[i],
                                 res->reasons[i], qos);
}

static void subscribe1(struct peer *p, const char *filter, uint8_t qos) {
        subscribe_all(p, &filter, 1, qos);
}

/* A port on 127.0.0.1 bound but not listening: connecting to it is refused,
 * and nobody else gets it while the test holds it. */
static void hold_closed_port(struct test_ctx *t) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);

        t->closed_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(t->closed_fd >= 0);
        assert_int_equal(bind(t->closed_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(t->closed_fd, (struct sockaddr *)&sa, &len), 0);
        t->closed_port = ntohs(sa.sin_port);
}

/* Starts the test's broker; skips the test without mosquitto. */
static void start_broker(struct test_ctx *t, const char *extra) {
        char conf[2048];

        /* Verbose: mosquitto logs every packet too. */
        snprintf(conf, sizeof(conf), "%s%s", extra ? extra : "", verbose ? "log_type all\n" : "");
        int r = test_broker_start(&t->b, conf);
        if (r == -ENOENT) {
                fprintf(stderr, "# mosquitto not installed\n");
                skip();
        }
        if (r < 0) {
                if (t->b.dir[0])
                        test_broker_dump_log(&t->b, stderr, 4000);
                fail_msg("test_broker_start: %s", strerror(-r));
        }
        snprintf(t->uri, sizeof(t->uri), "mqtt://127.0.0.1:%u", t->b.port);
}

static int setup(void **state) {
        struct test_ctx *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        t->b = (struct test_broker)TEST_BROKER_INIT;
        t->closed_fd = -1;
        assert_int_equal(mql_loop_new(&t->loop), 0);
        *state = t;
        return 0;
}

static int teardown(void **state) {
        struct test_ctx *t = *state;

        mql_loop_source_free(t->timer);
        for (size_t i = 0; i < t->n_peers; i++)
                t->peers[i].c = mql_client_free(t->peers[i].c);
        for (size_t i = 0; i < t->n_peers; i++) {
                for (size_t k = 0; k < t->peers[i].n_rx; k++)
                        if (!t->peers[i].keep_none)
                                free_rx(&t->peers[i].rx[k]);
                free(t->peers[i].rx);
        }
        for (size_t i = 0; i < t->n_subs; i++)
                free(t->subs[i].reasons);
        mql_loop_free(t->loop);
        if (getenv("MQL_TEST_KEEP") && t->b.dir[0]) {
                (void)test_broker_term(&t->b);
                fprintf(stderr, "# kept %s\n", t->b.dir);
        } else {
                test_broker_stop(&t->b);
        }
        if (t->closed_fd >= 0)
                close(t->closed_fd);
        free(t);
        return 0;
}

/* ------------------------------------------------------------ round trip */

/* Every byte value, so that a payload treated as a string shows. */
static void fill_pattern(uint8_t *buf, size_t len, unsigned seed) {
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(i * 31u + seed);
}

static void roundtrip(void **state, enum mql_version version, uint8_t qos) {
        struct test_ctx *t = *state;
        char topic[64];
        uint8_t payload[512];

        start_broker(t, NULL);
        /* MQTT 5: an empty client id gets one assigned (MQTT-3.1.3-6 and
         * the Assigned Client Identifier property); 3.1.1 needs one. */
        struct peer *sub =
                connect_peer(t, "sub", t->uri, version, version == MQL_V5 ? NULL : "rt-sub");
        struct peer *pub = connect_peer(t, "pub", t->uri, version, "rt-pub");
        if (version == MQL_V5) {
                const char *id = mql_session_get_client_id(mql_client_get_session(sub->c));
                assert_non_null(id);
                assert_true(strlen(id) > 0);
        }
        subscribe1(sub, "rt/+/x", 2);

        snprintf(topic, sizeof(topic), "rt/%u/x", qos);
        fill_pattern(payload, sizeof(payload), qos);
        struct pub_result *res;
        int r = publish(pub, topic, payload, sizeof(payload), qos, false, NULL, &res);
        if (qos == 0)
                assert_int_equal(r, 0);
        else
                assert_true(r > 0); /* connected, window open: an id at once */

        WAIT_FOR(t, sub->n_rx >= 1 && res->done, DELIVER_MS);
        assert_int_equal(res->reason, 0);
        if (qos > 0)
                assert_int_equal(res->packet_id, r);
        struct rx *m = &sub->rx[0];
        assert_string_equal(m->topic, topic);
        assert_int_equal(m->qos, qos); /* min(publish QoS, granted 2) */
        assert_false(m->retain);
        assert_false(m->dup);
        assert_int_equal(m->len, sizeof(payload));
        assert_memory_equal(m->payload, payload, sizeof(payload));

        /* MQTT 5 only: with nobody subscribed the broker may say "No
         * matching subscribers" (0x10), still a success. */
        if (qos > 0) {
                r = publish(pub, "nobody/listens", "x", 1, qos, false, NULL, &res);
                assert_true(r > 0);
                WAIT_FOR(t, res->done, DELIVER_MS);
                if (version == MQL_V5)
                        assert_true(res->reason == 0 ||
                                    res->reason == MQL_RC_NO_MATCHING_SUBSCRIBERS);
                else
                        assert_int_equal(res->reason, 0);
        }

        /* Exactly one copy (nothing broke, so QoS 0 and 1 too). */
        run_for(t, 150);
        assert_int_equal(sub->n_rx, 1);

        assert_int_equal(mql_client_disconnect(pub->c, 0), 0);
        WAIT_FOR(t, pub->state == MQL_CLIENT_STOPPED, CONNECT_MS);
        assert_int_equal(pub->tr[pub->n_tr - 1].error, 0);
        assert_int_equal(mql_client_disconnect(pub->c, 0), -ENOTCONN);
}

static void test_roundtrip_v311_qos0(void **state) {
        roundtrip(state, MQL_V311, 0);
}
static void test_roundtrip_v311_qos1(void **state) {
        roundtrip(state, MQL_V311, 1);
}
static void test_roundtrip_v311_qos2(void **state) {
        roundtrip(state, MQL_V311, 2);
}
static void test_roundtrip_v5_qos0(void **state) {
        roundtrip(state, MQL_V5, 0);
}
static void test_roundtrip_v5_qos1(void **state) {
        roundtrip(state, MQL_V5, 1);
}
static void test_roundtrip_v5_qos2(void **state) {
        roundtrip(state, MQL_V5, 2);
}

/* --------------------------------------------------------- v5 properties */

/* PUBLISH properties reach the subscriber unchanged (MQTT-3.3.2-4 payload
 * format, -15 response topic, -16 correlation data, -17 user properties in
 * order, -20 content type), the expiry counted down (MQTT-3.3.2-6); a 3.1.1
 * subscriber gets the message without them. */
static void test_v5_properties(void **state) {
        struct test_ctx *t = *state;
        static const uint8_t corr[] = { 0x00, 0x01, 0xfe, 0xff, 0x00 };

        start_broker(t, NULL);
        struct peer *sub = connect_peer(t, "sub5", t->uri, MQL_V5, "props-sub5");
        struct peer *old = connect_peer(t, "sub311", t->uri, MQL_V311, "props-sub311");
        struct peer *pub = connect_peer(t, "pub", t->uri, MQL_V5, "props-pub");
        subscribe1(sub, "props/#", 1);
        subscribe1(old, "props/#", 1);

        const struct mql_prop list[] = {
                { .id = MQL_PROP_PAYLOAD_FORMAT_INDICATOR, .u32 = 1 },
                { .id = MQL_PROP_MESSAGE_EXPIRY_INTERVAL, .u32 = 60 },
                { .id = MQL_PROP_CONTENT_TYPE, .str = mql_str_from("application/json") },
                { .id = MQL_PROP_RESPONSE_TOPIC, .str = mql_str_from("props/reply") },
                { .id = MQL_PROP_CORRELATION_DATA, .bin = { corr, sizeof(corr) } },
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("k"), mql_str_from("first") } },
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("k"), mql_str_from("second") } },
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("n\xc3\xa4me"), mql_str_from("") } },
        };
        const struct mql_props props = { .list = list, .count = N_ELEMENTS(list) };
        const char body[] = "{\"x\":1}";
        struct pub_result *res;

        assert_true(publish(pub, "props/a", body, strlen(body), 1, false, &props, &res) > 0);
        WAIT_FOR(t, res->done && sub->n_rx >= 1 && old->n_rx >= 1, DELIVER_MS);
        assert_int_equal(res->reason, 0);

        struct rx_props *rp = &sub->rx[0].props;
        assert_true(rp->has_format);
        assert_int_equal(rp->format, 1);
        assert_true(rp->has_expiry);
        assert_true(rp->expiry <= 60 && rp->expiry >= 55);
        assert_non_null(rp->content_type);
        assert_string_equal(rp->content_type, "application/json");
        assert_non_null(rp->response_topic);
        assert_string_equal(rp->response_topic, "props/reply");
        assert_true(rp->has_correlation);
        assert_int_equal(rp->correlation_len, sizeof(corr));
        assert_memory_equal(rp->correlation, corr, sizeof(corr));
        assert_int_equal(rp->n_user, 3);
        assert_string_equal(rp->user_key[0], "k");
        assert_string_equal(rp->user_value[0], "first");
        assert_string_equal(rp->user_key[1], "k");
        assert_string_equal(rp->user_value[1], "second");
        assert_string_equal(rp->user_key[2], "n\xc3\xa4me");
        assert_string_equal(rp->user_value[2], "");
        assert_int_equal(sub->rx[0].len, strlen(body));
        assert_memory_equal(sub->rx[0].payload, body, strlen(body));

        assert_int_equal(old->rx[0].props.count, 0);
        assert_int_equal(old->rx[0].len, strlen(body));
        assert_memory_equal(old->rx[0].payload, body, strlen(body));
}

/* ------------------------------------------------------------------ will */

/* The connection dies under a v5 client (the test shuts its socket down
 * through a transport of its own, given by transport_factory): the broker
 * publishes the will, properties included (MQTT-3.1.2-8, -3.1.3-10). */
static void test_will_abrupt_v5(void **state) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;

        start_broker(t, NULL);
        struct peer *watch = connect_peer(t, "watcher", t->uri, MQL_V5, "will-watcher");
        subscribe1(watch, "will/#", 1);

        struct peer *mortal = peer_new(t, "mortal");
        const char *uris[] = { t->uri };
        const struct mql_prop will_props[] = {
                { .id = MQL_PROP_USER_PROPERTY,
                  .pair = { mql_str_from("why"), mql_str_from("abrupt") } },
                { .id = MQL_PROP_CONTENT_TYPE, .str = mql_str_from("text/plain") },
        };
        const struct mql_will will = {
                .topic = mql_str_from("will/mortal"),
                .payload = { (const uint8_t *)"gone", 4 },
                .qos = 1,
                .props = { .list = will_props, .count = N_ELEMENTS(will_props) },
        };
        peer_config(mortal, &cfg, uris, 1, MQL_V5, "will-mortal");
        cfg.session.will = &will;
        cfg.transport_factory = wrap_factory;
        cfg.transport_userdata = mortal;
        /* A quick reconnect would race the broker's noticing the old
         * connection's end (a takeover has will rules of its own). */
        cfg.no_reconnect = true;
        peer_start(mortal, &cfg);
        WAIT_FOR(t, mortal->state == MQL_CLIENT_CONNECTED, CONNECT_MS);
        assert_non_null(mortal->wrap);
        assert_true(mortal->bytes_out > 0 && mortal->bytes_in > 0); /* it went through */

        run_for(t, 100);
        assert_int_equal(watch->n_rx, 0);

        int fd = mql_transport_fd(mortal->wrap->inner);
        assert_true(fd >= 0);
        assert_int_equal(shutdown(fd, SHUT_RDWR), 0);

        WAIT_FOR(t, watch->n_rx >= 1, DELIVER_MS);
        struct rx *m = &watch->rx[0];
        assert_string_equal(m->topic, "will/mortal");
        assert_int_equal(m->len, 4);
        assert_memory_equal(m->payload, "gone", 4);
        assert_int_equal(m->qos, 1);
        assert_int_equal(m->props.n_user, 1);
        assert_string_equal(m->props.user_key[0], "why");
        assert_string_equal(m->props.user_value[0], "abrupt");
        assert_non_null(m->props.content_type);
        assert_string_equal(m->props.content_type, "text/plain");

        /* The client saw its connection end, with an error. */
        WAIT_FOR(t, mortal->state != MQL_CLIENT_CONNECTED, CONNECT_MS);
        assert_true(mortal->tr[mortal->n_tr - 1].error != 0);
}

/* 3.1.1: a clean DISCONNECT discards the will (MQTT-3.1.2-10); a client
 * freed without one (mql_client_free() closes at once, as a crash would)
 * gets it published. */
static void test_will_v311(void **state) {
        struct test_ctx *t = *state;
        const char *uris[1];
        struct mql_client_config cfg;
        struct mql_will will = { .topic = mql_str_from("will/polite"),
                                 .payload = { (const uint8_t *)"polite", 6 },
                                 .qos = 1 };

        start_broker(t, NULL);
        uris[0] = t->uri;
        struct peer *watch = connect_peer(t, "watcher", t->uri, MQL_V311, "will-watcher");
        subscribe1(watch, "will/#", 1);

        struct peer *polite = peer_new(t, "polite");
        peer_config(polite, &cfg, uris, 1, MQL_V311, "will-polite");
        cfg.session.will = &will;
        peer_start(polite, &cfg);

        struct peer *crash = peer_new(t, "crash");
        will.topic = mql_str_from("will/crash");
        will.payload = (struct mql_bin){ (const uint8_t *)"crashed", 7 };
        peer_config(crash, &cfg, uris, 1, MQL_V311, "will-crash");
        cfg.session.will = &will;
        peer_start(crash, &cfg);
        WAIT_FOR(t, polite->state == MQL_CLIENT_CONNECTED && crash->state == MQL_CLIENT_CONNECTED,
                 CONNECT_MS);

        assert_int_equal(mql_client_disconnect(polite->c, 0), 0);
        WAIT_FOR(t, polite->state == MQL_CLIENT_STOPPED, CONNECT_MS);
        run_for(t, 200);
        assert_int_equal(watch->n_rx, 0);

        crash->c = mql_client_free(crash->c);
        WAIT_FOR(t, watch->n_rx >= 1, DELIVER_MS);
        assert_string_equal(watch->rx[0].topic, "will/crash");
        assert_int_equal(watch->rx[0].len, 7);
        assert_memory_equal(watch->rx[0].payload, "crashed", 7);
        run_for(t, 100);
        assert_int_equal(watch->n_rx, 1);
}

/* --------------------------------------------------------------- retained */

/* A retained message reaches a later subscriber with RETAIN set
 * (MQTT-3.3.1-8); one published while a subscription exists arrives with
 * RETAIN clear (MQTT-3.3.1-9; v5 without Retain As Published). */
static void test_retained(void **state) {
        struct test_ctx *t = *state;
        struct pub_result *res;

        start_broker(t, NULL);
        struct peer *pub = connect_peer(t, "pub", t->uri, MQL_V5, "ret-pub");
        assert_true(publish(pub, "ret/a", "kept", 4, 1, true, NULL, &res) > 0);
        WAIT_FOR(t, res->done, DELIVER_MS);
        /* Nobody subscribed yet: 0 or 0x10 "No matching subscribers". */
        assert_true(res->reason == 0 || res->reason == MQL_RC_NO_MATCHING_SUBSCRIBERS);

        struct peer *late = connect_peer(t, "late", t->uri, MQL_V5, "ret-late");
        subscribe1(late, "ret/#", 1);
        WAIT_FOR(t, late->n_rx >= 1, DELIVER_MS);
        assert_string_equal(late->rx[0].topic, "ret/a");
        assert_true(late->rx[0].retain);
        assert_int_equal(late->rx[0].len, 4);
        assert_memory_equal(late->rx[0].payload, "kept", 4);

        assert_true(publish(pub, "ret/b", "live", 4, 1, true, NULL, &res) > 0);
        WAIT_FOR(t, late->n_rx >= 2, DELIVER_MS);
        assert_string_equal(late->rx[1].topic, "ret/b");
        assert_false(late->rx[1].retain);

        /* And 3.1.1 sees the retained ones with the flag too. */
        struct peer *old = connect_peer(t, "old", t->uri, MQL_V311, "ret-old");
        subscribe1(old, "ret/+", 0);
        WAIT_FOR(t, old->n_rx >= 2, DELIVER_MS);
        assert_true(old->rx[0].retain && old->rx[1].retain);
        assert_int_equal(old->rx[0].qos, 0);
}

/* -------------------------------------------------------------- big payload */

/* 16 MiB in one PUBLISH, both ways through the broker, byte for byte. */
static void test_big_payload(void **state) {
        struct test_ctx *t = *state;
        const size_t len = 16u << 20;
        struct pub_result *res;

        start_broker(t, "message_size_limit 0\n");
        struct peer *sub = connect_peer(t, "sub", t->uri, MQL_V5, "big-sub");
        struct peer *pub = connect_peer(t, "pub", t->uri, MQL_V5, "big-pub");
        subscribe1(sub, "big", 1);

        uint8_t *payload = malloc(len);
        assert_non_null(payload);
        fill_pattern(payload, len, 7);
        int r = publish(pub, "big", payload, len, 1, false, NULL, &res);
        /* publish() copies what it keeps: the buffer can go now. */
        uint8_t first = payload[0], last = payload[len - 1];
        memset(payload, 0, len);
        if (r <= 0)
                fail_msg("publish 16 MiB: %d (%s)", r, mql_strerror(r));

        WAIT_FOR(t, res->done && sub->n_rx >= 1, 30000);
        assert_int_equal(res->reason, 0);
        assert_int_equal(sub->rx[0].len, len);
        fill_pattern(payload, len, 7);
        assert_int_equal(payload[0], first);
        assert_int_equal(payload[len - 1], last);
        assert_memory_equal(sub->rx[0].payload, payload, len);
        free(payload);
}

/* ------------------------------------------------------- many subscriptions */

/* 1,000 filters: 500 in one SUBSCRIBE, then 5 × 100; every one granted
 * (one reason code per filter, in order: MQTT-3.8.4-6, -3.9.3-1), and
 * messages route through the first and the last. */
static void test_many_subscriptions(void **state) {
        struct test_ctx *t = *state;
        enum {
                N = 1000
        };
        static char names[N][32];
        const char *filters[N];

        start_broker(t, NULL);
        struct peer *sub = connect_peer(t, "sub", t->uri, MQL_V5, "many-sub");
        struct peer *pub = connect_peer(t, "pub", t->uri, MQL_V311, "many-pub");
        for (unsigned i = 0; i < N; i++) {
                snprintf(names[i], sizeof(names[i]), "many/%u/+", i);
                filters[i] = names[i];
        }
        subscribe_all(sub, filters, 500, 1);
        for (unsigned i = 500; i < N; i += 100)
                subscribe_all(sub, filters + i, 100, 1);

        struct pub_result *res;
        assert_true(publish(pub, "many/0/x", "a", 1, 1, false, NULL, &res) > 0);
        assert_true(publish(pub, "many/999/y", "b", 1, 1, false, NULL, &res) > 0);
        assert_true(publish(pub, "many/1000/z", "c", 1, 1, false, NULL, &res) > 0);
        WAIT_FOR(t, sub->n_rx >= 2 && res->done, DELIVER_MS);
        run_for(t, 100);
        assert_int_equal(sub->n_rx, 2);
        assert_string_equal(sub->rx[0].topic, "many/0/x");
        assert_string_equal(sub->rx[1].topic, "many/999/y");
}

/* ------------------------------------------------------------ bad password */

static int first_refusal(const struct peer *p) {
        for (size_t i = 0; i < p->n_tr; i++)
                if (p->tr[i].error > 0)
                        return p->tr[i].error;
        return 0;
}

static bool refused(const struct peer *p) {
        return first_refusal(p) != 0;
}

/* The broker refuses a wrong password in CONNACK: on_state reports the
 * reason code, positive (v5 0x86 Bad User Name or Password or 0x87 Not
 * authorized; 3.1.1 return code 4 or 5), and the client leaves
 * CONNECTING. The right password connects. */
static void test_bad_password(void **state) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;
        const char *uris[1];

        assert_int_equal(test_broker_prepare(&t->b), 0);
        int r = test_broker_passwd(t->b.dir, "alice", "s3cret");
        if (r == -ENOENT)
                skip();
        assert_int_equal(r, 0);
        start_broker(t, "allow_anonymous false\npassword_file @DIR@/passwd\n");
        uris[0] = t->uri;

        struct peer *bad5 = peer_new(t, "bad5");
        peer_config(bad5, &cfg, uris, 1, MQL_V5, "pw-bad5");
        cfg.session.username = "alice";
        cfg.session.password = "wrong";
        cfg.reconnect_min_ms = 1000; /* one refusal is enough to look at */
        cfg.reconnect_max_ms = 2000;
        peer_start(bad5, &cfg);

        struct peer *bad3 = peer_new(t, "bad311");
        peer_config(bad3, &cfg, uris, 1, MQL_V311, "pw-bad311");
        cfg.session.username = "alice";
        cfg.session.password = "wrong";
        cfg.reconnect_min_ms = 1000;
        cfg.reconnect_max_ms = 2000;
        peer_start(bad3, &cfg);

        struct peer *anon = peer_new(t, "anonymous");
        peer_config(anon, &cfg, uris, 1, MQL_V5, "pw-anon");
        cfg.reconnect_min_ms = 1000;
        cfg.reconnect_max_ms = 2000;
        peer_start(anon, &cfg);

        struct peer *good = peer_new(t, "good");
        peer_config(good, &cfg, uris, 1, MQL_V5, "pw-good");
        cfg.session.username = "alice";
        cfg.session.password = "s3cret";
        peer_start(good, &cfg);

        WAIT_FOR(t, refused(bad5) && refused(bad3) && refused(anon), CONNECT_MS);
        r = first_refusal(bad5);
        if (r != MQL_RC_BAD_USER_NAME_OR_PASSWORD && r != MQL_RC_NOT_AUTHORIZED)
                fail_msg("v5 refusal %#x, want 0x86 or 0x87", r);
        r = first_refusal(anon);
        if (r != MQL_RC_BAD_USER_NAME_OR_PASSWORD && r != MQL_RC_NOT_AUTHORIZED)
                fail_msg("v5 anonymous refusal %#x, want 0x86 or 0x87", r);
        r = first_refusal(bad3);
        if (r != MQL_V311_BAD_USER_NAME_OR_PASSWORD && r != MQL_V311_NOT_AUTHORIZED)
                fail_msg("3.1.1 refusal %d, want 4 or 5", r);
        assert_int_equal(bad5->n_connected, 0);
        assert_int_equal(bad3->n_connected, 0);
        assert_true(bad5->state == MQL_CLIENT_WAITING || bad5->state == MQL_CLIENT_STOPPED);

        WAIT_FOR(t, good->state == MQL_CLIENT_CONNECTED, CONNECT_MS);
        assert_int_equal(bad5->n_connected, 0);
}

/* -------------------------------------------------------------------- TLS */

/* mqtts:// with the CA that signed the broker's certificate round trips;
 * with an unrelated CA the handshake fails verification: -EKEYREJECTED. */
static void test_tls(void **state) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;
        char ca[PATH_MAX + 16], wrong_ca[PATH_MAX + 16], uri[64];
        const char *uris[] = { uri };

        assert_int_equal(test_broker_prepare(&t->b), 0);
        int r = test_broker_make_certs(t->b.dir);
        if (r == -ENOENT)
                skip();
        assert_int_equal(r, 0);
        start_broker(t, "listener @PORT2@ 127.0.0.1\n"
                        "cafile @DIR@/ca.crt\n"
                        "certfile @DIR@/server.crt\n"
                        "keyfile @DIR@/server.key\n");
        snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%u", t->b.port2);
        snprintf(ca, sizeof(ca), "%s/ca.crt", t->b.dir);
        snprintf(wrong_ca, sizeof(wrong_ca), "%s/wrong-ca.crt", t->b.dir);

        struct mql_tls_config tls = { .ca_file = ca };
        struct peer *sub = peer_new(t, "tls-sub");
        peer_config(sub, &cfg, uris, 1, MQL_V5, "tls-sub");
        cfg.tls = &tls;
        peer_start(sub, &cfg);
        struct peer *pub = peer_new(t, "tls-pub");
        peer_config(pub, &cfg, uris, 1, MQL_V311, "tls-pub");
        cfg.tls = &tls;
        peer_start(pub, &cfg);

        struct mql_tls_config bad_tls = { .ca_file = wrong_ca };
        struct peer *bad = peer_new(t, "tls-wrong-ca");
        peer_config(bad, &cfg, uris, 1, MQL_V5, "tls-bad");
        cfg.tls = &bad_tls;
        cfg.reconnect_min_ms = 1000;
        cfg.reconnect_max_ms = 2000;
        peer_start(bad, &cfg);

        WAIT_FOR(t, sub->state == MQL_CLIENT_CONNECTED && pub->state == MQL_CLIENT_CONNECTED,
                 CONNECT_MS);
        subscribe1(sub, "tls/#", 2);
        uint8_t payload[4000];
        fill_pattern(payload, sizeof(payload), 3);
        struct pub_result *res;
        assert_true(publish(pub, "tls/x", payload, sizeof(payload), 2, false, NULL, &res) > 0);
        WAIT_FOR(t, res->done && sub->n_rx >= 1, DELIVER_MS);
        assert_int_equal(res->reason, 0);
        assert_int_equal(sub->rx[0].len, sizeof(payload));
        assert_memory_equal(sub->rx[0].payload, payload, sizeof(payload));
        assert_int_equal(sub->rx[0].qos, 2);

        WAIT_FOR(t, bad->n_tr >= 2 && bad->state != MQL_CLIENT_CONNECTING, CONNECT_MS);
        assert_int_equal(bad->n_connected, 0);
        bool rejected = false;
        for (size_t i = 0; i < bad->n_tr; i++)
                rejected |= bad->tr[i].error == -EKEYREJECTED;
        if (!rejected) {
                dump_diag(t);
                fail_msg("wrong CA: no -EKEYREJECTED reported");
        }
}

/* ------------------------------------------------------------ Unix socket */

static void test_unix_socket(void **state) {
        struct test_ctx *t = *state;
        char uri[PATH_MAX + 16];

        start_broker(t, "listener 0 @DIR@/mqtt.sock\n");
        assert_true(snprintf(uri, sizeof(uri), "unix://%s/mqtt.sock", t->b.dir) < (int)sizeof(uri));
        struct peer *sub = connect_peer(t, "unix-sub", uri, MQL_V5, "unix-sub");
        struct peer *pub = connect_peer(t, "tcp-pub", t->uri, MQL_V311, "unix-pub");
        assert_string_equal(mql_client_get_uri(sub->c), uri);
        subscribe1(sub, "unix/#", 1);

        struct pub_result *res;
        assert_true(publish(pub, "unix/x", "over a socket", 13, 1, false, NULL, &res) > 0);
        WAIT_FOR(t, res->done && sub->n_rx >= 1, DELIVER_MS);
        assert_int_equal(sub->rx[0].len, 13);
        assert_memory_equal(sub->rx[0].payload, "over a socket", 13);

        /* And the other way. */
        struct peer *back = connect_peer(t, "unix-pub", uri, MQL_V311, "unix-pub2");
        subscribe1(pub, "back", 0);
        assert_int_equal(publish(back, "back", "b", 1, 0, false, NULL, &res), 0);
        WAIT_FOR(t, pub->n_rx >= 1, DELIVER_MS);
}

/* ----------------------------------------------- broker crash and restart */

/* At most this many uncompleted at the publisher. MQTT 3.1.1 has no
 * Receive Maximum, and mosquitto answers a QoS 1/2 PUBLISH beyond its
 * max_inflight_messages (20) with "Quota exceeded" (0x97, in its log),
 * which a 3.1.1 PUBACK or PUBREC cannot carry: the message is dropped and
 * the publisher's completion says success. So this 3.1.1 publisher keeps
 * within 20 (the session itself puts no cap on 3.1.1 in-flight messages). */
enum {
        KILL_N = 400,
        KILL_WINDOW = 20
};

static void count_numbered(struct peer *p, const struct mql_message *msg) {
        struct test_ctx *t = p->t;
        char buf[16];
        unsigned n;

        assert_true(msg->payload.len > 0 && msg->payload.len < sizeof(buf));
        memcpy(buf, msg->payload.ptr, msg->payload.len);
        buf[msg->payload.len] = '\0';
        assert_int_equal(sscanf(buf, "%u", &n), 1);
        assert_true(n < MAX_COUNTS);
        /* Even numbers go at QoS 1, odd ones at QoS 2. */
        assert_int_equal(msg->qos, n % 2 ? 2 : 1);
        if (t->counts[n]++ == 0)
                t->distinct++;
}

static void on_numbered_published(struct mql_session *s, uint16_t packet_id, int reason,
                                  void *userdata) {
        struct pub_result *r = userdata;

        struct peer *p = mql_client_get_userdata(mql_client_from_session(s));

        on_published(s, packet_id, reason, userdata);
        if (r->reason == 0)
                p->t->completed++;
}

static void publish_numbered(struct peer *pub, const char *prefix, unsigned n) {
        char topic[32], payload[16];
        int len = snprintf(payload, sizeof(payload), "%u", n);
        uint8_t qos = n % 2 ? 2 : 1;
        struct mql_message msg = { .topic = mql_str_from(topic),
                                   .payload = { (const uint8_t *)payload, (size_t)len },
                                   .qos = qos };

        snprintf(topic, sizeof(topic), "%s/%u", prefix, qos);
        msg.topic = mql_str_from(topic);
        int r = mql_client_publish(pub->c, &msg, on_numbered_published, pub_slot(pub->t));
        if (r < 0)
                fail_msg("publish %u: %s", n, mql_strerror(r));
}

/* Publishes the next numbers while fewer than KILL_WINDOW are uncompleted.
 * True, so that it can lead a wait's condition. */
static bool top_up(struct peer *pub, unsigned *next) {
        while (*next < KILL_N && *next - pub->t->completed < KILL_WINDOW)
                publish_numbered(pub, "kill", (*next)++);
        return true;
}

/* Whether mosquitto has written its persistence file after `since`
 * (CLOCK_REALTIME, as file times are). */
static bool saved_after(const struct test_broker *b, const struct timespec *since) {
        char path[PATH_MAX + 16];
        struct stat st;

        snprintf(path, sizeof(path), "%s/mosquitto.db", b->dir);
        if (stat(path, &st) < 0)
                return false;
        return st.st_mtim.tv_sec > since->tv_sec ||
               (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec > since->tv_nsec);
}

/*
 * SIGKILL the broker with QoS 1 and 2 messages in flight both ways, start
 * it again from its persistence file: after the clients resume (3.1.1
 * publisher, v5 subscriber, persistent sessions, fixed ids), every QoS 1
 * message has arrived at least once and every QoS 2 message exactly once
 * (MQTT 4.3.3: the publisher re-sends PUBLISH with DUP or PUBREL as its
 * state says, MQTT-4.4.0-1; the subscriber keeps the packet ids it has not
 * been released from, MQTT-4.3.3-10/11).
 *
 * mosquitto persists asynchronously (autosave): killed at an arbitrary
 * instant, it may have acknowledged what it had not saved yet, and then
 * loses or repeats messages whatever the client does. So the kill comes
 * at a moment when the broker's saved state covers all it has sent: the
 * test stops driving its clients (their last packets stay unacknowledged
 * in their sockets; dozens of messages are in flight or queued on each
 * side), waits until the broker has processed them and written its file,
 * and only then kills it.
 */
static void test_broker_kill_restart(void **state) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;
        const char *uris[1];

        start_broker(t, "persistence true\nautosave_interval 1\n");
        uris[0] = t->uri;

        struct peer *sub = peer_new(t, "sub");
        peer_config(sub, &cfg, uris, 1, MQL_V5, "kill-sub");
        cfg.session.clean_start = false;
        cfg.session.session_expiry = 3600;
        cfg.reconnect_max_ms = 300;
        peer_start(sub, &cfg);
        sub->keep_none = true;
        sub->hook = count_numbered;

        struct peer *pub = peer_new(t, "pub");
        peer_config(pub, &cfg, uris, 1, MQL_V311, "kill-pub");
        cfg.session.clean_start = false;
        cfg.reconnect_max_ms = 300;
        peer_start(pub, &cfg);
        WAIT_FOR(t, sub->state == MQL_CLIENT_CONNECTED && pub->state == MQL_CLIENT_CONNECTED,
                 CONNECT_MS);
        subscribe1(sub, "kill/+", 2);

        /* Publish with at most KILL_WINDOW uncompleted, until a third has
         * arrived. */
        unsigned next = 0;
        WAIT_FOR(t, top_up(pub, &next) && t->distinct >= KILL_N / 3, DELIVER_MS * 2);
        top_up(pub, &next);

        struct mql_session_stats ps;
        mql_session_get_stats(mql_client_get_session(pub->c), &ps);
        fprintf(stderr,
                "# frozen: sent %u, completed %u, arrived %u; publisher in flight %zu"
                " queued %zu\n",
                next, t->completed, t->distinct, ps.inflight, ps.queued);
        assert_true(ps.inflight + ps.queued > 0);

        /* Frozen: wait for a save that began well after the broker had
         * dealt with all the clients sent. */
        struct timespec frozen;
        clock_gettime(CLOCK_REALTIME, &frozen);
        frozen.tv_nsec += 500 * 1000000L;
        if (frozen.tv_nsec >= 1000000000L) {
                frozen.tv_sec++;
                frozen.tv_nsec -= 1000000000L;
        }
        int64_t give_up = time(NULL) + 8;
        while (!saved_after(&t->b, &frozen)) {
                if (time(NULL) > give_up) {
                        dump_diag(t);
                        fail_msg("mosquitto did not save its state");
                }
                poll(NULL, 0, 20);
        }
        assert_int_equal(test_broker_kill(&t->b), 0);

        /* The clients notice; the publisher keeps publishing into its
         * offline queue. */
        WAIT_FOR(t,
                 top_up(pub, &next) && sub->state != MQL_CLIENT_CONNECTED &&
                         pub->state != MQL_CLIENT_CONNECTED,
                 CONNECT_MS);
        int r = test_broker_restart(&t->b);
        if (r < 0) {
                dump_diag(t);
                fail_msg("restart: %s", strerror(-r));
        }

        if (!RUN_UNTIL(t, top_up(pub, &next) && t->completed == KILL_N && t->distinct == KILL_N,
                       20000)) {
                dump_diag(t);
                mql_session_get_stats(mql_client_get_session(pub->c), &ps);
                fprintf(stderr,
                        "# sent %u, completed %u, arrived %u; publisher in flight %zu"
                        " queued %zu\n# missing:",
                        next, t->completed, t->distinct, ps.inflight, ps.queued);
                for (unsigned n = 0; n < KILL_N; n++)
                        if (!t->counts[n])
                                fprintf(stderr, " %u", n);
                fprintf(stderr, "\n# not completed:");
                for (size_t i = 0; i < t->n_pubs; i++)
                        if (!t->pubs[i].done)
                                fprintf(stderr, " %zu", i);
                fprintf(stderr, "\n");
                fail_msg("not every message completed and arrived");
        }
        /* Late duplicates would come now. */
        run_for(t, 300);

        /* The premise: the broker kept both sessions. */
        assert_true(sub->n_connected >= 2 && pub->n_connected >= 2);
        assert_true(sub->session_present);

        unsigned dups1 = 0;
        for (unsigned n = 0; n < KILL_N; n++) {
                if (t->counts[n] == 0)
                        fail_msg("message %u (QoS %u) never arrived", n, n % 2 ? 2 : 1);
                if (n % 2 && t->counts[n] != 1)
                        fail_msg("QoS 2 message %u arrived %u times", n, t->counts[n]);
                if (!(n % 2))
                        dups1 += t->counts[n] - 1;
        }
        for (size_t i = 0; i < t->n_pubs; i++)
                assert_int_equal(t->pubs[i].reason, 0);
        fprintf(stderr, "# %u QoS 1 duplicates (allowed)\n", dups1);
}

/* ------------------------------------------------------- backoff, offline */

static int tick(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct test_ctx *t = userdata;
        char payload[16];
        int len = snprintf(payload, sizeof(payload), "%u", t->ticks++);

        if (t->ticker->state == MQL_CLIENT_CONNECTED)
                (void)publish(t->ticker, "alive", payload, (size_t)len, 1, false, NULL, NULL);
        mql_loop_source_set_time(src, usec + 20000);
        return 0;
}

static size_t count_state(const struct peer *p, enum mql_client_state s) {
        size_t n = 0;
        for (size_t i = 0; i < p->n_tr; i++)
                n += p->tr[i].state == s;
        return n;
}

/*
 * A broker that refuses connections: the client retries with exponential
 * backoff and full jitter — the k-th delay is at most
 * min(reconnect_max_ms, reconnect_min_ms × 2^k) — and reports each failure
 * as -ECONNREFUSED. Meanwhile another client on the same loop keeps
 * publishing to itself every 20 ms without a stall.
 */
static void test_unreachable_backoff(void **state) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;
        char closed[64];
        const char *uris[] = { closed };
        enum {
                MIN_MS = 50,
                MAX_MS = 400,
                SLACK_MS = 100,
                ATTEMPTS = 9
        };

        start_broker(t, NULL);
        hold_closed_port(t);
        snprintf(closed, sizeof(closed), "mqtt://127.0.0.1:%u", t->closed_port);

        struct peer *alive = connect_peer(t, "alive", t->uri, MQL_V5, "backoff-alive");
        subscribe1(alive, "alive", 1);
        t->ticker = alive;
        assert_int_equal(mql_loop_add_time(t->loop, &t->timer, mql_loop_now(t->loop), tick, t), 0);

        struct peer *lost = peer_new(t, "lost");
        peer_config(lost, &cfg, uris, 1, MQL_V5, "backoff-lost");
        cfg.reconnect_min_ms = MIN_MS;
        cfg.reconnect_max_ms = MAX_MS;
        peer_start(lost, &cfg);
        mql_usec started = mql_loop_now(t->loop);
        WAIT_FOR(t, count_state(lost, MQL_CLIENT_WAITING) >= ATTEMPTS, 10000);
        mql_usec elapsed = mql_loop_now(t->loop) - started;

        /* The gaps: from entering WAITING to the next CONNECTING. */
        unsigned gaps[ATTEMPTS], n = 0, max_late = 0;
        for (size_t i = 0; i + 1 < lost->n_tr && n < ATTEMPTS - 1; i++) {
                if (lost->tr[i].state != MQL_CLIENT_WAITING)
                        continue;
                assert_int_equal(lost->tr[i].error, -ECONNREFUSED);
                assert_int_equal(lost->tr[i + 1].state, MQL_CLIENT_CONNECTING);
                gaps[n] = (unsigned)((lost->tr[i + 1].at - lost->tr[i].at) / 1000);
                unsigned bound = MIN_MS << (n < 16 ? n : 16);
                if (bound > MAX_MS)
                        bound = MAX_MS;
                fprintf(stderr, "# attempt %u: waited %u ms (bound %u)\n", n, gaps[n], bound);
                if (gaps[n] > bound + SLACK_MS) {
                        dump_diag(t);
                        fail_msg("delay %u: %u ms, over its bound %u ms", n, gaps[n], bound);
                }
                if (n >= 4 && gaps[n] > max_late)
                        max_late = gaps[n];
                n++;
        }
        assert_int_equal(n, ATTEMPTS - 1);
        assert_int_equal(lost->n_connected, 0);
        /* The delays grow: later ones may exceed the first bound (that four
         * draws in [0, 400] all land below 50 has odds of 1 in 4096). */
        if (max_late <= MIN_MS)
                fail_msg("delays do not grow: attempts 4-7 all waited <= %u ms", MIN_MS);

        /* The other client never stalled. */
        assert_int_equal(alive->n_connected, 1);
        assert_int_equal(alive->state, MQL_CLIENT_CONNECTED);
        fprintf(stderr, "# alive: %zu messages in %.2f s, longest gap %.1f ms\n", alive->n_rx,
                (double)elapsed / 1e6, (double)alive->max_rx_gap / 1e3);
        assert_true(alive->n_rx >= elapsed / 20000 / 2);
        assert_true(alive->max_rx_gap < 250000);
}

static bool all_done(struct pub_result *const *res, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!res[i]->done)
                        return false;
        return true;
}

/*
 * Publishing while the broker is down: the messages wait in the offline
 * queue and go out, in order, once it is back (the subscriber's
 * persistent session holds the subscription through a clean broker
 * restart). Every QoS 1 message arrives, every QoS 2 one exactly once.
 */
static void test_offline_queue(void **state) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;
        const char *uris[1];
        enum {
                N = 20
        };

        start_broker(t, "persistence true\n");
        uris[0] = t->uri;
        struct peer *sub = peer_new(t, "sub");
        peer_config(sub, &cfg, uris, 1, MQL_V5, "offline-sub");
        cfg.session.clean_start = false;
        cfg.session.session_expiry = 600;
        peer_start(sub, &cfg);
        struct peer *pub = peer_new(t, "pub");
        peer_config(pub, &cfg, uris, 1, MQL_V311, "offline-pub");
        peer_start(pub, &cfg);
        WAIT_FOR(t, sub->state == MQL_CLIENT_CONNECTED && pub->state == MQL_CLIENT_CONNECTED,
                 CONNECT_MS);
        subscribe1(sub, "off/+", 2);

        assert_int_equal(test_broker_term(&t->b), 0);
        WAIT_FOR(t, sub->state == MQL_CLIENT_WAITING && pub->state == MQL_CLIENT_WAITING,
                 CONNECT_MS);

        struct pub_result *res[N];
        for (unsigned i = 0; i < N; i++) {
                char topic[16], payload[16];
                uint8_t qos = 1 + i % 2;
                snprintf(topic, sizeof(topic), "off/%u", qos);
                int len = snprintf(payload, sizeof(payload), "%u", i);
                int r = publish(pub, topic, payload, (size_t)len, qos, false, NULL, &res[i]);
                assert_int_equal(r, 0); /* queued: no packet id yet */
        }
        struct mql_session_stats st;
        mql_session_get_stats(mql_client_get_session(pub->c), &st);
        assert_int_equal(st.queued, N);
        run_for(t, 200);
        for (unsigned i = 0; i < N; i++)
                assert_false(res[i]->done);

        int r = test_broker_restart(&t->b);
        assert_int_equal(r, 0);
        WAIT_FOR(t, all_done(res, N) && sub->n_rx >= N, DELIVER_MS * 2);
        run_for(t, 200);
        assert_int_equal(sub->n_rx, N);
        for (unsigned i = 0; i < N; i++)
                assert_int_equal(res[i]->reason, 0);

        /* In order per topic and QoS (MQTT 4.6). */
        int last[3] = { -1, -1, -1 };
        for (size_t i = 0; i < sub->n_rx; i++) {
                struct rx *m = &sub->rx[i];
                unsigned n = (unsigned)atoi((const char *)m->payload);
                assert_int_equal(m->qos, 1 + n % 2);
                assert_true((int)n > last[m->qos]);
                last[m->qos] = (int)n;
        }
        mql_session_get_stats(mql_client_get_session(pub->c), &st);
        assert_int_equal(st.queued, 0);
        assert_int_equal(st.inflight, 0);
}

/* uris = { a refused port, the broker }: the client moves on to the second
 * and connects there. */
static void test_failover(void **state) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;
        char closed[64];

        start_broker(t, NULL);
        hold_closed_port(t);
        snprintf(closed, sizeof(closed), "mqtt://127.0.0.1:%u", t->closed_port);
        const char *uris[] = { closed, t->uri };

        struct peer *p = peer_new(t, "failover");
        peer_config(p, &cfg, uris, 2, MQL_V5, "failover");
        peer_start(p, &cfg);
        WAIT_FOR(t, p->state == MQL_CLIENT_CONNECTED, CONNECT_MS);
        assert_string_equal(mql_client_get_uri(p->c), t->uri);

        /* The connection works. */
        subscribe1(p, "fo", 1);
        struct pub_result *res;
        assert_true(publish(p, "fo", "x", 1, 1, false, NULL, &res) > 0);
        WAIT_FOR(t, res->done && p->n_rx >= 1, DELIVER_MS);
}

/* ------------------------------------------------ calls from callbacks */

static void disconnect_when_published(struct mql_session *s, uint16_t packet_id, int reason,
                                      void *userdata) {
        on_published(s, packet_id, reason, userdata);
        assert_int_equal(mql_client_disconnect(mql_client_from_session(s), 0), 0);
}

/*
 * pub(1)'s pattern: publish before start (offline queue), and disconnect
 * from the completion callback. The header lets callbacks call any client
 * function but free, and promises that disconnect sends DISCONNECT after
 * what is queued. So the message is delivered, the will is not published
 * (a clean DISCONNECT discards it, MQTT-3.1.2-10), and the client ends
 * STOPPED, reporting nothing after that. For QoS 0 the callback comes
 * while the CONNACK is being handled, before on_state(CONNECTED).
 */
static void disconnect_in_publish_callback(void **state, uint8_t qos) {
        struct test_ctx *t = *state;
        struct mql_client_config cfg;
        const char *uris[1];
        const struct mql_will will = { .topic = mql_str_from("cb/will"),
                                       .payload = { (const uint8_t *)"unclean", 7 } };

        start_broker(t, NULL);
        uris[0] = t->uri;
        struct peer *sub = connect_peer(t, "sub", t->uri, MQL_V5, "cb-sub");
        subscribe1(sub, "cb/#", 2);

        struct peer *pub = peer_new(t, "pub");
        peer_config(pub, &cfg, uris, 1, MQL_V5, "cb-pub");
        cfg.session.will = &will;
        cfg.no_reconnect = true;
        assert_int_equal(mql_client_new(&cfg, &pub->c), 0);
        assert_int_equal(mql_client_attach_loop(pub->c, t->loop), 0);
        struct mql_message msg = { .topic = mql_str_from("cb/msg"),
                                   .payload = { (const uint8_t *)"last words", 10 },
                                   .qos = qos };
        struct pub_result *res = pub_slot(t);
        assert_int_equal(mql_client_publish(pub->c, &msg, disconnect_when_published, res), 0);
        assert_int_equal(mql_client_start(pub->c), 0);

        WAIT_FOR(t, res->done && count_state(pub, MQL_CLIENT_STOPPED) > 0, CONNECT_MS);
        assert_int_equal(res->reason, 0);
        WAIT_FOR(t, sub->n_rx >= 1, DELIVER_MS);
        run_for(t, 200);
        for (size_t i = 0; i < sub->n_rx; i++)
                if (strcmp(sub->rx[i].topic, "cb/will") == 0) {
                        dump_diag(t);
                        fail_msg("the will was published: the connection closed without "
                                 "DISCONNECT");
                }
        assert_int_equal(sub->n_rx, 1);
        assert_string_equal(sub->rx[0].topic, "cb/msg");
        /* STOPPED is the last word. */
        if (pub->tr[pub->n_tr - 1].state != MQL_CLIENT_STOPPED ||
            mql_client_get_state(pub->c) != MQL_CLIENT_STOPPED) {
                dump_diag(t);
                fail_msg("a state reported after STOPPED");
        }
        assert_int_equal(pub->tr[pub->n_tr - 1].error, 0);
}

static void test_disconnect_in_callback_qos0(void **state) {
        disconnect_in_publish_callback(state, 0);
}
static void test_disconnect_in_callback_qos1(void **state) {
        disconnect_in_publish_callback(state, 1);
}

int main(void) {
        verbose = getenv("MQL_TEST_VERBOSE") != NULL;
        mql_log_set(log_cb, verbose ? MQL_LOG_DEBUG : MQL_LOG_WARNING, NULL);
        /* MQL_TEST_FILTER=test_tls runs the tests matching a glob. */
        if (getenv("MQL_TEST_FILTER"))
                cmocka_set_test_filter(getenv("MQL_TEST_FILTER"));

        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_roundtrip_v311_qos0, setup, teardown),
                cmocka_unit_test_setup_teardown(test_roundtrip_v311_qos1, setup, teardown),
                cmocka_unit_test_setup_teardown(test_roundtrip_v311_qos2, setup, teardown),
                cmocka_unit_test_setup_teardown(test_roundtrip_v5_qos0, setup, teardown),
                cmocka_unit_test_setup_teardown(test_roundtrip_v5_qos1, setup, teardown),
                cmocka_unit_test_setup_teardown(test_roundtrip_v5_qos2, setup, teardown),
                cmocka_unit_test_setup_teardown(test_v5_properties, setup, teardown),
                cmocka_unit_test_setup_teardown(test_will_abrupt_v5, setup, teardown),
                cmocka_unit_test_setup_teardown(test_will_v311, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retained, setup, teardown),
                cmocka_unit_test_setup_teardown(test_big_payload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_subscriptions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_password, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unix_socket, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broker_kill_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreachable_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_offline_queue, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disconnect_in_callback_qos0, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disconnect_in_callback_qos1, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

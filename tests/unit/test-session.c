/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the sans-IO session engine against its contract,
 * lib/include/mqlink/session.h.
 *
 * No socket and no clock: the test is the broker. It feeds bytes with
 * mql_session_receive(), checks what mql_session_output() holds, and moves a
 * fake `now` in milliseconds. Every byte the broker sends and every byte the
 * session must write is spelled out by hand from the MQTT 3.1.1 and 5.0
 * specifications, never produced by our encoder: a test that shares the
 * encoder's mistakes proves nothing. Where exact bytes would pin down a choice
 * the specification leaves open (the order of CONNECT properties, which packet
 * identifier or topic alias number is picked), the packet is decoded instead,
 * or the free bytes are read back and every other byte is still compared.
 */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqlink/packet.h"
#include "mqlink/session.h"
#include "util/macro.h"

#define HI(x) ((uint8_t)(((unsigned)(x)) >> 8))
#define LO(x) ((uint8_t)(((unsigned)(x)) & 0xffu))
/* A byte array and its length, as two arguments. */
#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

#define MAX_EVENTS 128
#define MAX_COPIES 256

/* ------------------------------------------------------------------ harness */

/* An event as the callback saw it, with copies of what its views held. */
struct rec_event {
        enum mql_event_type type;
        char *topic;
        uint8_t *payload;
        size_t payload_len;
        uint8_t qos;
        bool retain;
        bool dup;
        uint16_t packet_id;
        uint8_t reason; /* CONNACK, DISCONNECT or AUTH reason code */
        bool session_present;
        int error;          /* MQL_EVENT_CLOSE */
        char *content_type; /* MQTT 5 PUBLISH Content Type, if any */
        uint64_t at;        /* the fake clock when it was raised */
};

struct sub_cb;

struct harness {
        struct mql_session *s;
        enum mql_version version;
        uint64_t now;
        struct rec_event ev[MAX_EVENTS];
        size_t n_ev;
        /* Packets taken from the output by drain_decode(): decoded views point
         * into these, so they live as long as the harness. */
        uint8_t *copies[MAX_COPIES];
        size_t n_copies;
        /* When set, the MQL_EVENT_CONNECTED handler subscribes to it. */
        const struct mql_subscription *sub_on_connect;
        struct sub_cb *sub_on_connect_cb;
        int sub_on_connect_ret;
        /* When set, a MESSAGE event calls mql_session_disconnect(). */
        bool disconnect_on_message;
};

/* The outcome of one publish. `seq` orders completions across publishes. */
struct pub_cb {
        int calls;
        uint16_t id;
        int reason;
        unsigned seq;
};

struct sub_cb {
        int calls;
        uint8_t reasons[16];
        size_t n;
        bool null_reasons;
        int error;
};

static unsigned cb_seq;

/* Harnesses not freed yet: a failed assertion leaves its test early, the
 * teardown frees them so that ASan reports only real leaks. Their callbacks
 * are muted then: the pub_cb/sub_cb they point to lived on a stack frame
 * that is gone. */
static struct harness *live[16];
static size_t n_live;
static bool tearing_down;

static char *copy_str(const char *p, size_t n) {
        char *r = malloc(n + 1);
        assert_non_null(r);
        if (n > 0)
                memcpy(r, p, n);
        r[n] = '\0';
        return r;
}

static void on_publish(struct mql_session *s, uint16_t packet_id, int reason, void *userdata) {
        struct pub_cb *c = userdata;

        if (tearing_down)
                return;
        assert_non_null(s);
        c->calls++;
        c->id = packet_id;
        c->reason = reason;
        c->seq = ++cb_seq;
}

static void on_subscribe(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                         void *userdata) {
        struct sub_cb *c = userdata;

        if (tearing_down)
                return;
        assert_non_null(s);
        c->calls++;
        c->n = n;
        c->error = error;
        c->null_reasons = reasons == NULL;
        if (reasons) {
                assert_true(n <= sizeof(c->reasons));
                memcpy(c->reasons, reasons, n);
        }
}

static void on_event(struct mql_session *s, const struct mql_event *ev, void *userdata) {
        struct harness *h = userdata;
        struct rec_event *r;
        struct mql_prop p;

        if (tearing_down)
                return;
        if (h->s)
                assert_ptr_equal(s, h->s);
        if (ev->type == MQL_EVENT_MESSAGE && h->disconnect_on_message)
                assert_int_equal(mql_session_disconnect(s, 0, NULL), 0);
        assert_true(h->n_ev < MAX_EVENTS);
        r = &h->ev[h->n_ev++];
        memset(r, 0, sizeof(*r));
        r->type = ev->type;
        r->at = h->now;
        switch (ev->type) {
        case MQL_EVENT_CONNECTED:
        case MQL_EVENT_CONNECT_REFUSED:
                r->reason = ev->connack.reason_code;
                r->session_present = ev->connack.session_present;
                break;
        case MQL_EVENT_MESSAGE:
                r->topic = copy_str(ev->message.topic.ptr, ev->message.topic.len);
                r->payload = malloc(ev->message.payload.len + 1);
                assert_non_null(r->payload);
                if (ev->message.payload.len > 0)
                        memcpy(r->payload, ev->message.payload.ptr, ev->message.payload.len);
                r->payload_len = ev->message.payload.len;
                r->qos = ev->message.qos;
                r->retain = ev->message.retain;
                r->dup = ev->message.dup;
                r->packet_id = ev->message.packet_id;
                if (mql_props_find(&ev->message.props, MQL_PROP_CONTENT_TYPE, &p) == 1)
                        r->content_type = copy_str(p.str.ptr, p.str.len);
                break;
        case MQL_EVENT_DISCONNECT:
                r->reason = ev->disconnect.reason_code;
                break;
        case MQL_EVENT_AUTH:
                r->reason = ev->auth.reason_code;
                break;
        case MQL_EVENT_CLOSE:
                r->error = ev->error;
                break;
        }

        /* The header allows any session call but free() from a callback. */
        if (ev->type == MQL_EVENT_CONNECTED && h->sub_on_connect)
                h->sub_on_connect_ret = mql_session_subscribe(s, h->sub_on_connect, 1, NULL,
                                                              on_subscribe, h->sub_on_connect_cb);
}

static struct mql_session_config base_config(enum mql_version v) {
        return (struct mql_session_config){
                .version = v,
                .client_id = "c1",
                .clean_start = true,
        };
}

static struct harness *h_new(struct mql_session_config cfg) {
        struct harness *h = calloc(1, sizeof(*h));

        assert_non_null(h);
        h->version = cfg.version ? cfg.version : MQL_V5;
        h->now = 1000;
        cfg.on_event = on_event;
        cfg.userdata = h;
        assert_true(n_live < ELEMENTSOF(live));
        live[n_live++] = h;
        assert_int_equal(mql_session_new(&cfg, &h->s), 0);
        assert_non_null(h->s);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTED);
        return h;
}

/* Frees the session (its callbacks still see the harness), then the rest. */
static void h_free_session(struct harness *h) {
        struct mql_session *s = h->s;

        assert_null(mql_session_free(s));
        h->s = NULL;
}

static void h_free(struct harness *h) {
        for (size_t i = 0; i < n_live; i++)
                if (live[i] == h) {
                        live[i] = live[--n_live];
                        break;
                }
        if (h->s)
                h_free_session(h);
        for (size_t i = 0; i < h->n_ev; i++) {
                free(h->ev[i].topic);
                free(h->ev[i].payload);
                free(h->ev[i].content_type);
        }
        for (size_t i = 0; i < h->n_copies; i++)
                free(h->copies[i]);
        free(h);
}

static size_t count_events(const struct harness *h, enum mql_event_type type) {
        size_t n = 0;

        for (size_t i = 0; i < h->n_ev; i++)
                n += h->ev[i].type == type;
        return n;
}

static const struct rec_event *last_event(const struct harness *h) {
        assert_true(h->n_ev > 0);
        return &h->ev[h->n_ev - 1];
}

static void assert_message(const struct rec_event *e, const char *topic, const char *payload,
                           uint8_t qos) {
        assert_int_equal(e->type, MQL_EVENT_MESSAGE);
        assert_string_equal(e->topic, topic);
        assert_int_equal(e->payload_len, strlen(payload));
        assert_memory_equal(e->payload, payload, strlen(payload));
        assert_int_equal(e->qos, qos);
}

static int broker_send(struct harness *h, const uint8_t *bytes, size_t len) {
        return mql_session_receive(h->s, bytes, len, h->now);
}

#define broker_send_ok(h, ...) assert_int_equal(broker_send(h, __VA_ARGS__), 0)

static size_t out_len(struct harness *h) {
        const uint8_t *p = NULL;
        size_t n = 0;

        mql_session_output(h->s, &p, &n);
        if (n > 0)
                assert_non_null(p);
        return n;
}

static void consume(struct harness *h, size_t n) {
        mql_session_output_consumed(h->s, n, h->now);
}

static void dump(const char *what, const uint8_t *p, size_t n) {
        char line[3 * 64 + 8];
        size_t k = 0;

        print_error("%s (%zu bytes):\n", what, n);
        for (size_t i = 0; i < n; i++) {
                k += (size_t)snprintf(line + k, sizeof(line) - k, " %02X", p[i]);
                if (k >= 3 * 32 || i + 1 == n) {
                        print_error("  %s\n", line);
                        k = 0;
                }
        }
}

/* The whole output is exactly these bytes; they are then consumed. */
static void expect_output_at(struct harness *h, const char *file, int line, const uint8_t *bytes,
                             size_t len) {
        const uint8_t *p = NULL;
        size_t n = 0;

        mql_session_output(h->s, &p, &n);
        if (n != len || (len > 0 && memcmp(p, bytes, len) != 0)) {
                print_error("%s:%d: output differs\n", file, line);
                dump("expected", bytes, len);
                dump("got", p, n);
                _fail(file, line);
        }
        if (len > 0)
                consume(h, len);
}

#define expect_output(h, ...) expect_output_at(h, __FILE__, __LINE__, __VA_ARGS__)
#define expect_no_output(h) assert_int_equal(out_len(h), 0)

/* The length of the next whole packet waiting in the output. */
static size_t next_packet_at(struct harness *h, const char *file, int line, const uint8_t **ret_p) {
        const uint8_t *p = NULL;
        size_t n = 0;
        ssize_t plen;

        mql_session_output(h->s, &p, &n);
        if (n == 0) {
                print_error("%s:%d: expected a packet, the output is empty\n", file, line);
                _fail(file, line);
        }
        plen = mql_packet_frame(p, n);
        if (plen <= 0 || (size_t)plen > n) {
                print_error("%s:%d: output does not start with a whole packet (%zd)\n", file, line,
                            plen);
                dump("output", p, n);
                _fail(file, line);
        }
        *ret_p = p;
        return (size_t)plen;
}

/*
 * The next packet of the output is exactly these bytes, except the two at
 * `u16_off` (when >= 0): a packet identifier or topic alias the session was
 * free to choose. They must be nonzero (MQTT-2.2.1-3, MQTT-3.3.2-8) and are
 * returned. The packet is consumed.
 */
static uint16_t expect_packet_at(struct harness *h, const char *file, int line,
                                 const uint8_t *bytes, size_t len, int u16_off) {
        const uint8_t *p;
        size_t plen = next_packet_at(h, file, line, &p);
        uint16_t v = 0;
        uint8_t *want = malloc(len ? len : 1);

        assert_non_null(want);
        memcpy(want, bytes, len);
        if (u16_off >= 0 && (size_t)u16_off + 2 <= plen) {
                v = (uint16_t)(p[u16_off] << 8 | p[u16_off + 1]);
                want[u16_off] = p[u16_off];
                want[u16_off + 1] = p[u16_off + 1];
        }
        if (plen != len || memcmp(p, want, len) != 0 || (u16_off >= 0 && v == 0)) {
                print_error("%s:%d: next packet differs\n", file, line);
                dump("expected", want, len);
                dump("got", p, plen);
                free(want);
                _fail(file, line);
        }
        free(want);
        consume(h, plen);
        return v;
}

#define expect_packet(h, ...) expect_packet_at(h, __FILE__, __LINE__, __VA_ARGS__, -1)
#define expect_packet_u16(h, ...) expect_packet_at(h, __FILE__, __LINE__, __VA_ARGS__)

/* Takes the next packet from the output and decodes it; false when the
 * output is empty. Views in *pkt stay valid until h_free(). */
static bool drain_decode_at(struct harness *h, const char *file, int line, struct mql_packet *pkt) {
        const uint8_t *p;
        size_t plen;
        uint8_t *copy;
        ssize_t r;

        if (out_len(h) == 0)
                return false;
        plen = next_packet_at(h, file, line, &p);
        copy = malloc(plen);
        assert_non_null(copy);
        memcpy(copy, p, plen);
        assert_true(h->n_copies < MAX_COPIES);
        h->copies[h->n_copies++] = copy;
        r = mql_packet_decode(copy, plen, h->version, pkt);
        if (r != (ssize_t)plen) {
                print_error("%s:%d: output packet does not decode (%zd)\n", file, line, r);
                dump("packet", copy, plen);
                _fail(file, line);
        }
        consume(h, plen);
        return true;
}

#define drain_decode(h, pkt) drain_decode_at(h, __FILE__, __LINE__, pkt)

static bool str_is(struct mql_str s, const char *want) {
        return s.len == strlen(want) && (s.len == 0 || memcmp(s.ptr, want, s.len) == 0);
}

static bool bin_is(struct mql_bin b, const char *want) {
        return b.len == strlen(want) && (b.len == 0 || memcmp(b.ptr, want, b.len) == 0);
}

/* Decodes the next output packet, which must be a PUBLISH. */
static void next_publish(struct harness *h, struct mql_publish *ret) {
        struct mql_packet pkt;

        assert_true(drain_decode(h, &pkt));
        assert_int_equal(pkt.type, MQL_PUBLISH);
        *ret = pkt.publish;
}

static const uint8_t connack_v311[] = { 0x20, 0x02, 0x00, 0x00 };
static const uint8_t connack_v5[] = { 0x20, 0x03, 0x00, 0x00, 0x00 };

/* connection_made, the CONNECT (alone in the output), then the broker's
 * CONNACK; it must give MQL_EVENT_CONNECTED. */
static void h_connect_with(struct harness *h, const uint8_t *connack, size_t len) {
        struct mql_packet pkt;
        size_t before;

        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTING);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(pkt.type, MQL_CONNECT);
        assert_int_equal(pkt.connect.version, h->version);
        expect_no_output(h);
        before = h->n_ev;
        broker_send_ok(h, connack, len);
        assert_true(h->n_ev > before);
        assert_int_equal(h->ev[before].type, MQL_EVENT_CONNECTED);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);
}

static void h_connect(struct harness *h) {
        if (h->version == MQL_V311)
                h_connect_with(h, connack_v311, sizeof(connack_v311));
        else
                h_connect_with(h, connack_v5, sizeof(connack_v5));
}

static struct harness *h_connected(enum mql_version v) {
        struct harness *h = h_new(base_config(v));

        h_connect(h);
        return h;
}

static int pub(struct harness *h, const char *topic, const char *payload, uint8_t qos, bool retain,
               struct pub_cb *cb) {
        struct mql_message m = {
                .topic = mql_str_from(topic),
                .payload = { (const uint8_t *)payload, strlen(payload) },
                .qos = qos,
                .retain = retain,
        };

        return mql_session_publish(h->s, &m, cb ? on_publish : NULL, cb);
}

/* A PUBLISH as the spec lays it out (§3.3): fixed header, topic, packet id
 * for QoS > 0, an empty MQTT 5 property block, payload. Written by hand here
 * for the tests that need many of them; Remaining Length < 128. */
static size_t make_publish(uint8_t *buf, enum mql_version v, uint8_t flags, const char *topic,
                           uint16_t id, const char *payload) {
        size_t tl = strlen(topic), pl = strlen(payload), k = 0;
        size_t rem = 2 + tl + (((flags >> 1) & 3) ? 2 : 0) + (v == MQL_V5 ? 1 : 0) + pl;

        assert_true(rem < 128);
        buf[k++] = (uint8_t)(0x30 | flags);
        buf[k++] = (uint8_t)rem;
        buf[k++] = HI(tl);
        buf[k++] = LO(tl);
        memcpy(buf + k, topic, tl);
        k += tl;
        if ((flags >> 1) & 3) {
                buf[k++] = HI(id);
                buf[k++] = LO(id);
        }
        if (v == MQL_V5)
                buf[k++] = 0x00;
        memcpy(buf + k, payload, pl);
        return k + pl;
}

/* A QoS 0 PUBLISH to "t/a" of exactly `total` bytes (payload of 'p'). */
static size_t make_sized_publish(uint8_t *buf, enum mql_version v, size_t total) {
        size_t hdr = 2 + 5 + (v == MQL_V5 ? 1 : 0);

        assert_true(total >= hdr && total - 2 < 128);
        buf[0] = 0x30;
        buf[1] = (uint8_t)(total - 2);
        memcpy(buf + 2, "\x00\x03t/a", 5);
        if (v == MQL_V5)
                buf[7] = 0x00;
        memset(buf + hdr, 'p', total - hdr);
        return total;
}

static void tick_at(struct harness *h, uint64_t t) {
        h->now = t;
        mql_session_tick(h->s, t);
}

/* Ticks whenever mql_session_next_tick() asks, never later than `limit`,
 * until output appears. */
static void tick_until_output(struct harness *h, uint64_t limit) {
        for (int i = 0; i < 1000; i++) {
                uint64_t t = mql_session_next_tick(h->s);

                if (t > limit)
                        fail_msg("next_tick %llu is past %llu (now %llu)", (unsigned long long)t,
                                 (unsigned long long)limit, (unsigned long long)h->now);
                tick_at(h, t > h->now ? t : h->now);
                if (out_len(h) > 0)
                        return;
        }
        fail_msg("no output after 1000 ticks");
}

/* Ticks as asked, writing out the PINGREQs it makes, until an event of
 * `type` is raised; next_tick must never be later than `limit`. */
static const struct rec_event *tick_until_event(struct harness *h, enum mql_event_type type,
                                                uint64_t limit) {
        size_t before = count_events(h, type);

        for (int i = 0; i < 1000; i++) {
                uint64_t t = mql_session_next_tick(h->s);

                if (t > limit)
                        fail_msg("next_tick %llu is past %llu (now %llu)", (unsigned long long)t,
                                 (unsigned long long)limit, (unsigned long long)h->now);
                tick_at(h, t > h->now ? t : h->now);
                while (out_len(h) > 0 && count_events(h, type) == before)
                        expect_packet(h, BYTES(0xC0, 0x00));
                if (count_events(h, type) > before)
                        return last_event(h);
        }
        fail_msg("no event after 1000 ticks");
        return NULL;
}

static void get_stats(struct harness *h, struct mql_session_stats *st) {
        memset(st, 0xAA, sizeof(*st));
        mql_session_get_stats(h->s, st);
}

/* ------------------------------------------------------------------ config */

/* mql_session_new() must refuse `cfg` with `err` and write nothing. */
static void new_fails(const struct mql_session_config *cfg, int err, const char *why) {
        struct mql_session *s = (struct mql_session *)0x1;
        int r = mql_session_new(cfg, &s);

        if (r == 0)
                mql_session_free(s);
        if (r != err)
                fail_msg("%s: mql_session_new gave %d, want %d", why, r, err);
        assert_ptr_equal(s, (struct mql_session *)0x1);
}

static void test_config_invalid(void **state) {
        struct mql_session_config cfg;
        struct mql_will will = { .topic = mql_str_from("w"), .qos = 3 };

        cfg = base_config(MQL_V5);
        cfg.version = 3;
        new_fails(&cfg, -EINVAL, "protocol version 3");
        cfg = base_config(MQL_V5);
        cfg.will = &will;
        new_fails(&cfg, -EINVAL, "will QoS 3 (MQTT-3.1.2-12)");
        will.qos = 0;
        will.topic = mql_str_from("w/#");
        new_fails(&cfg, -EINVAL, "will topic with a wildcard (a topic name: MQTT-3.3.2-2)");
        cfg = base_config(MQL_V311);
        cfg.client_id = NULL;
        cfg.clean_start = false;
        new_fails(&cfg, -EINVAL, "3.1.1 empty client id without Clean Session (MQTT-3.1.3-7)");
        cfg = base_config(MQL_V311);
        cfg.password = "p";
        new_fails(&cfg, -EINVAL, "3.1.1 password without user name (MQTT-3.1.2-22)");
        new_fails(NULL, -EINVAL, "NULL config");
        assert_null(mql_session_free(NULL));
}

/* ------------------------------------------------------------------ CONNECT */

static void test_connect_v311_minimal(void **state) {
        struct harness *h = h_new(base_config(MQL_V311));

        assert_int_equal(mql_session_next_tick(h->s), UINT64_MAX);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        /* §3.1: "MQTT", level 4, flags Clean Session, keepalive 0, id "c1". */
        expect_output(h, BYTES(0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00,
                               0x00, 0x02, 'c', '1'));
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTING);
        assert_int_equal(mql_session_connection_made(h->s, h->now), -EALREADY);
        expect_no_output(h);
        h_free(h);
}

static void test_connect_v5_minimal(void **state) {
        struct harness *h = h_new(base_config(0)); /* 0: MQTT 5 */

        assert_int_equal(h->version, MQL_V5);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        /* §3.1.2: level 5 and an empty property block: nothing to say
         * beyond the defaults (Receive Maximum 65535, no size limit, no
         * aliases, problem information on). */
        expect_output(h, BYTES(0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x00,
                               0x00, 0x00, 0x02, 'c', '1'));
        h_free(h);
}

static void test_connect_v311_full(void **state) {
        struct mql_will will = {
                .topic = mql_str_from("w/t"),
                .payload = { (const uint8_t *)"bye", 3 },
                .qos = 1,
                .retain = true,
        };
        struct mql_session_config cfg = base_config(MQL_V311);
        struct harness *h;

        cfg.client_id = "cid";
        cfg.keepalive = 30;
        cfg.username = "u";
        cfg.password = "p";
        cfg.will = &will;
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        /* Flags 0xEE: user name, password, will retain, will QoS 1, will,
         * clean session (§3.1.2.3); payload order id, will topic, will
         * message, user name, password (MQTT-3.1.3-1). */
        expect_output(h, BYTES(0x10, 0x1F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xEE, 0x00, 0x1E,
                               0x00, 0x03, 'c', 'i', 'd', 0x00, 0x03, 'w', '/', 't', 0x00, 0x03,
                               'b', 'y', 'e', 0x00, 0x01, 'u', 0x00, 0x01, 'p'));
        h_free(h);

        /* Will QoS 2 without retain, no password, persistent session. */
        will.qos = 2;
        will.retain = false;
        cfg.password = NULL;
        cfg.clean_start = false;
        cfg.keepalive = 60;
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        expect_output(h, BYTES(0x10, 0x1C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x94, 0x00, 0x3C,
                               0x00, 0x03, 'c', 'i', 'd', 0x00, 0x03, 'w', '/', 't', 0x00, 0x03,
                               'b', 'y', 'e', 0x00, 0x01, 'u'));
        h_free(h);
}

static size_t count_props(const struct mql_props *props) {
        struct mql_prop_iter it;
        struct mql_prop p;
        size_t n = 0;

        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) == 1)
                n++;
        return n;
}

static void test_connect_v5_full(void **state) {
        static const uint8_t pw[] = { 0x00, 0xFF, 0x01 };
        static const uint8_t ad[] = { 0x01, 0x02 };
        const struct mql_prop will_props[] = {
                { .id = MQL_PROP_WILL_DELAY_INTERVAL, .u32 = 10 },
                { .id = MQL_PROP_CONTENT_TYPE, .str = mql_str_from("text") },
        };
        const struct mql_prop user[] = {
                { .id = MQL_PROP_USER_PROPERTY, .pair = { mql_str_from("k"), mql_str_from("v") } },
        };
        struct mql_will will = {
                .topic = mql_str_from("w/t"),
                .payload = { (const uint8_t *)"bye", 3 },
                .qos = 1,
                .retain = true,
                .props = { .list = will_props, .count = 2 },
        };
        struct mql_session_config cfg = base_config(MQL_V5);
        struct mql_packet pkt;
        struct mql_connect *c;
        struct mql_prop p;
        struct harness *h;

        cfg.client_id = "cid";
        cfg.keepalive = 30;
        cfg.username = "u";
        cfg.password_bin = (struct mql_bin){ pw, sizeof(pw) };
        cfg.will = &will;
        cfg.session_expiry = 3600;
        cfg.receive_maximum = 20;
        cfg.maximum_packet_size = 1024;
        cfg.topic_alias_maximum = 10;
        cfg.user_props = user;
        cfg.n_user_props = 1;
        cfg.request_response_information = true;
        cfg.request_problem_information_off = true;
        cfg.auth_method = "SCRAM";
        cfg.auth_data = (struct mql_bin){ ad, sizeof(ad) };
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        expect_no_output(h);
        assert_int_equal(pkt.type, MQL_CONNECT);
        c = &pkt.connect;
        assert_int_equal(c->version, MQL_V5);
        assert_true(c->clean_start);
        assert_int_equal(c->keepalive, 30);
        assert_true(str_is(c->client_id, "cid"));
        assert_true(c->will);
        assert_int_equal(c->will_qos, 1);
        assert_true(c->will_retain);
        assert_true(str_is(c->will_topic, "w/t"));
        assert_true(bin_is(c->will_payload, "bye"));
        assert_true(c->has_username);
        assert_true(str_is(c->username, "u"));
        assert_true(c->has_password);
        assert_int_equal(c->password.len, sizeof(pw));
        assert_memory_equal(c->password.ptr, pw, sizeof(pw));

        /* §3.1.2.11: each configured property once, nothing else. */
        assert_int_equal(count_props(&c->props), 9);
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_SESSION_EXPIRY_INTERVAL, &p), 1);
        assert_int_equal(p.u32, 3600);
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_RECEIVE_MAXIMUM, &p), 1);
        assert_int_equal(p.u32, 20);
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_MAXIMUM_PACKET_SIZE, &p), 1);
        assert_int_equal(p.u32, 1024);
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_TOPIC_ALIAS_MAXIMUM, &p), 1);
        assert_int_equal(p.u32, 10);
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_REQUEST_RESPONSE_INFORMATION, &p), 1);
        assert_int_equal(p.u32, 1);
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_REQUEST_PROBLEM_INFORMATION, &p), 1);
        assert_int_equal(p.u32, 0);
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_USER_PROPERTY, &p), 1);
        assert_true(str_is(p.pair.key, "k"));
        assert_true(str_is(p.pair.value, "v"));
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_AUTHENTICATION_METHOD, &p), 1);
        assert_true(str_is(p.str, "SCRAM"));
        assert_int_equal(mql_props_find(&c->props, MQL_PROP_AUTHENTICATION_DATA, &p), 1);
        assert_int_equal(p.bin.len, 2);
        assert_memory_equal(p.bin.ptr, ad, 2);

        /* §3.1.3.2 Will Properties. */
        assert_int_equal(count_props(&c->will_props), 2);
        assert_int_equal(mql_props_find(&c->will_props, MQL_PROP_WILL_DELAY_INTERVAL, &p), 1);
        assert_int_equal(p.u32, 10);
        assert_int_equal(mql_props_find(&c->will_props, MQL_PROP_CONTENT_TYPE, &p), 1);
        assert_true(str_is(p.str, "text"));
        h_free(h);
}

/* ------------------------------------------------------------------ CONNACK */

static void test_connack_session_present_v311(void **state) {
        struct mql_session_config cfg = base_config(MQL_V311);
        struct harness *h;

        cfg.clean_start = false;
        h = h_new(cfg);
        h_connect_with(h, BYTES(0x20, 0x02, 0x00, 0x00));
        assert_false(h->ev[0].session_present);
        assert_int_equal(h->ev[0].reason, 0);
        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTED);
        /* §3.2.2.2: Session Present is bit 0 of the acknowledge flags. */
        h_connect_with(h, BYTES(0x20, 0x02, 0x01, 0x00));
        assert_int_equal(count_events(h, MQL_EVENT_CONNECTED), 2);
        assert_true(last_event(h)->session_present);
        h_free(h);
}

static void test_connack_session_present_v5(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h;

        cfg.clean_start = false;
        cfg.session_expiry = 600;
        h = h_new(cfg);
        h_connect_with(h, BYTES(0x20, 0x03, 0x00, 0x00, 0x00));
        assert_false(h->ev[0].session_present);
        mql_session_connection_lost(h->s);
        h_connect_with(h, BYTES(0x20, 0x03, 0x01, 0x00, 0x00));
        assert_true(last_event(h)->session_present);
        assert_int_equal(last_event(h)->reason, 0);
        h_free(h);
}

static void test_connack_refused_v311(void **state) {
        struct harness *h = h_new(base_config(MQL_V311));
        struct mql_packet pkt;

        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        /* §3.2.2.3: return code 5, "not authorized". */
        broker_send_ok(h, BYTES(0x20, 0x02, 0x00, 0x05));
        assert_int_equal(h->n_ev, 1);
        assert_int_equal(h->ev[0].type, MQL_EVENT_CONNECT_REFUSED);
        assert_int_equal(h->ev[0].reason, MQL_V311_NOT_AUTHORIZED);
        assert_int_not_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);
        expect_no_output(h);
        /* Not connected: nothing may be subscribed. */
        {
                struct mql_subscription sub = { .filter = mql_str_from("a"), .qos = 0 };

                assert_int_equal(mql_session_subscribe(h->s, &sub, 1, NULL, NULL, NULL), -ENOTCONN);
        }
        h_free(h);
}

static void test_connack_refused_v5(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        struct mql_packet pkt;

        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        /* §3.2.2.2: 0x87 Not authorized, empty properties. */
        broker_send_ok(h, BYTES(0x20, 0x03, 0x00, 0x87, 0x00));
        assert_int_equal(h->n_ev, 1);
        assert_int_equal(h->ev[0].type, MQL_EVENT_CONNECT_REFUSED);
        assert_int_equal(h->ev[0].reason, 0x87);
        assert_int_not_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);
        h_free(h);
}

static void test_v5_assigned_client_id(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h;
        struct mql_packet pkt;

        cfg.client_id = NULL;
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        /* MQTT-3.1.3-6: a zero-byte client id asks the server for one. */
        expect_output(h, BYTES(0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x00,
                               0x00, 0x00, 0x00));
        /* §3.2.2.3.7 Assigned Client Identifier "srv-1". */
        broker_send_ok(
                h, BYTES(0x20, 0x0B, 0x00, 0x00, 0x08, 0x12, 0x00, 0x05, 's', 'r', 'v', '-', '1'));
        assert_int_equal(h->ev[0].type, MQL_EVENT_CONNECTED);
        assert_non_null(mql_session_get_client_id(h->s));
        assert_string_equal(mql_session_get_client_id(h->s), "srv-1");
        /* The next connection must present it to find its session again. */
        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(pkt.type, MQL_CONNECT);
        assert_true(str_is(pkt.connect.client_id, "srv-1"));
        h_free(h);
}

static void test_client_id_configured(void **state) {
        struct harness *h = h_connected(MQL_V311);

        assert_string_equal(mql_session_get_client_id(h->s), "c1");
        h_free(h);
}

/* ------------------------------------------------------------------ publish out */

static void publish_qos0(enum mql_version v) {
        struct harness *h = h_connected(v);
        struct pub_cb cb = { 0 };

        assert_int_equal(pub(h, "t/a", "hi", 0, false, &cb), 0);
        if (v == MQL_V311)
                expect_output(h, BYTES(0x30, 0x07, 0x00, 0x03, 't', '/', 'a', 'h', 'i'));
        else
                expect_output(h, BYTES(0x30, 0x08, 0x00, 0x03, 't', '/', 'a', 0x00, 'h', 'i'));
        /* "QoS 0 written to the output": done once it is written. */
        assert_int_equal(cb.calls, 1);
        assert_int_equal(cb.reason, 0);

        /* RETAIN is bit 0 of the fixed header (§3.3.1.3). No callback. */
        assert_int_equal(pub(h, "t/a", "", 0, true, NULL), 0);
        if (v == MQL_V311)
                expect_output(h, BYTES(0x31, 0x05, 0x00, 0x03, 't', '/', 'a'));
        else
                expect_output(h, BYTES(0x31, 0x06, 0x00, 0x03, 't', '/', 'a', 0x00));
        assert_int_equal(cb.calls, 1);
        h_free(h);
}

static void test_publish_qos0_v311(void **state) {
        publish_qos0(MQL_V311);
}

static void test_publish_qos0_v5(void **state) {
        publish_qos0(MQL_V5);
}

static void publish_qos1(enum mql_version v) {
        struct harness *h = h_connected(v);
        struct mql_session_stats st;
        struct pub_cb cb = { 0 };
        int id;

        id = pub(h, "t/a", "hi", 1, false, &cb);
        assert_true(id > 0 && id <= 0xFFFF);
        if (v == MQL_V311)
                expect_output(
                        h, BYTES(0x32, 0x09, 0x00, 0x03, 't', '/', 'a', HI(id), LO(id), 'h', 'i'));
        else
                expect_output(h, BYTES(0x32, 0x0A, 0x00, 0x03, 't', '/', 'a', HI(id), LO(id), 0x00,
                                       'h', 'i'));
        assert_int_equal(cb.calls, 0);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 1);
        assert_int_equal(st.queued, 0);
        assert_int_equal(st.published, 0);

        broker_send_ok(h, BYTES(0x40, 0x02, HI(id), LO(id)));
        assert_int_equal(cb.calls, 1);
        assert_int_equal(cb.id, id);
        assert_int_equal(cb.reason, 0);
        expect_no_output(h);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.published, 1);
        h_free(h);
}

static void test_publish_qos1_v311(void **state) {
        publish_qos1(MQL_V311);
}

static void test_publish_qos1_v5(void **state) {
        publish_qos1(MQL_V5);
}

/* MQTT 5 PUBACK reason codes reach the callback as they are (§3.4.2.1). */
static void test_publish_qos1_v5_reasons(void **state) {
        struct harness *h = h_connected(MQL_V5);
        struct pub_cb a = { 0 }, b = { 0 };
        int ida, idb;

        ida = pub(h, "t/a", "1", 1, false, &a);
        idb = pub(h, "t/a", "2", 1, false, &b);
        assert_true(ida > 0 && idb > 0);
        assert_int_not_equal(ida, idb); /* MQTT-2.2.1-2: unused identifiers */
        expect_output(h, BYTES(0x32, 0x09, 0x00, 0x03, 't', '/', 'a', HI(ida), LO(ida), 0x00, '1',
                               0x32, 0x09, 0x00, 0x03, 't', '/', 'a', HI(idb), LO(idb), 0x00, '2'));
        broker_send_ok(h, BYTES(0x40, 0x03, HI(ida), LO(ida), 0x10));
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.reason, 0x10);
        broker_send_ok(h, BYTES(0x40, 0x03, HI(idb), LO(idb), 0x87));
        assert_int_equal(b.calls, 1);
        assert_int_equal(b.reason, 0x87);
        expect_no_output(h);
        h_free(h);
}

static void publish_qos2(enum mql_version v) {
        struct harness *h = h_connected(v);
        struct mql_session_stats st;
        struct pub_cb cb = { 0 };
        int id;

        id = pub(h, "t/a", "hi", 2, false, &cb);
        assert_true(id > 0);
        if (v == MQL_V311)
                expect_output(
                        h, BYTES(0x34, 0x09, 0x00, 0x03, 't', '/', 'a', HI(id), LO(id), 'h', 'i'));
        else
                expect_output(h, BYTES(0x34, 0x0A, 0x00, 0x03, 't', '/', 'a', HI(id), LO(id), 0x00,
                                       'h', 'i'));
        /* MQTT-4.3.3-4/-5 (3.1.1: -3): PUBREC is answered with PUBREL,
         * whose fixed header flags are 0010 (MQTT-3.6.1-1). */
        broker_send_ok(h, BYTES(0x50, 0x02, HI(id), LO(id)));
        expect_output(h, BYTES(0x62, 0x02, HI(id), LO(id)));
        assert_int_equal(cb.calls, 0);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 1);

        broker_send_ok(h, BYTES(0x70, 0x02, HI(id), LO(id)));
        assert_int_equal(cb.calls, 1);
        assert_int_equal(cb.id, id);
        assert_int_equal(cb.reason, 0);
        expect_no_output(h);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.published, 1);
        h_free(h);
}

static void test_publish_qos2_v311(void **state) {
        publish_qos2(MQL_V311);
}

static void test_publish_qos2_v5(void **state) {
        publish_qos2(MQL_V5);
}

/* §4.3.3: a PUBREC with a reason >= 0x80 ends the flow; no PUBREL. */
static void test_publish_qos2_v5_pubrec_refused(void **state) {
        struct harness *h = h_connected(MQL_V5);
        struct mql_session_stats st;
        struct pub_cb cb = { 0 };
        int id;

        id = pub(h, "t/a", "hi", 2, false, &cb);
        assert_true(id > 0);
        expect_output(h,
                      BYTES(0x34, 0x0A, 0x00, 0x03, 't', '/', 'a', HI(id), LO(id), 0x00, 'h', 'i'));
        broker_send_ok(h, BYTES(0x50, 0x03, HI(id), LO(id), 0x97));
        expect_no_output(h);
        assert_int_equal(cb.calls, 1);
        assert_int_equal(cb.id, id);
        assert_int_equal(cb.reason, 0x97);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 0);
        h_free(h);
}

static void test_publish_invalid(void **state) {
        struct harness *h = h_connected(MQL_V311);
        const struct mql_prop props[] = { { .id = MQL_PROP_CONTENT_TYPE,
                                            .str = mql_str_from("x") } };
        struct mql_message m = { .topic = mql_str_from("t/a"), .qos = 0 };
        struct pub_cb cb = { 0 };

        /* MQTT-3.3.2-2: no wildcards in a topic name. */
        assert_int_equal(pub(h, "t/+", "x", 0, false, &cb), -EINVAL);
        assert_int_equal(pub(h, "t/#", "x", 1, false, &cb), -EINVAL);
        /* MQTT-4.7.3-1: a topic name is at least one character. */
        assert_int_equal(pub(h, "", "x", 0, false, &cb), -EINVAL);
        /* QoS 3 does not exist (MQTT-3.3.1-4). */
        assert_int_equal(pub(h, "t/a", "x", 3, false, &cb), -EINVAL);
        /* Properties do not exist in 3.1.1. */
        m.props = (struct mql_props){ .list = props, .count = 1 };
        assert_int_equal(mql_session_publish(h->s, &m, on_publish, &cb), -EINVAL);
        assert_int_equal(mql_session_publish(h->s, NULL, on_publish, &cb), -EINVAL);
        /* "On error cb is not called." */
        assert_int_equal(cb.calls, 0);
        expect_no_output(h);
        h_free(h);
}

/* ------------------------------------------------------------------ publish in */

static void receive_qos0(enum mql_version v) {
        struct harness *h = h_connected(v);
        struct mql_session_stats st;

        if (v == MQL_V311) {
                broker_send_ok(h, BYTES(0x30, 0x07, 0x00, 0x03, 't', '/', 'a', 'h', 'i'));
        } else {
                /* Content Type "json" (§3.3.2.3.9). */
                broker_send_ok(h, BYTES(0x30, 0x0F, 0x00, 0x03, 't', '/', 'a', 0x07, 0x03, 0x00,
                                        0x04, 'j', 's', 'o', 'n', 'h', 'i'));
        }
        assert_int_equal(h->n_ev, 2);
        assert_message(&h->ev[1], "t/a", "hi", 0);
        assert_false(h->ev[1].retain);
        assert_false(h->ev[1].dup);
        if (v == MQL_V5) {
                assert_non_null(h->ev[1].content_type);
                assert_string_equal(h->ev[1].content_type, "json");
        }
        expect_no_output(h);
        get_stats(h, &st);
        assert_int_equal(st.received, 1);
        h_free(h);
}

static void test_receive_qos0_v311(void **state) {
        receive_qos0(MQL_V311);
}

static void test_receive_qos0_v5(void **state) {
        receive_qos0(MQL_V5);
}

static void receive_qos1(enum mql_version v) {
        struct harness *h = h_connected(v);

        /* QoS 1, RETAIN, packet id 5. */
        if (v == MQL_V311)
                broker_send_ok(h,
                               BYTES(0x33, 0x09, 0x00, 0x03, 't', '/', 'a', 0x00, 0x05, 'h', 'i'));
        else
                broker_send_ok(h, BYTES(0x33, 0x0A, 0x00, 0x03, 't', '/', 'a', 0x00, 0x05, 0x00,
                                        'h', 'i'));
        assert_int_equal(h->n_ev, 2);
        assert_message(&h->ev[1], "t/a", "hi", 1);
        assert_true(h->ev[1].retain);
        assert_int_equal(h->ev[1].packet_id, 5);
        /* MQTT-4.3.2-4: PUBACK with the same identifier (v5 short form). */
        expect_output(h, BYTES(0x40, 0x02, 0x00, 0x05));
        h_free(h);
}

static void test_receive_qos1_v311(void **state) {
        receive_qos1(MQL_V311);
}

static void test_receive_qos1_v5(void **state) {
        receive_qos1(MQL_V5);
}

static void receive_qos2(enum mql_version v) {
        struct harness *h = h_connected(v);
        struct mql_session_stats st;
        uint8_t pkt[64];
        size_t n;

        n = make_publish(pkt, v, 0x04, "t/a", 7, "hi");
        broker_send_ok(h, pkt, n);
        assert_int_equal(h->n_ev, 2);
        assert_message(&h->ev[1], "t/a", "hi", 2);
        assert_int_equal(h->ev[1].packet_id, 7);
        expect_output(h, BYTES(0x50, 0x02, 0x00, 0x07));

        /* The broker did not see our PUBREC and sends it again with DUP:
         * not delivered twice (MQTT-4.3.3-9 / 3.1.1 MQTT-4.3.3-2 method
         * B), but PUBREC again. */
        n = make_publish(pkt, v, 0x0C, "t/a", 7, "hi");
        broker_send_ok(h, pkt, n);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 1);
        expect_output(h, BYTES(0x50, 0x02, 0x00, 0x07));

        broker_send_ok(h, BYTES(0x62, 0x02, 0x00, 0x07));
        expect_output(h, BYTES(0x70, 0x02, 0x00, 0x07));
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 1);

        /* A PUBREL repeated after PUBCOMP gets PUBCOMP again (MQTT-4.3.3-11). */
        broker_send_ok(h, BYTES(0x62, 0x02, 0x00, 0x07));
        if (v == MQL_V5 && out_len(h) == 5) /* 0x92 Packet Identifier not found */
                expect_output(h, BYTES(0x70, 0x03, 0x00, 0x07, 0x92));
        else
                expect_output(h, BYTES(0x70, 0x02, 0x00, 0x07));
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 1);

        /* After PUBCOMP the identifier is free: a new message may reuse it. */
        n = make_publish(pkt, v, 0x04, "t/a", 7, "ho");
        broker_send_ok(h, pkt, n);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 2);
        assert_message(last_event(h), "t/a", "ho", 2);
        expect_output(h, BYTES(0x50, 0x02, 0x00, 0x07));
        get_stats(h, &st);
        assert_int_equal(st.received, 2);
        h_free(h);
}

static void test_receive_qos2_v311(void **state) {
        receive_qos2(MQL_V311);
}

static void test_receive_qos2_v5(void **state) {
        receive_qos2(MQL_V5);
}

static void manual_ack(enum mql_version v) {
        struct mql_session_config cfg = base_config(v);
        struct harness *h;
        uint8_t pkt[64];
        size_t n;

        cfg.manual_ack = true;
        h = h_new(cfg);
        h_connect(h);

        n = make_publish(pkt, v, 0x02, "t/a", 5, "q1");
        broker_send_ok(h, pkt, n);
        assert_message(last_event(h), "t/a", "q1", 1);
        assert_int_equal(last_event(h)->packet_id, 5);
        expect_no_output(h);
        assert_int_equal(mql_session_acknowledge(h->s, 5, 0), 0);
        expect_output(h, BYTES(0x40, 0x02, 0x00, 0x05));
        assert_int_equal(mql_session_acknowledge(h->s, 5, 0), -ENOENT);
        assert_int_equal(mql_session_acknowledge(h->s, 99, 0), -ENOENT);
        expect_no_output(h);

        n = make_publish(pkt, v, 0x04, "t/a", 7, "q2");
        broker_send_ok(h, pkt, n);
        assert_message(last_event(h), "t/a", "q2", 2);
        expect_no_output(h);
        assert_int_equal(mql_session_acknowledge(h->s, 7, 0), 0);
        expect_output(h, BYTES(0x50, 0x02, 0x00, 0x07));
        /* PUBCOMP answers PUBREL by itself: the application's part ended
         * with the PUBREC. */
        broker_send_ok(h, BYTES(0x62, 0x02, 0x00, 0x07));
        expect_output(h, BYTES(0x70, 0x02, 0x00, 0x07));

        /* QoS 0 needs no acknowledgement and has no identifier. */
        n = make_publish(pkt, v, 0x00, "t/a", 0, "q0");
        broker_send_ok(h, pkt, n);
        assert_message(last_event(h), "t/a", "q0", 0);
        expect_no_output(h);

        if (v == MQL_V5) {
                /* §3.4.2.1: the application's reason code goes out as is. */
                n = make_publish(pkt, v, 0x02, "t/a", 6, "no");
                broker_send_ok(h, pkt, n);
                assert_int_equal(mql_session_acknowledge(h->s, 6, 0x80), 0);
                expect_output(h, BYTES(0x40, 0x03, 0x00, 0x06, 0x80));
        }

        /* Pending, then the connection is gone. */
        n = make_publish(pkt, v, 0x02, "t/a", 8, "late");
        broker_send_ok(h, pkt, n);
        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_acknowledge(h->s, 8, 0), -ENOTCONN);
        h_free(h);
}

static void test_manual_ack_v311(void **state) {
        manual_ack(MQL_V311);
}

static void test_manual_ack_v5(void **state) {
        manual_ack(MQL_V5);
}

/* ------------------------------------------------------------------ SUBSCRIBE */

static void test_subscribe_v311(void **state) {
        struct harness *h = h_new(base_config(MQL_V311));
        const struct mql_subscription subs[] = {
                { .filter = mql_str_from("a/b"), .qos = 1 },
                { .filter = mql_str_from("c/#"), .qos = 2 },
                { .filter = mql_str_from("d"), .qos = 0 },
        };
        const struct mql_str unsubs[] = { mql_str_from("a/b"), mql_str_from("c/#") };
        struct sub_cb cb = { 0 }, ucb = { 0 };
        uint16_t id;

        assert_int_equal(mql_session_subscribe(h->s, subs, 3, NULL, on_subscribe, &cb), -ENOTCONN);
        assert_int_equal(mql_session_unsubscribe(h->s, unsubs, 2, NULL, on_subscribe, &ucb),
                         -ENOTCONN);
        h_connect(h);
        assert_int_equal(mql_session_subscribe(h->s, subs, 3, NULL, on_subscribe, &cb), 0);
        /* §3.8: flags 0010 (MQTT-3.8.1-1), id, then filter + requested QoS. */
        id = expect_packet_u16(h,
                               BYTES(0x82, 0x12, 0x00, 0x00, 0x00, 0x03, 'a', '/', 'b', 0x01, 0x00,
                                     0x03, 'c', '/', '#', 0x02, 0x00, 0x01, 'd', 0x00),
                               2);
        expect_no_output(h);
        assert_int_equal(cb.calls, 0);
        broker_send_ok(h, BYTES(0x90, 0x05, HI(id), LO(id), 0x01, 0x02, 0x80));
        assert_int_equal(cb.calls, 1);
        assert_int_equal(cb.error, 0);
        assert_int_equal(cb.n, 3);
        assert_memory_equal(cb.reasons, ((const uint8_t[]){ 0x01, 0x02, 0x80 }), 3);

        assert_int_equal(mql_session_unsubscribe(h->s, unsubs, 2, NULL, on_subscribe, &ucb), 0);
        id = expect_packet_u16(
                h,
                BYTES(0xA2, 0x0C, 0x00, 0x00, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x03, 'c', '/', '#'),
                2);
        broker_send_ok(h, BYTES(0xB0, 0x02, HI(id), LO(id)));
        /* A 3.1.1 UNSUBACK carries no codes: nothing, or success for all. */
        assert_int_equal(ucb.calls, 1);
        assert_int_equal(ucb.error, 0);
        assert_true(ucb.n == 0 || ucb.n == 2);
        for (size_t i = 0; i < ucb.n; i++)
                assert_int_equal(ucb.reasons[i], 0);
        assert_int_equal(cb.calls, 1);
        h_free(h);
}

static void test_subscribe_v5(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        const struct mql_subscription subs[] = {
                { .filter = mql_str_from("a/b"), .qos = 1, .no_local = true },
                { .filter = mql_str_from("c/#"),
                  .qos = 2,
                  .retain_as_published = true,
                  .retain_handling = 2 },
                { .filter = mql_str_from("d"), .qos = 0 },
        };
        const struct mql_prop sid[] = { { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 7 } };
        const struct mql_props props = { .list = sid, .count = 1 };
        const struct mql_str unsubs[] = { mql_str_from("a/b"), mql_str_from("c/#") };
        struct sub_cb cb = { 0 }, ucb = { 0 };
        uint16_t id;

        assert_int_equal(mql_session_subscribe(h->s, subs, 3, &props, on_subscribe, &cb),
                         -ENOTCONN);
        h_connect(h);
        assert_int_equal(mql_session_subscribe(h->s, subs, 3, &props, on_subscribe, &cb), 0);
        /* §3.8.3.1 options: QoS bits 0-1, No Local bit 2, Retain As
         * Published bit 3, Retain Handling bits 4-5: 0x05, 0x2A, 0x00.
         * Properties: Subscription Identifier 7 (0x0B 0x07). */
        id = expect_packet_u16(h,
                               BYTES(0x82, 0x15, 0x00, 0x00, 0x02, 0x0B, 0x07, 0x00, 0x03, 'a', '/',
                                     'b', 0x05, 0x00, 0x03, 'c', '/', '#', 0x2A, 0x00, 0x01, 'd',
                                     0x00),
                               2);
        expect_no_output(h);
        broker_send_ok(h, BYTES(0x90, 0x06, HI(id), LO(id), 0x00, 0x01, 0x02, 0x87));
        assert_int_equal(cb.calls, 1);
        assert_int_equal(cb.error, 0);
        assert_int_equal(cb.n, 3);
        assert_memory_equal(cb.reasons, ((const uint8_t[]){ 0x01, 0x02, 0x87 }), 3);

        assert_int_equal(mql_session_unsubscribe(h->s, unsubs, 2, NULL, on_subscribe, &ucb), 0);
        id = expect_packet_u16(h,
                               BYTES(0xA2, 0x0D, 0x00, 0x00, 0x00, 0x00, 0x03, 'a', '/', 'b', 0x00,
                                     0x03, 'c', '/', '#'),
                               2);
        /* §3.11.3: 0x00 Success, 0x11 No subscription existed. */
        broker_send_ok(h, BYTES(0xB0, 0x05, HI(id), LO(id), 0x00, 0x00, 0x11));
        assert_int_equal(ucb.calls, 1);
        assert_int_equal(ucb.error, 0);
        assert_int_equal(ucb.n, 2);
        assert_memory_equal(ucb.reasons, ((const uint8_t[]){ 0x00, 0x11 }), 2);
        h_free(h);
}

/* Two requests in flight at once get distinct identifiers and their own
 * answers, whatever order the broker answers in. */
static void test_subscribe_two_in_flight(void **state) {
        struct harness *h = h_connected(MQL_V311);
        const struct mql_subscription a = { .filter = mql_str_from("a"), .qos = 0 };
        const struct mql_subscription b = { .filter = mql_str_from("b"), .qos = 1 };
        struct sub_cb ca = { 0 }, cb = { 0 };
        uint16_t ida, idb;

        assert_int_equal(mql_session_subscribe(h->s, &a, 1, NULL, on_subscribe, &ca), 0);
        assert_int_equal(mql_session_subscribe(h->s, &b, 1, NULL, on_subscribe, &cb), 0);
        ida = expect_packet_u16(h, BYTES(0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00), 2);
        idb = expect_packet_u16(h, BYTES(0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'b', 0x01), 2);
        assert_int_not_equal(ida, idb);
        broker_send_ok(h, BYTES(0x90, 0x03, HI(idb), LO(idb), 0x01));
        assert_int_equal(cb.calls, 1);
        assert_int_equal(ca.calls, 0);
        assert_int_equal(cb.reasons[0], 0x01);
        broker_send_ok(h, BYTES(0x90, 0x03, HI(ida), LO(ida), 0x00));
        assert_int_equal(ca.calls, 1);
        assert_int_equal(ca.reasons[0], 0x00);
        assert_int_equal(cb.calls, 1);
        h_free(h);
}

static void test_subscribe_from_callback(void **state) {
        const struct mql_subscription sub = { .filter = mql_str_from("x"), .qos = 1 };
        struct harness *h = h_new(base_config(MQL_V5));
        struct sub_cb cb = { 0 };
        struct mql_packet pkt;

        h->sub_on_connect = &sub;
        h->sub_on_connect_cb = &cb;
        h->sub_on_connect_ret = 1;
        h_connect(h);
        assert_int_equal(h->sub_on_connect_ret, 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(pkt.type, MQL_SUBSCRIBE);
        expect_no_output(h);
        h_free(h);
}

/* ------------------------------------------------------------------ keepalive */

/* After MQL_EVENT_CLOSE the output may hold a DISCONNECT (MQTT 5 only), and
 * then only with a reason code the table of §3.14.2.1 lets a Client send:
 * 0x8D Keep Alive timeout, for one, is "Sent by: Server". */
static void expect_client_disconnect_or_nothing(struct harness *h) {
        static const uint8_t client_ok[] = { 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90,
                                             0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99 };
        struct mql_packet pkt;

        if (!drain_decode(h, &pkt))
                return;
        assert_int_equal(h->version, MQL_V5);
        assert_int_equal(pkt.type, MQL_DISCONNECT);
        if (!memchr(client_ok, pkt.disconnect.reason_code, sizeof(client_ok)))
                fail_msg("client sent DISCONNECT with reason 0x%02X, a Server-only code",
                         pkt.disconnect.reason_code);
        expect_no_output(h);
}

static void keepalive(enum mql_version v) {
        struct mql_session_config cfg = base_config(v);
        const struct rec_event *e;
        struct mql_packet pkt;
        struct harness *h;
        uint64_t last_send, last_recv;

        cfg.keepalive = 10;
        h = h_new(cfg);
        h->now = 1000;
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt)); /* written at 1000 */
        assert_int_equal(pkt.connect.keepalive, 10);
        last_send = h->now;
        h->now = 1100;
        if (v == MQL_V311)
                broker_send_ok(h, connack_v311, sizeof(connack_v311));
        else
                broker_send_ok(h, connack_v5, sizeof(connack_v5));
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);

        /* MQTT-3.1.2-23: a packet within the keepalive after the last one
         * we sent; with nothing else to say, PINGREQ (§3.12). */
        assert_true(mql_session_next_tick(h->s) <= last_send + 10000);
        tick_until_output(h, last_send + 10000);
        expect_output(h, BYTES(0xC0, 0x00));
        last_send = h->now;

        h->now += 250;
        broker_send_ok(h, BYTES(0xD0, 0x00));
        last_recv = h->now;
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);

        /* The next PINGREQ is due 10 s after the last one, again. */
        tick_until_output(h, last_send + 10000);
        expect_output(h, BYTES(0xC0, 0x00));
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);

        /* The broker is silent from now on: 1.5 x keepalive after the last
         * packet received, and not before, the session gives up. */
        e = tick_until_event(h, MQL_EVENT_CLOSE, last_recv + 15000);
        assert_int_equal(e->error, -ETIMEDOUT);
        assert_int_equal(e->at, last_recv + 15000);
        expect_client_disconnect_or_nothing(h);
        h_free(h);
}

static void test_keepalive_v311(void **state) {
        keepalive(MQL_V311);
}

static void test_keepalive_v5(void **state) {
        keepalive(MQL_V5);
}

static void drain_pings(struct harness *h) {
        while (out_len(h) > 0)
                expect_packet(h, BYTES(0xC0, 0x00));
}

/* Any packet sent counts as keepalive traffic (MQTT-3.1.2-23); any packet
 * received keeps the connection, not only PINGRESP. */
static void test_keepalive_traffic(void **state) {
        struct mql_session_config cfg = base_config(MQL_V311);
        struct harness *h;
        uint64_t t0;

        cfg.keepalive = 10;
        h = h_new(cfg);
        h_connect(h);
        t0 = h->now;
        /* A publish at +6 s moves the next PINGREQ to +16 s at the latest. */
        tick_at(h, t0 + 6000);
        expect_no_output(h);
        assert_int_equal(pub(h, "t/a", "x", 0, false, NULL), 0);
        expect_output(h, BYTES(0x30, 0x06, 0x00, 0x03, 't', '/', 'a', 'x'));
        tick_at(h, t0 + 12000);
        drain_pings(h);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        /* Messages at +12 s and +24 s, never a PINGRESP: the connection
         * lives until 15 s after the last one. The broker was silent for
         * 10 s at +12 s, so a PINGREQ went then (it was due by +16 s for
         * our own silence anyway); the next is due 10 s later. */
        broker_send_ok(h, BYTES(0x30, 0x06, 0x00, 0x03, 't', '/', 'b', 'y'));
        assert_true(mql_session_next_tick(h->s) <= t0 + 22000);
        tick_until_output(h, t0 + 22000);
        expect_output(h, BYTES(0xC0, 0x00));
        tick_at(h, t0 + 24000);
        drain_pings(h);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        broker_send_ok(h, BYTES(0x30, 0x06, 0x00, 0x03, 't', '/', 'b', 'z'));
        tick_at(h, t0 + 38999);
        drain_pings(h);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        tick_at(h, t0 + 39000);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 1);
        assert_int_equal(last_event(h)->error, -ETIMEDOUT);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 2);
        h_free(h);
}

/* A client that only publishes, to a broker that answers only PINGREQ:
 * its own traffic never lets a ping go on its own silence, so pings go on
 * the broker's silence, and the connection lives. */
static void test_keepalive_publish_only(void **state) {
        struct mql_session_config cfg = base_config(MQL_V311);
        struct harness *h;
        int pings = 0;

        cfg.keepalive = 10;
        h = h_new(cfg);
        h_connect(h);
        uint64_t t0 = h->now;
        for (int sec = 1; sec <= 60; sec++) {
                tick_at(h, t0 + (uint64_t)sec * 1000);
                assert_int_equal(pub(h, "t/a", "x", 0, false, NULL), 0);
                const uint8_t *p;
                size_t n;
                mql_session_output(h->s, &p, &n);
                /* PUBLISH "t/a" "x" is 8 bytes; a PINGREQ before it is 2. */
                bool ping = n == 10 && p[0] == 0xC0 && p[1] == 0x00;
                assert_true(n == 8 || ping);
                consume(h, n);
                if (ping) {
                        pings++;
                        broker_send_ok(h, BYTES(0xD0, 0x00));
                }
        }
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        /* One ping per keepalive of broker silence: at +10, +20 … +60 s. */
        assert_int_equal(pings, 6);
        h_free(h);
}

/* A callback that disconnects on a QoS 1 message: the PUBACK is queued
 * before the message is handed over, so it goes out before the DISCONNECT,
 * and nothing goes after it (MQTT-3.14.4-1). */
static void test_disconnect_in_message_callback(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h = h_new(cfg);

        h_connect(h);
        h->disconnect_on_message = true;
        broker_send_ok(h, BYTES(0x32, 0x08, 0x00, 0x03, 't', '/', 'a', 0x00, 0x07, 0x00));
        expect_output(h, BYTES(0x40, 0x02, 0x00, 0x07, 0xE0, 0x00));
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
        /* A resend arriving after it gets no answer. */
        broker_send(h, BYTES(0x3A, 0x08, 0x00, 0x03, 't', '/', 'a', 0x00, 0x07, 0x00));
        assert_int_equal(out_len(h), 0);
        h_free(h);
}

static void test_keepalive_off(void **state) {
        struct harness *h = h_connected(MQL_V5); /* keepalive 0 */

        assert_int_equal(mql_session_next_tick(h->s), UINT64_MAX);
        tick_at(h, h->now + 3600 * 1000);
        expect_no_output(h);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        h_free(h);
}

/* MQTT-3.2.2-21: the Server Keep Alive replaces ours. */
static void test_v5_server_keep_alive(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        const struct rec_event *e;
        struct harness *h;
        uint64_t last_send, last_recv;

        cfg.keepalive = 60;
        h = h_new(cfg);
        last_send = h->now;
        h_connect_with(h, BYTES(0x20, 0x06, 0x00, 0x00, 0x03, 0x13, 0x00, 0x05));
        last_recv = h->now;
        tick_until_output(h, last_send + 5000);
        expect_output(h, BYTES(0xC0, 0x00));
        e = tick_until_event(h, MQL_EVENT_CLOSE, last_recv + 7500);
        assert_int_equal(e->error, -ETIMEDOUT);
        assert_int_equal(e->at, last_recv + 7500);
        expect_client_disconnect_or_nothing(h);
        h_free(h);
}

static void connect_timeout(enum mql_version v, uint32_t cfg_ms, uint32_t want_ms) {
        struct mql_session_config cfg = base_config(v);
        struct mql_packet pkt;
        struct harness *h;
        uint64_t t0;

        cfg.keepalive = 60;
        cfg.connect_timeout_ms = cfg_ms;
        h = h_new(cfg);
        t0 = h->now;
        assert_int_equal(mql_session_connection_made(h->s, t0), 0);
        assert_true(drain_decode(h, &pkt));
        assert_true(mql_session_next_tick(h->s) <= t0 + want_ms);
        tick_at(h, t0 + want_ms - 1);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        tick_at(h, t0 + want_ms);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 1);
        assert_int_equal(last_event(h)->error, -ETIMEDOUT);
        assert_int_equal(count_events(h, MQL_EVENT_CONNECTED), 0);
        h_free(h);
}

static void test_connect_timeout_v311(void **state) {
        connect_timeout(MQL_V311, 5000, 5000);
}

static void test_connect_timeout_v5_default(void **state) {
        connect_timeout(MQL_V5, 0, 30000);
}

/* The CONNACK stops the connect timer. */
static void test_connect_timeout_stopped(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h;

        cfg.keepalive = 60;
        cfg.connect_timeout_ms = 5000;
        h = h_new(cfg);
        h_connect(h);
        tick_at(h, h->now + 5000);
        tick_at(h, h->now + 20000);
        assert_int_equal(count_events(h, MQL_EVENT_CLOSE), 0);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);
        h_free(h);
}

/* ------------------------------------------------------------------ Receive Maximum */

/* MQTT-4.9.0-2: no more unacknowledged QoS 1/2 PUBLISH than the broker's
 * Receive Maximum; the rest waits, in order. */
static void test_v5_server_receive_maximum(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        struct mql_session_stats st;
        struct pub_cb cb[5] = { 0 };
        struct mql_publish p;
        int ret[5];
        uint16_t sent_id[5];
        char payload[3] = "m0";

        h_connect_with(h, BYTES(0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x02));
        get_stats(h, &st);
        assert_int_equal(st.server_receive_maximum, 2);
        for (int i = 0; i < 5; i++) {
                payload[1] = (char)('0' + i);
                ret[i] = pub(h, "t/a", payload, 1, false, &cb[i]);
        }
        assert_true(ret[0] > 0 && ret[1] > 0 && ret[0] != ret[1]);
        assert_int_equal(ret[2], 0);
        assert_int_equal(ret[3], 0);
        assert_int_equal(ret[4], 0);
        for (int i = 0; i < 2; i++) {
                next_publish(h, &p);
                assert_true(bin_is(p.payload, i == 0 ? "m0" : "m1"));
                assert_int_equal(p.packet_id, ret[i]);
                assert_int_equal(p.qos, 1);
                sent_id[i] = p.packet_id;
        }
        expect_no_output(h);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 2);
        assert_int_equal(st.queued, 3);

        for (int i = 0; i < 5; i++) {
                uint16_t id = sent_id[i];

                broker_send_ok(h, BYTES(0x40, 0x02, HI(id), LO(id)));
                assert_int_equal(cb[i].calls, 1);
                assert_int_equal(cb[i].reason, 0);
                assert_int_equal(cb[i].id, id);
                if (i + 2 < 5) {
                        /* One acknowledgement lets exactly one more go. */
                        next_publish(h, &p);
                        payload[1] = (char)('0' + i + 2);
                        assert_true(bin_is(p.payload, payload));
                        assert_false(p.dup);
                        assert_int_not_equal(p.packet_id, sent_id[i + 1]);
                        sent_id[i + 2] = p.packet_id;
                }
                expect_no_output(h);
                get_stats(h, &st);
                assert_int_equal(st.inflight, i + 2 < 5 ? 2 : (size_t)(4 - i));
                assert_int_equal(st.queued, i + 2 < 5 ? (size_t)(2 - i) : 0);
        }
        for (int i = 1; i < 5; i++)
                assert_true(cb[i].seq > cb[i - 1].seq);
        get_stats(h, &st);
        assert_int_equal(st.published, 5);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.queued, 0);
        h_free(h);
}

/* QoS 0 is not counted against Receive Maximum (§4.9). */
/* 3.1.1 cannot carry a Receive Maximum; the session caps its own window at
 * 20 (mosquitto's max_inflight_messages default), or at max_inflight. */
static void check_own_window(struct mql_session_config cfg, const uint8_t *connack, size_t n,
                             size_t want) {
        struct harness *h = h_new(cfg);
        struct mql_session_stats st;
        struct mql_publish p;

        h_connect_with(h, connack, n);
        for (int i = 0; i < 25; i++)
                assert_true(pub(h, "t/a", "x", 1, false, NULL) >= 0);
        for (size_t i = 0; i < want; i++)
                next_publish(h, &p);
        expect_no_output(h);
        get_stats(h, &st);
        assert_int_equal(st.inflight, want);
        assert_int_equal(st.queued, 25 - want);
        h_free(h);
}

static void test_v311_own_inflight_window(void **state) {
        static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
        check_own_window(base_config(MQL_V311), connack, sizeof(connack), 20);
}

static void test_v5_max_inflight_below_receive_maximum(void **state) {
        /* Broker: Receive Maximum 10; ours: 4. */
        static const uint8_t connack[] = { 0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x0A };
        struct mql_session_config cfg = base_config(MQL_V5);
        cfg.max_inflight = 4;
        check_own_window(cfg, connack, sizeof(connack), 4);
}

static void test_v5_receive_maximum_qos0_passes(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));

        h_connect_with(h, BYTES(0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x01));
        assert_true(pub(h, "t/a", "1", 1, false, NULL) > 0);
        assert_int_equal(pub(h, "t/a", "2", 0, false, NULL), 0);
        {
                struct mql_publish p;

                next_publish(h, &p);
                assert_int_equal(p.qos, 1);
                next_publish(h, &p);
                assert_int_equal(p.qos, 0);
                assert_true(bin_is(p.payload, "2"));
        }
        expect_no_output(h);
        h_free(h);
}

/* MQTT-3.3.4-9: the broker sent more unacknowledged QoS 2 than our Receive
 * Maximum: DISCONNECT 0x93 (§4.9). */
static void test_v5_client_receive_maximum(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct mql_packet pkt;
        struct mql_prop p;
        struct harness *h;
        uint8_t buf[64];
        size_t n;

        cfg.receive_maximum = 2;
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(mql_props_find(&pkt.connect.props, MQL_PROP_RECEIVE_MAXIMUM, &p), 1);
        assert_int_equal(p.u32, 2);
        broker_send_ok(h, connack_v5, sizeof(connack_v5));

        n = make_publish(buf, MQL_V5, 0x04, "t/a", 1, "1");
        broker_send_ok(h, buf, n);
        expect_output(h, BYTES(0x50, 0x02, 0x00, 0x01));
        n = make_publish(buf, MQL_V5, 0x04, "t/a", 2, "2");
        broker_send_ok(h, buf, n);
        expect_output(h, BYTES(0x50, 0x02, 0x00, 0x02));
        n = make_publish(buf, MQL_V5, 0x04, "t/a", 3, "3");
        assert_int_equal(broker_send(h, buf, n), -EPROTO);
        expect_output(h, BYTES(0xE0, 0x01, 0x93));
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 2);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
        h_free(h);
}

/* The window frees up when PUBCOMP is sent (§4.9: until PUBCOMP). */
static void test_v5_client_receive_maximum_released(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h;
        uint8_t buf[64];
        size_t n;

        cfg.receive_maximum = 1;
        h = h_new(cfg);
        h_connect(h);
        for (uint16_t id = 1; id <= 3; id++) {
                n = make_publish(buf, MQL_V5, 0x04, "t/a", id, "x");
                broker_send_ok(h, buf, n);
                expect_output(h, BYTES(0x50, 0x02, 0x00, LO(id)));
                broker_send_ok(h, BYTES(0x62, 0x02, 0x00, LO(id)));
                expect_output(h, BYTES(0x70, 0x02, 0x00, LO(id)));
        }
        /* QoS 1 is acknowledged at once: it never fills the window. */
        for (uint16_t id = 4; id <= 6; id++) {
                n = make_publish(buf, MQL_V5, 0x02, "t/a", id, "y");
                broker_send_ok(h, buf, n);
                expect_output(h, BYTES(0x40, 0x02, 0x00, LO(id)));
        }
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 6);
        h_free(h);
}

/* ------------------------------------------------------------------ topic aliases */

static struct harness *h_alias_in(void) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct mql_packet pkt;
        struct mql_prop p;
        struct harness *h;

        cfg.topic_alias_maximum = 10;
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(mql_props_find(&pkt.connect.props, MQL_PROP_TOPIC_ALIAS_MAXIMUM, &p), 1);
        assert_int_equal(p.u32, 10);
        broker_send_ok(h, connack_v5, sizeof(connack_v5));
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);
        return h;
}

/* §3.3.2.3.4 and §3.3.4: a topic with an alias sets the mapping, an empty
 * topic with the alias uses it, a new topic with the alias replaces it. */
static void test_v5_topic_alias_inbound(void **state) {
        struct harness *h = h_alias_in();

        broker_send_ok(h,
                       BYTES(0x30, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x03, 0x23, 0x00, 0x01, 'x'));
        assert_message(last_event(h), "a/b", "x", 0);
        broker_send_ok(h, BYTES(0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'y'));
        assert_message(last_event(h), "a/b", "y", 0);
        broker_send_ok(h,
                       BYTES(0x30, 0x0A, 0x00, 0x03, 'c', '/', 'd', 0x03, 0x23, 0x00, 0x01, 'z'));
        assert_message(last_event(h), "c/d", "z", 0);
        /* QoS 1 through the alias, acknowledged as usual. */
        broker_send_ok(h, BYTES(0x32, 0x09, 0x00, 0x00, 0x00, 0x05, 0x03, 0x23, 0x00, 0x01, 'w'));
        assert_message(last_event(h), "c/d", "w", 1);
        expect_output(h, BYTES(0x40, 0x02, 0x00, 0x05));
        /* The largest alias allowed. */
        broker_send_ok(h, BYTES(0x30, 0x08, 0x00, 0x01, 'e', 0x03, 0x23, 0x00, 0x0A, 'v'));
        broker_send_ok(h, BYTES(0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x0A, 'u'));
        assert_message(last_event(h), "e", "u", 0);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 6);
        expect_no_output(h);
        h_free(h);
}

static void alias_refused(const uint8_t *bytes, size_t len, uint8_t reason) {
        struct harness *h = h_alias_in();

        assert_int_equal(broker_send(h, bytes, len), -EPROTO);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 0);
        expect_output(h, BYTES(0xE0, 0x01, reason));
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
        h_free(h);
}

/* §3.3.4: "A Topic Alias value of 0 or greater than the Maximum Topic Alias
 * is a Protocol Error, the receiver uses DISCONNECT with Reason Code of 0x94
 * (Topic Alias invalid)". */
/* Alias 0 is refused by the codec itself (MQTT-3.3.2-8, a Protocol Error),
 * before the session sees which property was wrong; §3.3.2.3.4 names 0x94
 * only for an alias above the maximum, so the general 0x82 is what we send. */
static void test_v5_topic_alias_zero(void **state) {
        alias_refused(BYTES(0x30, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x03, 0x23, 0x00, 0x00, 'x'),
                      0x82);
}

static void test_v5_topic_alias_over_max(void **state) {
        alias_refused(BYTES(0x30, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x03, 0x23, 0x00, 0x0B, 'x'),
                      0x94);
}

/* We announced no aliases (Topic Alias Maximum absent = 0, MQTT-3.1.2-26). */
static void test_v5_topic_alias_none_allowed(void **state) {
        struct harness *h = h_connected(MQL_V5);

        assert_int_equal(broker_send(h, BYTES(0x30, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x03, 0x23,
                                              0x00, 0x01, 'x')),
                         -EPROTO);
        expect_output(h, BYTES(0xE0, 0x01, 0x94));
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 0);
        h_free(h);
}

/* §3.3.4: an empty topic with an alias not mapped yet: "it is a Protocol
 * Error and the receiver uses DISCONNECT with Reason Code of 0x82". */
static void test_v5_topic_alias_unknown(void **state) {
        alias_refused(BYTES(0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x02, 'y'), 0x82);
}

/* MQTT-3.3.2-7: mappings do not survive the connection. */
static void test_v5_topic_alias_not_carried_over(void **state) {
        struct harness *h = h_alias_in();

        broker_send_ok(h,
                       BYTES(0x30, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x03, 0x23, 0x00, 0x01, 'x'));
        assert_message(last_event(h), "a/b", "x", 0);
        mql_session_connection_lost(h->s);
        h_connect(h);
        assert_int_equal(broker_send(h, BYTES(0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'y')),
                         -EPROTO);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 1);
        expect_output(h, BYTES(0xE0, 0x01, 0x82));
        h_free(h);
}

static const uint8_t connack_alias5[] = { 0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x05 };

/* Outbound: the broker allows 5 (CONNACK Topic Alias Maximum). */
static void test_v5_topic_alias_outbound(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct mql_publish p;
        struct mql_prop prop;
        struct harness *h;
        struct pub_cb cb = { 0 };
        uint16_t alias, alias2, resend_alias = 0;
        int id;

        cfg.outbound_topic_aliases = true;
        cfg.clean_start = false;
        cfg.session_expiry = 600;
        h = h_new(cfg);
        h_connect_with(h, connack_alias5, sizeof(connack_alias5));

        /* First use: topic and alias; MQTT-3.3.2-9: 1 <= alias <= 5. */
        assert_int_equal(pub(h, "x/y", "1", 0, false, NULL), 0);
        alias = expect_packet_u16(
                h, BYTES(0x30, 0x0A, 0x00, 0x03, 'x', '/', 'y', 0x03, 0x23, 0x00, 0x00, '1'), 9);
        assert_true(alias >= 1 && alias <= 5);
        /* Then an empty topic and the same alias. */
        assert_int_equal(pub(h, "x/y", "2", 0, false, NULL), 0);
        expect_output(h, BYTES(0x30, 0x07, 0x00, 0x00, 0x03, 0x23, HI(alias), LO(alias), '2'));
        id = pub(h, "x/y", "3", 1, false, &cb);
        assert_true(id > 0);
        expect_output(h, BYTES(0x32, 0x09, 0x00, 0x00, HI(id), LO(id), 0x03, 0x23, HI(alias),
                               LO(alias), '3'));

        /* Reconnect with the message unacknowledged: the mapping is gone
         * (MQTT-3.3.2-7), so the resent PUBLISH names its topic again. */
        mql_session_connection_lost(h->s);
        h_connect_with(h, BYTES(0x20, 0x06, 0x01, 0x00, 0x03, 0x22, 0x00, 0x05));
        next_publish(h, &p);
        assert_true(p.dup);
        assert_int_equal(p.packet_id, id);
        assert_true(str_is(p.topic, "x/y"));
        assert_true(bin_is(p.payload, "3"));
        if (mql_props_find(&p.props, MQL_PROP_TOPIC_ALIAS, &prop) == 1)
                resend_alias = (uint16_t)prop.u32;
        expect_no_output(h);
        broker_send_ok(h, BYTES(0x40, 0x02, HI(id), LO(id)));
        assert_int_equal(cb.calls, 1);

        /* A new publish: either the resend set the alias up again, or it
         * starts over with topic + alias. */
        assert_int_equal(pub(h, "x/y", "4", 0, false, NULL), 0);
        next_publish(h, &p);
        assert_int_equal(mql_props_find(&p.props, MQL_PROP_TOPIC_ALIAS, &prop), 1);
        alias2 = (uint16_t)prop.u32;
        assert_true(alias2 >= 1 && alias2 <= 5);
        if (resend_alias != 0 && p.topic.len == 0)
                assert_int_equal(alias2, resend_alias);
        else
                assert_true(str_is(p.topic, "x/y"));
        h_free(h);
}

/* No aliases unless both sides want them. */
static void test_v5_topic_alias_outbound_off(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h;

        /* The broker offers none (Topic Alias Maximum absent = 0). */
        cfg.outbound_topic_aliases = true;
        h = h_new(cfg);
        h_connect(h);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(pub(h, "x/y", "1", 0, false, NULL), 0);
                expect_output(h, BYTES(0x30, 0x07, 0x00, 0x03, 'x', '/', 'y', 0x00, '1'));
        }
        h_free(h);

        /* The broker offers 5, we did not ask. */
        cfg.outbound_topic_aliases = false;
        h = h_new(cfg);
        h_connect_with(h, connack_alias5, sizeof(connack_alias5));
        for (int i = 0; i < 2; i++) {
                assert_int_equal(pub(h, "x/y", "1", 0, false, NULL), 0);
                expect_output(h, BYTES(0x30, 0x07, 0x00, 0x03, 'x', '/', 'y', 0x00, '1'));
        }
        h_free(h);
}

/* ------------------------------------------------------------------ Maximum Packet Size */

/* Publishes `payload_len` bytes to "t/a": `want` < 0 is the error expected,
 * else the size of the PUBLISH that must come out. `cb` outlives the session. */
static void publish_sized(struct harness *h, size_t payload_len, uint8_t qos, int want,
                          struct pub_cb *cb) {
        struct mql_message m = { .topic = mql_str_from("t/a"), .qos = qos };
        uint8_t *pl = malloc(payload_len + 1);
        int calls = cb->calls;
        int r;

        assert_non_null(pl);
        memset(pl, 'p', payload_len);
        m.payload = (struct mql_bin){ pl, payload_len };
        r = mql_session_publish(h->s, &m, on_publish, cb);
        if (want < 0) {
                assert_int_equal(r, want);
                expect_no_output(h);
                assert_int_equal(cb->calls, calls);
        } else {
                const uint8_t *p;

                assert_true(r >= 0);
                assert_int_equal(next_packet_at(h, __FILE__, __LINE__, &p), (size_t)want);
                consume(h, (size_t)want);
                expect_no_output(h);
        }
        free(pl);
}

/* MQTT-3.1.2-24: nothing larger than the broker's Maximum Packet Size. */
static void test_v5_server_maximum_packet_size(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        struct mql_session_stats st;
        struct pub_cb cb = { 0 };

        h_connect_with(h, BYTES(0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x40));
        get_stats(h, &st);
        assert_int_equal(st.server_maximum_packet_size, 64);
        /* 2 + (2 + 3) + 1 + 56 = 64 bytes: fits exactly. */
        publish_sized(h, 56, 0, 64, &cb);
        assert_int_equal(cb.calls, 1);
        publish_sized(h, 57, 0, -EMSGSIZE, &cb);
        /* QoS 1 adds the packet identifier. */
        publish_sized(h, 54, 1, 64, &cb);
        publish_sized(h, 55, 1, -EMSGSIZE, &cb);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 1);
        assert_int_equal(st.queued, 0);
        h_free(h);
        assert_int_equal(cb.calls, 2); /* the QoS 1 one cancelled by free */
        assert_int_equal(cb.reason, -ECANCELED);
}

/* Our maximum_packet_size: a larger inbound packet is refused
 * (MQTT-3.1.2-25 is the broker's duty; §4.13: DISCONNECT 0x95). */
static void client_maximum_packet_size(enum mql_version v) {
        struct mql_session_config cfg = base_config(v);
        struct mql_packet pkt;
        struct mql_prop p;
        struct harness *h;
        uint8_t buf[128];
        size_t n;

        cfg.maximum_packet_size = 64;
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        if (v == MQL_V5) {
                assert_int_equal(
                        mql_props_find(&pkt.connect.props, MQL_PROP_MAXIMUM_PACKET_SIZE, &p), 1);
                assert_int_equal(p.u32, 64);
                broker_send_ok(h, connack_v5, sizeof(connack_v5));
        } else {
                broker_send_ok(h, connack_v311, sizeof(connack_v311));
        }
        n = make_sized_publish(buf, v, 64);
        broker_send_ok(h, buf, n);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 1);
        n = make_sized_publish(buf, v, 65);
        assert_int_equal(broker_send(h, buf, n), -EMSGSIZE);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 1);
        if (v == MQL_V5) {
                expect_output(h, BYTES(0xE0, 0x01, 0x95));
                assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
        } else {
                expect_no_output(h);
        }
        h_free(h);
}

static void test_client_maximum_packet_size_v311(void **state) {
        client_maximum_packet_size(MQL_V311);
}

static void test_client_maximum_packet_size_v5(void **state) {
        client_maximum_packet_size(MQL_V5);
}

/* Refused at the fixed header, before the rest has arrived. */
static void test_client_maximum_packet_size_early(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h;

        cfg.maximum_packet_size = 64;
        h = h_new(cfg);
        h_connect(h);
        /* Remaining Length 1000 (0xE8 0x07). */
        assert_int_equal(broker_send(h, BYTES(0x30, 0xE8, 0x07, 0x00, 0x03)), -EMSGSIZE);
        expect_output(h, BYTES(0xE0, 0x01, 0x95));
        h_free(h);
}

/* What the CONNACK reveals after messages were queued offline is told
 * through their callbacks: -EMSGSIZE, -EOPNOTSUPP (Maximum QoS, Retain
 * Available: MQTT-3.2.2-11 / -14). */
static void test_v5_offline_then_limits(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        struct pub_cb big = { 0 }, q2 = { 0 }, ret = { 0 }, ok = { 0 };
        char payload[101];
        struct mql_publish p;

        memset(payload, 'b', 100);
        payload[100] = '\0';
        assert_int_equal(pub(h, "t/a", payload, 0, false, &big), 0);
        assert_int_equal(pub(h, "t/a", "2", 2, false, &q2), 0);
        assert_int_equal(pub(h, "t/a", "r", 0, true, &ret), 0);
        assert_int_equal(pub(h, "t/a", "ok", 1, false, &ok), 0);
        /* Maximum QoS 1, Retain Available 0, Maximum Packet Size 64. */
        h_connect_with(h, BYTES(0x20, 0x0C, 0x00, 0x00, 0x09, 0x24, 0x01, 0x25, 0x00, 0x27, 0x00,
                                0x00, 0x00, 0x40));
        next_publish(h, &p);
        assert_true(bin_is(p.payload, "ok"));
        assert_int_equal(p.qos, 1);
        expect_no_output(h);
        assert_int_equal(big.calls, 1);
        assert_int_equal(big.reason, -EMSGSIZE);
        assert_int_equal(q2.calls, 1);
        assert_int_equal(q2.reason, -EOPNOTSUPP);
        assert_int_equal(ret.calls, 1);
        assert_int_equal(ret.reason, -EOPNOTSUPP);
        assert_int_equal(ok.calls, 0);
        h_free(h);
}

/* ------------------------------------------------------------------ resume */

struct resume_fixture {
        struct harness *h;
        struct pub_cb a, b, c, d;
        struct sub_cb sub;
        uint16_t ida, idb, idc;
};

/*
 * One QoS 1 message waiting for PUBACK (A), one QoS 2 waiting for PUBREC
 * (B), one QoS 2 waiting for PUBCOMP after our PUBREL (C); a subscription
 * acknowledged. Then the connection breaks, D is published offline, and the
 * next connection starts: CONNECT written, no CONNACK yet.
 */
static void resume_setup(struct resume_fixture *f, enum mql_version v,
                         enum mql_resume_policy policy) {
        struct mql_session_config cfg = base_config(v);
        const struct mql_subscription sub = { .filter = mql_str_from("s/1"), .qos = 1 };
        struct mql_packet pkt;
        uint16_t sid;
        struct harness *h;

        memset(f, 0, sizeof(*f));
        cfg.clean_start = false;
        cfg.session_expiry = 3600;
        cfg.resume_policy = policy;
        h = f->h = h_new(cfg);
        h_connect(h);
        assert_int_equal(mql_session_subscribe(h->s, &sub, 1, NULL, on_subscribe, &f->sub), 0);
        if (v == MQL_V5) {
                sid = expect_packet_u16(
                        h, BYTES(0x82, 0x09, 0x00, 0x00, 0x00, 0x00, 0x03, 's', '/', '1', 0x01), 2);
                broker_send_ok(h, BYTES(0x90, 0x04, HI(sid), LO(sid), 0x00, 0x01));
        } else {
                sid = expect_packet_u16(
                        h, BYTES(0x82, 0x08, 0x00, 0x00, 0x00, 0x03, 's', '/', '1', 0x01), 2);
                broker_send_ok(h, BYTES(0x90, 0x03, HI(sid), LO(sid), 0x01));
        }
        assert_int_equal(f->sub.calls, 1);
        assert_int_equal(f->sub.reasons[0], 0x01);
        f->ida = (uint16_t)pub(h, "t/a", "A", 1, false, &f->a);
        f->idb = (uint16_t)pub(h, "t/b", "B", 2, false, &f->b);
        f->idc = (uint16_t)pub(h, "t/c", "C", 2, false, &f->c);
        assert_true(f->ida > 0 && f->idb > 0 && f->idc > 0);
        assert_true(f->ida != f->idb && f->idb != f->idc && f->ida != f->idc);
        for (int i = 0; i < 3; i++) {
                struct mql_publish p;

                next_publish(h, &p);
                assert_false(p.dup);
        }
        broker_send_ok(h, BYTES(0x50, 0x02, HI(f->idc), LO(f->idc)));
        expect_output(h, BYTES(0x62, 0x02, HI(f->idc), LO(f->idc)));

        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTED);
        assert_int_equal(pub(h, "t/d", "D", 1, false, &f->d), 0);
        expect_no_output(h);
        assert_int_equal(f->a.calls + f->b.calls + f->c.calls + f->d.calls, 0);

        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(pkt.type, MQL_CONNECT);
        assert_false(pkt.connect.clean_start);
        assert_true(str_is(pkt.connect.client_id, "c1"));
        expect_no_output(h);
}

static void send_connack_sp(struct harness *h, bool sp) {
        size_t before = h->n_ev;

        if (h->version == MQL_V311)
                broker_send_ok(h, BYTES(0x20, 0x02, sp ? 0x01 : 0x00, 0x00));
        else
                broker_send_ok(h, BYTES(0x20, 0x03, sp ? 0x01 : 0x00, 0x00, 0x00));
        assert_true(h->n_ev > before);
        assert_int_equal(h->ev[before].type, MQL_EVENT_CONNECTED);
        assert_int_equal(h->ev[before].session_present, sp);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);
}

/* Session present: MQTT-4.4.0-1 (3.1.1 MQTT-4.4.0-1 too) resend unacknowledged
 * PUBLISH with DUP=1 (MQTT-3.3.1-1) and PUBREL with their original packet
 * identifiers, in the original order (MQTT-4.6.0-1), before anything new. */
static void resume_present(enum mql_version v) {
        struct resume_fixture f;
        struct mql_session_stats st;
        struct mql_publish p;
        struct harness *h;
        uint8_t exp[64];
        size_t n;
        uint16_t idd;

        resume_setup(&f, v, MQL_RESUME_REQUEUE);
        h = f.h;
        send_connack_sp(h, true);
        n = make_publish(exp, v, 0x08 | 0x02, "t/a", f.ida, "A");
        expect_packet(h, exp, n);
        n = make_publish(exp, v, 0x08 | 0x04, "t/b", f.idb, "B");
        expect_packet(h, exp, n);
        expect_packet(h, BYTES(0x62, 0x02, HI(f.idc), LO(f.idc)));
        next_publish(h, &p);
        assert_true(str_is(p.topic, "t/d"));
        assert_false(p.dup);
        assert_int_equal(p.qos, 1);
        idd = p.packet_id;
        assert_true(idd != f.ida && idd != f.idb && idd != f.idc);
        /* The broker kept our subscription: no SUBSCRIBE. */
        expect_no_output(h);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 4);
        assert_int_equal(st.queued, 0);

        broker_send_ok(h, BYTES(0x40, 0x02, HI(f.ida), LO(f.ida)));
        broker_send_ok(h, BYTES(0x50, 0x02, HI(f.idb), LO(f.idb)));
        expect_output(h, BYTES(0x62, 0x02, HI(f.idb), LO(f.idb)));
        broker_send_ok(h, BYTES(0x70, 0x02, HI(f.idb), LO(f.idb)));
        broker_send_ok(h, BYTES(0x70, 0x02, HI(f.idc), LO(f.idc)));
        broker_send_ok(h, BYTES(0x40, 0x02, HI(idd), LO(idd)));
        expect_no_output(h);
        assert_int_equal(f.a.calls, 1);
        assert_int_equal(f.a.reason, 0);
        assert_int_equal(f.a.id, f.ida);
        assert_int_equal(f.b.calls, 1);
        assert_int_equal(f.b.reason, 0);
        assert_int_equal(f.c.calls, 1);
        assert_int_equal(f.c.reason, 0);
        assert_int_equal(f.c.id, f.idc);
        assert_int_equal(f.d.calls, 1);
        assert_int_equal(f.d.reason, 0);
        assert_int_equal(f.d.id, idd);
        get_stats(h, &st);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.published, 4);
        h_free(h);
}

static void test_resume_present_v311(void **state) {
        resume_present(MQL_V311);
}

static void test_resume_present_v5(void **state) {
        resume_present(MQL_V5);
}

/* Reads every packet out after a session-less CONNACK: the SUBSCRIBEs must
 * hold exactly "s/1" QoS 1; the PUBLISH topics go to `topics`. */
static size_t collect_after_no_session(struct harness *h, char topics[][8], uint8_t *qos,
                                       size_t max) {
        struct mql_packet pkt;
        size_t n_pub = 0, n_sub = 0;

        while (drain_decode(h, &pkt)) {
                if (pkt.type == MQL_SUBSCRIBE) {
                        struct mql_filter_iter it;
                        struct mql_subscription sub;

                        n_sub++;
                        mql_filter_iter_init(&it, &pkt.subscribe.filters, MQL_SUBSCRIBE);
                        assert_int_equal(mql_filter_iter_next(&it, &sub), 1);
                        assert_true(str_is(sub.filter, "s/1"));
                        assert_int_equal(sub.qos, 1);
                        assert_int_equal(mql_filter_iter_next(&it, &sub), 0);
                        continue;
                }
                /* No PUBREL: the broker has no state for it. */
                assert_int_equal(pkt.type, MQL_PUBLISH);
                /* A new session: new messages, DUP 0. */
                assert_false(pkt.publish.dup);
                assert_true(n_pub < max);
                assert_true(pkt.publish.topic.len < 8);
                memcpy(topics[n_pub], pkt.publish.topic.ptr, pkt.publish.topic.len);
                topics[n_pub][pkt.publish.topic.len] = '\0';
                qos[n_pub] = pkt.publish.qos;
                n_pub++;
        }
        /* "subscribes again when a reconnect finds no session" */
        assert_int_equal(n_sub, 1);
        return n_pub;
}

static void resume_requeue(enum mql_version v) {
        struct resume_fixture f;
        struct harness *h;
        char topics[8][8];
        uint8_t qos[8];
        size_t n;

        resume_setup(&f, v, MQL_RESUME_REQUEUE);
        h = f.h;
        send_connack_sp(h, false);
        n = collect_after_no_session(h, topics, qos, 8);
        /* A and B again as new messages, in order, then D. C is not sent
         * again: its PUBREL went out, and the sender "MUST NOT re-send the
         * PUBLISH once it has sent the corresponding PUBREL" (MQTT-4.3.3-6;
         * 3.1.1 §4.3.3): the broker may have delivered it already. */
        assert_int_equal(n, 3);
        assert_string_equal(topics[0], "t/a");
        assert_int_equal(qos[0], 1);
        assert_string_equal(topics[1], "t/b");
        assert_int_equal(qos[1], 2);
        assert_string_equal(topics[2], "t/d");
        assert_int_equal(qos[2], 1);
        assert_int_equal(f.a.calls, 0);
        assert_int_equal(f.b.calls, 0);
        assert_int_equal(f.d.calls, 0);
        /* C is done: with its PUBREC the broker took ownership of it
         * (MQTT-4.3.3-8; 3.1.1 MQTT-4.3.3-2). */
        assert_int_equal(f.c.calls, 1);
        assert_int_equal(f.c.reason, 0);
        h_free(h);
}

static void test_resume_requeue_v311(void **state) {
        resume_requeue(MQL_V311);
}

static void test_resume_requeue_v5(void **state) {
        resume_requeue(MQL_V5);
}

static void resume_fail(enum mql_version v) {
        struct resume_fixture f;
        struct harness *h;
        char topics[8][8];
        uint8_t qos[8];
        size_t n;

        resume_setup(&f, v, MQL_RESUME_FAIL);
        h = f.h;
        send_connack_sp(h, false);
        assert_int_equal(f.a.calls, 1);
        assert_int_equal(f.a.reason, -ECANCELED);
        assert_int_equal(f.b.calls, 1);
        assert_int_equal(f.b.reason, -ECANCELED);
        /* C is not cancelled: its PUBREC told us the broker had taken
         * ownership of it (MQTT-4.3.3-8; 3.1.1 MQTT-4.3.3-2); only the
         * PUBREL/PUBCOMP bookkeeping was lost. */
        assert_int_equal(f.c.calls, 1);
        assert_int_equal(f.c.reason, 0);
        /* D was never in flight: it goes out as usual. */
        n = collect_after_no_session(h, topics, qos, 8);
        assert_int_equal(n, 1);
        assert_string_equal(topics[0], "t/d");
        assert_int_equal(f.d.calls, 0);
        h_free(h);
}

static void test_resume_fail_v311(void **state) {
        resume_fail(MQL_V311);
}

static void test_resume_fail_v5(void **state) {
        resume_fail(MQL_V5);
}

/* Unsubscribed filters are forgotten: not subscribed again. */
static void test_resubscribe_forgets_unsubscribed(void **state) {
        struct mql_session_config cfg = base_config(MQL_V311);
        const struct mql_subscription subs[] = {
                { .filter = mql_str_from("a/b"), .qos = 1 },
                { .filter = mql_str_from("c/#"), .qos = 2 },
        };
        const struct mql_str un = mql_str_from("c/#");
        struct mql_filter_iter it;
        struct mql_subscription sub;
        struct mql_packet pkt;
        struct harness *h;
        uint16_t id;

        cfg.clean_start = false;
        h = h_new(cfg);
        h_connect(h);
        assert_int_equal(mql_session_subscribe(h->s, subs, 2, NULL, NULL, NULL), 0);
        id = expect_packet_u16(h,
                               BYTES(0x82, 0x0E, 0x00, 0x00, 0x00, 0x03, 'a', '/', 'b', 0x01, 0x00,
                                     0x03, 'c', '/', '#', 0x02),
                               2);
        broker_send_ok(h, BYTES(0x90, 0x04, HI(id), LO(id), 0x01, 0x02));
        assert_int_equal(mql_session_unsubscribe(h->s, &un, 1, NULL, NULL, NULL), 0);
        id = expect_packet_u16(h, BYTES(0xA2, 0x07, 0x00, 0x00, 0x00, 0x03, 'c', '/', '#'), 2);
        broker_send_ok(h, BYTES(0xB0, 0x02, HI(id), LO(id)));
        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        send_connack_sp(h, false);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(pkt.type, MQL_SUBSCRIBE);
        mql_filter_iter_init(&it, &pkt.subscribe.filters, MQL_SUBSCRIBE);
        assert_int_equal(mql_filter_iter_next(&it, &sub), 1);
        assert_true(str_is(sub.filter, "a/b"));
        assert_int_equal(sub.qos, 1);
        assert_int_equal(mql_filter_iter_next(&it, &sub), 0);
        expect_no_output(h);
        h_free(h);
}

/* ------------------------------------------------------------------ offline queue */

static void offline_queue(enum mql_version v) {
        struct harness *h = h_new(base_config(v));
        struct mql_session_stats st;
        struct pub_cb cb[4] = { 0 };
        struct mql_packet pkt;
        struct mql_publish p;
        uint16_t ids[4];

        assert_int_equal(pub(h, "q/0", "a", 0, false, &cb[0]), 0);
        assert_int_equal(pub(h, "q/1", "b", 1, false, &cb[1]), 0);
        assert_int_equal(pub(h, "q/2", "c", 2, false, &cb[2]), 0);
        expect_no_output(h);
        get_stats(h, &st);
        assert_int_equal(st.queued, 3);
        assert_true(st.queued_bytes >= 3);
        assert_int_equal(st.inflight, 0);

        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(pkt.type, MQL_CONNECT);
        /* Nothing before the CONNACK: its limits and Session Present decide
         * what may go. */
        expect_no_output(h);
        assert_int_equal(pub(h, "q/3", "d", 1, false, &cb[3]), 0);
        expect_no_output(h);
        send_connack_sp(h, false);

        for (int i = 0; i < 4; i++) {
                static const char *const topic[] = { "q/0", "q/1", "q/2", "q/3" };
                static const char *const payload[] = { "a", "b", "c", "d" };
                static const uint8_t q[] = { 0, 1, 2, 1 };

                next_publish(h, &p);
                assert_true(str_is(p.topic, topic[i]));
                assert_true(bin_is(p.payload, payload[i]));
                assert_int_equal(p.qos, q[i]);
                assert_false(p.dup);
                ids[i] = p.packet_id;
        }
        expect_no_output(h);
        assert_int_equal(cb[0].calls, 1);
        assert_int_equal(cb[0].reason, 0);
        get_stats(h, &st);
        assert_int_equal(st.queued, 0);
        assert_int_equal(st.queued_bytes, 0);
        assert_int_equal(st.inflight, 3);

        broker_send_ok(h, BYTES(0x40, 0x02, HI(ids[1]), LO(ids[1])));
        broker_send_ok(h, BYTES(0x50, 0x02, HI(ids[2]), LO(ids[2])));
        expect_output(h, BYTES(0x62, 0x02, HI(ids[2]), LO(ids[2])));
        broker_send_ok(h, BYTES(0x70, 0x02, HI(ids[2]), LO(ids[2])));
        broker_send_ok(h, BYTES(0x40, 0x02, HI(ids[3]), LO(ids[3])));
        for (int i = 1; i < 4; i++) {
                assert_int_equal(cb[i].calls, 1);
                assert_int_equal(cb[i].reason, 0);
                assert_int_equal(cb[i].id, ids[i]);
        }
        h_free(h);
}

static void test_offline_queue_v311(void **state) {
        offline_queue(MQL_V311);
}

static void test_offline_queue_v5(void **state) {
        offline_queue(MQL_V5);
}

static void test_offline_queue_messages_bound(void **state) {
        struct mql_session_config cfg = base_config(MQL_V311);
        struct mql_session_stats st;
        struct pub_cb over = { 0 };
        struct mql_publish p;
        struct harness *h;

        cfg.offline_queue_messages = 3;
        h = h_new(cfg);
        assert_int_equal(pub(h, "t/a", "1", 1, false, NULL), 0);
        assert_int_equal(pub(h, "t/a", "2", 0, false, NULL), 0);
        assert_int_equal(pub(h, "t/a", "3", 2, false, NULL), 0);
        /* Never a silent drop: the caller is told. */
        assert_int_equal(pub(h, "t/a", "4", 1, false, &over), -ENOBUFS);
        assert_int_equal(pub(h, "t/a", "5", 0, false, &over), -ENOBUFS);
        assert_int_equal(over.calls, 0);
        get_stats(h, &st);
        assert_int_equal(st.queued, 3);
        h_connect(h);
        for (int i = 0; i < 3; i++) {
                char want[2] = { (char)('1' + i), 0 };

                next_publish(h, &p);
                assert_true(bin_is(p.payload, want));
        }
        expect_no_output(h);
        assert_int_equal(over.calls, 0);
        h_free(h);
}

static void test_offline_queue_bytes_bound(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct mql_session_stats st;
        struct pub_cb over = { 0 };
        char big[101];
        int accepted = 0, r = 0;
        struct mql_publish p;
        struct harness *h;

        cfg.offline_queue_bytes = 64;
        h = h_new(cfg);
        memset(big, 'x', 100);
        big[100] = '\0';
        assert_int_equal(pub(h, "t/a", big, 1, false, &over), -ENOBUFS);
        get_stats(h, &st);
        assert_int_equal(st.queued, 0);
        for (int i = 0; i < 20; i++) {
                r = pub(h, "t/a", "0123456789", 1, false, &over);
                if (r < 0)
                        break;
                assert_int_equal(r, 0);
                accepted++;
        }
        assert_int_equal(r, -ENOBUFS);
        assert_true(accepted >= 1 && accepted <= 6);
        assert_int_equal(over.calls, 0);
        get_stats(h, &st);
        assert_int_equal(st.queued, (size_t)accepted);
        assert_true(st.queued_bytes <= 64);
        h_connect(h);
        for (int i = 0; i < accepted; i++) {
                next_publish(h, &p);
                assert_true(bin_is(p.payload, "0123456789"));
        }
        expect_no_output(h);
        h_free(h);
}

/* ------------------------------------------------------------------ malformed input */

struct bad_input {
        const char *what;
        uint8_t bytes[16];
        size_t len;
        int err;
};

#define BAD(w, e, ...) \
        { w, { __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), e }

static void bad_input(enum mql_version v, const struct bad_input *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct harness *h = h_connected(v);
                int r = broker_send(h, cases[i].bytes, cases[i].len);

                if (r != cases[i].err)
                        fail_msg("%s (v%d): receive gave %d, want %d", cases[i].what, (int)v, r,
                                 cases[i].err);
                assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 0);
                if (v == MQL_V5) {
                        /* §4.13.1: DISCONNECT 0x81 Malformed Packet or 0x82
                         * Protocol Error, then close. */
                        uint8_t rc = cases[i].err == -EBADMSG ? 0x81 : 0x82;

                        expect_output(h, BYTES(0xE0, 0x01, rc));
                        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
                } else {
                        /* 3.1.1 §4.8: close the connection, nothing sent. */
                        expect_no_output(h);
                }
                h_free(h);
        }
}

static const struct bad_input malformed_v311[] = {
        BAD("packet type 0", -EBADMSG, 0x00, 0x00),
        BAD("Remaining Length not in shortest form", -EBADMSG, 0x30, 0x80, 0x00),
        BAD("Remaining Length of 5 bytes", -EBADMSG, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
        BAD("PUBLISH QoS 3", -EBADMSG, 0x36, 0x05, 0x00, 0x03, 't', '/', 'a'),
        BAD("SUBACK reserved flags", -EBADMSG, 0x92, 0x03, 0x00, 0x01, 0x00),
        BAD("PINGRESP with a body", -EBADMSG, 0xD0, 0x01, 0x00),
        BAD("PUBACK of 3 bytes", -EBADMSG, 0x40, 0x03, 0x00, 0x01, 0x00),
        BAD("topic ill-formed UTF-8", -EBADMSG, 0x30, 0x05, 0x00, 0x02, 0xC3, 0x28, 'x'),
        BAD("AUTH in 3.1.1", -EBADMSG, 0xF0, 0x00),
        BAD("PUBLISH QoS 1 packet id 0", -EPROTO, 0x32, 0x07, 0x00, 0x03, 't', '/', 'a', 0x00,
            0x00),
        BAD("SUBSCRIBE to a client", -EPROTO, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
        BAD("PINGREQ to a client", -EPROTO, 0xC0, 0x00),
        BAD("second CONNACK", -EPROTO, 0x20, 0x02, 0x00, 0x00),
};

static const struct bad_input malformed_v5[] = {
        BAD("packet type 0", -EBADMSG, 0x00, 0x00),
        BAD("Remaining Length not in shortest form", -EBADMSG, 0x30, 0x80, 0x00),
        BAD("PUBLISH QoS 3", -EBADMSG, 0x36, 0x06, 0x00, 0x03, 't', '/', 'a', 0x00),
        BAD("SUBACK reserved flags", -EBADMSG, 0x92, 0x04, 0x00, 0x01, 0x00, 0x00),
        BAD("PINGRESP with a body", -EBADMSG, 0xD0, 0x01, 0x00),
        BAD("topic ill-formed UTF-8", -EBADMSG, 0x30, 0x06, 0x00, 0x02, 0xC3, 0x28, 0x00, 'x'),
        BAD("property length past the end", -EBADMSG, 0x30, 0x07, 0x00, 0x03, 't', '/', 'a', 0x05,
            0x01),
        BAD("unknown property", -EBADMSG, 0x30, 0x08, 0x00, 0x03, 't', '/', 'a', 0x02, 0x7F, 0x00),
        BAD("PUBLISH QoS 1 packet id 0", -EPROTO, 0x32, 0x08, 0x00, 0x03, 't', '/', 'a', 0x00, 0x00,
            0x00),
        BAD("PUBACK undefined reason", -EPROTO, 0x40, 0x03, 0x00, 0x01, 0x05),
        BAD("SUBSCRIBE to a client", -EPROTO, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x00),
        BAD("PINGREQ to a client", -EPROTO, 0xC0, 0x00),
        BAD("second CONNACK", -EPROTO, 0x20, 0x03, 0x00, 0x00, 0x00),
};

static void test_malformed_v311(void **state) {
        bad_input(MQL_V311, malformed_v311, ELEMENTSOF(malformed_v311));
}

static void test_malformed_v5(void **state) {
        bad_input(MQL_V5, malformed_v5, ELEMENTSOF(malformed_v5));
}

/* A bad packet after good ones in the same buffer: the good ones count. */
static void test_malformed_after_good(void **state) {
        struct harness *h = h_connected(MQL_V5);

        assert_int_equal(
                broker_send(h, BYTES(0x30, 0x06, 0x00, 0x03, 't', '/', 'a', 0x00, 0x00, 0x00)),
                -EBADMSG);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 1);
        assert_message(last_event(h), "t/a", "", 0);
        expect_output(h, BYTES(0xE0, 0x01, 0x81));
        h_free(h);
}

/* Broken bytes before the CONNACK: the same error; the connection is to be
 * closed. A DISCONNECT 0x81 may precede it (the CONNECT went out). */
static void test_malformed_while_connecting(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        struct mql_packet pkt;

        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(broker_send(h, BYTES(0x00, 0x00)), -EBADMSG);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
        if (out_len(h) > 0)
                expect_output(h, BYTES(0xE0, 0x01, 0x81));
        assert_int_equal(count_events(h, MQL_EVENT_CONNECTED), 0);
        h_free(h);

        /* A PUBLISH before CONNACK (MQTT-3.2.0-1: CONNACK comes first). */
        h = h_new(base_config(MQL_V311));
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(broker_send(h, BYTES(0x30, 0x06, 0x00, 0x03, 't', '/', 'a', 'x')),
                         -EPROTO);
        assert_int_equal(count_events(h, MQL_EVENT_MESSAGE), 0);
        expect_no_output(h);
        h_free(h);
}

/* ------------------------------------------------------------------ DISCONNECT, AUTH */

static void test_disconnect_v5(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        const struct mql_prop rs[] = { { .id = MQL_PROP_REASON_STRING,
                                         .str = mql_str_from("bye") } };
        const struct mql_props props = { .list = rs, .count = 1 };

        assert_int_equal(mql_session_disconnect(h->s, 0, NULL), -ENOTCONN);
        h_connect(h);
        /* §3.14.2.1: 0x04 Disconnect with Will Message. */
        assert_int_equal(mql_session_disconnect(h->s, 0x04, NULL), 0);
        expect_output(h, BYTES(0xE0, 0x01, 0x04));
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTED);

        /* Normal disconnection: the short form (§3.14.2.1). */
        h_connect(h);
        assert_int_equal(mql_session_disconnect(h->s, 0x00, NULL), 0);
        expect_output(h, BYTES(0xE0, 0x00));
        mql_session_connection_lost(h->s);

        /* With a Reason String. */
        h_connect(h);
        assert_int_equal(mql_session_disconnect(h->s, 0x00, &props), 0);
        expect_output(h, BYTES(0xE0, 0x08, 0x00, 0x06, 0x1F, 0x00, 0x03, 'b', 'y', 'e'));
        h_free(h);
}

static void test_disconnect_v311(void **state) {
        struct harness *h = h_connected(MQL_V311);

        /* §3.14: no variable header in 3.1.1; the reason has no place. */
        assert_int_equal(mql_session_disconnect(h->s, 0x00, NULL), 0);
        expect_output(h, BYTES(0xE0, 0x00));
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_DISCONNECTING);
        h_free(h);
}

static void test_v5_server_disconnect(void **state) {
        struct harness *h = h_connected(MQL_V5);

        /* 0x8B Server shutting down. */
        broker_send_ok(h, BYTES(0xE0, 0x01, 0x8B));
        assert_int_equal(last_event(h)->type, MQL_EVENT_DISCONNECT);
        assert_int_equal(last_event(h)->reason, 0x8B);
        /* MQTT-3.14.2? the receiver of DISCONNECT sends nothing more. */
        expect_no_output(h);
        h_free(h);
}

/* §4.12 enhanced authentication: AUTH 0x18 back and forth, then CONNACK. */
static void test_v5_enhanced_auth(void **state) {
        static const uint8_t data1[] = { 0x01 };
        static const uint8_t data2[] = { 0x02 };
        struct mql_session_config cfg = base_config(MQL_V5);
        const struct mql_prop ap[] = {
                { .id = MQL_PROP_AUTHENTICATION_METHOD, .str = mql_str_from("M") },
                { .id = MQL_PROP_AUTHENTICATION_DATA, .bin = { data2, 1 } },
        };
        const struct mql_props props = { .list = ap, .count = 2 };
        struct mql_packet pkt;
        struct mql_prop p;
        struct harness *h;

        cfg.auth_method = "M";
        cfg.auth_data = (struct mql_bin){ data1, 1 };
        h = h_new(cfg);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        assert_int_equal(mql_props_find(&pkt.connect.props, MQL_PROP_AUTHENTICATION_METHOD, &p), 1);
        assert_true(str_is(p.str, "M"));
        assert_int_equal(mql_props_find(&pkt.connect.props, MQL_PROP_AUTHENTICATION_DATA, &p), 1);
        assert_int_equal(p.bin.len, 1);
        assert_int_equal(p.bin.ptr[0], 0x01);

        broker_send_ok(h, BYTES(0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 'M'));
        assert_int_equal(last_event(h)->type, MQL_EVENT_AUTH);
        assert_int_equal(last_event(h)->reason, 0x18);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTING);
        assert_int_equal(mql_session_auth(h->s, 0x18, &props), 0);
        expect_output(h,
                      BYTES(0xF0, 0x0A, 0x18, 0x08, 0x15, 0x00, 0x01, 'M', 0x16, 0x00, 0x01, 0x02));
        broker_send_ok(h, BYTES(0x20, 0x07, 0x00, 0x00, 0x04, 0x15, 0x00, 0x01, 'M'));
        assert_int_equal(last_event(h)->type, MQL_EVENT_CONNECTED);
        assert_int_equal(mql_session_get_state(h->s), MQL_SESSION_CONNECTED);
        h_free(h);
}

/* ------------------------------------------------------------------ free */

static void test_free_cancels_pending(void **state) {
        const struct mql_subscription sub = { .filter = mql_str_from("s"), .qos = 1 };
        const struct mql_str un = mql_str_from("s");
        struct harness *h = h_new(base_config(MQL_V5));
        struct pub_cb inflight = { 0 }, waiting = { 0 };
        struct sub_cb scb = { 0 }, ucb = { 0 };

        /* Receive Maximum 1: one in flight, one waiting. */
        h_connect_with(h, BYTES(0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x01));
        assert_true(pub(h, "t/a", "1", 1, false, &inflight) > 0);
        assert_int_equal(pub(h, "t/a", "2", 2, false, &waiting), 0);
        assert_int_equal(mql_session_subscribe(h->s, &sub, 1, NULL, on_subscribe, &scb), 0);
        assert_int_equal(mql_session_unsubscribe(h->s, &un, 1, NULL, on_subscribe, &ucb), 0);
        consume(h, out_len(h));
        h_free_session(h);
        assert_int_equal(inflight.calls, 1);
        assert_int_equal(inflight.reason, -ECANCELED);
        assert_int_equal(waiting.calls, 1);
        assert_int_equal(waiting.reason, -ECANCELED);
        assert_int_equal(scb.calls, 1);
        assert_true(scb.null_reasons);
        assert_int_equal(scb.error, -ECANCELED);
        assert_int_equal(ucb.calls, 1);
        assert_true(ucb.null_reasons);
        assert_int_equal(ucb.error, -ECANCELED);
        h_free(h);
}

static void test_free_cancels_offline(void **state) {
        struct harness *h = h_new(base_config(MQL_V311));
        struct pub_cb q0 = { 0 }, q1 = { 0 }, q2 = { 0 };

        assert_int_equal(pub(h, "t/a", "0", 0, false, &q0), 0);
        assert_int_equal(pub(h, "t/a", "1", 1, false, &q1), 0);
        /* And one in a connection that never got its CONNACK. */
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_int_equal(pub(h, "t/a", "2", 2, false, &q2), 0);
        h_free_session(h);
        assert_int_equal(q0.calls, 1);
        assert_int_equal(q0.reason, -ECANCELED);
        assert_int_equal(q1.calls, 1);
        assert_int_equal(q1.reason, -ECANCELED);
        assert_int_equal(q2.calls, 1);
        assert_int_equal(q2.reason, -ECANCELED);
        h_free(h);
}

/* ------------------------------------------------------------------ framing */

/* Same events and output whatever way the stream is cut (MQTT is a byte
 * stream: §4.2). */
static void stream_splits(enum mql_version v) {
        uint8_t stream[128];
        size_t len = 0, n;
        struct harness *whole, *h;

        if (v == MQL_V311) {
                memcpy(stream, connack_v311, sizeof(connack_v311));
                len = sizeof(connack_v311);
        } else {
                memcpy(stream, connack_v5, sizeof(connack_v5));
                len = sizeof(connack_v5);
        }
        len += make_publish(stream + len, v, 0x00, "t/a", 0, "hi");
        len += make_publish(stream + len, v, 0x02, "a/b", 9, "yo");
        len += make_publish(stream + len, v, 0x05, "c/d", 10, "zz");

        whole = h_new(base_config(v));
        assert_int_equal(mql_session_connection_made(whole->s, whole->now), 0);
        consume(whole, out_len(whole));
        broker_send_ok(whole, stream, len);
        assert_int_equal(whole->n_ev, 4);
        assert_int_equal(whole->ev[0].type, MQL_EVENT_CONNECTED);
        assert_message(&whole->ev[1], "t/a", "hi", 0);
        assert_message(&whole->ev[2], "a/b", "yo", 1);
        assert_message(&whole->ev[3], "c/d", "zz", 2);
        assert_true(whole->ev[3].retain);
        expect_output(whole, BYTES(0x40, 0x02, 0x00, 0x09, 0x50, 0x02, 0x00, 0x0A));

        /* k = 0: one byte at a time; k > 0: two pieces cut at k. */
        for (size_t k = 0; k < len; k++) {
                h = h_new(base_config(v));
                assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
                consume(h, out_len(h));
                if (k == 0) {
                        for (size_t i = 0; i < len; i++)
                                broker_send_ok(h, stream + i, 1);
                } else {
                        broker_send_ok(h, stream, k);
                        broker_send_ok(h, stream + k, len - k);
                }
                n = h->n_ev;
                assert_int_equal(n, whole->n_ev);
                for (size_t i = 0; i < n; i++) {
                        assert_int_equal(h->ev[i].type, whole->ev[i].type);
                        if (h->ev[i].type != MQL_EVENT_MESSAGE)
                                continue;
                        assert_string_equal(h->ev[i].topic, whole->ev[i].topic);
                        assert_int_equal(h->ev[i].payload_len, whole->ev[i].payload_len);
                        assert_memory_equal(h->ev[i].payload, whole->ev[i].payload,
                                            h->ev[i].payload_len);
                        assert_int_equal(h->ev[i].qos, whole->ev[i].qos);
                        assert_int_equal(h->ev[i].retain, whole->ev[i].retain);
                        assert_int_equal(h->ev[i].packet_id, whole->ev[i].packet_id);
                }
                expect_output(h, BYTES(0x40, 0x02, 0x00, 0x09, 0x50, 0x02, 0x00, 0x0A));
                h_free(h);
        }
        h_free(whole);
}

static void test_stream_splits_v311(void **state) {
        stream_splits(MQL_V311);
}

static void test_stream_splits_v5(void **state) {
        stream_splits(MQL_V5);
}

/* The caller writes less than all: the rest stays, in order. */
static void test_output_partial_write(void **state) {
        struct harness *h = h_connected(MQL_V311);
        const uint8_t *p;
        size_t n;

        assert_int_equal(pub(h, "t/a", "hi", 0, false, NULL), 0);
        assert_int_equal(pub(h, "t/b", "yo", 0, false, NULL), 0);
        mql_session_output(h->s, &p, &n);
        assert_int_equal(n, 18);
        consume(h, 3);
        mql_session_output(h->s, &p, &n);
        assert_int_equal(n, 15);
        assert_memory_equal(p, ((const uint8_t[]){ 0x03, 't', '/', 'a', 'h', 'i' }), 6);
        consume(h, 1);
        assert_int_equal(pub(h, "t/c", "!", 0, false, NULL), 0);
        expect_output(h, BYTES('t', '/', 'a', 'h', 'i', 0x30, 0x07, 0x00, 0x03, 't', '/', 'b', 'y',
                               'o', 0x30, 0x06, 0x00, 0x03, 't', '/', 'c', '!'));
        /* Unwritten output is dropped with the connection. */
        assert_int_equal(pub(h, "t/a", "x", 0, false, NULL), 0);
        assert_true(out_len(h) > 0);
        mql_session_connection_lost(h->s);
        expect_no_output(h);
        h_free(h);
}

/* ------------------------------------------------------------------ more edges */

/* Requests left unanswered by a broken connection go again in the order the
 * application made them: SUBSCRIBE x then UNSUBSCRIBE x must leave x
 * unsubscribed (MQTT-3.8.4-3 / -3.10.4-?: the broker acts in order). */
static void pending_ops_order(bool session_present) {
        struct mql_session_config cfg = base_config(MQL_V311);
        const struct mql_subscription sub = { .filter = mql_str_from("x"), .qos = 1 };
        const struct mql_str un = mql_str_from("x");
        struct mql_packet pkt;
        struct harness *h;
        int last = 0; /* type of the last packet naming "x" */

        cfg.clean_start = false;
        h = h_new(cfg);
        h_connect(h);
        assert_int_equal(mql_session_subscribe(h->s, &sub, 1, NULL, NULL, NULL), 0);
        assert_int_equal(mql_session_unsubscribe(h->s, &un, 1, NULL, NULL, NULL), 0);
        consume(h, out_len(h));
        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        send_connack_sp(h, session_present);
        while (drain_decode(h, &pkt)) {
                struct mql_filter_iter it;
                struct mql_subscription f;

                assert_true(pkt.type == MQL_SUBSCRIBE || pkt.type == MQL_UNSUBSCRIBE);
                mql_filter_iter_init(&it, &pkt.subscribe.filters, pkt.type);
                while (mql_filter_iter_next(&it, &f) == 1)
                        if (str_is(f.filter, "x"))
                                last = pkt.type;
        }
        if (session_present)
                /* The broker may have seen both or neither: send both, in order. */
                assert_int_equal(last, MQL_UNSUBSCRIBE);
        else
                /* A new session: nothing, or both in order. */
                assert_true(last == 0 || last == MQL_UNSUBSCRIBE);
        h_free(h);
}

static void test_pending_ops_order_present(void **state) {
        pending_ops_order(true);
}

static void test_pending_ops_order_no_session(void **state) {
        pending_ops_order(false);
}

/* MQTT-3.8.4-6 / MQTT-3.9.3-1: one reason code per filter. A SUBACK with
 * fewer is a protocol violation, not something to hand the application (it
 * would index past the end). */
static void suback_count(enum mql_version v) {
        const struct mql_subscription subs[] = {
                { .filter = mql_str_from("a"), .qos = 1 },
                { .filter = mql_str_from("b"), .qos = 1 },
        };
        struct harness *h = h_connected(v);
        struct sub_cb cb = { 0 };
        struct mql_packet pkt;
        uint16_t id;

        assert_int_equal(mql_session_subscribe(h->s, subs, 2, NULL, on_subscribe, &cb), 0);
        assert_true(drain_decode(h, &pkt));
        id = pkt.subscribe.packet_id;
        if (v == MQL_V5)
                assert_int_equal(broker_send(h, BYTES(0x90, 0x04, HI(id), LO(id), 0x00, 0x01)),
                                 -EPROTO);
        else
                assert_int_equal(broker_send(h, BYTES(0x90, 0x03, HI(id), LO(id), 0x01)), -EPROTO);
        assert_true(cb.calls == 0 || cb.n == 2);
        if (v == MQL_V5)
                expect_output(h, BYTES(0xE0, 0x01, 0x82));
        else
                expect_no_output(h);
        h_free(h);
}

static void test_suback_count_mismatch_v311(void **state) {
        suback_count(MQL_V311);
}

static void test_suback_count_mismatch_v5(void **state) {
        suback_count(MQL_V5);
}

/* MQTT-3.3.4-7: never more unacknowledged QoS 1/2 PUBLISH than the Receive
 * Maximum of the CONNACK in force, resends on resume included. */
static void test_v5_resume_respects_receive_maximum(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct mql_publish p;
        struct harness *h;
        int id[3];

        cfg.clean_start = false;
        cfg.session_expiry = 600;
        h = h_new(cfg);
        h_connect(h);
        for (int i = 0; i < 3; i++) {
                id[i] = pub(h, "t/a", "m", 1, false, NULL);
                assert_true(id[i] > 0);
        }
        consume(h, out_len(h));
        mql_session_connection_lost(h->s);
        h_connect_with(h, BYTES(0x20, 0x06, 0x01, 0x00, 0x03, 0x21, 0x00, 0x01));
        for (int i = 0; i < 3; i++) {
                next_publish(h, &p);
                assert_true(p.dup);
                assert_int_equal(p.packet_id, id[i]);
                expect_no_output(h);
                broker_send_ok(h, BYTES(0x40, 0x02, HI(id[i]), LO(id[i])));
        }
        expect_no_output(h);
        h_free(h);
}

/* MQTT-3.1.2-24 holds for the packet as sent, Topic Alias included: 64 bytes
 * without the alias is 67 with it. */
static void test_v5_topic_alias_respects_max_packet_size(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        struct harness *h;
        char payload[57];
        const uint8_t *p;
        int r;

        cfg.outbound_topic_aliases = true;
        h = h_new(cfg);
        /* Topic Alias Maximum 5, Maximum Packet Size 64. */
        h_connect_with(h, BYTES(0x20, 0x0B, 0x00, 0x00, 0x08, 0x22, 0x00, 0x05, 0x27, 0x00, 0x00,
                                0x00, 0x40));
        memset(payload, 'p', 56);
        payload[56] = '\0';
        r = pub(h, "t/a", payload, 0, false, NULL);
        if (r == 0)
                assert_true(next_packet_at(h, __FILE__, __LINE__, &p) <= 64);
        else
                assert_int_equal(r, -EMSGSIZE);
        h_free(h);
}

/* max_output_bytes: unwritten output is bounded; -ENOBUFS, never a drop. */
static void test_max_output_bytes(void **state) {
        struct mql_session_config cfg = base_config(MQL_V311);
        struct pub_cb cb = { 0 };
        struct harness *h;
        int r = 0, ok = 0;

        cfg.max_output_bytes = 32;
        h = h_new(cfg);
        h_connect(h);
        for (int i = 0; i < 20 && r == 0; i++) {
                r = pub(h, "t/a", "hi", 0, false, &cb);
                ok += r == 0;
        }
        assert_int_equal(r, -ENOBUFS);
        assert_int_equal(cb.calls, ok);
        /* At most one packet (9 bytes) past the bound. */
        assert_true(out_len(h) <= 32 + 9);
        assert_int_equal(out_len(h), (size_t)ok * 9);
        consume(h, out_len(h));
        assert_int_equal(pub(h, "t/a", "hi", 0, false, &cb), 0);
        expect_output(h, BYTES(0x30, 0x07, 0x00, 0x03, 't', '/', 'a', 'h', 'i'));
        h_free(h);
}

/* Connected to a broker with Maximum QoS 1: a QoS 2 publish fails with
 * -EOPNOTSUPP, returned or through the callback, and nothing is sent
 * (MQTT-3.2.2-11). */
static void test_v5_maximum_qos_connected(void **state) {
        struct harness *h = h_new(base_config(MQL_V5));
        struct pub_cb cb = { 0 };
        int r;

        h_connect_with(h, BYTES(0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x01));
        r = pub(h, "t/a", "x", 2, false, &cb);
        if (r < 0) {
                assert_int_equal(r, -EOPNOTSUPP);
                assert_int_equal(cb.calls, 0);
        } else {
                assert_int_equal(cb.calls, 1);
                assert_int_equal(cb.reason, -EOPNOTSUPP);
        }
        expect_no_output(h);
        assert_true(pub(h, "t/a", "x", 1, false, NULL) > 0);
        h_free(h);
}

/* A session-less reconnect subscribes again with the same options and
 * properties (Subscription Identifier included, §3.8.3.1). */
static void test_v5_resubscribe_keeps_options(void **state) {
        struct mql_session_config cfg = base_config(MQL_V5);
        const struct mql_subscription sub = {
                .filter = mql_str_from("a/b"),
                .qos = 1,
                .no_local = true,
                .retain_as_published = true,
                .retain_handling = 1,
        };
        const struct mql_prop sid[] = { { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 7 } };
        const struct mql_props props = { .list = sid, .count = 1 };
        struct mql_packet pkt;
        struct harness *h;
        uint16_t id;

        cfg.clean_start = false;
        h = h_new(cfg);
        h_connect(h);
        assert_int_equal(mql_session_subscribe(h->s, &sub, 1, &props, NULL, NULL), 0);
        /* options 0x01 | 0x04 | 0x08 | 0x10 = 0x1D */
        id = expect_packet_u16(
                h, BYTES(0x82, 0x0B, 0x00, 0x00, 0x02, 0x0B, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x1D),
                2);
        broker_send_ok(h, BYTES(0x90, 0x04, HI(id), LO(id), 0x00, 0x01));
        mql_session_connection_lost(h->s);
        assert_int_equal(mql_session_connection_made(h->s, h->now), 0);
        assert_true(drain_decode(h, &pkt));
        send_connack_sp(h, false);
        expect_packet_u16(
                h, BYTES(0x82, 0x0B, 0x00, 0x00, 0x02, 0x0B, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x1D),
                2);
        expect_no_output(h);
        h_free(h);
}

static int teardown(void **state) {
        tearing_down = true;
        while (n_live > 0)
                h_free(live[n_live - 1]);
        tearing_down = false;
        return 0;
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_config_invalid),
                T(test_connect_v311_minimal),
                T(test_connect_v5_minimal),
                T(test_connect_v311_full),
                T(test_connect_v5_full),
                T(test_connack_session_present_v311),
                T(test_connack_session_present_v5),
                T(test_connack_refused_v311),
                T(test_connack_refused_v5),
                T(test_v5_assigned_client_id),
                T(test_client_id_configured),
                T(test_publish_qos0_v311),
                T(test_publish_qos0_v5),
                T(test_publish_qos1_v311),
                T(test_publish_qos1_v5),
                T(test_publish_qos1_v5_reasons),
                T(test_publish_qos2_v311),
                T(test_publish_qos2_v5),
                T(test_publish_qos2_v5_pubrec_refused),
                T(test_publish_invalid),
                T(test_receive_qos0_v311),
                T(test_receive_qos0_v5),
                T(test_receive_qos1_v311),
                T(test_receive_qos1_v5),
                T(test_receive_qos2_v311),
                T(test_receive_qos2_v5),
                T(test_manual_ack_v311),
                T(test_manual_ack_v5),
                T(test_subscribe_v311),
                T(test_subscribe_v5),
                T(test_subscribe_two_in_flight),
                T(test_subscribe_from_callback),
                T(test_keepalive_v311),
                T(test_keepalive_v5),
                T(test_keepalive_traffic),
                T(test_keepalive_publish_only),
                T(test_disconnect_in_message_callback),
                T(test_keepalive_off),
                T(test_v5_server_keep_alive),
                T(test_connect_timeout_v311),
                T(test_connect_timeout_v5_default),
                T(test_connect_timeout_stopped),
                T(test_v5_server_receive_maximum),
                T(test_v5_receive_maximum_qos0_passes),
                T(test_v311_own_inflight_window),
                T(test_v5_max_inflight_below_receive_maximum),
                T(test_v5_client_receive_maximum),
                T(test_v5_client_receive_maximum_released),
                T(test_v5_topic_alias_inbound),
                T(test_v5_topic_alias_zero),
                T(test_v5_topic_alias_over_max),
                T(test_v5_topic_alias_none_allowed),
                T(test_v5_topic_alias_unknown),
                T(test_v5_topic_alias_not_carried_over),
                T(test_v5_topic_alias_outbound),
                T(test_v5_topic_alias_outbound_off),
                T(test_v5_server_maximum_packet_size),
                T(test_client_maximum_packet_size_v311),
                T(test_client_maximum_packet_size_v5),
                T(test_client_maximum_packet_size_early),
                T(test_v5_offline_then_limits),
                T(test_resume_present_v311),
                T(test_resume_present_v5),
                T(test_resume_requeue_v311),
                T(test_resume_requeue_v5),
                T(test_resume_fail_v311),
                T(test_resume_fail_v5),
                T(test_resubscribe_forgets_unsubscribed),
                T(test_offline_queue_v311),
                T(test_offline_queue_v5),
                T(test_offline_queue_messages_bound),
                T(test_offline_queue_bytes_bound),
                T(test_malformed_v311),
                T(test_malformed_v5),
                T(test_malformed_after_good),
                T(test_malformed_while_connecting),
                T(test_disconnect_v5),
                T(test_disconnect_v311),
                T(test_v5_server_disconnect),
                T(test_v5_enhanced_auth),
                T(test_free_cancels_pending),
                T(test_free_cancels_offline),
                T(test_stream_splits_v311),
                T(test_stream_splits_v5),
                T(test_output_partial_write),
                T(test_pending_ops_order_present),
                T(test_pending_ops_order_no_session),
                T(test_suback_count_mismatch_v311),
                T(test_suback_count_mismatch_v5),
                T(test_v5_resume_respects_receive_maximum),
                T(test_v5_topic_alias_respects_max_packet_size),
                T(test_max_output_bytes),
                T(test_v5_maximum_qos_connected),
                T(test_v5_resubscribe_keeps_options),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

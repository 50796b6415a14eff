/* SPDX-License-Identifier: MIT */
/*
 * MQTT 3.1.1 packet codec, every one of the 14 packet types: encoded to exact
 * bytes, decoded from exact bytes (every field checked), round-tripped, fed a
 * byte at a time, and decoded back to back.
 *
 * Every expected byte below is written out by hand from the OASIS MQTT
 * Version 3.1.1 specification (sections cited in the comments). Where the
 * specification has a non-normative example (CONNECT variable header, Figure
 * 3.6 of §3.1.2.10; PUBLISH variable header, §3.3.2.3; SUBSCRIBE payload,
 * §3.8.3.1; Remaining Length table, §2.2.3) the vector is that example. None
 * of them comes from the encoder.
 */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/packet.h>

/* ---- helpers (the same block is in test-packet-v5.c) ----------------- */

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Brace initializers for views of string literals; usable in static tables. */
#define STR(s) \
        { .ptr = (s), .len = sizeof(s) - 1 }
#define BIN(s) \
        { .ptr = (const uint8_t *)(s), .len = sizeof(s) - 1 }
#define LIST(a) \
        { .list = (a), .count = ELEMENTSOF(a) }

/* cmocka 1.1 prints integers as unsigned hex; -errno values read better signed. */
#define assert_ssize(got, exp)                                                     \
        do {                                                                       \
                ssize_t got_ = (got), exp_ = (exp);                                \
                if (got_ != exp_) {                                                \
                        print_error("%s = %zd, expected %zd\n", #got, got_, exp_); \
                        fail();                                                    \
                }                                                                  \
        } while (0)

static const uint8_t pingreq_bytes[] = { 0xC0, 0x00 };

static void dump(const char *what, const uint8_t *p, size_t n) {
        print_error("%s (%zu bytes):", what, n);
        for (size_t i = 0; i < n && i < 512; i++)
                print_error("%s%02x", i % 16 ? " " : "\n  ", p[i]);
        print_error("%s\n", n > 512 ? "\n  ..." : "");
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *exp, size_t exp_len) {
        size_t i;

        if (got_len == exp_len && (exp_len == 0 || memcmp(got, exp, exp_len) == 0))
                return;
        for (i = 0; i < got_len && i < exp_len && got[i] == exp[i]; i++)
                ;
        print_error("bytes differ at offset %zu\n", i);
        dump("got", got, got_len);
        dump("expected", exp, exp_len);
        fail();
}

static bool mem_eq(const void *a, size_t alen, const void *b, size_t blen) {
        return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void assert_str(struct mql_str got, const char *exp) {
        size_t n = strlen(exp);

        if (mem_eq(got.ptr, got.len, exp, n))
                return;
        print_error("string \"%.*s\" (%zu bytes), expected \"%s\" (%zu bytes)\n", (int)got.len,
                    got.ptr ? got.ptr : "", got.len, exp, n);
        fail();
}

static void assert_str_same(struct mql_str got, struct mql_str exp) {
        if (mem_eq(got.ptr, got.len, exp.ptr, exp.len))
                return;
        print_error("string \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu bytes)\n", (int)got.len,
                    got.ptr ? got.ptr : "", got.len, (int)exp.len, exp.ptr ? exp.ptr : "", exp.len);
        fail();
}

static void assert_bin(struct mql_bin got, const void *exp, size_t n) {
        if (got.len == n && n == 0)
                return;
        assert_non_null(got.ptr);
        assert_bytes(got.ptr, got.len, exp, n);
}

static void assert_bin_same(struct mql_bin got, struct mql_bin exp) {
        assert_bin(got, exp.ptr, exp.len);
}

/* A decoded view must point into the decoded buffer (zero-copy decoding). */
static void assert_inside(const void *buf, size_t n, const void *ptr, size_t len) {
        const uint8_t *b = buf, *p = ptr;

        assert_non_null(p);
        assert_true(p >= b && p + len <= b + n);
}

static void assert_prop_same(const struct mql_prop *got, const struct mql_prop *exp) {
        if (got->id != exp->id) {
                print_error("property id 0x%02x, expected 0x%02x\n", got->id, exp->id);
                fail();
        }
        switch (mql_prop_type(exp->id)) {
        case MQL_PROP_TYPE_BYTE:
        case MQL_PROP_TYPE_U16:
        case MQL_PROP_TYPE_U32:
        case MQL_PROP_TYPE_VARINT:
                if (got->u32 != exp->u32) {
                        print_error("property 0x%02x = %u, expected %u\n", exp->id, got->u32,
                                    exp->u32);
                        fail();
                }
                break;
        case MQL_PROP_TYPE_STRING:
                assert_str_same(got->str, exp->str);
                break;
        case MQL_PROP_TYPE_BINARY:
                assert_bin_same(got->bin, exp->bin);
                break;
        case MQL_PROP_TYPE_STRING_PAIR:
                assert_str_same(got->pair.key, exp->pair.key);
                assert_str_same(got->pair.value, exp->pair.value);
                break;
        default:
                print_error("property 0x%02x has no type\n", exp->id);
                fail();
        }
}

/* The container holds exactly exp[0..n), in that order. */
static void assert_props(const struct mql_props *got, const struct mql_prop *exp, size_t n) {
        struct mql_prop_iter it;
        struct mql_prop p;

        mql_prop_iter_init(&it, got);
        for (size_t i = 0; i < n; i++) {
                memset(&p, 0, sizeof(p));
                if (mql_prop_iter_next(&it, &p) != 1) {
                        print_error("property %zu of %zu missing\n", i, n);
                        fail();
                }
                assert_prop_same(&p, &exp[i]);
        }
        assert_int_equal(mql_prop_iter_next(&it, &p), 0);
        /* An exhausted iterator stays exhausted. */
        assert_int_equal(mql_prop_iter_next(&it, &p), 0);
}

static void assert_no_props(const struct mql_props *got) {
        assert_int_equal(got->raw_len, 0);
        assert_int_equal(got->count, 0);
        assert_props(got, NULL, 0);
}

/* Two containers hold the same properties in the same order. */
static void assert_props_same(const struct mql_props *got, const struct mql_props *exp) {
        struct mql_prop_iter a, b;
        struct mql_prop pa, pb;
        int ra, rb;

        mql_prop_iter_init(&a, got);
        mql_prop_iter_init(&b, exp);
        for (;;) {
                memset(&pa, 0, sizeof(pa));
                memset(&pb, 0, sizeof(pb));
                ra = mql_prop_iter_next(&a, &pa);
                rb = mql_prop_iter_next(&b, &pb);
                assert_int_equal(ra, rb);
                if (ra == 0)
                        break;
                assert_prop_same(&pa, &pb);
        }
}

static void assert_sub_same(const struct mql_subscription *got, const struct mql_subscription *exp,
                            enum mql_packet_type type) {
        assert_str_same(got->filter, exp->filter);
        if (type != MQL_SUBSCRIBE)
                return;
        assert_int_equal(got->qos, exp->qos);
        assert_int_equal(got->no_local, exp->no_local);
        assert_int_equal(got->retain_as_published, exp->retain_as_published);
        assert_int_equal(got->retain_handling, exp->retain_handling);
}

/* The filter list holds exactly exp[0..n), in that order. */
static void assert_filters(const struct mql_filters *got, enum mql_packet_type type,
                           const struct mql_subscription *exp, size_t n) {
        struct mql_filter_iter it;
        struct mql_subscription s;

        mql_filter_iter_init(&it, got, type);
        for (size_t i = 0; i < n; i++) {
                memset(&s, 0, sizeof(s));
                if (mql_filter_iter_next(&it, &s) != 1) {
                        print_error("filter %zu of %zu missing\n", i, n);
                        fail();
                }
                assert_sub_same(&s, &exp[i], type);
        }
        assert_int_equal(mql_filter_iter_next(&it, &s), 0);
        assert_int_equal(mql_filter_iter_next(&it, &s), 0);
}

static void assert_filters_same(const struct mql_filters *got, const struct mql_filters *exp,
                                enum mql_packet_type type) {
        struct mql_filter_iter a, b;
        struct mql_subscription sa, sb;
        int ra, rb;

        mql_filter_iter_init(&a, got, type);
        mql_filter_iter_init(&b, exp, type);
        for (;;) {
                memset(&sa, 0, sizeof(sa));
                memset(&sb, 0, sizeof(sb));
                ra = mql_filter_iter_next(&a, &sa);
                rb = mql_filter_iter_next(&b, &sb);
                assert_int_equal(ra, rb);
                if (ra == 0)
                        break;
                assert_sub_same(&sa, &sb, type);
        }
}

/* Field by field: what the decoder gives back equals what was encoded. */
static void assert_packet_same(const struct mql_packet *got, const struct mql_packet *exp) {
        assert_int_equal(got->type, exp->type);
        switch (exp->type) {
        case MQL_CONNECT: {
                const struct mql_connect *g = &got->connect, *e = &exp->connect;

                assert_int_equal(g->version, e->version);
                assert_int_equal(g->clean_start, e->clean_start);
                assert_int_equal(g->keepalive, e->keepalive);
                assert_props_same(&g->props, &e->props);
                assert_str_same(g->client_id, e->client_id);
                assert_int_equal(g->will, e->will);
                assert_int_equal(g->will_qos, e->will_qos);
                assert_int_equal(g->will_retain, e->will_retain);
                assert_props_same(&g->will_props, &e->will_props);
                assert_str_same(g->will_topic, e->will_topic);
                assert_bin_same(g->will_payload, e->will_payload);
                assert_int_equal(g->has_username, e->has_username);
                assert_str_same(g->username, e->username);
                assert_int_equal(g->has_password, e->has_password);
                assert_bin_same(g->password, e->password);
                break;
        }
        case MQL_CONNACK:
                assert_int_equal(got->connack.session_present, exp->connack.session_present);
                assert_int_equal(got->connack.reason_code, exp->connack.reason_code);
                assert_props_same(&got->connack.props, &exp->connack.props);
                break;
        case MQL_PUBLISH:
                assert_int_equal(got->publish.dup, exp->publish.dup);
                assert_int_equal(got->publish.qos, exp->publish.qos);
                assert_int_equal(got->publish.retain, exp->publish.retain);
                assert_str_same(got->publish.topic, exp->publish.topic);
                assert_int_equal(got->publish.packet_id, exp->publish.packet_id);
                assert_props_same(&got->publish.props, &exp->publish.props);
                assert_bin_same(got->publish.payload, exp->publish.payload);
                break;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                assert_int_equal(got->ack.packet_id, exp->ack.packet_id);
                assert_int_equal(got->ack.reason_code, exp->ack.reason_code);
                assert_props_same(&got->ack.props, &exp->ack.props);
                break;
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                assert_int_equal(got->subscribe.packet_id, exp->subscribe.packet_id);
                assert_props_same(&got->subscribe.props, &exp->subscribe.props);
                assert_filters_same(&got->subscribe.filters, &exp->subscribe.filters, exp->type);
                break;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                assert_int_equal(got->suback.packet_id, exp->suback.packet_id);
                assert_props_same(&got->suback.props, &exp->suback.props);
                assert_bin_same(got->suback.reasons, exp->suback.reasons);
                break;
        case MQL_DISCONNECT:
                assert_int_equal(got->disconnect.reason_code, exp->disconnect.reason_code);
                assert_props_same(&got->disconnect.props, &exp->disconnect.props);
                break;
        case MQL_AUTH:
                assert_int_equal(got->auth.reason_code, exp->auth.reason_code);
                assert_props_same(&got->auth.props, &exp->auth.props);
                break;
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                break;
        }
}

/*
 * Guards the hand-written vectors themselves, independently of the codec:
 * the Remaining Length in a vector's fixed header (MQTT 2.1.4, encoded as in
 * 1.5.5) must count exactly the bytes that follow it.
 */
static size_t vector_header_len(const uint8_t *bytes, size_t n, size_t *ret_rl) {
        size_t i = 1, rl = 0;
        unsigned shift = 0;

        do {
                assert_true(i < n && i <= 4);
                rl |= (size_t)(bytes[i] & 0x7F) << shift;
                shift += 7;
        } while (bytes[i++] & 0x80);
        *ret_rl = rl;
        return i;
}

static void check_vector_length(const uint8_t *bytes, size_t n) {
        size_t rl, h = vector_header_len(bytes, n, &rl);

        if (h + rl != n) {
                print_error("vector: header %zu + remaining length %zu != %zu bytes\n", h, rl, n);
                fail();
        }
}

/*
 * `pkt` encodes to exactly exp[0..n): mql_packet_size() agrees, an exact
 * buffer is filled, a larger one is written only up to the packet's end, and
 * a buffer one byte short (or empty) gives -ENOBUFS with nothing written.
 */
static void check_encode(const struct mql_packet *pkt, enum mql_version v, const uint8_t *exp,
                         size_t n) {
        uint8_t *buf;

        assert_ssize(mql_packet_size(pkt, v), (ssize_t)n);

        /* Exactly n bytes, so ASan catches a write past the end. */
        buf = malloc(n);
        assert_non_null(buf);
        assert_ssize(mql_packet_encode(pkt, v, buf, n), (ssize_t)n);
        assert_bytes(buf, n, exp, n);
        free(buf);

        buf = malloc(n + 16);
        assert_non_null(buf);
        memset(buf, 0xA5, n + 16);
        assert_ssize(mql_packet_encode(pkt, v, buf, n + 16), (ssize_t)n);
        assert_bytes(buf, n, exp, n);
        for (size_t i = n; i < n + 16; i++)
                assert_int_equal(buf[i], 0xA5);

        /* "Nothing is written on error" (packet.h, mql_packet_encode). */
        memset(buf, 0xA5, n + 16);
        assert_ssize(mql_packet_encode(pkt, v, buf, n - 1), -ENOBUFS);
        for (size_t i = 0; i < n + 16; i++)
                assert_int_equal(buf[i], 0xA5);
        assert_ssize(mql_packet_encode(pkt, v, buf, 0), -ENOBUFS);
        assert_int_equal(buf[0], 0xA5);
        free(buf);
}

/* Decodes exactly one whole packet of n bytes. */
static void decode_ok(const uint8_t *buf, size_t n, enum mql_version v, struct mql_packet *ret) {
        memset(ret, 0, sizeof(*ret));
        assert_ssize(mql_packet_decode(buf, n, v, ret), (ssize_t)n);
}

/*
 * decode(bytes) re-encodes to the very same bytes (the props.raw and
 * filters.raw path: a decoded packet forwarded as is), and decoding those
 * again gives the same fields. Only for vectors in shortest form.
 */
static void check_roundtrip(const uint8_t *bytes, size_t n, enum mql_version v) {
        struct mql_packet p1, p2;
        uint8_t *buf;

        decode_ok(bytes, n, v, &p1);
        check_encode(&p1, v, bytes, n);

        buf = malloc(n);
        assert_non_null(buf);
        assert_ssize(mql_packet_encode(&p1, v, buf, n), (ssize_t)n);
        decode_ok(buf, n, v, &p2);
        assert_packet_same(&p2, &p1);
        free(buf);
}

/*
 * Feeds the packet a byte at a time: every proper prefix means "need more"
 * (0, *ret untouched) for both decode and frame, the whole packet decodes to
 * the same fields; mql_packet_length() knows the length as soon as the fixed
 * header is in. Each prefix sits in a buffer of exactly its size, so ASan
 * sees any read past what was handed in. Very large packets are sampled at
 * both ends and in the middle.
 */
static void check_bytewise(const uint8_t *bytes, size_t n, enum mql_version v) {
        struct mql_packet full, p, untouched;
        size_t rl, hlen = vector_header_len(bytes, n, &rl);

        decode_ok(bytes, n, v, &full);
        for (size_t k = 0; k <= n; k++) {
                uint8_t *b;
                ssize_t r, f;

                if (n > 65536 && k > 64 && k + 64 < n && k != n / 2)
                        continue;
                b = malloc(k ? k : 1);
                assert_non_null(b);
                if (k)
                        memcpy(b, bytes, k);
                memset(&p, 0x5A, sizeof(p));
                memcpy(&untouched, &p, sizeof(p));
                r = mql_packet_decode(b, k, v, &p);
                f = mql_packet_frame(b, k);
                assert_ssize(mql_packet_length(b, k), k < hlen ? 0 : (ssize_t)n);
                if (k < n && (r != 0 || f != 0)) {
                        print_error("prefix of %zu/%zu bytes: decode %zd, frame %zd, expected 0\n",
                                    k, n, r, f);
                        fail();
                }
                if (k < n) {
                        assert_memory_equal(&p, &untouched, sizeof(p));
                } else {
                        assert_ssize(r, (ssize_t)n);
                        assert_ssize(f, (ssize_t)n);
                        assert_packet_same(&p, &full);
                }
                free(b);
        }
}

/* a then b in one buffer decode one after the other. */
static void check_back_to_back(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                               enum mql_version v) {
        struct mql_packet ea, eb, ga, gb;
        uint8_t *buf = malloc(na + nb);

        assert_non_null(buf);
        memcpy(buf, a, na);
        memcpy(buf + na, b, nb);
        decode_ok(a, na, v, &ea);
        decode_ok(b, nb, v, &eb);

        assert_ssize(mql_packet_frame(buf, na + nb), (ssize_t)na);
        memset(&ga, 0, sizeof(ga));
        assert_ssize(mql_packet_decode(buf, na + nb, v, &ga), (ssize_t)na);
        assert_packet_same(&ga, &ea);
        assert_ssize(mql_packet_frame(buf + na, nb), (ssize_t)nb);
        memset(&gb, 0, sizeof(gb));
        assert_ssize(mql_packet_decode(buf + na, nb, v, &gb), (ssize_t)nb);
        assert_packet_same(&gb, &eb);
        free(buf);
}

/* Checks for a vector that is only decoded (not the encoder's own form). */
static void check_decode_vector(const uint8_t *bytes, size_t n, enum mql_version v,
                                struct mql_packet *ret) {
        check_vector_length(bytes, n);
        decode_ok(bytes, n, v, ret);
        check_bytewise(bytes, n, v);
        check_back_to_back(bytes, n, pingreq_bytes, sizeof(pingreq_bytes), v);
}

/*
 * The whole battery for one hand-written vector: `pkt` encodes to `bytes`,
 * `bytes` decode to `pkt` (returned in *ret for the caller's own field
 * checks), round trip, byte at a time, back to back.
 */
static void check_vector(const struct mql_packet *pkt, enum mql_version v, const uint8_t *bytes,
                         size_t n, struct mql_packet *ret) {
        check_vector_length(bytes, n);
        check_encode(pkt, v, bytes, n);
        decode_ok(bytes, n, v, ret);
        assert_packet_same(ret, pkt);
        check_roundtrip(bytes, n, v);
        check_bytewise(bytes, n, v);
        check_back_to_back(bytes, n, bytes, n, v);
        check_back_to_back(bytes, n, pingreq_bytes, sizeof(pingreq_bytes), v);
        check_back_to_back(pingreq_bytes, sizeof(pingreq_bytes), bytes, n, v);
}

/* ---- end of shared helpers --------------------------------------------- */

#define V MQL_V311

#define MQTT_NAME 0x00, 0x04, 'M', 'Q', 'T', 'T' /* Protocol Name (§3.1.2.1) */

/* ---- CONNECT (§3.1) ----------------------------------------------------- */

/* The variable header is Figure 3.6 "Variable header non normative example"
 * (§3.1.2.10): level 4, flags 0xCE (User Name, Password, Will QoS 1, Will,
 * Clean Session), Keep Alive 10. */
static void test_connect_spec_example(void **state) {
        static const uint8_t bytes[] = {
                0x10,      0x23, /* CONNECT, Remaining Length 35 */
                MQTT_NAME, 0x04, /* Protocol Level 4 */
                0xCE,            /* User Name, Password, Will QoS 1, Will, Clean Session */
                0x00,      0x0A, /* Keep Alive 10 */
                0x00,      0x03, 'c', 'i', 'd',      /* Client Identifier */
                0x00,      0x03, 'w', '/', 't',      /* Will Topic */
                0x00,      0x03, 'b', 'y', 'e',      /* Will Message */
                0x00,      0x04, 'u', 's', 'e', 'r', /* User Name */
                0x00,      0x02, 'p', 'w',           /* Password */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V311,
                        .clean_start = true,
                        .keepalive = 10,
                        .client_id = STR("cid"),
                        .will = true,
                        .will_qos = 1,
                        .will_topic = STR("w/t"),
                        .will_payload = BIN("bye"),
                        .has_username = true,
                        .username = STR("user"),
                        .has_password = true,
                        .password = BIN("pw"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_CONNECT);
        assert_int_equal(got.connect.version, MQL_V311);
        assert_true(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 10);
        assert_no_props(&got.connect.props);
        assert_str(got.connect.client_id, "cid");
        assert_ptr_equal(got.connect.client_id.ptr, (const char *)bytes + 14);
        assert_true(got.connect.will);
        assert_int_equal(got.connect.will_qos, 1);
        assert_false(got.connect.will_retain);
        assert_no_props(&got.connect.will_props);
        assert_str(got.connect.will_topic, "w/t");
        assert_bin(got.connect.will_payload, "bye", 3);
        assert_inside(bytes, sizeof(bytes), got.connect.will_payload.ptr, 3);
        assert_true(got.connect.has_username);
        assert_str(got.connect.username, "user");
        assert_true(got.connect.has_password);
        assert_bin(got.connect.password, "pw", 2);
        assert_ptr_equal(got.connect.password.ptr, bytes + sizeof(bytes) - 2);
}

static void test_connect_minimal(void **state) {
        static const uint8_t bytes[] = {
                0x10,      0x0C, /* CONNECT, Remaining Length 12 */
                MQTT_NAME, 0x04, /* Protocol Level 4 */
                0x02,            /* Clean Session */
                0x00,      0x3C, /* Keep Alive 60 */
                0x00,      0x00, /* Client Identifier "" (MQTT-3.1.3-7: needs Clean Session) */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = { .version = MQL_V311, .clean_start = true, .keepalive = 60 },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.connect.version, MQL_V311);
        assert_true(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 60);
        assert_int_equal(got.connect.client_id.len, 0);
        assert_false(got.connect.will);
        assert_int_equal(got.connect.will_qos, 0);
        assert_false(got.connect.will_retain);
        assert_int_equal(got.connect.will_topic.len, 0);
        assert_int_equal(got.connect.will_payload.len, 0);
        assert_false(got.connect.has_username);
        assert_int_equal(got.connect.username.len, 0);
        assert_false(got.connect.has_password);
        assert_int_equal(got.connect.password.len, 0);
        assert_no_props(&got.connect.props);
        assert_no_props(&got.connect.will_props);
}

static void test_connect_username_no_clean_session(void **state) {
        static const uint8_t bytes[] = {
                0x10,      0x1B, /* CONNECT, Remaining Length 27 */
                MQTT_NAME, 0x04, /* Protocol Level 4 */
                0x80,            /* User Name only; Clean Session 0 */
                0x00,      0x00, /* Keep Alive 0 (off) */
                0x00,      0x08, 'c', 'l', 'i', 'e', 'n', 't', '-', '1', /* Client Identifier */
                0x00,      0x05, 'a', 'l', 'i', 'c', 'e',                /* User Name */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V311,
                        .client_id = STR("client-1"),
                        .has_username = true,
                        .username = STR("alice"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_false(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 0);
        assert_str(got.connect.client_id, "client-1");
        assert_false(got.connect.will);
        assert_true(got.connect.has_username);
        assert_str(got.connect.username, "alice");
        assert_false(got.connect.has_password);
}

static void test_connect_will_qos2_retain(void **state) {
        static const uint8_t bytes[] = {
                0x10,      0x17,      /* CONNECT, Remaining Length 23 */
                MQTT_NAME, 0x04,      /* Protocol Level 4 */
                0x34,                 /* Will Retain, Will QoS 2, Will; Clean Session 0 */
                0xFF,      0xFF,      /* Keep Alive 65535 */
                0x00,      0x01, 'x', /* Client Identifier */
                0x00,      0x03, 'a',  '/',  'b',  /* Will Topic */
                0x00,      0x03, 0x00, 0xFF, 0x10, /* Will Message (binary, §3.1.3.3) */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V311,
                        .keepalive = 65535,
                        .client_id = STR("x"),
                        .will = true,
                        .will_qos = 2,
                        .will_retain = true,
                        .will_topic = STR("a/b"),
                        .will_payload = BIN("\x00\xFF\x10"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_false(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 65535);
        assert_true(got.connect.will);
        assert_int_equal(got.connect.will_qos, 2);
        assert_true(got.connect.will_retain);
        assert_str(got.connect.will_topic, "a/b");
        assert_bin(got.connect.will_payload, "\x00\xFF\x10", 3);
        assert_false(got.connect.has_username);
        assert_false(got.connect.has_password);
}

static void test_connect_will_qos0(void **state) {
        static const uint8_t bytes[] = {
                0x10,      0x11,      /* CONNECT, Remaining Length 17 */
                MQTT_NAME, 0x04,      /* Protocol Level 4 */
                0x06,                 /* Will (QoS 0, no retain), Clean Session */
                0x00,      0x05,      /* Keep Alive 5 */
                0x00,      0x00,      /* Client Identifier "" */
                0x00,      0x01, 'w', /* Will Topic */
                0x00,      0x00,      /* Will Message, empty */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V311,
                        .clean_start = true,
                        .keepalive = 5,
                        .will = true,
                        .will_topic = STR("w"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_true(got.connect.will);
        assert_int_equal(got.connect.will_qos, 0);
        assert_false(got.connect.will_retain);
        assert_str(got.connect.will_topic, "w");
        assert_int_equal(got.connect.will_payload.len, 0);
}

static void test_connect_username_password_clean(void **state) {
        static const uint8_t bytes[] = {
                0x10,      0x16,                   /* CONNECT, Remaining Length 22 */
                MQTT_NAME, 0x04,                   /* Protocol Level 4 */
                0xC2,                              /* User Name, Password, Clean Session */
                0x00,      0x1E,                   /* Keep Alive 30 */
                0x00,      0x02, 'i',  'd',        /* Client Identifier */
                0x00,      0x01, 'u',              /* User Name */
                0x00,      0x03, 0x00, 0x01, 0xFE, /* Password (binary data, §3.1.3.5) */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V311,
                        .clean_start = true,
                        .keepalive = 30,
                        .client_id = STR("id"),
                        .has_username = true,
                        .username = STR("u"),
                        .has_password = true,
                        .password = BIN("\x00\x01\xFE"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_true(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 30);
        assert_str(got.connect.client_id, "id");
        assert_true(got.connect.has_username);
        assert_str(got.connect.username, "u");
        assert_true(got.connect.has_password);
        assert_bin(got.connect.password, "\x00\x01\xFE", 3);
}

/* CONNECT carries its own protocol level both ways (packet.h). */
static void test_connect_version_from_packet(void **state) {
        static const uint8_t bytes[] = {
                0x10, 0x0C, MQTT_NAME, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00,
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = { .version = MQL_V311, .clean_start = true, .keepalive = 60 },
        };
        uint8_t buf[sizeof(bytes)];
        struct mql_packet got;

        (void)state;
        assert_ssize(mql_packet_size(&pkt, MQL_V5), sizeof(bytes));
        assert_ssize(mql_packet_encode(&pkt, MQL_V5, buf, sizeof(buf)), sizeof(bytes));
        assert_bytes(buf, sizeof(buf), bytes, sizeof(bytes));
        /* Also a byte at a time with the "wrong" connection version. */
        check_decode_vector(bytes, sizeof(bytes), MQL_V5, &got);
        assert_int_equal(got.connect.version, MQL_V311);
        assert_int_equal(got.connect.keepalive, 60);
}

/* ---- CONNACK (§3.2) ----------------------------------------------------- */

static void test_connack_return_codes(void **state) {
        (void)state;
        /* Return codes 0-5 (§3.2.2.3, Table 3.1); Session Present only with 0
         * (MQTT-3.2.2-4). */
        for (uint8_t rc = 0; rc <= 5; rc++)
                for (int sp = 0; sp <= 1; sp++) {
                        if (sp && rc != 0)
                                continue;
                        const uint8_t bytes[] = {
                                0x20, 0x02,  /* CONNACK, Remaining Length 2 */
                                (uint8_t)sp, /* Connect Acknowledge Flags */
                                rc,          /* Connect Return code */
                        };
                        const struct mql_packet pkt = {
                                .type = MQL_CONNACK,
                                .connack = { .session_present = sp, .reason_code = rc },
                        };
                        struct mql_packet got;

                        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
                        assert_int_equal(got.type, MQL_CONNACK);
                        assert_int_equal(got.connack.session_present, sp);
                        assert_int_equal(got.connack.reason_code, rc);
                        assert_no_props(&got.connack.props);
                }
}

/* ---- PUBLISH (§3.3) ----------------------------------------------------- */

static void test_publish_qos0(void **state) {
        static const uint8_t bytes[] = {
                0x30, 0x0A,                /* PUBLISH QoS 0, Remaining Length 10 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Name (no Packet Identifier at QoS 0) */
                'h',  'e',  'l', 'l', 'o', /* Payload */
        };
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .topic = STR("a/b"), .payload = BIN("hello") },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_false(got.publish.dup);
        assert_int_equal(got.publish.qos, 0);
        assert_false(got.publish.retain);
        assert_str(got.publish.topic, "a/b");
        assert_ptr_equal(got.publish.topic.ptr, (const char *)bytes + 4);
        assert_int_equal(got.publish.packet_id, 0);
        assert_no_props(&got.publish.props);
        assert_bin(got.publish.payload, "hello", 5);
        assert_ptr_equal(got.publish.payload.ptr, bytes + 7);
}

/* The variable header is §3.3.2.3's example: "a/b", Packet Identifier 10. */
static void test_publish_qos1_dup_retain(void **state) {
        static const uint8_t bytes[] = {
                0x3B, 0x09,                /* PUBLISH DUP, QoS 1, RETAIN; Remaining Length 9 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Name */
                0x00, 0x0A,                /* Packet Identifier 10 */
                'h',  'i',                 /* Payload */
        };
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = {
                        .dup = true,
                        .qos = 1,
                        .retain = true,
                        .topic = STR("a/b"),
                        .packet_id = 10,
                        .payload = BIN("hi"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_true(got.publish.dup);
        assert_int_equal(got.publish.qos, 1);
        assert_true(got.publish.retain);
        assert_str(got.publish.topic, "a/b");
        assert_int_equal(got.publish.packet_id, 10);
        assert_bin(got.publish.payload, "hi", 2);
}

static void test_publish_qos2(void **state) {
        static const uint8_t retain[] = {
                0x35, 0x06,      /* PUBLISH QoS 2, RETAIN; Remaining Length 6 */
                0x00, 0x01, 't', /* Topic Name */
                0xFF, 0xFF,      /* Packet Identifier 65535 */
                'x',             /* Payload */
        };
        static const uint8_t dup[] = {
                0x3C, 0x07,      /* PUBLISH DUP, QoS 2; Remaining Length 7 */
                0x00, 0x01, 't', /* Topic Name */
                0x00, 0x02,      /* Packet Identifier 2 */
                'y',  'z',       /* Payload */
        };
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = {
                        .qos = 2,
                        .retain = true,
                        .topic = STR("t"),
                        .packet_id = 65535,
                        .payload = BIN("x"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, retain, sizeof(retain), &got);
        assert_false(got.publish.dup);
        assert_int_equal(got.publish.qos, 2);
        assert_true(got.publish.retain);
        assert_int_equal(got.publish.packet_id, 65535);
        assert_bin(got.publish.payload, "x", 1);

        pkt.publish = (struct mql_publish){
                .dup = true,
                .qos = 2,
                .topic = STR("t"),
                .packet_id = 2,
                .payload = BIN("yz"),
        };
        check_vector(&pkt, V, dup, sizeof(dup), &got);
        assert_true(got.publish.dup);
        assert_int_equal(got.publish.qos, 2);
        assert_false(got.publish.retain);
        assert_int_equal(got.publish.packet_id, 2);
        assert_bin(got.publish.payload, "yz", 2);
}

static void test_publish_empty_payload(void **state) {
        static const uint8_t qos0[] = {
                0x31, 0x05,                /* PUBLISH QoS 0, RETAIN; Remaining Length 5 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Name; zero-length payload (§3.3.3) */
        };
        static const uint8_t qos1[] = {
                0x32, 0x07,                /* PUBLISH QoS 1, Remaining Length 7 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Name */
                0x00, 0x05,                /* Packet Identifier 5 */
        };
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .retain = true, .topic = STR("a/b") },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, qos0, sizeof(qos0), &got);
        assert_true(got.publish.retain);
        assert_int_equal(got.publish.payload.len, 0);

        pkt.publish = (struct mql_publish){ .qos = 1, .topic = STR("a/b"), .packet_id = 5 };
        check_vector(&pkt, V, qos1, sizeof(qos1), &got);
        assert_int_equal(got.publish.packet_id, 5);
        assert_int_equal(got.publish.payload.len, 0);
}

static void test_publish_utf8_topic(void **state) {
        static const uint8_t bytes[] = {
                0x30, 0x08,                        /* PUBLISH QoS 0, Remaining Length 8 */
                0x00, 0x06,                        /* Topic Name, 6 bytes: */
                0xC3, 0xBC, '/', 0xE2, 0x82, 0xAC, /*   "ü/€" */
        };
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .topic = STR("\xC3\xBC/\xE2\x82\xAC") },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_str(got.publish.topic, "\xC3\xBC/\xE2\x82\xAC");
        assert_int_equal(got.publish.payload.len, 0);
}

static void fill_pattern(uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(i * 7 + 3);
}

/* A 200-byte payload: Remaining Length 207 takes two bytes, 0xCF 0x01. */
static void test_publish_200_bytes(void **state) {
        static const uint8_t head[] = {
                0x32, 0xCF, 0x01,           /* PUBLISH QoS 1, Remaining Length 207 = 0x4F + 1*128 */
                0x00, 0x03, 'b',  'i', 'g', /* Topic Name */
                0x00, 0x01,                 /* Packet Identifier 1 */
        };
        uint8_t payload[200];
        uint8_t bytes[sizeof(head) + sizeof(payload)];
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = {
                        .qos = 1, .topic = STR("big"), .packet_id = 1,
                        .payload = { payload, sizeof(payload) },
                },
        };
        struct mql_packet got;

        (void)state;
        fill_pattern(payload, sizeof(payload));
        memcpy(bytes, head, sizeof(head));
        memcpy(bytes + sizeof(head), payload, sizeof(payload));

        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.publish.qos, 1);
        assert_str(got.publish.topic, "big");
        assert_int_equal(got.publish.packet_id, 1);
        assert_bin(got.publish.payload, payload, sizeof(payload));
        assert_ptr_equal(got.publish.payload.ptr, bytes + sizeof(head));
}

/* A 20,000-byte payload: Remaining Length 20,005 takes three bytes. */
static void test_publish_20000_bytes(void **state) {
        static const uint8_t head[] = {
                0x30, 0xA5, 0x9C, 0x01,      /* PUBLISH QoS 0, RL 20005 = 37 + 28*128 + 1*16384 */
                0x00, 0x03, 'b',  'i',  'g', /* Topic Name */
        };
        const size_t n = sizeof(head) + 20000;
        uint8_t *payload = malloc(20000), *bytes = malloc(n);
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .topic = STR("big"), .payload = { payload, 20000 } },
        };
        struct mql_packet got;

        (void)state;
        assert_non_null(payload);
        assert_non_null(bytes);
        fill_pattern(payload, 20000);
        memcpy(bytes, head, sizeof(head));
        memcpy(bytes + sizeof(head), payload, 20000);

        check_vector(&pkt, V, bytes, n, &got);
        assert_int_equal(got.publish.qos, 0);
        assert_str(got.publish.topic, "big");
        assert_int_equal(got.publish.payload.len, 20000);
        assert_ptr_equal(got.publish.payload.ptr, bytes + sizeof(head));
        assert_memory_equal(got.publish.payload.ptr, payload, 20000);
        free(payload);
        free(bytes);
}

/* Both sides of every Remaining Length size boundary (§2.2.3, Table 2.4). */
static void test_publish_remaining_length_boundaries(void **state) {
        static const struct {
                size_t rl;
                uint8_t head[5];
                size_t head_len;
        } cases[] = {
                { 3, { 0x30, 0x03 }, 2 },                         /* empty payload */
                { 127, { 0x30, 0x7F }, 2 },                       /* largest 1-byte length */
                { 128, { 0x30, 0x80, 0x01 }, 3 },                 /* smallest 2-byte length */
                { 16383, { 0x30, 0xFF, 0x7F }, 3 },               /* largest 2-byte length */
                { 16384, { 0x30, 0x80, 0x80, 0x01 }, 4 },         /* smallest 3-byte length */
                { 2097151, { 0x30, 0xFF, 0xFF, 0x7F }, 4 },       /* largest 3-byte length */
                { 2097152, { 0x30, 0x80, 0x80, 0x80, 0x01 }, 5 }, /* smallest 4-byte length */
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t plen = cases[i].rl - 3, n = cases[i].head_len + cases[i].rl;
                uint8_t *bytes = malloc(n), *w = bytes;
                struct mql_packet pkt, got;

                assert_non_null(bytes);
                memcpy(w, cases[i].head, cases[i].head_len); /* PUBLISH QoS 0, Remaining Length */
                w += cases[i].head_len;
                *w++ = 0x00;
                *w++ = 0x01;
                *w++ = 't';            /* Topic Name */
                fill_pattern(w, plen); /* Payload */

                pkt = (struct mql_packet){
                        .type = MQL_PUBLISH,
                        .publish = { .topic = STR("t"), .payload = { w, plen } },
                };
                check_vector(&pkt, V, bytes, n, &got);
                assert_int_equal(got.publish.payload.len, plen);
                if (plen)
                        assert_ptr_equal(got.publish.payload.ptr, w);
                free(bytes);
        }
}

/* The largest packet (§2.2.3: 268,435,455 bytes of Remaining Length); one
 * byte more is -EMSGSIZE. mql_packet_size() reads only the payload length. */
static void test_publish_max_size(void **state) {
        static const uint8_t one = 'x';
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .topic = STR("t"), .payload = { &one, 0 } },
        };

        (void)state;
        pkt.publish.payload.len = MQL_MAX_REMAINING_LENGTH - 3;
        assert_ssize(mql_packet_size(&pkt, V), (ssize_t)MQL_MAX_PACKET_SIZE);
        pkt.publish.payload.len++;
        assert_ssize(mql_packet_size(&pkt, V), -EMSGSIZE);
        assert_ssize(mql_packet_encode(&pkt, V, (uint8_t[8]){ 0 }, 8), -EMSGSIZE);
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4-§3.7) ------------------------ */

static void test_acks(void **state) {
        static const struct {
                enum mql_packet_type type;
                uint16_t id;
                uint8_t bytes[4];
        } cases[] = {
                /* PUBACK, id 10 */
                { MQL_PUBACK, 10, { 0x40, 0x02, 0x00, 0x0A } },
                /* PUBREC, id 4660 */
                { MQL_PUBREC, 0x1234, { 0x50, 0x02, 0x12, 0x34 } },
                /* PUBREL, fixed header flags 0010 (MQTT-3.6.1-1) */
                { MQL_PUBREL, 1, { 0x62, 0x02, 0x00, 0x01 } },
                /* PUBCOMP, id 65535 */
                { MQL_PUBCOMP, 65535, { 0x70, 0x02, 0xFF, 0xFF } },
                /* id 256: Two Byte Integers are big-endian (§1.5.2) */
                { MQL_PUBACK, 256, { 0x40, 0x02, 0x01, 0x00 } },
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct mql_packet pkt = {
                        .type = cases[i].type,
                        .ack = { .packet_id = cases[i].id },
                };
                struct mql_packet got;

                check_vector(&pkt, V, cases[i].bytes, 4, &got);
                assert_int_equal(got.type, cases[i].type);
                assert_int_equal(got.ack.packet_id, cases[i].id);
                assert_int_equal(got.ack.reason_code, 0);
                assert_no_props(&got.ack.props);
        }
}

/* ---- SUBSCRIBE (§3.8) --------------------------------------------------- */

static void test_subscribe(void **state) {
        /* The first two filters are §3.8.3.1's payload example. */
        static const uint8_t bytes[] = {
                0x82, 0x12,                       /* SUBSCRIBE (flags 0010), Remaining Length 18 */
                0x00, 0x0A,                       /* Packet Identifier 10 */
                0x00, 0x03, 'a', '/',  'b', 0x01, /* "a/b", Requested QoS 1 */
                0x00, 0x03, 'c', '/',  'd', 0x02, /* "c/d", Requested QoS 2 */
                0x00, 0x01, '#', 0x00,            /* "#", Requested QoS 0 */
        };
        static const struct mql_subscription filters[] = {
                { .filter = STR("a/b"), .qos = 1 },
                { .filter = STR("c/d"), .qos = 2 },
                { .filter = STR("#"), .qos = 0 },
        };
        const struct mql_packet pkt = {
                .type = MQL_SUBSCRIBE,
                .subscribe = { .packet_id = 10, .filters = LIST(filters) },
        };
        struct mql_packet got;

        (void)state;
        assert_filters(&pkt.subscribe.filters, MQL_SUBSCRIBE, filters, 3);
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_SUBSCRIBE);
        assert_int_equal(got.subscribe.packet_id, 10);
        assert_no_props(&got.subscribe.props);
        assert_ptr_equal(got.subscribe.filters.raw, bytes + 4);
        assert_int_equal(got.subscribe.filters.raw_len, 16);
        assert_int_equal(got.subscribe.filters.count, 0);
        assert_filters(&got.subscribe.filters, MQL_SUBSCRIBE, filters, 3);
}

/* ---- SUBACK (§3.9) ------------------------------------------------------ */

static void test_suback(void **state) {
        static const uint8_t bytes[] = {
                0x90, 0x06,             /* SUBACK, Remaining Length 6 */
                0x00, 0x0A,             /* Packet Identifier 10 */
                0x00, 0x01, 0x02, 0x80, /* Success QoS 0, 1, 2; Failure (§3.9.3) */
        };
        const struct mql_packet pkt = {
                .type = MQL_SUBACK,
                .suback = { .packet_id = 10, .reasons = BIN("\x00\x01\x02\x80") },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_SUBACK);
        assert_int_equal(got.suback.packet_id, 10);
        assert_no_props(&got.suback.props);
        assert_bin(got.suback.reasons, "\x00\x01\x02\x80", 4);
        assert_ptr_equal(got.suback.reasons.ptr, bytes + 4);
}

/* ---- UNSUBSCRIBE (§3.10) ------------------------------------------------ */

static void test_unsubscribe(void **state) {
        /* §3.10.3's payload example. */
        static const uint8_t bytes[] = {
                0xA2, 0x0C,                /* UNSUBSCRIBE (flags 0010), Remaining Length 12 */
                0x00, 0x0B,                /* Packet Identifier 11 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Filter */
                0x00, 0x03, 'c', '/', 'd', /* Topic Filter */
        };
        static const struct mql_subscription filters[] = {
                { .filter = STR("a/b") },
                { .filter = STR("c/d") },
        };
        const struct mql_packet pkt = {
                .type = MQL_UNSUBSCRIBE,
                .subscribe = { .packet_id = 11, .filters = LIST(filters) },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_UNSUBSCRIBE);
        assert_int_equal(got.subscribe.packet_id, 11);
        assert_no_props(&got.subscribe.props);
        assert_int_equal(got.subscribe.filters.raw_len, 10);
        assert_filters(&got.subscribe.filters, MQL_UNSUBSCRIBE, filters, 2);
}

/* ---- UNSUBACK (§3.11) --------------------------------------------------- */

static void test_unsuback(void **state) {
        static const uint8_t bytes[] = {
                0xB0, 0x02, /* UNSUBACK, Remaining Length 2 */
                0x00, 0x0B, /* Packet Identifier 11; no payload (§3.11.3) */
        };
        const struct mql_packet pkt = {
                .type = MQL_UNSUBACK,
                .suback = { .packet_id = 11 },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_UNSUBACK);
        assert_int_equal(got.suback.packet_id, 11);
        assert_int_equal(got.suback.reasons.len, 0);
        assert_no_props(&got.suback.props);
}

/* ---- PINGREQ, PINGRESP, DISCONNECT (§3.12-§3.14) ------------------------ */

static void test_no_body_packets(void **state) {
        static const struct {
                enum mql_packet_type type;
                uint8_t bytes[2];
        } cases[] = {
                { MQL_PINGREQ, { 0xC0, 0x00 } },    /* PINGREQ, Remaining Length 0 */
                { MQL_PINGRESP, { 0xD0, 0x00 } },   /* PINGRESP, Remaining Length 0 */
                { MQL_DISCONNECT, { 0xE0, 0x00 } }, /* DISCONNECT, Remaining Length 0 */
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct mql_packet pkt = { .type = cases[i].type };
                struct mql_packet got;

                check_vector(&pkt, V, cases[i].bytes, 2, &got);
                assert_int_equal(got.type, cases[i].type);
                if (cases[i].type == MQL_DISCONNECT) {
                        assert_int_equal(got.disconnect.reason_code, 0);
                        assert_no_props(&got.disconnect.props);
                }
        }
}

/* A whole session's worth of packets back to back in one buffer. */
static void test_stream(void **state) {
        static const uint8_t stream[] = {
                0x10, 0x0C, MQTT_NAME, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00,       /* CONNECT */
                0x20, 0x02, 0x00,      0x00,                                     /* CONNACK */
                0x82, 0x08, 0x00,      0x01, 0x00, 0x03, 'a',  '/',  'b',  0x01, /* SUBSCRIBE */
                0x90, 0x03, 0x00,      0x01, 0x01,                               /* SUBACK */
                0x32, 0x08, 0x00,      0x03, 'a',  '/',  'b',  0x00, 0x02, 'x',  /* PUBLISH QoS 1 */
                0x40, 0x02, 0x00,      0x02,                                     /* PUBACK */
                0xC0, 0x00,                                                      /* PINGREQ */
                0xD0, 0x00,                                                      /* PINGRESP */
                0xE0, 0x00,                                                      /* DISCONNECT */
        };
        static const enum mql_packet_type types[] = {
                MQL_CONNECT, MQL_CONNACK, MQL_SUBSCRIBE, MQL_SUBACK,     MQL_PUBLISH,
                MQL_PUBACK,  MQL_PINGREQ, MQL_PINGRESP,  MQL_DISCONNECT,
        };
        static const size_t lens[] = { 14, 4, 10, 5, 10, 4, 2, 2, 2 };
        size_t off = 0;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                struct mql_packet got;

                memset(&got, 0, sizeof(got));
                assert_ssize(mql_packet_frame(stream + off, sizeof(stream) - off), lens[i]);
                assert_ssize(mql_packet_decode(stream + off, sizeof(stream) - off, V, &got),
                             lens[i]);
                assert_int_equal(got.type, types[i]);
                if (types[i] == MQL_PUBLISH) {
                        assert_str(got.publish.topic, "a/b");
                        assert_int_equal(got.publish.packet_id, 2);
                        assert_bin(got.publish.payload, "x", 1);
                }
                off += lens[i];
        }
        assert_int_equal(off, sizeof(stream));
}

/* ---- encoder errors ----------------------------------------------------- */

static const struct mql_prop some_prop[] = { { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 1 } };
static const struct mql_prop user_prop[] = {
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("v") } },
};
static const uint8_t raw_prop[] = { 0x01, 0x01 }; /* Payload Format Indicator 1 */
static const struct mql_subscription one_filter[] = { { .filter = STR("a") } };
static const struct mql_subscription filter_no_local[] = { { .filter = STR("a"),
                                                             .no_local = true } };
static const struct mql_subscription filter_rh[] = { { .filter = STR("a"), .retain_handling = 1 } };
static const struct mql_subscription filter_qos3[] = { { .filter = STR("a"), .qos = 3 } };

static char long_topic[65536]; /* one byte over the 65,535 a string may hold (§1.5.3) */

struct bad_case {
        const char *name;
        struct mql_packet pkt;
};

#define CONNECT_WITH(...)                         \
        {                                         \
                .type = MQL_CONNECT, .connect = { \
                        .version = MQL_V311,      \
                        .clean_start = true,      \
                        __VA_ARGS__               \
                }                                 \
        }
#define PUBLISH_WITH(...)                                                         \
        {                                                                         \
                .type = MQL_PUBLISH, .publish = {.topic = STR("t"), __VA_ARGS__ } \
        }

/* -EINVAL cases docs/codec-rules.md lists for the encoder. */
static const struct bad_case einval_cases[] = {
        { "CONNECT with properties (list)", CONNECT_WITH(.props = LIST(some_prop)) },
        { "CONNECT with properties (raw)",
          CONNECT_WITH(.props = { .raw = raw_prop, .raw_len = sizeof(raw_prop) }) },
        { "CONNECT with will properties",
          CONNECT_WITH(.will = true, .will_topic = STR("w"), .will_props = LIST(user_prop)) },
        { "CONNECT client id ill-formed UTF-8", CONNECT_WITH(.client_id = STR("\xC0\x80")) },
        { "CONNECT user name with a surrogate",
          CONNECT_WITH(.has_username = true, .username = STR("\xED\xA0\x80")) },
        { "CONNACK with properties",
          { .type = MQL_CONNACK, .connack = { .props = LIST(user_prop) } } },
        { "PUBLISH with properties (list)", PUBLISH_WITH(.props = LIST(user_prop)) },
        { "PUBLISH with properties (raw)",
          PUBLISH_WITH(.props = { .raw = raw_prop, .raw_len = sizeof(raw_prop) }) },
        { "PUBLISH QoS 3", PUBLISH_WITH(.qos = 3, .packet_id = 1) },
        { "PUBLISH QoS 1 packet id 0", PUBLISH_WITH(.qos = 1) },
        { "PUBLISH QoS 2 packet id 0", PUBLISH_WITH(.qos = 2) },
        { "PUBLISH DUP with QoS 0", PUBLISH_WITH(.dup = true) },
        { "PUBLISH topic +", { .type = MQL_PUBLISH, .publish = { .topic = STR("+") } } },
        { "PUBLISH topic a/#", { .type = MQL_PUBLISH, .publish = { .topic = STR("a/#") } } },
        { "PUBLISH topic a/+/c", { .type = MQL_PUBLISH, .publish = { .topic = STR("a/+/c") } } },
        { "PUBLISH empty topic", { .type = MQL_PUBLISH } },
        { "PUBLISH topic ill-formed UTF-8",
          { .type = MQL_PUBLISH, .publish = { .topic = STR("\xFF") } } },
        { "PUBLISH topic 65,536 bytes",
          { .type = MQL_PUBLISH, .publish = { .topic = { long_topic, sizeof(long_topic) } } } },
        { "PUBACK with properties",
          { .type = MQL_PUBACK, .ack = { .packet_id = 1, .props = LIST(user_prop) } } },
        { "PUBREL packet id 0", { .type = MQL_PUBREL } },
        { "SUBSCRIBE no filters", { .type = MQL_SUBSCRIBE, .subscribe = { .packet_id = 1 } } },
        { "SUBSCRIBE packet id 0",
          { .type = MQL_SUBSCRIBE, .subscribe = { .filters = LIST(one_filter) } } },
        { "SUBSCRIBE with properties",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1,
                           .props = LIST(user_prop),
                           .filters = LIST(one_filter) } } },
        { "UNSUBSCRIBE no filters", { .type = MQL_UNSUBSCRIBE, .subscribe = { .packet_id = 1 } } },
        { "UNSUBSCRIBE packet id 0",
          { .type = MQL_UNSUBSCRIBE, .subscribe = { .filters = LIST(one_filter) } } },
        { "SUBACK with properties",
          { .type = MQL_SUBACK,
            .suback = { .packet_id = 1, .props = LIST(user_prop), .reasons = BIN("\x00") } } },
        { "DISCONNECT with properties",
          { .type = MQL_DISCONNECT, .disconnect = { .props = LIST(user_prop) } } },
        { "CONNECT password 65,536 bytes (§1.5.6 via §3.1.3.5)",
          CONNECT_WITH(.has_username = true, .username = STR("u"), .has_password = true,
                       .password = { (const uint8_t *)long_topic, sizeof(long_topic) }) },
        { "CONNECT will message 65,536 bytes",
          CONNECT_WITH(.will = true, .will_topic = STR("w"),
                       .will_payload = { (const uint8_t *)long_topic, sizeof(long_topic) }) },
        { "CONNECT user name 65,536 bytes",
          CONNECT_WITH(.has_username = true, .username = { long_topic, sizeof(long_topic) }) },
        { "packet type 0", { .type = 0 } },
        { "AUTH (MQTT 5 only)", { .type = MQL_AUTH } },
        { "AUTH 0x18 (MQTT 5 only)", { .type = MQL_AUTH, .auth = { .reason_code = 0x18 } } },
};

/*
 * Not spelled out in docs/codec-rules.md but covered by packet.h ("-EINVAL
 * for a packet a receiver would reject"): the 3.1.1 decoder rejects each.
 */
static const struct bad_case einval_inferred_cases[] = {
        { "CONNECT password without user name (MQTT-3.1.2-22)",
          CONNECT_WITH(.has_password = true, .password = BIN("pw")) },
        { "CONNECT Will QoS 3 (MQTT-3.1.2-12)",
          CONNECT_WITH(.will = true, .will_qos = 3, .will_topic = STR("w")) },
        { "CONNECT will with empty topic", CONNECT_WITH(.will = true) },
        { "CONNECT will topic with wildcard",
          CONNECT_WITH(.will = true, .will_topic = STR("a/#")) },
        { "CONNACK return code 6", { .type = MQL_CONNACK, .connack = { .reason_code = 6 } } },
        { "CONNACK Session Present with return code 5 (MQTT-3.2.2-4)",
          { .type = MQL_CONNACK, .connack = { .session_present = true, .reason_code = 5 } } },
        { "SUBSCRIBE No Local in 3.1.1 (options bits 7-2 reserved, MQTT-3-8.3-4)",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1, .filters = LIST(filter_no_local) } } },
        { "SUBSCRIBE Retain Handling in 3.1.1",
          { .type = MQL_SUBSCRIBE, .subscribe = { .packet_id = 1, .filters = LIST(filter_rh) } } },
        { "SUBSCRIBE QoS 3",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1, .filters = LIST(filter_qos3) } } },
        { "SUBACK return code 0x87 (3.1.1 allows 0, 1, 2, 0x80)",
          { .type = MQL_SUBACK, .suback = { .packet_id = 1, .reasons = BIN("\x87") } } },
        { "SUBACK no return codes", { .type = MQL_SUBACK, .suback = { .packet_id = 1 } } },
        { "SUBACK packet id 0", { .type = MQL_SUBACK, .suback = { .reasons = BIN("\x00") } } },
        { "UNSUBACK packet id 0", { .type = MQL_UNSUBACK } },
};

static int count_not_einval(const struct bad_case *cases, size_t n) {
        uint8_t buf[64];
        int failures = 0;

        for (size_t i = 0; i < n; i++) {
                ssize_t s = mql_packet_size(&cases[i].pkt, V);
                ssize_t e;

                memset(buf, 0xA5, sizeof(buf));
                e = mql_packet_encode(&cases[i].pkt, V, buf, sizeof(buf));
                if (s != -EINVAL || e != -EINVAL) {
                        print_error("%s: size %zd, encode %zd, expected -EINVAL (%d)\n",
                                    cases[i].name, s, e, -EINVAL);
                        failures++;
                        continue;
                }
                for (size_t j = 0; j < sizeof(buf); j++)
                        if (buf[j] != 0xA5) {
                                print_error("%s: byte %zu written on error\n", cases[i].name, j);
                                failures++;
                                break;
                        }
        }
        return failures;
}

static void test_encode_einval(void **state) {
        (void)state;
        memset(long_topic, 'a', sizeof(long_topic));
        assert_int_equal(count_not_einval(einval_cases, ELEMENTSOF(einval_cases)), 0);
}

static void test_encode_einval_inferred(void **state) {
        (void)state;
        assert_int_equal(count_not_einval(einval_inferred_cases, ELEMENTSOF(einval_inferred_cases)),
                         0);
}

/* A topic of exactly 65,535 bytes is the longest allowed (§1.5.3). */
static void test_publish_longest_topic(void **state) {
        const size_t tlen = 65535, n = 4 + 2 + tlen; /* RL 65537 needs 3 bytes */
        uint8_t *bytes = malloc(n);
        char *topic = malloc(tlen);
        struct mql_packet pkt, got;

        (void)state;
        assert_non_null(bytes);
        assert_non_null(topic);
        memset(topic, 'a', tlen);
        bytes[0] = 0x30; /* PUBLISH QoS 0 */
        bytes[1] = 0x81;
        bytes[2] = 0x80;
        bytes[3] = 0x04; /* RL 65537 = 1 + 0*128 + 4*16384 */
        bytes[4] = 0xFF;
        bytes[5] = 0xFF; /* Topic Name length 65535 */
        memcpy(bytes + 6, topic, tlen);
        pkt = (struct mql_packet){ .type = MQL_PUBLISH, .publish = { .topic = { topic, tlen } } };

        check_vector_length(bytes, n);
        check_encode(&pkt, V, bytes, n);
        decode_ok(bytes, n, V, &got);
        assert_packet_same(&got, &pkt);
        check_roundtrip(bytes, n, V);
        free(bytes);
        free(topic);
}

/* ---- names -------------------------------------------------------------- */

/* 3.1.1 CONNACK return codes in the 3.1.1 specification's words (§3.2.2.3,
 * Table 3.1). */
static void test_reason_str_for_connack(void **state) {
        static const char *const names[] = {
                "Connection Accepted",
                "Connection Refused, unacceptable protocol version",
                "Connection Refused, identifier rejected",
                "Connection Refused, Server unavailable",
                "Connection Refused, bad user name or password",
                "Connection Refused, not authorized",
        };
        int failures = 0;

        (void)state;
        for (unsigned rc = 0; rc < 256; rc++) {
                const char *got = mql_reason_str_for(MQL_CONNACK, MQL_V311, rc);
                const char *exp = rc < ELEMENTSOF(names) ? names[rc] : NULL;

                if ((exp == NULL) != (got == NULL) || (exp && strcmp(exp, got) != 0)) {
                        print_error(
                                "mql_reason_str_for(CONNACK, V311, %u) = \"%s\", expected \"%s\"\n",
                                rc, got ? got : "(null)", exp ? exp : "(null)");
                        failures++;
                }
        }
        assert_int_equal(failures, 0);
        assert_non_null(strstr(mql_reason_str_for(MQL_CONNACK, MQL_V311, MQL_V311_NOT_AUTHORIZED),
                               "not authorized"));
        assert_null(mql_reason_str_for(MQL_CONNACK, MQL_V311, 0x87));
        assert_null(mql_reason_str_for(MQL_CONNACK, MQL_V311, 0x105));
        /* The MQTT 5 name of the same number differs: 5 is not a v5 CONNACK code. */
        assert_null(mql_reason_str_for(MQL_CONNACK, MQL_V5, 5));
}

/* 3.1.1 SUBACK return codes in the 3.1.1 specification's words (§3.9.3);
 * other 3.1.1 packets carry no reason code. */
static void test_reason_str_for_suback(void **state) {
        static const struct {
                unsigned rc;
                const char *name;
        } names[] = {
                { 0x00, "Success - Maximum QoS 0" },
                { 0x01, "Success - Maximum QoS 1" },
                { 0x02, "Success - Maximum QoS 2" },
                { 0x80, "Failure" },
        };
        int failures = 0;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *got = mql_reason_str_for(MQL_SUBACK, MQL_V311, names[i].rc);

                if (!got || strcmp(got, names[i].name) != 0) {
                        print_error("mql_reason_str_for(SUBACK, V311, 0x%02x) = \"%s\", expected "
                                    "\"%s\"\n",
                                    names[i].rc, got ? got : "(null)", names[i].name);
                        failures++;
                }
        }
        assert_int_equal(failures, 0);
        assert_null(mql_reason_str_for(MQL_SUBACK, MQL_V311, 0x03));
        assert_null(mql_reason_str_for(MQL_SUBACK, MQL_V311, 0x87));
        assert_null(mql_reason_str_for(MQL_PUBACK, MQL_V311, 0));
        assert_null(mql_reason_str_for(MQL_UNSUBACK, MQL_V311, 0));
        assert_null(mql_reason_str_for(MQL_DISCONNECT, MQL_V311, 0));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_connect_spec_example),
                cmocka_unit_test(test_connect_minimal),
                cmocka_unit_test(test_connect_username_no_clean_session),
                cmocka_unit_test(test_connect_will_qos2_retain),
                cmocka_unit_test(test_connect_will_qos0),
                cmocka_unit_test(test_connect_username_password_clean),
                cmocka_unit_test(test_connect_version_from_packet),
                cmocka_unit_test(test_connack_return_codes),
                cmocka_unit_test(test_publish_qos0),
                cmocka_unit_test(test_publish_qos1_dup_retain),
                cmocka_unit_test(test_publish_qos2),
                cmocka_unit_test(test_publish_empty_payload),
                cmocka_unit_test(test_publish_utf8_topic),
                cmocka_unit_test(test_publish_200_bytes),
                cmocka_unit_test(test_publish_20000_bytes),
                cmocka_unit_test(test_publish_remaining_length_boundaries),
                cmocka_unit_test(test_publish_max_size),
                cmocka_unit_test(test_publish_longest_topic),
                cmocka_unit_test(test_acks),
                cmocka_unit_test(test_subscribe),
                cmocka_unit_test(test_suback),
                cmocka_unit_test(test_unsubscribe),
                cmocka_unit_test(test_unsuback),
                cmocka_unit_test(test_no_body_packets),
                cmocka_unit_test(test_stream),
                cmocka_unit_test(test_encode_einval),
                cmocka_unit_test(test_encode_einval_inferred),
                cmocka_unit_test(test_reason_str_for_connack),
                cmocka_unit_test(test_reason_str_for_suback),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

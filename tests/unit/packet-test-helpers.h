/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Helpers shared by test-packet-v311.c and test-packet-v5.c: exact-byte
 * assertions on encode, field-by-field comparison of decoded packets, round
 * trips, byte-at-a-time and back-to-back decoding. Include after cmocka.h.
 */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/packet.h>


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

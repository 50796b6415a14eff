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

#include "packet-test-helpers.h"

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

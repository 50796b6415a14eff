/* SPDX-License-Identifier: MIT */
/*
 * MQTT 5.0 packet codec, every one of the 15 packet types: encoded to exact
 * bytes, decoded from exact bytes (every field checked), round-tripped
 * (including the raw-property path), fed a byte at a time, and decoded back
 * to back.
 *
 * Every expected byte below is written out by hand from the OASIS MQTT
 * Version 5.0 specification (sections cited in the comments). Where the
 * specification has a worked example (CONNECT variable header, Figure 3-6
 * area of §3.1.2.11; PUBLISH variable header, §3.3.2.3; SUBSCRIBE payload,
 * §3.8.3.1) the vector is that example. None of them comes from the encoder.
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

#define V MQL_V5

/* ---- CONNECT (MQTT 5 §3.1) ---------------------------------------------- */

/* The variable header is the specification's example (§3.1.2.11, Figure
 * 3-6 "Variable Header example"): flags 0xCE, Keep Alive 10, Session Expiry
 * Interval 10. */
static void test_connect_spec_example(void **state) {
        static const uint8_t bytes[] = {
                0x10, 0x2A,                        /* CONNECT, Remaining Length 42 */
                0x00, 0x04, 'M',  'Q',  'T',  'T', /* Protocol Name */
                0x05,                              /* Protocol Version 5 */
                0xCE,       /* User Name, Password, Will QoS 1, Will, Clean Start */
                0x00, 0x0A, /* Keep Alive 10 */
                0x05,       /* Property Length 5 */
                0x11, 0x00, 0x00, 0x00, 0x0A,      /* Session Expiry Interval 10 */
                0x00, 0x03, 'c',  'i',  'd',       /* Client Identifier */
                0x00,                              /* Will Property Length 0 */
                0x00, 0x03, 'w',  '/',  't',       /* Will Topic */
                0x00, 0x03, 'b',  'y',  'e',       /* Will Payload */
                0x00, 0x04, 'u',  's',  'e',  'r', /* User Name */
                0x00, 0x02, 'p',  'w',             /* Password */
        };
        static const struct mql_prop props[] = {
                { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 10 },
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V5,
                        .clean_start = true,
                        .keepalive = 10,
                        .props = LIST(props),
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
        assert_int_equal(got.connect.version, MQL_V5);
        assert_true(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 10);
        assert_int_equal(got.connect.props.raw_len, 5);
        assert_inside(bytes, sizeof(bytes), got.connect.props.raw, 5);
        assert_int_equal(got.connect.props.count, 0);
        assert_props(&got.connect.props, props, ELEMENTSOF(props));
        assert_str(got.connect.client_id, "cid");
        assert_inside(bytes, sizeof(bytes), got.connect.client_id.ptr, 3);
        assert_true(got.connect.will);
        assert_int_equal(got.connect.will_qos, 1);
        assert_false(got.connect.will_retain);
        assert_no_props(&got.connect.will_props);
        assert_str(got.connect.will_topic, "w/t");
        assert_bin(got.connect.will_payload, "bye", 3);
        assert_true(got.connect.has_username);
        assert_str(got.connect.username, "user");
        assert_true(got.connect.has_password);
        assert_bin(got.connect.password, "pw", 2);
}

static void test_connect_minimal(void **state) {
        static const uint8_t bytes[] = {
                0x10, 0x0D,                     /* CONNECT, Remaining Length 13 */
                0x00, 0x04, 'M', 'Q', 'T', 'T', /* Protocol Name */
                0x05,                           /* Protocol Version 5 */
                0x02,                           /* Clean Start */
                0x00, 0x00,                     /* Keep Alive 0 */
                0x00,       /* Property Length 0: always present (§3.1.2.11.1) */
                0x00, 0x00, /* Client Identifier "" (MQTT-3.1.3-6) */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = { .version = MQL_V5, .clean_start = true },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.connect.version, MQL_V5);
        assert_true(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 0);
        assert_no_props(&got.connect.props);
        assert_int_equal(got.connect.client_id.len, 0);
        assert_false(got.connect.will);
        assert_int_equal(got.connect.will_qos, 0);
        assert_false(got.connect.will_retain);
        assert_no_props(&got.connect.will_props);
        assert_int_equal(got.connect.will_topic.len, 0);
        assert_int_equal(got.connect.will_payload.len, 0);
        assert_false(got.connect.has_username);
        assert_int_equal(got.connect.username.len, 0);
        assert_false(got.connect.has_password);
        assert_int_equal(got.connect.password.len, 0);
}

/* Every CONNECT property of §3.1.2.11 and every Will Property of §3.1.3.2. */
static const struct mql_prop connect_all_props[] = {
        { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 3600 },
        { .id = MQL_PROP_RECEIVE_MAXIMUM, .u32 = 20 },
        { .id = MQL_PROP_MAXIMUM_PACKET_SIZE, .u32 = 65536 },
        { .id = MQL_PROP_TOPIC_ALIAS_MAXIMUM, .u32 = 10 },
        { .id = MQL_PROP_REQUEST_RESPONSE_INFORMATION, .u32 = 1 },
        { .id = MQL_PROP_REQUEST_PROBLEM_INFORMATION, .u32 = 0 },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("v") } },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("v2") } },
        { .id = MQL_PROP_AUTHENTICATION_METHOD, .str = STR("SCRAM") },
        { .id = MQL_PROP_AUTHENTICATION_DATA, .bin = BIN("\x01\x02\x03") },
};
static const struct mql_prop connect_will_props[] = {
        { .id = MQL_PROP_WILL_DELAY_INTERVAL, .u32 = 5 },
        { .id = MQL_PROP_PAYLOAD_FORMAT_INDICATOR, .u32 = 1 },
        { .id = MQL_PROP_MESSAGE_EXPIRY_INTERVAL, .u32 = 60 },
        { .id = MQL_PROP_CONTENT_TYPE, .str = STR("text") },
        { .id = MQL_PROP_RESPONSE_TOPIC, .str = STR("r/t") },
        { .id = MQL_PROP_CORRELATION_DATA, .bin = BIN("\xCA\xFE") },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("a"), .value = STR("b") } },
};
static const uint8_t connect_all_bytes[] = {
        0x10, 0x7B,                        /* CONNECT, Remaining Length 123 */
        0x00, 0x04, 'M',  'Q',  'T',  'T', /* Protocol Name */
        0x05,                              /* Protocol Version 5 */
        0xEE,       /* User Name, Password, Will Retain, Will QoS 1, Will, Clean Start */
        0x00, 0x3C, /* Keep Alive 60 */
        0x31,       /* Property Length 49 */
        0x11, 0x00, 0x00, 0x0E, 0x10,                 /* Session Expiry Interval 3600 */
        0x21, 0x00, 0x14,                             /* Receive Maximum 20 */
        0x27, 0x00, 0x01, 0x00, 0x00,                 /* Maximum Packet Size 65536 */
        0x22, 0x00, 0x0A,                             /* Topic Alias Maximum 10 */
        0x19, 0x01,                                   /* Request Response Information 1 */
        0x17, 0x00,                                   /* Request Problem Information 0 */
        0x26, 0x00, 0x01, 'k',  0x00, 0x01, 'v',      /* User Property k=v */
        0x26, 0x00, 0x01, 'k',  0x00, 0x02, 'v', '2', /* User Property k=v2 (same key again) */
        0x15, 0x00, 0x05, 'S',  'C',  'R',  'A', 'M', /* Authentication Method */
        0x16, 0x00, 0x03, 0x01, 0x02, 0x03,           /* Authentication Data */
        0x00, 0x03, 'c',  'i',  'd',                  /* Client Identifier */
        0x25,                                         /* Will Property Length 37 */
        0x18, 0x00, 0x00, 0x00, 0x05,                 /* Will Delay Interval 5 */
        0x01, 0x01,                                   /* Payload Format Indicator 1 */
        0x02, 0x00, 0x00, 0x00, 0x3C,                 /* Message Expiry Interval 60 */
        0x03, 0x00, 0x04, 't',  'e',  'x',  't',      /* Content Type */
        0x08, 0x00, 0x03, 'r',  '/',  't',            /* Response Topic */
        0x09, 0x00, 0x02, 0xCA, 0xFE,                 /* Correlation Data */
        0x26, 0x00, 0x01, 'a',  0x00, 0x01, 'b',      /* User Property a=b */
        0x00, 0x03, 'w',  '/',  't',                  /* Will Topic */
        0x00, 0x03, 'b',  'y',  'e',                  /* Will Payload */
        0x00, 0x04, 'u',  's',  'e',  'r',            /* User Name */
        0x00, 0x02, 'p',  'w',                        /* Password */
};

static void test_connect_all_properties(void **state) {
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V5,
                        .clean_start = true,
                        .keepalive = 60,
                        .props = LIST(connect_all_props),
                        .client_id = STR("cid"),
                        .will = true,
                        .will_qos = 1,
                        .will_retain = true,
                        .will_props = LIST(connect_will_props),
                        .will_topic = STR("w/t"),
                        .will_payload = BIN("bye"),
                        .has_username = true,
                        .username = STR("user"),
                        .has_password = true,
                        .password = BIN("pw"),
                },
        };
        const uint8_t *b = connect_all_bytes;
        struct mql_packet got;
        struct mql_prop p;

        (void)state;
        check_vector(&pkt, V, b, sizeof(connect_all_bytes), &got);
        assert_int_equal(got.connect.version, MQL_V5);
        assert_true(got.connect.clean_start);
        assert_int_equal(got.connect.keepalive, 60);
        assert_int_equal(got.connect.props.raw_len, 49);
        assert_ptr_equal(got.connect.props.raw, b + 13);
        assert_props(&got.connect.props, connect_all_props, ELEMENTSOF(connect_all_props));
        assert_true(got.connect.will);
        assert_int_equal(got.connect.will_qos, 1);
        assert_true(got.connect.will_retain);
        assert_int_equal(got.connect.will_props.raw_len, 37);
        assert_ptr_equal(got.connect.will_props.raw, b + 13 + 49 + 5 + 1);
        assert_props(&got.connect.will_props, connect_will_props, ELEMENTSOF(connect_will_props));
        assert_str(got.connect.client_id, "cid");
        assert_str(got.connect.will_topic, "w/t");
        assert_bin(got.connect.will_payload, "bye", 3);
        assert_str(got.connect.username, "user");
        assert_bin(got.connect.password, "pw", 2);

        /* mql_props_find gives the first of a repeated property. */
        assert_int_equal(mql_props_find(&got.connect.props, MQL_PROP_USER_PROPERTY, &p), 1);
        assert_int_equal(p.id, MQL_PROP_USER_PROPERTY);
        assert_str(p.pair.key, "k");
        assert_str(p.pair.value, "v");
        assert_int_equal(mql_props_find(&got.connect.props, MQL_PROP_AUTHENTICATION_DATA, &p), 1);
        assert_bin(p.bin, "\x01\x02\x03", 3);
        assert_int_equal(
                mql_props_find(&got.connect.props, MQL_PROP_REQUEST_PROBLEM_INFORMATION, &p), 1);
        assert_int_equal(p.u32, 0);
        assert_int_equal(mql_props_find(&got.connect.props, MQL_PROP_WILL_DELAY_INTERVAL, &p), 0);
        assert_int_equal(mql_props_find(&got.connect.will_props, MQL_PROP_WILL_DELAY_INTERVAL, &p),
                         1);
        assert_int_equal(p.u32, 5);
        assert_int_equal(
                mql_props_find(&got.connect.will_props, MQL_PROP_SESSION_EXPIRY_INTERVAL, &p), 0);
}

/* MQTT 5 lets a password go without a user name (§3.1.2.9, unlike MQTT-3.1.2-22). */
static void test_connect_password_without_username(void **state) {
        static const uint8_t bytes[] = {
                0x10, 0x16,                               /* CONNECT, Remaining Length 22 */
                0x00, 0x04, 'M', 'Q', 'T', 'T',           /* Protocol Name */
                0x05,                                     /* Protocol Version 5 */
                0x42,                                     /* Password, Clean Start */
                0x00, 0x00,                               /* Keep Alive 0 */
                0x00,                                     /* Property Length 0 */
                0x00, 0x01, 'c',                          /* Client Identifier */
                0x00, 0x06, 's', 'e', 'c', 'r', 'e', 't', /* Password */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = {
                        .version = MQL_V5,
                        .clean_start = true,
                        .client_id = STR("c"),
                        .has_password = true,
                        .password = BIN("secret"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_false(got.connect.has_username);
        assert_true(got.connect.has_password);
        assert_bin(got.connect.password, "secret", 6);
}

/* CONNECT carries its own protocol level both ways. */
static void test_connect_version_from_packet(void **state) {
        const struct mql_packet pkt = {
                .type = MQL_CONNECT,
                .connect = { .version = MQL_V5, .clean_start = true },
        };
        uint8_t buf[15];
        struct mql_packet got;

        (void)state;
        /* The `version` argument is ignored for CONNECT (packet.h). */
        assert_ssize(mql_packet_size(&pkt, MQL_V311), 15);
        assert_ssize(mql_packet_encode(&pkt, MQL_V311, buf, sizeof(buf)), 15);
        assert_int_equal(buf[8], 0x05);
        assert_int_equal(buf[12], 0x00); /* the v5 Property Length is there */
        memset(&got, 0, sizeof(got));
        assert_ssize(mql_packet_decode(buf, sizeof(buf), MQL_V311, &got), 15);
        assert_int_equal(got.type, MQL_CONNECT);
        assert_int_equal(got.connect.version, MQL_V5);
}

/* ---- CONNACK (§3.2) ----------------------------------------------------- */

/* Every reason code CONNACK defines (§3.2.2.2, Table 3-1). */
static const uint8_t connack_codes[] = {
        0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
};

static void test_connack_reason_codes(void **state) {
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(connack_codes); i++) {
                for (int sp = 0; sp <= 1; sp++) {
                        /* Session Present only with reason 0 (MQTT-3.2.2-6). */
                        if (sp && connack_codes[i] != 0)
                                continue;
                        const uint8_t bytes[] = {
                                0x20,
                                0x03,             /* CONNACK, Remaining Length 3 */
                                (uint8_t)sp,      /* Connect Acknowledge Flags */
                                connack_codes[i], /* Reason Code */
                                0x00,             /* Property Length 0 */
                        };
                        const struct mql_packet pkt = {
                                .type = MQL_CONNACK,
                                .connack = { .session_present = sp,
                                             .reason_code = connack_codes[i] },
                        };
                        struct mql_packet got;

                        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
                        assert_int_equal(got.connack.session_present, sp);
                        assert_int_equal(got.connack.reason_code, connack_codes[i]);
                        assert_no_props(&got.connack.props);
                }
        }
}

static const struct mql_prop connack_all_props[] = {
        { .id = MQL_PROP_ASSIGNED_CLIENT_IDENTIFIER, .str = STR("cl-1") },
        { .id = MQL_PROP_SERVER_KEEP_ALIVE, .u32 = 30 },
        { .id = MQL_PROP_MAXIMUM_QOS, .u32 = 1 },
        { .id = MQL_PROP_RETAIN_AVAILABLE, .u32 = 0 },
        { .id = MQL_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, .u32 = 0 },
        { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, .u32 = 1 },
        { .id = MQL_PROP_SHARED_SUBSCRIPTION_AVAILABLE, .u32 = 0 },
        { .id = MQL_PROP_REASON_STRING, .str = STR("ok") },
        { .id = MQL_PROP_SERVER_REFERENCE, .str = STR("host2") },
        { .id = MQL_PROP_RESPONSE_INFORMATION, .str = STR("resp") },
        { .id = MQL_PROP_TOPIC_ALIAS_MAXIMUM, .u32 = 5 },
        { .id = MQL_PROP_RECEIVE_MAXIMUM, .u32 = 100 },
        { .id = MQL_PROP_MAXIMUM_PACKET_SIZE, .u32 = 4096 },
        { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 120 },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("x"), .value = STR("y") } },
};

static void test_connack_all_properties(void **state) {
        static const uint8_t bytes[] = {
                0x20, 0x42,                              /* CONNACK, Remaining Length 66 */
                0x00,                                    /* Connect Acknowledge Flags */
                0x00,                                    /* Reason Code: Success */
                0x3F,                                    /* Property Length 63 */
                0x12, 0x00, 0x04, 'c',  'l',  '-',  '1', /* Assigned Client Identifier */
                0x13, 0x00, 0x1E,                        /* Server Keep Alive 30 */
                0x24, 0x01,                              /* Maximum QoS 1 */
                0x25, 0x00,                              /* Retain Available 0 */
                0x28, 0x00,                              /* Wildcard Subscription Available 0 */
                0x29, 0x01,                              /* Subscription Identifier Available 1 */
                0x2A, 0x00,                              /* Shared Subscription Available 0 */
                0x1F, 0x00, 0x02, 'o',  'k',             /* Reason String */
                0x1C, 0x00, 0x05, 'h',  'o',  's',  't', '2', /* Server Reference */
                0x1A, 0x00, 0x04, 'r',  'e',  's',  'p',      /* Response Information */
                0x22, 0x00, 0x05,                             /* Topic Alias Maximum 5 */
                0x21, 0x00, 0x64,                             /* Receive Maximum 100 */
                0x27, 0x00, 0x00, 0x10, 0x00,                 /* Maximum Packet Size 4096 */
                0x11, 0x00, 0x00, 0x00, 0x78,                 /* Session Expiry Interval 120 */
                0x26, 0x00, 0x01, 'x',  0x00, 0x01, 'y',      /* User Property x=y */
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNACK,
                .connack = { .props = LIST(connack_all_props) },
        };
        struct mql_packet got;
        struct mql_prop p;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_false(got.connack.session_present);
        assert_int_equal(got.connack.reason_code, MQL_RC_SUCCESS);
        assert_int_equal(got.connack.props.raw_len, 63);
        assert_ptr_equal(got.connack.props.raw, bytes + 5);
        assert_props(&got.connack.props, connack_all_props, ELEMENTSOF(connack_all_props));
        assert_int_equal(
                mql_props_find(&got.connack.props, MQL_PROP_ASSIGNED_CLIENT_IDENTIFIER, &p), 1);
        assert_str(p.str, "cl-1");
        assert_int_equal(mql_props_find(&got.connack.props, MQL_PROP_MAXIMUM_PACKET_SIZE, &p), 1);
        assert_int_equal(p.u32, 4096);
        assert_int_equal(mql_props_find(&got.connack.props, MQL_PROP_RETAIN_AVAILABLE, &p), 1);
        assert_int_equal(p.u32, 0);
        assert_int_equal(mql_props_find(&got.connack.props, MQL_PROP_AUTHENTICATION_METHOD, &p), 0);
}

static void test_connack_use_another_server(void **state) {
        static const uint8_t bytes[] = {
                0x20, 0x0A,                           /* CONNACK, Remaining Length 10 */
                0x00,                                 /* Connect Acknowledge Flags */
                0x9C,                                 /* Reason Code: Use another server */
                0x07,                                 /* Property Length 7 */
                0x1C, 0x00, 0x04, 'h', 'o', 's', 't', /* Server Reference */
        };
        static const struct mql_prop props[] = {
                { .id = MQL_PROP_SERVER_REFERENCE, .str = STR("host") },
        };
        const struct mql_packet pkt = {
                .type = MQL_CONNACK,
                .connack = { .reason_code = MQL_RC_USE_ANOTHER_SERVER, .props = LIST(props) },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.connack.reason_code, 0x9C);
        assert_props(&got.connack.props, props, 1);
}

/* ---- PUBLISH (§3.3) ----------------------------------------------------- */

/* §3.3.2.3 "PUBLISH packet variable header non-normative example": topic
 * "a/b", packet identifier 10, no properties. */
static void test_publish_spec_example(void **state) {
        static const uint8_t bytes[] = {
                0x32, 0x08,                /* PUBLISH QoS 1, Remaining Length 8 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Name */
                0x00, 0x0A,                /* Packet Identifier 10 */
                0x00,                      /* Property Length 0 */
        };
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .qos = 1, .topic = STR("a/b"), .packet_id = 10 },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_false(got.publish.dup);
        assert_int_equal(got.publish.qos, 1);
        assert_false(got.publish.retain);
        assert_str(got.publish.topic, "a/b");
        assert_int_equal(got.publish.packet_id, 10);
        assert_no_props(&got.publish.props);
        assert_int_equal(got.publish.payload.len, 0);
}

static const struct mql_prop publish_all_props[] = {
        { .id = MQL_PROP_PAYLOAD_FORMAT_INDICATOR, .u32 = 1 },
        { .id = MQL_PROP_MESSAGE_EXPIRY_INTERVAL, .u32 = 300 },
        { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 7 },
        { .id = MQL_PROP_RESPONSE_TOPIC, .str = STR("reply") },
        { .id = MQL_PROP_CORRELATION_DATA, .bin = BIN("\x00\x01\x02\x03") },
        { .id = MQL_PROP_CONTENT_TYPE, .str = STR("text/plain") },
        { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 1 },
        { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 268435455 },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("v") } },
};
static const uint8_t publish_all_bytes[] = {
        0x32, 0x41,                                    /* PUBLISH QoS 1, Remaining Length 65 */
        0x00, 0x03, 'a',  '/',  'b',                   /* Topic Name */
        0x00, 0x0A,                                    /* Packet Identifier 10 */
        0x34,                                          /* Property Length 52 */
        0x01, 0x01,                                    /* Payload Format Indicator 1 (UTF-8) */
        0x02, 0x00, 0x00, 0x01, 0x2C,                  /* Message Expiry Interval 300 */
        0x23, 0x00, 0x07,                              /* Topic Alias 7 */
        0x08, 0x00, 0x05, 'r',  'e',  'p',  'l',  'y', /* Response Topic */
        0x09, 0x00, 0x04, 0x00, 0x01, 0x02, 0x03,      /* Correlation Data */
        0x03, 0x00, 0x0A, 't',  'e',  'x',  't',  '/', 'p', 'l', 'a', 'i', 'n', /* Content Type */
        0x0B, 0x01,                   /* Subscription Identifier 1 */
        0x0B, 0xFF, 0xFF, 0xFF, 0x7F, /* Subscription Identifier 268435455 (4-byte varint) */
        0x26, 0x00, 0x01, 'k',  0x00, 0x01, 'v', /* User Property k=v */
        'h',  'e',  'l',  'l',  'o',             /* Payload */
};

static void test_publish_all_properties(void **state) {
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = {
                        .qos = 1,
                        .topic = STR("a/b"),
                        .packet_id = 10,
                        .props = LIST(publish_all_props),
                        .payload = BIN("hello"),
                },
        };
        const uint8_t *b = publish_all_bytes;
        struct mql_packet got;
        struct mql_prop_iter it;
        struct mql_prop p;
        unsigned n_subid = 0;

        (void)state;
        check_vector(&pkt, V, b, sizeof(publish_all_bytes), &got);
        assert_false(got.publish.dup);
        assert_int_equal(got.publish.qos, 1);
        assert_false(got.publish.retain);
        assert_str(got.publish.topic, "a/b");
        assert_ptr_equal(got.publish.topic.ptr, (const char *)b + 4);
        assert_int_equal(got.publish.packet_id, 10);
        assert_int_equal(got.publish.props.raw_len, 52);
        assert_ptr_equal(got.publish.props.raw, b + 10);
        assert_props(&got.publish.props, publish_all_props, ELEMENTSOF(publish_all_props));
        assert_bin(got.publish.payload, "hello", 5);
        assert_ptr_equal(got.publish.payload.ptr, b + sizeof(publish_all_bytes) - 5);

        /* Subscription Identifier may repeat in PUBLISH (§3.3.2.3.8): both
         * come out, in wire order; find gives the first. */
        mql_prop_iter_init(&it, &got.publish.props);
        while (mql_prop_iter_next(&it, &p) == 1) {
                if (p.id != MQL_PROP_SUBSCRIPTION_IDENTIFIER)
                        continue;
                assert_int_equal(p.u32, n_subid == 0 ? 1 : 268435455);
                n_subid++;
        }
        assert_int_equal(n_subid, 2);
        assert_int_equal(mql_props_find(&got.publish.props, MQL_PROP_SUBSCRIPTION_IDENTIFIER, &p),
                         1);
        assert_int_equal(p.u32, 1);
        assert_int_equal(mql_props_find(&got.publish.props, MQL_PROP_CONTENT_TYPE, &p), 1);
        assert_str(p.str, "text/plain");
        assert_int_equal(mql_props_find(&got.publish.props, MQL_PROP_CORRELATION_DATA, &p), 1);
        assert_bin(p.bin, "\x00\x01\x02\x03", 4);
        assert_int_equal(mql_props_find(&got.publish.props, MQL_PROP_TOPIC_ALIAS, &p), 1);
        assert_int_equal(p.u32, 7);
        assert_int_equal(mql_props_find(&got.publish.props, MQL_PROP_SESSION_EXPIRY_INTERVAL, &p),
                         0);
}

/* An empty Topic Name with a Topic Alias (§3.3.2.3.4), and a topic that sets one. */
static void test_publish_topic_alias(void **state) {
        static const uint8_t empty[] = {
                0x30, 0x07,       /* PUBLISH QoS 0, Remaining Length 7 */
                0x00, 0x00,       /* Topic Name "" */
                0x03,             /* Property Length 3 */
                0x23, 0x00, 0x07, /* Topic Alias 7 */
                'x',              /* Payload */
        };
        static const uint8_t named[] = {
                0x30, 0x0A,                 /* PUBLISH QoS 0, Remaining Length 10 */
                0x00, 0x03, 'a',  '/', 'b', /* Topic Name */
                0x03,                       /* Property Length 3 */
                0x23, 0x00, 0x07,           /* Topic Alias 7 */
                'x',                        /* Payload */
        };
        static const struct mql_prop props[] = {
                { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 7 },
        };
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .props = LIST(props), .payload = BIN("x") },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, empty, sizeof(empty), &got);
        assert_int_equal(got.publish.topic.len, 0);
        assert_int_equal(got.publish.qos, 0);
        assert_int_equal(got.publish.packet_id, 0);
        assert_props(&got.publish.props, props, 1);
        assert_bin(got.publish.payload, "x", 1);

        pkt.publish.topic = (struct mql_str)STR("a/b");
        check_vector(&pkt, V, named, sizeof(named), &got);
        assert_str(got.publish.topic, "a/b");
        assert_props(&got.publish.props, props, 1);
}

static void test_publish_qos2_dup_retain(void **state) {
        static const uint8_t bytes[] = {
                0x3D, 0x08,      /* PUBLISH DUP, QoS 2, RETAIN; Remaining Length 8 */
                0x00, 0x01, 't', /* Topic Name */
                0x01, 0x02,      /* Packet Identifier 258 */
                0x00,            /* Property Length 0 */
                0x00, 0xFF,      /* Payload (binary) */
        };
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = {
                        .dup = true,
                        .qos = 2,
                        .retain = true,
                        .topic = STR("t"),
                        .packet_id = 258,
                        .payload = BIN("\x00\xFF"),
                },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_true(got.publish.dup);
        assert_int_equal(got.publish.qos, 2);
        assert_true(got.publish.retain);
        assert_int_equal(got.publish.packet_id, 258);
        assert_bin(got.publish.payload, "\x00\xFF", 2);
}

/* A Property Length that needs two varint bytes (128 = 0x80 0x01, §1.5.5). */
static void test_publish_long_property_block(void **state) {
        uint8_t bytes[3 + 3 + 2 + 128];
        char value[122];
        uint8_t *w = bytes;
        struct mql_prop props[1] = { { .id = MQL_PROP_USER_PROPERTY } };
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .topic = STR("t"), .props = LIST(props) },
        };
        struct mql_packet got;

        (void)state;
        memset(value, 'v', sizeof(value));
        props[0].pair.key = (struct mql_str)STR("k");
        props[0].pair.value = (struct mql_str){ value, sizeof(value) };

        *w++ = 0x30; /* PUBLISH QoS 0 */
        *w++ = 0x85;
        *w++ = 0x01; /* Remaining Length 133 */
        *w++ = 0x00;
        *w++ = 0x01;
        *w++ = 't'; /* Topic Name */
        *w++ = 0x80;
        *w++ = 0x01; /* Property Length 128 */
        *w++ = 0x26; /* User Property */
        *w++ = 0x00;
        *w++ = 0x01;
        *w++ = 'k'; /*   key */
        *w++ = 0x00;
        *w++ = 0x7A; /*   value, 122 bytes */
        memset(w, 'v', 122);
        w += 122;
        assert_int_equal(w - bytes, sizeof(bytes));

        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.publish.props.raw_len, 128);
        assert_props(&got.publish.props, props, 1);
        assert_int_equal(got.publish.payload.len, 0);
}

/* Encoding from `props.raw` (a pre-encoded block) and `props.list` together:
 * the list's properties follow the raw bytes (docs/codec-rules.md). */
static void test_publish_props_raw_and_list(void **state) {
        static const uint8_t raw[] = {
                0x01, 0x01,       /* Payload Format Indicator 1 */
                0x23, 0x00, 0x07, /* Topic Alias 7 */
        };
        static const struct mql_prop list[] = {
                { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("v") } },
        };
        static const struct mql_prop all[] = {
                { .id = MQL_PROP_PAYLOAD_FORMAT_INDICATOR, .u32 = 1 },
                { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 7 },
                { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("v") } },
        };
        static const uint8_t bytes[] = {
                0x30, 0x11,                             /* PUBLISH QoS 0, Remaining Length 17 */
                0x00, 0x01, 't',                        /* Topic Name */
                0x0C,                                   /* Property Length 12 */
                0x01, 0x01,                             /* Payload Format Indicator 1 (from raw) */
                0x23, 0x00, 0x07,                       /* Topic Alias 7 (from raw) */
                0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', /* User Property (from list) */
                'p',                                    /* Payload */
        };
        static const uint8_t raw_only[] = {
                0x30, 0x0A,       /* PUBLISH QoS 0, Remaining Length 10 */
                0x00, 0x01, 't',  /* Topic Name */
                0x05,             /* Property Length 5 */
                0x01, 0x01,       /* Payload Format Indicator 1 */
                0x23, 0x00, 0x07, /* Topic Alias 7 */
                'p',              /* Payload */
        };
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = {
                        .topic = STR("t"),
                        .props = { .raw = raw, .raw_len = sizeof(raw), .list = list, .count = 1 },
                        .payload = BIN("p"),
                },
        };
        struct mql_packet got;
        struct mql_prop p;

        (void)state;
        /* The iterator walks raw, then list (packet.h). */
        assert_props(&pkt.publish.props, all, ELEMENTSOF(all));
        assert_int_equal(mql_props_find(&pkt.publish.props, MQL_PROP_USER_PROPERTY, &p), 1);
        assert_str(p.pair.key, "k");
        assert_int_equal(mql_props_find(&pkt.publish.props, MQL_PROP_TOPIC_ALIAS, &p), 1);
        assert_int_equal(p.u32, 7);

        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_props(&got.publish.props, all, ELEMENTSOF(all));

        pkt.publish.props.list = NULL;
        pkt.publish.props.count = 0;
        check_vector(&pkt, V, raw_only, sizeof(raw_only), &got);
        assert_props(&got.publish.props, all, 2);
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4-§3.7) ------------------------ */

struct ack_vector {
        enum mql_packet_type type;
        uint16_t packet_id;
        uint8_t reason;
        const struct mql_prop *props;
        size_t nprops;
        const uint8_t *bytes;
        size_t len;
};

#define ACK_VEC(t, id, rc, pr, np, ...)                              \
        {                                                            \
                t, id, rc, pr, np, (const uint8_t[]){ __VA_ARGS__ }, \
                        sizeof((const uint8_t[]){ __VA_ARGS__ })     \
        }

static const struct mql_prop ack_denied_props[] = {
        { .id = MQL_PROP_REASON_STRING, .str = STR("denied") },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("a"), .value = STR("b") } },
};
static const struct mql_prop ack_ok_props[] = {
        { .id = MQL_PROP_REASON_STRING, .str = STR("ok") },
};
static const struct mql_prop ack_no_props[] = {
        { .id = MQL_PROP_REASON_STRING, .str = STR("no") },
};
static const struct mql_prop ack_empty_pair[] = {
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR(""), .value = STR("") } },
};

/*
 * The three forms of §3.4.2.1: Remaining Length 2 (reason 0, no properties),
 * 3 (reason only), 4+ (reason, Property Length, properties).
 */
/* clang-format off */
static const struct ack_vector ack_vectors[] = {
        /* PUBACK 2-byte form: id 10 */
        ACK_VEC(MQL_PUBACK, 10, 0x00, NULL, 0, 0x40, 0x02, 0x00, 0x0A),
        /* PUBACK 3-byte form: id 10, No matching subscribers */
        ACK_VEC(MQL_PUBACK, 10, 0x10, NULL, 0, 0x40, 0x03, 0x00, 0x0A, 0x10),
        /* PUBACK id 10, Not authorized, properties */
        ACK_VEC(MQL_PUBACK, 10, 0x87, ack_denied_props, 2,
                0x40, 0x14,                                     /* PUBACK, Remaining Length 20 */
                0x00, 0x0A,                                     /* Packet Identifier 10 */
                0x87,                                           /* Not authorized */
                0x10,                                           /* Property Length 16 */
                0x1F, 0x00, 0x06, 'd', 'e', 'n', 'i', 'e', 'd', /* Reason String */
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b'),        /* User Property */
        /* PUBACK id 10, Success with a property */
        ACK_VEC(MQL_PUBACK, 10, 0x00, ack_ok_props, 1,
                0x40, 0x09,                                     /* PUBACK, Remaining Length 9 */
                0x00, 0x0A,                                     /* Packet Identifier 10 */
                0x00,                                           /* Success */
                0x05,                                           /* Property Length 5 */
                0x1F, 0x00, 0x02, 'o', 'k'),                    /* Reason String */
        /* PUBREC 2-byte form: id 1 */
        ACK_VEC(MQL_PUBREC, 1, 0x00, NULL, 0, 0x50, 0x02, 0x00, 0x01),
        /* PUBREC 3-byte form: id 1, Packet Identifier in use */
        ACK_VEC(MQL_PUBREC, 1, 0x91, NULL, 0, 0x50, 0x03, 0x00, 0x01, 0x91),
        /* PUBREC id 1, Unspecified error, Reason String "no" */
        ACK_VEC(MQL_PUBREC, 1, 0x80, ack_no_props, 1,
                0x50, 0x09, 0x00, 0x01, 0x80, 0x05, 0x1F, 0x00, 0x02, 'n', 'o'),
        /* PUBREL 2-byte form: id 2, fixed header flags 0010 (MQTT-3.6.1-1) */
        ACK_VEC(MQL_PUBREL, 2, 0x00, NULL, 0, 0x62, 0x02, 0x00, 0x02),
        /* PUBREL 3-byte form: id 2, Packet Identifier not found */
        ACK_VEC(MQL_PUBREL, 2, 0x92, NULL, 0, 0x62, 0x03, 0x00, 0x02, 0x92),
        /* PUBREL id 2, Packet Identifier not found, User Property ""="" */
        ACK_VEC(MQL_PUBREL, 2, 0x92, ack_empty_pair, 1,
                0x62, 0x09, 0x00, 0x02, 0x92, 0x05, 0x26, 0x00, 0x00, 0x00, 0x00),
        /* PUBCOMP 2-byte form: id 65535 */
        ACK_VEC(MQL_PUBCOMP, 65535, 0x00, NULL, 0, 0x70, 0x02, 0xFF, 0xFF),
        /* PUBCOMP 3-byte form: id 65535, Packet Identifier not found */
        ACK_VEC(MQL_PUBCOMP, 65535, 0x92, NULL, 0, 0x70, 0x03, 0xFF, 0xFF, 0x92),
        /* PUBCOMP id 65535, Success, Reason String "ok" */
        ACK_VEC(MQL_PUBCOMP, 65535, 0x00, ack_ok_props, 1,
                0x70, 0x09, 0xFF, 0xFF, 0x00, 0x05, 0x1F, 0x00, 0x02, 'o', 'k'),
};
/* clang-format on */

static void test_ack_forms(void **state) {
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(ack_vectors); i++) {
                const struct ack_vector *a = &ack_vectors[i];
                const struct mql_packet pkt = {
                        .type = a->type,
                        .ack = {
                                .packet_id = a->packet_id,
                                .reason_code = a->reason,
                                .props = { .list = a->props, .count = a->nprops },
                        },
                };
                struct mql_packet got;

                check_vector(&pkt, V, a->bytes, a->len, &got);
                assert_int_equal(got.type, a->type);
                assert_int_equal(got.ack.packet_id, a->packet_id);
                assert_int_equal(got.ack.reason_code, a->reason);
                assert_props(&got.ack.props, a->props, a->nprops);
        }
}

/* Longer-than-needed forms are valid input (§3.4.2.1: "If the Remaining
 * Length is 2..." / property length may be 0); the encoder writes the short
 * form back. */
static void test_ack_long_forms_decode(void **state) {
        static const struct {
                uint8_t in[8];
                size_t in_len;
                uint8_t out[8];
                size_t out_len;
                uint16_t id;
                uint8_t reason;
        } cases[] = {
                { { 0x40, 0x04, 0x00, 0x0A, 0x00, 0x00 },
                  6,
                  { 0x40, 0x02, 0x00, 0x0A },
                  4,
                  10,
                  0x00 },
                { { 0x40, 0x03, 0x00, 0x0A, 0x00 }, 5, { 0x40, 0x02, 0x00, 0x0A }, 4, 10, 0x00 },
                { { 0x50, 0x04, 0x00, 0x01, 0x10, 0x00 },
                  6,
                  { 0x50, 0x03, 0x00, 0x01, 0x10 },
                  5,
                  1,
                  0x10 },
                { { 0x62, 0x04, 0x00, 0x02, 0x92, 0x00 },
                  6,
                  { 0x62, 0x03, 0x00, 0x02, 0x92 },
                  5,
                  2,
                  0x92 },
                { { 0x70, 0x03, 0x00, 0x03, 0x00 }, 5, { 0x70, 0x02, 0x00, 0x03 }, 4, 3, 0x00 },
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct mql_packet got;

                check_decode_vector(cases[i].in, cases[i].in_len, V, &got);
                assert_int_equal(got.type, cases[i].in[0] >> 4);
                assert_int_equal(got.ack.packet_id, cases[i].id);
                assert_int_equal(got.ack.reason_code, cases[i].reason);
                assert_no_props(&got.ack.props);
                check_encode(&got, V, cases[i].out, cases[i].out_len);
        }
}

/* ---- SUBSCRIBE (§3.8) --------------------------------------------------- */

/* Subscription Options byte (§3.8.3.1, Figure 3-21): bits 1-0 QoS, bit 2 No
 * Local, bit 3 Retain As Published, bits 5-4 Retain Handling. */
static const struct mql_subscription subscribe_filters[] = {
        { .filter = STR("a/b"), .qos = 1 },                  /* 0x01 */
        { .filter = STR("c/d"), .qos = 2 },                  /* 0x02 */
        { .filter = STR("e/+"), .no_local = true },          /* 0x04 */
        { .filter = STR("#"), .retain_as_published = true }, /* 0x08 */
        { .filter = STR("s/x"), .retain_handling = 1 },      /* 0x10 */
        { .filter = STR("t/#"),
          .qos = 2,
          .no_local = true,
          .retain_as_published = true,
          .retain_handling = 2 }, /* 0x2E */
};

static void test_subscribe_options(void **state) {
        /* The first two filters are the §3.8.3.1 payload example. */
        static const uint8_t bytes[] = {
                0x82, 0x28,                        /* SUBSCRIBE (flags 0010), Remaining Length 40 */
                0x00, 0x0A,                        /* Packet Identifier 10 */
                0x03,                              /* Property Length 3 */
                0x0B, 0x80, 0x01,                  /* Subscription Identifier 128 (2-byte varint) */
                0x00, 0x03, 'a',  '/',  'b', 0x01, /* QoS 1 */
                0x00, 0x03, 'c',  '/',  'd', 0x02, /* QoS 2 */
                0x00, 0x03, 'e',  '/',  '+', 0x04, /* No Local */
                0x00, 0x01, '#',  0x08,            /* Retain As Published */
                0x00, 0x03, 's',  '/',  'x', 0x10, /* Retain Handling 1 */
                0x00, 0x03, 't',  '/',  '#', 0x2E, /* Retain Handling 2, RAP, No Local, QoS 2 */
        };
        static const struct mql_prop props[] = {
                { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 128 },
        };
        const struct mql_packet pkt = {
                .type = MQL_SUBSCRIBE,
                .subscribe = {
                        .packet_id = 10,
                        .props = LIST(props),
                        .filters = LIST(subscribe_filters),
                },
        };
        struct mql_packet got;
        struct mql_prop p;

        (void)state;
        /* The filter iterator walks a `list` too. */
        assert_filters(&pkt.subscribe.filters, MQL_SUBSCRIBE, subscribe_filters,
                       ELEMENTSOF(subscribe_filters));

        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.subscribe.packet_id, 10);
        assert_props(&got.subscribe.props, props, 1);
        assert_int_equal(mql_props_find(&got.subscribe.props, MQL_PROP_SUBSCRIPTION_IDENTIFIER, &p),
                         1);
        assert_int_equal(p.u32, 128);
        assert_non_null(got.subscribe.filters.raw);
        assert_int_equal(got.subscribe.filters.raw_len, 34);
        assert_ptr_equal(got.subscribe.filters.raw, bytes + 8);
        assert_int_equal(got.subscribe.filters.count, 0);
        assert_filters(&got.subscribe.filters, MQL_SUBSCRIBE, subscribe_filters,
                       ELEMENTSOF(subscribe_filters));
}

/* All 36 valid option combinations (QoS 0-2 x No Local x RAP x Retain
 * Handling 0-2), one filter each. */
static void test_subscribe_every_option(void **state) {
        (void)state;
        for (unsigned i = 0; i < 3 * 2 * 2 * 3; i++) {
                const uint8_t qos = i % 3, nl = i / 3 % 2, rap = i / 6 % 2, rh = i / 12;
                const struct mql_subscription sub = {
                        .filter = STR("x"),
                        .qos = qos,
                        .no_local = nl,
                        .retain_as_published = rap,
                        .retain_handling = rh,
                };
                const uint8_t bytes[] = {
                        0x82,
                        0x07, /* SUBSCRIBE, Remaining Length 7 */
                        0x00,
                        0x01, /* Packet Identifier 1 */
                        0x00, /* Property Length 0 */
                        0x00,
                        0x01,
                        'x',                                           /* Topic Filter */
                        (uint8_t)(rh << 4 | rap << 3 | nl << 2 | qos), /* Figure 3-21 */
                };
                const struct mql_packet pkt = {
                        .type = MQL_SUBSCRIBE,
                        .subscribe = { .packet_id = 1, .filters = { .list = &sub, .count = 1 } },
                };
                struct mql_packet got;

                check_vector(&pkt, V, bytes, sizeof(bytes), &got);
                assert_no_props(&got.subscribe.props);
                assert_filters(&got.subscribe.filters, MQL_SUBSCRIBE, &sub, 1);
        }
}

static void test_subscribe_user_properties(void **state) {
        static const uint8_t bytes[] = {
                0x82, 0x16,                             /* SUBSCRIBE, Remaining Length 22 */
                0xAB, 0xCD,                             /* Packet Identifier 43981 */
                0x0E,                                   /* Property Length 14 */
                0x26, 0x00, 0x01, 'k', 0x00, 0x01, '1', /* User Property k=1 */
                0x26, 0x00, 0x01, 'k', 0x00, 0x01, '2', /* User Property k=2 */
                0x00, 0x02, 'x',  '/', 0x01,            /* Topic Filter "x/" QoS 1 */
        };
        static const struct mql_prop props[] = {
                { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("1") } },
                { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("2") } },
        };
        static const struct mql_subscription subs[] = { { .filter = STR("x/"), .qos = 1 } };
        const struct mql_packet pkt = {
                .type = MQL_SUBSCRIBE,
                .subscribe = { .packet_id = 0xABCD, .props = LIST(props), .filters = LIST(subs) },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.subscribe.packet_id, 0xABCD);
        assert_props(&got.subscribe.props, props, 2);
        assert_filters(&got.subscribe.filters, MQL_SUBSCRIBE, subs, 1);
}

/* ---- SUBACK (§3.9) ------------------------------------------------------ */

static void test_suback_reasons(void **state) {
        /* Every reason code SUBACK defines (§3.9.3, Table 3-8). */
        static const uint8_t codes[] = {
                0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
        };
        static const uint8_t bytes[] = {
                0x90, 0x0F,       /* SUBACK, Remaining Length 15 */
                0x00, 0x0A,       /* Packet Identifier 10 */
                0x00,             /* Property Length 0 */
                0x00, 0x01, 0x02, /* Granted QoS 0, 1, 2 */
                0x80, 0x83, 0x87, 0x8F,
                0x91, /* Unspecified, Impl. specific, Not authorized, Filter invalid, Id in use */
                0x97, 0x9E, 0xA1, 0xA2, /* Quota, Shared/SubId/Wildcard not supported */
        };
        const struct mql_packet pkt = {
                .type = MQL_SUBACK,
                .suback = { .packet_id = 10, .reasons = { codes, sizeof(codes) } },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.suback.packet_id, 10);
        assert_no_props(&got.suback.props);
        assert_bin(got.suback.reasons, codes, sizeof(codes));
        assert_ptr_equal(got.suback.reasons.ptr, bytes + 5);
}

static void test_suback_with_properties(void **state) {
        static const uint8_t bytes[] = {
                0x90, 0x09,                 /* SUBACK, Remaining Length 9 */
                0x00, 0x0B,                 /* Packet Identifier 11 */
                0x05,                       /* Property Length 5 */
                0x1F, 0x00, 0x02, 'o', 'k', /* Reason String */
                0x00,                       /* Granted QoS 0 */
        };
        const struct mql_packet pkt = {
                .type = MQL_SUBACK,
                .suback = { .packet_id = 11, .props = LIST(ack_ok_props), .reasons = BIN("\x00") },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_props(&got.suback.props, ack_ok_props, 1);
        assert_bin(got.suback.reasons, "\x00", 1);
}

/* ---- UNSUBSCRIBE (§3.10) ------------------------------------------------ */

static void test_unsubscribe(void **state) {
        static const uint8_t with_props[] = {
                0xA2, 0x14, /* UNSUBSCRIBE (flags 0010), Remaining Length 20 */
                0x00, 0x0C, /* Packet Identifier 12 */
                0x07,       /* Property Length 7 */
                0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', /* User Property */
                0x00, 0x03, 'a',  '/', 'b',             /* Topic Filter */
                0x00, 0x03, 'c',  '/', '#',             /* Topic Filter */
        };
        static const uint8_t no_props[] = {
                0xA2, 0x0D,                /* UNSUBSCRIBE, Remaining Length 13 */
                0x00, 0x0C,                /* Packet Identifier 12 */
                0x00,                      /* Property Length 0 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Filter */
                0x00, 0x03, 'c', '/', '#', /* Topic Filter */
        };
        static const struct mql_prop props[] = {
                { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("k"), .value = STR("v") } },
        };
        static const struct mql_subscription filters[] = {
                { .filter = STR("a/b") },
                { .filter = STR("c/#") },
        };
        struct mql_packet pkt = {
                .type = MQL_UNSUBSCRIBE,
                .subscribe = { .packet_id = 12, .props = LIST(props), .filters = LIST(filters) },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, with_props, sizeof(with_props), &got);
        assert_int_equal(got.subscribe.packet_id, 12);
        assert_props(&got.subscribe.props, props, 1);
        assert_int_equal(got.subscribe.filters.raw_len, 10);
        assert_filters(&got.subscribe.filters, MQL_UNSUBSCRIBE, filters, 2);

        pkt.subscribe.props = (struct mql_props){ 0 };
        check_vector(&pkt, V, no_props, sizeof(no_props), &got);
        assert_no_props(&got.subscribe.props);
        assert_filters(&got.subscribe.filters, MQL_UNSUBSCRIBE, filters, 2);
}

/* ---- UNSUBACK (§3.11) --------------------------------------------------- */

static void test_unsuback(void **state) {
        /* Every reason code UNSUBACK defines (§3.11.3, Table 3-9). */
        static const uint8_t codes[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91 };
        static const uint8_t bytes[] = {
                0xB0, 0x0A, /* UNSUBACK, Remaining Length 10 */
                0x00, 0x0C, /* Packet Identifier 12 */
                0x00,       /* Property Length 0 */
                0x00, 0x11, 0x80,
                0x83, /* Success, No subscription existed, Unspecified, Impl. specific */
                0x87, 0x8F, 0x91, /* Not authorized, Filter invalid, Id in use */
        };
        static const uint8_t with_props[] = {
                0xB0, 0x09,                 /* UNSUBACK, Remaining Length 9 */
                0x00, 0x0D,                 /* Packet Identifier 13 */
                0x05,                       /* Property Length 5 */
                0x1F, 0x00, 0x02, 'o', 'k', /* Reason String */
                0x11,                       /* No subscription existed */
        };
        struct mql_packet pkt = {
                .type = MQL_UNSUBACK,
                .suback = { .packet_id = 12, .reasons = { codes, sizeof(codes) } },
        };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_UNSUBACK);
        assert_int_equal(got.suback.packet_id, 12);
        assert_no_props(&got.suback.props);
        assert_bin(got.suback.reasons, codes, sizeof(codes));

        pkt.suback = (struct mql_suback){
                .packet_id = 13,
                .props = LIST(ack_ok_props),
                .reasons = BIN("\x11"),
        };
        check_vector(&pkt, V, with_props, sizeof(with_props), &got);
        assert_int_equal(got.suback.packet_id, 13);
        assert_props(&got.suback.props, ack_ok_props, 1);
        assert_bin(got.suback.reasons, "\x11", 1);
}

/* ---- PINGREQ, PINGRESP (§3.12, §3.13) ----------------------------------- */

static void test_pingreq(void **state) {
        static const uint8_t bytes[] = { 0xC0, 0x00 }; /* PINGREQ, Remaining Length 0 */
        const struct mql_packet pkt = { .type = MQL_PINGREQ };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_PINGREQ);
}

static void test_pingresp(void **state) {
        static const uint8_t bytes[] = { 0xD0, 0x00 }; /* PINGRESP, Remaining Length 0 */
        const struct mql_packet pkt = { .type = MQL_PINGRESP };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, bytes, sizeof(bytes), &got);
        assert_int_equal(got.type, MQL_PINGRESP);
}

/* ---- DISCONNECT (§3.14) ------------------------------------------------- */

static void test_disconnect_forms(void **state) {
        static const uint8_t zero[] = { 0xE0, 0x00 }; /* Remaining Length 0: reason 0x00 */
        static const uint8_t will[] = { 0xE0, 0x01,
                                        0x04 }; /* reason only: Disconnect with Will Message */
        static const uint8_t taken[] = { 0xE0, 0x01, 0x8E }; /* reason only: Session taken over */
        static const uint8_t client[] = {
                0xE0, 0x0D,                        /* DISCONNECT, Remaining Length 13 */
                0x00,                              /* Normal disconnection */
                0x0B,                              /* Property Length 11 */
                0x11, 0x00, 0x00, 0x0E, 0x10,      /* Session Expiry Interval 3600 */
                0x1F, 0x00, 0x03, 'b',  'y',  'e', /* Reason String */
        };
        static const uint8_t server[] = {
                0xE0, 0x0A,                                /* DISCONNECT, Remaining Length 10 */
                0x9C,                                      /* Use another server */
                0x08,                                      /* Property Length 8 */
                0x1C, 0x00, 0x05, 'h', 'o', 's', 't', '2', /* Server Reference */
        };
        static const struct mql_prop client_props[] = {
                { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 3600 },
                { .id = MQL_PROP_REASON_STRING, .str = STR("bye") },
        };
        static const struct mql_prop server_props[] = {
                { .id = MQL_PROP_SERVER_REFERENCE, .str = STR("host2") },
        };
        struct mql_packet pkt = { .type = MQL_DISCONNECT };
        struct mql_packet got;

        (void)state;
        check_vector(&pkt, V, zero, sizeof(zero), &got);
        assert_int_equal(got.disconnect.reason_code, 0);
        assert_no_props(&got.disconnect.props);

        pkt.disconnect.reason_code = MQL_RC_DISCONNECT_WITH_WILL;
        check_vector(&pkt, V, will, sizeof(will), &got);
        assert_int_equal(got.disconnect.reason_code, 0x04);
        assert_no_props(&got.disconnect.props);

        pkt.disconnect.reason_code = MQL_RC_SESSION_TAKEN_OVER;
        check_vector(&pkt, V, taken, sizeof(taken), &got);
        assert_int_equal(got.disconnect.reason_code, 0x8E);

        pkt.disconnect = (struct mql_disconnect){ .props = LIST(client_props) };
        check_vector(&pkt, V, client, sizeof(client), &got);
        assert_int_equal(got.disconnect.reason_code, 0);
        assert_props(&got.disconnect.props, client_props, 2);

        pkt.disconnect = (struct mql_disconnect){
                .reason_code = MQL_RC_USE_ANOTHER_SERVER,
                .props = LIST(server_props),
        };
        check_vector(&pkt, V, server, sizeof(server), &got);
        assert_int_equal(got.disconnect.reason_code, 0x9C);
        assert_props(&got.disconnect.props, server_props, 1);
}

/*
 * Every reason code DISCONNECT defines, reason-only form. The specification
 * disagrees with itself on 0x8C (Bad authentication method): Table 2-6 (§2.4)
 * lists it for "CONNACK, DISCONNECT", the DISCONNECT table 3-10 (§3.14.2.1)
 * leaves it out. Re-authentication can fail with a DISCONNECT (§4.12.1), so
 * the codec follows Table 2-6 and so do we.
 */
static const uint8_t disconnect_codes[] = {
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
        0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
};

static void test_disconnect_every_reason(void **state) {
        (void)state;
        for (size_t i = 1; i < ELEMENTSOF(disconnect_codes); i++) {
                const uint8_t bytes[] = { 0xE0, 0x01, disconnect_codes[i] };
                const struct mql_packet pkt = {
                        .type = MQL_DISCONNECT,
                        .disconnect = { .reason_code = disconnect_codes[i] },
                };
                struct mql_packet got;

                check_vector(&pkt, V, bytes, sizeof(bytes), &got);
                assert_int_equal(got.disconnect.reason_code, disconnect_codes[i]);
        }
}

static void test_disconnect_long_forms_decode(void **state) {
        static const uint8_t two[] = { 0xE0, 0x02, 0x00, 0x00 }; /* reason 0, Property Length 0 */
        static const uint8_t one[] = { 0xE0, 0x01, 0x00 };       /* reason 0 only */
        static const uint8_t out[] = { 0xE0, 0x00 };
        static const uint8_t two_will[] = { 0xE0, 0x02, 0x04, 0x00 };
        static const uint8_t out_will[] = { 0xE0, 0x01, 0x04 };
        struct mql_packet got;

        (void)state;
        check_decode_vector(two, sizeof(two), V, &got);
        assert_int_equal(got.disconnect.reason_code, 0);
        assert_no_props(&got.disconnect.props);
        check_encode(&got, V, out, sizeof(out));

        check_decode_vector(one, sizeof(one), V, &got);
        assert_int_equal(got.disconnect.reason_code, 0);
        check_encode(&got, V, out, sizeof(out));

        check_decode_vector(two_will, sizeof(two_will), V, &got);
        assert_int_equal(got.disconnect.reason_code, 4);
        check_encode(&got, V, out_will, sizeof(out_will));
}

/* ---- AUTH (§3.15) ------------------------------------------------------- */

static void test_auth_forms(void **state) {
        static const uint8_t zero[] = { 0xF0,
                                        0x00 }; /* Remaining Length 0: Success, no properties */
        static const uint8_t cont[] = {
                0xF0, 0x11,                                    /* AUTH, Remaining Length 17 */
                0x18,                                          /* Continue authentication */
                0x0F,                                          /* Property Length 15 */
                0x15, 0x00, 0x05, 'S',  'C',  'R',  'A',  'M', /* Authentication Method */
                0x16, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF,      /* Authentication Data */
        };
        static const uint8_t reauth[] = {
                0xF0, 0x0A,                                /* AUTH, Remaining Length 10 */
                0x19,                                      /* Re-authenticate */
                0x08,                                      /* Property Length 8 */
                0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M', /* Authentication Method */
        };
        static const uint8_t success[] = {
                0xF0, 0x0A, 0x00, 0x08, /* AUTH Success with properties */
                0x15, 0x00, 0x05, 'S',  'C', 'R', 'A', 'M',
        };
        /* Reason != 0 without properties: the encoder always writes the
         * Property Length (§3.15.2.2; docs/codec-rules.md). */
        static const uint8_t cont_bare[] = { 0xF0, 0x02, 0x18, 0x00 };
        static const struct mql_prop cont_props[] = {
                { .id = MQL_PROP_AUTHENTICATION_METHOD, .str = STR("SCRAM") },
                { .id = MQL_PROP_AUTHENTICATION_DATA, .bin = BIN("\xDE\xAD\xBE\xEF") },
        };
        struct mql_packet pkt = { .type = MQL_AUTH };
        struct mql_packet got;
        struct mql_prop p;

        (void)state;
        check_vector(&pkt, V, zero, sizeof(zero), &got);
        assert_int_equal(got.type, MQL_AUTH);
        assert_int_equal(got.auth.reason_code, 0);
        assert_no_props(&got.auth.props);

        pkt.auth = (struct mql_disconnect){
                .reason_code = MQL_RC_CONTINUE_AUTHENTICATION,
                .props = LIST(cont_props),
        };
        check_vector(&pkt, V, cont, sizeof(cont), &got);
        assert_int_equal(got.auth.reason_code, 0x18);
        assert_props(&got.auth.props, cont_props, 2);
        assert_int_equal(mql_props_find(&got.auth.props, MQL_PROP_AUTHENTICATION_DATA, &p), 1);
        assert_bin(p.bin, "\xDE\xAD\xBE\xEF", 4);

        pkt.auth = (struct mql_disconnect){
                .reason_code = MQL_RC_REAUTHENTICATE,
                .props = { .list = cont_props, .count = 1 },
        };
        check_vector(&pkt, V, reauth, sizeof(reauth), &got);
        assert_int_equal(got.auth.reason_code, 0x19);
        assert_props(&got.auth.props, cont_props, 1);

        pkt.auth.reason_code = 0;
        check_vector(&pkt, V, success, sizeof(success), &got);
        assert_int_equal(got.auth.reason_code, 0);
        assert_props(&got.auth.props, cont_props, 1);

        pkt.auth = (struct mql_disconnect){ .reason_code = MQL_RC_CONTINUE_AUTHENTICATION };
        check_vector(&pkt, V, cont_bare, sizeof(cont_bare), &got);
        assert_int_equal(got.auth.reason_code, 0x18);
        assert_no_props(&got.auth.props);
}

/* AUTH with Remaining Length 1 is read like DISCONNECT's (docs/codec-rules.md). */
static void test_auth_reason_only_decode(void **state) {
        static const uint8_t in[] = { 0xF0, 0x01, 0x18 };
        static const uint8_t out[] = { 0xF0, 0x02, 0x18, 0x00 };
        struct mql_packet got;

        (void)state;
        check_decode_vector(in, sizeof(in), V, &got);
        assert_int_equal(got.type, MQL_AUTH);
        assert_int_equal(got.auth.reason_code, 0x18);
        assert_no_props(&got.auth.props);
        check_encode(&got, V, out, sizeof(out));
}

/* ---- sizes -------------------------------------------------------------- */

/* Remaining Length limit (§1.5.5, §2.1.4): 268,435,455. The payload view is
 * never read by mql_packet_size(), only its length. */
static void test_publish_max_size(void **state) {
        static const uint8_t one = 'x';
        struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .topic = STR("t"), .payload = { &one, 0 } },
        };

        (void)state;
        /* topic 3 + Property Length 1 + payload = 268,435,455 */
        pkt.publish.payload.len = MQL_MAX_REMAINING_LENGTH - 4;
        assert_ssize(mql_packet_size(&pkt, V), (ssize_t)MQL_MAX_PACKET_SIZE);
        pkt.publish.payload.len++;
        assert_ssize(mql_packet_size(&pkt, V), -EMSGSIZE);
        assert_ssize(mql_packet_encode(&pkt, V, (uint8_t[8]){ 0 }, 8), -EMSGSIZE);
}

/* packet_id is "only for QoS 1 and 2" (packet.h): at QoS 0 it is not
 * written (§3.3.2.2) whatever the struct holds. */
static void test_publish_qos0_ignores_packet_id(void **state) {
        static const uint8_t bytes[] = {
                0x30, 0x06,                /* PUBLISH QoS 0, Remaining Length 6 */
                0x00, 0x03, 'a', '/', 'b', /* Topic Name, no Packet Identifier */
                0x00,                      /* Property Length 0 */
        };
        const struct mql_packet pkt = {
                .type = MQL_PUBLISH,
                .publish = { .topic = STR("a/b"), .packet_id = 77 },
        };
        struct mql_packet got;

        (void)state;
        check_encode(&pkt, V, bytes, sizeof(bytes));
        check_decode_vector(bytes, sizeof(bytes), V, &got);
        assert_int_equal(got.publish.packet_id, 0);
}

static void test_encode_null_buffer(void **state) {
        const struct mql_packet pkt = { .type = MQL_PINGREQ };

        (void)state;
        assert_ssize(mql_packet_encode(&pkt, V, NULL, 0), -ENOBUFS);
        assert_ssize(mql_packet_encode(&pkt, V, NULL, 1), -ENOBUFS);
}

/* ---- encoder errors ----------------------------------------------------- */

static const struct mql_prop bad_sexp_twice[] = {
        { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 1 },
        { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 2 },
};
static const struct mql_prop bad_topic_alias[] = { { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 1 } };
static const struct mql_prop bad_topic_alias_0[] = { { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 0 } };
static const struct mql_prop bad_topic_alias_twice[] = {
        { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 1 },
        { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 2 },
};
static const struct mql_prop bad_will_delay[] = { { .id = MQL_PROP_WILL_DELAY_INTERVAL,
                                                    .u32 = 1 } };
static const struct mql_prop bad_sexp[] = { { .id = MQL_PROP_SESSION_EXPIRY_INTERVAL, .u32 = 1 } };
static const struct mql_prop bad_recv_max_0[] = { { .id = MQL_PROP_RECEIVE_MAXIMUM, .u32 = 0 } };
static const struct mql_prop bad_max_packet_0[] = { { .id = MQL_PROP_MAXIMUM_PACKET_SIZE,
                                                      .u32 = 0 } };
static const struct mql_prop bad_rpi_2[] = { { .id = MQL_PROP_REQUEST_PROBLEM_INFORMATION,
                                               .u32 = 2 } };
static const struct mql_prop bad_rri_2[] = { { .id = MQL_PROP_REQUEST_RESPONSE_INFORMATION,
                                               .u32 = 2 } };
static const struct mql_prop bad_pfi_2[] = { { .id = MQL_PROP_PAYLOAD_FORMAT_INDICATOR,
                                               .u32 = 2 } };
static const struct mql_prop bad_subid_0[] = { { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER,
                                                 .u32 = 0 } };
static const struct mql_prop bad_subid_twice[] = {
        { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 1 },
        { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 2 },
};
static const struct mql_prop bad_max_qos_2[] = { { .id = MQL_PROP_MAXIMUM_QOS, .u32 = 2 } };
static const struct mql_prop bad_retain_avail_2[] = { { .id = MQL_PROP_RETAIN_AVAILABLE,
                                                        .u32 = 2 } };
static const struct mql_prop bad_unknown_id[] = { { .id = (enum mql_prop_id)0x05, .u32 = 1 } };
static const struct mql_prop bad_reason_twice[] = {
        { .id = MQL_PROP_REASON_STRING, .str = STR("a") },
        { .id = MQL_PROP_REASON_STRING, .str = STR("b") },
};
static const struct mql_prop bad_user_utf8[] = {
        { .id = MQL_PROP_USER_PROPERTY, .pair = { .key = STR("\xFF"), .value = STR("v") } },
};
static const struct mql_prop bad_content_type_utf8[] = {
        { .id = MQL_PROP_CONTENT_TYPE, .str = STR("\xC0\x80") },
};
static const struct mql_prop bad_auth_method_on_publish[] = {
        { .id = MQL_PROP_AUTHENTICATION_METHOD, .str = STR("x") },
};
static char big[65536]; /* one byte over what a string or binary field holds (§1.5.4, §1.5.6) */
static const struct mql_prop bad_reason_too_long[] = {
        { .id = MQL_PROP_REASON_STRING, .str = { big, sizeof(big) } },
};
static const struct mql_prop bad_corr_too_long[] = {
        { .id = MQL_PROP_CORRELATION_DATA, .bin = { (const uint8_t *)big, sizeof(big) } },
};
static const struct mql_prop bad_user_value_too_long[] = {
        { .id = MQL_PROP_USER_PROPERTY,
          .pair = { .key = STR("k"), .value = { big, sizeof(big) } } },
};
static const struct mql_prop bad_subid_too_big[] = {
        { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = 268435456 },
};
static const uint8_t raw_topic_alias[] = { 0x23, 0x00, 0x07 }; /* Topic Alias 7 */
static const struct mql_prop list_topic_alias[] = { { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 8 } };
static const struct mql_subscription one_filter[] = { { .filter = STR("a") } };
static const struct mql_subscription bad_rh_3[] = { { .filter = STR("a"), .retain_handling = 3 } };
static const struct mql_subscription bad_sub_qos_3[] = { { .filter = STR("a"), .qos = 3 } };
static const struct mql_subscription bad_filter_utf8[] = { { .filter = STR("a\xFF") } };

struct bad_case {
        const char *name;
        struct mql_packet pkt;
};

#define CONNECT_WITH(...)                         \
        {                                         \
                .type = MQL_CONNECT, .connect = { \
                        .version = MQL_V5,        \
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
        { "CONNECT Session Expiry Interval twice", CONNECT_WITH(.props = LIST(bad_sexp_twice)) },
        { "CONNECT Topic Alias (not a CONNECT property)",
          CONNECT_WITH(.props = LIST(bad_topic_alias)) },
        { "CONNECT Will Delay Interval outside the will",
          CONNECT_WITH(.props = LIST(bad_will_delay)) },
        { "CONNECT will with Session Expiry Interval",
          CONNECT_WITH(.will = true, .will_topic = STR("w"), .will_props = LIST(bad_sexp)) },
        { "CONNECT will with Topic Alias",
          CONNECT_WITH(.will = true, .will_topic = STR("w"), .will_props = LIST(bad_topic_alias)) },
        { "CONNECT Receive Maximum 0", CONNECT_WITH(.props = LIST(bad_recv_max_0)) },
        { "CONNECT Maximum Packet Size 0", CONNECT_WITH(.props = LIST(bad_max_packet_0)) },
        { "CONNECT Request Problem Information 2", CONNECT_WITH(.props = LIST(bad_rpi_2)) },
        { "CONNECT Request Response Information 2", CONNECT_WITH(.props = LIST(bad_rri_2)) },
        { "CONNECT unknown property 0x05", CONNECT_WITH(.props = LIST(bad_unknown_id)) },
        { "CONNECT client id ill-formed UTF-8", CONNECT_WITH(.client_id = STR("\xFF")) },
        { "CONNECT User Property key ill-formed UTF-8",
          CONNECT_WITH(.props = LIST(bad_user_utf8)) },
        { "CONNACK Maximum QoS 2",
          { .type = MQL_CONNACK, .connack = { .props = LIST(bad_max_qos_2) } } },
        { "CONNACK Retain Available 2",
          { .type = MQL_CONNACK, .connack = { .props = LIST(bad_retain_avail_2) } } },
        { "CONNACK Reason String twice",
          { .type = MQL_CONNACK, .connack = { .props = LIST(bad_reason_twice) } } },
        { "PUBLISH QoS 3", PUBLISH_WITH(.qos = 3, .packet_id = 1) },
        { "PUBLISH QoS 1 packet id 0", PUBLISH_WITH(.qos = 1) },
        { "PUBLISH QoS 2 packet id 0", PUBLISH_WITH(.qos = 2) },
        { "PUBLISH DUP with QoS 0", PUBLISH_WITH(.dup = true) },
        { "PUBLISH topic a/+", { .type = MQL_PUBLISH, .publish = { .topic = STR("a/+") } } },
        { "PUBLISH topic a/#", { .type = MQL_PUBLISH, .publish = { .topic = STR("a/#") } } },
        { "PUBLISH topic #", { .type = MQL_PUBLISH, .publish = { .topic = STR("#") } } },
        { "PUBLISH empty topic without Topic Alias", { .type = MQL_PUBLISH } },
        { "PUBLISH topic ill-formed UTF-8",
          { .type = MQL_PUBLISH, .publish = { .topic = STR("a\xFF") } } },
        { "PUBLISH topic with U+0000",
          { .type = MQL_PUBLISH, .publish = { .topic = { "a\0b", 3 } } } },
        { "PUBLISH Session Expiry Interval (not a PUBLISH property)",
          PUBLISH_WITH(.props = LIST(bad_sexp)) },
        { "PUBLISH Authentication Method",
          PUBLISH_WITH(.props = LIST(bad_auth_method_on_publish)) },
        { "PUBLISH Payload Format Indicator 2", PUBLISH_WITH(.props = LIST(bad_pfi_2)) },
        { "PUBLISH Topic Alias 0", PUBLISH_WITH(.props = LIST(bad_topic_alias_0)) },
        { "PUBLISH Topic Alias twice", PUBLISH_WITH(.props = LIST(bad_topic_alias_twice)) },
        { "PUBLISH Subscription Identifier 0", PUBLISH_WITH(.props = LIST(bad_subid_0)) },
        { "PUBLISH Content Type ill-formed UTF-8",
          PUBLISH_WITH(.props = LIST(bad_content_type_utf8)) },
        { "PUBLISH Topic Alias in raw and again in list",
          PUBLISH_WITH(.props = { .raw = raw_topic_alias,
                                  .raw_len = sizeof(raw_topic_alias),
                                  .list = list_topic_alias,
                                  .count = 1 }) },
        { "PUBLISH Correlation Data 65,536 bytes", PUBLISH_WITH(.props = LIST(bad_corr_too_long)) },
        { "PUBLISH User Property value 65,536 bytes",
          PUBLISH_WITH(.props = LIST(bad_user_value_too_long)) },
        { "PUBLISH Subscription Identifier 268,435,456 (> varint maximum)",
          PUBLISH_WITH(.props = LIST(bad_subid_too_big)) },
        { "PUBLISH topic 65,536 bytes",
          { .type = MQL_PUBLISH, .publish = { .topic = { big, sizeof(big) } } } },
        { "DISCONNECT Reason String 65,536 bytes",
          { .type = MQL_DISCONNECT, .disconnect = { .props = LIST(bad_reason_too_long) } } },
        { "CONNECT password 65,536 bytes",
          CONNECT_WITH(.has_password = true, .password = { (const uint8_t *)big, sizeof(big) }) },
        { "CONNECT will payload 65,536 bytes",
          CONNECT_WITH(.will = true, .will_topic = STR("w"),
                       .will_payload = { (const uint8_t *)big, sizeof(big) }) },
        { "CONNECT protocol version 3", { .type = MQL_CONNECT, .connect = { .version = 3 } } },
        { "packet type 0", { .type = 0 } },
        { "packet type 16", { .type = 16 } },
        { "SUBSCRIBE no filters", { .type = MQL_SUBSCRIBE, .subscribe = { .packet_id = 1 } } },
        { "SUBSCRIBE packet id 0",
          { .type = MQL_SUBSCRIBE, .subscribe = { .filters = LIST(one_filter) } } },
        { "SUBSCRIBE Subscription Identifier twice",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1,
                           .props = LIST(bad_subid_twice),
                           .filters = LIST(one_filter) } } },
        { "SUBSCRIBE Subscription Identifier 0",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1,
                           .props = LIST(bad_subid_0),
                           .filters = LIST(one_filter) } } },
        { "SUBSCRIBE Topic Alias",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1,
                           .props = LIST(bad_topic_alias),
                           .filters = LIST(one_filter) } } },
        { "SUBSCRIBE filter ill-formed UTF-8",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1, .filters = LIST(bad_filter_utf8) } } },
        { "UNSUBSCRIBE no filters", { .type = MQL_UNSUBSCRIBE, .subscribe = { .packet_id = 1 } } },
        { "UNSUBSCRIBE packet id 0",
          { .type = MQL_UNSUBSCRIBE, .subscribe = { .filters = LIST(one_filter) } } },
        { "PUBACK Session Expiry Interval",
          { .type = MQL_PUBACK, .ack = { .packet_id = 1, .props = LIST(bad_sexp) } } },
        { "PUBREL packet id 0", { .type = MQL_PUBREL } },
        { "DISCONNECT Will Delay Interval",
          { .type = MQL_DISCONNECT, .disconnect = { .props = LIST(bad_will_delay) } } },
        { "AUTH Session Expiry Interval",
          { .type = MQL_AUTH, .auth = { .reason_code = 0x18, .props = LIST(bad_sexp) } } },
};

/*
 * Not spelled out in docs/codec-rules.md but covered by packet.h ("-EINVAL
 * for a packet a receiver would reject"): the decoder rejects each of these
 * (reserved/invalid option bits, undefined reason codes), so the encoder
 * should not produce them.
 */
static const struct bad_case einval_inferred_cases[] = {
        { "SUBSCRIBE Retain Handling 3 (MQTT-3.8.3-5 area)",
          { .type = MQL_SUBSCRIBE, .subscribe = { .packet_id = 1, .filters = LIST(bad_rh_3) } } },
        { "SUBSCRIBE option QoS 3",
          { .type = MQL_SUBSCRIBE,
            .subscribe = { .packet_id = 1, .filters = LIST(bad_sub_qos_3) } } },
        { "CONNECT Will QoS 3 (MQTT-3.1.2-12)",
          CONNECT_WITH(.will = true, .will_qos = 3, .will_topic = STR("w")) },
        { "PUBACK reason 0x8E (not defined for PUBACK)",
          { .type = MQL_PUBACK, .ack = { .packet_id = 1, .reason_code = 0x8E } } },
        { "PUBREL reason 0x10 (not defined for PUBREL)",
          { .type = MQL_PUBREL, .ack = { .packet_id = 1, .reason_code = 0x10 } } },
        { "DISCONNECT reason 0x01",
          { .type = MQL_DISCONNECT, .disconnect = { .reason_code = 0x01 } } },
        { "AUTH reason 0x87", { .type = MQL_AUTH, .auth = { .reason_code = 0x87 } } },
        { "CONNACK reason 0x04", { .type = MQL_CONNACK, .connack = { .reason_code = 0x04 } } },
        { "CONNACK Session Present with reason 0x80 (MQTT-3.2.2-6)",
          { .type = MQL_CONNACK, .connack = { .session_present = true, .reason_code = 0x80 } } },
        { "SUBACK reason 0x03",
          { .type = MQL_SUBACK, .suback = { .packet_id = 1, .reasons = BIN("\x03") } } },
        { "SUBACK no reason codes", { .type = MQL_SUBACK, .suback = { .packet_id = 1 } } },
        { "UNSUBACK reason 0x01",
          { .type = MQL_UNSUBACK, .suback = { .packet_id = 1, .reasons = BIN("\x01") } } },
        { "PUBLISH Topic Alias 65536 (a Two Byte Integer, §3.3.2.3.4)",
          PUBLISH_WITH(.props = { .list = (const struct mql_prop[]){ { .id = MQL_PROP_TOPIC_ALIAS,
                                                                       .u32 = 65536 } },
                                  .count = 1 }) },
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
        memset(big, 'a', sizeof(big));
        assert_int_equal(count_not_einval(einval_cases, ELEMENTSOF(einval_cases)), 0);
}

static void test_encode_einval_inferred(void **state) {
        (void)state;
        assert_int_equal(count_not_einval(einval_inferred_cases, ELEMENTSOF(einval_inferred_cases)),
                         0);
}

/* ---- names and reason codes --------------------------------------------- */

static void test_packet_type_str(void **state) {
        static const char *const names[] = {
                [MQL_CONNECT] = "CONNECT",   [MQL_CONNACK] = "CONNACK",
                [MQL_PUBLISH] = "PUBLISH",   [MQL_PUBACK] = "PUBACK",
                [MQL_PUBREC] = "PUBREC",     [MQL_PUBREL] = "PUBREL",
                [MQL_PUBCOMP] = "PUBCOMP",   [MQL_SUBSCRIBE] = "SUBSCRIBE",
                [MQL_SUBACK] = "SUBACK",     [MQL_UNSUBSCRIBE] = "UNSUBSCRIBE",
                [MQL_UNSUBACK] = "UNSUBACK", [MQL_PINGREQ] = "PINGREQ",
                [MQL_PINGRESP] = "PINGRESP", [MQL_DISCONNECT] = "DISCONNECT",
                [MQL_AUTH] = "AUTH",
        };

        (void)state;
        for (unsigned t = MQL_CONNECT; t <= MQL_AUTH; t++)
                assert_string_equal(mql_packet_type_str(t), names[t]);
        /* 0 is "Reserved" (§2.1.2), not a packet type. */
        assert_string_equal(mql_packet_type_str(0), "UNKNOWN");
        assert_string_equal(mql_packet_type_str(16), "UNKNOWN");
        assert_string_equal(mql_packet_type_str(255), "UNKNOWN");
        assert_string_equal(mql_packet_type_str(UINT_MAX), "UNKNOWN");
}

/* §2.4, Table 2-6, names as the specification spells them. */
static const struct {
        uint8_t code;
        const char *name;
} reason_names[] = {
        { 0x00, "Success" },
        { 0x01, "Granted QoS 1" },
        { 0x02, "Granted QoS 2" },
        { 0x04, "Disconnect with Will Message" },
        { 0x10, "No matching subscribers" },
        { 0x11, "No subscription existed" },
        { 0x18, "Continue authentication" },
        { 0x19, "Re-authenticate" },
        { 0x80, "Unspecified error" },
        { 0x81, "Malformed Packet" },
        { 0x82, "Protocol Error" },
        { 0x83, "Implementation specific error" },
        { 0x84, "Unsupported Protocol Version" },
        { 0x85, "Client Identifier not valid" },
        { 0x86, "Bad User Name or Password" },
        { 0x87, "Not authorized" },
        { 0x88, "Server unavailable" },
        { 0x89, "Server busy" },
        { 0x8A, "Banned" },
        { 0x8B, "Server shutting down" },
        { 0x8C, "Bad authentication method" },
        { 0x8D, "Keep Alive timeout" },
        { 0x8E, "Session taken over" },
        { 0x8F, "Topic Filter invalid" },
        { 0x90, "Topic Name invalid" },
        { 0x91, "Packet Identifier in use" },
        { 0x92, "Packet Identifier not found" },
        { 0x93, "Receive Maximum exceeded" },
        { 0x94, "Topic Alias invalid" },
        { 0x95, "Packet too large" },
        { 0x96, "Message rate too high" },
        { 0x97, "Quota exceeded" },
        { 0x98, "Administrative action" },
        { 0x99, "Payload format invalid" },
        { 0x9A, "Retain not supported" },
        { 0x9B, "QoS not supported" },
        { 0x9C, "Use another server" },
        { 0x9D, "Server moved" },
        { 0x9E, "Shared Subscriptions not supported" },
        { 0x9F, "Connection rate exceeded" },
        { 0xA0, "Maximum connect time" },
        { 0xA1, "Subscription Identifiers not supported" },
        { 0xA2, "Wildcard Subscriptions not supported" },
};

static const char *spec_reason_name(unsigned code) {
        for (size_t i = 0; i < ELEMENTSOF(reason_names); i++)
                if (reason_names[i].code == code)
                        return reason_names[i].name;
        return NULL;
}

static void test_reason_str(void **state) {
        int failures = 0;

        (void)state;
        for (unsigned c = 0; c < 256; c++) {
                const char *exp = spec_reason_name(c);
                const char *got = mql_reason_str(c);

                if (!exp)
                        exp = "Unknown reason code";
                if (!got || strcmp(got, exp) != 0) {
                        print_error("mql_reason_str(0x%02x) = \"%s\", expected \"%s\"\n", c,
                                    got ? got : "(null)", exp);
                        failures++;
                }
        }
        assert_int_equal(failures, 0);
        assert_string_equal(mql_reason_str(MQL_RC_NOT_AUTHORIZED), "Not authorized");
        assert_string_equal(mql_reason_str(0x03), "Unknown reason code");
        assert_string_equal(mql_reason_str(0x100), "Unknown reason code");
        assert_string_equal(mql_reason_str(0x187), "Unknown reason code");
        assert_string_equal(mql_reason_str(UINT_MAX), "Unknown reason code");
}

/* The reason codes each packet defines in MQTT 5 (§2.4 Table 2-6 and the
 * per-packet tables 3-1, 3-2 ... 3-13). */
static const uint8_t puback_codes[] = { 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99 };
static const uint8_t pubrel_codes[] = { 0x00, 0x92 };
static const uint8_t suback_codes[] = {
        0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
};
static const uint8_t unsuback_codes[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91 };
static const uint8_t auth_codes[] = { 0x00, 0x18, 0x19 };

static const struct {
        enum mql_packet_type type;
        const uint8_t *codes;
        size_t n;
} reason_sets[] = {
        { MQL_CONNECT, NULL, 0 },
        { MQL_CONNACK, connack_codes, sizeof(connack_codes) },
        { MQL_PUBLISH, NULL, 0 },
        { MQL_PUBACK, puback_codes, sizeof(puback_codes) },
        { MQL_PUBREC, puback_codes, sizeof(puback_codes) },
        { MQL_PUBREL, pubrel_codes, sizeof(pubrel_codes) },
        { MQL_PUBCOMP, pubrel_codes, sizeof(pubrel_codes) },
        { MQL_SUBSCRIBE, NULL, 0 },
        { MQL_SUBACK, suback_codes, sizeof(suback_codes) },
        { MQL_UNSUBSCRIBE, NULL, 0 },
        { MQL_UNSUBACK, unsuback_codes, sizeof(unsuback_codes) },
        { MQL_PINGREQ, NULL, 0 },
        { MQL_PINGRESP, NULL, 0 },
        { MQL_DISCONNECT, disconnect_codes, sizeof(disconnect_codes) },
        { MQL_AUTH, auth_codes, sizeof(auth_codes) },
};

static bool in_set(const uint8_t *codes, size_t n, unsigned c) {
        for (size_t i = 0; i < n; i++)
                if (codes[i] == c)
                        return true;
        return false;
}

static void test_reason_valid(void **state) {
        int failures = 0;

        (void)state;
        for (size_t s = 0; s < ELEMENTSOF(reason_sets); s++)
                for (unsigned c = 0; c < 256; c++) {
                        bool exp = in_set(reason_sets[s].codes, reason_sets[s].n, c);

                        if (mql_reason_valid(reason_sets[s].type, c) != exp) {
                                print_error("mql_reason_valid(%s, 0x%02x) = %d, expected %d\n",
                                            mql_packet_type_str(reason_sets[s].type), c, !exp, exp);
                                failures++;
                        }
                }
        assert_int_equal(failures, 0);
        assert_false(mql_reason_valid(MQL_PUBACK, 0x100));
        assert_false(mql_reason_valid(MQL_DISCONNECT, 0x104));
}

static void test_reason_str_for(void **state) {
        int failures = 0;

        (void)state;
        for (size_t s = 0; s < ELEMENTSOF(reason_sets); s++)
                for (unsigned c = 0; c < 256; c++) {
                        enum mql_packet_type t = reason_sets[s].type;
                        const char *exp = NULL, *got;

                        if (in_set(reason_sets[s].codes, reason_sets[s].n, c)) {
                                exp = spec_reason_name(c);
                                /* 0x00 has three names (Table 2-6). */
                                if (c == 0 && t == MQL_DISCONNECT)
                                        exp = "Normal disconnection";
                                else if (c == 0 && t == MQL_SUBACK)
                                        exp = "Granted QoS 0";
                        }
                        got = mql_reason_str_for(t, MQL_V5, c);
                        if ((exp == NULL) != (got == NULL) || (exp && strcmp(exp, got) != 0)) {
                                print_error("mql_reason_str_for(%s, V5, 0x%02x) = \"%s\", expected "
                                            "\"%s\"\n",
                                            mql_packet_type_str(t), c, got ? got : "(null)",
                                            exp ? exp : "(null)");
                                failures++;
                        }
                }
        assert_int_equal(failures, 0);

        assert_string_equal(mql_reason_str_for(MQL_DISCONNECT, MQL_V5, 0), "Normal disconnection");
        assert_string_equal(mql_reason_str_for(MQL_SUBACK, MQL_V5, 0), "Granted QoS 0");
        assert_string_equal(mql_reason_str_for(MQL_SUBACK, MQL_V5, 1), "Granted QoS 1");
        assert_string_equal(mql_reason_str_for(MQL_CONNACK, MQL_V5, 0), "Success");
        assert_string_equal(mql_reason_str_for(MQL_CONNACK, MQL_V5, 0x87), "Not authorized");
        assert_string_equal(mql_reason_str_for(MQL_AUTH, MQL_V5, 0x18), "Continue authentication");
        assert_null(mql_reason_str_for(MQL_PUBACK, MQL_V5, 0x8E));
        assert_null(mql_reason_str_for(MQL_PINGREQ, MQL_V5, 0));
        assert_null(mql_reason_str_for(MQL_PUBACK, MQL_V5, 0x110));
        assert_null(mql_reason_str_for((enum mql_packet_type)0, MQL_V5, 0));
        assert_null(mql_reason_str_for((enum mql_packet_type)16, MQL_V5, 0));
}

static void test_str_from(void **state) {
        struct mql_str s;

        (void)state;
        s = mql_str_from("a/b");
        assert_int_equal(s.len, 3);
        assert_memory_equal(s.ptr, "a/b", 3);
        s = mql_str_from("");
        assert_int_equal(s.len, 0);
        s = mql_str_from(NULL);
        assert_null(s.ptr);
        assert_int_equal(s.len, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_connect_spec_example),
                cmocka_unit_test(test_connect_minimal),
                cmocka_unit_test(test_connect_all_properties),
                cmocka_unit_test(test_connect_password_without_username),
                cmocka_unit_test(test_connect_version_from_packet),
                cmocka_unit_test(test_connack_reason_codes),
                cmocka_unit_test(test_connack_all_properties),
                cmocka_unit_test(test_connack_use_another_server),
                cmocka_unit_test(test_publish_spec_example),
                cmocka_unit_test(test_publish_all_properties),
                cmocka_unit_test(test_publish_topic_alias),
                cmocka_unit_test(test_publish_qos2_dup_retain),
                cmocka_unit_test(test_publish_long_property_block),
                cmocka_unit_test(test_publish_props_raw_and_list),
                cmocka_unit_test(test_publish_max_size),
                cmocka_unit_test(test_publish_qos0_ignores_packet_id),
                cmocka_unit_test(test_encode_null_buffer),
                cmocka_unit_test(test_ack_forms),
                cmocka_unit_test(test_ack_long_forms_decode),
                cmocka_unit_test(test_subscribe_options),
                cmocka_unit_test(test_subscribe_every_option),
                cmocka_unit_test(test_subscribe_user_properties),
                cmocka_unit_test(test_suback_reasons),
                cmocka_unit_test(test_suback_with_properties),
                cmocka_unit_test(test_unsubscribe),
                cmocka_unit_test(test_unsuback),
                cmocka_unit_test(test_pingreq),
                cmocka_unit_test(test_pingresp),
                cmocka_unit_test(test_disconnect_forms),
                cmocka_unit_test(test_disconnect_every_reason),
                cmocka_unit_test(test_disconnect_long_forms_decode),
                cmocka_unit_test(test_auth_forms),
                cmocka_unit_test(test_auth_reason_only_decode),
                cmocka_unit_test(test_encode_einval),
                cmocka_unit_test(test_encode_einval_inferred),
                cmocka_unit_test(test_packet_type_str),
                cmocka_unit_test(test_reason_str),
                cmocka_unit_test(test_reason_valid),
                cmocka_unit_test(test_reason_str_for),
                cmocka_unit_test(test_str_from),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * MQTT 5 properties and reason codes against the specification's tables,
 * copied here by hand from MQTT Version 5.0 (OASIS Standard, 7 March 2019):
 *   §2.2.2.2 Table 2-4  property identifiers, types and the packets they go on
 *   §2.4     Table 2-6  reason codes and their names
 *   §3.2.2.2, §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3, §3.11.3,
 *   §3.14.2.1, §3.15.2.1  the reason codes each packet may carry
 * and the property iterator, walked over property blocks that came through
 * mql_packet_decode() (the iterator trusts only validated blocks).
 */
/* cmocka.h needs these first, in this order. */
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

#include <mqlink/packet.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define PK(t) (1u << (t))

/* ---- §2.2.2.2 ----------------------------------------------------------- */

struct spec_prop {
        unsigned id;
        const char *name;
        enum mql_prop_type type;
        uint32_t packets; /* PK(type) for each packet it may appear on */
        bool will;        /* a Will Property (CONNECT payload) */
};

#define ACKS (PK(MQL_PUBACK) | PK(MQL_PUBREC) | PK(MQL_PUBREL) | PK(MQL_PUBCOMP))

static const struct spec_prop spec_props[] = {
        { 0x01, "Payload Format Indicator", MQL_PROP_TYPE_BYTE, PK(MQL_PUBLISH), true },
        { 0x02, "Message Expiry Interval", MQL_PROP_TYPE_U32, PK(MQL_PUBLISH), true },
        { 0x03, "Content Type", MQL_PROP_TYPE_STRING, PK(MQL_PUBLISH), true },
        { 0x08, "Response Topic", MQL_PROP_TYPE_STRING, PK(MQL_PUBLISH), true },
        { 0x09, "Correlation Data", MQL_PROP_TYPE_BINARY, PK(MQL_PUBLISH), true },
        { 0x0B, "Subscription Identifier", MQL_PROP_TYPE_VARINT,
          PK(MQL_PUBLISH) | PK(MQL_SUBSCRIBE), false },
        { 0x11, "Session Expiry Interval", MQL_PROP_TYPE_U32,
          PK(MQL_CONNECT) | PK(MQL_CONNACK) | PK(MQL_DISCONNECT), false },
        { 0x12, "Assigned Client Identifier", MQL_PROP_TYPE_STRING, PK(MQL_CONNACK), false },
        { 0x13, "Server Keep Alive", MQL_PROP_TYPE_U16, PK(MQL_CONNACK), false },
        { 0x15, "Authentication Method", MQL_PROP_TYPE_STRING,
          PK(MQL_CONNECT) | PK(MQL_CONNACK) | PK(MQL_AUTH), false },
        { 0x16, "Authentication Data", MQL_PROP_TYPE_BINARY,
          PK(MQL_CONNECT) | PK(MQL_CONNACK) | PK(MQL_AUTH), false },
        { 0x17, "Request Problem Information", MQL_PROP_TYPE_BYTE, PK(MQL_CONNECT), false },
        { 0x18, "Will Delay Interval", MQL_PROP_TYPE_U32, 0, true },
        { 0x19, "Request Response Information", MQL_PROP_TYPE_BYTE, PK(MQL_CONNECT), false },
        { 0x1A, "Response Information", MQL_PROP_TYPE_STRING, PK(MQL_CONNACK), false },
        { 0x1C, "Server Reference", MQL_PROP_TYPE_STRING, PK(MQL_CONNACK) | PK(MQL_DISCONNECT),
          false },
        { 0x1F, "Reason String", MQL_PROP_TYPE_STRING,
          PK(MQL_CONNACK) | ACKS | PK(MQL_SUBACK) | PK(MQL_UNSUBACK) | PK(MQL_DISCONNECT) |
                  PK(MQL_AUTH),
          false },
        { 0x21, "Receive Maximum", MQL_PROP_TYPE_U16, PK(MQL_CONNECT) | PK(MQL_CONNACK), false },
        { 0x22, "Topic Alias Maximum", MQL_PROP_TYPE_U16, PK(MQL_CONNECT) | PK(MQL_CONNACK),
          false },
        { 0x23, "Topic Alias", MQL_PROP_TYPE_U16, PK(MQL_PUBLISH), false },
        { 0x24, "Maximum QoS", MQL_PROP_TYPE_BYTE, PK(MQL_CONNACK), false },
        { 0x25, "Retain Available", MQL_PROP_TYPE_BYTE, PK(MQL_CONNACK), false },
        { 0x26, "User Property", MQL_PROP_TYPE_STRING_PAIR,
          PK(MQL_CONNECT) | PK(MQL_CONNACK) | PK(MQL_PUBLISH) | ACKS | PK(MQL_SUBSCRIBE) |
                  PK(MQL_SUBACK) | PK(MQL_UNSUBSCRIBE) | PK(MQL_UNSUBACK) | PK(MQL_DISCONNECT) |
                  PK(MQL_AUTH),
          true },
        { 0x27, "Maximum Packet Size", MQL_PROP_TYPE_U32, PK(MQL_CONNECT) | PK(MQL_CONNACK),
          false },
        { 0x28, "Wildcard Subscription Available", MQL_PROP_TYPE_BYTE, PK(MQL_CONNACK), false },
        { 0x29, "Subscription Identifier Available", MQL_PROP_TYPE_BYTE, PK(MQL_CONNACK), false },
        { 0x2A, "Shared Subscription Available", MQL_PROP_TYPE_BYTE, PK(MQL_CONNACK), false },
};

static const struct spec_prop *spec_prop(unsigned id) {
        for (size_t i = 0; i < ELEMS(spec_props); i++)
                if (spec_props[i].id == id)
                        return &spec_props[i];
        return NULL;
}

static bool spec_allowed(unsigned id, enum mql_packet_type type, bool will) {
        const struct spec_prop *p = spec_prop(id);

        if (!p)
                return false;
        /* `will` selects the Will Properties on CONNECT (packet.h). */
        if (type == MQL_CONNECT && will)
                return p->will;
        return (p->packets & PK(type)) != 0;
}

static const char *type_name(unsigned t) {
        static const char *const names[] = {
                "0",       "CONNECT",  "CONNACK",    "PUBLISH", "PUBACK",      "PUBREC",
                "PUBREL",  "PUBCOMP",  "SUBSCRIBE",  "SUBACK",  "UNSUBSCRIBE", "UNSUBACK",
                "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
        };
        return t < ELEMS(names) ? names[t] : "?";
}

static void test_prop_type_and_name(void **state) {
        unsigned bad = 0;

        (void)state;
        for (unsigned id = 0; id < 256; id++) {
                const struct spec_prop *p = spec_prop(id);
                enum mql_prop_type t = mql_prop_type(id);
                const char *n = mql_prop_name(id);

                if (p && t != p->type) {
                        print_message("# 0x%02X %s: type %d, spec %d\n", id, p->name, (int)t,
                                      (int)p->type);
                        bad++;
                }
                if (p && (!n || strcmp(n, p->name) != 0)) {
                        print_message("# 0x%02X: name \"%s\", spec \"%s\"\n", id, n ? n : "(null)",
                                      p->name);
                        bad++;
                }
                if (!p && (t != MQL_PROP_TYPE_INVALID || n)) {
                        print_message("# unknown id 0x%02X: type %d, name %s\n", id, (int)t,
                                      n ? n : "(null)");
                        bad++;
                }
        }
        /* An id is not truncated to a byte: 0x126 is not User Property. */
        static const unsigned big[] = { 0x100, 0x101, 0x126, 0x8001, 0xFFFFFFFFu };
        for (size_t i = 0; i < ELEMS(big); i++) {
                if (mql_prop_type(big[i]) != MQL_PROP_TYPE_INVALID || mql_prop_name(big[i])) {
                        print_message("# id 0x%X is known\n", big[i]);
                        bad++;
                }
        }
        /* The header's enum is the table. */
        assert_int_equal(MQL_PROP_PAYLOAD_FORMAT_INDICATOR, 0x01);
        assert_int_equal(MQL_PROP_SUBSCRIPTION_IDENTIFIER, 0x0B);
        assert_int_equal(MQL_PROP_WILL_DELAY_INTERVAL, 0x18);
        assert_int_equal(MQL_PROP_SERVER_REFERENCE, 0x1C);
        assert_int_equal(MQL_PROP_REASON_STRING, 0x1F);
        assert_int_equal(MQL_PROP_USER_PROPERTY, 0x26);
        assert_int_equal(MQL_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0x2A);
        assert_int_equal(bad, 0);
}

static void test_prop_allowed(void **state) {
        unsigned bad = 0;

        (void)state;
        /* will=true is checked on CONNECT only: packet.h gives it no
         * meaning on other packets, which have no Will Properties. */
        for (unsigned t = MQL_CONNECT; t <= MQL_AUTH; t++)
                for (unsigned id = 0; id < 256; id++)
                        for (int will = 0; will <= (t == MQL_CONNECT); will++) {
                                bool want = spec_allowed(id, t, will);
                                bool got = mql_prop_allowed(id, t, will);
                                if (got != want) {
                                        print_message("# 0x%02X on %s%s: got %d, spec %d\n", id,
                                                      type_name(t), will ? " (will=true)" : "", got,
                                                      want);
                                        bad++;
                                }
                        }
        for (unsigned t = MQL_CONNECT; t <= MQL_AUTH; t++) {
                if (mql_prop_allowed(0x126, t, false) || mql_prop_allowed(0x101, t, true)) {
                        print_message("# id above 0xFF allowed on %s\n", type_name(t));
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

/* ---- §2.4 and each packet's reason code list ----------------------------- */

struct spec_reason {
        unsigned code;
        const char *name;
};

static const struct spec_reason spec_reason_names[] = {
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

static const uint8_t rc_connack[] = {
        /* §3.2.2.2 */
        0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
};
static const uint8_t rc_puback[] = {
        /* §3.4.2.1, and PUBREC §3.5.2.1 */
        0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99,
};
static const uint8_t rc_pubrel[] = { 0x00, 0x92 }; /* §3.6.2.1, PUBCOMP §3.7.2.1 */
static const uint8_t rc_suback[] = {
        /* §3.9.3 */
        0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
};
static const uint8_t rc_unsuback[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91 }; /* §3.11.3 */
static const uint8_t rc_disconnect[] = {
        /* §3.14.2.1 */
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
        0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
};
static const uint8_t rc_auth[] = { 0x00, 0x18, 0x19 }; /* §3.15.2.1 */

struct spec_packet_reasons {
        enum mql_packet_type type;
        const uint8_t *codes;
        size_t n;
        const char *zero_name; /* what 0x00 is called on this packet */
};

#define REASONS(t, a, z) \
        { t, a, ELEMS(a), z }
static const struct spec_packet_reasons spec_packet_reasons[] = {
        REASONS(MQL_CONNACK, rc_connack, "Success"),
        REASONS(MQL_PUBACK, rc_puback, "Success"),
        REASONS(MQL_PUBREC, rc_puback, "Success"),
        REASONS(MQL_PUBREL, rc_pubrel, "Success"),
        REASONS(MQL_PUBCOMP, rc_pubrel, "Success"),
        REASONS(MQL_SUBACK, rc_suback, "Granted QoS 0"),
        REASONS(MQL_UNSUBACK, rc_unsuback, "Success"),
        REASONS(MQL_DISCONNECT, rc_disconnect, "Normal disconnection"),
        REASONS(MQL_AUTH, rc_auth, "Success"),
};

static const struct spec_packet_reasons *spec_reasons_of(unsigned type) {
        for (size_t i = 0; i < ELEMS(spec_packet_reasons); i++)
                if (spec_packet_reasons[i].type == type)
                        return &spec_packet_reasons[i];
        return NULL; /* CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, PINGs */
}

static bool spec_reason_valid(unsigned type, unsigned code) {
        const struct spec_packet_reasons *r = spec_reasons_of(type);

        if (!r)
                return false;
        for (size_t i = 0; i < r->n; i++)
                if (r->codes[i] == code)
                        return true;
        return false;
}

/*
 * Where the specification disagrees with itself. §2.4 Table 2-6 lists 0x8C
 * (Bad authentication method) for "CONNACK, DISCONNECT", but the DISCONNECT
 * list of §3.14.2.1 does not have it. Either answer is taken here, as long
 * as the library gives the same one everywhere (mql_reason_valid,
 * mql_reason_str_for and the decoder).
 */
static bool spec_conflict(unsigned type, unsigned code) {
        return type == MQL_DISCONNECT && code == 0x8C;
}

static const char *spec_reason_name(unsigned code) {
        for (size_t i = 0; i < ELEMS(spec_reason_names); i++)
                if (spec_reason_names[i].code == code)
                        return spec_reason_names[i].name;
        return NULL;
}

/* The tables above agree with each other: every code some packet carries
 * has a name in §2.4, and every named code is carried by some packet. */
static void test_spec_tables_agree(void **state) {
        (void)state;
        for (unsigned code = 0; code < 256; code++) {
                bool used = false;
                for (unsigned t = MQL_CONNECT; t <= MQL_AUTH; t++)
                        used |= spec_reason_valid(t, code);
                if (used != (spec_reason_name(code) != NULL))
                        fail_msg("reason 0x%02X: used %d, named %d", code, used,
                                 spec_reason_name(code) != NULL);
        }
        assert_int_equal(ELEMS(spec_reason_names), 43);
        assert_int_equal(ELEMS(spec_props), 27);
}

static void test_reason_valid(void **state) {
        unsigned bad = 0;

        (void)state;
        for (unsigned t = MQL_CONNECT; t <= MQL_AUTH; t++)
                for (unsigned code = 0; code < 256; code++) {
                        bool want = spec_reason_valid(t, code);
                        bool got = mql_reason_valid(t, code);
                        if (spec_conflict(t, code)) {
                                print_message("# note: reason 0x%02X on %s, where §2.4 and the "
                                              "packet's list disagree, is %s\n",
                                              code, type_name(t), got ? "valid" : "invalid");
                                continue;
                        }
                        if (got != want) {
                                print_message("# reason 0x%02X on %s: got %d, spec %d\n", code,
                                              type_name(t), got, want);
                                bad++;
                        }
                }
        /* Not truncated to a byte: 0x100 is not 0x00. */
        for (unsigned t = MQL_CONNECT; t <= MQL_AUTH; t++)
                if (mql_reason_valid(t, 0x100) || mql_reason_valid(t, 0x118)) {
                        print_message("# reason above 0xFF valid on %s\n", type_name(t));
                        bad++;
                }
        assert_int_equal(bad, 0);
}

static void test_reason_str(void **state) {
        unsigned bad = 0;

        (void)state;
        for (unsigned code = 0; code < 256; code++) {
                const char *want = spec_reason_name(code);
                const char *got = mql_reason_str(code);
                if (!got) {
                        print_message("# mql_reason_str(0x%02X) is NULL\n", code);
                        bad++;
                        continue;
                }
                if (!want)
                        want = "Unknown reason code";
                if (strcmp(got, want) != 0) {
                        print_message("# mql_reason_str(0x%02X) = \"%s\", spec \"%s\"\n", code, got,
                                      want);
                        bad++;
                }
        }
        static const unsigned big[] = { 0x100, 0x180, 0xFFFFFFFFu };
        for (size_t i = 0; i < ELEMS(big); i++) {
                const char *got = mql_reason_str(big[i]);
                if (!got || strcmp(got, "Unknown reason code") != 0) {
                        print_message("# mql_reason_str(0x%X) = \"%s\"\n", big[i],
                                      got ? got : "(null)");
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

static void test_reason_str_for(void **state) {
        /* MQTT 3.1.1 §3.2.2.3 Table 3.1. */
        static const char *const v311_connack[] = {
                "Connection Accepted",
                "Connection Refused, unacceptable protocol version",
                "Connection Refused, identifier rejected",
                "Connection Refused, Server unavailable",
                "Connection Refused, bad user name or password",
                "Connection Refused, not authorized",
        };
        unsigned bad = 0;

        (void)state;
        for (unsigned t = MQL_CONNECT; t <= MQL_AUTH; t++) {
                const struct spec_packet_reasons *r = spec_reasons_of(t);
                for (unsigned code = 0; code < 256; code++) {
                        const char *got = mql_reason_str_for(t, MQL_V5, code);
                        const char *want = NULL;
                        if (spec_reason_valid(t, code) ||
                            (spec_conflict(t, code) && mql_reason_valid(t, code)))
                                want = code == 0 ? r->zero_name : spec_reason_name(code);
                        if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
                                print_message("# %s reason 0x%02X: \"%s\", spec \"%s\"\n",
                                              type_name(t), code, got ? got : "(null)",
                                              want ? want : "(null)");
                                bad++;
                        }
                }
        }
        for (unsigned code = 0; code < 256; code++) {
                const char *got = mql_reason_str_for(MQL_CONNACK, MQL_V311, code);
                const char *want = code < ELEMS(v311_connack) ? v311_connack[code] : NULL;
                if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
                        print_message("# 3.1.1 CONNACK 0x%02X: \"%s\", spec \"%s\"\n", code,
                                      got ? got : "(null)", want ? want : "(null)");
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

/* ---- Every reason code through the decoder -------------------------------- */

/* A v5 packet of `type` carrying `code` and nothing else of note. */
static size_t build_with_reason(uint8_t *b, unsigned type, uint8_t code) {
        switch (type) {
        case MQL_CONNACK:
                memcpy(b, (const uint8_t[]){ 0x20, 0x03, 0x00, code, 0x00 }, 5);
                return 5;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                memcpy(b,
                       (const uint8_t[]){ (uint8_t)(type << 4 | (type == MQL_PUBREL ? 2 : 0)), 0x03,
                                          0x00, 0x01, code },
                       5);
                return 5;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                memcpy(b, (const uint8_t[]){ (uint8_t)(type << 4), 0x04, 0x00, 0x01, 0x00, code },
                       6);
                return 6;
        case MQL_DISCONNECT:
                memcpy(b, (const uint8_t[]){ 0xE0, 0x01, code }, 3);
                return 3;
        case MQL_AUTH:
                memcpy(b, (const uint8_t[]){ 0xF0, 0x02, code, 0x00 }, 4);
                return 4;
        default:
                return 0;
        }
}

/* The decoder takes exactly the codes mql_reason_valid() takes, and those
 * are the specification's; the rest are -EPROTO (docs/codec-rules.md). */
static void test_every_reason_through_decoder(void **state) {
        unsigned bad = 0;

        (void)state;
        for (size_t i = 0; i < ELEMS(spec_packet_reasons); i++) {
                unsigned t = spec_packet_reasons[i].type;
                for (unsigned code = 0; code < 256; code++) {
                        uint8_t b[8];
                        size_t len = build_with_reason(b, t, (uint8_t)code);
                        struct mql_packet pkt;
                        uint8_t *copy = malloc(len);
                        assert_non_null(copy);
                        memcpy(copy, b, len);
                        ssize_t r = mql_packet_decode(copy, len, MQL_V5, &pkt);
                        free(copy);
                        bool valid = spec_conflict(t, code) ? mql_reason_valid(t, code)
                                                            : spec_reason_valid(t, code);
                        ssize_t want = valid ? (ssize_t)len : -EPROTO;
                        if (r != want) {
                                print_message("# %s reason 0x%02X: decode gave %zd, want %zd\n",
                                              type_name(t), code, r, want);
                                bad++;
                        }
                }
        }
        /* MQTT 3.1.1: CONNACK return codes 0-5 (§3.2.2.3), SUBACK return
         * codes 0, 1, 2 and 0x80 (§3.9.3). */
        for (unsigned code = 0; code < 256; code++) {
                const uint8_t connack[] = { 0x20, 0x02, 0x00, (uint8_t)code };
                const uint8_t suback[] = { 0x90, 0x03, 0x00, 0x01, (uint8_t)code };
                struct mql_packet pkt;
                ssize_t r, want;

                r = mql_packet_decode(connack, sizeof(connack), MQL_V311, &pkt);
                want = code <= 5 ? (ssize_t)sizeof(connack) : -EPROTO;
                if (r != want) {
                        print_message("# 3.1.1 CONNACK 0x%02X: decode gave %zd\n", code, r);
                        bad++;
                }
                r = mql_packet_decode(suback, sizeof(suback), MQL_V311, &pkt);
                want = code <= 2 || code == 0x80 ? (ssize_t)sizeof(suback) : -EPROTO;
                if (r != want) {
                        print_message("# 3.1.1 SUBACK 0x%02X: decode gave %zd\n", code, r);
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

/* ---- Decoding helpers ---------------------------------------------------- */

/* Decodes b[0..len) from an exact-size copy kept alive in *ret_copy, so that
 * the views of the packet stay valid and ASan sees any over-read. */
static ssize_t decode(const uint8_t *b, size_t len, struct mql_packet *pkt, uint8_t **ret_copy) {
        uint8_t *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, b, len);
        *ret_copy = copy;
        return mql_packet_decode(copy, len, MQL_V5, pkt);
}

/* What the iterator should give, in order. */
struct want_prop {
        unsigned id;
        uint32_t u32;
        const char *s1; /* string, binary or pair key */
        size_t s1_len;
        const char *s2; /* pair value */
        size_t s2_len;
};

#define W_INT(id, v) \
        { id, v, NULL, 0, NULL, 0 }
#define W_STR(id, s) \
        { id, 0, s, sizeof(s) - 1, NULL, 0 }
#define W_PAIR(id, k, v) \
        { id, 0, k, sizeof(k) - 1, v, sizeof(v) - 1 }

static bool view_is(const void *ptr, size_t len, const char *s, size_t s_len) {
        return len == s_len && (len == 0 || memcmp(ptr, s, len) == 0);
}

static void check_prop(const struct mql_prop *p, const struct want_prop *w, size_t i) {
        if (p->id != w->id)
                fail_msg("property %zu: id 0x%02X, want 0x%02X", i, (unsigned)p->id, w->id);
        switch (mql_prop_type(w->id)) {
        case MQL_PROP_TYPE_BYTE:
        case MQL_PROP_TYPE_U16:
        case MQL_PROP_TYPE_U32:
        case MQL_PROP_TYPE_VARINT:
                if (p->u32 != w->u32)
                        fail_msg("property %zu (0x%02X): %u, want %u", i, w->id, p->u32, w->u32);
                break;
        case MQL_PROP_TYPE_STRING:
                if (!view_is(p->str.ptr, p->str.len, w->s1, w->s1_len))
                        fail_msg("property %zu (0x%02X): wrong string", i, w->id);
                break;
        case MQL_PROP_TYPE_BINARY:
                if (!view_is(p->bin.ptr, p->bin.len, w->s1, w->s1_len))
                        fail_msg("property %zu (0x%02X): wrong binary", i, w->id);
                break;
        case MQL_PROP_TYPE_STRING_PAIR:
                if (!view_is(p->pair.key.ptr, p->pair.key.len, w->s1, w->s1_len) ||
                    !view_is(p->pair.value.ptr, p->pair.value.len, w->s2, w->s2_len))
                        fail_msg("property %zu (0x%02X): wrong pair", i, w->id);
                break;
        default:
                fail_msg("property %zu: id 0x%02X has no type", i, w->id);
        }
}

static void walk_expect(const struct mql_props *props, const struct want_prop *want, size_t n) {
        struct mql_prop_iter it;
        struct mql_prop p;
        size_t i = 0;

        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) == 1) {
                if (i >= n)
                        fail_msg("more than %zu properties", n);
                check_prop(&p, &want[i], i);
                i++;
        }
        assert_int_equal(i, n);
        /* The end stays the end. */
        assert_int_equal(mql_prop_iter_next(&it, &p), 0);
}

/* The views lie inside the property block, which lies inside the packet. */
static void check_inside(const struct mql_props *props, const uint8_t *buf, size_t len) {
        struct mql_prop_iter it;
        struct mql_prop p;

        if (props->raw_len == 0)
                return;
        assert_true(props->raw >= buf && props->raw + props->raw_len <= buf + len);
        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) == 1) {
                const void *ptr = NULL;
                size_t l = 0;
                switch (mql_prop_type(p.id)) {
                case MQL_PROP_TYPE_STRING:
                        ptr = p.str.ptr, l = p.str.len;
                        break;
                case MQL_PROP_TYPE_BINARY:
                        ptr = p.bin.ptr, l = p.bin.len;
                        break;
                case MQL_PROP_TYPE_STRING_PAIR:
                        ptr = p.pair.key.ptr, l = p.pair.key.len;
                        if (l > 0)
                                assert_true((const uint8_t *)ptr >= props->raw &&
                                            (const uint8_t *)ptr + l <=
                                                    props->raw + props->raw_len);
                        ptr = p.pair.value.ptr, l = p.pair.value.len;
                        break;
                default:
                        break;
                }
                if (l > 0)
                        assert_true((const uint8_t *)ptr >= props->raw &&
                                    (const uint8_t *)ptr + l <= props->raw + props->raw_len);
        }
}

#define LEN(...) (uint8_t)sizeof((const uint8_t[]){ __VA_ARGS__ })
#define PROPS(...) LEN(__VA_ARGS__), __VA_ARGS__
#define S(...) 0x00, LEN(__VA_ARGS__), __VA_ARGS__
#define PACKET(hdr, ...) \
        { hdr, LEN(__VA_ARGS__), __VA_ARGS__ }

/* ---- The iterator over blocks with every value type ---------------------- */

/* PUBLISH carries a property of every type of §2.2.2.2. */
static const uint8_t publish_every_type[] =
        PACKET(0x32, S('a', '/', 'b'), 0x12, 0x34,
               PROPS(0x01, 0x01,                                   /* Byte */
                     0x23, 0xBE, 0xEF,                             /* Two Byte Integer */
                     0x02, 0xDE, 0xAD, 0xBE, 0xEF,                 /* Four Byte Integer */
                     0x0B, 0x80, 0x01,                             /* Variable Byte Integer, 128 */
                     0x03, S('t', 'e', 'x', 't', '/', 0xC3, 0xA9), /* UTF-8 string */
                     0x09, S(0x00, 0xFF, 0x01),                    /* Binary Data */
                     0x26, S('k', 'e', 'y'), S('v', 'a', 'l'),     /* UTF-8 String Pair */
                     0x0B, 0xFF, 0xFF, 0xFF, 0x7F,                 /* repeated: 268435455 */
                     0x08, S('r', '/', 't'),                       /* another string */
                     0x26, 0x00, 0x00, 0x00, 0x00,                 /* an empty pair */
                     0x26, S('k', 'e', 'y'), S('2')),              /* the key again */
               'p', 'a', 'y');

static const struct want_prop publish_every_type_want[] = {
        W_INT(0x01, 1),
        W_INT(0x23, 0xBEEF),
        W_INT(0x02, 0xDEADBEEFu),
        W_INT(0x0B, 128),
        W_STR(0x03, "text/\xC3\xA9"),
        W_STR(0x09, "\x00\xFF\x01"),
        W_PAIR(0x26, "key", "val"),
        W_INT(0x0B, 268435455),
        W_STR(0x08, "r/t"),
        W_PAIR(0x26, "", ""),
        W_PAIR(0x26, "key", "2"),
};

static void test_iter_every_type(void **state) {
        struct mql_packet pkt;
        uint8_t *copy;
        ssize_t r;

        (void)state;
        r = decode(publish_every_type, sizeof(publish_every_type), &pkt, &copy);
        assert_int_equal(r, (ssize_t)sizeof(publish_every_type));
        assert_int_equal(pkt.type, MQL_PUBLISH);
        assert_int_equal(pkt.publish.qos, 1);
        assert_false(pkt.publish.retain);
        assert_false(pkt.publish.dup);
        assert_int_equal(pkt.publish.packet_id, 0x1234);
        assert_true(view_is(pkt.publish.topic.ptr, pkt.publish.topic.len, "a/b", 3));
        assert_true(view_is(pkt.publish.payload.ptr, pkt.publish.payload.len, "pay", 3));

        /* The decoder fills raw only, a view into the input. */
        assert_null(pkt.publish.props.list);
        assert_int_equal(pkt.publish.props.count, 0);
        assert_true(pkt.publish.props.raw == copy + 2 + 5 + 2 + 1);
        assert_int_equal(pkt.publish.props.raw_len, publish_every_type[2 + 5 + 2]);

        check_inside(&pkt.publish.props, copy, sizeof(publish_every_type));
        walk_expect(&pkt.publish.props, publish_every_type_want, ELEMS(publish_every_type_want));
        free(copy);
}

/* CONNACK carries the most properties; all of them at once. */
static const uint8_t connack_all[] =
        PACKET(0x20, 0x01, 0x00,
               PROPS(0x11, 0x00, 0x00, 0x0E, 0x10, /* Session Expiry Interval 3600 */
                     0x21, 0x00, 0x0A,             /* Receive Maximum 10 */
                     0x24, 0x01,                   /* Maximum QoS 1 */
                     0x25, 0x00,                   /* Retain Available 0 */
                     0x27, 0x00, 0x01, 0x00, 0x00, /* Maximum Packet Size 65536 */
                     0x12, S('i', 'd'),            /* Assigned Client Identifier */
                     0x22, 0x00, 0x05,             /* Topic Alias Maximum 5 */
                     0x1F, S('o', 'k'),            /* Reason String */
                     0x26, S('a'), S('b'),         /* User Property */
                     0x28, 0x01,                   /* Wildcard Subscription Available */
                     0x29, 0x00,                   /* Subscription Identifier Available */
                     0x2A, 0x01,                   /* Shared Subscription Available */
                     0x13, 0x00, 0x3C,             /* Server Keep Alive 60 */
                     0x1A, S('r', 'i'),            /* Response Information */
                     0x1C, S('s', 'r'),            /* Server Reference */
                     0x15, S('m'),                 /* Authentication Method */
                     0x16, S(0x01, 0x02)));        /* Authentication Data */

static const struct want_prop connack_all_want[] = {
        W_INT(0x11, 3600),       W_INT(0x21, 10),   W_INT(0x24, 1),    W_INT(0x25, 0),
        W_INT(0x27, 65536),      W_STR(0x12, "id"), W_INT(0x22, 5),    W_STR(0x1F, "ok"),
        W_PAIR(0x26, "a", "b"),  W_INT(0x28, 1),    W_INT(0x29, 0),    W_INT(0x2A, 1),
        W_INT(0x13, 60),         W_STR(0x1A, "ri"), W_STR(0x1C, "sr"), W_STR(0x15, "m"),
        W_STR(0x16, "\x01\x02"),
};

static void test_iter_connack(void **state) {
        struct mql_packet pkt;
        uint8_t *copy;

        (void)state;
        assert_int_equal(decode(connack_all, sizeof(connack_all), &pkt, &copy),
                         (ssize_t)sizeof(connack_all));
        assert_int_equal(pkt.type, MQL_CONNACK);
        assert_true(pkt.connack.session_present);
        assert_int_equal(pkt.connack.reason_code, 0);
        check_inside(&pkt.connack.props, copy, sizeof(connack_all));
        walk_expect(&pkt.connack.props, connack_all_want, ELEMS(connack_all_want));
        free(copy);
}

/* CONNECT has two blocks; each walks on its own. */
static const uint8_t connect_two_blocks[] =
        PACKET(0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xC6, 0x00, 0x1E,
               PROPS(0x11, 0x00, 0x00, 0x00, 0x78, /* Session Expiry Interval */
                     0x17, 0x00,                   /* Request Problem Information */
                     0x19, 0x01,                   /* Request Response Information */
                     0x26, S('c'), S('1')),
               S('c', 'i', 'd'),
               PROPS(0x18, 0x00, 0x00, 0x00, 0x0A, /* Will Delay Interval */
                     0x01, 0x00,                   /* Payload Format Indicator */
                     0x26, S('w'), S('2')),
               S('w', '/', 't'), S(0x00, 0x01), S('u'), S('p', 'w'));

static const struct want_prop connect_props_want[] = {
        W_INT(0x11, 120),
        W_INT(0x17, 0),
        W_INT(0x19, 1),
        W_PAIR(0x26, "c", "1"),
};
static const struct want_prop connect_will_want[] = {
        W_INT(0x18, 10),
        W_INT(0x01, 0),
        W_PAIR(0x26, "w", "2"),
};

static void test_iter_connect(void **state) {
        struct mql_packet pkt;
        uint8_t *copy;
        struct mql_prop p;

        (void)state;
        assert_int_equal(decode(connect_two_blocks, sizeof(connect_two_blocks), &pkt, &copy),
                         (ssize_t)sizeof(connect_two_blocks));
        assert_int_equal(pkt.type, MQL_CONNECT);
        assert_int_equal(pkt.connect.version, MQL_V5);
        assert_true(pkt.connect.will);
        assert_int_equal(pkt.connect.keepalive, 30);
        check_inside(&pkt.connect.props, copy, sizeof(connect_two_blocks));
        check_inside(&pkt.connect.will_props, copy, sizeof(connect_two_blocks));
        walk_expect(&pkt.connect.props, connect_props_want, ELEMS(connect_props_want));
        walk_expect(&pkt.connect.will_props, connect_will_want, ELEMS(connect_will_want));
        assert_true(view_is(pkt.connect.client_id.ptr, pkt.connect.client_id.len, "cid", 3));
        assert_true(view_is(pkt.connect.will_topic.ptr, pkt.connect.will_topic.len, "w/t", 3));
        /* Find looks in one block only. */
        assert_int_equal(mql_props_find(&pkt.connect.props, MQL_PROP_WILL_DELAY_INTERVAL, &p), 0);
        assert_int_equal(mql_props_find(&pkt.connect.will_props, MQL_PROP_WILL_DELAY_INTERVAL, &p),
                         1);
        assert_int_equal(p.u32, 10);
        free(copy);
}

/* Blocks of every other packet that has one. */
static void test_iter_other_packets(void **state) {
        static const uint8_t puback[] =
                PACKET(0x40, 0x00, 0x01, 0x10, PROPS(0x1F, S('r'), 0x26, S('k'), S('v')));
        static const uint8_t subscribe[] =
                PACKET(0x82, 0x00, 0x02, PROPS(0x0B, 0x96, 0x01, 0x26, S('k'), S('v')),
                       S('a', '/', '#'), 0x01);
        static const uint8_t unsuback[] = PACKET(0xB0, 0x00, 0x03, PROPS(0x1F, S('x')), 0x00, 0x11);
        static const uint8_t disconnect[] = PACKET(
                0xE0, 0x9C, PROPS(0x11, 0x00, 0x00, 0x00, 0x00, 0x1C, S('h', 'o', 's', 't')));
        static const uint8_t auth[] =
                PACKET(0xF0, 0x19, PROPS(0x15, S('S', 'C', 'R', 'A', 'M'), 0x16, S(0x00, 0x01)));
        static const struct want_prop puback_want[] = { W_STR(0x1F, "r"), W_PAIR(0x26, "k", "v") };
        static const struct want_prop subscribe_want[] = { W_INT(0x0B, 150),
                                                           W_PAIR(0x26, "k", "v") };
        static const struct want_prop unsuback_want[] = { W_STR(0x1F, "x") };
        static const struct want_prop disconnect_want[] = { W_INT(0x11, 0), W_STR(0x1C, "host") };
        static const struct want_prop auth_want[] = { W_STR(0x15, "SCRAM"),
                                                      W_STR(0x16, "\x00\x01") };
        struct mql_packet pkt;
        uint8_t *copy;

        (void)state;
        assert_int_equal(decode(puback, sizeof(puback), &pkt, &copy), (ssize_t)sizeof(puback));
        assert_int_equal(pkt.ack.reason_code, 0x10);
        walk_expect(&pkt.ack.props, puback_want, ELEMS(puback_want));
        free(copy);

        assert_int_equal(decode(subscribe, sizeof(subscribe), &pkt, &copy),
                         (ssize_t)sizeof(subscribe));
        walk_expect(&pkt.subscribe.props, subscribe_want, ELEMS(subscribe_want));
        free(copy);

        assert_int_equal(decode(unsuback, sizeof(unsuback), &pkt, &copy),
                         (ssize_t)sizeof(unsuback));
        walk_expect(&pkt.suback.props, unsuback_want, ELEMS(unsuback_want));
        assert_int_equal(pkt.suback.reasons.len, 2);
        free(copy);

        assert_int_equal(decode(disconnect, sizeof(disconnect), &pkt, &copy),
                         (ssize_t)sizeof(disconnect));
        assert_int_equal(pkt.disconnect.reason_code, 0x9C);
        walk_expect(&pkt.disconnect.props, disconnect_want, ELEMS(disconnect_want));
        free(copy);

        assert_int_equal(decode(auth, sizeof(auth), &pkt, &copy), (ssize_t)sizeof(auth));
        assert_int_equal(pkt.type, MQL_AUTH);
        assert_int_equal(pkt.auth.reason_code, 0x19);
        walk_expect(&pkt.auth.props, auth_want, ELEMS(auth_want));
        free(copy);
}

/* ---- Every property on every packet, through the decoder ---------------- */

/* The containers a property block lives in. */
struct container {
        enum mql_packet_type type;
        bool will;
};

static const struct container containers[] = {
        { MQL_CONNECT, false },    { MQL_CONNECT, true },      { MQL_CONNACK, false },
        { MQL_PUBLISH, false },    { MQL_PUBACK, false },      { MQL_PUBREC, false },
        { MQL_PUBREL, false },     { MQL_PUBCOMP, false },     { MQL_SUBSCRIBE, false },
        { MQL_SUBACK, false },     { MQL_UNSUBSCRIBE, false }, { MQL_UNSUBACK, false },
        { MQL_DISCONNECT, false }, { MQL_AUTH, false },
};

/* A value in range for every property of the type. */
static size_t put_sample(uint8_t *b, unsigned id) {
        switch (mql_prop_type(id)) {
        case MQL_PROP_TYPE_BYTE:
                b[0] = 0x01;
                return 1;
        case MQL_PROP_TYPE_U16:
                b[0] = 0x01, b[1] = 0x02;
                return 2;
        case MQL_PROP_TYPE_U32:
                b[0] = 0x01, b[1] = 0x02, b[2] = 0x03, b[3] = 0x04;
                return 4;
        case MQL_PROP_TYPE_VARINT:
                b[0] = 0xAC, b[1] = 0x02; /* 300 */
                return 2;
        case MQL_PROP_TYPE_STRING:
                memcpy(b, "\x00\x03s/t", 5);
                return 5;
        case MQL_PROP_TYPE_BINARY:
                memcpy(b, "\x00\x02\x00\xFF", 4);
                return 4;
        case MQL_PROP_TYPE_STRING_PAIR:
                memcpy(b, "\x00\x01k\x00\x01v", 6);
                return 6;
        default:
                /* An unknown id: a byte the decoder cannot make sense of. */
                b[0] = 0x00;
                return 1;
        }
}

static const struct want_prop *sample_want(unsigned id) {
        static const struct want_prop w[] = {
                W_INT(0, 1),     W_INT(0, 0x0102),     W_INT(0, 0x01020304), W_INT(0, 300),
                W_STR(0, "s/t"), W_STR(0, "\x00\xFF"), W_PAIR(0, "k", "v"),
        };
        switch (mql_prop_type(id)) {
        case MQL_PROP_TYPE_BYTE:
                return &w[0];
        case MQL_PROP_TYPE_U16:
                return &w[1];
        case MQL_PROP_TYPE_U32:
                return &w[2];
        case MQL_PROP_TYPE_VARINT:
                return &w[3];
        case MQL_PROP_TYPE_STRING:
                return &w[4];
        case MQL_PROP_TYPE_BINARY:
                return &w[5];
        default:
                return &w[6];
        }
}

static void put_str(uint8_t *b, size_t *n, const char *s) {
        size_t l = strlen(s);
        b[(*n)++] = 0;
        b[(*n)++] = (uint8_t)l;
        memcpy(b + *n, s, l);
        *n += l;
}

/* A v5 packet of the container's kind whose only properties are
 * props[0..plen), all else minimal. Returns its length. */
static size_t build(uint8_t *out, const struct container *c, const uint8_t *props, size_t plen) {
        uint8_t body[128];
        size_t n = 0;

        assert_true(plen < 64);
#define PROPBLOCK()                            \
        do {                                   \
                body[n++] = (uint8_t)plen;     \
                memcpy(body + n, props, plen); \
                n += plen;                     \
        } while (0)
        switch (c->type) {
        case MQL_CONNECT:
                memcpy(body, "\x00\x04MQTT\x05", 7);
                n = 7;
                body[n++] = c->will ? 0x06 : 0x02;
                body[n++] = 0x00, body[n++] = 0x3C;
                if (c->will) {
                        body[n++] = 0x00;
                        put_str(body, &n, "c");
                        PROPBLOCK();
                        put_str(body, &n, "w");
                        put_str(body, &n, "p");
                } else {
                        PROPBLOCK();
                        put_str(body, &n, "c");
                }
                break;
        case MQL_CONNACK:
                body[n++] = 0x00, body[n++] = 0x00;
                PROPBLOCK();
                break;
        case MQL_PUBLISH:
                put_str(body, &n, "t");
                PROPBLOCK();
                body[n++] = 'x';
                break;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                body[n++] = 0x00, body[n++] = 0x01, body[n++] = 0x00;
                PROPBLOCK();
                break;
        case MQL_SUBSCRIBE:
                body[n++] = 0x00, body[n++] = 0x01;
                PROPBLOCK();
                put_str(body, &n, "f");
                body[n++] = 0x00;
                break;
        case MQL_UNSUBSCRIBE:
                body[n++] = 0x00, body[n++] = 0x01;
                PROPBLOCK();
                put_str(body, &n, "f");
                break;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                body[n++] = 0x00, body[n++] = 0x01;
                PROPBLOCK();
                body[n++] = 0x00;
                break;
        case MQL_DISCONNECT:
                body[n++] = 0x00;
                PROPBLOCK();
                break;
        case MQL_AUTH:
                body[n++] = 0x18;
                PROPBLOCK();
                break;
        default:
                fail();
        }
#undef PROPBLOCK
        assert_true(n < 128);
        out[0] = (uint8_t)(c->type << 4 | (c->type == MQL_PUBREL || c->type == MQL_SUBSCRIBE ||
                                                           c->type == MQL_UNSUBSCRIBE
                                                   ? 2
                                                   : 0));
        out[1] = (uint8_t)n;
        memcpy(out + 2, body, n);
        return n + 2;
}

static const struct mql_props *container_props(const struct mql_packet *pkt,
                                               const struct container *c) {
        switch (c->type) {
        case MQL_CONNECT:
                return c->will ? &pkt->connect.will_props : &pkt->connect.props;
        case MQL_CONNACK:
                return &pkt->connack.props;
        case MQL_PUBLISH:
                return &pkt->publish.props;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                return &pkt->ack.props;
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                return &pkt->subscribe.props;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                return &pkt->suback.props;
        case MQL_DISCONNECT:
                return &pkt->disconnect.props;
        case MQL_AUTH:
                return &pkt->auth.props;
        default:
                return NULL;
        }
}

/*
 * For each container and each id 0..255: a packet with that one property
 * (Authentication Data comes after an Authentication Method, which the spec
 * requires, §3.1.2.11.10) decodes when §2.2.2.2 allows it, with the value
 * walked back out, and is -EBADMSG when not (docs/codec-rules.md).
 */
static void test_every_prop_on_every_packet(void **state) {
        unsigned bad = 0;

        (void)state;
        for (size_t ci = 0; ci < ELEMS(containers); ci++) {
                const struct container *c = &containers[ci];
                for (unsigned id = 0; id < 256; id++) {
                        uint8_t props[32], pkt_bytes[160];
                        size_t plen = 0, len;
                        bool allowed = spec_allowed(id, c->type, c->will);
                        bool with_method = id == MQL_PROP_AUTHENTICATION_DATA && allowed;
                        struct mql_packet pkt;
                        uint8_t *copy;
                        ssize_t r;

                        if (with_method) {
                                props[plen++] = MQL_PROP_AUTHENTICATION_METHOD;
                                put_str(props, &plen, "m");
                        }
                        props[plen++] = (uint8_t)id;
                        plen += put_sample(props + plen, id);
                        len = build(pkt_bytes, c, props, plen);

                        r = decode(pkt_bytes, len, &pkt, &copy);
                        if (allowed && r != (ssize_t)len) {
                                print_message("# 0x%02X on %s%s: decode gave %zd, want %zu\n", id,
                                              type_name(c->type), c->will ? " will" : "", r, len);
                                bad++;
                        } else if (!allowed && r != -EBADMSG) {
                                print_message("# 0x%02X on %s%s: decode gave %zd, want -EBADMSG\n",
                                              id, type_name(c->type), c->will ? " will" : "", r);
                                bad++;
                        } else if (allowed) {
                                const struct mql_props *pp = container_props(&pkt, c);
                                struct want_prop w = *sample_want(id);
                                struct mql_prop_iter it;
                                struct mql_prop p;
                                w.id = id;
                                mql_prop_iter_init(&it, pp);
                                if (with_method)
                                        assert_int_equal(mql_prop_iter_next(&it, &p), 1);
                                assert_int_equal(mql_prop_iter_next(&it, &p), 1);
                                check_prop(&p, &w, 0);
                                assert_int_equal(mql_prop_iter_next(&it, &p), 0);
                        }
                        free(copy);
                }
        }
        assert_int_equal(bad, 0);
}

/* ---- Containers with a list, and find ------------------------------------- */

static const uint8_t publish_repeats[] =
        PACKET(0x30, S('t'),
               PROPS(0x26, S('k', '1'), S('v', '1'), 0x0B, 0x07, 0x26, S('k', '2'), S('v', '2'),
                     0x0B, 0x09, 0x01, 0x01),
               'x');

static void test_iter_raw_then_list(void **state) {
        struct mql_packet pkt;
        uint8_t *copy;
        struct mql_prop list[3];

        (void)state;
        assert_int_equal(decode(publish_repeats, sizeof(publish_repeats), &pkt, &copy),
                         (ssize_t)sizeof(publish_repeats));

        memset(list, 0, sizeof(list));
        list[0].id = MQL_PROP_CONTENT_TYPE;
        list[0].str = mql_str_from("text/plain");
        list[1].id = MQL_PROP_USER_PROPERTY;
        list[1].pair.key = mql_str_from("k3");
        list[1].pair.value = mql_str_from("v3");
        list[2].id = MQL_PROP_MESSAGE_EXPIRY_INTERVAL;
        list[2].u32 = 42;

        struct mql_props both = {
                .raw = pkt.publish.props.raw,
                .raw_len = pkt.publish.props.raw_len,
                .list = list,
                .count = ELEMS(list),
        };
        static const struct want_prop want[] = {
                W_PAIR(0x26, "k1", "v1"), W_INT(0x0B, 7),  W_PAIR(0x26, "k2", "v2"),
                W_INT(0x0B, 9),           W_INT(0x01, 1),  W_STR(0x03, "text/plain"),
                W_PAIR(0x26, "k3", "v3"), W_INT(0x02, 42),
        };
        walk_expect(&both, want, ELEMS(want));

        /* The list alone. */
        struct mql_props only_list = { .list = list, .count = ELEMS(list) };
        walk_expect(&only_list, want + 5, 3);

        /* Nothing at all. */
        struct mql_props none = { 0 };
        walk_expect(&none, NULL, 0);
        struct mql_props empty_raw = { .raw = copy, .raw_len = 0 };
        walk_expect(&empty_raw, NULL, 0);

        free(copy);
}

static void test_props_find(void **state) {
        struct mql_packet pkt;
        uint8_t *copy;
        struct mql_prop list[2], p, before;

        (void)state;
        assert_int_equal(decode(publish_repeats, sizeof(publish_repeats), &pkt, &copy),
                         (ssize_t)sizeof(publish_repeats));

        memset(list, 0, sizeof(list));
        list[0].id = MQL_PROP_CONTENT_TYPE;
        list[0].str = mql_str_from("ct");
        list[1].id = MQL_PROP_SUBSCRIPTION_IDENTIFIER;
        list[1].u32 = 99;
        struct mql_props both = {
                .raw = pkt.publish.props.raw,
                .raw_len = pkt.publish.props.raw_len,
                .list = list,
                .count = ELEMS(list),
        };

        /* The first of repeated ones, from raw. */
        assert_int_equal(mql_props_find(&pkt.publish.props, MQL_PROP_USER_PROPERTY, &p), 1);
        assert_int_equal(p.id, MQL_PROP_USER_PROPERTY);
        assert_true(view_is(p.pair.key.ptr, p.pair.key.len, "k1", 2));
        assert_true(view_is(p.pair.value.ptr, p.pair.value.len, "v1", 2));
        assert_int_equal(mql_props_find(&pkt.publish.props, MQL_PROP_SUBSCRIPTION_IDENTIFIER, &p),
                         1);
        assert_int_equal(p.u32, 7);
        assert_int_equal(mql_props_find(&pkt.publish.props, MQL_PROP_PAYLOAD_FORMAT_INDICATOR, &p),
                         1);
        assert_int_equal(p.u32, 1);

        /* Raw comes before the list, also for find. */
        assert_int_equal(mql_props_find(&both, MQL_PROP_SUBSCRIPTION_IDENTIFIER, &p), 1);
        assert_int_equal(p.u32, 7);
        /* Only in the list. */
        assert_int_equal(mql_props_find(&both, MQL_PROP_CONTENT_TYPE, &p), 1);
        assert_true(view_is(p.str.ptr, p.str.len, "ct", 2));
        struct mql_props only_list = { .list = list, .count = ELEMS(list) };
        assert_int_equal(mql_props_find(&only_list, MQL_PROP_SUBSCRIPTION_IDENTIFIER, &p), 1);
        assert_int_equal(p.u32, 99);

        /* Absent: 0, and *ret as it was (output written only on success). */
        memset(&p, 0x5A, sizeof(p));
        memcpy(&before, &p, sizeof(p));
        assert_int_equal(mql_props_find(&both, MQL_PROP_TOPIC_ALIAS, &p), 0);
        assert_int_equal(mql_props_find(&pkt.publish.props, MQL_PROP_CONTENT_TYPE, &p), 0);
        assert_int_equal(mql_props_find(&only_list, MQL_PROP_USER_PROPERTY, &p), 0);
        struct mql_props none = { 0 };
        assert_int_equal(mql_props_find(&none, MQL_PROP_USER_PROPERTY, &p), 0);
        assert_memory_equal(&p, &before, sizeof(p));

        free(copy);
}

/* ---- The filter iterator --------------------------------------------------- */

static void test_filter_iter(void **state) {
        static const uint8_t subscribe[] =
                PACKET(0x82, 0x00, 0x05, 0x00, S('a', '/', '+'), 0x2E, /* RH 2, RAP, NL, QoS 2 */
                       S('#'), 0x11,                                   /* RH 1, QoS 1 */
                       S('x'), 0x08);                                  /* RAP, QoS 0 */
        static const uint8_t unsubscribe[] =
                PACKET(0xA2, 0x00, 0x06, 0x00, S('a', '/', '+'), S('b'));
        struct mql_packet pkt;
        struct mql_filter_iter it;
        struct mql_subscription s, list[2];
        uint8_t *copy;

        (void)state;
        assert_int_equal(decode(subscribe, sizeof(subscribe), &pkt, &copy),
                         (ssize_t)sizeof(subscribe));
        assert_null(pkt.subscribe.filters.list);
        assert_int_equal(pkt.subscribe.filters.count, 0);
        assert_true(pkt.subscribe.filters.raw == copy + 2 + 2 + 1);
        assert_int_equal(pkt.subscribe.filters.raw_len, sizeof(subscribe) - 5);

        memset(list, 0, sizeof(list));
        list[0].filter = mql_str_from("l/1");
        list[0].qos = 1;
        list[0].retain_handling = 1;
        list[1].filter = mql_str_from("l/2");
        list[1].no_local = true;
        struct mql_filters both = pkt.subscribe.filters;
        both.list = list;
        both.count = ELEMS(list);

        mql_filter_iter_init(&it, &both, MQL_SUBSCRIBE);
        assert_int_equal(mql_filter_iter_next(&it, &s), 1);
        assert_true(view_is(s.filter.ptr, s.filter.len, "a/+", 3));
        assert_int_equal(s.qos, 2);
        assert_true(s.no_local);
        assert_true(s.retain_as_published);
        assert_int_equal(s.retain_handling, 2);
        assert_int_equal(mql_filter_iter_next(&it, &s), 1);
        assert_true(view_is(s.filter.ptr, s.filter.len, "#", 1));
        assert_int_equal(s.qos, 1);
        assert_false(s.no_local);
        assert_false(s.retain_as_published);
        assert_int_equal(s.retain_handling, 1);
        assert_int_equal(mql_filter_iter_next(&it, &s), 1);
        assert_true(view_is(s.filter.ptr, s.filter.len, "x", 1));
        assert_int_equal(s.qos, 0);
        assert_true(s.retain_as_published);
        /* Raw first, then the list. */
        assert_int_equal(mql_filter_iter_next(&it, &s), 1);
        assert_true(view_is(s.filter.ptr, s.filter.len, "l/1", 3));
        assert_int_equal(s.qos, 1);
        assert_int_equal(s.retain_handling, 1);
        assert_int_equal(mql_filter_iter_next(&it, &s), 1);
        assert_true(view_is(s.filter.ptr, s.filter.len, "l/2", 3));
        assert_true(s.no_local);
        assert_int_equal(mql_filter_iter_next(&it, &s), 0);
        assert_int_equal(mql_filter_iter_next(&it, &s), 0);
        free(copy);

        /* UNSUBSCRIBE: no options byte between filters. */
        assert_int_equal(decode(unsubscribe, sizeof(unsubscribe), &pkt, &copy),
                         (ssize_t)sizeof(unsubscribe));
        mql_filter_iter_init(&it, &pkt.subscribe.filters, MQL_UNSUBSCRIBE);
        assert_int_equal(mql_filter_iter_next(&it, &s), 1);
        assert_true(view_is(s.filter.ptr, s.filter.len, "a/+", 3));
        assert_int_equal(mql_filter_iter_next(&it, &s), 1);
        assert_true(view_is(s.filter.ptr, s.filter.len, "b", 1));
        assert_int_equal(mql_filter_iter_next(&it, &s), 0);
        free(copy);

        /* Empty. */
        struct mql_filters none = { 0 };
        mql_filter_iter_init(&it, &none, MQL_SUBSCRIBE);
        assert_int_equal(mql_filter_iter_next(&it, &s), 0);
}

static void test_str_from(void **state) {
        struct mql_str s;

        (void)state;
        s = mql_str_from("abc");
        assert_int_equal(s.len, 3);
        assert_memory_equal(s.ptr, "abc", 3);
        s = mql_str_from("");
        assert_int_equal(s.len, 0);
        s = mql_str_from(NULL);
        assert_int_equal(s.len, 0);
        assert_null(s.ptr);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prop_type_and_name),
                cmocka_unit_test(test_prop_allowed),
                cmocka_unit_test(test_spec_tables_agree),
                cmocka_unit_test(test_reason_valid),
                cmocka_unit_test(test_reason_str),
                cmocka_unit_test(test_reason_str_for),
                cmocka_unit_test(test_every_reason_through_decoder),
                cmocka_unit_test(test_iter_every_type),
                cmocka_unit_test(test_iter_connack),
                cmocka_unit_test(test_iter_connect),
                cmocka_unit_test(test_iter_other_packets),
                cmocka_unit_test(test_every_prop_on_every_packet),
                cmocka_unit_test(test_iter_raw_then_list),
                cmocka_unit_test(test_props_find),
                cmocka_unit_test(test_filter_iter),
                cmocka_unit_test(test_str_from),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Malformed and protocol-violating packets, written out byte by byte, and the
 * exact value mql_packet_decode() must give for each (docs/codec-rules.md,
 * the error list at the top of packet.h). Every row also checks:
 *   - each strict prefix decodes to 0 ("need more") or to the row's error:
 *     the fixed header says how long the packet is, so a prefix can never be
 *     a whole packet, and must never be judged by a different rule;
 *   - the row followed by another packet gives the same answer: the decoder
 *     stops at the end the Remaining Length sets;
 *   - *ret is untouched unless the packet decodes (packet.h, design.md).
 * Every buffer is malloc'd to its exact size so ASan catches a read past it.
 *
 * Then mql_packet_frame(), and a garbage test: pseudo-random buffers, every
 * answer one of the documented ones, and every packet that decodes walks,
 * re-encodes and decodes again.
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

struct row {
        const char *name;
        enum mql_version version;
        ssize_t expect; /* OK, NEED or a negative errno */
        ssize_t alt;    /* a second acceptable error, or 0 for none */
        const uint8_t *bytes;
        size_t len;
};

#define V3 MQL_V311
#define V5 MQL_V5
#define OK 1   /* the whole row decodes: returns len */
#define NEED 0 /* the row is less than one packet */
#define BADMSG (-EBADMSG)
#define PROTO (-EPROTO)
#define NOSUP (-EPROTONOSUPPORT)

/* How many bytes a list has, as the one-byte length the wire carries. All
 * bodies here are below 128 bytes, so one varint byte is the whole length. */
#define LEN(...) (uint8_t)sizeof((const uint8_t[]){ __VA_ARGS__ })
#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* A row given byte by byte, Remaining Length written by hand. */
#define RAW(n, v, e, ...) \
        { n, v, e, 0, BYTES(__VA_ARGS__) }
/* A row whose Remaining Length is computed from the body. */
#define PKT(n, v, e, hdr, ...) RAW(n, v, e, hdr, LEN(__VA_ARGS__), __VA_ARGS__)
/* Same, with a second acceptable error. */
#define PKT2(n, v, e, alt, hdr, ...) \
        { n, v, e, alt, BYTES(hdr, LEN(__VA_ARGS__), __VA_ARGS__) }
/* A property block: its length, then the properties. */
#define PROPS(...) LEN(__VA_ARGS__), __VA_ARGS__
/* A UTF-8 string or binary field: two-byte length, then the bytes. */
#define S(...) 0x00, LEN(__VA_ARGS__), __VA_ARGS__
#define EMPTY 0x00, 0x00

/* CONNECT variable headers, keep alive 60 s. */
#define MQTT_NAME 0x00, 0x04, 'M', 'Q', 'T', 'T'
#define C311(flags) MQTT_NAME, 0x04, flags, 0x00, 0x3C
#define C5(flags) MQTT_NAME, 0x05, flags, 0x00, 0x3C

/* Ill-formed UTF-8 strings, with their length prefix (MQTT-1.5.4-1/2). */
#define U_OVERLONG 0x00, 0x02, 0xC0, 0xAF              /* overlong '/' */
#define U_OVERLONG4 0x00, 0x04, 0xF0, 0x8F, 0xBF, 0xBF /* overlong U+FFFF */
#define U_SURROGATE 0x00, 0x03, 0xED, 0xA0, 0x80       /* U+D800 */
#define U_SURROGATE_LO 0x00, 0x03, 0xED, 0xBF, 0xBF    /* U+DFFF */
#define U_NUL 0x00, 0x03, 'a', 0x00, 'b'               /* U+0000 */
#define U_CUT 0x00, 0x02, 0xE2, 0x82                   /* 3-byte char cut */
#define U_CUT_MID 0x00, 0x03, 0xE2, 0x82, 'a'          /* cut by ascii */
#define U_FF 0x00, 0x01, 0xFF                          /* never valid */
#define U_ABOVE 0x00, 0x04, 0xF4, 0x90, 0x80, 0x80     /* U+110000 */
#define U_CONT 0x00, 0x02, 'a', 0x80                   /* stray continuation */

/* clang-format off */
static const struct row rows[] = {
        /* ---- Fixed header: packet type (MQTT-2.1.2) -------------------- */
        RAW("type 0", V3, BADMSG, 0x00, 0x00),
        RAW("type 0", V5, BADMSG, 0x00, 0x00),
        RAW("type 0, flags 0xF, one body byte", V5, BADMSG, 0x0F, 0x01, 0x00),
        RAW("AUTH on a 3.1.1 connection", V3, BADMSG, 0xF0, 0x00),
        PKT("AUTH on a 3.1.1 connection, with reason", V3, BADMSG, 0xF0, 0x18, 0x00),
        RAW("AUTH remaining 0 (v5)", V5, OK, 0xF0, 0x00),

        /* ---- Fixed header: reserved flags (MQTT-2.1.3-1) ---------------- */
        PKT("CONNECT flags 0x1", V3, BADMSG, 0x11, C311(0x02), S('c')),
        PKT("CONNECT flags 0x8", V5, BADMSG, 0x18, C5(0x02), 0x00, S('c')),
        PKT("CONNACK flags 0x2", V3, BADMSG, 0x22, 0x00, 0x00),
        PKT("CONNACK flags 0x1", V5, BADMSG, 0x21, 0x00, 0x00, 0x00),
        PKT("PUBACK flags 0x1", V3, BADMSG, 0x41, 0x00, 0x01),
        PKT("PUBACK flags 0x2", V5, BADMSG, 0x42, 0x00, 0x01),
        PKT("PUBREC flags 0x8", V3, BADMSG, 0x58, 0x00, 0x01),
        PKT("PUBREC flags 0x2", V5, BADMSG, 0x52, 0x00, 0x01),
        PKT("PUBREL flags 0x0", V3, BADMSG, 0x60, 0x00, 0x01),
        PKT("PUBREL flags 0x0", V5, BADMSG, 0x60, 0x00, 0x01),
        PKT("PUBREL flags 0x3", V5, BADMSG, 0x63, 0x00, 0x01),
        PKT("PUBREL flags 0xA", V3, BADMSG, 0x6A, 0x00, 0x01),
        PKT("PUBCOMP flags 0x2", V3, BADMSG, 0x72, 0x00, 0x01),
        PKT("PUBCOMP flags 0x4", V5, BADMSG, 0x74, 0x00, 0x01),
        PKT("SUBSCRIBE flags 0x0", V3, BADMSG, 0x80, 0x00, 0x01, S('a'), 0x00),
        PKT("SUBSCRIBE flags 0x3", V5, BADMSG, 0x83, 0x00, 0x01, 0x00, S('a'), 0x00),
        PKT("SUBSCRIBE flags 0xA", V3, BADMSG, 0x8A, 0x00, 0x01, S('a'), 0x00),
        PKT("SUBACK flags 0x2", V3, BADMSG, 0x92, 0x00, 0x01, 0x00),
        PKT("SUBACK flags 0x1", V5, BADMSG, 0x91, 0x00, 0x01, 0x00, 0x00),
        PKT("UNSUBSCRIBE flags 0x0", V3, BADMSG, 0xA0, 0x00, 0x01, S('a')),
        PKT("UNSUBSCRIBE flags 0x6", V5, BADMSG, 0xA6, 0x00, 0x01, 0x00, S('a')),
        PKT("UNSUBACK flags 0x2", V3, BADMSG, 0xB2, 0x00, 0x01),
        PKT("UNSUBACK flags 0x1", V5, BADMSG, 0xB1, 0x00, 0x01, 0x00, 0x00),
        RAW("PINGREQ flags 0x1", V3, BADMSG, 0xC1, 0x00),
        RAW("PINGREQ flags 0x2", V5, BADMSG, 0xC2, 0x00),
        RAW("PINGRESP flags 0x8", V3, BADMSG, 0xD8, 0x00),
        RAW("PINGRESP flags 0xF", V5, BADMSG, 0xDF, 0x00),
        RAW("DISCONNECT flags 0x1", V3, BADMSG, 0xE1, 0x00),
        RAW("DISCONNECT flags 0x2", V5, BADMSG, 0xE2, 0x00),
        RAW("AUTH flags 0x1", V5, BADMSG, 0xF1, 0x00),
        PKT("AUTH flags 0x8, with reason", V5, BADMSG, 0xF8, 0x18, 0x00),

        /* ---- PUBLISH flags (MQTT-3.3.1-4, MQTT-3.3.1-2) ----------------- */
        PKT("PUBLISH QoS 3", V3, BADMSG, 0x36, S('a'), 0x00, 0x01),
        PKT("PUBLISH QoS 3", V5, BADMSG, 0x36, S('a'), 0x00, 0x01, 0x00),
        PKT("PUBLISH QoS 3, retain", V3, BADMSG, 0x37, S('a'), 0x00, 0x01),
        PKT("PUBLISH QoS 3, DUP, retain", V5, BADMSG, 0x3F, S('a'), 0x00, 0x01, 0x00),
        PKT("PUBLISH DUP with QoS 0", V3, PROTO, 0x38, S('a')),
        PKT("PUBLISH DUP with QoS 0", V5, PROTO, 0x38, S('a'), 0x00),
        PKT("PUBLISH DUP with QoS 0, retain", V5, PROTO, 0x39, S('a'), 0x00, 'x'),
        PKT("PUBLISH DUP with QoS 1", V3, OK, 0x3A, S('a'), 0x00, 0x01),
        PKT("PUBLISH DUP QoS 2 retain", V5, OK, 0x3D, S('a'), 0x00, 0x01, 0x00, 'x'),

        /* ---- Remaining Length (MQTT 1.5.5, MQTT-1.5.5-1) ----------------- */
        RAW("RL 5 bytes", V3, BADMSG, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F),
        RAW("RL 5 bytes, smallest", V5, BADMSG, 0x30, 0x80, 0x80, 0x80, 0x80, 0x01),
        RAW("RL 4 continuation bytes", V3, BADMSG, 0xC0, 0x80, 0x80, 0x80, 0x80),
        RAW("RL overlong 80 00", V3, BADMSG, 0xC0, 0x80, 0x00),
        RAW("RL overlong 80 00, PUBLISH", V5, BADMSG, 0x30, 0x80, 0x00),
        RAW("RL overlong FF 80 00", V3, BADMSG, 0x30, 0xFF, 0x80, 0x00),
        RAW("RL overlong 80 80 00", V5, BADMSG, 0x30, 0x80, 0x80, 0x00),
        RAW("RL overlong 80 80 80 00", V3, BADMSG, 0x30, 0x80, 0x80, 0x80, 0x00),
        RAW("RL overlong 83 00, body present", V3, BADMSG, 0x30, 0x83, 0x00, S('a')),
        RAW("RL overlong 82 00, PUBACK body present", V5, BADMSG, 0x40, 0x82, 0x00, 0x00, 0x01),
        RAW("RL overlong FF 80 80 00", V5, BADMSG, 0x30, 0xFF, 0x80, 0x80, 0x00),
        RAW("RL missing (type byte only)", V3, NEED, 0x30),
        RAW("RL varint cut 80", V5, NEED, 0x30, 0x80),
        RAW("RL varint cut FF FF FF", V3, NEED, 0x30, 0xFF, 0xFF, 0xFF),
        RAW("RL maximum, body absent", V5, NEED, 0x30, 0xFF, 0xFF, 0xFF, 0x7F),
        RAW("RL 2 bytes, body short", V3, NEED, 0x30, 0x80, 0x01, S('a')),

        /* ---- Fields running past the packet's end ------------------------ */
        RAW("PUBLISH remaining 0", V3, BADMSG, 0x30, 0x00),
        RAW("PUBLISH remaining 0", V5, BADMSG, 0x30, 0x00),
        RAW("PUBLISH topic length cut", V3, BADMSG, 0x30, 0x01, 0x00),
        RAW("PUBLISH topic longer than packet", V3, BADMSG, 0x30, 0x03, 0x00, 0x05, 'a'),
        RAW("PUBLISH topic longer than packet", V5, BADMSG, 0x30, 0x04, 0x00, 0x03, 'a', 'b'),
        PKT("PUBLISH QoS 1 packet id missing", V3, BADMSG, 0x32, S('a')),
        PKT("PUBLISH QoS 2 packet id cut", V3, BADMSG, 0x34, S('a'), 0x00),
        PKT("PUBLISH QoS 1 packet id cut", V5, BADMSG, 0x32, S('a'), 0x00),
        PKT("PUBLISH property length missing", V5, BADMSG, 0x30, S('a')),
        PKT("PUBLISH QoS 1 property length missing", V5, BADMSG, 0x32, S('a'), 0x00, 0x01),
        PKT("PUBLISH property length past end", V5, BADMSG, 0x30, S('a'), 0x05, 0x01, 0x01),
        PKT("PUBLISH property length varint cut", V5, BADMSG, 0x30, S('a'), 0x80),
        PKT("PUBLISH property length overlong", V5, BADMSG, 0x30, S('a'), 0x80, 0x00),
        PKT("PUBLISH property length 5-byte varint", V5, BADMSG, 0x30, S('a'), 0x81, 0x80, 0x80, 0x80, 0x01),
        PKT("property id without value", V5, BADMSG, 0x30, S('a'), PROPS(0x01)),
        PKT("Message Expiry Interval cut", V5, BADMSG, 0x30, S('a'), PROPS(0x02, 0x00, 0x00)),
        PKT("Topic Alias cut", V5, BADMSG, 0x30, S('a'), PROPS(0x23, 0x00)),
        PKT("Content Type longer than block", V5, BADMSG, 0x30, S('a'), PROPS(0x03, 0x00, 0x05, 'x')),
        PKT("Content Type length cut", V5, BADMSG, 0x30, S('a'), PROPS(0x03, 0x00)),
        PKT("Correlation Data cut", V5, BADMSG, 0x30, S('a'), PROPS(0x09, 0x00, 0x04, 0x01)),
        PKT("User Property value cut", V5, BADMSG, 0x30, S('a'), PROPS(0x26, S('k'), 0x00, 0x02, 'v')),
        PKT("User Property value missing", V5, BADMSG, 0x30, S('a'), PROPS(0x26, S('k'))),
        PKT("Subscription Identifier varint cut", V5, BADMSG, 0x30, S('a'), PROPS(0x0B, 0x80)),
        PKT("Subscription Identifier overlong", V5, BADMSG, 0x30, S('a'), PROPS(0x0B, 0x81, 0x00)),
        PKT("Subscription Identifier 5 bytes", V5, BADMSG, 0x82, 0x00, 0x01, PROPS(0x0B, 0x81, 0x80, 0x80, 0x80, 0x01), S('a'), 0x00),
        PKT("property value runs out of block into payload", V5, BADMSG, 0x30, S('a'), PROPS(0x02, 0x00), 0x00, 0x00),
        PKT("CONNECT Session Expiry cut", V5, BADMSG, 0x10, C5(0x02), PROPS(0x11, 0x00, 0x00, 0x00), S('c')),
        RAW("PUBACK remaining 1", V3, BADMSG, 0x40, 0x01, 0x00),
        RAW("PUBACK remaining 1", V5, BADMSG, 0x40, 0x01, 0x00),
        RAW("PUBACK remaining 0", V3, BADMSG, 0x40, 0x00),
        RAW("PUBACK remaining 0", V5, BADMSG, 0x40, 0x00),
        RAW("PUBREL remaining 0", V5, BADMSG, 0x62, 0x00),
        RAW("PUBCOMP remaining 1", V3, BADMSG, 0x70, 0x01, 0x01),
        PKT("PUBACK property length past end", V5, BADMSG, 0x40, 0x00, 0x01, 0x00, 0x03, 0x1F),
        PKT("PUBACK Reason String cut", V5, BADMSG, 0x40, 0x00, 0x01, 0x00, PROPS(0x1F, 0x00, 0x04, 'r')),
        PKT("CONNECT protocol name cut", V3, BADMSG, 0x10, 0x00, 0x04, 'M', 'Q'),
        PKT("CONNECT protocol level missing", V3, BADMSG, 0x10, MQTT_NAME),
        PKT("CONNECT flags missing", V3, BADMSG, 0x10, MQTT_NAME, 0x04),
        PKT("CONNECT keep alive cut", V3, BADMSG, 0x10, MQTT_NAME, 0x04, 0x02, 0x00),
        PKT("CONNECT client id missing", V3, BADMSG, 0x10, C311(0x02)),
        PKT("CONNECT client id cut", V3, BADMSG, 0x10, C311(0x02), 0x00, 0x03, 'c'),
        PKT("CONNECT property length missing", V5, BADMSG, 0x10, C5(0x02)),
        PKT("CONNECT client id missing", V5, BADMSG, 0x10, C5(0x02), 0x00),
        PKT("CONNECT property block past end", V5, BADMSG, 0x10, C5(0x02), 0x07, 0x11, 0x00),
        PKT("CONNECT will topic missing", V3, BADMSG, 0x10, C311(0x06), S('c')),
        PKT("CONNECT will payload missing", V3, BADMSG, 0x10, C311(0x06), S('c'), S('w')),
        PKT("CONNECT will payload cut", V3, BADMSG, 0x10, C311(0x06), S('c'), S('w'), 0x00, 0x05, 'p'),
        PKT("CONNECT will properties missing", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c')),
        PKT("CONNECT will property length past end", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), 0x09, S('w'), S('p')),
        PKT("CONNECT user name missing", V3, BADMSG, 0x10, C311(0x82), S('c')),
        PKT("CONNECT password missing", V3, BADMSG, 0x10, C311(0xC2), S('c'), S('u')),
        PKT("CONNECT password cut", V5, BADMSG, 0x10, C5(0xC2), 0x00, S('c'), S('u'), 0x00, 0x02, 'p'),
        RAW("CONNACK remaining 1", V3, BADMSG, 0x20, 0x01, 0x00),
        RAW("CONNACK remaining 0", V5, BADMSG, 0x20, 0x00),
        PKT("CONNACK property length missing", V5, BADMSG, 0x20, 0x00, 0x00),
        PKT("CONNACK Receive Maximum cut", V5, BADMSG, 0x20, 0x00, 0x00, PROPS(0x21, 0x00)),
        PKT("SUBSCRIBE options missing", V3, BADMSG, 0x82, 0x00, 0x01, S('a')),
        PKT("SUBSCRIBE options missing", V5, BADMSG, 0x82, 0x00, 0x01, 0x00, S('a')),
        PKT("SUBSCRIBE filter longer than packet", V3, BADMSG, 0x82, 0x00, 0x01, 0x00, 0x05, 'a', 0x00),
        PKT("SUBSCRIBE second filter length cut", V5, BADMSG, 0x82, 0x00, 0x01, 0x00, S('a'), 0x00, 0x00),
        PKT("SUBSCRIBE second options missing", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x00, S('b')),
        PKT("SUBSCRIBE packet id cut", V3, BADMSG, 0x82, 0x00),
        PKT("SUBSCRIBE property length missing", V5, BADMSG, 0x82, 0x00, 0x01),
        PKT("UNSUBSCRIBE filter length cut", V3, BADMSG, 0xA2, 0x00, 0x01, 0x00),
        PKT("UNSUBSCRIBE filter longer than packet", V5, BADMSG, 0xA2, 0x00, 0x01, 0x00, 0x00, 0x03, 'a'),
        PKT("UNSUBSCRIBE second filter cut", V3, BADMSG, 0xA2, 0x00, 0x01, S('a'), 0x00, 0x02, 'b'),
        PKT("SUBACK packet id cut", V3, BADMSG, 0x90, 0x00),
        PKT("SUBACK property length missing", V5, BADMSG, 0x90, 0x00, 0x01),
        PKT("SUBACK property block past end", V5, BADMSG, 0x90, 0x00, 0x01, 0x04, 0x00),
        RAW("UNSUBACK remaining 1", V3, BADMSG, 0xB0, 0x01, 0x00),
        PKT("UNSUBACK property length missing", V5, BADMSG, 0xB0, 0x00, 0x01),
        PKT("DISCONNECT property length past end", V5, BADMSG, 0xE0, 0x00, 0x05, 0x1F),
        PKT("DISCONNECT Reason String cut", V5, BADMSG, 0xE0, 0x00, PROPS(0x1F, 0x00, 0x09, 'r')),
        PKT("AUTH Authentication Method cut", V5, BADMSG, 0xF0, 0x18, PROPS(0x15, 0x00, 0x04, 'm')),
        PKT("AUTH property length past end", V5, BADMSG, 0xF0, 0x18, 0x02),

        /* ---- Bytes left over after the last field ------------------------ */
        RAW("PINGREQ remaining 1", V3, BADMSG, 0xC0, 0x01, 0x00),
        RAW("PINGREQ remaining 1", V5, BADMSG, 0xC0, 0x01, 0x00),
        RAW("PINGRESP remaining 2", V3, BADMSG, 0xD0, 0x02, 0x00, 0x00),
        RAW("PINGRESP remaining 1", V5, BADMSG, 0xD0, 0x01, 0x00),
        RAW("DISCONNECT remaining 1 (3.1.1)", V3, BADMSG, 0xE0, 0x01, 0x00),
        RAW("DISCONNECT remaining 2 (3.1.1)", V3, BADMSG, 0xE0, 0x02, 0x00, 0x00),
        PKT("PUBACK remaining 3 (3.1.1)", V3, BADMSG, 0x40, 0x00, 0x01, 0x00),
        PKT("PUBREC remaining 4 (3.1.1)", V3, BADMSG, 0x50, 0x00, 0x01, 0x00, 0x00),
        PKT("PUBREL remaining 3 (3.1.1)", V3, BADMSG, 0x62, 0x00, 0x01, 0x00),
        PKT("PUBCOMP remaining 3 (3.1.1)", V3, BADMSG, 0x70, 0x00, 0x01, 0x92),
        PKT("UNSUBACK remaining 3 (3.1.1)", V3, BADMSG, 0xB0, 0x00, 0x01, 0x00),
        PKT("UNSUBACK remaining 4 (3.1.1)", V3, BADMSG, 0xB0, 0x00, 0x01, 0x00, 0x11),
        PKT("CONNACK remaining 3 (3.1.1)", V3, BADMSG, 0x20, 0x00, 0x00, 0x00),
        PKT("CONNECT byte after password", V3, BADMSG, 0x10, C311(0xC2), S('c'), S('u'), S('p'), 'x'),
        PKT("CONNECT byte after password", V5, BADMSG, 0x10, C5(0xC2), 0x00, S('c'), S('u'), S('p'), 'x'),
        PKT("CONNECT byte after client id", V3, BADMSG, 0x10, C311(0x02), S('c'), 0x00),
        PKT("CONNECT user name without its flag", V3, BADMSG, 0x10, C311(0x02), S('c'), S('u')),
        PKT("CONNECT byte after will payload", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), 0x00, S('w'), S('p'), 0x00),
        PKT("CONNECT byte after user name", V5, BADMSG, 0x10, C5(0x82), 0x00, S('c'), S('u'), 'x'),
        PKT("PUBACK byte after properties", V5, BADMSG, 0x40, 0x00, 0x01, 0x00, 0x00, 'x'),
        PKT("PUBCOMP byte after properties", V5, BADMSG, 0x70, 0x00, 0x01, 0x00, PROPS(0x1F, S('r')), 0x00),
        PKT("DISCONNECT byte after properties", V5, BADMSG, 0xE0, 0x00, 0x00, 0x00),
        PKT("AUTH byte after properties", V5, BADMSG, 0xF0, 0x18, 0x00, 0x00),
        PKT("CONNACK byte after properties", V5, BADMSG, 0x20, 0x00, 0x00, 0x00, 0x00),

        /* ---- Packet identifier 0 (MQTT-2.2.1-3, MQTT-2.3.1-1) ------------ */
        PKT("PUBLISH QoS 1 packet id 0", V3, PROTO, 0x32, S('a'), 0x00, 0x00),
        PKT("PUBLISH QoS 1 packet id 0", V5, PROTO, 0x32, S('a'), 0x00, 0x00, 0x00),
        PKT("PUBLISH QoS 2 packet id 0", V3, PROTO, 0x34, S('a'), 0x00, 0x00, 'x'),
        PKT("PUBLISH QoS 2 packet id 0", V5, PROTO, 0x34, S('a'), 0x00, 0x00, 0x00, 'x'),
        PKT("PUBACK packet id 0", V3, PROTO, 0x40, 0x00, 0x00),
        PKT("PUBACK packet id 0", V5, PROTO, 0x40, 0x00, 0x00),
        PKT("PUBACK packet id 0, with reason", V5, PROTO, 0x40, 0x00, 0x00, 0x10),
        PKT("PUBREC packet id 0", V3, PROTO, 0x50, 0x00, 0x00),
        PKT("PUBREC packet id 0, with properties", V5, PROTO, 0x50, 0x00, 0x00, 0x00, 0x00),
        PKT("PUBREL packet id 0", V3, PROTO, 0x62, 0x00, 0x00),
        PKT("PUBREL packet id 0", V5, PROTO, 0x62, 0x00, 0x00),
        PKT("PUBCOMP packet id 0", V3, PROTO, 0x70, 0x00, 0x00),
        PKT("PUBCOMP packet id 0", V5, PROTO, 0x70, 0x00, 0x00, 0x92),
        PKT("SUBSCRIBE packet id 0", V3, PROTO, 0x82, 0x00, 0x00, S('a'), 0x00),
        PKT("SUBSCRIBE packet id 0", V5, PROTO, 0x82, 0x00, 0x00, 0x00, S('a'), 0x00),
        PKT("SUBACK packet id 0", V3, PROTO, 0x90, 0x00, 0x00, 0x00),
        PKT("SUBACK packet id 0", V5, PROTO, 0x90, 0x00, 0x00, 0x00, 0x00),
        PKT("UNSUBSCRIBE packet id 0", V3, PROTO, 0xA2, 0x00, 0x00, S('a')),
        PKT("UNSUBSCRIBE packet id 0", V5, PROTO, 0xA2, 0x00, 0x00, 0x00, S('a')),
        /* MQTT-4.7.3-1: a topic filter has at least one character. */
        PKT("UNSUBSCRIBE empty filter", V3, PROTO, 0xA2, 0x00, 0x01, 0x00, 0x00),
        PKT("UNSUBSCRIBE second filter empty", V5, PROTO, 0xA2, 0x00, 0x01, 0x00, S('a'), 0x00, 0x00),
        PKT("SUBSCRIBE empty filter", V3, PROTO, 0x82, 0x00, 0x01, 0x00, 0x00, 0x01),
        PKT("SUBSCRIBE empty filter", V5, PROTO, 0x82, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01),
        PKT("UNSUBACK packet id 0", V3, PROTO, 0xB0, 0x00, 0x00),
        PKT("UNSUBACK packet id 0", V5, PROTO, 0xB0, 0x00, 0x00, 0x00, 0x00),

        /* ---- Ill-formed UTF-8 (MQTT-1.5.4-1, MQTT-1.5.4-2) --------------- */
        PKT("topic: overlong C0 AF", V3, BADMSG, 0x30, U_OVERLONG, 'p'),
        PKT("topic: surrogate ED A0 80", V3, BADMSG, 0x30, U_SURROGATE, 'p'),
        PKT("topic: U+0000", V3, BADMSG, 0x30, U_NUL, 'p'),
        PKT("topic: truncated E2 82", V3, BADMSG, 0x30, U_CUT, 'p'),
        PKT("topic: 0xFF", V3, BADMSG, 0x30, U_FF, 'p'),
        PKT("topic: above U+10FFFF", V3, BADMSG, 0x30, U_ABOVE),
        PKT("topic: overlong 4-byte", V3, BADMSG, 0x30, U_OVERLONG4),
        PKT("topic: stray continuation", V3, BADMSG, 0x30, U_CONT),
        PKT("topic: cut by ascii", V3, BADMSG, 0x30, U_CUT_MID),
        PKT("topic: surrogate ED BF BF", V5, BADMSG, 0x30, U_SURROGATE_LO, 0x00),
        PKT("topic: overlong C0 AF", V5, BADMSG, 0x30, U_OVERLONG, 0x00, 'p'),
        PKT("topic: U+0000, QoS 1", V5, BADMSG, 0x32, U_NUL, 0x00, 0x01, 0x00),
        PKT("client id: overlong C0 AF", V3, BADMSG, 0x10, C311(0x02), U_OVERLONG),
        PKT("client id: surrogate", V3, BADMSG, 0x10, C311(0x02), U_SURROGATE),
        PKT("client id: U+0000", V3, BADMSG, 0x10, C311(0x02), U_NUL),
        PKT("client id: truncated", V3, BADMSG, 0x10, C311(0x02), U_CUT),
        PKT("client id: 0xFF", V3, BADMSG, 0x10, C311(0x02), U_FF),
        PKT("client id: surrogate", V5, BADMSG, 0x10, C5(0x02), 0x00, U_SURROGATE),
        PKT("client id: U+0000", V5, BADMSG, 0x10, C5(0x02), 0x00, U_NUL),
        PKT("will topic: surrogate", V3, BADMSG, 0x10, C311(0x06), S('c'), U_SURROGATE, S('p')),
        PKT("will topic: overlong", V3, BADMSG, 0x10, C311(0x06), S('c'), U_OVERLONG, S('p')),
        PKT("will topic: 0xFF", V3, BADMSG, 0x10, C311(0x06), S('c'), U_FF, S('p')),
        PKT("will topic: U+0000", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), 0x00, U_NUL, S('p')),
        PKT("will topic: truncated", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), 0x00, U_CUT, S('p')),
        PKT("user name: truncated", V3, BADMSG, 0x10, C311(0x82), S('c'), U_CUT),
        PKT("user name: U+0000", V3, BADMSG, 0x10, C311(0xC2), S('c'), U_NUL, S('p')),
        PKT("user name: 0xFF", V5, BADMSG, 0x10, C5(0x82), 0x00, S('c'), U_FF),
        PKT("user name: surrogate", V5, BADMSG, 0x10, C5(0xC2), 0x00, S('c'), U_SURROGATE, S('p')),
        PKT("SUBSCRIBE filter: overlong", V3, BADMSG, 0x82, 0x00, 0x01, U_OVERLONG, 0x00),
        PKT("SUBSCRIBE filter: truncated", V3, BADMSG, 0x82, 0x00, 0x01, U_CUT, 0x00),
        PKT("SUBSCRIBE second filter: U+0000", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x00, U_NUL, 0x00),
        PKT("SUBSCRIBE filter: surrogate", V5, BADMSG, 0x82, 0x00, 0x01, 0x00, U_SURROGATE, 0x01),
        PKT("SUBSCRIBE filter: 0xFF", V5, BADMSG, 0x82, 0x00, 0x01, 0x00, U_FF, 0x00),
        PKT("UNSUBSCRIBE filter: 0xFF", V3, BADMSG, 0xA2, 0x00, 0x01, U_FF),
        PKT("UNSUBSCRIBE filter: truncated", V5, BADMSG, 0xA2, 0x00, 0x01, 0x00, U_CUT),
        PKT("UNSUBSCRIBE second filter: surrogate", V5, BADMSG, 0xA2, 0x00, 0x01, 0x00, S('a'), U_SURROGATE),
        PKT("Content Type: overlong", V5, BADMSG, 0x30, S('a'), PROPS(0x03, U_OVERLONG)),
        PKT("Content Type: U+0000", V5, BADMSG, 0x30, S('a'), PROPS(0x03, U_NUL)),
        PKT("Response Topic: surrogate", V5, BADMSG, 0x30, S('a'), PROPS(0x08, U_SURROGATE)),
        PKT("Reason String: surrogate (PUBACK)", V5, BADMSG, 0x40, 0x00, 0x01, 0x00, PROPS(0x1F, U_SURROGATE)),
        PKT("Reason String: 0xFF (DISCONNECT)", V5, BADMSG, 0xE0, 0x00, PROPS(0x1F, U_FF)),
        PKT("Reason String: overlong (SUBACK)", V5, BADMSG, 0x90, 0x00, 0x01, PROPS(0x1F, U_OVERLONG), 0x00),
        PKT("Reason String: truncated (CONNACK)", V5, BADMSG, 0x20, 0x00, 0x00, PROPS(0x1F, U_CUT)),
        PKT("User Property key: U+0000", V5, BADMSG, 0x30, S('a'), PROPS(0x26, U_NUL, S('v'))),
        PKT("User Property value: truncated", V5, BADMSG, 0x30, S('a'), PROPS(0x26, S('k'), U_CUT)),
        PKT("User Property key: 0xFF (CONNECT)", V5, BADMSG, 0x10, C5(0x02), PROPS(0x26, U_FF, S('v')), S('c')),
        PKT("User Property value: overlong (UNSUBACK)", V5, BADMSG, 0xB0, 0x00, 0x01, PROPS(0x26, S('k'), U_OVERLONG), 0x00),
        PKT("will Content Type: overlong", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), PROPS(0x03, U_OVERLONG), S('w'), S('p')),
        PKT("Assigned Client Identifier: surrogate", V5, BADMSG, 0x20, 0x00, 0x00, PROPS(0x12, U_SURROGATE)),
        PKT("Response Information: 0xFF", V5, BADMSG, 0x20, 0x00, 0x00, PROPS(0x1A, U_FF)),
        PKT("Authentication Method: U+0000", V5, BADMSG, 0xF0, 0x18, PROPS(0x15, U_NUL)),
        PKT("Server Reference: truncated", V5, BADMSG, 0xE0, 0x9C, PROPS(0x1C, U_CUT)),
        /* Binary fields and payloads are not UTF-8: anything goes. */
        PKT("topic with BOM U+FEFF (MQTT-1.5.4-3)", V3, OK, 0x30, S(0xEF, 0xBB, 0xBF)),
        PKT("topic with 2-, 3- and 4-byte chars", V5, OK, 0x30, S(0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80), 0x00),
        PKT("password is binary", V3, OK, 0x10, C311(0xC2), S('c'), S('u'), S(0xFF, 0x00, 0xC0)),
        PKT("will payload is binary", V5, OK, 0x10, C5(0x06), 0x00, S('c'), 0x00, S('w'), S(0xFF, 0x00)),
        PKT("PUBLISH payload is binary", V3, OK, 0x30, S('a'), 0xFF, 0x00, 0xED, 0xA0, 0x80),
        PKT("Correlation Data is binary", V5, OK, 0x30, S('a'), PROPS(0x09, S(0x00, 0xFF))),
        PKT("Authentication Data is binary", V5, OK, 0xF0, 0x18, PROPS(0x15, S('m'), 0x16, S(0xED, 0xA0))),

        /* ---- Repeated properties (MQTT 5 §2.2.2.2, each packet's list) ---- */
        PKT("CONNECT Session Expiry Interval twice", V5, PROTO, 0x10, C5(0x02), PROPS(0x11, 0x00, 0x00, 0x00, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x0A), S('c')),
        PKT("CONNECT Authentication Method twice", V5, PROTO, 0x10, C5(0x02), PROPS(0x15, S('m'), 0x15, S('m')), S('c')),
        PKT("CONNECT Receive Maximum twice, apart", V5, PROTO, 0x10, C5(0x02), PROPS(0x21, 0x00, 0x05, 0x26, S('k'), S('v'), 0x21, 0x00, 0x06), S('c')),
        PKT("will Will Delay Interval twice", V5, PROTO, 0x10, C5(0x06), 0x00, S('c'), PROPS(0x18, 0x00, 0x00, 0x00, 0x01, 0x18, 0x00, 0x00, 0x00, 0x01), S('w'), S('p')),
        PKT("PUBLISH Topic Alias twice", V5, PROTO, 0x30, S('a'), PROPS(0x23, 0x00, 0x01, 0x23, 0x00, 0x02)),
        PKT("PUBLISH Payload Format Indicator twice", V5, PROTO, 0x30, S('a'), PROPS(0x01, 0x00, 0x01, 0x01)),
        PKT("PUBLISH Content Type twice, apart", V5, PROTO, 0x30, S('a'), PROPS(0x03, S('t'), 0x26, S('k'), S('v'), 0x03, S('t'))),
        PKT("PUBLISH Correlation Data twice", V5, PROTO, 0x30, S('a'), PROPS(0x09, S('d'), 0x09, S('d'))),
        PKT("SUBSCRIBE Subscription Identifier twice", V5, PROTO, 0x82, 0x00, 0x01, PROPS(0x0B, 0x01, 0x0B, 0x02), S('a'), 0x00),
        PKT("PUBACK Reason String twice", V5, PROTO, 0x40, 0x00, 0x01, 0x00, PROPS(0x1F, S('r'), 0x1F, S('r'))),
        PKT("CONNACK Maximum QoS twice", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x24, 0x00, 0x24, 0x01)),
        PKT("CONNACK Assigned Client Identifier twice", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x12, S('a'), 0x12, S('b'))),
        PKT("DISCONNECT Session Expiry Interval twice", V5, PROTO, 0xE0, 0x00, PROPS(0x11, 0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00, 0x00, 0x01)),
        PKT("AUTH Authentication Data twice", V5, PROTO, 0xF0, 0x18, PROPS(0x15, S('m'), 0x16, S('d'), 0x16, S('d'))),
        PKT("PUBLISH User Property twice", V5, OK, 0x30, S('a'), PROPS(0x26, S('k'), S('v'), 0x26, S('k'), S('v'))),
        PKT("PUBLISH Subscription Identifier twice", V5, OK, 0x30, S('a'), PROPS(0x0B, 0x01, 0x0B, 0x02)),
        PKT("CONNECT User Property twice", V5, OK, 0x10, C5(0x02), PROPS(0x26, S('k'), S('v'), 0x26, S('k'), S('w')), S('c')),
        PKT("CONNACK User Property three times", V5, OK, 0x20, 0x00, 0x00, PROPS(0x26, S('a'), S('b'), 0x26, S('a'), S('b'), 0x26, EMPTY, EMPTY)),
        PKT("User Property in CONNECT and in will", V5, OK, 0x10, C5(0x06), PROPS(0x26, S('k'), S('v')), S('c'), PROPS(0x26, S('k'), S('v')), S('w'), S('p')),
        PKT("Payload Format in will, Session Expiry in CONNECT", V5, OK, 0x10, C5(0x06), PROPS(0x11, 0x00, 0x00, 0x00, 0x01), S('c'), PROPS(0x01, 0x01, 0x18, 0x00, 0x00, 0x00, 0x01), S('w'), S('p')),

        /* ---- Properties not allowed on the packet (§2.2.2.2) ------------- */
        PKT("Topic Alias in CONNECT", V5, BADMSG, 0x10, C5(0x02), PROPS(0x23, 0x00, 0x01), S('c')),
        PKT("Will Delay Interval in CONNECT properties", V5, BADMSG, 0x10, C5(0x02), PROPS(0x18, 0x00, 0x00, 0x00, 0x05), S('c')),
        PKT("Session Expiry Interval in will properties", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), PROPS(0x11, 0x00, 0x00, 0x00, 0x05), S('w'), S('p')),
        PKT("Reason String in PUBLISH", V5, BADMSG, 0x30, S('a'), PROPS(0x1F, S('r'))),
        PKT("Subscription Identifier in CONNACK", V5, BADMSG, 0x20, 0x00, 0x00, PROPS(0x0B, 0x01)),
        PKT("Server Keep Alive in CONNECT", V5, BADMSG, 0x10, C5(0x02), PROPS(0x13, 0x00, 0x0A), S('c')),
        PKT("Assigned Client Identifier in CONNECT", V5, BADMSG, 0x10, C5(0x02), PROPS(0x12, S('c')), S('c')),
        PKT("Authentication Method in PUBLISH", V5, BADMSG, 0x30, S('a'), PROPS(0x15, S('m'))),
        PKT("Topic Alias in will properties", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), PROPS(0x23, 0x00, 0x01), S('w'), S('p')),
        PKT("Subscription Identifier in will properties", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), PROPS(0x0B, 0x01), S('w'), S('p')),
        PKT("Payload Format Indicator in CONNECT properties", V5, BADMSG, 0x10, C5(0x02), PROPS(0x01, 0x01), S('c')),
        PKT("Correlation Data in CONNECT properties", V5, BADMSG, 0x10, C5(0x02), PROPS(0x09, S('d')), S('c')),
        PKT("Maximum QoS in CONNECT", V5, BADMSG, 0x10, C5(0x02), PROPS(0x24, 0x01), S('c')),
        PKT("Response Information in CONNECT", V5, BADMSG, 0x10, C5(0x02), PROPS(0x1A, S('r')), S('c')),
        PKT("Session Expiry Interval in PUBLISH", V5, BADMSG, 0x30, S('a'), PROPS(0x11, 0x00, 0x00, 0x00, 0x01)),
        PKT("Will Delay Interval in PUBLISH", V5, BADMSG, 0x30, S('a'), PROPS(0x18, 0x00, 0x00, 0x00, 0x01)),
        PKT("Request Response Information in CONNACK", V5, BADMSG, 0x20, 0x00, 0x00, PROPS(0x19, 0x01)),
        PKT("Receive Maximum in PUBACK", V5, BADMSG, 0x40, 0x00, 0x01, 0x00, PROPS(0x21, 0x00, 0x01)),
        PKT("Topic Alias in PUBREL", V5, BADMSG, 0x62, 0x00, 0x01, 0x00, PROPS(0x23, 0x00, 0x01)),
        PKT("Subscription Identifier in UNSUBSCRIBE", V5, BADMSG, 0xA2, 0x00, 0x01, PROPS(0x0B, 0x01), S('a')),
        PKT("Reason String in SUBSCRIBE", V5, BADMSG, 0x82, 0x00, 0x01, PROPS(0x1F, S('r')), S('a'), 0x00),
        PKT("Session Expiry Interval in SUBACK", V5, BADMSG, 0x90, 0x00, 0x01, PROPS(0x11, 0x00, 0x00, 0x00, 0x01), 0x00),
        PKT("Authentication Method in DISCONNECT", V5, BADMSG, 0xE0, 0x00, PROPS(0x15, S('m'))),
        PKT("Server Reference in AUTH", V5, BADMSG, 0xF0, 0x18, PROPS(0x1C, S('s'))),

        /* ---- Unknown property identifiers ------------------------------- */
        PKT("property id 0x00", V5, BADMSG, 0x30, S('a'), PROPS(0x00, 0x00)),
        PKT("property id 0x04", V5, BADMSG, 0x30, S('a'), PROPS(0x04, 0x00)),
        PKT("property id 0x2B", V5, BADMSG, 0x30, S('a'), PROPS(0x2B, 0x00)),
        PKT("property id 0x7F", V5, BADMSG, 0x30, S('a'), PROPS(0x7F, 0x00)),
        PKT("property id 0x0A", V5, BADMSG, 0x30, S('a'), PROPS(0x0A, 0x00, 0x00)),
        PKT("property id 0x04 in CONNECT", V5, BADMSG, 0x10, C5(0x02), PROPS(0x04, 0x00), S('c')),
        PKT("property id 0x2B in will properties", V5, BADMSG, 0x10, C5(0x06), 0x00, S('c'), PROPS(0x2B, 0x00), S('w'), S('p')),
        PKT("property id 0x00 in CONNACK", V5, BADMSG, 0x20, 0x00, 0x00, PROPS(0x00, 0x00)),
        PKT("property id 0x7F in DISCONNECT", V5, BADMSG, 0xE0, 0x00, PROPS(0x7F, 0x00)),
        PKT("property id 0x14 in SUBSCRIBE", V5, BADMSG, 0x82, 0x00, 0x01, PROPS(0x14, 0x00), S('a'), 0x00),
        PKT("property id 0x20 in PUBACK", V5, BADMSG, 0x40, 0x00, 0x01, 0x00, PROPS(0x20, 0x00, 0x00)),
        PKT("property id 0xFF", V5, BADMSG, 0x30, S('a'), PROPS(0xFF, 0x01)),
        PKT("property id 0x80 0x01 (128 as a varint)", V5, BADMSG, 0x30, S('a'), PROPS(0x80, 0x01, 0x00)),
        PKT("unknown id after a good property", V5, BADMSG, 0x30, S('a'), PROPS(0x01, 0x01, 0x1B, 0x00)),

        /* ---- Property values out of range -------------------------------- */
        PKT("Receive Maximum 0 in CONNECT", V5, PROTO, 0x10, C5(0x02), PROPS(0x21, 0x00, 0x00), S('c')),
        PKT("Receive Maximum 0 in CONNACK", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x21, 0x00, 0x00)),
        PKT("Maximum Packet Size 0 in CONNECT", V5, PROTO, 0x10, C5(0x02), PROPS(0x27, 0x00, 0x00, 0x00, 0x00), S('c')),
        PKT("Maximum Packet Size 0 in CONNACK", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x27, 0x00, 0x00, 0x00, 0x00)),
        PKT("Topic Alias 0", V5, PROTO, 0x30, S('a'), PROPS(0x23, 0x00, 0x00)),
        PKT("Subscription Identifier 0 in SUBSCRIBE", V5, PROTO, 0x82, 0x00, 0x01, PROPS(0x0B, 0x00), S('a'), 0x00),
        PKT("Subscription Identifier 0 in PUBLISH", V5, PROTO, 0x30, S('a'), PROPS(0x0B, 0x00)),
        PKT("Payload Format Indicator 2", V5, PROTO, 0x30, S('a'), PROPS(0x01, 0x02)),
        PKT("Payload Format Indicator 0xFF in will", V5, PROTO, 0x10, C5(0x06), 0x00, S('c'), PROPS(0x01, 0xFF), S('w'), S('p')),
        PKT("Maximum QoS 2", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x24, 0x02)),
        PKT("Retain Available 2", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x25, 0x02)),
        PKT("Wildcard Subscription Available 2", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x28, 0x02)),
        PKT("Subscription Identifier Available 2", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x29, 0x02)),
        PKT("Shared Subscription Available 2", V5, PROTO, 0x20, 0x00, 0x00, PROPS(0x2A, 0x02)),
        PKT("Request Problem Information 2", V5, PROTO, 0x10, C5(0x02), PROPS(0x17, 0x02), S('c')),
        PKT("Request Response Information 2", V5, PROTO, 0x10, C5(0x02), PROPS(0x19, 0x02), S('c')),
        PKT("CONNACK byte properties at 1, counts at 1", V5, OK, 0x20, 0x00, 0x00, PROPS(0x24, 0x01, 0x25, 0x01, 0x28, 0x01, 0x29, 0x01, 0x2A, 0x01, 0x21, 0x00, 0x01, 0x27, 0x00, 0x00, 0x00, 0x01)),
        PKT("CONNACK byte properties at 0", V5, OK, 0x20, 0x00, 0x00, PROPS(0x24, 0x00, 0x25, 0x00, 0x28, 0x00, 0x29, 0x00, 0x2A, 0x00)),
        PKT("Subscription Identifier 268435455", V5, OK, 0x82, 0x00, 0x01, PROPS(0x0B, 0xFF, 0xFF, 0xFF, 0x7F), S('a'), 0x00),
        PKT("Topic Alias 65535, Payload Format 1", V5, OK, 0x30, S('a'), PROPS(0x23, 0xFF, 0xFF, 0x01, 0x01)),
        PKT("CONNECT Request Problem 0, Response 1", V5, OK, 0x10, C5(0x02), PROPS(0x17, 0x00, 0x19, 0x01), S('c')),

        /* ---- SUBSCRIBE and UNSUBSCRIBE payloads (MQTT-3.8.3, 3.10.3) ----- */
        PKT("SUBSCRIBE without filters", V3, PROTO, 0x82, 0x00, 0x01),
        PKT("SUBSCRIBE without filters", V5, PROTO, 0x82, 0x00, 0x01, 0x00),
        PKT("SUBSCRIBE with properties, without filters", V5, PROTO, 0x82, 0x00, 0x01, PROPS(0x0B, 0x01)),
        PKT("UNSUBSCRIBE without filters", V3, PROTO, 0xA2, 0x00, 0x01),
        PKT("UNSUBSCRIBE without filters", V5, PROTO, 0xA2, 0x00, 0x01, 0x00),
        PKT("options reserved bit 0x40", V5, BADMSG, 0x82, 0x00, 0x01, 0x00, S('a'), 0x40),
        PKT("options reserved bit 0x80", V5, BADMSG, 0x82, 0x00, 0x01, 0x00, S('a'), 0x81),
        PKT("options reserved bit 0x04 (3.1.1)", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x04),
        PKT("options reserved bit 0x08 (3.1.1)", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x09),
        PKT("options reserved bits 0x30 (3.1.1)", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x30),
        PKT("options reserved bit 0x80 (3.1.1)", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x80),
        PKT("options QoS 3", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x03),
        PKT("options QoS 3", V5, BADMSG, 0x82, 0x00, 0x01, 0x00, S('a'), 0x03),
        PKT("options Retain Handling 3", V5, PROTO, 0x82, 0x00, 0x01, 0x00, S('a'), 0x30),
        PKT("second options Retain Handling 3", V5, PROTO, 0x82, 0x00, 0x01, 0x00, S('a'), 0x00, S('b'), 0x31),
        PKT("second options reserved bit (3.1.1)", V3, BADMSG, 0x82, 0x00, 0x01, S('a'), 0x01, S('b'), 0x42),
        PKT("options RH 2, RAP, NL, QoS 2", V5, OK, 0x82, 0x00, 0x01, 0x00, S('a'), 0x2E),
        PKT("options RH 1, RAP, NL, QoS 1", V5, OK, 0x82, 0x00, 0x01, 0x00, S('a'), 0x1D),
        PKT("options QoS 2, three filters", V3, OK, 0x82, 0x00, 0x01, S('a'), 0x02, S('b'), 0x01, S('c'), 0x00),
        PKT("wildcard filter", V3, OK, 0x82, 0x00, 0x01, S('a', '/', '+', '/', '#'), 0x01),
        PKT("filter the server may refuse (UTF-8 only)", V5, OK, 0x82, 0x00, 0x01, 0x00, S('a', '#', 'b'), 0x00),
        PKT("UNSUBSCRIBE wildcard filters", V5, OK, 0xA2, 0x00, 0x01, 0x00, S('#'), S('+', '/', 'x')),

        /* ---- SUBACK and UNSUBACK reason codes (MQTT-3.9.3, 3.11.3) ------- */
        PKT("SUBACK without codes", V3, PROTO, 0x90, 0x00, 0x01),
        PKT("SUBACK without codes", V5, PROTO, 0x90, 0x00, 0x01, 0x00),
        PKT("SUBACK 3.1.1 code 0x03", V3, PROTO, 0x90, 0x00, 0x01, 0x03),
        PKT("SUBACK 3.1.1 code 0x81", V3, PROTO, 0x90, 0x00, 0x01, 0x00, 0x81),
        PKT("SUBACK 3.1.1 code 0x8F (v5 only)", V3, PROTO, 0x90, 0x00, 0x01, 0x8F),
        PKT("SUBACK 3.1.1 codes 0, 1, 2, 0x80", V3, OK, 0x90, 0x00, 0x01, 0x00, 0x01, 0x02, 0x80),
        PKT("SUBACK v5 code 0x03", V5, PROTO, 0x90, 0x00, 0x01, 0x00, 0x03),
        PKT("SUBACK v5 code 0x04", V5, PROTO, 0x90, 0x00, 0x01, 0x00, 0x04),
        PKT("SUBACK v5 code 0x11 (UNSUBACK's)", V5, PROTO, 0x90, 0x00, 0x01, 0x00, 0x11),
        PKT("SUBACK v5 second code 0x81", V5, PROTO, 0x90, 0x00, 0x01, 0x00, 0x00, 0x81, 0x01),
        PKT("SUBACK v5 every valid code", V5, OK, 0x90, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2),
        PKT("UNSUBACK v5 without codes", V5, PROTO, 0xB0, 0x00, 0x01, 0x00),
        PKT("UNSUBACK v5 code 0x01", V5, PROTO, 0xB0, 0x00, 0x01, 0x00, 0x01),
        PKT("UNSUBACK v5 code 0x10", V5, PROTO, 0xB0, 0x00, 0x01, 0x00, 0x00, 0x10),
        PKT("UNSUBACK v5 code 0x9E", V5, PROTO, 0xB0, 0x00, 0x01, 0x00, 0x9E),
        PKT("UNSUBACK v5 every valid code", V5, OK, 0xB0, 0x00, 0x01, 0x00, 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91),
        PKT("UNSUBACK 3.1.1", V3, OK, 0xB0, 0x00, 0x01),

        /* ---- PUBLISH topic names (MQTT-3.3.2-1, 3.3.2-2, 4.7.3-1) -------- */
        PKT("topic a/+", V3, PROTO, 0x30, S('a', '/', '+')),
        PKT("topic a/+", V5, PROTO, 0x30, S('a', '/', '+'), 0x00),
        PKT("topic #", V3, PROTO, 0x30, S('#'), 'p'),
        PKT("topic #", V5, PROTO, 0x30, S('#'), 0x00),
        PKT("topic a+b", V3, PROTO, 0x30, S('a', '+', 'b')),
        PKT("topic a/#/b, QoS 1", V5, PROTO, 0x32, S('a', '/', '#', '/', 'b'), 0x00, 0x01, 0x00),
        PKT("topic + with Topic Alias", V5, PROTO, 0x30, S('+'), PROPS(0x23, 0x00, 0x01)),
        PKT("empty topic", V3, PROTO, 0x30, EMPTY),
        PKT("empty topic, QoS 1", V3, PROTO, 0x32, EMPTY, 0x00, 0x01),
        PKT("empty topic without Topic Alias", V5, PROTO, 0x30, EMPTY, 0x00),
        PKT("empty topic with other properties", V5, PROTO, 0x30, EMPTY, PROPS(0x01, 0x01, 0x26, S('k'), S('v'))),
        PKT("empty topic with Topic Alias", V5, OK, 0x30, EMPTY, PROPS(0x23, 0x00, 0x01)),
        PKT("empty topic with Topic Alias, QoS 2", V5, OK, 0x34, EMPTY, 0x00, 0x07, PROPS(0x23, 0x00, 0x01), 'x'),
        PKT("topic and Topic Alias", V5, OK, 0x30, S('a', '/', 'b'), PROPS(0x23, 0x00, 0x02), 'x'),
        PKT("topic / with empty payload", V3, OK, 0x31, S('/')),

        /* ---- CONNECT (MQTT-3.1.2) ---------------------------------------- */
        PKT("protocol name MQIsdp, level 4", V3, PROTO, 0x10, S('M', 'Q', 'I', 's', 'd', 'p'), 0x04, 0x02, 0x00, 0x3C, S('c')),
        PKT2("protocol name MQIsdp, level 3 (MQTT 3.1)", V3, NOSUP, PROTO, 0x10, S('M', 'Q', 'I', 's', 'd', 'p'), 0x03, 0x02, 0x00, 0x3C, S('c')),
        PKT("protocol name MQTX, level 4", V3, PROTO, 0x10, S('M', 'Q', 'T', 'X'), 0x04, 0x02, 0x00, 0x3C, S('c')),
        PKT("protocol name MQTX, level 5", V5, PROTO, 0x10, S('M', 'Q', 'T', 'X'), 0x05, 0x02, 0x00, 0x3C, 0x00, S('c')),
        PKT("protocol name mqtt", V3, PROTO, 0x10, S('m', 'q', 't', 't'), 0x04, 0x02, 0x00, 0x3C, S('c')),
        PKT("protocol name MQT", V5, PROTO, 0x10, S('M', 'Q', 'T'), 0x05, 0x02, 0x00, 0x3C, 0x00, S('c')),
        PKT("protocol level 3", V3, NOSUP, 0x10, MQTT_NAME, 0x03, 0x02, 0x00, 0x3C, S('c')),
        PKT("protocol level 6", V5, NOSUP, 0x10, MQTT_NAME, 0x06, 0x02, 0x00, 0x3C, 0x00, S('c')),
        PKT("protocol level 0", V3, NOSUP, 0x10, MQTT_NAME, 0x00, 0x02, 0x00, 0x3C, S('c')),
        PKT("protocol level 0x84 (bridge bit)", V3, NOSUP, 0x10, MQTT_NAME, 0x84, 0x02, 0x00, 0x3C, S('c')),
        PKT("protocol level 0xFF", V5, NOSUP, 0x10, MQTT_NAME, 0xFF, 0x02, 0x00, 0x3C, 0x00, S('c')),
        PKT("reserved connect flag", V3, BADMSG, 0x10, C311(0x03), S('c')),
        PKT("reserved connect flag", V5, BADMSG, 0x10, C5(0x01), 0x00, S('c')),
        PKT("will QoS 3", V3, BADMSG, 0x10, C311(0x1E), S('c'), S('w'), S('p')),
        PKT("will QoS 3", V5, BADMSG, 0x10, C5(0x1E), 0x00, S('c'), 0x00, S('w'), S('p')),
        PKT("will flag 0 with will QoS 1", V3, BADMSG, 0x10, C311(0x0A), S('c')),
        PKT("will flag 0 with will QoS 1", V5, BADMSG, 0x10, C5(0x08), 0x00, S('c')),
        PKT("will flag 0 with will QoS 2", V3, BADMSG, 0x10, C311(0x12), S('c')),
        PKT("will flag 0 with will retain", V3, BADMSG, 0x10, C311(0x22), S('c')),
        PKT("will flag 0 with will retain", V5, BADMSG, 0x10, C5(0x20), 0x00, S('c')),
        PKT("password without user name (3.1.1)", V3, PROTO, 0x10, C311(0x42), S('c'), S('p')),
        PKT("password without user name (v5)", V5, OK, 0x10, C5(0x42), 0x00, S('c'), S('p')),
        PKT("will topic empty", V3, PROTO, 0x10, C311(0x06), S('c'), EMPTY, S('p')),
        PKT("will topic empty", V5, PROTO, 0x10, C5(0x06), 0x00, S('c'), 0x00, EMPTY, S('p')),
        PKT("will topic a/#", V3, PROTO, 0x10, C311(0x06), S('c'), S('a', '/', '#'), S('p')),
        PKT("will topic +", V5, PROTO, 0x10, C5(0x06), 0x00, S('c'), 0x00, S('+'), S('p')),
        PKT("every flag (3.1.1)", V3, OK, 0x10, C311(0xF6), S('c'), S('w'), S('p'), S('u'), S('p')),
        PKT("every flag (v5)", V5, OK, 0x10, C5(0xF6), PROPS(0x11, 0x00, 0x00, 0x00, 0x3C), S('c'), PROPS(0x18, 0x00, 0x00, 0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x0A), S('w'), S('p'), S('u'), S('p')),
        PKT("v5 CONNECT on a 3.1.1 connection", V3, OK, 0x10, C5(0x02), 0x00, S('c')),
        PKT("3.1.1 CONNECT on a v5 connection", V5, OK, 0x10, C311(0x02), S('c')),
        PKT("3.1.1 password without user name, on a v5 connection", V5, PROTO, 0x10, C311(0x42), S('c'), S('p')),
        PKT("v5 password without user name, on a 3.1.1 connection", V3, OK, 0x10, C5(0x42), 0x00, S('c'), S('p')),
        PKT("v5 CONNECT with Topic Alias, on a 3.1.1 connection", V3, BADMSG, 0x10, C5(0x02), PROPS(0x23, 0x00, 0x01), S('c')),
        PKT("empty client id, clean start 0", V3, OK, 0x10, C311(0x00), EMPTY),
        PKT("empty payloads everywhere", V5, OK, 0x10, C5(0xC6), 0x00, EMPTY, 0x00, S('w'), EMPTY, EMPTY, EMPTY),

        /* ---- CONNACK (MQTT-3.2.2) ---------------------------------------- */
        PKT("CONNACK ack flags 0x02", V3, BADMSG, 0x20, 0x02, 0x00),
        PKT("CONNACK ack flags 0x80", V3, BADMSG, 0x20, 0x80, 0x00),
        PKT("CONNACK ack flags 0x80", V5, BADMSG, 0x20, 0x80, 0x00, 0x00),
        PKT("CONNACK ack flags 0xFE", V5, BADMSG, 0x20, 0xFE, 0x00, 0x00),
        PKT("CONNACK 3.1.1 return code 6", V3, PROTO, 0x20, 0x00, 0x06),
        PKT("CONNACK 3.1.1 return code 0x80", V3, PROTO, 0x20, 0x00, 0x80),
        PKT("CONNACK 3.1.1 return code 0xFF", V3, PROTO, 0x20, 0x00, 0xFF),
        PKT("CONNACK 3.1.1 session present, code 5", V3, PROTO, 0x20, 0x01, 0x05),
        PKT("CONNACK 3.1.1 session present, code 1", V3, PROTO, 0x20, 0x01, 0x01),
        PKT("CONNACK v5 session present, reason 0x80", V5, PROTO, 0x20, 0x01, 0x80, 0x00),
        PKT("CONNACK v5 reason 0x04", V5, PROTO, 0x20, 0x00, 0x04, 0x00),
        PKT("CONNACK v5 reason 0x01", V5, PROTO, 0x20, 0x00, 0x01, 0x00),
        PKT("CONNACK v5 reason 0x05 (3.1.1 code)", V5, PROTO, 0x20, 0x00, 0x05, 0x00),
        PKT("CONNACK v5 reason 0x8B", V5, PROTO, 0x20, 0x00, 0x8B, 0x00),
        PKT("CONNACK v5 reason 0x8E", V5, PROTO, 0x20, 0x00, 0x8E, 0x00),
        PKT("CONNACK v5 reason 0xA0", V5, PROTO, 0x20, 0x00, 0xA0, 0x00),
        PKT("CONNACK v5 reason 0x18", V5, PROTO, 0x20, 0x00, 0x18, 0x00),
        PKT("CONNACK 3.1.1 session present", V3, OK, 0x20, 0x01, 0x00),
        PKT("CONNACK 3.1.1 return code 5", V3, OK, 0x20, 0x00, 0x05),
        PKT("CONNACK v5 reason 0x9F", V5, OK, 0x20, 0x00, 0x9F, 0x00),
        PKT("CONNACK v5 reason 0x8C with Reason String", V5, OK, 0x20, 0x00, 0x8C, PROPS(0x1F, S('r'))),
        PKT("CONNACK v5 session present", V5, OK, 0x20, 0x01, 0x00, 0x00),

        /* ---- v5 acknowledgement reason codes ----------------------------- */
        PKT("PUBACK reason 0x18", V5, PROTO, 0x40, 0x00, 0x01, 0x18),
        PKT("PUBACK reason 0x18 with properties", V5, PROTO, 0x40, 0x00, 0x01, 0x18, 0x00),
        PKT("PUBACK reason 0x92 (PUBREL's)", V5, PROTO, 0x40, 0x00, 0x01, 0x92),
        PKT("PUBACK reason 0x01", V5, PROTO, 0x40, 0x00, 0x01, 0x01),
        PKT("PUBREC reason 0x92", V5, PROTO, 0x50, 0x00, 0x01, 0x92),
        PKT("PUBREC reason 0x11", V5, PROTO, 0x50, 0x00, 0x01, 0x11),
        PKT("PUBREL reason 0x10", V5, PROTO, 0x62, 0x00, 0x01, 0x10),
        PKT("PUBREL reason 0x80", V5, PROTO, 0x62, 0x00, 0x01, 0x80, 0x00),
        PKT("PUBCOMP reason 0x80", V5, PROTO, 0x70, 0x00, 0x01, 0x80),
        PKT("PUBCOMP reason 0x91", V5, PROTO, 0x70, 0x00, 0x01, 0x91),
        PKT("PUBACK reason 0x10, remaining 3", V5, OK, 0x40, 0x00, 0x01, 0x10),
        PKT("PUBACK reason 0x99 with Reason String", V5, OK, 0x40, 0x00, 0x01, 0x99, PROPS(0x1F, S('r'))),
        PKT("PUBACK remaining 4, empty properties", V5, OK, 0x40, 0x00, 0x01, 0x00, 0x00),
        PKT("PUBREC reason 0x97", V5, OK, 0x50, 0xFF, 0xFF, 0x97),
        PKT("PUBREL reason 0x92", V5, OK, 0x62, 0x00, 0x01, 0x92),
        PKT("PUBCOMP reason 0x92 with User Property", V5, OK, 0x70, 0x00, 0x01, 0x92, PROPS(0x26, S('k'), S('v'))),
        PKT("PUBACK remaining 2", V3, OK, 0x40, 0x12, 0x34),
        PKT("DISCONNECT reason 0x19", V5, PROTO, 0xE0, 0x19),
        PKT("DISCONNECT reason 0x19 with properties", V5, PROTO, 0xE0, 0x19, 0x00),
        PKT("DISCONNECT reason 0x84 (CONNACK's)", V5, PROTO, 0xE0, 0x84),
        PKT("DISCONNECT reason 0x18", V5, PROTO, 0xE0, 0x18),
        PKT("DISCONNECT reason 0x01", V5, PROTO, 0xE0, 0x01),
        PKT("DISCONNECT reason 0x91", V5, PROTO, 0xE0, 0x91),
        RAW("DISCONNECT remaining 0", V5, OK, 0xE0, 0x00),
        RAW("DISCONNECT remaining 0", V3, OK, 0xE0, 0x00),
        PKT("DISCONNECT reason 0x04", V5, OK, 0xE0, 0x04),
        PKT("DISCONNECT reason 0x00, empty properties", V5, OK, 0xE0, 0x00, 0x00),
        PKT("DISCONNECT reason 0xA2 with properties", V5, OK, 0xE0, 0xA2, PROPS(0x11, 0x00, 0x00, 0x00, 0x00, 0x1C, S('s'))),
        PKT("AUTH reason 0x87", V5, PROTO, 0xF0, 0x87, 0x00),
        PKT("AUTH reason 0x87, remaining 1", V5, PROTO, 0xF0, 0x87),
        PKT("AUTH reason 0x01", V5, PROTO, 0xF0, 0x01, 0x00),
        PKT("AUTH reason 0x80", V5, PROTO, 0xF0, 0x80, 0x00),
        PKT("AUTH reason 0x18 with method", V5, OK, 0xF0, 0x18, PROPS(0x15, S('m'), 0x16, S('d'))),
        PKT("AUTH reason 0x19 with method", V5, OK, 0xF0, 0x19, PROPS(0x15, S('m'))),
        PKT("AUTH reason 0x18, remaining 1", V5, OK, 0xF0, 0x18),
        PKT("AUTH reason 0x00, empty properties", V5, OK, 0xF0, 0x00, 0x00),
        PKT("PUBACK reason 0x00, remaining 3", V5, OK, 0x40, 0x00, 0x01, 0x00),
        PKT("PUBREL remaining 2", V5, OK, 0x62, 0x00, 0x01),

        /* ---- Other packets that decode ----------------------------------- */
        RAW("PINGREQ", V3, OK, 0xC0, 0x00),
        RAW("PINGRESP", V5, OK, 0xD0, 0x00),
        PKT("PUBLISH QoS 1 with payload", V3, OK, 0x32, S('a', '/', 'b'), 0x00, 0x0A, 'h', 'i'),
        PKT("PUBLISH every property", V5, OK, 0x33, S('a'), 0x00, 0x02, PROPS(0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x3C, 0x03, S('t'), 0x08, S('r'), 0x09, S('d'), 0x0B, 0x05, 0x23, 0x00, 0x01, 0x26, S('k'), S('v')), 'x'),
        PKT("SUBSCRIBE with properties", V5, OK, 0x82, 0x00, 0x01, PROPS(0x0B, 0x80, 0x01, 0x26, S('k'), S('v')), S('a'), 0x01),

        /* ---- Incomplete packets ----------------------------------------- */
        RAW("PUBLISH body short", V3, NEED, 0x30, 0x05, 0x00, 0x01),
        RAW("CONNECT half", V5, NEED, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q'),
        RAW("PINGREQ type only", V3, NEED, 0xC0),
        RAW("PUBACK one byte short", V5, NEED, 0x40, 0x04, 0x00, 0x01, 0x00),
        RAW("SUBSCRIBE 2-byte RL, body short", V5, NEED, 0x82, 0x80, 0x01, 0x00, 0x01),
        RAW("DISCONNECT v5 remaining 2, one byte", V5, NEED, 0xE0, 0x02, 0x00),
        RAW("AUTH remaining 2, none there", V5, NEED, 0xF0, 0x02),
};
/* clang-format on */

/* Filled into a packet before decoding, to see whether the decoder wrote. */
#define POISON 0xA5

static const char *errname(ssize_t r) {
        static char buf[32];

        switch (r) {
        case OK:
                return "whole row";
        case NEED:
                return "0 (need more)";
        case -EBADMSG:
                return "-EBADMSG";
        case -EPROTO:
                return "-EPROTO";
        case -EPROTONOSUPPORT:
                return "-EPROTONOSUPPORT";
        case -EINVAL:
                return "-EINVAL";
        case -ENOBUFS:
                return "-ENOBUFS";
        case -EMSGSIZE:
                return "-EMSGSIZE";
        default:
                snprintf(buf, sizeof(buf), "%zd", r);
                return buf;
        }
}

static void print_hex(const uint8_t *b, size_t len) {
        char line[3 * 130 + 1];
        size_t n = 0;

        for (size_t i = 0; i < len && n + 4 < sizeof(line); i++)
                n += (size_t)snprintf(line + n, sizeof(line) - n, " %02X", b[i]);
        line[n] = '\0';
        print_message("#     bytes:%s\n", line);
}

static uint8_t *dup_bytes(const uint8_t *b, size_t len) {
        /* Exactly len bytes, so ASan sees a read of the one past the end. */
        uint8_t *p = malloc(len > 0 ? len : 1);
        assert_non_null(p);
        if (len > 0)
                memcpy(p, b, len);
        return p;
}

/* Decodes b[0..len) from its own exact-size buffer; reports whether *ret
 * was left alone in *untouched. */
static ssize_t decode_exact(const uint8_t *b, size_t len, enum mql_version v,
                            struct mql_packet *ret, bool *untouched) {
        struct mql_packet before;
        uint8_t *p = dup_bytes(b, len);
        ssize_t r;

        memset(ret, POISON, sizeof(*ret));
        memcpy(&before, ret, sizeof(before));
        r = mql_packet_decode(p, len, v, ret);
        *untouched = memcmp(&before, ret, sizeof(before)) == 0;
        free(p);
        return r;
}

static bool row_wants(const struct row *r, ssize_t got, size_t len) {
        if (r->expect == OK)
                return got == (ssize_t)len;
        return got == r->expect || (r->alt != 0 && got == r->alt);
}

/* Returns the number of broken promises for the row (and prints them). */
static unsigned check_row(const struct row *r) {
        struct mql_packet pkt;
        unsigned bad = 0;
        bool untouched;
        ssize_t got;

        got = decode_exact(r->bytes, r->len, r->version, &pkt, &untouched);
        if (!row_wants(r, got, r->len)) {
                print_message("# FAIL %s [%s]: expected %s%s%s, got %s\n", r->name,
                              r->version == V5 ? "v5" : "3.1.1", errname(r->expect),
                              r->alt ? " or " : "", r->alt ? errname(r->alt) : "",
                              got > 0 && (size_t)got == r->len ? "whole row" : errname(got));
                print_hex(r->bytes, r->len);
                bad++;
        }
        if (got <= 0 && !untouched) {
                print_message("# FAIL %s [%s]: *ret written although decode returned %s\n", r->name,
                              r->version == V5 ? "v5" : "3.1.1", errname(got));
                bad++;
        }

        /* Strict prefixes: never a packet, never a different error. */
        for (size_t k = 0; k < r->len; k++) {
                ssize_t pg = decode_exact(r->bytes, k, r->version, &pkt, &untouched);
                bool fine = pg == 0 || (r->expect < 0 && (pg == r->expect || pg == r->alt));
                if (!fine || !untouched) {
                        print_message("# FAIL %s [%s]: prefix of %zu bytes gave %s%s\n", r->name,
                                      r->version == V5 ? "v5" : "3.1.1", k, errname(pg),
                                      untouched ? "" : " and wrote *ret");
                        print_hex(r->bytes, r->len);
                        bad++;
                        break;
                }
        }

        /* Followed by a PINGREQ: the same answer, the same length. */
        if (r->expect != NEED) {
                uint8_t *two = malloc(r->len + 2);
                assert_non_null(two);
                memcpy(two, r->bytes, r->len);
                two[r->len] = 0xC0;
                two[r->len + 1] = 0x00;
                ssize_t tg = decode_exact(two, r->len + 2, r->version, &pkt, &untouched);
                if (!row_wants(r, tg, r->len)) {
                        print_message("# FAIL %s [%s]: with a packet after it, got %s\n", r->name,
                                      r->version == V5 ? "v5" : "3.1.1", errname(tg));
                        bad++;
                }
                free(two);
        }
        return bad;
}

static void test_malformed_table(void **state) {
        unsigned failed = 0, errors = 0, successes = 0, need = 0;

        (void)state;
        for (size_t i = 0; i < ELEMS(rows); i++) {
                unsigned b = check_row(&rows[i]);
                failed += b > 0;
                if (rows[i].expect == OK)
                        successes++;
                else if (rows[i].expect == NEED)
                        need++;
                else
                        errors++;
        }
        print_message("# %zu rows: %u errors, %u decode, %u incomplete; %u failed\n", ELEMS(rows),
                      errors, successes, need, failed);
        assert_int_equal(failed, 0);
}

/* An empty buffer is never a packet. */
static void test_decode_empty(void **state) {
        struct mql_packet pkt;
        bool untouched;
        uint8_t one = 0x30;

        (void)state;
        assert_int_equal(decode_exact(&one, 0, V3, &pkt, &untouched), 0);
        assert_true(untouched);
        assert_int_equal(decode_exact(&one, 0, V5, &pkt, &untouched), 0);
        assert_true(untouched);
}

/* ---- Lengths of more than one byte --------------------------------------- */

static size_t put_varint(uint8_t *b, size_t v) {
        size_t n = 0;
        do {
                b[n] = (uint8_t)(v & 0x7F);
                v >>= 7;
                if (v)
                        b[n] |= 0x80;
                n++;
        } while (v);
        return n;
}

static size_t varint_len(size_t v) {
        uint8_t tmp[8];
        return put_varint(tmp, v);
}

/*
 * A v5 PUBLISH QoS 0 with a topic of t bytes, one User Property of k and v
 * bytes and a payload of p bytes, in an exact-size buffer. `block_delta` is
 * added to the Property Length written, to make it lie.
 */
static uint8_t *big_publish(size_t t, size_t k, size_t v, size_t p, int block_delta,
                            size_t *ret_len) {
        size_t block = 1 + 2 + k + 2 + v;
        size_t claimed = (size_t)((ssize_t)block + block_delta);
        size_t rl = 2 + t + varint_len(claimed) + block + p;
        size_t len = 1 + varint_len(rl) + rl, n = 0;
        uint8_t *b = malloc(len);

        assert_non_null(b);
        b[n++] = 0x30;
        n += put_varint(b + n, rl);
        b[n++] = (uint8_t)(t >> 8), b[n++] = (uint8_t)t;
        memset(b + n, 't', t), n += t;
        n += put_varint(b + n, claimed);
        b[n++] = 0x26;
        b[n++] = (uint8_t)(k >> 8), b[n++] = (uint8_t)k;
        memset(b + n, 'k', k), n += k;
        b[n++] = (uint8_t)(v >> 8), b[n++] = (uint8_t)v;
        memset(b + n, 'v', v), n += v;
        memset(b + n, 'p', p), n += p;
        assert_int_equal(n, len);
        *ret_len = n;
        return b;
}

static void check_big_publish(size_t t, size_t k, size_t v, size_t p) {
        struct mql_packet pkt;
        struct mql_prop prop;
        struct mql_prop_iter it;
        size_t len;
        uint8_t *b = big_publish(t, k, v, p, 0, &len);

        assert_int_equal(mql_packet_frame(b, len), (ssize_t)len);
        assert_int_equal(mql_packet_frame(b, len - 1), 0);
        assert_int_equal(mql_packet_decode(b, len - 1, V5, &pkt), 0);
        assert_int_equal(mql_packet_decode(b, len, V5, &pkt), (ssize_t)len);
        assert_int_equal(pkt.publish.topic.len, t);
        assert_int_equal(pkt.publish.payload.len, p);
        assert_true(pkt.publish.payload.ptr + p == b + len);
        mql_prop_iter_init(&it, &pkt.publish.props);
        assert_int_equal(mql_prop_iter_next(&it, &prop), 1);
        assert_int_equal(prop.id, MQL_PROP_USER_PROPERTY);
        assert_int_equal(prop.pair.key.len, k);
        assert_int_equal(prop.pair.value.len, v);
        assert_int_equal(mql_prop_iter_next(&it, &prop), 0);
        free(b);
}

static void test_long_fields(void **state) {
        struct mql_packet pkt;
        size_t len;
        uint8_t *b;

        (void)state;
        /* 2-byte Property Length, 3-byte Remaining Length. */
        check_big_publish(300, 200, 300, 70000);
        /* The longest strings (65,535 bytes, MQTT 1.5.4) and a 4-byte
         * Remaining Length. */
        check_big_publish(65535, 0, 65535, 2097152);
        /* Property Length 128: the first 2-byte one. */
        check_big_publish(1, 60, 63, 0);

        /* A Property Length one too long eats the payload's first byte as
         * a property identifier ('p', 0x70, unknown): malformed. */
        b = big_publish(300, 200, 300, 70000, 1, &len);
        assert_int_equal(mql_packet_decode(b, len, V5, &pkt), -EBADMSG);
        free(b);
        /* One too short: the User Property value runs past the block. */
        b = big_publish(300, 200, 300, 70000, -1, &len);
        assert_int_equal(mql_packet_decode(b, len, V5, &pkt), -EBADMSG);
        free(b);
        /* Longer than the whole packet. */
        b = big_publish(3, 0, 0, 0, 100000, &len);
        assert_int_equal(mql_packet_decode(b, len, V5, &pkt), -EBADMSG);
        free(b);

        /* A topic length of 65,535 in a 300-byte packet. */
        len = 1 + 2 + 300;
        b = malloc(len);
        assert_non_null(b);
        memset(b, 'a', len);
        b[0] = 0x30, b[1] = 0xAC, b[2] = 0x02; /* 300 */
        b[3] = 0xFF, b[4] = 0xFF;
        assert_int_equal(mql_packet_decode(b, len, V3, &pkt), -EBADMSG);
        /* And with the right length, fine. */
        b[3] = 0x01, b[4] = 0x2A; /* 298 */
        assert_int_equal(mql_packet_decode(b, len, V3, &pkt), (ssize_t)len);
        assert_int_equal(pkt.publish.topic.len, 298);
        assert_int_equal(pkt.publish.payload.len, 0);
        free(b);

        /* SUBSCRIBE with 20,000 filters, walked to the end. */
        size_t nf = 20000, rl = 2 + nf * 4;
        len = 1 + varint_len(rl) + rl;
        b = malloc(len);
        assert_non_null(b);
        size_t n = 0;
        b[n++] = 0x82;
        n += put_varint(b + n, rl);
        b[n++] = 0x12, b[n++] = 0x34;
        for (size_t i = 0; i < nf; i++) {
                b[n++] = 0x00, b[n++] = 0x01, b[n++] = (uint8_t)('a' + i % 26);
                b[n++] = (uint8_t)(i % 3);
        }
        assert_int_equal(n, len);
        assert_int_equal(mql_packet_decode(b, len, V3, &pkt), (ssize_t)len);
        struct mql_filter_iter fit;
        struct mql_subscription sub;
        size_t count = 0;
        mql_filter_iter_init(&fit, &pkt.subscribe.filters, MQL_SUBSCRIBE);
        while (mql_filter_iter_next(&fit, &sub) == 1) {
                assert_int_equal(sub.filter.len, 1);
                assert_int_equal(sub.filter.ptr[0], 'a' + count % 26);
                assert_int_equal(sub.qos, count % 3);
                count++;
        }
        assert_int_equal(count, nf);
        /* The last options byte QoS 3: found at the very end. */
        b[len - 1] = 0x03;
        assert_int_equal(mql_packet_decode(b, len, V3, &pkt), -EBADMSG);
        free(b);
}

/* ---- mql_packet_frame() --------------------------------------------- */

/* Frames `hdr` as if the stream held `claimed` bytes, with only the header
 * really there: the frame reads at most 5 bytes (packet.h), and ASan holds
 * it to that. */
static ssize_t frame_claimed(const uint8_t *hdr, size_t hdr_len, size_t claimed) {
        uint8_t *p = dup_bytes(hdr, hdr_len);
        ssize_t r = mql_packet_frame(p, claimed);
        free(p);
        return r;
}

static ssize_t frame_exact(const uint8_t *b, size_t len) {
        return frame_claimed(b, len, len);
}

#define FRAME(expect, ...)                                                      \
        assert_int_equal(frame_exact((const uint8_t[]){ __VA_ARGS__ },          \
                                     sizeof((const uint8_t[]){ __VA_ARGS__ })), \
                         (expect))

static void test_frame(void **state) {
        static const uint8_t pub[] = { 0x30, 0x05, 0x00, 0x01, 'a', 'h', 'i' };
        uint8_t byte = 0x30;

        (void)state;

        /* Nothing yet, or a Remaining Length still coming: need more. */
        assert_int_equal(frame_exact(&byte, 0), 0);
        FRAME(0, 0x30);
        FRAME(0, 0x30, 0x80);
        FRAME(0, 0x30, 0xFF, 0xFF);
        FRAME(0, 0x30, 0xFF, 0xFF, 0xFF);
        FRAME(0, 0xC0);

        /* Whole packets: the full length, and not one byte more. */
        FRAME(2, 0xC0, 0x00);
        FRAME(2, 0xC0, 0x00, 0xC0, 0x00);
        FRAME(4, 0x40, 0x02, 0x00, 0x01);
        assert_int_equal(frame_exact(pub, sizeof(pub)), 7);
        /* A header whose body has not all arrived is not a whole packet. */
        for (size_t k = 0; k < sizeof(pub); k++)
                assert_int_equal(frame_exact(pub, k), 0);

        /* Every width of Remaining Length, at both ends of its range. */
        static const struct {
                uint8_t hdr[5];
                size_t hdr_len;
                size_t total;
        } widths[] = {
                { { 0x30, 0x00 }, 2, 2 },
                { { 0x30, 0x7F }, 2, 2 + 127 },
                { { 0x30, 0x80, 0x01 }, 3, 3 + 128 },
                { { 0x30, 0xFF, 0x7F }, 3, 3 + 16383 },
                { { 0x30, 0x80, 0x80, 0x01 }, 4, 4 + 16384 },
                { { 0x30, 0xFF, 0xFF, 0x7F }, 4, 4 + 2097151 },
                { { 0x30, 0x80, 0x80, 0x80, 0x01 }, 5, 5 + 2097152 },
                { { 0x30, 0xFF, 0xFF, 0xFF, 0x7F }, 5, (size_t)MQL_MAX_REMAINING_LENGTH + 5 },
        };
        for (size_t i = 0; i < ELEMS(widths); i++) {
                assert_int_equal(frame_claimed(widths[i].hdr, widths[i].hdr_len, widths[i].total),
                                 (ssize_t)widths[i].total);
                assert_int_equal(
                        frame_claimed(widths[i].hdr, widths[i].hdr_len, widths[i].total + 1000),
                        (ssize_t)widths[i].total);
                if (widths[i].total > widths[i].hdr_len)
                        assert_int_equal(frame_claimed(widths[i].hdr, widths[i].hdr_len,
                                                       widths[i].total - 1),
                                         0);
        }
        /* The largest packet there is (MQTT 1.5.5), from 5 real bytes. */
        assert_int_equal(frame_claimed((const uint8_t[]){ 0x30, 0xFF, 0xFF, 0xFF, 0x7F }, 5,
                                       MQL_MAX_PACKET_SIZE),
                         (ssize_t)MQL_MAX_PACKET_SIZE);
        assert_int_equal((size_t)MQL_MAX_PACKET_SIZE, (size_t)268435455 + 5);

        /* A fifth length byte (more than 4 varint bytes) is malformed. */
        FRAME(-EBADMSG, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F);
        FRAME(-EBADMSG, 0x30, 0x80, 0x80, 0x80, 0x80, 0x01);
        FRAME(-EBADMSG, 0x30, 0x80, 0x80, 0x80, 0x80);
        assert_int_equal(frame_claimed((const uint8_t[]){ 0x30, 0xFF, 0xFF, 0xFF, 0xFF }, 5,
                                       MQL_MAX_PACKET_SIZE + 100),
                         -EBADMSG);
        /* Not the shortest form (MQTT-1.5.5-1). */
        FRAME(-EBADMSG, 0x30, 0x80, 0x00);
        FRAME(-EBADMSG, 0xC0, 0x80, 0x00);
        FRAME(-EBADMSG, 0x30, 0xFF, 0x80, 0x00);
        FRAME(-EBADMSG, 0x30, 0x80, 0x80, 0x00);
        FRAME(-EBADMSG, 0x30, 0x80, 0x80, 0x80, 0x00);
        FRAME(-EBADMSG, 0x30, 0xFF, 0xFF, 0x80, 0x00);
        FRAME(-EBADMSG, 0x30, 0x83, 0x00, 0x00, 0x01, 'a');
}

/* ---- Garbage ------------------------------------------------------------ */

static uint32_t rng = 0x2545F491u;

/* xorshift32 (Marsaglia): the same sequence on every run. */
static uint32_t rnd(void) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        return rng;
}

/* A byte biased toward what packets are made of: zeros, small lengths,
 * letters. */
static uint8_t rnd_byte(void) {
        uint32_t r = rnd();

        switch (r & 7) {
        case 0:
        case 1:
                return 0x00;
        case 2:
                return (uint8_t)((r >> 8) % 6);
        case 3:
                return (uint8_t)('a' + (r >> 8) % 4);
        default:
                return (uint8_t)(r >> 8);
        }
}

static const uint8_t valid_type_bytes[] = {
        0x10, 0x20, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x3A, 0x3B, 0x3C, 0x3D,
        0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xA2, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0,
};

struct span {
        const uint8_t *base;
        size_t len;
};

static volatile uint32_t sink;

/* A view of a decoded packet lies inside the decoded bytes; reading it all
 * lets ASan check that too. */
static void check_view(const struct span *s, const void *ptr, size_t len) {
        if (len == 0)
                return;
        assert_non_null(ptr);
        uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)s->base;
        assert_true(p >= b && len <= s->len && p - b <= s->len - len);
        for (size_t i = 0; i < len; i++)
                sink += ((const uint8_t *)ptr)[i];
}

static void walk_props(const struct mql_props *props, enum mql_packet_type type, bool will,
                       const struct span *s) {
        struct mql_prop_iter it;
        struct mql_prop p;
        size_t n = 0;

        assert_int_equal(props->count, 0);
        check_view(s, props->raw, props->raw_len);
        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) == 1) {
                /* A property takes at least 2 bytes: the walk must end. */
                assert_true(++n <= props->raw_len / 2);
                assert_true(mql_prop_allowed(p.id, type, will));
                switch (mql_prop_type(p.id)) {
                case MQL_PROP_TYPE_STRING:
                        check_view(s, p.str.ptr, p.str.len);
                        break;
                case MQL_PROP_TYPE_BINARY:
                        check_view(s, p.bin.ptr, p.bin.len);
                        break;
                case MQL_PROP_TYPE_STRING_PAIR:
                        check_view(s, p.pair.key.ptr, p.pair.key.len);
                        check_view(s, p.pair.value.ptr, p.pair.value.len);
                        break;
                case MQL_PROP_TYPE_INVALID:
                        fail_msg("property 0x%02X of no type", (unsigned)p.id);
                        break;
                default:
                        break;
                }
        }
}

static void walk_filters(const struct mql_filters *f, enum mql_packet_type type,
                         const struct span *s) {
        struct mql_filter_iter it;
        struct mql_subscription sub;
        size_t n = 0;

        assert_int_equal(f->count, 0);
        check_view(s, f->raw, f->raw_len);
        mql_filter_iter_init(&it, f, type);
        while (mql_filter_iter_next(&it, &sub) == 1) {
                assert_true(++n <= f->raw_len / 2);
                check_view(s, sub.filter.ptr, sub.filter.len);
                if (type == MQL_SUBSCRIBE) {
                        assert_true(sub.qos <= 2);
                        assert_true(sub.retain_handling <= 2);
                }
        }
        assert_true(n > 0);
}

static void walk_packet(const struct mql_packet *pkt, const struct span *s) {
        switch (pkt->type) {
        case MQL_CONNECT:
                walk_props(&pkt->connect.props, MQL_CONNECT, false, s);
                walk_props(&pkt->connect.will_props, MQL_CONNECT, true, s);
                check_view(s, pkt->connect.client_id.ptr, pkt->connect.client_id.len);
                check_view(s, pkt->connect.will_topic.ptr, pkt->connect.will_topic.len);
                check_view(s, pkt->connect.will_payload.ptr, pkt->connect.will_payload.len);
                check_view(s, pkt->connect.username.ptr, pkt->connect.username.len);
                check_view(s, pkt->connect.password.ptr, pkt->connect.password.len);
                assert_true(pkt->connect.will_qos <= 2);
                break;
        case MQL_CONNACK:
                walk_props(&pkt->connack.props, MQL_CONNACK, false, s);
                break;
        case MQL_PUBLISH:
                assert_true(pkt->publish.qos <= 2);
                assert_true(pkt->publish.qos == 0 || pkt->publish.packet_id != 0);
                walk_props(&pkt->publish.props, MQL_PUBLISH, false, s);
                check_view(s, pkt->publish.topic.ptr, pkt->publish.topic.len);
                check_view(s, pkt->publish.payload.ptr, pkt->publish.payload.len);
                break;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                assert_true(pkt->ack.packet_id != 0);
                walk_props(&pkt->ack.props, pkt->type, false, s);
                break;
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                assert_true(pkt->subscribe.packet_id != 0);
                walk_props(&pkt->subscribe.props, pkt->type, false, s);
                walk_filters(&pkt->subscribe.filters, pkt->type, s);
                break;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                assert_true(pkt->suback.packet_id != 0);
                walk_props(&pkt->suback.props, pkt->type, false, s);
                check_view(s, pkt->suback.reasons.ptr, pkt->suback.reasons.len);
                break;
        case MQL_DISCONNECT:
        case MQL_AUTH:
                walk_props(&pkt->disconnect.props, pkt->type, false, s);
                break;
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                break;
        default:
                fail_msg("decoded packet of type %d", (int)pkt->type);
        }
}

static void garbage_fail(const char *what, const uint8_t *b, size_t len, enum mql_version v,
                         ssize_t r) {
        print_message("# garbage [%s]: %s (decode gave %s)\n", v == V5 ? "v5" : "3.1.1", what,
                      errname(r));
        print_hex(b, len);
        fail();
}

/* Decoded packet -> bytes -> packet -> the same bytes. */
static void reencode(const struct mql_packet *pkt, enum mql_version v, const uint8_t *orig,
                     size_t orig_len, ssize_t r) {
        struct mql_packet again;
        ssize_t size, n, back;
        uint8_t *out, *out2;

        size = mql_packet_size(pkt, v);
        if (size <= 0)
                garbage_fail("mql_packet_size() refused a decoded packet", orig, orig_len, v, size);
        out = malloc((size_t)size);
        out2 = malloc((size_t)size);
        assert_non_null(out);
        assert_non_null(out2);

        if (mql_packet_encode(pkt, v, out, (size_t)size - 1) != -ENOBUFS)
                garbage_fail("encode into a buffer one byte short did not give -ENOBUFS", orig,
                             orig_len, v, r);
        n = mql_packet_encode(pkt, v, out, (size_t)size);
        if (n != size)
                garbage_fail("mql_packet_encode() disagrees with mql_packet_size()", orig, orig_len,
                             v, n);

        back = mql_packet_decode(out, (size_t)size, v, &again);
        if (back != size) {
                print_hex(out, (size_t)size);
                garbage_fail("the re-encoding does not decode to its own size", orig, orig_len, v,
                             back);
        }
        if (again.type != pkt->type)
                garbage_fail("the re-encoding decodes to another type", orig, orig_len, v, back);

        /* Encoding what the encoder wrote gives the same bytes. */
        n = mql_packet_encode(&again, v, out2, (size_t)size);
        if (n != size || memcmp(out, out2, (size_t)size) != 0)
                garbage_fail("encode(decode(encode(p))) != encode(p)", orig, orig_len, v, n);
        free(out);
        free(out2);
}

static size_t n_success_rows;
static const struct row *success_rows[ELEMS(rows)];

/* Fills b[0..64) and returns a length 0..64. */
static size_t make_garbage(uint8_t *b) {
        uint32_t mode = rnd() % 10;
        size_t len;

        if (mode < 5) {
                /* A valid type byte and a Remaining Length that matches. */
                len = 2 + rnd() % 63;
                b[0] = valid_type_bytes[rnd() % ELEMS(valid_type_bytes)];
                b[1] = (uint8_t)(len - 2);
                for (size_t i = 2; i < len; i++)
                        b[i] = rnd_byte();
                /* Now and then a length that lies. */
                if (rnd() % 8 == 0)
                        b[1] = (uint8_t)(rnd() % 0x80);
        } else if (mode < 8 && n_success_rows > 0) {
                /* A packet that decodes, a few bytes changed. */
                const struct row *r = success_rows[rnd() % n_success_rows];
                len = r->len;
                memcpy(b, r->bytes, len);
                for (uint32_t m = 1 + rnd() % 3; m > 0; m--) {
                        size_t at = rnd() % len;
                        switch (rnd() % 4) {
                        case 0:
                                b[at] = (uint8_t)rnd();
                                break;
                        case 1:
                                b[at] ^= (uint8_t)(1u << (rnd() % 8));
                                break;
                        case 2:
                                b[at] = rnd_byte();
                                break;
                        default:
                                if (len < 64)
                                        b[len++] = rnd_byte();
                                break;
                        }
                }
                if (rnd() % 2 == 0 && len >= 2 && b[1] < 0x80)
                        b[1] = (uint8_t)(len - 2);
        } else {
                /* Anything at all. */
                len = rnd() % 65;
                for (size_t i = 0; i < len; i++)
                        b[i] = (uint8_t)rnd();
                if (len > 0 && rnd() % 2 == 0)
                        b[0] = valid_type_bytes[rnd() % ELEMS(valid_type_bytes)];
        }
        return len;
}

static void test_garbage(void **state) {
        unsigned n_ok = 0, n_need = 0, n_badmsg = 0, n_proto = 0, n_nosup = 0;

        (void)state;
        n_success_rows = 0;
        for (size_t i = 0; i < ELEMS(rows); i++)
                if (rows[i].expect == OK && rows[i].len <= 64)
                        success_rows[n_success_rows++] = &rows[i];

        for (unsigned iter = 0; iter < 100000; iter++) {
                uint8_t tmp[64];
                struct mql_packet pkt;
                enum mql_version v = rnd() & 1 ? V5 : V3;
                size_t len = make_garbage(tmp);
                uint8_t *b = dup_bytes(tmp, len);
                ssize_t r = mql_packet_decode(b, len, v, &pkt);

                if (r == 0)
                        n_need++;
                else if (r == -EBADMSG)
                        n_badmsg++;
                else if (r == -EPROTO)
                        n_proto++;
                else if (r == -EPROTONOSUPPORT)
                        n_nosup++;
                else if (r > 0 && (size_t)r <= len) {
                        struct span s = { b, (size_t)r };
                        n_ok++;
                        walk_packet(&pkt, &s);
                        reencode(&pkt, v, b, len, r);
                } else
                        garbage_fail("an answer packet.h does not list", b, len, v, r);
                free(b);
        }
        print_message("# garbage: %u decoded, %u need more, %u -EBADMSG, %u -EPROTO, "
                      "%u -EPROTONOSUPPORT\n",
                      n_ok, n_need, n_badmsg, n_proto, n_nosup);
        /* Otherwise the walk and re-encode checks above proved nothing. */
        assert_true(n_ok > 1000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_malformed_table), cmocka_unit_test(test_decode_empty),
                cmocka_unit_test(test_long_fields),     cmocka_unit_test(test_frame),
                cmocka_unit_test(test_garbage),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

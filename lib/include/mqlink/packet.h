/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * MQTT 3.1.1 and 5.0 control packets to and from bytes.
 *
 * The codec is pure: no allocation, no I/O, no clock.
 *
 * Decoding is zero-copy: every string, binary field, property block and
 * filter list in a decoded `struct mql_packet` points into the buffer handed
 * to mql_packet_decode(); the packet is valid only as long as that buffer is
 * unchanged. Property blocks are validated completely by the decoder and then
 * walked with an iterator (mql_prop_iter_*), so walking them cannot fail.
 *
 * Encoding is two-phase: mql_packet_size() tells how many bytes a packet
 * takes, mql_packet_encode() writes them into a caller buffer.
 *
 * Error values (all negative errno):
 *   -EBADMSG          malformed bytes: truncated field, overlong or oversized
 *                     variable byte integer, ill-formed UTF-8 (MQTT-1.5.4),
 *                     reserved flag bits set, QoS 3, a property not allowed
 *                     on the packet or of the wrong type (MQTT 5 §2.2.2.2),
 *                     bytes left over after the packet's last field
 *   -EPROTO           well-formed bytes that break a protocol rule: packet
 *                     identifier 0, a property repeated that may not repeat,
 *                     a property value out of range, an empty subscription
 *                     list, wildcards in a topic name, a reason code not
 *                     defined for the packet
 *   -EPROTONOSUPPORT  CONNECT with a protocol level other than 4 or 5
 *   -EINVAL           (encode only) a packet the caller filled in wrongly
 *   -ENOBUFS          (encode only) the caller's buffer is too small
 *   -EMSGSIZE         (encode only) the packet would exceed 268,435,455
 *                     bytes of remaining length
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol level as carried in CONNECT. */
enum mql_version {
        MQL_V311 = 4,
        MQL_V5 = 5,
};

enum mql_packet_type {
        MQL_CONNECT = 1,
        MQL_CONNACK = 2,
        MQL_PUBLISH = 3,
        MQL_PUBACK = 4,
        MQL_PUBREC = 5,
        MQL_PUBREL = 6,
        MQL_PUBCOMP = 7,
        MQL_SUBSCRIBE = 8,
        MQL_SUBACK = 9,
        MQL_UNSUBSCRIBE = 10,
        MQL_UNSUBACK = 11,
        MQL_PINGREQ = 12,
        MQL_PINGRESP = 13,
        MQL_DISCONNECT = 14,
        MQL_AUTH = 15, /* MQTT 5 only */
};

/* Largest Remaining Length a variable byte integer can carry (MQTT 1.5.5). */
#define MQL_MAX_REMAINING_LENGTH 268435455u
/* Largest whole packet: 1 type byte + 4 length bytes + remaining length. */
#define MQL_MAX_PACKET_SIZE (MQL_MAX_REMAINING_LENGTH + 5u)

/* A UTF-8 string view. Not NUL-terminated; `ptr` may be NULL when len is 0. */
struct mql_str {
        const char *ptr;
        size_t len;
};

/* A binary data view. `ptr` may be NULL when len is 0. */
struct mql_bin {
        const uint8_t *ptr;
        size_t len;
};

/* Builds a struct mql_str from a NUL-terminated C string (NULL gives {0}). */
struct mql_str mql_str_from(const char *s);

/* ---- MQTT 5 properties ------------------------------------------------ */

enum mql_prop_id {
        MQL_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,
        MQL_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,
        MQL_PROP_CONTENT_TYPE = 0x03,
        MQL_PROP_RESPONSE_TOPIC = 0x08,
        MQL_PROP_CORRELATION_DATA = 0x09,
        MQL_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,
        MQL_PROP_SESSION_EXPIRY_INTERVAL = 0x11,
        MQL_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,
        MQL_PROP_SERVER_KEEP_ALIVE = 0x13,
        MQL_PROP_AUTHENTICATION_METHOD = 0x15,
        MQL_PROP_AUTHENTICATION_DATA = 0x16,
        MQL_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,
        MQL_PROP_WILL_DELAY_INTERVAL = 0x18,
        MQL_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,
        MQL_PROP_RESPONSE_INFORMATION = 0x1A,
        MQL_PROP_SERVER_REFERENCE = 0x1C,
        MQL_PROP_REASON_STRING = 0x1F,
        MQL_PROP_RECEIVE_MAXIMUM = 0x21,
        MQL_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
        MQL_PROP_TOPIC_ALIAS = 0x23,
        MQL_PROP_MAXIMUM_QOS = 0x24,
        MQL_PROP_RETAIN_AVAILABLE = 0x25,
        MQL_PROP_USER_PROPERTY = 0x26,
        MQL_PROP_MAXIMUM_PACKET_SIZE = 0x27,
        MQL_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,
        MQL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29,
        MQL_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A,
};

/* The wire type of a property's value (MQTT 5 §1.5 and §2.2.2.2). */
enum mql_prop_type {
        MQL_PROP_TYPE_INVALID = 0,
        MQL_PROP_TYPE_BYTE,
        MQL_PROP_TYPE_U16,
        MQL_PROP_TYPE_U32,
        MQL_PROP_TYPE_VARINT,
        MQL_PROP_TYPE_STRING,
        MQL_PROP_TYPE_BINARY,
        MQL_PROP_TYPE_STRING_PAIR,
};

/*
 * The property container of a packet (the "will properties" of CONNECT are
 * one too). Two ways to fill it, usable together:
 *   raw/raw_len  the encoded property block without its length prefix. The
 *                decoder sets it (validated); the encoder copies it as is,
 *                so a decoded packet can be forwarded without re-encoding
 *                its properties. Never hand the encoder unvalidated bytes.
 *   list/count   an array of properties for the encoder; the decoder leaves
 *                it empty. The encoder checks each one (id allowed on the
 *                packet, repetition, ranges) and fails with -EINVAL.
 * Both borrowed: the caller keeps them alive while the packet is used.
 */
struct mql_prop;
struct mql_props {
        const uint8_t *raw;
        size_t raw_len;
        const struct mql_prop *list;
        size_t count;
};

struct mql_prop {
        enum mql_prop_id id;
        union {
                uint32_t u32; /* byte, two-byte, four-byte and varint types */
                struct mql_str str;
                struct mql_bin bin;
                struct {
                        struct mql_str key;
                        struct mql_str value;
                } pair;
        };
};

/* Walks a property container: first `raw`, then `list`. */
struct mql_prop_iter {
        const struct mql_props *props; /* borrowed */
        size_t pos;
};

void mql_prop_iter_init(struct mql_prop_iter *it, const struct mql_props *props);
/* Returns 1 and fills *ret with the next property, 0 at the end. The raw
 * block must have come from the decoder (it is not re-checked). */
int mql_prop_iter_next(struct mql_prop_iter *it, struct mql_prop *ret);
/* Finds the first property with `id`. Returns 1 and fills *ret, or 0. */
int mql_props_find(const struct mql_props *props, enum mql_prop_id id, struct mql_prop *ret);
/* The property's type, or MQL_PROP_TYPE_INVALID for an unknown id. */
enum mql_prop_type mql_prop_type(unsigned id);
/* The property's name as the specification spells it, or NULL. */
const char *mql_prop_name(unsigned id);
/* Whether property `id` may appear on `type` packets. For CONNECT `will`
 * selects the Will Properties instead of the CONNECT properties; with any
 * other type `will` gives false. */
bool mql_prop_allowed(unsigned id, enum mql_packet_type type, bool will);

/* ---- Reason codes ----------------------------------------------------- */

enum mql_reason {
        MQL_RC_SUCCESS = 0x00, /* also Normal disconnection, Granted QoS 0 */
        MQL_RC_GRANTED_QOS_1 = 0x01,
        MQL_RC_GRANTED_QOS_2 = 0x02,
        MQL_RC_DISCONNECT_WITH_WILL = 0x04,
        MQL_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
        MQL_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
        MQL_RC_CONTINUE_AUTHENTICATION = 0x18,
        MQL_RC_REAUTHENTICATE = 0x19,
        MQL_RC_UNSPECIFIED_ERROR = 0x80,
        MQL_RC_MALFORMED_PACKET = 0x81,
        MQL_RC_PROTOCOL_ERROR = 0x82,
        MQL_RC_IMPLEMENTATION_SPECIFIC_ERROR = 0x83,
        MQL_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
        MQL_RC_CLIENT_IDENTIFIER_NOT_VALID = 0x85,
        MQL_RC_BAD_USER_NAME_OR_PASSWORD = 0x86,
        MQL_RC_NOT_AUTHORIZED = 0x87,
        MQL_RC_SERVER_UNAVAILABLE = 0x88,
        MQL_RC_SERVER_BUSY = 0x89,
        MQL_RC_BANNED = 0x8A,
        MQL_RC_SERVER_SHUTTING_DOWN = 0x8B,
        MQL_RC_BAD_AUTHENTICATION_METHOD = 0x8C,
        MQL_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
        MQL_RC_SESSION_TAKEN_OVER = 0x8E,
        MQL_RC_TOPIC_FILTER_INVALID = 0x8F,
        MQL_RC_TOPIC_NAME_INVALID = 0x90,
        MQL_RC_PACKET_IDENTIFIER_IN_USE = 0x91,
        MQL_RC_PACKET_IDENTIFIER_NOT_FOUND = 0x92,
        MQL_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
        MQL_RC_TOPIC_ALIAS_INVALID = 0x94,
        MQL_RC_PACKET_TOO_LARGE = 0x95,
        MQL_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
        MQL_RC_QUOTA_EXCEEDED = 0x97,
        MQL_RC_ADMINISTRATIVE_ACTION = 0x98,
        MQL_RC_PAYLOAD_FORMAT_INVALID = 0x99,
        MQL_RC_RETAIN_NOT_SUPPORTED = 0x9A,
        MQL_RC_QOS_NOT_SUPPORTED = 0x9B,
        MQL_RC_USE_ANOTHER_SERVER = 0x9C,
        MQL_RC_SERVER_MOVED = 0x9D,
        MQL_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E,
        MQL_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
        MQL_RC_MAXIMUM_CONNECT_TIME = 0xA0,
        MQL_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1,
        MQL_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2,
};

/* MQTT 3.1.1 CONNACK return codes (carried in mql_connack.reason_code). */
enum mql_v311_connack_rc {
        MQL_V311_ACCEPTED = 0,
        MQL_V311_UNACCEPTABLE_PROTOCOL_VERSION = 1,
        MQL_V311_IDENTIFIER_REJECTED = 2,
        MQL_V311_SERVER_UNAVAILABLE = 3,
        MQL_V311_BAD_USER_NAME_OR_PASSWORD = 4,
        MQL_V311_NOT_AUTHORIZED = 5,
};

/* The specification's name of an MQTT 5 reason code ("Success", "Quota
 * exceeded"…), or "Unknown reason code". Never NULL; static storage. Where
 * one value has several names (0x00) the general one is given; see
 * mql_reason_str_for() for the name a given packet uses. */
const char *mql_reason_str(unsigned reason);
/* The name of `reason` as packet `type` defines it, for `version` (3.1.1
 * CONNACK return codes included), or NULL if the packet does not define it. */
const char *mql_reason_str_for(enum mql_packet_type type, enum mql_version version,
                               unsigned reason);
/* Whether `reason` is defined for `type` packets in MQTT 5. */
bool mql_reason_valid(enum mql_packet_type type, unsigned reason);

/* ---- Packets ---------------------------------------------------------- */

struct mql_connect {
        enum mql_version version; /* decoded from the protocol level */
        bool clean_start;         /* Clean Session in 3.1.1 */
        uint16_t keepalive;       /* seconds */
        struct mql_props props;
        struct mql_str client_id;
        bool will;
        uint8_t will_qos;
        bool will_retain;
        struct mql_props will_props;
        struct mql_str will_topic;
        struct mql_bin will_payload;
        bool has_username;
        struct mql_str username;
        bool has_password;
        struct mql_bin password;
};

struct mql_connack {
        bool session_present;
        uint8_t reason_code; /* 3.1.1: return code 0-5 */
        struct mql_props props;
};

struct mql_publish {
        bool dup;
        uint8_t qos;
        bool retain;
        struct mql_str topic;
        uint16_t packet_id; /* only for QoS 1 and 2 */
        struct mql_props props;
        struct mql_bin payload;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP. In MQTT 5 the encoder uses the short
 * forms: 2 bytes when reason 0 and no properties, 3 without properties. */
struct mql_ack {
        uint16_t packet_id;
        uint8_t reason_code;
        struct mql_props props;
};

/* One topic filter of SUBSCRIBE (with options) or UNSUBSCRIBE. */
struct mql_subscription {
        struct mql_str filter;
        uint8_t qos;
        bool no_local;           /* MQTT 5 */
        bool retain_as_published; /* MQTT 5 */
        uint8_t retain_handling; /* MQTT 5: 0, 1 or 2 */
};

/* The filter list of SUBSCRIBE or UNSUBSCRIBE. Like mql_props: the decoder
 * sets `raw` (the payload, validated), the encoder takes `list` (or `raw`,
 * copied as is). Walk it with mql_filter_iter_*. */
struct mql_filters {
        const uint8_t *raw;
        size_t raw_len;
        const struct mql_subscription *list;
        size_t count;
};

struct mql_subscribe { /* SUBSCRIBE and UNSUBSCRIBE */
        uint16_t packet_id;
        struct mql_props props;
        struct mql_filters filters;
};

struct mql_suback { /* SUBACK and UNSUBACK */
        uint16_t packet_id;
        struct mql_props props;
        struct mql_bin reasons; /* one reason code per filter; empty in a
                                   3.1.1 UNSUBACK */
};

struct mql_disconnect { /* DISCONNECT and AUTH; MQTT 5 fields */
        uint8_t reason_code;
        struct mql_props props;
};

struct mql_packet {
        enum mql_packet_type type;
        union {
                struct mql_connect connect;
                struct mql_connack connack;
                struct mql_publish publish;
                struct mql_ack ack;             /* PUBACK PUBREC PUBREL PUBCOMP */
                struct mql_subscribe subscribe; /* SUBSCRIBE UNSUBSCRIBE */
                struct mql_suback suback;       /* SUBACK UNSUBACK */
                struct mql_disconnect disconnect; /* DISCONNECT */
                struct mql_disconnect auth;       /* AUTH */
        };
};

struct mql_filter_iter {
        const struct mql_filters *filters; /* borrowed */
        bool options;                      /* SUBSCRIBE: an options byte follows */
        size_t pos;
};

/* `type` is MQL_SUBSCRIBE or MQL_UNSUBSCRIBE; it tells the raw layout (an
 * UNSUBSCRIBE has no options byte), so pass the type of the packet the list
 * came from. The walk yields `raw` first, then `list`. */
void mql_filter_iter_init(struct mql_filter_iter *it, const struct mql_filters *filters,
                          enum mql_packet_type type);
/* Returns 1 and fills *ret with the next filter, 0 at the end. */
int mql_filter_iter_next(struct mql_filter_iter *it, struct mql_subscription *ret);

/*
 * The whole length (fixed header included) of the packet starting at `buf`,
 * known as soon as its fixed header is complete, before the rest has
 * arrived: a reader sizes its buffer, or refuses a packet larger than it
 * allows, from it. Returns the length, 0 while the fixed header is
 * incomplete, -EBADMSG when the Remaining Length is malformed. Reads at most
 * 5 bytes.
 */
ssize_t mql_packet_length(const uint8_t *buf, size_t len);

/*
 * Framing: tells from the first `len` bytes of a stream whether a whole packet
 * is there. Returns the whole packet's length (fixed header included) when
 * it is, 0 when more bytes are needed, -EBADMSG when the Remaining Length is
 * malformed (longer than 4 bytes, or not in its shortest form). Reads at most
 * 5 bytes.
 */
ssize_t mql_packet_frame(const uint8_t *buf, size_t len);

/*
 * Decodes one packet from the start of `buf`. `version` is the protocol
 * version of the connection (any value but MQL_V5 means 3.1.1); a CONNECT
 * carries its own and ignores it. A bad first byte (type 0, reserved flags)
 * is refused before the rest of the packet has arrived. When a packet has
 * several faults, the first in byte order decides the error.
 * Returns the bytes consumed (> 0) with *ret filled, 0 if `buf` holds less
 * than one whole packet (*ret untouched), or a negative errno listed at the
 * top of this file. Views in *ret point into `buf`.
 */
ssize_t mql_packet_decode(const uint8_t *buf, size_t len, enum mql_version version,
                          struct mql_packet *ret);

/*
 * Size in bytes of `pkt` encoded for `version` (CONNECT uses its own
 * `connect.version`). Returns the size, -EINVAL for a packet that cannot be
 * encoded (see the checks of mql_packet_encode()), or -EMSGSIZE.
 */
ssize_t mql_packet_size(const struct mql_packet *pkt, enum mql_version version);

/*
 * Encodes `pkt` for `version` into buf[0..cap). Returns the bytes written,
 * -ENOBUFS if cap is less than mql_packet_size(), -EINVAL for a packet a
 * receiver would reject (QoS > 2, packet id 0 where one is required, a
 * property not allowed on the packet or repeated, AUTH or properties in
 * 3.1.1, ill-formed UTF-8, a string longer than 65,535 bytes, wildcards in a
 * PUBLISH topic, an empty filter list), -EMSGSIZE if too large. Nothing
 * is written on error.
 */
ssize_t mql_packet_encode(const struct mql_packet *pkt, enum mql_version version, uint8_t *buf,
                          size_t cap);

/* The packet type's name ("CONNECT"…), or "UNKNOWN". */
const char *mql_packet_type_str(unsigned type);

#ifdef __cplusplus
}
#endif

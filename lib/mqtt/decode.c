/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "util/macro.h"

/*
 * Each decode_* reads the variable header and payload of one packet type
 * from a cursor spanning exactly its Remaining Length; decode() checks that
 * nothing is left over. They fill `p` and return 0 or a negative errno.
 */

MQL_EXPORT ssize_t mql_packet_length(const uint8_t *buf, size_t len) {
        uint32_t rl = 0;

        for (unsigned i = 0; i < 4; i++) {
                if (1 + i >= len)
                        return 0;
                uint8_t b = buf[1 + i];
                rl |= (uint32_t)(b & 0x7F) << (7 * i);
                if (!(b & 0x80)) {
                        if (i > 0 && b == 0) /* MQTT-1.5.5-1: shortest form */
                                return -EBADMSG;
                        return (ssize_t)(1 + (i + 1) + rl);
                }
        }
        return -EBADMSG;
}

MQL_EXPORT ssize_t mql_packet_frame(const uint8_t *buf, size_t len) {
        ssize_t n = mql_packet_length(buf, len);
        if (n > 0 && (size_t)n > len)
                return 0;
        return n;
}

bool mql__has_wildcard(const char *s, size_t len) {
        return len > 0 && (memchr(s, '+', len) || memchr(s, '#', len));
}

/* A packet identifier that must not be 0 (MQTT-2.2.1-3). */
static int get_packet_id(struct rcursor *c, uint16_t *ret) {
        int r = get_u16(c, ret);
        if (r < 0)
                return r;
        return *ret ? 0 : -EPROTO;
}

static int get_props(struct rcursor *c, enum mql_version v, enum mql_packet_type type,
                     struct mql_props *ret) {
        if (v != MQL_V5)
                return 0;
        return mql__props_decode(c, type, false, ret);
}

static int decode_will(struct rcursor *c, struct mql_connect *p) {
        int r;

        if (p->version == MQL_V5) {
                r = mql__props_decode(c, MQL_CONNECT, true, &p->will_props);
                if (r < 0)
                        return r;
        }
        r = mql__get_str(c, &p->will_topic.ptr, &p->will_topic.len);
        if (r < 0)
                return r;
        /* The Will Topic is a topic name: non-empty, no wildcards. */
        if (p->will_topic.len == 0 || mql__has_wildcard(p->will_topic.ptr, p->will_topic.len))
                return -EPROTO;
        return mql__get_bin(c, &p->will_payload.ptr, &p->will_payload.len);
}

static int decode_connect(struct rcursor *c, struct mql_connect *p) {
        const char *name;
        size_t name_len;
        uint8_t level, flags;
        int r;

        r = mql__get_str(c, &name, &name_len);
        if (r < 0)
                return r;
        r = get_u8(c, &level);
        if (r < 0)
                return r;
        /* The level first: an MQTT 3.1 client ("MQIsdp", level 3) is owed a
         * CONNACK "unacceptable protocol version" (3.1.1 §3.1.2.2). */
        if (level != MQL_V311 && level != MQL_V5)
                return -EPROTONOSUPPORT;
        if (name_len != 4 || memcmp(name, "MQTT", 4) != 0)
                return -EPROTO;
        p->version = (enum mql_version)level;

        r = get_u8(c, &flags);
        if (r < 0)
                return r;
        r = get_u16(c, &p->keepalive);
        if (r < 0)
                return r;

        /* MQTT-3.1.2-3: reserved bit. MQTT-3.1.2-11/12/13: will QoS and retain
         * only with the will flag, and QoS 3 never. */
        p->clean_start = flags & 0x02;
        p->will = flags & 0x04;
        p->will_qos = (flags >> 3) & 0x3;
        p->will_retain = flags & 0x20;
        p->has_password = flags & 0x40;
        p->has_username = flags & 0x80;
        if (flags & 0x01)
                return -EBADMSG;
        if (p->will_qos == 3 || (!p->will && (p->will_qos || p->will_retain)))
                return -EBADMSG;
        if (p->version == MQL_V311 && p->has_password && !p->has_username)
                return -EPROTO; /* MQTT-3.1.2-22 */

        if (p->version == MQL_V5) {
                r = mql__props_decode(c, MQL_CONNECT, false, &p->props);
                if (r < 0)
                        return r;
        }
        r = mql__get_str(c, &p->client_id.ptr, &p->client_id.len);
        if (r < 0)
                return r;
        if (p->will) {
                r = decode_will(c, p);
                if (r < 0)
                        return r;
        }
        if (p->has_username) {
                r = mql__get_str(c, &p->username.ptr, &p->username.len);
                if (r < 0)
                        return r;
        }
        if (p->has_password)
                return mql__get_bin(c, &p->password.ptr, &p->password.len);
        return 0;
}

static int decode_connack(struct rcursor *c, enum mql_version v, struct mql_connack *p) {
        uint8_t flags;
        int r;

        r = get_u8(c, &flags);
        if (r < 0)
                return r;
        r = get_u8(c, &p->reason_code);
        if (r < 0)
                return r;
        if (flags & 0xFE) /* MQTT-3.2.2-1 */
                return -EBADMSG;
        p->session_present = flags & 0x01;

        if (v == MQL_V311 ? p->reason_code > MQL_V311_NOT_AUTHORIZED
                          : !mql_reason_valid(MQL_CONNACK, p->reason_code))
                return -EPROTO;
        /* MQTT-3.2.2-4 (3.1.1), MQTT-3.2.2-6 (5): no session on refusal. */
        if (p->session_present && p->reason_code != 0)
                return -EPROTO;
        return get_props(c, v, MQL_CONNACK, &p->props);
}

static int decode_publish(struct rcursor *c, enum mql_version v, uint8_t flags,
                          struct mql_publish *p) {
        int r;

        p->dup = flags & 0x8;
        p->qos = (flags >> 1) & 0x3;
        p->retain = flags & 0x1;
        if (p->qos == 3) /* MQTT-3.3.1-4 */
                return -EBADMSG;
        if (p->dup && p->qos == 0) /* MQTT-3.3.1-2 */
                return -EPROTO;

        r = mql__get_str(c, &p->topic.ptr, &p->topic.len);
        if (r < 0)
                return r;
        if (mql__has_wildcard(p->topic.ptr, p->topic.len)) /* MQTT-3.3.2-2 */
                return -EPROTO;
        if (p->qos > 0) {
                r = get_packet_id(c, &p->packet_id);
                if (r < 0)
                        return r;
        }
        r = get_props(c, v, MQL_PUBLISH, &p->props);
        if (r < 0)
                return r;

        /* An empty topic name stands only for a Topic Alias (MQTT 5
         * §3.3.2.3.4); 3.1.1 requires at least one character (MQTT-4.7.3-1). */
        if (p->topic.len == 0) {
                struct mql_prop alias;
                if (v != MQL_V5 || !mql_props_find(&p->props, MQL_PROP_TOPIC_ALIAS, &alias))
                        return -EPROTO;
        }

        p->payload.ptr = rc_here(c);
        p->payload.len = rc_left(c);
        c->pos = c->len;
        return 0;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP: in MQTT 5 the reason code and the
 * properties may be left out (§3.4.2.1: Remaining Length 2 means Success). */
static int decode_ack(struct rcursor *c, enum mql_version v, enum mql_packet_type type,
                      struct mql_ack *p) {
        int r;

        r = get_packet_id(c, &p->packet_id);
        if (r < 0)
                return r;
        if (v != MQL_V5 || rc_left(c) == 0)
                return 0;
        r = get_u8(c, &p->reason_code);
        if (r < 0)
                return r;
        if (!mql_reason_valid(type, p->reason_code))
                return -EPROTO;
        if (rc_left(c) == 0)
                return 0;
        return mql__props_decode(c, type, false, &p->props);
}

static int decode_subscribe(struct rcursor *c, enum mql_version v, enum mql_packet_type type,
                            struct mql_subscribe *p) {
        int r;

        r = get_packet_id(c, &p->packet_id);
        if (r < 0)
                return r;
        r = get_props(c, v, type, &p->props);
        if (r < 0)
                return r;
        return mql__filters_decode(c, type == MQL_SUBSCRIBE, v, &p->filters);
}

static bool suback_code_ok(enum mql_version v, enum mql_packet_type type, uint8_t rc) {
        if (v == MQL_V5)
                return mql_reason_valid(type, rc);
        return rc <= 2 || rc == 0x80; /* 3.1.1 §3.9.3 */
}

static int decode_suback(struct rcursor *c, enum mql_version v, enum mql_packet_type type,
                         struct mql_suback *p) {
        int r;

        r = get_packet_id(c, &p->packet_id);
        if (r < 0)
                return r;
        /* A 3.1.1 UNSUBACK is only the packet identifier. */
        if (v == MQL_V311 && type == MQL_UNSUBACK)
                return 0;
        r = get_props(c, v, type, &p->props);
        if (r < 0)
                return r;

        p->reasons.ptr = rc_here(c);
        p->reasons.len = rc_left(c);
        c->pos = c->len;
        if (p->reasons.len == 0)
                return -EPROTO;
        for (size_t i = 0; i < p->reasons.len; i++)
                if (!suback_code_ok(v, type, p->reasons.ptr[i]))
                        return -EPROTO;
        return 0;
}

/* DISCONNECT and AUTH: Remaining Length 0 means reason 0 without properties,
 * 1 the reason without properties (MQTT 5 §3.14.2.1, §3.15.2.1). */
static int decode_disconnect(struct rcursor *c, enum mql_version v, enum mql_packet_type type,
                             struct mql_disconnect *p) {
        int r;

        if (v != MQL_V5 || rc_left(c) == 0)
                return 0;
        r = get_u8(c, &p->reason_code);
        if (r < 0)
                return r;
        if (!mql_reason_valid(type, p->reason_code))
                return -EPROTO;
        if (rc_left(c) == 0)
                return 0;
        return mql__props_decode(c, type, false, &p->props);
}

static int decode_body(struct rcursor *c, enum mql_version v, uint8_t flags,
                       struct mql_packet *p) {
        switch (p->type) {
        case MQL_CONNECT:
                return decode_connect(c, &p->connect);
        case MQL_CONNACK:
                return decode_connack(c, v, &p->connack);
        case MQL_PUBLISH:
                return decode_publish(c, v, flags, &p->publish);
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                return decode_ack(c, v, p->type, &p->ack);
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                return decode_subscribe(c, v, p->type, &p->subscribe);
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                return decode_suback(c, v, p->type, &p->suback);
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                return 0;
        case MQL_DISCONNECT:
        case MQL_AUTH:
                return decode_disconnect(c, v, p->type, &p->disconnect);
        }
        return -EBADMSG;
}

MQL_EXPORT ssize_t mql_packet_decode(const uint8_t *buf, size_t len, enum mql_version version,
                                     struct mql_packet *ret) {
        if (len == 0)
                return 0;

        /* The first byte is judged as soon as it is there, so a reader
         * drops a broken stream before waiting for its declared length. */
        uint8_t type = buf[0] >> 4, flags = buf[0] & 0xF;
        if (version != MQL_V5)
                version = MQL_V311;
        /* Type 0 is reserved; 15 (AUTH) exists only in MQTT 5. */
        if (type == 0 || (type == MQL_AUTH && version != MQL_V5))
                return -EBADMSG;
        /* MQTT-2.1.3-1: fixed flags of every type but PUBLISH. */
        if (type != MQL_PUBLISH && flags != mql__fixed_flags(type))
                return -EBADMSG;

        ssize_t n = mql_packet_frame(buf, len);
        if (n <= 0)
                return n;

        struct rcursor c = rcursor_make(buf, (size_t)n);
        uint32_t rl;
        c.pos = 1;
        if (mql__get_varint(&c, &rl) < 0)
                return -EBADMSG;
        struct rcursor body;
        if (get_sub(&c, rl, &body) < 0)
                return -EBADMSG;

        struct mql_packet p = { .type = (enum mql_packet_type)type };
        int r = decode_body(&body, version, flags, &p);
        if (r < 0)
                return r;
        if (rc_left(&body) > 0)
                return -EBADMSG;
        *ret = p;
        return n;
}

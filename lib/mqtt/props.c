/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "util/macro.h"
#include "util/utf8.h"

/* Bit 0 of `where` stands for the Will Properties of CONNECT, bit N for
 * packet type N: the table of MQTT 5 §2.2.2.2. */
#define WILL (1u << 0)
#define P(t) (1u << MQL_##t)

struct prop_info {
        const char *name;
        uint8_t type;
        uint16_t where;
        /* A value the property may not take (a Protocol Error), checked on
         * both sides: 0 for Receive Maximum and the like; for byte
         * properties every one of them is a 0/1 flag, so anything above 1. */
        bool nonzero;
};

static const struct prop_info props[] = {
        [MQL_PROP_PAYLOAD_FORMAT_INDICATOR] = { "Payload Format Indicator", MQL_PROP_TYPE_BYTE,
                                                P(PUBLISH) | WILL },
        [MQL_PROP_MESSAGE_EXPIRY_INTERVAL] = { "Message Expiry Interval", MQL_PROP_TYPE_U32,
                                               P(PUBLISH) | WILL },
        [MQL_PROP_CONTENT_TYPE] = { "Content Type", MQL_PROP_TYPE_STRING, P(PUBLISH) | WILL },
        [MQL_PROP_RESPONSE_TOPIC] = { "Response Topic", MQL_PROP_TYPE_STRING, P(PUBLISH) | WILL },
        [MQL_PROP_CORRELATION_DATA] = { "Correlation Data", MQL_PROP_TYPE_BINARY,
                                        P(PUBLISH) | WILL },
        [MQL_PROP_SUBSCRIPTION_IDENTIFIER] = { "Subscription Identifier", MQL_PROP_TYPE_VARINT,
                                               P(PUBLISH) | P(SUBSCRIBE), true },
        [MQL_PROP_SESSION_EXPIRY_INTERVAL] = { "Session Expiry Interval", MQL_PROP_TYPE_U32,
                                               P(CONNECT) | P(CONNACK) | P(DISCONNECT) },
        [MQL_PROP_ASSIGNED_CLIENT_IDENTIFIER] = { "Assigned Client Identifier",
                                                  MQL_PROP_TYPE_STRING, P(CONNACK) },
        [MQL_PROP_SERVER_KEEP_ALIVE] = { "Server Keep Alive", MQL_PROP_TYPE_U16, P(CONNACK) },
        [MQL_PROP_AUTHENTICATION_METHOD] = { "Authentication Method", MQL_PROP_TYPE_STRING,
                                             P(CONNECT) | P(CONNACK) | P(AUTH) },
        [MQL_PROP_AUTHENTICATION_DATA] = { "Authentication Data", MQL_PROP_TYPE_BINARY,
                                           P(CONNECT) | P(CONNACK) | P(AUTH) },
        [MQL_PROP_REQUEST_PROBLEM_INFORMATION] = { "Request Problem Information",
                                                   MQL_PROP_TYPE_BYTE, P(CONNECT) },
        [MQL_PROP_WILL_DELAY_INTERVAL] = { "Will Delay Interval", MQL_PROP_TYPE_U32, WILL },
        [MQL_PROP_REQUEST_RESPONSE_INFORMATION] = { "Request Response Information",
                                                    MQL_PROP_TYPE_BYTE, P(CONNECT) },
        [MQL_PROP_RESPONSE_INFORMATION] = { "Response Information", MQL_PROP_TYPE_STRING,
                                            P(CONNACK) },
        [MQL_PROP_SERVER_REFERENCE] = { "Server Reference", MQL_PROP_TYPE_STRING,
                                        P(CONNACK) | P(DISCONNECT) },
        [MQL_PROP_REASON_STRING] = { "Reason String", MQL_PROP_TYPE_STRING,
                                     P(CONNACK) | P(PUBACK) | P(PUBREC) | P(PUBREL) |
                                             P(PUBCOMP) | P(SUBACK) | P(UNSUBACK) |
                                             P(DISCONNECT) | P(AUTH) },
        [MQL_PROP_RECEIVE_MAXIMUM] = { "Receive Maximum", MQL_PROP_TYPE_U16,
                                       P(CONNECT) | P(CONNACK), true },
        [MQL_PROP_TOPIC_ALIAS_MAXIMUM] = { "Topic Alias Maximum", MQL_PROP_TYPE_U16,
                                           P(CONNECT) | P(CONNACK) },
        [MQL_PROP_TOPIC_ALIAS] = { "Topic Alias", MQL_PROP_TYPE_U16, P(PUBLISH), true },
        [MQL_PROP_MAXIMUM_QOS] = { "Maximum QoS", MQL_PROP_TYPE_BYTE, P(CONNACK) },
        [MQL_PROP_RETAIN_AVAILABLE] = { "Retain Available", MQL_PROP_TYPE_BYTE, P(CONNACK) },
        [MQL_PROP_USER_PROPERTY] = { "User Property", MQL_PROP_TYPE_STRING_PAIR,
                                     P(CONNECT) | P(CONNACK) | P(PUBLISH) | WILL | P(PUBACK) |
                                             P(PUBREC) | P(PUBREL) | P(PUBCOMP) | P(SUBSCRIBE) |
                                             P(SUBACK) | P(UNSUBSCRIBE) | P(UNSUBACK) |
                                             P(DISCONNECT) | P(AUTH) },
        [MQL_PROP_MAXIMUM_PACKET_SIZE] = { "Maximum Packet Size", MQL_PROP_TYPE_U32,
                                           P(CONNECT) | P(CONNACK), true },
        [MQL_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE] = { "Wildcard Subscription Available",
                                                       MQL_PROP_TYPE_BYTE, P(CONNACK) },
        [MQL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE] = { "Subscription Identifier Available",
                                                         MQL_PROP_TYPE_BYTE, P(CONNACK) },
        [MQL_PROP_SHARED_SUBSCRIPTION_AVAILABLE] = { "Shared Subscription Available",
                                                     MQL_PROP_TYPE_BYTE, P(CONNACK) },
};

static const struct prop_info *prop_info(unsigned id) {
        if (id >= ELEMENTSOF(props) || !props[id].name)
                return NULL;
        return &props[id];
}

MQL_EXPORT enum mql_prop_type mql_prop_type(unsigned id) {
        const struct prop_info *pi = prop_info(id);
        return pi ? (enum mql_prop_type)pi->type : MQL_PROP_TYPE_INVALID;
}

MQL_EXPORT const char *mql_prop_name(unsigned id) {
        const struct prop_info *pi = prop_info(id);
        return pi ? pi->name : NULL;
}

MQL_EXPORT bool mql_prop_allowed(unsigned id, enum mql_packet_type type, bool will) {
        const struct prop_info *pi = prop_info(id);
        if (!pi || type < MQL_CONNECT || type > MQL_AUTH || (will && type != MQL_CONNECT))
                return false;
        return pi->where & (will ? WILL : 1u << type);
}

/* User Property may always repeat; Subscription Identifier only in PUBLISH,
 * once per matching subscription (MQTT 5 §3.3.2.3.8). */
static bool prop_repeats(unsigned id, enum mql_packet_type type) {
        return id == MQL_PROP_USER_PROPERTY ||
               (id == MQL_PROP_SUBSCRIPTION_IDENTIFIER && type == MQL_PUBLISH);
}

static bool prop_value_ok(const struct prop_info *pi, const struct mql_prop *p) {
        if (pi->type == MQL_PROP_TYPE_BYTE)
                return p->u32 <= 1;
        if (pi->nonzero)
                return p->u32 != 0;
        return true;
}

/* Reads one property, id and value, without judging it. -EBADMSG for an
 * unknown id or a truncated or ill-formed value. */
static int prop_read(struct rcursor *c, struct mql_prop *ret) {
        uint32_t id, v = 0;
        uint8_t b = 0;
        uint16_t w = 0;
        int r;

        /* The identifier is a Variable Byte Integer (MQTT 5 §2.2.2.2). */
        r = mql__get_varint(c, &id);
        if (r < 0)
                return r;
        const struct prop_info *pi = prop_info(id);
        if (!pi)
                return -EBADMSG;

        ret->id = (enum mql_prop_id)id;
        switch (pi->type) {
        case MQL_PROP_TYPE_BYTE:
                r = get_u8(c, &b);
                ret->u32 = b;
                return r;
        case MQL_PROP_TYPE_U16:
                r = get_u16(c, &w);
                ret->u32 = w;
                return r;
        case MQL_PROP_TYPE_U32:
                r = get_u32(c, &v);
                ret->u32 = v;
                return r;
        case MQL_PROP_TYPE_VARINT:
                r = mql__get_varint(c, &v);
                ret->u32 = v;
                return r;
        case MQL_PROP_TYPE_STRING:
                return mql__get_str(c, &ret->str.ptr, &ret->str.len);
        case MQL_PROP_TYPE_BINARY:
                return mql__get_bin(c, &ret->bin.ptr, &ret->bin.len);
        case MQL_PROP_TYPE_STRING_PAIR:
                r = mql__get_str(c, &ret->pair.key.ptr, &ret->pair.key.len);
                if (r < 0)
                        return r;
                return mql__get_str(c, &ret->pair.value.ptr, &ret->pair.value.len);
        }
        return -EBADMSG;
}

/* Marks id as seen; false if it was seen before and may not repeat. Every
 * identifier is below 64. */
static bool mark_seen(uint64_t *seen, unsigned id, enum mql_packet_type type) {
        uint64_t bit = UINT64_C(1) << id;
        if ((*seen & bit) && !prop_repeats(id, type))
                return false;
        *seen |= bit;
        return true;
}

int mql__props_decode(struct rcursor *c, enum mql_packet_type type, bool will,
                      struct mql_props *ret) {
        struct rcursor block;
        uint32_t len;
        uint64_t seen = 0;
        int r;

        r = mql__get_varint(c, &len);
        if (r < 0)
                return r;
        r = get_sub(c, len, &block);
        if (r < 0)
                return r;

        while (rc_left(&block) > 0) {
                struct mql_prop p;
                r = prop_read(&block, &p);
                if (r < 0)
                        return r;
                const struct prop_info *pi = prop_info(p.id);
                /* An identifier not valid for the packet is a Malformed
                 * Packet (MQTT 5 §2.2.2.2); a repeat is a Protocol Error. */
                if (!mql_prop_allowed(p.id, type, will))
                        return -EBADMSG;
                if (!mark_seen(&seen, p.id, type))
                        return -EPROTO;
                if (!prop_value_ok(pi, &p))
                        return -EPROTO;
        }

        *ret = (struct mql_props){ .raw = block.buf, .raw_len = block.len };
        return 0;
}

static size_t prop_value_size(const struct mql_prop *p, uint8_t type) {
        switch (type) {
        case MQL_PROP_TYPE_BYTE:
                return 1;
        case MQL_PROP_TYPE_U16:
                return 2;
        case MQL_PROP_TYPE_U32:
                return 4;
        case MQL_PROP_TYPE_VARINT:
                return varint_size(p->u32);
        case MQL_PROP_TYPE_STRING:
                return 2 + p->str.len;
        case MQL_PROP_TYPE_BINARY:
                return 2 + p->bin.len;
        default:
                return 4 + p->pair.key.len + p->pair.value.len;
        }
}

bool mql__str_ok(struct mql_str s) {
        if (s.len == 0)
                return true;
        return s.len <= UINT16_MAX && s.ptr &&
               mql__utf8_check((const uint8_t *)s.ptr, s.len) == 0;
}

bool mql__bin_ok(struct mql_bin b) {
        return b.len == 0 || (b.len <= UINT16_MAX && b.ptr);
}

/* The checks a receiver makes, for a property the caller hands us. */
static int prop_check(const struct mql_prop *p, enum mql_packet_type type, bool will) {
        const struct prop_info *pi = prop_info(p->id);

        if (!pi || !mql_prop_allowed(p->id, type, will) || !prop_value_ok(pi, p))
                return -EINVAL;
        switch (pi->type) {
        case MQL_PROP_TYPE_U16:
                return p->u32 <= UINT16_MAX ? 0 : -EINVAL;
        case MQL_PROP_TYPE_VARINT:
                return p->u32 <= MQL_MAX_REMAINING_LENGTH ? 0 : -EINVAL;
        case MQL_PROP_TYPE_STRING:
                return mql__str_ok(p->str) ? 0 : -EINVAL;
        case MQL_PROP_TYPE_BINARY:
                return mql__bin_ok(p->bin) ? 0 : -EINVAL;
        case MQL_PROP_TYPE_STRING_PAIR:
                return mql__str_ok(p->pair.key) && mql__str_ok(p->pair.value) ? 0 : -EINVAL;
        default:
                return 0;
        }
}

ssize_t mql__props_size(const struct mql_props *p, enum mql_packet_type type, bool will) {
        uint64_t seen = 0;
        size_t size = p->raw_len;

        if (p->count > 0 && !p->list)
                return -EINVAL;

        /* The raw block was validated alone; a list entry must not repeat
         * what it already holds. */
        struct rcursor c = rcursor_make(p->raw, p->raw_len);
        while (rc_left(&c) > 0) {
                struct mql_prop q;
                if (prop_read(&c, &q) < 0)
                        return -EINVAL;
                if (!mark_seen(&seen, q.id, type))
                        return -EINVAL;
        }

        for (size_t i = 0; i < p->count; i++) {
                const struct mql_prop *q = &p->list[i];
                if (prop_check(q, type, will) < 0 || !mark_seen(&seen, q->id, type))
                        return -EINVAL;
                size += 1 + prop_value_size(q, props[q->id].type);
                if (size > MQL_MAX_REMAINING_LENGTH)
                        return -EMSGSIZE;
        }
        if (size > MQL_MAX_REMAINING_LENGTH)
                return -EMSGSIZE;
        return (ssize_t)size;
}

static void prop_write(struct wcursor *c, const struct mql_prop *p) {
        put_u8(c, (uint8_t)p->id);
        switch (props[p->id].type) {
        case MQL_PROP_TYPE_BYTE:
                put_u8(c, (uint8_t)p->u32);
                break;
        case MQL_PROP_TYPE_U16:
                put_u16(c, (uint16_t)p->u32);
                break;
        case MQL_PROP_TYPE_U32:
                put_u32(c, p->u32);
                break;
        case MQL_PROP_TYPE_VARINT:
                put_varint(c, p->u32);
                break;
        case MQL_PROP_TYPE_STRING:
                put_bin(c, p->str.ptr, p->str.len);
                break;
        case MQL_PROP_TYPE_BINARY:
                put_bin(c, p->bin.ptr, p->bin.len);
                break;
        case MQL_PROP_TYPE_STRING_PAIR:
                put_bin(c, p->pair.key.ptr, p->pair.key.len);
                put_bin(c, p->pair.value.ptr, p->pair.value.len);
                break;
        }
}

void mql__props_write(struct wcursor *c, const struct mql_props *p, size_t block) {
        put_varint(c, (uint32_t)block);
        mql__props_write_block(c, p);
}

void mql__props_write_block(struct wcursor *c, const struct mql_props *p) {
        put_bytes(c, p->raw, p->raw_len);
        for (size_t i = 0; i < p->count; i++)
                prop_write(c, &p->list[i]);
}

MQL_EXPORT void mql_prop_iter_init(struct mql_prop_iter *it, const struct mql_props *p) {
        *it = (struct mql_prop_iter){ .props = p };
}

MQL_EXPORT int mql_prop_iter_next(struct mql_prop_iter *it, struct mql_prop *ret) {
        const struct mql_props *p = it->props;

        if (it->pos < p->raw_len) {
                struct rcursor c = rcursor_make(p->raw, p->raw_len);
                c.pos = it->pos;
                /* Validated by the decoder; a failure here means the caller
                 * handed us bytes of its own: end the walk, read nothing. */
                if (prop_read(&c, ret) < 0) {
                        it->pos = p->raw_len + p->count;
                        return 0;
                }
                it->pos = c.pos;
                return 1;
        }
        size_t i = it->pos - p->raw_len;
        if (i >= p->count)
                return 0;
        *ret = p->list[i];
        it->pos++;
        return 1;
}

MQL_EXPORT int mql_props_find(const struct mql_props *p, enum mql_prop_id id,
                              struct mql_prop *ret) {
        struct mql_prop_iter it;
        struct mql_prop q;

        mql_prop_iter_init(&it, p);
        while (mql_prop_iter_next(&it, &q) > 0)
                if (q.id == id) {
                        *ret = q;
                        return 1;
                }
        return 0;
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "util/buf.h"
#include "util/macro.h"

/*
 * Encoding is planned, then written. plan() checks the packet as a receiver
 * would and sizes every part; write() then cannot fail but for the buffer,
 * which encode() has already measured. Both phases share one plan so the
 * sizes written into length prefixes are the sizes of what follows.
 */
struct plan {
        enum mql_version version;
        size_t body;       /* Remaining Length */
        size_t props;      /* the property block, without its length */
        size_t will_props; /* CONNECT: the Will Properties block */
        bool reason;       /* MQTT 5 short forms: reason code present */
        bool prop_len;     /*                     Property Length present */
};

static size_t props_field(size_t block) {
        return varint_size((uint32_t)block) + block;
}

/* Sizes the properties of a packet; in 3.1.1 there must be none. */
static int plan_props(struct plan *pl, const struct mql_props *p, enum mql_packet_type type) {
        if (pl->version != MQL_V5)
                return mql__props_empty(p) ? 0 : -EINVAL;
        ssize_t n = mql__props_size(p, type, false);
        if (n < 0)
                return (int)n;
        pl->props = (size_t)n;
        pl->prop_len = true;
        pl->body += props_field(pl->props);
        return 0;
}

static size_t str_field(size_t len) {
        return 2 + len;
}

static int plan_connect(struct plan *pl, const struct mql_connect *p) {
        int r;

        if (p->version != MQL_V311 && p->version != MQL_V5)
                return -EINVAL;
        pl->version = p->version;
        if (p->will_qos > 2 || (!p->will && (p->will_qos || p->will_retain)))
                return -EINVAL;
        if (p->version == MQL_V311 && p->has_password && !p->has_username)
                return -EINVAL; /* MQTT-3.1.2-22 */
        if (!mql__str_ok(p->client_id) || (p->has_username && !mql__str_ok(p->username)) ||
            (p->has_password && !mql__bin_ok(p->password)))
                return -EINVAL;

        pl->body = str_field(4) + 1 + 1 + 2 + str_field(p->client_id.len);
        r = plan_props(pl, &p->props, MQL_CONNECT);
        if (r < 0)
                return r;
        if (p->will) {
                if (p->will_topic.len == 0 || !mql__str_ok(p->will_topic) ||
                    mql__has_wildcard(p->will_topic.ptr, p->will_topic.len) ||
                    !mql__bin_ok(p->will_payload))
                        return -EINVAL;
                if (p->version == MQL_V5) {
                        ssize_t n = mql__props_size(&p->will_props, MQL_CONNECT, true);
                        if (n < 0)
                                return (int)n;
                        pl->will_props = (size_t)n;
                        pl->body += props_field(pl->will_props);
                } else if (!mql__props_empty(&p->will_props))
                        return -EINVAL;
                pl->body += str_field(p->will_topic.len) + str_field(p->will_payload.len);
        }
        if (p->has_username)
                pl->body += str_field(p->username.len);
        if (p->has_password)
                pl->body += str_field(p->password.len);
        return 0;
}

static int plan_connack(struct plan *pl, const struct mql_connack *p) {
        if (pl->version == MQL_V311 ? p->reason_code > MQL_V311_NOT_AUTHORIZED
                                    : !mql_reason_valid(MQL_CONNACK, p->reason_code))
                return -EINVAL;
        if (p->session_present && p->reason_code != 0)
                return -EINVAL;
        pl->body = 2;
        return plan_props(pl, &p->props, MQL_CONNACK);
}

static int plan_publish(struct plan *pl, const struct mql_publish *p) {
        if (p->qos > 2 || (p->qos > 0 && p->packet_id == 0) || (p->dup && p->qos == 0))
                return -EINVAL;
        if (!mql__str_ok(p->topic) || mql__has_wildcard(p->topic.ptr, p->topic.len) ||
            (p->payload.len > 0 && !p->payload.ptr))
                return -EINVAL;
        if (p->topic.len == 0) {
                struct mql_prop alias;
                if (pl->version != MQL_V5 ||
                    !mql_props_find(&p->props, MQL_PROP_TOPIC_ALIAS, &alias))
                        return -EINVAL;
        }
        pl->body = str_field(p->topic.len) + (p->qos > 0 ? 2 : 0);
        int r = plan_props(pl, &p->props, MQL_PUBLISH);
        if (r < 0)
                return r;
        if (p->payload.len > MQL_MAX_REMAINING_LENGTH)
                return -EMSGSIZE;
        pl->body += p->payload.len;
        return 0;
}

/* The MQTT 5 short forms of PUBACK…PUBCOMP, DISCONNECT and AUTH: leave out
 * what the receiver would assume anyway. AUTH may only drop both. */
static int plan_reason_props(struct plan *pl, enum mql_packet_type type, uint8_t reason,
                             const struct mql_props *props) {
        if (pl->version != MQL_V5)
                return reason == 0 && mql__props_empty(props) ? 0 : -EINVAL;
        if (!mql_reason_valid(type, reason))
                return -EINVAL;
        if (reason == 0 && mql__props_empty(props))
                return 0;
        pl->reason = true;
        pl->body += 1;
        if (mql__props_empty(props) && type != MQL_AUTH)
                return 0;
        return plan_props(pl, props, type);
}

static int plan_ack(struct plan *pl, enum mql_packet_type type, const struct mql_ack *p) {
        if (p->packet_id == 0)
                return -EINVAL;
        pl->body = 2;
        return plan_reason_props(pl, type, p->reason_code, &p->props);
}

static int plan_subscribe(struct plan *pl, enum mql_packet_type type,
                          const struct mql_subscribe *p) {
        if (p->packet_id == 0)
                return -EINVAL;
        pl->body = 2;
        int r = plan_props(pl, &p->props, type);
        if (r < 0)
                return r;
        ssize_t n = mql__filters_size(&p->filters, type == MQL_SUBSCRIBE, pl->version);
        if (n < 0)
                return (int)n;
        pl->body += (size_t)n;
        return 0;
}

static int plan_suback(struct plan *pl, enum mql_packet_type type, const struct mql_suback *p) {
        if (p->packet_id == 0)
                return -EINVAL;
        pl->body = 2;
        if (pl->version == MQL_V311 && type == MQL_UNSUBACK)
                return mql__props_empty(&p->props) ? 0 : -EINVAL;
        if (p->reasons.len == 0 || !p->reasons.ptr)
                return -EINVAL;
        for (size_t i = 0; i < p->reasons.len; i++) {
                uint8_t rc = p->reasons.ptr[i];
                if (pl->version == MQL_V5 ? !mql_reason_valid(type, rc) : rc > 2 && rc != 0x80)
                        return -EINVAL;
        }
        int r = plan_props(pl, &p->props, type);
        if (r < 0)
                return r;
        pl->body += p->reasons.len;
        return 0;
}

static int plan_packet(struct plan *pl, const struct mql_packet *p) {
        switch (p->type) {
        case MQL_CONNECT:
                return plan_connect(pl, &p->connect);
        case MQL_CONNACK:
                return plan_connack(pl, &p->connack);
        case MQL_PUBLISH:
                return plan_publish(pl, &p->publish);
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                return plan_ack(pl, p->type, &p->ack);
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                return plan_subscribe(pl, p->type, &p->subscribe);
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                return plan_suback(pl, p->type, &p->suback);
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                return 0;
        case MQL_DISCONNECT:
                return plan_reason_props(pl, MQL_DISCONNECT, p->disconnect.reason_code,
                                         &p->disconnect.props);
        case MQL_AUTH:
                if (pl->version != MQL_V5)
                        return -EINVAL;
                return plan_reason_props(pl, MQL_AUTH, p->auth.reason_code, &p->auth.props);
        }
        return -EINVAL;
}

static ssize_t plan(struct plan *pl, const struct mql_packet *p, enum mql_version version) {
        *pl = (struct plan){ .version = version == MQL_V5 ? MQL_V5 : MQL_V311 };
        int r = plan_packet(pl, p);
        if (r < 0)
                return r;
        if (pl->body > MQL_MAX_REMAINING_LENGTH)
                return -EMSGSIZE;
        return (ssize_t)(1 + varint_size((uint32_t)pl->body) + pl->body);
}

MQL_EXPORT ssize_t mql_packet_size(const struct mql_packet *p, enum mql_version version) {
        struct plan pl;
        return plan(&pl, p, version);
}

static void write_str(struct wcursor *c, struct mql_str s) {
        put_bin(c, s.ptr, s.len);
}

static void write_connect(struct wcursor *c, const struct plan *pl, const struct mql_connect *p) {
        uint8_t flags = (uint8_t)(p->clean_start << 1 | p->will << 2 | p->will_qos << 3 |
                                  p->will_retain << 5 | p->has_password << 6 |
                                  p->has_username << 7);

        write_str(c, (struct mql_str){ "MQTT", 4 });
        put_u8(c, (uint8_t)p->version);
        put_u8(c, flags);
        put_u16(c, p->keepalive);
        if (pl->prop_len)
                mql__props_write(c, &p->props, pl->props);
        write_str(c, p->client_id);
        if (p->will) {
                if (p->version == MQL_V5)
                        mql__props_write(c, &p->will_props, pl->will_props);
                write_str(c, p->will_topic);
                put_bin(c, p->will_payload.ptr, p->will_payload.len);
        }
        if (p->has_username)
                write_str(c, p->username);
        if (p->has_password)
                put_bin(c, p->password.ptr, p->password.len);
}

static void write_body(struct wcursor *c, const struct plan *pl, const struct mql_packet *p) {
        switch (p->type) {
        case MQL_CONNECT:
                write_connect(c, pl, &p->connect);
                return;
        case MQL_CONNACK:
                put_u8(c, p->connack.session_present);
                put_u8(c, p->connack.reason_code);
                if (pl->prop_len)
                        mql__props_write(c, &p->connack.props, pl->props);
                return;
        case MQL_PUBLISH:
                write_str(c, p->publish.topic);
                if (p->publish.qos > 0)
                        put_u16(c, p->publish.packet_id);
                if (pl->prop_len)
                        mql__props_write(c, &p->publish.props, pl->props);
                put_bytes(c, p->publish.payload.ptr, p->publish.payload.len);
                return;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                put_u16(c, p->ack.packet_id);
                if (pl->reason)
                        put_u8(c, p->ack.reason_code);
                if (pl->prop_len)
                        mql__props_write(c, &p->ack.props, pl->props);
                return;
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                put_u16(c, p->subscribe.packet_id);
                if (pl->prop_len)
                        mql__props_write(c, &p->subscribe.props, pl->props);
                mql__filters_write(c, &p->subscribe.filters, p->type == MQL_SUBSCRIBE);
                return;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                put_u16(c, p->suback.packet_id);
                if (pl->version == MQL_V311 && p->type == MQL_UNSUBACK)
                        return;
                if (pl->prop_len)
                        mql__props_write(c, &p->suback.props, pl->props);
                put_bytes(c, p->suback.reasons.ptr, p->suback.reasons.len);
                return;
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                return;
        case MQL_DISCONNECT:
        case MQL_AUTH:
                if (pl->reason)
                        put_u8(c, p->disconnect.reason_code);
                if (pl->prop_len)
                        mql__props_write(c, &p->disconnect.props, pl->props);
                return;
        }
}

static uint8_t fixed_header(const struct mql_packet *p) {
        uint8_t flags = mql__fixed_flags(p->type);
        if (p->type == MQL_PUBLISH)
                flags = (uint8_t)(p->publish.dup << 3 | p->publish.qos << 1 | p->publish.retain);
        return (uint8_t)(p->type << 4 | flags);
}

static ssize_t write_planned(const struct plan *pl, const struct mql_packet *p, uint8_t *buf,
                             size_t n) {
        struct wcursor c = wcursor_make(buf, n);
        put_u8(&c, fixed_header(p));
        put_varint(&c, (uint32_t)pl->body);
        write_body(&c, pl, p);
        /* plan() and write_body() must agree byte for byte. */
        if (c.overflow || c.pos != n)
                return -EINVAL;
        return (ssize_t)n;
}

MQL_EXPORT ssize_t mql_packet_encode(const struct mql_packet *p, enum mql_version version,
                                     uint8_t *buf, size_t cap) {
        struct plan pl;
        ssize_t n = plan(&pl, p, version);
        if (n < 0)
                return n;
        if ((size_t)n > cap)
                return -ENOBUFS;
        return write_planned(&pl, p, buf, (size_t)n);
}

ssize_t mql__packet_append(const struct mql_packet *p, enum mql_version version,
                           struct mql__buf *out) {
        struct plan pl;
        ssize_t n = plan(&pl, p, version);
        if (n < 0)
                return n;
        uint8_t *w = mql__buf_reserve(out, (size_t)n);
        if (!w)
                return -ENOMEM;
        n = write_planned(&pl, p, w, (size_t)n);
        if (n > 0)
                buf_commit(out, (size_t)n);
        return n;
}

MQL_EXPORT struct mql_str mql_str_from(const char *s) {
        return s ? (struct mql_str){ s, strlen(s) } : (struct mql_str){ 0 };
}

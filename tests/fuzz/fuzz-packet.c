/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the packet codec. Input: one byte whose low bit picks the
 * connection's protocol version (0: 3.1.1, 1: 5), then a byte stream that is
 * framed and decoded packet after packet, the way a session would read a
 * socket.
 *
 * Every packet that decodes is pushed through the encoder and back:
 *   decode(input) = P1, encode(P1) = B, decode(B) = P2, P1 == P2,
 *   encode(P2) = B, and encode(P1 with its properties and filters handed
 *   over as lists) = B.
 * Buffers are malloc'd to the exact size so ASan sees a single byte of
 * overflow, and every view of a decoded packet is read in full so ASan sees
 * an over-read of the input. Any broken promise of packet.h aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/packet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                                              \
        do {                                                                                     \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

/* Filled into a packet before decoding, to see what the decoder wrote. */
#define POISON 0xA5

/* Where reads of decoded bytes end up, so that the compiler keeps them. */
static volatile uint32_t sink;

/* The bytes of the packet being looked at; every view must lie inside. */
struct span {
        const uint8_t *base;
        size_t len;
};

static void touch(const void *ptr, size_t len) {
        const uint8_t *p = ptr;
        uint32_t sum = 0;

        for (size_t i = 0; i < len; i++)
                sum = sum * 31 + p[i];
        sink += sum;
}

/* A view must point into the buffer it was decoded from (zero-copy), and
 * reading it whole must stay inside that buffer. */
static void check_view(const struct span *s, const void *ptr, size_t len) {
        if (len == 0)
                return;
        CHECK(ptr);
        uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)s->base;
        CHECK(p >= b && len <= s->len && p - b <= s->len - len);
        touch(ptr, len);
}

static bool str_eq(struct mql_str a, struct mql_str b) {
        return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool bin_eq(struct mql_bin a, struct mql_bin b) {
        return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ---- properties ------------------------------------------------------- */

/* Walks a decoded property block: each property known, allowed on the
 * packet, in range, and its value inside the block. Returns the count. */
static size_t props_walk(const struct mql_props *props, enum mql_packet_type type, bool will,
                         enum mql_version version, const struct span *pkt) {
        struct span raw = { props->raw, props->raw_len };
        struct mql_prop_iter it;
        struct mql_prop p;
        size_t n = 0;
        int r;

        /* The decoder fills only `raw`; 3.1.1 has no properties at all. */
        CHECK(props->count == 0);
        if (version == MQL_V311)
                CHECK(props->raw_len == 0);
        check_view(pkt, props->raw, props->raw_len);

        mql_prop_iter_init(&it, props);
        while ((r = mql_prop_iter_next(&it, &p)) == 1) {
                /* Each property takes at least two bytes: no endless walk. */
                CHECK(++n <= props->raw_len / 2);
                CHECK(mql_prop_name(p.id));
                CHECK(mql_prop_allowed(p.id, type, will));

                switch (mql_prop_type(p.id)) {
                case MQL_PROP_TYPE_BYTE:
                        CHECK(p.u32 <= 0xFF);
                        break;
                case MQL_PROP_TYPE_U16:
                        CHECK(p.u32 <= 0xFFFF);
                        break;
                case MQL_PROP_TYPE_U32:
                        break;
                case MQL_PROP_TYPE_VARINT:
                        CHECK(p.u32 <= MQL_MAX_REMAINING_LENGTH);
                        break;
                case MQL_PROP_TYPE_STRING:
                        check_view(&raw, p.str.ptr, p.str.len);
                        break;
                case MQL_PROP_TYPE_BINARY:
                        check_view(&raw, p.bin.ptr, p.bin.len);
                        break;
                case MQL_PROP_TYPE_STRING_PAIR:
                        check_view(&raw, p.pair.key.ptr, p.pair.key.len);
                        check_view(&raw, p.pair.value.ptr, p.pair.value.len);
                        break;
                case MQL_PROP_TYPE_INVALID:
                default:
                        CHECK(!"property of unknown type");
                }

                struct mql_prop found;
                CHECK(mql_props_find(props, p.id, &found) == 1);
                CHECK(found.id == p.id);
        }
        CHECK(r == 0);
        return n;
}

static bool prop_eq(const struct mql_prop *a, const struct mql_prop *b) {
        if (a->id != b->id)
                return false;
        switch (mql_prop_type(a->id)) {
        case MQL_PROP_TYPE_BYTE:
        case MQL_PROP_TYPE_U16:
        case MQL_PROP_TYPE_U32:
        case MQL_PROP_TYPE_VARINT:
                return a->u32 == b->u32;
        case MQL_PROP_TYPE_STRING:
                return str_eq(a->str, b->str);
        case MQL_PROP_TYPE_BINARY:
                return bin_eq(a->bin, b->bin);
        case MQL_PROP_TYPE_STRING_PAIR:
                return str_eq(a->pair.key, b->pair.key) && str_eq(a->pair.value, b->pair.value);
        default:
                return false;
        }
}

/* Equal as the sequences the iterator produces. */
static bool props_eq(const struct mql_props *a, const struct mql_props *b) {
        struct mql_prop_iter ia, ib;
        struct mql_prop pa, pb;

        mql_prop_iter_init(&ia, a);
        mql_prop_iter_init(&ib, b);
        for (;;) {
                int ra = mql_prop_iter_next(&ia, &pa);
                int rb = mql_prop_iter_next(&ib, &pb);
                if (ra != rb)
                        return false;
                if (ra == 0)
                        return true;
                if (!prop_eq(&pa, &pb))
                        return false;
        }
}

/* The same properties as an encoder list, in iteration order. The caller
 * frees the array; a block with no properties gives NULL. */
static struct mql_props props_to_list(const struct mql_props *props, struct mql_prop **ret_arr) {
        struct mql_prop_iter it;
        struct mql_prop p;
        struct mql_prop *arr;
        size_t n = 0;

        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) == 1)
                n++;

        arr = n > 0 ? calloc(n, sizeof(*arr)) : NULL;
        CHECK(n == 0 || arr);

        n = 0;
        mql_prop_iter_init(&it, props);
        while (mql_prop_iter_next(&it, &p) == 1)
                arr[n++] = p;

        *ret_arr = arr;
        return (struct mql_props){ .list = arr, .count = n };
}

/* ---- filters ---------------------------------------------------------- */

static int filter_next(struct mql_filter_iter *it, struct mql_subscription *ret) {
        /* Zeroed first, so fields UNSUBSCRIBE does not carry compare equal. */
        memset(ret, 0, sizeof(*ret));
        return mql_filter_iter_next(it, ret);
}

static void filters_walk(const struct mql_filters *f, enum mql_packet_type type,
                         enum mql_version version, const struct span *pkt) {
        struct span raw = { f->raw, f->raw_len };
        struct mql_filter_iter it;
        struct mql_subscription s;
        size_t n = 0;
        int r;

        CHECK(f->count == 0);
        check_view(pkt, f->raw, f->raw_len);

        mql_filter_iter_init(&it, f, type);
        while ((r = filter_next(&it, &s)) == 1) {
                /* A filter is at least its two-byte length. */
                CHECK(++n <= f->raw_len / 2);
                check_view(&raw, s.filter.ptr, s.filter.len);
                if (type == MQL_SUBSCRIBE) {
                        CHECK(s.qos <= 2);
                        CHECK(s.retain_handling <= 2);
                        if (version == MQL_V311)
                                CHECK(!s.no_local && !s.retain_as_published &&
                                      s.retain_handling == 0);
                }
        }
        CHECK(r == 0);
        CHECK(n > 0); /* MQTT-3.8.3-2, MQTT-3.10.3-2 */
}

static bool filters_eq(const struct mql_filters *a, const struct mql_filters *b,
                       enum mql_packet_type type) {
        struct mql_filter_iter ia, ib;
        struct mql_subscription sa, sb;

        mql_filter_iter_init(&ia, a, type);
        mql_filter_iter_init(&ib, b, type);
        for (;;) {
                int ra = filter_next(&ia, &sa);
                int rb = filter_next(&ib, &sb);
                if (ra != rb)
                        return false;
                if (ra == 0)
                        return true;
                if (!str_eq(sa.filter, sb.filter) || sa.qos != sb.qos ||
                    sa.no_local != sb.no_local ||
                    sa.retain_as_published != sb.retain_as_published ||
                    sa.retain_handling != sb.retain_handling)
                        return false;
        }
}

/* Also tells whether a filter is empty: MQTT-4.7.3-1 forbids it, the decoder
 * refuses it (-EPROTO), so a decoded list never holds one. */
static struct mql_filters filters_to_list(const struct mql_filters *f, enum mql_packet_type type,
                                          struct mql_subscription **ret_arr, bool *ret_empty) {
        struct mql_filter_iter it;
        struct mql_subscription s;
        struct mql_subscription *arr;
        size_t n = 0;

        mql_filter_iter_init(&it, f, type);
        while (filter_next(&it, &s) == 1)
                n++;

        arr = n > 0 ? calloc(n, sizeof(*arr)) : NULL;
        CHECK(n == 0 || arr);

        n = 0;
        *ret_empty = false;
        mql_filter_iter_init(&it, f, type);
        while (filter_next(&it, &s) == 1) {
                arr[n++] = s;
                if (s.filter.len == 0)
                        *ret_empty = true;
        }

        *ret_arr = arr;
        return (struct mql_filters){ .list = arr, .count = n };
}

/* ---- whole packets ---------------------------------------------------- */

/* Reads every byte of every view and checks what the decoder promises
 * beyond the wire format: views inside the packet, fields it does not carry
 * left empty. */
static void packet_walk(const struct mql_packet *pkt, enum mql_version version,
                        const struct span *s) {
        const struct mql_connect *c = &pkt->connect;
        const struct mql_publish *p = &pkt->publish;
        const struct mql_ack *a = &pkt->ack;
        const struct mql_subscribe *sub = &pkt->subscribe;
        const struct mql_suback *sa = &pkt->suback;
        const struct mql_disconnect *d = &pkt->disconnect;

        CHECK(pkt->type >= MQL_CONNECT && pkt->type <= MQL_AUTH);
        CHECK(strcmp(mql_packet_type_str(pkt->type), "UNKNOWN") != 0);

        switch (pkt->type) {
        case MQL_CONNECT:
                CHECK(c->version == MQL_V311 || c->version == MQL_V5);
                props_walk(&c->props, MQL_CONNECT, false, c->version, s);
                check_view(s, c->client_id.ptr, c->client_id.len);
                props_walk(&c->will_props, MQL_CONNECT, true, c->version, s);
                check_view(s, c->will_topic.ptr, c->will_topic.len);
                check_view(s, c->will_payload.ptr, c->will_payload.len);
                if (c->will) {
                        CHECK(c->will_qos <= 2);
                        CHECK(c->will_topic.len > 0);
                } else {
                        CHECK(c->will_qos == 0 && !c->will_retain);
                        CHECK(c->will_props.raw_len == 0 && c->will_topic.len == 0 &&
                              c->will_payload.len == 0);
                }
                check_view(s, c->username.ptr, c->username.len);
                CHECK(c->has_username || c->username.len == 0);
                check_view(s, c->password.ptr, c->password.len);
                CHECK(c->has_password || c->password.len == 0);
                if (c->version == MQL_V311)
                        CHECK(c->has_username || !c->has_password); /* MQTT-3.1.2-22 */
                break;
        case MQL_CONNACK:
                props_walk(&pkt->connack.props, MQL_CONNACK, false, version, s);
                if (version == MQL_V311)
                        CHECK(pkt->connack.reason_code <= 5);
                break;
        case MQL_PUBLISH:
                CHECK(p->qos <= 2);
                CHECK(p->qos > 0 || (!p->dup && p->packet_id == 0));
                CHECK(p->qos == 0 || p->packet_id != 0);
                check_view(s, p->topic.ptr, p->topic.len);
                CHECK(!memchr(p->topic.ptr ? p->topic.ptr : "", '+', p->topic.len));
                CHECK(!memchr(p->topic.ptr ? p->topic.ptr : "", '#', p->topic.len));
                props_walk(&p->props, MQL_PUBLISH, false, version, s);
                if (p->topic.len == 0) {
                        struct mql_prop alias;
                        CHECK(version == MQL_V5);
                        CHECK(mql_props_find(&p->props, MQL_PROP_TOPIC_ALIAS, &alias) == 1);
                }
                check_view(s, p->payload.ptr, p->payload.len);
                break;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                CHECK(a->packet_id != 0);
                if (version == MQL_V311)
                        CHECK(a->reason_code == 0);
                props_walk(&a->props, pkt->type, false, version, s);
                break;
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                CHECK(sub->packet_id != 0);
                props_walk(&sub->props, pkt->type, false, version, s);
                filters_walk(&sub->filters, pkt->type, version, s);
                break;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                CHECK(sa->packet_id != 0);
                props_walk(&sa->props, pkt->type, false, version, s);
                check_view(s, sa->reasons.ptr, sa->reasons.len);
                if (pkt->type == MQL_SUBACK || version == MQL_V5)
                        CHECK(sa->reasons.len > 0);
                else
                        CHECK(sa->reasons.len == 0);
                break;
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                break;
        case MQL_DISCONNECT:
        case MQL_AUTH:
                CHECK(pkt->type != MQL_AUTH || version == MQL_V5);
                if (version == MQL_V311)
                        CHECK(d->reason_code == 0);
                props_walk(&d->props, pkt->type, false, version, s);
                break;
        }
}

static bool connect_eq(const struct mql_connect *a, const struct mql_connect *b) {
        return a->version == b->version && a->clean_start == b->clean_start &&
               a->keepalive == b->keepalive && props_eq(&a->props, &b->props) &&
               str_eq(a->client_id, b->client_id) && a->will == b->will &&
               a->will_qos == b->will_qos && a->will_retain == b->will_retain &&
               props_eq(&a->will_props, &b->will_props) && str_eq(a->will_topic, b->will_topic) &&
               bin_eq(a->will_payload, b->will_payload) && a->has_username == b->has_username &&
               str_eq(a->username, b->username) && a->has_password == b->has_password &&
               bin_eq(a->password, b->password);
}

/* Field by field, for the fields the packet's type carries. */
static bool packet_eq(const struct mql_packet *a, const struct mql_packet *b) {
        if (a->type != b->type)
                return false;

        switch (a->type) {
        case MQL_CONNECT:
                return connect_eq(&a->connect, &b->connect);
        case MQL_CONNACK:
                return a->connack.session_present == b->connack.session_present &&
                       a->connack.reason_code == b->connack.reason_code &&
                       props_eq(&a->connack.props, &b->connack.props);
        case MQL_PUBLISH:
                return a->publish.dup == b->publish.dup && a->publish.qos == b->publish.qos &&
                       a->publish.retain == b->publish.retain &&
                       str_eq(a->publish.topic, b->publish.topic) &&
                       a->publish.packet_id == b->publish.packet_id &&
                       props_eq(&a->publish.props, &b->publish.props) &&
                       bin_eq(a->publish.payload, b->publish.payload);
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                return a->ack.packet_id == b->ack.packet_id &&
                       a->ack.reason_code == b->ack.reason_code &&
                       props_eq(&a->ack.props, &b->ack.props);
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                return a->subscribe.packet_id == b->subscribe.packet_id &&
                       props_eq(&a->subscribe.props, &b->subscribe.props) &&
                       filters_eq(&a->subscribe.filters, &b->subscribe.filters, a->type);
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                return a->suback.packet_id == b->suback.packet_id &&
                       props_eq(&a->suback.props, &b->suback.props) &&
                       bin_eq(a->suback.reasons, b->suback.reasons);
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                return true;
        case MQL_DISCONNECT:
                return a->disconnect.reason_code == b->disconnect.reason_code &&
                       props_eq(&a->disconnect.props, &b->disconnect.props);
        case MQL_AUTH:
                return a->auth.reason_code == b->auth.reason_code &&
                       props_eq(&a->auth.props, &b->auth.props);
        }
        return false;
}

/* Encodes into a buffer of exactly mql_packet_size() bytes; the caller
 * frees it. */
static uint8_t *encode_exact(const struct mql_packet *pkt, enum mql_version version,
                             size_t *ret_len) {
        ssize_t n = mql_packet_size(pkt, version);
        CHECK(n >= 2 && (size_t)n <= MQL_MAX_PACKET_SIZE);

        uint8_t *buf = malloc((size_t)n);
        CHECK(buf);
        CHECK(mql_packet_encode(pkt, version, buf, (size_t)n) == n);
        *ret_len = (size_t)n;
        return buf;
}

/* The same packet with properties and filters as encoder lists instead of
 * decoded raw blocks must encode to the same bytes: the list path checks
 * and writes what the decoder accepted. */
static void check_list_encoding(const struct mql_packet *p1, enum mql_version version,
                                const uint8_t *b, size_t n) {
        struct mql_packet pl = *p1;
        struct mql_props *props = NULL;
        struct mql_prop *arr = NULL, *will_arr = NULL;
        struct mql_subscription *subs = NULL;
        bool empty_filter = false;

        switch (p1->type) {
        case MQL_CONNECT:
                props = &pl.connect.props;
                pl.connect.will_props = props_to_list(&p1->connect.will_props, &will_arr);
                break;
        case MQL_CONNACK:
                props = &pl.connack.props;
                break;
        case MQL_PUBLISH:
                props = &pl.publish.props;
                break;
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBREL:
        case MQL_PUBCOMP:
                props = &pl.ack.props;
                break;
        case MQL_SUBSCRIBE:
        case MQL_UNSUBSCRIBE:
                props = &pl.subscribe.props;
                pl.subscribe.filters =
                        filters_to_list(&p1->subscribe.filters, p1->type, &subs, &empty_filter);
                break;
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                props = &pl.suback.props;
                break;
        case MQL_PINGREQ:
        case MQL_PINGRESP:
                break;
        case MQL_DISCONNECT:
                props = &pl.disconnect.props;
                break;
        case MQL_AUTH:
                props = &pl.auth.props;
                break;
        }
        if (props)
                *props = props_to_list(props, &arr);

        CHECK(!empty_filter);
        size_t ln;
        uint8_t *lb = encode_exact(&pl, version, &ln);
        CHECK(ln == n && memcmp(lb, b, n) == 0);
        free(lb);
        free(arr);
        free(will_arr);
        free(subs);
}

/* P1 decoded from the input at `s`: encode, decode, compare, encode again. */
static void roundtrip(const struct mql_packet *p1, enum mql_version version, const struct span *s) {
        /* A CONNECT carries the connection's version itself. */
        enum mql_version v = p1->type == MQL_CONNECT ? p1->connect.version : version;
        struct mql_packet p2;
        size_t n, n2;
        uint8_t *b, *b2, *small;

        packet_walk(p1, version, s);

        b = encode_exact(p1, v, &n);

        /* One byte short: -ENOBUFS, and no write past the end. */
        small = malloc(n - 1);
        CHECK(small);
        CHECK(mql_packet_encode(p1, v, small, n - 1) == -ENOBUFS);
        free(small);

        CHECK(mql_packet_frame(b, n) == (ssize_t)n);
        memset(&p2, POISON, sizeof(p2));
        CHECK(mql_packet_decode(b, n, version, &p2) == (ssize_t)n);
        packet_walk(&p2, version, &(struct span){ b, n });
        CHECK(packet_eq(p1, &p2));

        b2 = encode_exact(&p2, v, &n2);
        CHECK(n2 == n && memcmp(b2, b, n) == 0);

        check_list_encoding(p1, v, b, n);

        free(b2);
        free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        enum mql_version version;

        if (size < 1)
                return 0;
        version = data[0] & 1 ? MQL_V5 : MQL_V311;
        data++;
        size--;

        while (size > 0) {
                struct mql_packet pkt, untouched;
                ssize_t f, r;

                memset(&pkt, POISON, sizeof(pkt));
                memcpy(&untouched, &pkt, sizeof(pkt));

                f = mql_packet_frame(data, size);
                CHECK(f == 0 || f == -EBADMSG || (f >= 2 && (size_t)f <= size));

                r = mql_packet_decode(data, size, version, &pkt);
                CHECK(r == 0 || r == -EBADMSG || r == -EPROTO || r == -EPROTONOSUPPORT ||
                      (r > 0 && (size_t)r <= size));

                /* Framing only reads the length, so it agrees with a decoder
                 * that succeeds or waits; decoding may still reject a packet
                 * the frame says is whole, or reject its fixed header early. */
                if (r > 0)
                        CHECK(f == r);
                if (r == 0)
                        CHECK(f == 0);
                if (f < 0)
                        CHECK(r == -EBADMSG);

                if (r <= 0) {
                        /* Written only on success (design.md). */
                        CHECK(memcmp(&pkt, &untouched, sizeof(pkt)) == 0);
                        break;
                }

                roundtrip(&pkt, version, &(struct span){ data, (size_t)r });
                data += r;
                size -= (size_t)r;
        }
        return 0;
}

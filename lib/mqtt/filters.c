/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "codec.h"
#include "util/macro.h"

/* Reads one entry: a filter string and, for SUBSCRIBE, its options byte. */
static int filter_read(struct rcursor *c, bool options, struct mql_subscription *ret) {
        uint8_t o = 0;
        int r;

        r = mql__get_str(c, &ret->filter.ptr, &ret->filter.len);
        if (r < 0)
                return r;
        if (options) {
                r = get_u8(c, &o);
                if (r < 0)
                        return r;
        }
        ret->qos = o & 0x3;
        ret->no_local = o & 0x4;
        ret->retain_as_published = o & 0x8;
        ret->retain_handling = (o >> 4) & 0x3;
        return o; /* the raw byte, for the decoder's checks */
}

int mql__filters_decode(struct rcursor *c, bool options, enum mql_version version,
                        struct mql_filters *ret) {
        const uint8_t *start = rc_here(c);
        size_t len = rc_left(c);

        /* MQTT-3.8.3-2, MQTT-3.10.3-2: at least one filter. */
        if (len == 0)
                return -EPROTO;

        while (rc_left(c) > 0) {
                struct mql_subscription s;
                int o = filter_read(c, options, &s);
                if (o < 0)
                        return o;
                /* MQTT-4.7.3-1: at least one character. Other rules on
                 * filters are the server's to answer in SUBACK. */
                if (s.filter.len == 0)
                        return -EPROTO;
                /* Reserved bits (MQTT-3.8.3-5; 3.1.1: MQTT-3-8.3-4) and QoS 3
                 * make a Malformed Packet; Retain Handling 3 is a Protocol
                 * Error (MQTT 5 §3.8.3.1). */
                if (o & (version == MQL_V5 ? 0xC0 : 0xFC))
                        return -EBADMSG;
                if (s.qos == 3)
                        return -EBADMSG;
                if (s.retain_handling == 3)
                        return -EPROTO;
        }

        *ret = (struct mql_filters){ .raw = start, .raw_len = len };
        return 0;
}

static bool sub_ok(const struct mql_subscription *s, bool options, enum mql_version version) {
        if (s->filter.len == 0 || !mql__str_ok(s->filter))
                return false;
        if (!options)
                return true;
        if (s->qos > 2 || s->retain_handling > 2)
                return false;
        return version == MQL_V5 || (!s->no_local && !s->retain_as_published &&
                                     s->retain_handling == 0);
}

ssize_t mql__filters_size(const struct mql_filters *f, bool options, enum mql_version version) {
        size_t size = f->raw_len;

        if (f->raw_len == 0 && f->count == 0)
                return -EINVAL;
        if (f->count > 0 && !f->list)
                return -EINVAL;
        for (size_t i = 0; i < f->count; i++) {
                if (!sub_ok(&f->list[i], options, version))
                        return -EINVAL;
                size += 2 + f->list[i].filter.len + options;
                if (size > MQL_MAX_REMAINING_LENGTH)
                        return -EMSGSIZE;
        }
        return (ssize_t)size;
}

void mql__filters_write(struct wcursor *c, const struct mql_filters *f, bool options) {
        put_bytes(c, f->raw, f->raw_len);
        for (size_t i = 0; i < f->count; i++) {
                const struct mql_subscription *s = &f->list[i];
                put_bin(c, s->filter.ptr, s->filter.len);
                if (options)
                        put_u8(c, mql__sub_options(s));
        }
}

MQL_EXPORT void mql_filter_iter_init(struct mql_filter_iter *it, const struct mql_filters *f,
                                     enum mql_packet_type type) {
        *it = (struct mql_filter_iter){ .filters = f, .options = type == MQL_SUBSCRIBE };
}

MQL_EXPORT int mql_filter_iter_next(struct mql_filter_iter *it, struct mql_subscription *ret) {
        const struct mql_filters *f = it->filters;

        if (it->pos < f->raw_len) {
                struct rcursor c = rcursor_make(f->raw, f->raw_len);
                c.pos = it->pos;
                if (filter_read(&c, it->options, ret) < 0) {
                        it->pos = f->raw_len + f->count;
                        return 0;
                }
                it->pos = c.pos;
                return 1;
        }
        size_t i = it->pos - f->raw_len;
        if (i >= f->count)
                return 0;
        *ret = f->list[i];
        it->pos++;
        return 1;
}

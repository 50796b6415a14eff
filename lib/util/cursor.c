/* SPDX-License-Identifier: MIT */
#include "cursor.h"

#include "utf8.h"

int mql__get_varint(struct rcursor *c, uint32_t *ret) {
        uint32_t v = 0;
        size_t p = c->pos;

        for (unsigned i = 0; i < 4; i++) {
                if (p >= c->len)
                        return -EBADMSG;
                uint8_t b = c->buf[p++];
                v |= (uint32_t)(b & 0x7F) << (7 * i);
                if (!(b & 0x80)) {
                        /* A last byte of 0 after the first is an overlong
                         * form (MQTT-1.5.5-1: the minimum number of bytes). */
                        if (i > 0 && b == 0)
                                return -EBADMSG;
                        c->pos = p;
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG; /* a fifth byte */
}

int mql__get_bin(struct rcursor *c, const uint8_t **ret_ptr, size_t *ret_len) {
        struct rcursor save = *c;
        uint16_t n;
        const uint8_t *p;

        if (get_u16(c, &n) < 0 || get_bytes(c, n, &p) < 0) {
                *c = save;
                return -EBADMSG;
        }
        *ret_ptr = p;
        *ret_len = n;
        return 0;
}

int mql__get_str(struct rcursor *c, const char **ret_ptr, size_t *ret_len) {
        struct rcursor save = *c;
        const uint8_t *p;
        size_t n;

        if (mql__get_bin(c, &p, &n) < 0 || mql__utf8_check(p, n) < 0) {
                *c = save;
                return -EBADMSG;
        }
        *ret_ptr = (const char *)p;
        *ret_len = n;
        return 0;
}

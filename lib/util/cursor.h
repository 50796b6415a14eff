/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The only way the codec touches wire bytes: a bounds-checked reader and a
 * bounds-checked writer, in the manner of OpenBSD's ibuf. Every reader call
 * returns 0 or -EBADMSG (the field runs past the end) and leaves the cursor
 * where it was on failure. The writer latches an overflow flag instead of
 * failing each call, so an encoder checks once at the end.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rcursor {
        const uint8_t *buf; /* borrowed */
        size_t len;
        size_t pos;
};

static inline struct rcursor rcursor_make(const uint8_t *buf, size_t len) {
        return (struct rcursor){ .buf = buf, .len = len, .pos = 0 };
}

static inline size_t rc_left(const struct rcursor *c) {
        return c->len - c->pos;
}

static inline const uint8_t *rc_here(const struct rcursor *c) {
        return c->buf + c->pos;
}

static inline int get_u8(struct rcursor *c, uint8_t *ret) {
        if (rc_left(c) < 1)
                return -EBADMSG;
        *ret = c->buf[c->pos++];
        return 0;
}

static inline int get_u16(struct rcursor *c, uint16_t *ret) {
        if (rc_left(c) < 2)
                return -EBADMSG;
        *ret = (uint16_t)(c->buf[c->pos] << 8 | c->buf[c->pos + 1]);
        c->pos += 2;
        return 0;
}

static inline int get_u32(struct rcursor *c, uint32_t *ret) {
        if (rc_left(c) < 4)
                return -EBADMSG;
        const uint8_t *p = c->buf + c->pos;
        *ret = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        c->pos += 4;
        return 0;
}

/* Takes a view of the next n bytes. */
static inline int get_bytes(struct rcursor *c, size_t n, const uint8_t **ret) {
        if (rc_left(c) < n)
                return -EBADMSG;
        *ret = c->buf + c->pos;
        c->pos += n;
        return 0;
}

/* A sub-cursor over the next n bytes, consumed from c. */
static inline int get_sub(struct rcursor *c, size_t n, struct rcursor *ret) {
        const uint8_t *p;
        int r = get_bytes(c, n, &p);
        if (r < 0)
                return r;
        *ret = rcursor_make(p, n);
        return 0;
}

/*
 * Variable Byte Integer (MQTT 5 §1.5.5): at most 4 bytes, and in its shortest
 * form (MQTT-1.5.5-1) — a trailing 0x00 continuation byte is overlong.
 * Returns 0, or -EBADMSG for truncation, a fifth byte or an overlong form.
 */
int mql__get_varint(struct rcursor *c, uint32_t *ret);

/* Two-byte length then that many bytes. */
int mql__get_bin(struct rcursor *c, const uint8_t **ret_ptr, size_t *ret_len);
/* Two-byte length then that many bytes of well-formed MQTT UTF-8. */
int mql__get_str(struct rcursor *c, const char **ret_ptr, size_t *ret_len);

struct wcursor {
        uint8_t *buf; /* borrowed */
        size_t cap;
        size_t pos;
        bool overflow;
};

static inline struct wcursor wcursor_make(uint8_t *buf, size_t cap) {
        return (struct wcursor){ .buf = buf, .cap = cap };
}

static inline bool wc_room(struct wcursor *c, size_t n) {
        if (c->overflow || c->cap - c->pos < n) {
                c->overflow = true;
                return false;
        }
        return true;
}

static inline void put_u8(struct wcursor *c, uint8_t v) {
        if (wc_room(c, 1))
                c->buf[c->pos++] = v;
}

static inline void put_u16(struct wcursor *c, uint16_t v) {
        if (wc_room(c, 2)) {
                c->buf[c->pos++] = (uint8_t)(v >> 8);
                c->buf[c->pos++] = (uint8_t)v;
        }
}

static inline void put_u32(struct wcursor *c, uint32_t v) {
        if (wc_room(c, 4)) {
                c->buf[c->pos++] = (uint8_t)(v >> 24);
                c->buf[c->pos++] = (uint8_t)(v >> 16);
                c->buf[c->pos++] = (uint8_t)(v >> 8);
                c->buf[c->pos++] = (uint8_t)v;
        }
}

static inline void put_bytes(struct wcursor *c, const void *p, size_t n) {
        if (n > 0 && wc_room(c, n)) {
                memcpy(c->buf + c->pos, p, n);
                c->pos += n;
        }
}

/* Bytes a Variable Byte Integer takes for v (v < 2^28). */
static inline size_t varint_size(uint32_t v) {
        return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static inline void put_varint(struct wcursor *c, uint32_t v) {
        do {
                uint8_t b = v & 0x7F;
                v >>= 7;
                put_u8(c, v ? (uint8_t)(b | 0x80) : b);
        } while (v);
}

/* Two-byte length then the bytes; the caller checked n <= 65535. */
static inline void put_bin(struct wcursor *c, const void *p, size_t n) {
        put_u16(c, (uint16_t)n);
        put_bytes(c, p, n);
}

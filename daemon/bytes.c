/* SPDX-License-Identifier: MIT */

#include "bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *bytes_reserve(struct bytes *b, size_t n) {
        if (n > SIZE_MAX / 2 - b->len)
                return NULL;
        if (b->cap - b->start - b->len >= n)
                return b->data + b->start + b->len;
        /* Slide to the front first when that makes enough room: it keeps
         * the buffer from growing under a steady stream. */
        if (b->start > 0 && b->cap - b->len >= n) {
                memmove(b->data, b->data + b->start, b->len);
                b->start = 0;
                return b->data + b->len;
        }
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
                cap *= 2;
        char *d = malloc(cap);
        if (!d)
                return NULL;
        if (b->len)
                memcpy(d, b->data + b->start, b->len);
        free(b->data);
        b->data = d;
        b->start = 0;
        b->cap = cap;
        return d + b->len;
}

void bytes_commit(struct bytes *b, size_t n) {
        b->len += n;
}

int bytes_append(struct bytes *b, const void *p, size_t n) {
        if (n == 0)
                return 0;
        char *d = bytes_reserve(b, n);
        if (!d)
                return -ENOMEM;
        memcpy(d, p, n);
        b->len += n;
        return 0;
}

int bytes_printf(struct bytes *b, const char *fmt, ...) {
        va_list ap;
        char tmp[256];
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        if ((size_t)n < sizeof tmp)
                return bytes_append(b, tmp, (size_t)n);
        char *d = bytes_reserve(b, (size_t)n + 1);
        if (!d)
                return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(d, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
        return 0;
}

void bytes_consume(struct bytes *b, size_t n) {
        if (n >= b->len) {
                b->start = 0;
                b->len = 0;
                return;
        }
        b->start += n;
        b->len -= n;
}

void bytes_trim(struct bytes *b) {
        if (b->len == 0 && b->cap > 64 * 1024) {
                free(b->data);
                *b = (struct bytes){ 0 };
        }
}

void bytes_done(struct bytes *b) {
        free(b->data);
        *b = (struct bytes){ 0 };
}

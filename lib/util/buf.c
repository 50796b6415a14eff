/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

uint8_t *mql__buf_reserve(struct mql__buf *b, size_t n) {
        if (b->cap - b->tail >= n)
                return b->data + b->tail;

        /* Slide the unread bytes to the front before growing: a FIFO that is
         * drained as fast as it fills never grows. */
        size_t len = buf_len(b);
        if (b->head > 0 && b->cap - len >= n) {
                memmove(b->data, b->data + b->head, len);
                b->head = 0;
                b->tail = len;
                return b->data + b->tail;
        }

        if (n > SIZE_MAX / 2 - len)
                return NULL;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < len + n)
                cap *= 2;
        uint8_t *d = malloc(cap);
        if (!d)
                return NULL;
        if (len > 0)
                memcpy(d, b->data + b->head, len);
        free(b->data);
        b->data = d;
        b->cap = cap;
        b->head = 0;
        b->tail = len;
        return b->data + b->tail;
}

int mql__buf_append(struct mql__buf *b, const void *p, size_t n) {
        uint8_t *w = mql__buf_reserve(b, n);
        if (!w)
                return -ENOMEM;
        if (n > 0)
                memcpy(w, p, n);
        buf_commit(b, n);
        return 0;
}

void mql__buf_consume(struct mql__buf *b, size_t n) {
        b->head += n;
        if (b->head >= b->tail)
                b->head = b->tail = 0;
}

void mql__buf_clear(struct mql__buf *b) {
        b->head = b->tail = 0;
}

void mql__buf_free(struct mql__buf *b) {
        free(b->data);
        *b = (struct mql__buf){ 0 };
}

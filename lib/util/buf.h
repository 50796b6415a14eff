/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A growable byte FIFO: bytes are appended at the tail and consumed from the
 * head; the unread part is contiguous, so it can be handed to write() or to
 * the decoder as one view.
 */

#include <stddef.h>
#include <stdint.h>

struct mql__buf {
        uint8_t *data; /* owned */
        size_t head;
        size_t tail;
        size_t cap;
};

static inline size_t buf_len(const struct mql__buf *b) {
        return b->tail - b->head;
}

static inline const uint8_t *buf_ptr(const struct mql__buf *b) {
        return b->data + b->head;
}

/* Makes room for n more bytes and returns where they go (write them, then
 * buf_commit(n)). NULL on out-of-memory. */
uint8_t *mql__buf_reserve(struct mql__buf *b, size_t n);

static inline void buf_commit(struct mql__buf *b, size_t n) {
        b->tail += n;
}

int mql__buf_append(struct mql__buf *b, const void *p, size_t n);
void mql__buf_consume(struct mql__buf *b, size_t n);
void mql__buf_clear(struct mql__buf *b);
void mql__buf_free(struct mql__buf *b);

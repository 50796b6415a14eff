/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A growable byte FIFO: appended at the end, consumed from the front. Used
 * for the input and output of local connections and to build documents.
 * Zero-initialised is empty.
 */

#include <stddef.h>

struct bytes {
        char *data; /* owned */
        size_t start;
        size_t len;
        size_t cap;
};

static inline const char *bytes_head(const struct bytes *b) {
        return b->data ? b->data + b->start : NULL;
}

/* Makes room for n more bytes and returns where they go (commit after
 * writing), or NULL on out of memory. */
char *bytes_reserve(struct bytes *b, size_t n);
void bytes_commit(struct bytes *b, size_t n);
int bytes_append(struct bytes *b, const void *p, size_t n);
int bytes_printf(struct bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bytes_consume(struct bytes *b, size_t n);
/* Releases the memory when empty and large, so that a burst does not pin it. */
void bytes_trim(struct bytes *b);
void bytes_done(struct bytes *b);

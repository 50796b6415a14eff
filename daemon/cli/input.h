/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Standard input read on the loop, so that reading never keeps the
 * connection from being served. The bytes gather in a buffer the caller
 * consumes; pausing stops reading, which is how `pub -l` bounds its
 * commands in flight.
 */

#include <stdbool.h>
#include <stddef.h>

#include <mqlink/loop.h>

struct input;
/* New bytes came, or the end (input_eof()). */
typedef void (*input_fn)(struct input *in, void *userdata);

struct input {
        char *buf; /* owned; the unread bytes are buf[start..len) */
        size_t start;
        size_t len;
        size_t cap;
        bool eof;
        int error; /* of read(), with eof set */

        struct mql_loop_source *src; /* owned */
        bool paused;
        input_fn cb;
        void *userdata;
};

/* Starts reading fd 0 on `loop`. Returns 0 or -errno. */
int input_start(struct input *in, struct mql_loop *loop, input_fn cb, void *userdata);
void input_pause(struct input *in, bool paused);
static inline const char *input_data(const struct input *in) {
        return in->buf ? in->buf + in->start : "";
}
static inline size_t input_size(const struct input *in) {
        return in->len - in->start;
}
void input_consume(struct input *in, size_t n);
void input_done(struct input *in);

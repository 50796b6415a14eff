/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "input.h"

#define CHUNK (64 * 1024)

/*
 * One read() per call, on a descriptor that is NOT made non-blocking: fd 0
 * is shared with the shell (a terminal, a pipe), and O_NONBLOCK would stay
 * on it after we exit. One read after the loop said "readable" cannot
 * block; regular files, which epoll refuses, never block at all.
 */
static int read_once(struct input *in) {
        if (in->start > 0) {
                memmove(in->buf, in->buf + in->start, in->len - in->start);
                in->len -= in->start;
                in->start = 0;
        }
        if (in->cap - in->len < CHUNK) {
                size_t cap = in->cap ? in->cap * 2 : 2 * CHUNK;
                while (cap - in->len < CHUNK)
                        cap *= 2;
                char *p = realloc(in->buf, cap);
                if (!p)
                        return -ENOMEM;
                in->buf = p;
                in->cap = cap;
        }
        ssize_t n = read(STDIN_FILENO, in->buf + in->len, in->cap - in->len);
        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return 1;
        in->len += (size_t)n;
        return 0;
}

static void step(struct input *in) {
        int r = read_once(in);
        if (r != 0) {
                in->eof = true;
                in->error = r < 0 ? r : 0;
                in->src = mql_loop_source_free(in->src);
        }
        in->cb(in, in->userdata);
}

static int on_io(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        step(userdata);
        return 0;
}

static int on_defer(struct mql_loop_source *src, void *userdata) {
        step(userdata);
        return 0;
}

int input_start(struct input *in, struct mql_loop *loop, input_fn cb, void *userdata) {
        *in = (struct input){ .cb = cb, .userdata = userdata };
        int r = mql_loop_add_io(loop, &in->src, STDIN_FILENO, EPOLLIN, on_io, in);
        /* A regular file or /dev/null: always ready, read it from a deferred
         * call (one chunk per iteration, so replies are still read). */
        if (r == -EPERM)
                r = mql_loop_add_defer(loop, &in->src, on_defer, in);
        return r;
}

void input_pause(struct input *in, bool paused) {
        if (in->paused == paused)
                return;
        in->paused = paused;
        if (in->src)
                (void)mql_loop_source_set_enabled(in->src, !paused);
}

void input_consume(struct input *in, size_t n) {
        in->start += n;
        if (in->start == in->len)
                in->start = in->len = 0;
}

void input_done(struct input *in) {
        in->src = mql_loop_source_free(in->src);
        free(in->buf);
        in->buf = NULL;
}

/* SPDX-License-Identifier: MIT */

/*
 * The IPC client: one Unix-socket connection to mqlinkd, the commands
 * waiting for their reply, and the bytes waiting to go out. Reading and
 * dispatching live in client-io.c, the loop attachment in client-loop.c.
 */

#define _GNU_SOURCE 1 /* secure_getenv */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ipc/client-internal.h"
#include "util/macro.h"

#define QUEUE_MIN 16

MQL_EXPORT const char *mql_ipc_client_socket_path(void) {
        /* secure_getenv: a set-uid program must not be pointed at another
         * socket by whoever runs it. */
        const char *env = secure_getenv(MQL_IPC_SOCKET_ENV);
        return env && *env ? env : MQL_IPC_SOCKET_DEFAULT;
}

/* "@name" is a name in the abstract namespace (no file; Linux), as in
 * systemd's unit files and socat's ABSTRACT-CONNECT. */
static int make_addr(const char *path, struct sockaddr_un *sa, socklen_t *ret_len) {
        size_t len = strlen(path);

        if (len == 0 || (path[0] == '@' && len == 1))
                return -EINVAL;
        if (len >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        memcpy(sa->sun_path, path, len);
        if (path[0] == '@') {
                /* The abstract name is counted, not NUL-terminated. */
                sa->sun_path[0] = '\0';
                *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        } else
                *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        return 0;
}

static int connect_socket(const char *path, int *ret_fd) {
        struct sockaddr_un sa;
        socklen_t sa_len;

        int r = make_addr(path, &sa, &sa_len);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A Unix stream connect never returns EINPROGRESS: it succeeds or
         * fails at once (EAGAIN: the listener's backlog is full). */
        if (connect(fd, (struct sockaddr *)&sa, sa_len) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

MQL_EXPORT int mql_ipc_client_new(const struct mql_ipc_client_config *cfg,
                                  struct mql_ipc_client **ret) {
        static const struct mql_ipc_client_config defaults = { 0 };
        int r;

        if (!ret)
                return -EINVAL;
        if (!cfg)
                cfg = &defaults;

        struct mql_ipc_parser parser;
        r = mql_ipc_parser_init(&parser, cfg->max_line,
                                cfg->max_payload ? cfg->max_payload
                                                 : MQL_IPC_CLIENT_PAYLOAD_MAX_DEFAULT);
        if (r < 0)
                return r;

        _cleanup_free_ char *scratch = malloc(parser.max_line);
        _cleanup_free_ struct mql_ipc_client *c = calloc(1, sizeof(*c));
        if (!scratch || !c)
                return -ENOMEM;
        int fd = -1;
        r = connect_socket(cfg->socket_path ? cfg->socket_path : mql_ipc_client_socket_path(), &fd);
        if (r < 0)
                return r;
        c->fd = fd;
        c->parser = parser;
        c->scratch = TAKE_PTR(scratch);
        c->max_output = cfg->max_output ? cfg->max_output : MQL_IPC_CLIENT_OUTPUT_MAX_DEFAULT;
        c->on_message = cfg->on_message;
        c->on_close = cfg->on_close;
        c->userdata = cfg->userdata;
        *ret = TAKE_PTR(c);
        return 0;
}

void mql__ipc_client_close_fd(struct mql_ipc_client *c) {
        if (c->fd < 0)
                return;
        /* The watch goes first: once closed, the number may be reused by
         * another fd the same loop watches. */
        c->io = mql_loop_source_free(c->io);
        close(c->fd);
        c->fd = -1;
        mql__buf_free(&c->out);
}

void mql__ipc_client_destroy(struct mql_ipc_client *c) {
        mql_ipc_client_detach(c);
        mql__ipc_client_close_fd(c);
        mql__buf_free(&c->in);
        free(c->scratch);
        free(c->q);
        free(c);
}

MQL_EXPORT struct mql_ipc_client *mql_ipc_client_free(struct mql_ipc_client *c) {
        if (!c)
                return NULL;
        if (c->in_process) {
                /* A callback is running and process() still holds frames in
                 * c->in: close now, so that nothing more is read or written
                 * and no callback runs, and let process() free the rest. */
                c->freed = true;
                c->on_message = NULL;
                c->on_close = NULL;
                c->q_len = 0;
                mql_ipc_client_detach(c);
                mql__ipc_client_close_fd(c);
                return NULL;
        }
        mql__ipc_client_destroy(c);
        return NULL;
}

static int queue_grow(struct mql_ipc_client *c) {
        if (c->q_cap > SIZE_MAX / 2 / sizeof(*c->q))
                return -ENOMEM;
        size_t cap = c->q_cap ? c->q_cap * 2 : QUEUE_MIN;
        struct mql__ipc_pending *q = malloc(cap * sizeof(*q));
        if (!q)
                return -ENOMEM;
        /* Unwrap the ring so that the oldest entry is first again. */
        for (size_t i = 0; i < c->q_len; i++)
                q[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = q;
        c->q_cap = cap;
        c->q_head = 0;
        return 0;
}

struct mql__ipc_pending mql__ipc_client_pop(struct mql_ipc_client *c) {
        struct mql__ipc_pending p = c->q[c->q_head];
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        return p;
}

static bool is_command(enum mql_ipc_kind kind) {
        switch (kind) {
        case MQL_IPC_PUB:
        case MQL_IPC_SUB:
        case MQL_IPC_UNSUB:
        case MQL_IPC_PING:
        case MQL_IPC_STATUS:
                return true;
        default:
                return false;
        }
}

MQL_EXPORT int mql_ipc_client_send(struct mql_ipc_client *c, const struct mql_ipc_frame *cmd,
                                   mql_ipc_reply_fn cb, void *userdata) {
        if (!c || !cmd || !is_command(cmd->kind))
                return -EINVAL;
        ssize_t size = mql_ipc_size(cmd);
        if (size < 0)
                return (int)size;
        if (c->fd < 0)
                return -ENOTCONN;
        if ((size_t)size > c->max_output - buf_len(&c->out))
                return -ENOBUFS;
        if (c->q_len == c->q_cap && queue_grow(c) < 0)
                return -ENOMEM;
        uint8_t *w = mql__buf_reserve(&c->out, (size_t)size);
        if (!w)
                return -ENOMEM;
        ssize_t n = mql_ipc_format(cmd, w, (size_t)size);
        if (n < 0)
                return (int)n; /* cannot happen: size() accepted it */
        buf_commit(&c->out, (size_t)n);
        c->q[(c->q_head + c->q_len) % c->q_cap] =
                (struct mql__ipc_pending){ .cb = cb, .userdata = userdata, .kind = cmd->kind };
        c->q_len++;
        mql__ipc_client_sync(c);
        return 0;
}

MQL_EXPORT int mql_ipc_client_get_fd(struct mql_ipc_client *c) {
        return c->fd;
}

MQL_EXPORT uint32_t mql_ipc_client_get_events(struct mql_ipc_client *c) {
        if (c->fd < 0)
                return 0;
        return EPOLLIN | (buf_len(&c->out) > 0 ? EPOLLOUT : 0);
}

MQL_EXPORT size_t mql_ipc_client_get_pending(struct mql_ipc_client *c) {
        return c->q_len;
}

MQL_EXPORT size_t mql_ipc_client_get_output_bytes(struct mql_ipc_client *c) {
        return buf_len(&c->out);
}

MQL_EXPORT void *mql_ipc_client_get_userdata(struct mql_ipc_client *c) {
        return c->userdata;
}

/* SPDX-License-Identifier: MIT */

/*
 * process(): read what the daemon sent, dispatch each complete frame, write
 * what is queued; and the end of the connection.
 *
 * Frames handed to callbacks point into c->in and c->scratch, so nothing
 * may change those while a callback runs: a nested process() does nothing,
 * and a free() from a callback only closes the fd and leaves the memory to
 * the outer process() (c->freed).
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/client-internal.h"
#include "util/log.h"
#include "util/macro.h"

/* Why the daemon's bytes were refused is told here, at debug level: the
 * error itself reaches the program through on_close, which reports it. */
#define log_debug_errno(err, ...) mql__log(MQL_LOG_DEBUG, (err), __VA_ARGS__)

/* Read at least this much at a time. */
#define READ_CHUNK (64u * 1024u)
/* Reads per process() before giving other sources of the loop a turn; the
 * fd stays readable (level-triggered) for the rest. */
#define READ_BUDGET 16
/* Buffers larger than this are freed when they empty, so that one big
 * STATUS document or message does not pin its memory for good. */
#define KEEP_CAPACITY (1024u * 1024u)

static void trim(struct mql__buf *b) {
        if (buf_len(b) == 0 && b->cap > KEEP_CAPACITY)
                mql__buf_free(b);
}

static bool reply_fits(enum mql_ipc_kind cmd, enum mql_ipc_kind reply) {
        if (reply == MQL_IPC_ERR)
                return true;
        return (cmd == MQL_IPC_PING) == (reply == MQL_IPC_PONG);
}

static int handle_reply(struct mql_ipc_client *c, const struct mql_ipc_frame *f) {
        if (c->q_len == 0)
                return log_debug_errno(-EPROTO, "ipc: %s with no command waiting",
                                       mql_ipc_kind_str(f->kind));
        if (f->error && strcmp(f->error, "too-large") == 0 && f->kind == MQL_IPC_OK) {
                /* The parser drops the payload as it arrives; the stream
                 * stays in step, only this answer is lost. */
                struct mql__ipc_pending p = mql__ipc_client_pop(c);
                if (p.cb)
                        p.cb(c, NULL, -EMSGSIZE, p.userdata);
                return 0;
        }
        if (f->error)
                return log_debug_errno(-EPROTO, "ipc: bad %s from the daemon: %s",
                                       mql_ipc_kind_str(f->kind), f->error_text);
        if (!reply_fits(c->q[c->q_head].kind, f->kind))
                return log_debug_errno(-EPROTO, "ipc: %s in answer to %s",
                                       mql_ipc_kind_str(f->kind),
                                       mql_ipc_kind_str(c->q[c->q_head].kind));
        /* Off the queue before the call, so that get_pending() is right in
         * the callback and a command it sends queues behind the others. */
        struct mql__ipc_pending p = mql__ipc_client_pop(c);
        if (p.cb)
                p.cb(c, f, 0, p.userdata);
        return 0;
}

static int handle_frame(struct mql_ipc_client *c, const struct mql_ipc_frame *f) {
        switch (f->kind) {
        case MQL_IPC_NONE:
                /* A blank line or dropped payload bytes; an unknown verb
                 * could be the answer to a command, so we are out of step. */
                if (f->error)
                        return log_debug_errno(-EPROTO, "ipc: unknown line from the daemon");
                return 0;
        case MQL_IPC_MSG:
                /* A delivery answers nothing: a bad one (too large, or an
                 * option of a newer daemon) is dropped, the stream goes on. */
                if (f->error) {
                        log_warning("ipc: message dropped: %s", f->error_text);
                        return 0;
                }
                if (c->on_message)
                        c->on_message(c, f, c->userdata);
                return 0;
        case MQL_IPC_OK:
        case MQL_IPC_ERR:
        case MQL_IPC_PONG:
                return handle_reply(c, f);
        default:
                return -EPROTO; /* parse_reply() gives no command kinds */
        }
}

/* Dispatches every complete frame in c->in. */
static int dispatch(struct mql_ipc_client *c) {
        while (buf_len(&c->in) > 0 && c->fd >= 0) {
                struct mql_ipc_frame f;
                ssize_t n = mql_ipc_parse_reply(&c->parser, buf_ptr(&c->in), buf_len(&c->in),
                                                c->scratch, c->parser.max_line, &f);
                if (n < 0)
                        return log_debug_errno((int)n, "ipc: unreadable data from the daemon: %s",
                                               mql_strerror((int)n));
                if (n == 0)
                        return 0;
                int r = handle_frame(c, &f);
                /* Consumed only now: f points into c->in. */
                mql__buf_consume(&c->in, (size_t)n);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int read_input(struct mql_ipc_client *c) {
        for (unsigned i = 0; i < READ_BUDGET && c->fd >= 0; i++) {
                /* Read into all the room there is: a large payload then
                 * arrives in few reads while the buffer doubles. */
                size_t room = c->in.cap - c->in.tail;
                if (room < READ_CHUNK) {
                        if (!mql__buf_reserve(&c->in, READ_CHUNK))
                                return -ENOMEM;
                        room = c->in.cap - c->in.tail;
                }
                ssize_t n = read(c->fd, c->in.data + c->in.tail, room);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                if (n == 0)
                        return -EPIPE; /* what came before was dispatched */
                buf_commit(&c->in, (size_t)n);
                int r = dispatch(c);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_output(struct mql_ipc_client *c) {
        while (buf_len(&c->out) > 0) {
                ssize_t n = send(c->fd, buf_ptr(&c->out), buf_len(&c->out),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                mql__buf_consume(&c->out, (size_t)n);
        }
        trim(&c->out);
        return 0;
}

/* The connection ended: every waiting command learns it, then on_close. */
static void connection_ended(struct mql_ipc_client *c, int error) {
        log_debug("ipc: connection to the daemon ended: %s", mql_strerror(error));
        mql__ipc_client_close_fd(c);
        /* A callback may free the client: free() empties the queue and
         * clears on_close, which ends this at once. */
        while (c->q_len > 0) {
                struct mql__ipc_pending p = mql__ipc_client_pop(c);
                if (p.cb)
                        p.cb(c, NULL, error, p.userdata);
        }
        if (c->on_close)
                c->on_close(c, error, c->userdata);
}

MQL_EXPORT int mql_ipc_client_process(struct mql_ipc_client *c) {
        if (c->in_process)
                return 0;
        if (c->fd < 0)
                return -ENOTCONN;

        c->in_process = true;
        int r = read_input(c);
        if (r >= 0 && c->fd >= 0)
                r = write_output(c);
        if (r < 0 && c->fd >= 0)
                connection_ended(c, r);
        c->in_process = false;

        if (c->freed) {
                mql__ipc_client_destroy(c);
                return r;
        }
        if (c->fd < 0)
                mql__buf_free(&c->in);
        else
                trim(&c->in);
        mql__ipc_client_sync(c);
        return r;
}

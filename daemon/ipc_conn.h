/* SPDX-License-Identifier: MIT */
#pragma once

/* Inside the IPC server: a local connection and its reply queue. Shared by
 * ipc_server.c (socket I/O) and ipc_commands.c (what commands do). */

#include <sys/socket.h>

#include "ipc_server.h"

/* Commands awaiting a reply before reading pauses: bounds the memory a
 * client pipelining without reading can make the daemon hold. */
#define CONN_MAX_PENDING 1024u
/* Output at which a delivery writes at once instead of waiting for the
 * flush: a burst from a broker fanned out to many clients then streams
 * instead of piling up in every client's buffer. */
#define CONN_WRITE_THROUGH (16u * 1024u)

enum reply_kind { REPLY_OK, REPLY_ERR, REPLY_PONG, REPLY_DOC };

struct reply {
        struct reply *next;
        struct conn *conn; /* borrowed; NULL when orphaned */
        bool done;
        enum reply_kind kind;
        char *text;          /* owned: ERR "code text" parts, or NULL */
        size_t code_len;     /* ERR: the code is text[0..code_len) */
        struct bytes doc;    /* REPLY_DOC payload */
        size_t held;         /* counted in conn->held_bytes while queued done */
};

struct conn {
        struct ipc_server *server; /* borrowed */
        uint64_t id;
        int fd; /* owned */
        struct ucred cred;
        sd_event_source *io;    /* owned */
        sd_event_source *stall; /* owned or NULL */

        struct mql_ipc_parser parser;
        struct bytes in;
        struct bytes out;

        struct reply *replies; /* owned queue, command order */
        struct reply **replies_tail;
        size_t n_pending;
        size_t held_bytes; /* done replies waiting behind an unanswered one */

        struct local_sub *subs; /* owned through the router */
        size_t n_subs;

        uint64_t published;
        uint64_t delivered;
        uint64_t dropped;

        bool paused;     /* reading stopped: too much pending or queued */
        bool eof;        /* the peer shut its side: finish and close */
        bool closing;    /* freed at the end of this loop iteration */
        bool in_flush;   /* on the server's flush list */
        uint32_t events; /* what io waits for */
        struct conn *next, *prev;
        struct conn *flush_next;
};

struct ipc_server {
        struct manager *manager; /* borrowed */
        int fd;                  /* owned listening socket, -1 */
        char *path;              /* owned: the socket we made, to unlink */
        sd_event_source *listen_io;
        sd_event_source *accept_timer; /* listening paused: out of fds */
        sd_event_source *flush;  /* writes dirty connections once per iteration */
        sd_event_source *reap;   /* frees closed connections */
        struct conn *conns;
        size_t n_conns;
        uint64_t next_id;
        struct conn *flush_list;
        struct conn *dead;       /* closed, to be freed by reap */
        char *rbuf;              /* owned, READ_CHUNK: where reads land first */
        char *scratch;           /* owned: the parser's, for all connections */
        size_t scratch_size;
};

struct reply *conn_reply_new(struct conn *c);
void reply_pong(struct reply *r);
/* +OK with r->doc as the payload. */
void reply_doc(struct reply *r);
void conn_schedule_flush(struct conn *c);
/* Writes what the socket takes now, and nothing else (see ipc_server.c). */
void conn_send_now(struct conn *c);
/* Closes at the end of the iteration; `why` is logged at debug level. */
void conn_close(struct conn *c, const char *why);
/* Handles one parsed command. */
void conn_handle(struct conn *c, const struct mql_ipc_frame *f);

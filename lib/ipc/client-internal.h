/* SPDX-License-Identifier: MIT */
#pragma once

/* The IPC client's private state, shared by its files:
 *   client.c       lifetime, send(), the queue of pending replies, getters
 *   client-io.c    process(): read, dispatch, write, close
 *   client-loop.c  the mql_loop attachment */

#include <mqlink/ipc.h>

#include "util/buf.h"

/* A command waiting for its reply. */
struct mql__ipc_pending {
        mql_ipc_reply_fn cb;
        void *userdata;
        enum mql_ipc_kind kind; /* of the command: PING expects PONG */
};

struct mql_ipc_client {
        int fd; /* owned; -1 once the connection has ended */

        struct mql_ipc_parser parser;
        char *scratch; /* owned, parser.max_line bytes */
        struct mql__buf in;
        struct mql__buf out;
        size_t max_output;

        /* Ring of pending commands, oldest at q_head. */
        struct mql__ipc_pending *q; /* owned, q_cap entries */
        size_t q_cap;
        size_t q_head;
        size_t q_len;

        mql_ipc_message_fn on_message;
        mql_ipc_close_fn on_close;
        void *userdata;

        bool in_process; /* callbacks may be running: see free() */
        bool freed;      /* free() was called from a callback; process() frees */

        struct mql_loop *loop;      /* borrowed */
        struct mql_loop_source *io; /* owned */
        uint32_t io_events;
};

/* Takes the oldest pending command off the queue. The queue is not empty. */
struct mql__ipc_pending mql__ipc_client_pop(struct mql_ipc_client *c);
/* Frees everything; the fd is closed and no loop attached any more. */
void mql__ipc_client_destroy(struct mql_ipc_client *c);
/* Closes the fd (after dropping the loop's watch on it). */
void mql__ipc_client_close_fd(struct mql_ipc_client *c);
/* Brings the attached loop up to date with get_fd() and get_events(). */
void mql__ipc_client_sync(struct mql_ipc_client *c);

/* SPDX-License-Identifier: MIT */
#pragma once

/* The client's private state, shared with its loop integrations. */

#include <mqlink/client.h>

struct mql_client {
        char **uris; /* owned, n_uris of them */
        size_t n_uris;
        size_t uri_idx;
        struct mql_tls_config tls; /* owned strings */
        bool has_tls;
        mql_transport_factory_fn factory;
        void *factory_userdata;

        struct mql_session *session; /* owned */
        struct mql_transport *t;     /* owned; NULL between attempts */
        bool transport_up;           /* connect() done, session talking */
        uint64_t fd_gen;             /* bumped whenever the fd may have changed */

        enum mql_client_state state;
        bool stopping; /* mql_client_disconnect() asked for it */
        bool freeing;         /* mql_client_free() under way: calls are refused */
        uint64_t connected_at; /* µs of the last CONNACK */
        bool reconnect;
        bool more_input; /* read budget spent with data left */
        bool in_step;    /* inside step(): a callback must not re-enter it */
        bool need_step;  /* a call during step() left work for the next one */
        uint64_t close_deadline; /* µs: the session is DISCONNECTING; close by then */
        int error;       /* why the connection is going down */
        unsigned attempt;
        uint64_t deadline; /* µs: WAITING → next attempt; CONNECTING → give up */
        uint32_t reconnect_min_ms;
        uint32_t reconnect_max_ms;
        uint32_t connect_timeout_ms;
        uint64_t rng;

        mql_client_state_fn on_state;
        mql_client_message_fn on_message;
        mql_client_event_fn on_event;
        void *userdata;

        /* mql_loop attachment */
        struct mql_loop *loop;              /* borrowed */
        struct mql_loop_source *io;         /* owned */
        struct mql_loop_source *timer;      /* owned */
        int io_fd;
        uint64_t io_gen;
        uint32_t io_events;
        /* sd-event attachment (client-sd-event.c) */
        void *sd_attach; /* owned, opaque here */

        uint8_t rbuf[64 * 1024];
};

uint64_t mql__now_usec(void);
/* Brings the attached loops up to date with fd, events and timeout. */
void mql__client_sync(struct mql_client *c);
/* Called by sync for the sd-event attachment when built; a no-op stub
 * otherwise. */
void mql__client_sync_sd_event(struct mql_client *c);
void mql__client_detach_sd_event(struct mql_client *c);
/* The transport's fd is about to close: drop its watches first, so that a
 * new fd with the same number (another client's) can be watched at once. */
void mql__client_forget_fd(struct mql_client *c);
void mql__client_forget_fd_sd_event(struct mql_client *c);

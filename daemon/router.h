/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Routing between local subscriptions and brokers. Per broker, the upstream
 * subscriptions are the reference-counted union of the local ones: one
 * upstream entry per distinct filter, with the strongest options any local
 * subscriber asked for (highest QoS, No Local only when all ask for it,
 * Retain As Published when any does). The first local SUB on a filter
 * makes the SUBSCRIBE, the last UNSUB the UNSUBSCRIBE; `subscribe =` lines
 * of the config pin entries.
 *
 * Incoming messages find their entries by MQTT 5 Subscription Identifier
 * when the broker sends them (exact even with overlapping filters and
 * $share), else through a topic trie; each local subscription of each
 * entry gets one MSG.
 *
 * Retained messages: a local SUB on a filter already held upstream is
 * answered at once; with Retain Handling 0 the daemon also subscribes
 * again so that the broker sends the retained messages, and those (flagged
 * retain in the stream after that SUBACK) go only to the local
 * subscriptions that asked, not to the ones that already had them.
 */

#include <stdbool.h>
#include <stdint.h>

#include <mqlink/ipc.h>
#include <mqlink/session.h>

struct broker;
struct conn;
struct reply;
struct upstream;

struct local_sub {
        struct conn *conn; /* borrowed; the subscription dies with it */
        char sid[MQL_IPC_SID_MAX + 1];
        struct upstream *up; /* borrowed */
        uint8_t qos;
        bool no_local;
        bool retain_as_published;
        uint8_t retain_handling;
        uint32_t gen;  /* the SUBSCRIBE that brings its retained messages */
        struct reply *reply; /* waiting for the SUBACK; NULL once answered */
        struct local_sub *up_next, *up_prev;
        struct local_sub *conn_next, *conn_prev;
};

/* Route state of a broker. Returns 0 or -ENOMEM. */
int router_broker_add(struct broker *b);
/* Frees the broker's routes; its local subscriptions are dropped. */
void router_broker_remove(struct broker *b);
/* The broker's client was replaced: every entry subscribes again. */
void router_broker_reset(struct broker *b);
/* CONNACK: sends what waited for a connection. */
void router_broker_connected(struct broker *b);
/* Applies the broker's `subscribe =` lines (at start and after a reload). */
int router_broker_sync_pinned(struct broker *b);
size_t router_broker_n_upstream(const struct broker *b);
/* Before a DISCONNECT: UNSUBSCRIBE what local clients held, so that a
 * session the broker keeps (clean_start = no) does not collect messages
 * for subscribers that will be gone; the pinned ones stay. */
void router_broker_release(struct broker *b);

/* A message from `b`. */
void router_route(struct broker *b, const struct mql_message *msg);

/* SUB from a local connection: answers `reply` now or on SUBACK. Returns 0,
 * or -EEXIST (sid in use), -ENOBUFS (too many subscriptions), -ENOMEM; on
 * error the caller answers. */
int router_subscribe(struct broker *b, struct conn *c, const struct mql_ipc_frame *f,
                     struct reply *reply, size_t max_subs);
/* UNSUB: 0 or -ENOENT. */
int router_unsubscribe(struct conn *c, const char *sid, size_t sid_len);
/* The connection closes: all its subscriptions go. */
void router_conn_gone(struct conn *c);

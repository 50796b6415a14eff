/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * mql_client: one broker connection that stays up. A session
 * (mqlink/session.h) over a transport (mqlink/transport.h), with
 * reconnection (exponential backoff with full jitter, a list of broker URIs
 * tried in turn) and callbacks.
 *
 * The client owns no loop. Like sd-bus it exposes what a loop needs:
 *   mql_client_get_fd()       the fd to watch (it changes across
 *                             reconnects and while connecting; -1 while
 *                             waiting to reconnect)
 *   mql_client_get_events()   EPOLLIN / EPOLLOUT to wait for on it
 *   mql_client_get_timeout()  absolute CLOCK_MONOTONIC µs of its next
 *                             timer, or UINT64_MAX
 *   mql_client_process()      call when the fd is ready or the time has come
 * and re-read all three after each call into the client. Two integrations
 * do that for you: mql_client_attach_loop() (mqlink/loop.h) and
 * mql_client_attach_event() (mqlink/sd-event.h, sd-event).
 *
 * Nothing blocks: name resolution runs on a helper thread, connect and the
 * TLS handshake are non-blocking, writes that cannot go out wait in the
 * session's output.
 *
 * A client is used from one thread. Callbacks run inside
 * mql_client_process() (or inside the call that caused them) and may call
 * any client function except mql_client_free().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mqlink/loop.h>
#include <mqlink/session.h>
#include <mqlink/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mql_client;

enum mql_client_state {
        MQL_CLIENT_STOPPED,      /* not started, or stopped by mql_client_disconnect() */
        MQL_CLIENT_CONNECTING,   /* resolving, connecting, TLS, CONNECT/CONNACK */
        MQL_CLIENT_CONNECTED,    /* CONNACK success */
        MQL_CLIENT_WAITING,      /* the connection failed or broke: retrying after a delay */
};

/*
 * State changes. `error` says why the client left CONNECTED or CONNECTING:
 * a negative errno (-ECONNREFUSED, -ETIMEDOUT, -EKEYREJECTED TLS
 * verification, -EPIPE broker closed, -EPROTO…), or a positive MQTT reason
 * code when the broker refused (CONNACK, 3.1.1 return codes included) or sent
 * DISCONNECT; 0 otherwise.
 */
typedef void (*mql_client_state_fn)(struct mql_client *c, enum mql_client_state state,
                                    int error, void *userdata);
/* An application message. `msg` is valid during the call. With manual_ack
 * acknowledge QoS 1/2 with mql_client_acknowledge(c, msg->packet_id, 0). */
typedef void (*mql_client_message_fn)(struct mql_client *c, const struct mql_message *msg,
                                      void *userdata);
/* Every session event but MESSAGE (mqlink/session.h), for what the two
 * above do not carry: CONNACK properties, AUTH, the broker's DISCONNECT
 * properties. */
typedef void (*mql_client_event_fn)(struct mql_client *c, const struct mql_event *ev,
                                    void *userdata);

/* Makes the transport for a URI: the user-supplied kind (luamqtt's
 * connectors). Returns 0 and *ret, or -errno. */
typedef int (*mql_transport_factory_fn)(const char *uri, void *userdata,
                                        struct mql_transport **ret);

struct mql_client_config {
        /* Broker URIs tried in turn (mqtt://, mqtts://, unix://… see
         * mql_uri_parse()); at least one. Copied. */
        const char *const *uris;
        size_t n_uris;
        const struct mql_tls_config *tls; /* for mqtts:// (copied); NULL: defaults */
        mql_transport_factory_fn transport_factory; /* NULL: mql_transport_new_uri() */
        void *transport_userdata;
        /* The MQTT session; its on_event/userdata are the client's own and
         * are ignored. */
        struct mql_session_config session;
        bool no_reconnect;           /* reconnect is on by default */
        uint32_t reconnect_min_ms;   /* first delay bound; 0: 500 */
        uint32_t reconnect_max_ms;   /* cap; 0: 30000 */
        uint32_t connect_timeout_ms; /* TCP+TLS+CONNACK; 0: 30000 */
        mql_client_state_fn on_state;
        mql_client_message_fn on_message;
        mql_client_event_fn on_event;
        void *userdata;
};

/* Returns 0 and the client (stopped), -EINVAL for a bad config (no URI, a
 * malformed one, a bad session config), -ENOMEM. TLS files are read by each
 * connection attempt: an unreadable one shows as -EIO in on_state. */
int mql_client_new(const struct mql_client_config *cfg, struct mql_client **ret);
/* Closes at once (no DISCONNECT: use mql_client_disconnect() first for a
 * clean one), cancels pending operations (their callbacks get -ECANCELED),
 * detaches from any loop, frees. Accepts NULL; returns NULL. */
struct mql_client *mql_client_free(struct mql_client *c);

/* Starts connecting (and keeps the connection up). Returns 0 or -EALREADY
 * (also while a mql_client_disconnect() is still closing: start again from
 * on_state(STOPPED)). */
int mql_client_start(struct mql_client *c);
/*
 * Ends the connection cleanly: sends DISCONNECT with `reason` (MQTT 5) after
 * what is already queued, closes, and stops reconnecting (state STOPPED).
 * Messages still waiting stay queued for a later mql_client_start().
 * Returns 0, or -ENOTCONN when already stopped.
 */
int mql_client_disconnect(struct mql_client *c, uint8_t reason);

int mql_client_get_fd(struct mql_client *c);
uint32_t mql_client_get_events(struct mql_client *c);
uint64_t mql_client_get_timeout(struct mql_client *c);
/* Does all that is due: connect steps, reading, writing, keepalive,
 * reconnect. Returns 0, or a negative errno only for out-of-memory — network
 * failures are handled (reconnect) and reported through on_state. */
int mql_client_process(struct mql_client *c);

/* As mql_session_publish() / subscribe() / unsubscribe() / acknowledge();
 * callbacks receive the session: mql_client_from_session() gives the client.
 * A publish while not connected waits in the offline queue. From a callback
 * run by mql_client_free() they return -ECANCELED. */
int mql_client_publish(struct mql_client *c, const struct mql_message *msg, mql_publish_fn cb,
                       void *userdata);
int mql_client_subscribe(struct mql_client *c, const struct mql_subscription *subs, size_t n,
                         const struct mql_props *props, mql_subscribe_fn cb, void *userdata);
int mql_client_unsubscribe(struct mql_client *c, const struct mql_str *filters, size_t n,
                           const struct mql_props *props, mql_subscribe_fn cb, void *userdata);
int mql_client_acknowledge(struct mql_client *c, uint16_t packet_id, uint8_t reason);
int mql_client_auth(struct mql_client *c, uint8_t reason, const struct mql_props *props);

enum mql_client_state mql_client_get_state(struct mql_client *c);
/* The URI of the current (or last) connection attempt; valid until the next
 * call into the client. */
const char *mql_client_get_uri(struct mql_client *c);
struct mql_session *mql_client_get_session(struct mql_client *c);
struct mql_client *mql_client_from_session(struct mql_session *s);
void *mql_client_get_userdata(struct mql_client *c);

/*
 * Runs the client on an mql_loop: watches its fd and timer and calls
 * mql_client_process(). Several clients may share one loop. Returns 0,
 * -EBUSY if already attached, -ENOMEM. mql_client_detach() (or
 * mql_client_free()) undoes it.
 */
int mql_client_attach_loop(struct mql_client *c, struct mql_loop *loop);
void mql_client_detach(struct mql_client *c);

#ifdef __cplusplus
}
#endif

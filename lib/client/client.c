/* SPDX-License-Identifier: MIT */

/*
 * The client: a session over a transport, kept up.
 *
 *   STOPPED ──start()──▶ CONNECTING ──CONNACK ok──▶ CONNECTED
 *      ▲                  │      ▲                     │
 *      │   disconnect()   │ fail │ delay over          │ broken, DISCONNECT,
 *      └──────────────────┤      │                     │ keepalive timeout
 *                         ▼      │                     │
 *                        WAITING ◀─────────────────────┘
 *
 * A failed attempt moves on to the next URI of the list (failover); a
 * connection that was up and broke is retried on the same URI first. The
 * delay before attempt n is uniform in [0, min(max, min·2ⁿ)) — "full
 * jitter", so that many clients cut off at once do not return at once.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "client-internal.h"
#include "util/log.h"
#include "util/macro.h"

#define DEFAULT_RECONNECT_MIN_MS 500
#define DEFAULT_RECONNECT_MAX_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 30000
/* Reads per process() call before giving other clients on the loop a turn. */
#define READ_BUDGET 16
/* How long a DISCONNECT (ours, or after a protocol error) may take to go
 * out to a peer that stopped reading, before the connection is cut. */
#define CLOSE_GRACE_USEC (2 * 1000000u)

uint64_t mql__now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ms(void) {
        return mql__now_usec() / 1000u;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t next_random(struct mql_client *c) {
        uint64_t x = c->rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c->rng = x;
        return x * UINT64_C(2685821657736338717);
}

static void emit_state(struct mql_client *c, enum mql_client_state state, int error) {
        c->state = state;
        if (c->on_state)
                c->on_state(c, state, error, c->userdata);
}

static void on_session_event(struct mql_session *s, const struct mql_event *ev, void *userdata) {
        struct mql_client *c = userdata;

        switch (ev->type) {
        case MQL_EVENT_CONNECTED:
                /* The backoff starts over only once a connection has held
                 * (see connection_down()): a broker that accepts and then
                 * kicks us (a duplicate client id, 0x8E) must not make us
                 * hammer it. */
                c->connected_at = mql__now_usec();
                emit_state(c, MQL_CLIENT_CONNECTED, 0);
                break;
        case MQL_EVENT_CONNECT_REFUSED:
                c->error = ev->connack.reason_code;
                break;
        case MQL_EVENT_MESSAGE:
                if (c->on_message)
                        c->on_message(c, &ev->message, c->userdata);
                return;
        case MQL_EVENT_DISCONNECT:
                /* The broker is closing: nothing of ours needs to go out. */
                c->error = ev->disconnect.reason_code ? ev->disconnect.reason_code : -ECONNRESET;
                c->close_deadline = 1;
                break;
        case MQL_EVENT_CLOSE:
                c->error = ev->error;
                c->close_deadline = 1; /* presumed dead: do not wait for it */
                break;
        case MQL_EVENT_AUTH:
                break;
        }
        if (c->on_event)
                c->on_event(c, ev, c->userdata);
}

static int copy_tls(struct mql_client *c, const struct mql_tls_config *tls) {
        if (!tls)
                return 0;
        const char *const src[] = { tls->ca_file,  tls->ca_path,     tls->cert_file,
                                    tls->key_file, tls->server_name, tls->alpn };
        const char **dst[] = { &c->tls.ca_file,  &c->tls.ca_path,     &c->tls.cert_file,
                               &c->tls.key_file, &c->tls.server_name, &c->tls.alpn };
        for (size_t i = 0; i < ELEMENTSOF(src); i++)
                if (src[i] && !(*dst[i] = strdup(src[i])))
                        return -ENOMEM;
        c->tls.insecure = tls->insecure;
        c->has_tls = true;
        return 0;
}

static void free_tls(struct mql_client *c) {
        free((char *)c->tls.ca_file);
        free((char *)c->tls.ca_path);
        free((char *)c->tls.cert_file);
        free((char *)c->tls.key_file);
        free((char *)c->tls.server_name);
        free((char *)c->tls.alpn);
}

MQL_EXPORT int mql_client_new(const struct mql_client_config *cfg, struct mql_client **ret) {
        int r;

        if (!cfg || !ret || !cfg->uris || cfg->n_uris == 0)
                return -EINVAL;

        struct mql_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->io_fd = -1;
        c->uris = calloc(cfg->n_uris, sizeof(char *));
        if (!c->uris) {
                free(c);
                return -ENOMEM;
        }
        c->n_uris = cfg->n_uris;
        for (size_t i = 0; i < cfg->n_uris; i++) {
                bool tls, unix_sock;
                char *host = NULL;
                uint16_t port;
                /* Check every URI now: a typo shows at once, not after the
                 * first ones have failed. */
                if (!cfg->uris[i]) {
                        r = -EINVAL;
                        goto fail;
                }
                r = mql_uri_parse(cfg->uris[i], &tls, &unix_sock, &host, &port);
                free(host);
                /* A transport factory may take URIs of its own kind. */
                if (r < 0 && !cfg->transport_factory)
                        goto fail;
                c->uris[i] = strdup(cfg->uris[i]);
                if (!c->uris[i]) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        r = copy_tls(c, cfg->tls);
        if (r < 0)
                goto fail;

        struct mql_session_config sc = cfg->session;
        sc.on_event = on_session_event;
        sc.userdata = c;
        r = mql_session_new(&sc, &c->session);
        if (r < 0)
                goto fail;

        c->factory = cfg->transport_factory;
        c->factory_userdata = cfg->transport_userdata;
        c->reconnect = !cfg->no_reconnect;
        c->reconnect_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms
                                                    : DEFAULT_RECONNECT_MIN_MS;
        c->reconnect_max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms
                                                    : DEFAULT_RECONNECT_MAX_MS;
        if (c->reconnect_max_ms < c->reconnect_min_ms)
                c->reconnect_max_ms = c->reconnect_min_ms;
        c->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                        : DEFAULT_CONNECT_TIMEOUT_MS;
        c->on_state = cfg->on_state;
        c->on_message = cfg->on_message;
        c->on_event = cfg->on_event;
        c->userdata = cfg->userdata;
        c->rng = mql__now_usec() ^ (uint64_t)(uintptr_t)c ^ UINT64_C(0x9E3779B97F4A7C15);
        if (!c->rng)
                c->rng = 1;
        *ret = c;
        return 0;
fail:
        mql_client_free(c);
        return r;
}

static void close_transport(struct mql_client *c) {
        if (c->t)
                mql__client_forget_fd(c);
        c->t = mql_transport_free(c->t);
        c->transport_up = false;
        c->more_input = false;
        c->close_deadline = 0;
        c->fd_gen++;
}

MQL_EXPORT struct mql_client *mql_client_free(struct mql_client *c) {
        if (!c)
                return NULL;
        c->freeing = true;
        mql_client_detach(c);
        if (c->transport_up)
                mql_session_connection_lost(c->session);
        close_transport(c);
        c->on_state = NULL;
        c->on_message = NULL;
        c->on_event = NULL;
        /* Completion callbacks (-ECANCELED) may call back in: after_call()
         * refuses them, so none can queue anything anew. */
        mql_session_free(c->session);
        for (size_t i = 0; i < c->n_uris; i++)
                free(c->uris[i]);
        free(c->uris);
        free_tls(c);
        free(c);
        return NULL;
}

static uint32_t backoff_ms(struct mql_client *c) {
        uint64_t cap = c->reconnect_min_ms;
        for (unsigned i = 0; i < c->attempt && cap < c->reconnect_max_ms; i++)
                cap *= 2;
        if (cap > c->reconnect_max_ms)
                cap = c->reconnect_max_ms;
        return (uint32_t)(next_random(c) % (cap + 1));
}

/* The connection attempt failed or the connection ended. */
static void connection_down(struct mql_client *c, int error) {
        bool was_up = c->state == MQL_CLIENT_CONNECTED;

        if (c->transport_up)
                mql_session_connection_lost(c->session);
        close_transport(c);
        if (error)
                log_debug("mqtt: %s: connection down: %s", c->uris[c->uri_idx],
                          error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error));

        if (c->stopping || !c->reconnect) {
                c->stopping = false;
                emit_state(c, MQL_CLIENT_STOPPED, error);
                return;
        }
        /* Failover: a failed attempt tries the next broker; a connection
         * that was up is retried where it was first. */
        if (!was_up)
                c->uri_idx = (c->uri_idx + 1) % c->n_uris;
        else if (mql__now_usec() - c->connected_at >= (uint64_t)c->reconnect_max_ms * 1000u)
                c->attempt = 0;
        uint32_t delay = backoff_ms(c);
        c->attempt++;
        c->deadline = mql__now_usec() + (uint64_t)delay * 1000u;
        emit_state(c, MQL_CLIENT_WAITING, error);
}

static void begin_attempt(struct mql_client *c) {
        const char *uri = c->uris[c->uri_idx];
        int r;

        close_transport(c);
        c->error = 0;
        c->deadline = mql__now_usec() + (uint64_t)c->connect_timeout_ms * 1000u;
        emit_state(c, MQL_CLIENT_CONNECTING, 0);
        if (c->state != MQL_CLIENT_CONNECTING)
                return; /* the callback stopped us */
        if (c->factory)
                r = c->factory(uri, c->factory_userdata, &c->t);
        else
                r = mql_transport_new_uri(uri, c->has_tls ? &c->tls : NULL, &c->t);
        if (r < 0) {
                c->t = NULL;
                connection_down(c, r);
        }
}

/* Writes as much of the session's output as the transport takes. */
static int flush_output(struct mql_client *c) {
        for (;;) {
                const uint8_t *p;
                size_t len;
                mql_session_output(c->session, &p, &len);
                if (len == 0)
                        return 0;
                struct iovec iov = { (void *)p, len };
                ssize_t n = mql_transport_writev(c->t, &iov, 1);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return 0;
                mql_session_output_consumed(c->session, (size_t)n, now_ms());
        }
}

static int read_input(struct mql_client *c) {
        c->more_input = false;
        for (unsigned i = 0; i < READ_BUDGET; i++) {
                ssize_t n = mql_transport_read(c->t, c->rbuf, sizeof(c->rbuf));
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return 0;
                int r = mql_session_receive(c->session, c->rbuf, (size_t)n, now_ms());
                if (r < 0) {
                        /* The session queued its DISCONNECT; it goes out
                         * below and the connection closes after it. */
                        c->error = r;
                        return 0;
                }
                if (!c->transport_up || mql_session_get_state(c->session) ==
                                                MQL_SESSION_DISCONNECTING)
                        return 0;
        }
        c->more_input = true; /* budget spent: come back at once */
        return 0;
}

/* One pass over everything that may be due. */
static void step(struct mql_client *c) {
        uint64_t now = mql__now_usec();
        int r;

        c->need_step = false;
        if (c->state == MQL_CLIENT_WAITING && now >= c->deadline)
                begin_attempt(c);
        if (c->state != MQL_CLIENT_CONNECTING && c->state != MQL_CLIENT_CONNECTED)
                return;

        if (!c->transport_up) {
                r = mql_transport_connect(c->t);
                c->fd_gen++;
                if (r == -EAGAIN) {
                        if (now >= c->deadline)
                                connection_down(c, -ETIMEDOUT);
                        return;
                }
                if (r < 0) {
                        connection_down(c, r);
                        return;
                }
                c->transport_up = true;
                r = mql_session_connection_made(c->session, now / 1000u);
                if (r < 0) {
                        connection_down(c, r);
                        return;
                }
        }

        r = read_input(c);
        if (r < 0) {
                connection_down(c, c->error ? c->error : r);
                return;
        }
        if (!c->t)
                return;
        uint64_t ms = mql__now_usec() / 1000u;
        if (ms >= mql_session_next_tick(c->session))
                mql_session_tick(c->session, ms);
        r = flush_output(c);
        if (r < 0) {
                connection_down(c, c->error ? c->error : r);
                return;
        }

        const uint8_t *p;
        size_t len;
        mql_session_output(c->session, &p, &len);
        if (mql_session_get_state(c->session) == MQL_SESSION_DISCONNECTING) {
                now = mql__now_usec();
                if (!c->close_deadline)
                        c->close_deadline = now + CLOSE_GRACE_USEC;
                if (len == 0 || now >= c->close_deadline) {
                        connection_down(c, c->error ? c->error : len ? -ETIMEDOUT : 0);
                        return;
                }
        }
        if (c->state == MQL_CLIENT_CONNECTING && mql__now_usec() >= c->deadline)
                connection_down(c, -ETIMEDOUT);
}

/* step() runs callbacks; one that calls back into the client leaves the
 * rest to the step under way instead of nesting another. */
static void run_step(struct mql_client *c) {
        if (c->in_step) {
                c->need_step = true; /* get_timeout() says "now" */
                return;
        }
        c->in_step = true;
        step(c);
        c->in_step = false;
}

MQL_EXPORT int mql_client_process(struct mql_client *c) {
        run_step(c);
        mql__client_sync(c);
        return 0;
}

MQL_EXPORT int mql_client_start(struct mql_client *c) {
        if (c->state != MQL_CLIENT_STOPPED)
                return -EALREADY;
        c->stopping = false;
        c->attempt = 0;
        begin_attempt(c);
        run_step(c);
        mql__client_sync(c);
        return 0;
}

MQL_EXPORT int mql_client_disconnect(struct mql_client *c, uint8_t reason) {
        if (c->state == MQL_CLIENT_STOPPED)
                return -ENOTCONN;
        c->stopping = true;
        /* Once CONNECT is out, DISCONNECT may follow it even before CONNACK
         * (MQTT 5 §3.1.4): without it the broker would publish the will. */
        if (c->transport_up && mql_session_disconnect(c->session, reason, NULL) == 0) {
                run_step(c); /* writes it, and closes once written */
        } else
                connection_down(c, 0);
        mql__client_sync(c);
        return 0;
}

MQL_EXPORT int mql_client_get_fd(struct mql_client *c) {
        if (!c->t || (c->state != MQL_CLIENT_CONNECTING && c->state != MQL_CLIENT_CONNECTED))
                return -1;
        int fd = mql_transport_fd(c->t);
        return fd < 0 ? -1 : fd;
}

MQL_EXPORT uint32_t mql_client_get_events(struct mql_client *c) {
        if (mql_client_get_fd(c) < 0)
                return 0;
        uint32_t ev = mql_transport_events(c->t);
        if (c->transport_up) {
                const uint8_t *p;
                size_t len;
                ev |= EPOLLIN;
                mql_session_output(c->session, &p, &len);
                if (len)
                        ev |= EPOLLOUT;
        }
        return ev;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}

MQL_EXPORT uint64_t mql_client_get_timeout(struct mql_client *c) {
        switch (c->state) {
        case MQL_CLIENT_WAITING:
                return c->deadline;
        case MQL_CLIENT_CONNECTING:
        case MQL_CLIENT_CONNECTED: {
                uint64_t t = c->state == MQL_CLIENT_CONNECTING ? c->deadline : UINT64_MAX;
                if (c->need_step || (c->transport_up && c->more_input))
                        return 0;
                if (c->close_deadline)
                        t = min_u64(t, c->close_deadline);
                if (c->transport_up) {
                        uint64_t tick = mql_session_next_tick(c->session);
                        if (tick != UINT64_MAX)
                                t = min_u64(t, tick * 1000u);
                }
                return t;
        }
        default:
                return UINT64_MAX;
        }
}

/* After an API call that may have queued output: let the loop know. */
static int after_call(struct mql_client *c, int r) {
        mql__client_sync(c);
        return r;
}

MQL_EXPORT int mql_client_publish(struct mql_client *c, const struct mql_message *msg,
                                  mql_publish_fn cb, void *userdata) {
        if (c->freeing)
                return -ECANCELED;
        return after_call(c, mql_session_publish(c->session, msg, cb, userdata));
}

MQL_EXPORT int mql_client_subscribe(struct mql_client *c, const struct mql_subscription *subs,
                                    size_t n, const struct mql_props *props, mql_subscribe_fn cb,
                                    void *userdata) {
        if (c->freeing)
                return -ECANCELED;
        return after_call(c, mql_session_subscribe(c->session, subs, n, props, cb, userdata));
}

MQL_EXPORT int mql_client_unsubscribe(struct mql_client *c, const struct mql_str *filters,
                                      size_t n, const struct mql_props *props,
                                      mql_subscribe_fn cb, void *userdata) {
        if (c->freeing)
                return -ECANCELED;
        return after_call(c, mql_session_unsubscribe(c->session, filters, n, props, cb, userdata));
}

MQL_EXPORT int mql_client_acknowledge(struct mql_client *c, uint16_t packet_id, uint8_t reason) {
        return after_call(c, mql_session_acknowledge(c->session, packet_id, reason));
}

MQL_EXPORT int mql_client_auth(struct mql_client *c, uint8_t reason,
                               const struct mql_props *props) {
        return after_call(c, mql_session_auth(c->session, reason, props));
}

MQL_EXPORT enum mql_client_state mql_client_get_state(struct mql_client *c) {
        return c->state;
}

MQL_EXPORT const char *mql_client_get_uri(struct mql_client *c) {
        return c->uris[c->uri_idx];
}

MQL_EXPORT struct mql_session *mql_client_get_session(struct mql_client *c) {
        return c->session;
}

MQL_EXPORT struct mql_client *mql_client_from_session(struct mql_session *s) {
        return mql_session_get_userdata(s);
}

MQL_EXPORT void *mql_client_get_userdata(struct mql_client *c) {
        return c->userdata;
}

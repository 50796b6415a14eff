/* SPDX-License-Identifier: MIT */

/*
 * The session engine's connection state machine:
 *
 *                 connection_made()                CONNACK ok
 *   DISCONNECTED ───────────────────▶ CONNECTING ─────────────▶ CONNECTED
 *        ▲         (CONNECT queued)    │  ▲  AUTH ⇄ AUTH            │
 *        │                             │  └────────┘                │
 *        │          CONNACK refused,   │                disconnect()│
 *        │          timeout, bad bytes ▼                 DISCONNECT │
 *        │                       DISCONNECTING ◀────── received, ───┘
 *        │                      (caller closes)        bad bytes
 *        └──────────── connection_lost() from any state ──────────────
 *
 * What survives connection_lost(): the offline queue, messages in flight
 * (resent with DUP when the broker kept the session, MQTT-4.4.0-1), QoS 2
 * receive state, subscriptions (sent again when the broker did not keep
 * it) and pending SUBSCRIBE/UNSUBSCRIBE. What does not: partial input,
 * unwritten output, topic aliases (they belong to one network connection,
 * MQTT 5 §3.3.2.3.4).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/codec.h"
#include "session-internal.h"
#include "util/log.h"
#include "util/macro.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 30000
#define DEFAULT_QUEUE_MESSAGES 1000
#define DEFAULT_QUEUE_BYTES (16u << 20)
#define DEFAULT_MAX_OUTPUT (64u << 20)
#define DEFAULT_V311_INFLIGHT 20

static void *memdup_or_null(const void *p, size_t n) {
        if (n == 0)
                return NULL;
        void *d = malloc(n);
        if (d)
                memcpy(d, p, n);
        return d;
}

/* Encodes a property container into an owned raw block, so the session
 * keeps no pointer into the caller's config. */
static int props_to_raw(const struct mql_props *p, enum mql_packet_type type, bool will,
                        struct mql_props *ret) {
        ssize_t n = mql__props_size(p, type, will);
        if (n < 0)
                return (int)n;
        *ret = (struct mql_props){ 0 };
        if (n == 0)
                return 0;
        uint8_t *raw = malloc((size_t)n);
        if (!raw)
                return -ENOMEM;
        struct wcursor c = wcursor_make(raw, (size_t)n);
        mql__props_write_block(&c, p);
        *ret = (struct mql_props){ .raw = raw, .raw_len = (size_t)n };
        return 0;
}

static void free_props(struct mql_props *p) {
        free((void *)p->raw);
        *p = (struct mql_props){ 0 };
}

/* The CONNECT properties from the config's fields (MQTT 5 §3.1.2.11). */
static int build_connect_props(const struct mql_session_config *cfg, struct mql_props *ret) {
        size_t n = 0, cap = 8 + cfg->n_user_props;
        _cleanup_free_ struct mql_prop *list = calloc(cap, sizeof(*list));
        if (!list)
                return -ENOMEM;

        if (cfg->session_expiry)
                list[n++] = (struct mql_prop){ .id = MQL_PROP_SESSION_EXPIRY_INTERVAL,
                                               .u32 = cfg->session_expiry };
        if (cfg->receive_maximum && cfg->receive_maximum != UINT16_MAX)
                list[n++] = (struct mql_prop){ .id = MQL_PROP_RECEIVE_MAXIMUM,
                                               .u32 = cfg->receive_maximum };
        if (cfg->maximum_packet_size)
                list[n++] = (struct mql_prop){ .id = MQL_PROP_MAXIMUM_PACKET_SIZE,
                                               .u32 = cfg->maximum_packet_size };
        if (cfg->topic_alias_maximum)
                list[n++] = (struct mql_prop){ .id = MQL_PROP_TOPIC_ALIAS_MAXIMUM,
                                               .u32 = cfg->topic_alias_maximum };
        if (cfg->request_response_information)
                list[n++] = (struct mql_prop){ .id = MQL_PROP_REQUEST_RESPONSE_INFORMATION,
                                               .u32 = 1 };
        if (cfg->request_problem_information_off)
                list[n++] = (struct mql_prop){ .id = MQL_PROP_REQUEST_PROBLEM_INFORMATION,
                                               .u32 = 0 };
        for (size_t i = 0; i < cfg->n_user_props; i++)
                list[n++] = cfg->user_props[i];
        if (cfg->auth_method) {
                list[n++] = (struct mql_prop){ .id = MQL_PROP_AUTHENTICATION_METHOD,
                                               .str = mql_str_from(cfg->auth_method) };
                if (cfg->auth_data.len)
                        list[n++] = (struct mql_prop){ .id = MQL_PROP_AUTHENTICATION_DATA,
                                                       .bin = cfg->auth_data };
        }
        struct mql_props p = { .list = list, .count = n };
        return props_to_raw(&p, MQL_CONNECT, false, ret);
}

static int copy_config(struct mql_session *s, const struct mql_session_config *cfg) {
        struct mql_connect *c = &s->connect;
        int r;

        s->version = cfg->version ? cfg->version : MQL_V5;
        if (s->version != MQL_V5 && s->version != MQL_V311)
                return -EINVAL;
        if (s->version == MQL_V311 && (cfg->n_user_props || cfg->auth_method ||
                                       (cfg->will && !mql__props_empty(&cfg->will->props))))
                return -EINVAL;

        s->client_id = strdup(cfg->client_id ? cfg->client_id : "");
        if (!s->client_id)
                return -ENOMEM;
        /* MQTT-3.1.3-7: a 3.1.1 server has nothing to resume for a client
         * without an id. */
        if (s->version == MQL_V311 && !s->client_id[0] && !cfg->clean_start)
                return -EINVAL;
        c->version = s->version;
        c->clean_start = cfg->clean_start;
        c->keepalive = cfg->keepalive;

        if (cfg->username) {
                char *u = strdup(cfg->username);
                if (!u)
                        return -ENOMEM;
                c->has_username = true;
                c->username = mql_str_from(u);
        }
        struct mql_bin pw = cfg->password_bin;
        if (cfg->password)
                pw = (struct mql_bin){ (const uint8_t *)cfg->password, strlen(cfg->password) };
        if (cfg->password || pw.len) {
                c->has_password = true;
                c->password.len = pw.len;
                c->password.ptr = memdup_or_null(pw.ptr, pw.len);
                if (pw.len && !c->password.ptr)
                        return -ENOMEM;
        }
        if (cfg->will) {
                const struct mql_will *w = cfg->will;
                c->will = true;
                c->will_qos = w->qos;
                c->will_retain = w->retain;
                c->will_topic.len = w->topic.len;
                c->will_topic.ptr = memdup_or_null(w->topic.ptr, w->topic.len);
                c->will_payload.len = w->payload.len;
                c->will_payload.ptr = memdup_or_null(w->payload.ptr, w->payload.len);
                if ((w->topic.len && !c->will_topic.ptr) ||
                    (w->payload.len && !c->will_payload.ptr))
                        return -ENOMEM;
                if (s->version == MQL_V5) {
                        r = props_to_raw(&w->props, MQL_CONNECT, true, &c->will_props);
                        if (r < 0)
                                return r;
                }
        }
        if (s->version == MQL_V5) {
                r = build_connect_props(cfg, &c->props);
                if (r < 0)
                        return r;
        }

        s->clean_start = cfg->clean_start;
        s->keepalive = cfg->keepalive;
        s->session_expiry = cfg->session_expiry;
        s->receive_maximum = cfg->receive_maximum ? cfg->receive_maximum : UINT16_MAX;
        s->max_inflight = cfg->max_inflight ? cfg->max_inflight
                          : s->version == MQL_V311 ? DEFAULT_V311_INFLIGHT
                                                   : 0;
        s->maximum_packet_size = cfg->maximum_packet_size;
        s->topic_alias_maximum = s->version == MQL_V5 ? cfg->topic_alias_maximum : 0;
        s->outbound_topic_aliases = cfg->outbound_topic_aliases;
        s->manual_ack = cfg->manual_ack;
        s->resume_policy = cfg->resume_policy;
        s->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                        : DEFAULT_CONNECT_TIMEOUT_MS;
        s->queue_max_messages = cfg->offline_queue_messages ? cfg->offline_queue_messages
                                                            : DEFAULT_QUEUE_MESSAGES;
        s->queue_max_bytes = cfg->offline_queue_bytes ? cfg->offline_queue_bytes
                                                      : DEFAULT_QUEUE_BYTES;
        s->max_output_bytes = cfg->max_output_bytes ? cfg->max_output_bytes : DEFAULT_MAX_OUTPUT;
        s->on_event = cfg->on_event;
        s->userdata = cfg->userdata;

        /* Check the CONNECT once now, so a bad config fails here and not on
         * every connection. */
        c->client_id = mql_str_from(s->client_id);
        struct mql_packet p = { .type = MQL_CONNECT, .connect = *c };
        ssize_t n = mql_packet_size(&p, s->version);
        return n < 0 ? -EINVAL : 0;
}

MQL_EXPORT int mql_session_new(const struct mql_session_config *cfg, struct mql_session **ret) {
        if (!cfg || !ret)
                return -EINVAL;
        struct mql_session *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->queue.tailp = &s->queue.head;
        s->inflight.tailp = &s->inflight.head;
        s->ops_tailp = &s->ops;
        s->next_id = 1;
        s->server_receive_maximum = UINT16_MAX;
        s->server_maximum_qos = 2;
        s->server_retain_available = true;

        int r = copy_config(s, cfg);
        if (r < 0) {
                mql_session_free(s);
                return r;
        }
        if (s->topic_alias_maximum) {
                s->in_aliases = calloc((size_t)s->topic_alias_maximum + 1, sizeof(struct alias));
                if (!s->in_aliases) {
                        mql_session_free(s);
                        return -ENOMEM;
                }
        }
        *ret = s;
        return 0;
}

MQL_EXPORT struct mql_session *mql_session_free(struct mql_session *s) {
        if (!s)
                return NULL;
        mql__pub_free_all(s);
        mql__sub_free_all(s);
        mql__pub_reset_aliases(s);
        free(s->out_aliases);
        if (s->in_aliases)
                for (size_t i = 0; i <= s->topic_alias_maximum; i++)
                        free(s->in_aliases[i].topic);
        free(s->in_aliases);
        free(s->client_id);
        free((void *)s->connect.username.ptr);
        free((void *)s->connect.password.ptr);
        free((void *)s->connect.will_topic.ptr);
        free((void *)s->connect.will_payload.ptr);
        free_props(&s->connect.props);
        free_props(&s->connect.will_props);
        mql__buf_free(&s->in);
        mql__buf_free(&s->out);
        free(s);
        return NULL;
}

void mql__session_emit(struct mql_session *s, const struct mql_event *ev) {
        if (s->on_event)
                s->on_event(s, ev, s->userdata);
}

/* Encodes a packet at the end of the output. */
int mql__session_send(struct mql_session *s, const struct mql_packet *p) {
        /* Nothing follows DISCONNECT on a connection (MQTT-3.14.4-1): an ack
         * a callback caused after it is dropped, and the broker resends. */
        if (s->state == MQL_SESSION_DISCONNECTING)
                return 0;
        if (s->state == MQL_SESSION_DISCONNECTED)
                return -ENOTCONN;
        ssize_t n = mql__packet_append(p, s->version, &s->out);
        return n < 0 ? (int)n : 0;
}

/*
 * The broker broke the protocol, or we give up on it: in MQTT 5 tell it why
 * with DISCONNECT (MQTT 5 §4.13.1), then the caller closes. Returns err.
 */
int mql__session_fail(struct mql_session *s, int err, uint8_t reason) {
        if (s->state == MQL_SESSION_DISCONNECTING || s->state == MQL_SESSION_DISCONNECTED)
                return err;
        if (s->version == MQL_V5 && s->state == MQL_SESSION_CONNECTED) {
                struct mql_packet p = { .type = MQL_DISCONNECT };
                p.disconnect.reason_code = reason;
                (void)mql__session_send(s, &p);
        }
        log_debug("mqtt: closing: %s (reason 0x%02x)", mql_strerror(err), reason);
        s->state = MQL_SESSION_DISCONNECTING;
        return err;
}

uint16_t mql__session_alloc_id(struct mql_session *s) {
        /* At most 65535 ids exist; callers never hold that many (the
         * broker's Receive Maximum caps the in-flight window). */
        for (unsigned tries = 0; tries < 65535; tries++) {
                uint16_t id = s->next_id;
                s->next_id = id == UINT16_MAX ? 1 : (uint16_t)(id + 1);
                if (!id_test(s->ids_used, id)) {
                        id_set(s->ids_used, id);
                        return id;
                }
        }
        return 0;
}

MQL_EXPORT int mql_session_connection_made(struct mql_session *s, uint64_t now_ms) {
        if (s->state != MQL_SESSION_DISCONNECTED)
                return -EALREADY;

        mql__buf_clear(&s->in);
        mql__buf_clear(&s->out);
        s->connect.client_id = mql_str_from(s->client_id);
        /* After the first connection, resume the broker's session unless
         * the user asked for a clean one every time. */
        s->connect.clean_start = s->clean_start && !s->first_connack_done;
        /* 3.1.1 has no Session Expiry: a clean session is clean every time. */
        if (s->version == MQL_V311)
                s->connect.clean_start = s->clean_start;
        struct mql_packet p = { .type = MQL_CONNECT, .connect = s->connect };
        s->state = MQL_SESSION_CONNECTING;
        int r = mql__session_send(s, &p);
        if (r < 0) {
                s->state = MQL_SESSION_DISCONNECTED;
                return r;
        }
        s->connect_started = now_ms;
        s->last_rx = s->last_tx = now_ms;
        s->ping_outstanding = false;
        return 0;
}

MQL_EXPORT void mql_session_connection_lost(struct mql_session *s) {
        s->state = MQL_SESSION_DISCONNECTED;
        mql__buf_clear(&s->in);
        mql__buf_clear(&s->out);
        mql__pub_reset_aliases(s);
}

/* CONNACK properties that shape what we may send (MQTT 5 §3.2.2.3). */
static void adopt_connack(struct mql_session *s, const struct mql_connack *ca) {
        struct mql_prop_iter it;
        struct mql_prop p;

        s->server_receive_maximum = UINT16_MAX;
        s->server_maximum_packet_size = 0;
        s->server_topic_alias_maximum = 0;
        s->server_maximum_qos = 2;
        s->server_retain_available = true;
        s->effective_keepalive = s->keepalive;

        mql_prop_iter_init(&it, &ca->props);
        while (mql_prop_iter_next(&it, &p) > 0) {
                switch (p.id) {
                case MQL_PROP_RECEIVE_MAXIMUM:
                        s->server_receive_maximum = (uint16_t)p.u32;
                        break;
                case MQL_PROP_MAXIMUM_PACKET_SIZE:
                        s->server_maximum_packet_size = p.u32;
                        break;
                case MQL_PROP_TOPIC_ALIAS_MAXIMUM:
                        s->server_topic_alias_maximum = (uint16_t)p.u32;
                        break;
                case MQL_PROP_MAXIMUM_QOS:
                        s->server_maximum_qos = (uint8_t)p.u32;
                        break;
                case MQL_PROP_RETAIN_AVAILABLE:
                        s->server_retain_available = p.u32;
                        break;
                case MQL_PROP_SERVER_KEEP_ALIVE: /* MQTT-3.2.2-21 */
                        s->effective_keepalive = (uint16_t)p.u32;
                        break;
                case MQL_PROP_ASSIGNED_CLIENT_IDENTIFIER: {
                        /* Keep it: resuming this session needs it. */
                        char *id = strndup(p.str.ptr, p.str.len);
                        if (id) {
                                free(s->client_id);
                                s->client_id = id;
                        }
                        break;
                }
                default:
                        break;
                }
        }
        s->stats.server_receive_maximum = s->server_receive_maximum;
        if (s->max_inflight && s->max_inflight < s->server_receive_maximum)
                s->server_receive_maximum = s->max_inflight;
        s->stats.server_maximum_packet_size = s->server_maximum_packet_size;
}

static int on_connack(struct mql_session *s, const struct mql_connack *ca) {
        if (s->state != MQL_SESSION_CONNECTING)
                return mql__session_fail(s, -EPROTO, MQL_RC_PROTOCOL_ERROR);

        struct mql_event ev = { .connack = *ca };
        if (ca->reason_code != 0) {
                ev.type = MQL_EVENT_CONNECT_REFUSED;
                s->state = MQL_SESSION_DISCONNECTING;
                mql__session_emit(s, &ev);
                return 0;
        }

        adopt_connack(s, ca);
        s->state = MQL_SESSION_CONNECTED;
        s->first_connack_done = true;
        /* MQTT-4.4.0-1: first what was in flight, in order, then the rest.
         * The event comes between the two, so that the user sees CONNECTED
         * before any completion of a queued message, and whatever it
         * publishes then lines up behind the queue. */
        mql__pub_resume(s, ca->session_present);
        mql__sub_resume(s, ca->session_present);
        ev.type = MQL_EVENT_CONNECTED;
        mql__session_emit(s, &ev);
        return mql__pub_flush(s);
}

static int on_packet(struct mql_session *s, const struct mql_packet *p) {
        struct mql_event ev = { 0 };

        /* Before CONNACK only CONNACK and AUTH may come (MQTT-3.2.0-1…). */
        if (s->state == MQL_SESSION_CONNECTING && p->type != MQL_CONNACK &&
            p->type != MQL_AUTH && p->type != MQL_DISCONNECT)
                return mql__session_fail(s, -EPROTO, MQL_RC_PROTOCOL_ERROR);

        switch (p->type) {
        case MQL_CONNACK:
                return on_connack(s, &p->connack);
        case MQL_PUBLISH:
                return mql__pub_on_publish(s, &p->publish);
        case MQL_PUBACK:
        case MQL_PUBREC:
        case MQL_PUBCOMP:
                return mql__pub_on_ack(s, p);
        case MQL_PUBREL:
                return mql__pub_on_pubrel(s, &p->ack);
        case MQL_SUBACK:
        case MQL_UNSUBACK:
                return mql__sub_on_ack(s, p);
        case MQL_PINGRESP:
                return 0;
        case MQL_DISCONNECT:
                s->state = MQL_SESSION_DISCONNECTING;
                ev.type = MQL_EVENT_DISCONNECT;
                ev.disconnect = p->disconnect;
                mql__session_emit(s, &ev);
                return 0;
        case MQL_AUTH:
                ev.type = MQL_EVENT_AUTH;
                ev.auth = p->auth;
                mql__session_emit(s, &ev);
                return 0;
        default:
                /* CONNECT, SUBSCRIBE, PINGREQ… go to a server, not to us. */
                return mql__session_fail(s, -EPROTO, MQL_RC_PROTOCOL_ERROR);
        }
}

static uint8_t reason_for(int err) {
        return err == -EBADMSG ? MQL_RC_MALFORMED_PACKET
               : err == -EMSGSIZE ? MQL_RC_PACKET_TOO_LARGE
                                  : MQL_RC_PROTOCOL_ERROR;
}

/* Decodes and handles every whole packet in buf; returns bytes used. */
static ssize_t consume(struct mql_session *s, const uint8_t *buf, size_t len) {
        size_t used = 0;

        while (used < len && s->state != MQL_SESSION_DISCONNECTING &&
               s->state != MQL_SESSION_DISCONNECTED) {
                ssize_t n = mql_packet_length(buf + used, len - used);
                if (n < 0)
                        return mql__session_fail(s, (int)n, reason_for((int)n));
                if (n > 0 && s->maximum_packet_size && (size_t)n > s->maximum_packet_size)
                        return mql__session_fail(s, -EMSGSIZE, MQL_RC_PACKET_TOO_LARGE);

                struct mql_packet p;
                n = mql_packet_decode(buf + used, len - used, s->version, &p);
                if (n == 0)
                        break;
                if (n < 0)
                        return mql__session_fail(s, (int)n, reason_for((int)n));
                used += (size_t)n;
                int r = on_packet(s, &p);
                if (r < 0)
                        return r;
        }
        return (ssize_t)used;
}

MQL_EXPORT int mql_session_receive(struct mql_session *s, const uint8_t *buf, size_t len,
                                   uint64_t now_ms) {
        ssize_t n;

        if (s->state == MQL_SESSION_DISCONNECTED)
                return -ENOTCONN;
        if (len == 0)
                return 0;
        s->last_rx = now_ms;
        s->ping_outstanding = false;

        /* Fast path: nothing buffered, decode straight from the caller's
         * bytes and keep only an incomplete tail. */
        if (buf_len(&s->in) == 0) {
                n = consume(s, buf, len);
                if (n < 0)
                        return (int)n;
                if ((size_t)n < len && s->state != MQL_SESSION_DISCONNECTING)
                        return mql__buf_append(&s->in, buf + n, len - (size_t)n);
                return 0;
        }

        int r = mql__buf_append(&s->in, buf, len);
        if (r < 0)
                return r;
        n = consume(s, buf_ptr(&s->in), buf_len(&s->in));
        if (n < 0)
                return (int)n;
        mql__buf_consume(&s->in, (size_t)n);
        return 0;
}

MQL_EXPORT void mql_session_output(struct mql_session *s, const uint8_t **ret_ptr,
                                   size_t *ret_len) {
        *ret_ptr = buf_ptr(&s->out);
        *ret_len = buf_len(&s->out);
}

MQL_EXPORT void mql_session_output_consumed(struct mql_session *s, size_t n, uint64_t now_ms) {
        if (n > buf_len(&s->out))
                n = buf_len(&s->out);
        mql__buf_consume(&s->out, n);
        if (n > 0)
                s->last_tx = now_ms;
}

static uint64_t keepalive_ms(struct mql_session *s) {
        return (uint64_t)s->effective_keepalive * 1000;
}

MQL_EXPORT uint64_t mql_session_next_tick(struct mql_session *s) {
        switch (s->state) {
        case MQL_SESSION_CONNECTING:
                return s->connect_started + s->connect_timeout_ms;
        case MQL_SESSION_CONNECTED:
                if (!s->effective_keepalive)
                        return UINT64_MAX;
                uint64_t ping = s->last_tx + keepalive_ms(s);
                uint64_t dead = s->last_rx + keepalive_ms(s) * 3 / 2;
                if (!s->ping_outstanding && s->last_rx + keepalive_ms(s) < ping)
                        ping = s->last_rx + keepalive_ms(s);
                return ping < dead ? ping : dead;
        default:
                return UINT64_MAX;
        }
}

/* A silent broker is presumed gone: nothing is sent (0x8D "Keep Alive
 * timeout" is the server's code, MQTT 5 §3.14.2.1), the caller closes. */
static void emit_close(struct mql_session *s, int err) {
        struct mql_event ev = { .type = MQL_EVENT_CLOSE, .error = err };
        s->state = MQL_SESSION_DISCONNECTING;
        mql__session_emit(s, &ev);
}

MQL_EXPORT void mql_session_tick(struct mql_session *s, uint64_t now_ms) {
        if (s->state == MQL_SESSION_CONNECTING) {
                if (now_ms >= s->connect_started + s->connect_timeout_ms)
                        emit_close(s, -ETIMEDOUT);
                return;
        }
        if (s->state != MQL_SESSION_CONNECTED || !s->effective_keepalive)
                return;

        /* MQTT-3.1.2-24 is the server's rule; we hold ourselves to the same
         * 1.5 × keepalive before declaring the broker dead. */
        if (now_ms >= s->last_rx + keepalive_ms(s) * 3 / 2) {
                emit_close(s, -ETIMEDOUT);
                return;
        }
        /* Ping when we have been quiet (MQTT-3.1.2-23), and also when the
         * broker has: a client that only publishes would otherwise never
         * hear from a broker it keeps busy, and call it dead. */
        bool quiet_tx = now_ms >= s->last_tx + keepalive_ms(s);
        bool quiet_rx = !s->ping_outstanding && now_ms >= s->last_rx + keepalive_ms(s);
        if (quiet_tx || quiet_rx) {
                struct mql_packet p = { .type = MQL_PINGREQ };
                if (mql__session_send(s, &p) == 0) {
                        s->last_tx = now_ms;
                        s->ping_outstanding = true;
                }
        }
}

MQL_EXPORT int mql_session_auth(struct mql_session *s, uint8_t reason,
                                const struct mql_props *props) {
        if (s->version != MQL_V5)
                return -EOPNOTSUPP;
        if (s->state != MQL_SESSION_CONNECTING && s->state != MQL_SESSION_CONNECTED)
                return -ENOTCONN;
        struct mql_packet p = { .type = MQL_AUTH };
        p.auth.reason_code = reason;
        if (props)
                p.auth.props = *props;
        return mql__session_send(s, &p);
}

MQL_EXPORT int mql_session_disconnect(struct mql_session *s, uint8_t reason,
                                      const struct mql_props *props) {
        if (s->state == MQL_SESSION_DISCONNECTED)
                return -ENOTCONN;
        if (s->state == MQL_SESSION_DISCONNECTING)
                return 0;
        struct mql_packet p = { .type = MQL_DISCONNECT };
        if (s->version == MQL_V5) {
                p.disconnect.reason_code = reason;
                if (props)
                        p.disconnect.props = *props;
        }
        int r = mql__session_send(s, &p);
        if (r < 0)
                return r;
        s->state = MQL_SESSION_DISCONNECTING;
        return 0;
}

MQL_EXPORT enum mql_session_state mql_session_get_state(struct mql_session *s) {
        return s->state;
}

MQL_EXPORT void *mql_session_get_userdata(struct mql_session *s) {
        return s->userdata;
}

MQL_EXPORT const char *mql_session_get_client_id(struct mql_session *s) {
        return s->client_id;
}

MQL_EXPORT void mql_session_get_stats(struct mql_session *s, struct mql_session_stats *ret) {
        *ret = s->stats;
        ret->inflight = s->inflight.count;
        ret->queued = s->queue.count;
        ret->queued_bytes = s->queue.bytes;
}

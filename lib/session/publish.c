/* SPDX-License-Identifier: MIT */

/*
 * PUBLISH flows, both ways (MQTT 5 §4.3):
 *   out QoS 1  PUBLISH → PUBACK
 *   out QoS 2  PUBLISH → PUBREC, PUBREL → PUBCOMP
 *   in  QoS 1  PUBLISH → (deliver) PUBACK
 *   in  QoS 2  PUBLISH → (deliver once) PUBREC, PUBREL → PUBCOMP
 * plus the waiting queue (offline, or over the broker's Receive Maximum),
 * resending on resume, and topic aliases both ways.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/topic.h>

#include "mqtt/codec.h"
#include "session-internal.h"
#include "util/log.h"
#include "util/macro.h"

static size_t msg_bytes(const struct outmsg *m) {
        return m->topic_len + m->props_len + m->payload_len;
}

static void q_push(struct msgq *q, struct outmsg *m) {
        m->next = NULL;
        *q->tailp = m;
        q->tailp = &m->next;
        q->count++;
        q->bytes += msg_bytes(m);
}

/* Unlinks the message after `prevp` (the pointer that points to it). */
static struct outmsg *q_unlink(struct msgq *q, struct outmsg **prevp) {
        struct outmsg *m = *prevp;
        *prevp = m->next;
        if (q->tailp == &m->next)
                q->tailp = prevp;
        m->next = NULL;
        q->count--;
        q->bytes -= msg_bytes(m);
        return m;
}

static struct outmsg **q_find(struct msgq *q, uint16_t id) {
        /* Acks mostly come in order: the match is usually the head. */
        for (struct outmsg **pp = &q->head; *pp; pp = &(*pp)->next)
                if ((*pp)->packet_id == id)
                        return pp;
        return NULL;
}

static void complete(struct mql_session *s, struct outmsg *m, int reason) {
        if (m->packet_id)
                id_clear(s->ids_used, m->packet_id);
        if (reason >= 0 && reason < 0x80)
                s->stats.published++;
        if (m->cb)
                m->cb(s, m->packet_id, reason, m->userdata);
        free(m);
}

void mql__pub_reset_aliases(struct mql_session *s) {
        if (s->out_aliases) {
                for (size_t i = 0; i <= s->server_topic_alias_maximum; i++)
                        free(s->out_aliases[i].topic);
                free(s->out_aliases);
                s->out_aliases = NULL;
        }
        s->out_alias_next = 1;
        if (s->in_aliases)
                for (size_t i = 0; i <= s->topic_alias_maximum; i++) {
                        free(s->in_aliases[i].topic);
                        s->in_aliases[i] = (struct alias){ 0 };
                }
}

static bool aliases_on(struct mql_session *s) {
        return s->outbound_topic_aliases && s->version == MQL_V5 &&
               s->server_topic_alias_maximum > 0;
}

/* The alias already given to a topic on this connection, or 0. */
static uint16_t alias_find(struct mql_session *s, const char *topic, size_t len) {
        if (!s->out_aliases)
                return 0;
        for (uint16_t a = 1; a < s->out_alias_next; a++)
                if (s->out_aliases[a].len == len && memcmp(s->out_aliases[a].topic, topic, len) == 0)
                        return a;
        return 0;
}

/* Gives the next free alias to a topic, first come first served, for the
 * rest of the connection; 0 when all are taken. */
static uint16_t alias_add(struct mql_session *s, const char *topic, size_t len) {
        if (!s->out_aliases) {
                s->out_aliases = calloc((size_t)s->server_topic_alias_maximum + 1,
                                        sizeof(struct alias));
                if (!s->out_aliases)
                        return 0;
                s->out_alias_next = 1;
        }
        if (s->out_alias_next > s->server_topic_alias_maximum)
                return 0;
        char *t = strndup(topic, len);
        if (!t)
                return 0;
        uint16_t a = s->out_alias_next++;
        s->out_aliases[a] = (struct alias){ t, len };
        return a;
}

static bool fits(struct mql_session *s, const struct mql_packet *p) {
        ssize_t n = mql_packet_size(p, s->version);
        return n > 0 && (!s->server_maximum_packet_size ||
                         (size_t)n <= s->server_maximum_packet_size);
}

/*
 * Sends a PUBLISH, with a Topic Alias where the broker offers them and the
 * packet still fits its Maximum Packet Size (MQTT-3.1.2-24): the alias
 * property adds 3 bytes, so a new alias is only taken when it fits.
 */
static int send_publish(struct mql_session *s, const struct mql_message *msg, uint16_t id,
                        bool dup) {
        struct mql_packet p = { .type = MQL_PUBLISH };
        struct mql_prop alias = { .id = MQL_PROP_TOPIC_ALIAS };

        p.publish = (struct mql_publish){
                .dup = dup,
                .qos = msg->qos,
                .retain = msg->retain,
                .topic = msg->topic,
                .packet_id = id,
                .props = msg->props,
                .payload = msg->payload,
        };
        if (!aliases_on(s))
                return mql__session_send(s, &p);

        struct mql_packet q = p;
        q.publish.props.list = &alias;
        q.publish.props.count = 1;
        /* Sized with a stand-in alias: every alias takes the same 3 bytes. */
        alias.u32 = 1;
        uint16_t known = alias_find(s, msg->topic.ptr, msg->topic.len);
        if (known) {
                alias.u32 = known;
                q.publish.topic = (struct mql_str){ "", 0 };
                return mql__session_send(s, fits(s, &q) ? &q : &p);
        }
        if (fits(s, &q) && (known = alias_add(s, msg->topic.ptr, msg->topic.len))) {
                alias.u32 = known;
                return mql__session_send(s, &q);
        }
        return mql__session_send(s, &p);
}

static struct mql_message msg_view(const struct outmsg *m) {
        return (struct mql_message){
                .topic = { (const char *)m->data, m->topic_len },
                .props = { .raw = m->data + m->topic_len, .raw_len = m->props_len },
                .payload = { m->data + m->topic_len + m->props_len, m->payload_len },
                .qos = m->qos,
                .retain = m->retain,
        };
}

static int send_outmsg(struct mql_session *s, struct outmsg *m) {
        struct mql_message v = msg_view(m);
        int r = send_publish(s, &v, m->packet_id, m->sent && m->qos > 0);
        if (r == 0)
                m->sent = true;
        return r;
}

static int send_ack(struct mql_session *s, enum mql_packet_type type, uint16_t id,
                    uint8_t reason) {
        struct mql_packet p = { .type = type };
        p.ack.packet_id = id;
        p.ack.reason_code = s->version == MQL_V5 ? reason : 0;
        return mql__session_send(s, &p);
}

/* Messages in flight count against the broker's Receive Maximum
 * (MQTT-3.3.4-7), except those held back after a reconnect. */
static bool window_open(struct mql_session *s) {
        return s->inflight.count - s->held < s->server_receive_maximum;
}

/* What the broker's CONNACK allows (MQTT-3.2.2-11, MQTT-3.2.2-14). */
static int check_allowed(struct mql_session *s, const struct mql_message *msg) {
        if (msg->qos > s->server_maximum_qos || (msg->retain && !s->server_retain_available))
                return -EOPNOTSUPP;
        return 0;
}

/* The size of the PUBLISH without aliases against the broker's Maximum
 * Packet Size (MQTT-3.1.2-24 applies to what we send). */
static int check_size(struct mql_session *s, const struct mql_message *msg) {
        /* The common case needs no sizing: no limit from the broker, no
         * properties, and a payload far below the protocol's limit. */
        if (!s->server_maximum_packet_size && mql__props_empty(&msg->props) &&
            msg->payload.len < MQL_MAX_REMAINING_LENGTH - 2 * 65536)
                return 0;
        struct mql_packet p = { .type = MQL_PUBLISH };
        p.publish = (struct mql_publish){ .qos = msg->qos, .topic = msg->topic,
                                          .packet_id = 1, .props = msg->props,
                                          .payload = msg->payload };
        ssize_t n = mql_packet_size(&p, s->version);
        if (n < 0)
                return (int)n;
        if (s->server_maximum_packet_size && (size_t)n > s->server_maximum_packet_size)
                return -EMSGSIZE;
        return 0;
}

/* Resends what a reconnect held back, oldest first, as the window opens. */
static int flush_held(struct mql_session *s) {
        for (struct outmsg *m = s->inflight.head; m && s->held && window_open(s); m = m->next) {
                if (!m->held)
                        continue;
                int r = m->released ? send_ack(s, MQL_PUBREL, m->packet_id, 0) : send_outmsg(s, m);
                if (r < 0)
                        return r;
                m->held = false;
                s->held--;
        }
        return 0;
}

int mql__pub_flush(struct mql_session *s) {
        if (s->state != MQL_SESSION_CONNECTED)
                return 0;
        int r = flush_held(s);
        if (r < 0 || s->held)
                return r;

        /* A completion callback below may disconnect: check every pass. */
        while (s->queue.head && s->state == MQL_SESSION_CONNECTED) {
                struct outmsg *m = s->queue.head;
                struct mql_message v = msg_view(m);

                /* Queued while we did not know this broker's limits: what it
                 * cannot take completes with an error instead of being sent. */
                r = check_allowed(s, &v);
                if (r == 0)
                        r = check_size(s, &v);
                if (r < 0) {
                        complete(s, q_unlink(&s->queue, &s->queue.head), r);
                        continue;
                }
                if (m->qos > 0 && !window_open(s))
                        break;
                if (m->qos > 0 && !m->packet_id) {
                        m->packet_id = mql__session_alloc_id(s);
                        if (!m->packet_id)
                                break;
                }
                r = send_outmsg(s, m);
                if (r < 0)
                        return r;
                q_unlink(&s->queue, &s->queue.head);
                if (m->qos == 0)
                        complete(s, m, 0);
                else
                        q_push(&s->inflight, m);
        }
        return 0;
}

void mql__pub_resume(struct mql_session *s, bool session_present) {
        if (session_present) {
                /* MQTT-4.4.0-1: resend in the original order, PUBLISH with
                 * DUP (MQTT-3.3.1-1) and PUBREL as they were, as far as the
                 * broker's new Receive Maximum allows (a QoS 2 message counts
                 * until PUBCOMP, MQTT-3.3.4-7); the rest as acks make room. */
                for (struct outmsg *m = s->inflight.head; m; m = m->next)
                        m->held = true;
                s->held = s->inflight.count;
                (void)flush_held(s);
                return;
        }
        s->held = 0;

        /* The broker forgot us: what it acknowledged with PUBREC it owns
         * (delivered once already), the rest is ours to send again or fail. */
        struct msgq again = { .tailp = &again.head };
        while (s->inflight.head) {
                struct outmsg *m = q_unlink(&s->inflight, &s->inflight.head);
                if (m->released) {
                        complete(s, m, 0);
                } else if (s->resume_policy == MQL_RESUME_FAIL) {
                        complete(s, m, -ECANCELED);
                } else {
                        id_clear(s->ids_used, m->packet_id);
                        m->packet_id = 0;
                        m->sent = false;
                        m->held = false;
                        q_push(&again, m);
                }
        }
        if (again.head) {
                *again.tailp = s->queue.head;
                if (!s->queue.head)
                        s->queue.tailp = again.tailp;
                s->queue.head = again.head;
                s->queue.count += again.count;
                s->queue.bytes += again.bytes;
        }
        memset(s->rx_qos2, 0, sizeof(s->rx_qos2));
        memset(s->rx_unacked, 0, sizeof(s->rx_unacked));
        memset(s->rx_unacked_qos2, 0, sizeof(s->rx_unacked_qos2));
        s->rx_inflight = 0;
}

void mql__pub_free_all(struct mql_session *s) {
        while (s->inflight.head)
                complete(s, q_unlink(&s->inflight, &s->inflight.head), -ECANCELED);
        while (s->queue.head)
                complete(s, q_unlink(&s->queue, &s->queue.head), -ECANCELED);
}

static int check_message(struct mql_session *s, const struct mql_message *msg) {
        struct mql_prop p;

        if (!msg || msg->qos > 2 || mql_topic_name_check(msg->topic.ptr, msg->topic.len) < 0)
                return -EINVAL;
        if (msg->payload.len && !msg->payload.ptr)
                return -EINVAL;
        if (s->version != MQL_V5)
                return mql__props_empty(&msg->props) ? 0 : -EINVAL;
        /* Aliases are ours to manage; a client never sends a Subscription
         * Identifier (MQTT-3.3.4-6). */
        if (mql_props_find(&msg->props, MQL_PROP_TOPIC_ALIAS, &p) ||
            mql_props_find(&msg->props, MQL_PROP_SUBSCRIPTION_IDENTIFIER, &p))
                return -EINVAL;
        ssize_t n = mql__props_size(&msg->props, MQL_PUBLISH, false);
        return n < 0 ? (int)n : 0;
}

static struct outmsg *outmsg_new(const struct mql_message *msg, size_t props_len,
                                 mql_publish_fn cb, void *userdata) {
        size_t n = msg->topic.len + props_len + msg->payload.len;
        struct outmsg *m = malloc(sizeof(*m) + n);
        if (!m)
                return NULL;
        *m = (struct outmsg){
                .qos = msg->qos,
                .retain = msg->retain,
                .cb = cb,
                .userdata = userdata,
                .topic_len = msg->topic.len,
                .props_len = props_len,
                .payload_len = msg->payload.len,
        };
        memcpy(m->data, msg->topic.ptr, msg->topic.len);
        struct wcursor c = wcursor_make(m->data + msg->topic.len, props_len);
        mql__props_write_block(&c, &msg->props);
        if (msg->payload.len)
                memcpy(m->data + msg->topic.len + props_len, msg->payload.ptr, msg->payload.len);
        return m;
}

MQL_EXPORT int mql_session_publish(struct mql_session *s, const struct mql_message *msg,
                                   mql_publish_fn cb, void *userdata) {
        bool connected = s->state == MQL_SESSION_CONNECTED;
        int r;

        r = check_message(s, msg);
        if (r < 0)
                return r;
        if (connected) {
                r = check_allowed(s, msg);
                if (r < 0)
                        return r;
        }
        r = check_size(s, msg);
        if (r < 0)
                return r;
        if (buf_len(&s->out) > s->max_output_bytes)
                return -ENOBUFS;

        /* QoS 0 with nothing waiting before it: straight to the output. */
        if (connected && msg->qos == 0 && !s->queue.head && !s->held) {
                r = send_publish(s, msg, 0, false);
                if (r < 0)
                        return r;
                s->stats.published++;
                if (cb)
                        cb(s, 0, 0, userdata);
                return 0;
        }

        bool now = connected && !s->queue.head && !s->held &&
                   (msg->qos == 0 || window_open(s));
        size_t props_len = (size_t)mql__props_size(&msg->props, MQL_PUBLISH, false);
        size_t bytes = msg->topic.len + props_len + msg->payload.len;
        if (!now && (s->queue.count >= s->queue_max_messages ||
                     s->queue.bytes + bytes > s->queue_max_bytes))
                return -ENOBUFS;

        struct outmsg *m = outmsg_new(msg, props_len, cb, userdata);
        if (!m)
                return -ENOMEM;
        /* All 65,535 ids in use (a broker without Receive Maximum and many
         * operations pending): wait in the queue for one to free. */
        if (now)
                m->packet_id = mql__session_alloc_id(s);
        if (!now || !m->packet_id) {
                q_push(&s->queue, m);
                return 0;
        }
        r = send_outmsg(s, m);
        if (r < 0) {
                id_clear(s->ids_used, m->packet_id);
                free(m);
                return r;
        }
        q_push(&s->inflight, m);
        return m->packet_id;
}

/* Takes an acknowledged message out of the in-flight list. */
static struct outmsg *take_inflight(struct mql_session *s, struct outmsg **pp) {
        struct outmsg *m = q_unlink(&s->inflight, pp);
        if (m->held) {
                m->held = false;
                s->held--;
        }
        return m;
}

int mql__pub_on_ack(struct mql_session *s, const struct mql_packet *p) {
        const struct mql_ack *a = &p->ack;
        struct outmsg **pp = q_find(&s->inflight, a->packet_id);
        struct outmsg *m = pp ? *pp : NULL;

        switch (p->type) {
        case MQL_PUBACK:
                if (!m || m->qos != 1)
                        goto unknown;
                complete(s, take_inflight(s, pp), a->reason_code);
                break;
        case MQL_PUBREC:
                if (!m || m->qos != 2) {
                        /* MQTT 5 §4.3.3: answer PUBREL "not found". */
                        return send_ack(s, MQL_PUBREL, a->packet_id,
                                        MQL_RC_PACKET_IDENTIFIER_NOT_FOUND);
                }
                if (a->reason_code >= 0x80) {
                        complete(s, take_inflight(s, pp), a->reason_code);
                        break;
                }
                if (m->held) {
                        m->held = false;
                        s->held--;
                }
                m->released = true;
                return send_ack(s, MQL_PUBREL, a->packet_id, 0);
        default: /* PUBCOMP */
                if (!m || !m->released)
                        goto unknown;
                complete(s, take_inflight(s, pp), a->reason_code);
                break;
        }
        return mql__pub_flush(s);

unknown:
        /* A late ack of something already completed (a resend crossed the
         * original's ack): harmless, note it. */
        log_debug("mqtt: %s for unknown packet id %u ignored", mql_packet_type_str(p->type),
                  a->packet_id);
        return 0;
}

/* Resolves a received Topic Alias (MQTT 5 §3.3.2.3.4). */
static int resolve_alias(struct mql_session *s, struct mql_message *msg) {
        struct mql_prop p;

        if (s->version != MQL_V5 || !mql_props_find(&msg->props, MQL_PROP_TOPIC_ALIAS, &p))
                return 0;
        if (p.u32 == 0 || p.u32 > s->topic_alias_maximum) /* MQTT-3.3.2-9, -10 */
                return mql__session_fail(s, -EPROTO, MQL_RC_TOPIC_ALIAS_INVALID);
        struct alias *a = &s->in_aliases[p.u32];
        if (msg->topic.len == 0) {
                if (!a->topic)
                        return mql__session_fail(s, -EPROTO, MQL_RC_PROTOCOL_ERROR);
                msg->topic = (struct mql_str){ a->topic, a->len };
                return 0;
        }
        char *t = strndup(msg->topic.ptr, msg->topic.len);
        if (!t)
                return -ENOMEM;
        free(a->topic);
        *a = (struct alias){ t, msg->topic.len };
        return 0;
}

int mql__pub_on_publish(struct mql_session *s, const struct mql_publish *p) {
        struct mql_event ev = { .type = MQL_EVENT_MESSAGE };
        struct mql_message *msg = &ev.message;
        uint16_t id = p->packet_id;
        int r;

        *msg = (struct mql_message){ .topic = p->topic, .payload = p->payload, .qos = p->qos,
                                     .retain = p->retain, .dup = p->dup, .packet_id = id,
                                     .props = p->props };
        r = resolve_alias(s, msg);
        if (r < 0)
                return r;

        if (p->qos == 2 && id_test(s->rx_qos2, id)) {
                /* A resend of a message delivered already: exactly once means
                 * we only acknowledge it again (MQTT 5 §4.3.3). */
                if (!id_test(s->rx_unacked, id))
                        return send_ack(s, MQL_PUBREC, id, 0);
                return 0;
        }
        bool again = p->qos == 1 && id_test(s->rx_unacked, id);
        bool counts = p->qos == 2 || (p->qos == 1 && s->manual_ack && !again);
        if (counts) {
                if (s->rx_inflight >= s->receive_maximum) /* MQTT-3.3.4-9 */
                        return mql__session_fail(s, -EPROTO, MQL_RC_RECEIVE_MAXIMUM_EXCEEDED);
                s->rx_inflight++;
        }
        if (p->qos == 2)
                id_set(s->rx_qos2, id);
        if (p->qos > 0 && s->manual_ack) {
                id_set(s->rx_unacked, id);
                if (p->qos == 2)
                        id_set(s->rx_unacked_qos2, id);
        }

        /* The automatic ack is queued before the message is handed over, so
         * a callback that disconnects still acknowledges what it received. */
        if (!s->manual_ack && p->qos > 0) {
                r = send_ack(s, p->qos == 1 ? MQL_PUBACK : MQL_PUBREC, id, 0);
                if (r < 0)
                        return r;
        }
        s->stats.received++;
        mql__session_emit(s, &ev);
        return 0;
}

int mql__pub_on_pubrel(struct mql_session *s, const struct mql_ack *a) {
        if (!id_test(s->rx_qos2, a->packet_id))
                return send_ack(s, MQL_PUBCOMP, a->packet_id, MQL_RC_PACKET_IDENTIFIER_NOT_FOUND);
        id_clear(s->rx_qos2, a->packet_id);
        id_clear(s->rx_unacked, a->packet_id);
        id_clear(s->rx_unacked_qos2, a->packet_id);
        if (s->rx_inflight > 0)
                s->rx_inflight--;
        return send_ack(s, MQL_PUBCOMP, a->packet_id, 0);
}

MQL_EXPORT int mql_session_acknowledge(struct mql_session *s, uint16_t id, uint8_t reason) {
        if (id == 0 || !id_test(s->rx_unacked, id))
                return -ENOENT;
        if (s->state != MQL_SESSION_CONNECTED)
                return -ENOTCONN;

        bool qos2 = id_test(s->rx_unacked_qos2, id);
        int r = send_ack(s, qos2 ? MQL_PUBREC : MQL_PUBACK, id, reason);
        if (r < 0)
                return r;
        id_clear(s->rx_unacked, id);
        id_clear(s->rx_unacked_qos2, id);
        /* QoS 1 ends here; QoS 2 with PUBCOMP after PUBREL, unless refused. */
        if (!qos2 || reason >= 0x80) {
                id_clear(s->rx_qos2, id);
                if (s->rx_inflight > 0)
                        s->rx_inflight--;
        }
        return 0;
}

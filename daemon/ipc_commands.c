/* SPDX-License-Identifier: MIT */

/*
 * What local commands do, and how deliveries are written: the policy half
 * of the IPC server (ipc_server.c moves the bytes).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/mqlink.h>

#include "broker.h"
#include "config.h"
#include "ipc_conn.h"
#include "log.h"
#include "manager.h"
#include "router.h"

static const struct config *cfg(const struct conn *c) {
        return manager_config(c->server->manager);
}

/* Most properties a PUB can carry: expiry, ctype, rtopic, corr, fmt and
 * the user properties. */
#define PUB_PROPS_MAX (5 + MQL_IPC_USER_PROPS_MAX)

static size_t pub_props(const struct mql_ipc_frame *f, struct mql_prop *p) {
        size_t n = 0;
        if (f->has_expiry)
                p[n++] = (struct mql_prop){ .id = MQL_PROP_MESSAGE_EXPIRY_INTERVAL, .u32 = f->expiry };
        if (f->ctype.len)
                p[n++] = (struct mql_prop){ .id = MQL_PROP_CONTENT_TYPE,
                                            .str = { f->ctype.ptr, f->ctype.len } };
        if (f->rtopic.len)
                p[n++] = (struct mql_prop){ .id = MQL_PROP_RESPONSE_TOPIC,
                                            .str = { f->rtopic.ptr, f->rtopic.len } };
        if (f->corr.len)
                p[n++] = (struct mql_prop){ .id = MQL_PROP_CORRELATION_DATA,
                                            .bin = { (const uint8_t *)f->corr.ptr, f->corr.len } };
        if (f->has_fmt)
                p[n++] = (struct mql_prop){ .id = MQL_PROP_PAYLOAD_FORMAT_INDICATOR, .u32 = f->fmt };
        for (size_t i = 0; i < f->n_user; i++) {
                p[n].id = MQL_PROP_USER_PROPERTY;
                p[n].pair.key = (struct mql_str){ f->user[i].key.ptr, f->user[i].key.len };
                p[n].pair.value = (struct mql_str){ f->user[i].value.ptr, f->user[i].value.len };
                n++;
        }
        return n;
}

static void on_published(struct mql_session *s, uint16_t packet_id, int reason, void *userdata) {
        struct reply *r = userdata;
        struct conn *c = r->conn;

        if (c)
                c->published++;
        reply_publish_result(r, reason);
}

void reply_publish_result(struct reply *r, int reason) {
        if (reason == 0 || reason == MQL_RC_NO_MATCHING_SUBSCRIBERS)
                reply_ok(r);
        else if (reason > 0)
                reply_err(r, "refused", "0x%02x %s", (unsigned)reason, mql_reason_str((unsigned)reason));
        else if (reason == -ECANCELED)
                reply_err(r, "cancelled", "the broker connection was replaced or stopped");
        else if (reason == -EMSGSIZE)
                reply_err(r, "too-large", "larger than the broker accepts");
        else if (reason == -EOPNOTSUPP)
                reply_err(r, "refused", "QoS or retain not available on this broker");
        else
                reply_err(r, "failed", "%s", mql_strerror(reason));
}

static struct broker *find_broker(struct conn *c, const struct mql_ipc_frame *f, struct reply *r) {
        struct broker *b = manager_find_broker(c->server->manager, f->broker.ptr, f->broker.len);
        if (!b) {
                if (f->broker.len)
                        reply_err(r, "no-broker", "no broker named %.*s", (int)f->broker.len,
                                  f->broker.ptr);
                else
                        reply_err(r, "no-broker", "no broker is configured");
        }
        return b;
}

static bool has_v5_fields(const struct mql_ipc_frame *f) {
        return f->has_expiry || f->ctype.len || f->rtopic.len || f->corr.len || f->has_fmt ||
               f->n_user;
}

static void handle_pub(struct conn *c, const struct mql_ipc_frame *f, struct reply *r) {
        struct broker *b = find_broker(c, f, r);
        if (!b)
                return;
        if (b->cfg->protocol != 5 && has_v5_fields(f)) {
                reply_err(r, "bad-option", "MQTT 5 options, but broker %s speaks 3.1.1", b->name);
                return;
        }
        struct mql_prop props[PUB_PROPS_MAX];
        struct mql_message msg = {
                .topic = { f->topic.ptr, f->topic.len },
                .payload = { (const uint8_t *)f->payload.ptr, f->payload.len },
                .qos = f->qos,
                .retain = f->retain,
        };
        msg.props.list = props;
        msg.props.count = pub_props(f, props);

        int ret = broker_publish(b, &msg, on_published, r);
        if (ret >= 0)
                return; /* the reply comes with on_published() */
        switch (ret) {
        case -ENOBUFS:
                reply_err(r, "queue-full", "broker %s: the outgoing queue is full", b->name);
                break;
        case -EMSGSIZE:
                reply_err(r, "too-large", "larger than broker %s accepts", b->name);
                break;
        case -EOPNOTSUPP:
                reply_err(r, "refused", "broker %s does not allow this QoS or retain", b->name);
                break;
        case -EINVAL:
                reply_err(r, "bad-topic", "the broker's protocol refuses this message");
                break;
        default:
                reply_err(r, "failed", "%s", mql_strerror(ret));
        }
}

static void handle_sub(struct conn *c, const struct mql_ipc_frame *f, struct reply *r) {
        struct broker *b = find_broker(c, f, r);
        if (!b)
                return;
        int ret = router_subscribe(b, c, f, r, cfg(c)->max_subs_per_client);
        if (ret == -EEXIST)
                reply_err(r, "bad-sid", "subscription id %.*s is in use", (int)f->sid.len, f->sid.ptr);
        else if (ret == -ENOBUFS)
                reply_err(r, "too-many", "at most %zu subscriptions per connection",
                          cfg(c)->max_subs_per_client);
        else if (ret < 0)
                reply_err(r, "failed", "%s", mql_strerror(ret));
}

static void handle_status(struct conn *c, struct reply *r) {
        int ret = manager_status_json(c->server->manager, &r->doc);
        if (ret < 0) {
                reply_err(r, "failed", "%s", mql_strerror(ret));
                return;
        }
        reply_doc(r);
}

void conn_handle(struct conn *c, const struct mql_ipc_frame *f) {
        if (f->kind == MQL_IPC_NONE && !f->error)
                return;
        struct reply *r = conn_reply_new(c);
        if (!r) {
                conn_close(c, "out of memory");
                return;
        }
        if (f->error) {
                reply_err(r, f->error, "%s", f->error_text ? f->error_text : "");
                return;
        }
        if (manager_stopping(c->server->manager) && f->kind != MQL_IPC_PING) {
                reply_err(r, "stopping", "the daemon is shutting down");
                return;
        }
        switch (f->kind) {
        case MQL_IPC_PUB:
                handle_pub(c, f, r);
                break;
        case MQL_IPC_SUB:
                handle_sub(c, f, r);
                break;
        case MQL_IPC_UNSUB:
                if (router_unsubscribe(c, f->sid.ptr, f->sid.len) < 0)
                        reply_err(r, "not-subscribed", "no subscription %.*s", (int)f->sid.len,
                                  f->sid.ptr);
                else
                        reply_ok(r);
                break;
        case MQL_IPC_PING:
                reply_pong(r);
                break;
        case MQL_IPC_STATUS:
                handle_status(c, r);
                break;
        default:
                reply_err(r, "bad-command", "not a command");
        }
}

/* ---- deliveries ----------------------------------------------------------- */

/* The MQTT 5 properties of a received message, as MSG options. Properties
 * the protocol has no option for (subscription ids, topic alias) are left
 * out; so are user properties beyond MQL_IPC_USER_PROPS_MAX. */
static void msg_props(struct mql_ipc_frame *f, const struct mql_message *msg) {
        struct mql_prop_iter it;
        struct mql_prop p;

        mql_prop_iter_init(&it, &msg->props);
        while (mql_prop_iter_next(&it, &p) > 0) {
                switch (p.id) {
                case MQL_PROP_MESSAGE_EXPIRY_INTERVAL:
                        f->has_expiry = true;
                        f->expiry = p.u32;
                        break;
                case MQL_PROP_CONTENT_TYPE:
                        f->ctype = (struct mql_ipc_str){ p.str.ptr, p.str.len };
                        break;
                case MQL_PROP_RESPONSE_TOPIC:
                        f->rtopic = (struct mql_ipc_str){ p.str.ptr, p.str.len };
                        break;
                case MQL_PROP_CORRELATION_DATA:
                        f->corr = (struct mql_ipc_str){ (const char *)p.bin.ptr, p.bin.len };
                        break;
                case MQL_PROP_PAYLOAD_FORMAT_INDICATOR:
                        f->has_fmt = true;
                        f->fmt = (uint8_t)p.u32;
                        break;
                case MQL_PROP_USER_PROPERTY:
                        if (f->n_user < MQL_IPC_USER_PROPS_MAX && p.pair.key.len > 0) {
                                f->user[f->n_user].key = (struct mql_ipc_str){ p.pair.key.ptr, p.pair.key.len };
                                f->user[f->n_user].value = (struct mql_ipc_str){ p.pair.value.ptr, p.pair.value.len };
                                f->n_user++;
                        }
                        break;
                default:
                        break;
                }
        }
}

void conn_deliver(struct conn *c, const char *sid, const char *broker,
                  const struct mql_message *msg, uint8_t qos, bool retain) {
        size_t max = cfg(c)->client_output_max;

        if (c->closing)
                return;
        if (c->out.len >= max) {
                /* Backed up: QoS 0 may be lost by definition; QoS 1/2 are
                 * kept up to twice the bound, then the client goes. */
                if (qos == 0) {
                        c->dropped++;
                        return;
                }
                if (c->out.len >= 2 * max) {
                        log_notice("client %" PRIu64 " (pid %d): %zu bytes of messages unread: "
                                   "disconnected", c->id, (int)c->cred.pid, c->out.len);
                        conn_close(c, "output over twice its bound");
                        return;
                }
        }
        struct mql_ipc_frame f = {
                .kind = MQL_IPC_MSG,
                .sid = { sid, strlen(sid) },
                .topic = { msg->topic.ptr, msg->topic.len },
                .payload = { (const char *)msg->payload.ptr, msg->payload.len },
                .broker = { broker, strlen(broker) },
                .qos = qos,
                .retain = retain,
        };
        msg_props(&f, msg);
        ssize_t n = mql_ipc_size(&f);
        if (n < 0) {
                /* A property the protocol cannot carry (e.g. a content type
                 * that is not UTF-8 slipped through): send without them. */
                struct mql_ipc_frame bare = f;
                bare.has_expiry = bare.has_fmt = false;
                bare.ctype = bare.rtopic = bare.corr = (struct mql_ipc_str){ 0 };
                bare.n_user = 0;
                f = bare;
                n = mql_ipc_size(&f);
                if (n < 0) {
                        c->dropped++;
                        return;
                }
        }
        char *d = bytes_reserve(&c->out, (size_t)n);
        if (!d) {
                c->dropped++;
                return;
        }
        n = mql_ipc_format(&f, d, (size_t)n);
        if (n <= 0)
                return;
        bytes_commit(&c->out, (size_t)n);
        c->delivered++;
        if (c->out.len >= CONN_WRITE_THROUGH)
                conn_send_now(c);
        conn_schedule_flush(c);
}

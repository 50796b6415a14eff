/* SPDX-License-Identifier: MIT */

/*
 * SUBSCRIBE / UNSUBSCRIBE and their acks, and the memory of what we are
 * subscribed to: when a reconnect finds the broker without our session
 * (session present = 0) the session subscribes again by itself.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/topic.h>

#include "mqtt/codec.h"
#include "session-internal.h"
#include "util/log.h"
#include "util/macro.h"

static void group_free(struct sub_group *g) {
        for (size_t i = 0; i < g->count; i++)
                free(g->entries[i].filter);
        free(g->entries);
        free(g->props);
        free(g);
}

/* Forgets a filter in every group (an UNSUBSCRIBE, or a refused SUBACK). */
static void forget_filter(struct mql_session *s, const char *f, size_t len) {
        for (struct sub_group **gp = &s->subs; *gp;) {
                struct sub_group *g = *gp;
                for (size_t i = 0; i < g->count;) {
                        if (g->entries[i].len == len && memcmp(g->entries[i].filter, f, len) == 0) {
                                free(g->entries[i].filter);
                                g->entries[i] = g->entries[--g->count];
                        } else
                                i++;
                }
                if (g->count == 0) {
                        *gp = g->next;
                        group_free(g);
                } else
                        gp = &g->next;
        }
}

static int remember(struct mql_session *s, const struct mql_subscription *subs, size_t n,
                    const struct mql_props *props, uint16_t pending_id) {
        struct sub_group *g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->entries = calloc(n, sizeof(*g->entries));
        if (!g->entries)
                goto oom;
        if (props && !mql__props_empty(props)) {
                ssize_t pl = mql__props_size(props, MQL_SUBSCRIBE, false);
                g->props = malloc((size_t)pl);
                if (!g->props)
                        goto oom;
                struct wcursor c = wcursor_make(g->props, (size_t)pl);
                mql__props_write_block(&c, props);
                g->props_len = (size_t)pl;
        }
        for (size_t i = 0; i < n; i++) {
                /* A later subscribe to the same filter replaces the earlier
                 * one, as it does on the broker (MQTT-3.8.4-3). */
                forget_filter(s, subs[i].filter.ptr, subs[i].filter.len);
                g->entries[i].filter = strndup(subs[i].filter.ptr, subs[i].filter.len);
                if (!g->entries[i].filter)
                        goto oom;
                g->entries[i].len = subs[i].filter.len;
                g->entries[i].opts = subs[i];
                g->count++;
        }
        g->pending_id = pending_id;
        g->next = s->subs;
        s->subs = g;
        return 0;
oom:
        group_free(g);
        return -ENOMEM;
}

/* Encodes p and keeps it as a pending operation, then sends it if
 * connected. */
static int start_op(struct mql_session *s, const struct mql_packet *p, mql_subscribe_fn cb,
                    void *userdata) {
        ssize_t n = mql_packet_size(p, s->version);
        if (n < 0)
                return (int)n;
        struct pending_op *op = malloc(sizeof(*op) + (size_t)n);
        if (!op)
                return -ENOMEM;
        *op = (struct pending_op){ .packet_id = p->subscribe.packet_id, .type = p->type,
                                   .cb = cb, .userdata = userdata,
                                   .n_filters = p->subscribe.filters.count, .len = (size_t)n };
        (void)mql_packet_encode(p, s->version, op->bytes, op->len);
        int r = mql__buf_append(&s->out, op->bytes, op->len);
        if (r < 0) {
                free(op);
                return r;
        }
        *s->ops_tailp = op;
        s->ops_tailp = &op->next;
        return 0;
}

static int check_props(struct mql_session *s, const struct mql_props *props,
                       enum mql_packet_type type) {
        if (!props || mql__props_empty(props))
                return 0;
        if (s->version != MQL_V5)
                return -EINVAL;
        ssize_t n = mql__props_size(props, type, false);
        return n < 0 ? (int)n : 0;
}

MQL_EXPORT int mql_session_subscribe(struct mql_session *s, const struct mql_subscription *subs,
                                     size_t n, const struct mql_props *props,
                                     mql_subscribe_fn cb, void *userdata) {
        int r;

        if (!subs || n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (mql_topic_filter_check(subs[i].filter.ptr, subs[i].filter.len) < 0)
                        return -EINVAL;
        r = check_props(s, props, MQL_SUBSCRIBE);
        if (r < 0)
                return r;
        if (s->state != MQL_SESSION_CONNECTED)
                return -ENOTCONN;
        if (buf_len(&s->out) > s->max_output_bytes)
                return -ENOBUFS;

        struct mql_packet p = { .type = MQL_SUBSCRIBE };
        p.subscribe.packet_id = mql__session_alloc_id(s);
        if (!p.subscribe.packet_id)
                return -ENOBUFS; /* every packet id is in use */
        p.subscribe.filters = (struct mql_filters){ .list = subs, .count = n };
        if (props)
                p.subscribe.props = *props;
        r = start_op(s, &p, cb, userdata);
        if (r >= 0)
                r = remember(s, subs, n, props, p.subscribe.packet_id);
        if (r < 0)
                id_clear(s->ids_used, p.subscribe.packet_id);
        return r < 0 ? r : 0;
}

MQL_EXPORT int mql_session_unsubscribe(struct mql_session *s, const struct mql_str *filters,
                                       size_t n, const struct mql_props *props,
                                       mql_subscribe_fn cb, void *userdata) {
        int r;

        if (!filters || n == 0)
                return -EINVAL;
        r = check_props(s, props, MQL_UNSUBSCRIBE);
        if (r < 0)
                return r;
        if (s->state != MQL_SESSION_CONNECTED)
                return -ENOTCONN;

        _cleanup_free_ struct mql_subscription *list = calloc(n, sizeof(*list));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (mql_topic_filter_check(filters[i].ptr, filters[i].len) < 0)
                        return -EINVAL;
                list[i].filter = filters[i];
        }
        struct mql_packet p = { .type = MQL_UNSUBSCRIBE };
        p.subscribe.packet_id = mql__session_alloc_id(s);
        if (!p.subscribe.packet_id)
                return -ENOBUFS;
        p.subscribe.filters = (struct mql_filters){ .list = list, .count = n };
        if (props)
                p.subscribe.props = *props;
        r = start_op(s, &p, cb, userdata);
        if (r < 0) {
                id_clear(s->ids_used, p.subscribe.packet_id);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                forget_filter(s, filters[i].ptr, filters[i].len);
        return 0;
}

/* A SUBACK refusing a filter means we do not hold it: forget it, so a
 * resubscribe does not try again what the broker refused. */
static void forget_refused(struct mql_session *s, const struct pending_op *op,
                           const struct mql_bin *reasons) {
        struct mql_packet p;
        if (mql_packet_decode(op->bytes, op->len, s->version, &p) <= 0)
                return;
        struct mql_filter_iter it;
        struct mql_subscription sub;
        size_t i = 0;
        mql_filter_iter_init(&it, &p.subscribe.filters, MQL_SUBSCRIBE);
        while (mql_filter_iter_next(&it, &sub) > 0 && i < reasons->len)
                if (reasons->ptr[i++] >= 0x80)
                        forget_filter(s, sub.filter.ptr, sub.filter.len);
}

int mql__sub_on_ack(struct mql_session *s, const struct mql_packet *p) {
        const struct mql_suback *a = &p->suback;
        enum mql_packet_type want = p->type == MQL_SUBACK ? MQL_SUBSCRIBE : MQL_UNSUBSCRIBE;

        for (struct pending_op **pp = &s->ops; *pp; pp = &(*pp)->next) {
                struct pending_op *op = *pp;
                if (op->packet_id != a->packet_id || op->type != want)
                        continue;
                /* One reason code per filter (MQTT-3.9.3-1, MQTT-3.11.3-1);
                 * a 3.1.1 UNSUBACK has none. */
                bool no_codes = s->version == MQL_V311 && p->type == MQL_UNSUBACK;
                if (!no_codes && a->reasons.len != op->n_filters)
                        return mql__session_fail(s, -EPROTO, MQL_RC_PROTOCOL_ERROR);
                *pp = op->next;
                if (s->ops_tailp == &op->next)
                        s->ops_tailp = pp;
                id_clear(s->ids_used, op->packet_id);
                for (struct sub_group *g = s->subs; g; g = g->next)
                        if (g->pending_id == op->packet_id)
                                g->pending_id = 0;
                if (p->type == MQL_SUBACK)
                        forget_refused(s, op, &a->reasons);
                if (op->cb) {
                        /* A 3.1.1 UNSUBACK carries no codes: all succeeded. */
                        static const uint8_t none[1] = { 0 };
                        if (a->reasons.len)
                                op->cb(s, a->reasons.ptr, a->reasons.len, 0, op->userdata);
                        else
                                op->cb(s, none, 0, 0, op->userdata);
                }
                free(op);
                return 0;
        }
        log_debug("mqtt: %s for unknown packet id %u ignored", mql_packet_type_str(p->type),
                  a->packet_id);
        return 0;
}

static void resubscribe(struct mql_session *s, struct sub_group *g) {
        _cleanup_free_ struct mql_subscription *list = calloc(g->count, sizeof(*list));
        if (!list)
                return;
        for (size_t i = 0; i < g->count; i++) {
                list[i] = g->entries[i].opts;
                list[i].filter = (struct mql_str){ g->entries[i].filter, g->entries[i].len };
        }
        struct mql_packet p = { .type = MQL_SUBSCRIBE };
        p.subscribe.packet_id = mql__session_alloc_id(s);
        p.subscribe.props = (struct mql_props){ .raw = g->props, .raw_len = g->props_len };
        p.subscribe.filters = (struct mql_filters){ .list = list, .count = g->count };
        if (start_op(s, &p, NULL, NULL) < 0) {
                id_clear(s->ids_used, p.subscribe.packet_id);
                log_warning("mqtt: cannot subscribe again after reconnect");
        }
}

void mql__sub_resume(struct mql_session *s, bool session_present) {
        /* Operations the last connection left unanswered go again: both are
         * idempotent on the broker. Their bytes are kept encoded. */
        for (struct pending_op *op = s->ops; op; op = op->next)
                (void)mql__buf_append(&s->out, op->bytes, op->len);
        if (session_present)
                return;
        /* Groups whose own SUBSCRIBE went again just above are covered. */
        for (struct sub_group *g = s->subs; g; g = g->next)
                if (!g->pending_id)
                        resubscribe(s, g);
}

void mql__sub_free_all(struct mql_session *s) {
        while (s->ops) {
                struct pending_op *op = s->ops;
                s->ops = op->next;
                s->ops_tailp = &s->ops;
                if (op->cb)
                        op->cb(s, NULL, 0, -ECANCELED, op->userdata);
                free(op);
        }
        while (s->subs) {
                struct sub_group *g = s->subs;
                s->subs = g->next;
                group_free(g);
        }
}

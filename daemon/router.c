/* SPDX-License-Identifier: MIT */

#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/mqlink.h>
#include <mqlink/topic.h>

#include "broker.h"
#include "ipc_server.h"
#include "log.h"
#include "trie.h"

enum up_state {
        UP_IDLE,        /* to subscribe at the next chance */
        UP_SUBSCRIBING, /* SUBSCRIBE sent, no SUBACK yet */
        UP_ACTIVE,      /* granted */
};

struct upstream {
        struct route_table *table; /* borrowed; NULL once removed */
        char *filter;              /* owned, NUL-terminated, as sent ($share included) */
        size_t len;
        const char *match;         /* into filter: what the trie holds */
        size_t match_len;
        uint32_t id;               /* Subscription Identifier, 1.. */
        enum up_state state;
        bool pinned;               /* a `subscribe =` line holds it */
        uint8_t pinned_qos;
        struct local_sub *subs;    /* borrowed list (owned by the connections' side) */
        size_t n_subs;

        /* The options of the last SUBSCRIBE, and what the next one needs. */
        uint8_t qos;
        bool no_local;
        bool rap;
        bool dirty;          /* stronger options wanted than sent */
        bool want_retained;  /* a local subscription waits for retained messages */
        bool granted_once;
        uint32_t gen_sent;
        uint32_t retained_gen; /* retained messages now in the stream belong to it */

        unsigned ops;        /* SUBSCRIBE callbacks still to come */
        struct upstream *next, *prev;
        struct upstream *hnext;
};

struct route_table {
        struct broker *broker; /* borrowed */
        struct trie trie;
        struct upstream *list;
        struct upstream **by_id; /* owned array indexed by id */
        size_t cap_id;
        size_t id_hint;
        struct upstream **buckets; /* owned: entries by filter, chained by hnext */
        size_t n_buckets;          /* a power of two, or 0 */
        size_t n_up;
        /* Filters to UNSUBSCRIBE at the next connection: dropped while the
         * broker was away, but still in its session. */
        char **stale; /* owned */
        size_t n_stale;
};

struct sub_op {
        struct upstream *up; /* counted in up->ops */
        uint32_t gen;        /* 0: no retained messages asked */
};

static bool connected(const struct route_table *t) {
        return t->broker->state == MQL_CLIENT_CONNECTED;
}

/* The filter without "$share/GROUP/": what messages are matched against. */
static void match_part(const char *filter, size_t len, const char **ret, size_t *ret_len) {
        if (len > 7 && memcmp(filter, "$share/", 7) == 0) {
                const char *slash = memchr(filter + 7, '/', len - 7);
                if (slash) {
                        *ret = slash + 1;
                        *ret_len = len - (size_t)(slash + 1 - filter);
                        return;
                }
        }
        *ret = filter;
        *ret_len = len;
}

/* FNV-1a: filters are short, and a local user picks them, so no keyed
 * hash is needed against collisions beyond what the bucket growth gives. */
static size_t filter_hash(const char *filter, size_t len) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)filter[i]) * UINT64_C(0x100000001b3);
        return (size_t)h;
}

static struct upstream *up_find(struct route_table *t, const char *filter, size_t len) {
        if (t->n_buckets == 0)
                return NULL;
        for (struct upstream *u = t->buckets[filter_hash(filter, len) & (t->n_buckets - 1)]; u;
             u = u->hnext)
                if (u->len == len && memcmp(u->filter, filter, len) == 0)
                        return u;
        return NULL;
}

/* Keeps buckets >= entries, so that a lookup stays O(1) on average. */
static int hash_add(struct route_table *t, struct upstream *u) {
        if (t->n_up + 1 > t->n_buckets) {
                size_t n = t->n_buckets ? t->n_buckets * 2 : 64;
                struct upstream **b = calloc(n, sizeof *b);
                if (!b)
                        return -ENOMEM;
                for (size_t i = 0; i < t->n_buckets; i++)
                        while (t->buckets[i]) {
                                struct upstream *x = t->buckets[i];
                                t->buckets[i] = x->hnext;
                                size_t k = filter_hash(x->filter, x->len) & (n - 1);
                                x->hnext = b[k];
                                b[k] = x;
                        }
                free(t->buckets);
                t->buckets = b;
                t->n_buckets = n;
        }
        size_t k = filter_hash(u->filter, u->len) & (t->n_buckets - 1);
        u->hnext = t->buckets[k];
        t->buckets[k] = u;
        t->n_up++;
        return 0;
}

static void hash_remove(struct route_table *t, struct upstream *u) {
        struct upstream **pp = &t->buckets[filter_hash(u->filter, u->len) & (t->n_buckets - 1)];
        for (; *pp; pp = &(*pp)->hnext)
                if (*pp == u) {
                        *pp = u->hnext;
                        t->n_up--;
                        return;
                }
}

/* The lowest free identifier at or above the hint: ids stay small (they
 * index by_id) and allocation is amortised O(1). */
static uint32_t id_alloc(struct route_table *t) {
        for (size_t i = t->id_hint ? t->id_hint : 1; i < t->cap_id; i++)
                if (!t->by_id[i]) {
                        t->id_hint = i + 1;
                        return (uint32_t)i;
                }
        /* MQTT caps Subscription Identifiers at 268,435,455. */
        if (t->cap_id > 268435455u / 2)
                return 0;
        size_t cap = t->cap_id ? t->cap_id * 2 : 64;
        struct upstream **n = realloc(t->by_id, cap * sizeof *n);
        if (!n)
                return 0;
        memset(n + t->cap_id, 0, (cap - t->cap_id) * sizeof *n);
        size_t id = t->cap_id ? t->cap_id : 1;
        t->by_id = n;
        t->cap_id = cap;
        t->id_hint = id + 1;
        return (uint32_t)id;
}

static void id_free(struct route_table *t, uint32_t id) {
        t->by_id[id] = NULL;
        if (id < t->id_hint)
                t->id_hint = id;
}

static struct upstream *up_new(struct route_table *t, const char *filter, size_t len) {
        struct upstream *u = calloc(1, sizeof *u);
        if (!u)
                return NULL;
        u->filter = strndup(filter, len);
        u->id = id_alloc(t);
        if (!u->filter || u->id == 0) {
                free(u->filter);
                free(u);
                return NULL;
        }
        u->len = len;
        match_part(u->filter, len, &u->match, &u->match_len);
        if (trie_add(&t->trie, u->match, u->match_len, u) < 0) {
                free(u->filter);
                free(u);
                return NULL;
        }
        if (hash_add(t, u) < 0) {
                (void)trie_remove(&t->trie, u->match, u->match_len, u);
                free(u->filter);
                free(u);
                return NULL;
        }
        u->table = t;
        t->by_id[u->id] = u;
        u->next = t->list;
        if (t->list)
                t->list->prev = u;
        t->list = u;
        return u;
}

static void up_release(struct upstream *u) {
        if (!u->table && u->ops == 0) {
                free(u->filter);
                free(u);
        }
}

/* Takes the entry out of the table; it is freed once no callback refers to it. */
static void up_unlink(struct upstream *u) {
        struct route_table *t = u->table;
        if (!t)
                return;
        (void)trie_remove(&t->trie, u->match, u->match_len, u);
        hash_remove(t, u);
        id_free(t, u->id);
        if (u->prev)
                u->prev->next = u->next;
        else
                t->list = u->next;
        if (u->next)
                u->next->prev = u->prev;
        u->table = NULL;
        up_release(u);
}

static void stale_add(struct route_table *t, const char *filter) {
        char **n = realloc(t->stale, (t->n_stale + 1) * sizeof *n);
        if (!n)
                return;
        t->stale = n;
        if ((n[t->n_stale] = strdup(filter)))
                t->n_stale++;
}

/* No local subscription and no pin left: UNSUBSCRIBE and forget. */
static void up_drop(struct upstream *u) {
        struct route_table *t = u->table;
        if (u->state != UP_IDLE || u->granted_once) {
                struct mql_str f = { u->filter, u->len };
                int r = -ENOTCONN;
                if (connected(t))
                        r = mql_client_unsubscribe(t->broker->client, &f, 1, NULL, NULL, NULL);
                if (r < 0)
                        stale_add(t, u->filter);
        }
        up_unlink(u);
}

static void sub_link(struct upstream *u, struct local_sub *s) {
        s->up = u;
        s->up_prev = NULL;
        s->up_next = u->subs;
        if (u->subs)
                u->subs->up_prev = s;
        u->subs = s;
        u->n_subs++;
}

static void sub_unlink(struct local_sub *s) {
        struct upstream *u = s->up;
        if (s->up_prev)
                s->up_prev->up_next = s->up_next;
        else
                u->subs = s->up_next;
        if (s->up_next)
                s->up_next->up_prev = s->up_prev;
        u->n_subs--;
        s->up = NULL;
}

static void sub_conn_unlink(struct local_sub *s) {
        struct local_sub **head = conn_subs(s->conn);
        if (s->conn_prev)
                s->conn_prev->conn_next = s->conn_next;
        else
                *head = s->conn_next;
        if (s->conn_next)
                s->conn_next->conn_prev = s->conn_prev;
        (*conn_n_subs(s->conn))--;
}

/* Frees a local subscription (answering its pending SUB with `code` if any). */
static void sub_free(struct local_sub *s, const char *code, const char *text) {
        if (s->reply)
                reply_err(s->reply, code, "%s", text);
        sub_conn_unlink(s);
        if (s->up)
                sub_unlink(s);
        free(s);
}

/* The options the local subscriptions need upstream. */
static void wanted(const struct upstream *u, uint8_t *qos, bool *nl, bool *rap) {
        *qos = u->pinned ? u->pinned_qos : 0;
        *nl = !u->pinned && u->n_subs > 0;
        *rap = false;
        for (const struct local_sub *s = u->subs; s; s = s->up_next) {
                if (s->qos > *qos)
                        *qos = s->qos;
                *nl = *nl && s->no_local;
                *rap = *rap || s->retain_as_published;
        }
}

static void on_suback(struct mql_session *session, const uint8_t *reasons, size_t n, int error,
                      void *userdata);

static int up_send(struct upstream *u) {
        struct route_table *t = u->table;
        struct broker *b = t->broker;
        uint8_t qos;
        bool nl, rap;

        wanted(u, &qos, &nl, &rap);
        struct mql_subscription sub = {
                .filter = { u->filter, u->len },
                .qos = qos,
                .no_local = nl,
                .retain_as_published = rap,
                /* Retained messages only when someone waits for them. */
                .retain_handling = u->want_retained ? 0 : 2,
        };
        /* A $share subscription never gets retained messages and may not
         * have No Local (MQTT-3.8.3-4). */
        if (u->match != u->filter)
                sub.no_local = false;
        struct mql_prop idp = { .id = MQL_PROP_SUBSCRIPTION_IDENTIFIER, .u32 = u->id };
        struct mql_props props = { .list = &idp, .count = 1 };
        struct sub_op *op = calloc(1, sizeof *op);
        if (!op)
                return -ENOMEM;
        op->up = u;
        if (u->want_retained) {
                op->gen = ++u->gen_sent;
                for (struct local_sub *s = u->subs; s; s = s->up_next)
                        if (s->gen == 0 && s->retain_handling != 2)
                                s->gen = op->gen;
        }
        int r = mql_client_subscribe(b->client, &sub, 1, b->sub_ids ? &props : NULL, on_suback, op);
        if (r < 0) {
                if (op->gen)
                        for (struct local_sub *s = u->subs; s; s = s->up_next)
                                if (s->gen == op->gen)
                                        s->gen = 0;
                free(op);
                return log_warning_errno(r, "broker %s: cannot subscribe to %s", b->name, u->filter);
        }
        u->ops++;
        u->state = UP_SUBSCRIBING;
        u->qos = qos;
        u->no_local = nl;
        u->rap = rap;
        u->dirty = false;
        u->want_retained = false;
        return 0;
}

/* Sends what the entry needs, when it can. */
static void up_sync(struct upstream *u) {
        if (!u->table)
                return;
        if (u->n_subs == 0 && !u->pinned) {
                up_drop(u);
                return;
        }
        if (!connected(u->table) || u->state == UP_SUBSCRIBING)
                return;
        if (u->state != UP_IDLE && !u->dirty && !u->want_retained)
                return;
        int r = up_send(u);
        if (r >= 0)
                return;
        /* The session cannot take it now (its output is over its bound, or
         * every packet id is in use): answer the local subscriptions still
         * waiting rather than leave them hanging. */
        char text[128];
        snprintf(text, sizeof text, "cannot subscribe: %s", mql_strerror(r));
        for (struct local_sub *s = u->subs, *next; s; s = next) {
                next = s->up_next;
                if (s->reply)
                        sub_free(s, "failed", text);
        }
        if (u->n_subs == 0 && !u->pinned)
                up_drop(u);
}

static void on_suback(struct mql_session *session, const uint8_t *reasons, size_t n, int error,
                      void *userdata) {
        struct sub_op *op = userdata;
        struct upstream *u = op->up;
        uint32_t gen = op->gen;

        free(op);
        u->ops--;
        if (!u->table) {
                up_release(u);
                return;
        }
        if (error < 0 || n < 1) {
                /* The client went away (reload or shutdown): subscribe again
                 * on the next one; local subscribers keep waiting. */
                u->state = UP_IDLE;
                if (gen) {
                        /* Those waiting for retained messages get them from
                         * the next SUBSCRIBE instead. */
                        for (struct local_sub *s = u->subs; s; s = s->up_next)
                                if (s->gen == gen)
                                        s->gen = 0;
                        u->want_retained = true;
                }
                return;
        }
        if (reasons[0] >= 0x80) {
                struct broker *b = u->table->broker;
                const char *why = mql_reason_str(reasons[0]);
                log_warning("broker %s: SUBSCRIBE %s refused: 0x%02x %s", b->name, u->filter,
                            reasons[0], why);
                char text[128];
                snprintf(text, sizeof text, "0x%02x %s", reasons[0], why);
                for (struct local_sub *s = u->subs, *next; s; s = next) {
                        next = s->up_next;
                        if (s->reply)
                                sub_free(s, "refused", text);
                }
                u->state = u->granted_once ? UP_ACTIVE : UP_IDLE;
                u->dirty = false;
                if (u->n_subs == 0 && !u->pinned)
                        up_drop(u);
                return;
        }
        u->state = UP_ACTIVE;
        u->granted_once = true;
        if (gen)
                u->retained_gen = gen;
        for (struct local_sub *s = u->subs; s; s = s->up_next)
                if (s->reply) {
                        reply_ok(s->reply);
                        s->reply = NULL;
                }
        up_sync(u);
}

int router_broker_add(struct broker *b) {
        struct route_table *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->broker = b;
        b->routes = t;
        return 0;
}

void router_broker_remove(struct broker *b) {
        struct route_table *t = b->routes;
        if (!t)
                return;
        while (t->list) {
                struct upstream *u = t->list;
                while (u->subs)
                        sub_free(u->subs, "no-broker", "the broker was removed from the configuration");
                up_unlink(u);
        }
        for (size_t i = 0; i < t->n_stale; i++)
                free(t->stale[i]);
        free(t->stale);
        trie_done(&t->trie);
        free(t->by_id);
        free(t->buckets);
        free(t);
        b->routes = NULL;
}

void router_broker_reset(struct broker *b) {
        for (struct upstream *u = b->routes->list; u; u = u->next) {
                u->state = UP_IDLE;
                u->want_retained = u->want_retained || !u->granted_once;
        }
        /* The new client's session starts from what it is told. */
}

void router_broker_connected(struct broker *b) {
        struct route_table *t = b->routes;

        if (t->n_stale > 0) {
                for (size_t i = 0; i < t->n_stale; i++) {
                        struct mql_str f = { t->stale[i], strlen(t->stale[i]) };
                        if (!up_find(t, f.ptr, f.len))
                                (void)mql_client_unsubscribe(b->client, &f, 1, NULL, NULL, NULL);
                        free(t->stale[i]);
                }
                t->n_stale = 0;
        }
        for (struct upstream *u = t->list, *next; u; u = next) {
                next = u->next;
                up_sync(u);
        }
}

int router_broker_sync_pinned(struct broker *b) {
        struct route_table *t = b->routes;
        const struct config_broker *cfg = b->cfg;

        for (struct upstream *u = t->list; u; u = u->next)
                u->pinned = false;
        for (size_t i = 0; i < cfg->n_subs; i++) {
                const char *f = cfg->subs[i].filter;
                struct upstream *u = up_find(t, f, strlen(f));
                if (!u) {
                        u = up_new(t, f, strlen(f));
                        if (!u)
                                return -ENOMEM;
                        u->want_retained = false;
                }
                if (u->pinned_qos < cfg->subs[i].qos || !u->pinned)
                        u->pinned_qos = cfg->subs[i].qos;
                u->pinned = true;
                if (u->state != UP_IDLE && u->qos < u->pinned_qos)
                        u->dirty = true;
        }
        for (struct upstream *u = t->list, *next; u; u = next) {
                next = u->next;
                up_sync(u);
        }
        return 0;
}

void router_broker_release(struct broker *b) {
        struct route_table *t = b->routes;
        size_t n = 0;

        if (!connected(t))
                return;
        for (struct upstream *u = t->list; u; u = u->next)
                n += !u->pinned && u->granted_once;
        if (n == 0)
                return;
        struct mql_str *f = calloc(n, sizeof *f);
        if (!f)
                return;
        n = 0;
        for (struct upstream *u = t->list; u; u = u->next)
                if (!u->pinned && u->granted_once)
                        f[n++] = (struct mql_str){ u->filter, u->len };
        /* Best effort: the DISCONNECT follows at once. */
        (void)mql_client_unsubscribe(b->client, f, n, NULL, NULL, NULL);
        free(f);
}

size_t router_broker_n_upstream(const struct broker *b) {
        return b->routes->n_up;
}

struct route_ctx {
        struct broker *broker;
        const struct mql_message *msg;
        size_t delivered;
};

static void deliver_up(struct upstream *u, struct route_ctx *ctx) {
        const struct mql_message *msg = ctx->msg;

        /* Upstream without Retain As Published, the flag marks the retained
         * messages sent for a SUBSCRIBE: only the subscriptions that asked
         * get them. With it, the flag may also mean a live retained publish,
         * which everyone must get: the earlier subscriptions may then see
         * a retained message again (flag as they asked), never miss one. */
        bool copies = msg->retain && !u->rap;
        for (struct local_sub *s = u->subs, *next; s; s = next) {
                next = s->up_next;
                if (s->reply)
                        continue; /* not granted yet */
                bool fresh = s->gen != 0 && s->gen == u->retained_gen;
                bool retain = false;
                if (msg->retain) {
                        if (copies && !fresh)
                                continue;
                        retain = fresh || s->retain_as_published;
                }
                uint8_t qos = msg->qos < s->qos ? msg->qos : s->qos;
                conn_deliver(s->conn, s->sid, ctx->broker->name, msg, qos, retain);
                ctx->delivered++;
        }
}

static void deliver_match(void *value, void *userdata) {
        deliver_up(value, userdata);
}

void router_route(struct broker *b, const struct mql_message *msg) {
        struct route_table *t = b->routes;
        struct route_ctx ctx = { .broker = b, .msg = msg };
        bool by_id = false;

        b->received++;
        if (b->sub_ids && msg->props.raw_len > 0) {
                struct mql_prop_iter it;
                struct mql_prop p;
                mql_prop_iter_init(&it, &msg->props);
                while (mql_prop_iter_next(&it, &p) > 0) {
                        if (p.id != MQL_PROP_SUBSCRIPTION_IDENTIFIER)
                                continue;
                        by_id = true;
                        /* The broker may still hold an identifier from an
                         * earlier run or a filter dropped while it was away,
                         * now reused: a message reaches an entry only if it
                         * matches the entry's own filter. */
                        struct upstream *u = p.u32 < t->cap_id ? t->by_id[p.u32] : NULL;
                        if (u && mql_topic_matches(u->match, u->match_len, msg->topic.ptr,
                                                   msg->topic.len))
                                deliver_up(u, &ctx);
                }
        }
        if (!by_id)
                trie_match(&t->trie, msg->topic.ptr, msg->topic.len, deliver_match, &ctx);
        if (ctx.delivered == 0)
                b->unrouted++;
}

static struct local_sub *conn_find_sub(struct conn *c, const char *sid, size_t len) {
        for (struct local_sub *s = *conn_subs(c); s; s = s->conn_next)
                if (strlen(s->sid) == len && memcmp(s->sid, sid, len) == 0)
                        return s;
        return NULL;
}

int router_subscribe(struct broker *b, struct conn *c, const struct mql_ipc_frame *f,
                     struct reply *reply, size_t max_subs) {
        struct route_table *t = b->routes;

        if (conn_find_sub(c, f->sid.ptr, f->sid.len))
                return -EEXIST;
        if (*conn_n_subs(c) >= max_subs)
                return -ENOBUFS;
        struct local_sub *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        memcpy(s->sid, f->sid.ptr, f->sid.len);
        s->conn = c;
        s->qos = f->qos;
        s->no_local = f->no_local;
        s->retain_as_published = f->retain_as_published;
        s->retain_handling = f->retain_handling;

        struct upstream *u = up_find(t, f->topic.ptr, f->topic.len);
        bool fresh = !u;
        if (!u) {
                u = up_new(t, f->topic.ptr, f->topic.len);
                if (!u) {
                        free(s);
                        return -ENOMEM;
                }
        }
        uint8_t qos;
        bool nl, rap;
        wanted(u, &qos, &nl, &rap);
        sub_link(u, s);
        s->conn_next = *conn_subs(c);
        if (s->conn_next)
                s->conn_next->conn_prev = s;
        *conn_subs(c) = s;
        (*conn_n_subs(c))++;

        /* Retain Handling 1: retained messages only for a new subscription. */
        if (s->retain_handling == 0 || (s->retain_handling == 1 && fresh))
                u->want_retained = true;
        else
                s->gen = UINT32_MAX; /* never takes retained messages */
        if (u->state != UP_IDLE && (s->qos > qos || (nl && !s->no_local) ||
                                    (!rap && s->retain_as_published)))
                u->dirty = true;

        if (u->state == UP_ACTIVE)
                reply_ok(reply); /* held upstream already */
        else
                s->reply = reply;
        up_sync(u);
        return 0;
}

int router_unsubscribe(struct conn *c, const char *sid, size_t sid_len) {
        struct local_sub *s = conn_find_sub(c, sid, sid_len);
        if (!s)
                return -ENOENT;
        struct upstream *u = s->up;
        sub_free(s, "not-subscribed", "unsubscribed before the broker answered");
        up_sync(u);
        return 0;
}

void router_conn_gone(struct conn *c) {
        while (*conn_subs(c)) {
                struct local_sub *s = *conn_subs(c);
                struct upstream *u = s->up;
                sub_free(s, "closed", "connection closed");
                if (u)
                        up_sync(u);
        }
}

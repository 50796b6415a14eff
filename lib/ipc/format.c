/* SPDX-License-Identifier: MIT */
#include "mqlink/ipc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ipc/ipc-internal.h"
#include "mqlink/topic.h"
#include "util/macro.h"
#include "util/utf8.h"

/*
 * One writer does both phases: it always counts, and copies only while the
 * bytes fit, so mql_ipc_size() and mql_ipc_format() cannot disagree.
 */
struct out {
        char *buf;
        size_t cap;
        size_t n;
};

static void put(struct out *o, const void *s, size_t len) {
        if (len > 0 && o->buf && o->n <= o->cap && len <= o->cap - o->n)
                memcpy(o->buf + o->n, s, len);
        o->n += len;
}

static void puts_(struct out *o, const char *s) {
        put(o, s, strlen(s));
}

static void put_uint(struct out *o, uint64_t v) {
        char tmp[24];
        int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
        put(o, tmp, (size_t)n);
}

static const char hexdigits[] = "0123456789ABCDEF";

static void put_escaped_byte(struct out *o, unsigned char c) {
        char e[3] = { '%', hexdigits[c >> 4], hexdigits[c & 15] };
        put(o, e, 3);
}

/* Percent-encodes a token (topic, option value, user property). */
static void put_enc(struct out *o, struct mql_ipc_str s) {
        size_t run = 0;
        for (size_t i = 0; i < s.len; i++) {
                unsigned char c = s.ptr[i];
                if (!ipc_needs_escape(c))
                        continue;
                put(o, s.ptr + run, i - run);
                put_escaped_byte(o, c);
                run = i + 1;
        }
        put(o, s.ptr + run, s.len - run);
}

/* An -ERR text keeps its spaces, except a leading one, which the parser
 * would take for part of the separator. */
static void put_text(struct out *o, struct mql_ipc_str s) {
        for (size_t i = 0; i < s.len; i++) {
                unsigned char c = s.ptr[i];
                if (c == '%' || ipc_is_ctl(c) || (i == 0 && c == ' '))
                        put_escaped_byte(o, c);
                else
                        put(o, &s.ptr[i], 1);
        }
}

static void put_opt(struct out *o, const char *name, struct mql_ipc_str v) {
        if (v.len == 0)
                return;
        put(o, " ", 1);
        puts_(o, name);
        put(o, "=", 1);
        put_enc(o, v);
}

static void put_num_opt(struct out *o, const char *name, uint64_t v) {
        put(o, " ", 1);
        puts_(o, name);
        put(o, "=", 1);
        put_uint(o, v);
}

static void put_payload(struct out *o, struct mql_ipc_str p) {
        put(o, "\n", 1);
        put(o, p.ptr, p.len);
        put(o, "\n", 1);
}

static bool mqtt_str_ok(struct mql_ipc_str s) {
        return s.len <= IPC_MQTT_STR_MAX && mql__utf8_check((const uint8_t *)s.ptr, s.len) == 0;
}

static bool token_ok(struct mql_ipc_str s, size_t max) {
        if (s.len == 0 || s.len > max)
                return false;
        for (size_t i = 0; i < s.len; i++)
                if (s.ptr[i] == ' ' || ipc_is_ctl((unsigned char)s.ptr[i]))
                        return false;
        return true;
}

static bool pub_fields_ok(const struct mql_ipc_frame *f) {
        if (mql_topic_name_check(f->topic.ptr, f->topic.len) < 0 || f->qos > 2)
                return false;
        if (f->broker.len > 0 && !mqtt_str_ok(f->broker))
                return false;
        if (f->ctype.len > 0 && !mqtt_str_ok(f->ctype))
                return false;
        if (f->rtopic.len > 0 && mql_topic_name_check(f->rtopic.ptr, f->rtopic.len) < 0)
                return false;
        if (f->corr.len > IPC_MQTT_STR_MAX || (f->has_fmt && f->fmt > 1))
                return false;
        if (f->n_user > MQL_IPC_USER_PROPS_MAX)
                return false;
        for (size_t i = 0; i < f->n_user; i++)
                if (f->user[i].key.len == 0 || !mqtt_str_ok(f->user[i].key) ||
                    !mqtt_str_ok(f->user[i].value))
                        return false;
        return true;
}

static void put_pub_fields(struct out *o, const struct mql_ipc_frame *f) {
        put_opt(o, "broker", f->broker);
        if (f->qos)
                put_num_opt(o, "qos", f->qos);
        if (f->retain)
                put_num_opt(o, "retain", 1);
        if (f->has_expiry)
                put_num_opt(o, "expiry", f->expiry);
        put_opt(o, "ctype", f->ctype);
        put_opt(o, "rtopic", f->rtopic);
        if (f->corr.len > 0) {
                puts_(o, " corr=");
                for (size_t i = 0; i < f->corr.len; i++) {
                        unsigned char c = f->corr.ptr[i];
                        char h[2] = { hexdigits[c >> 4], hexdigits[c & 15] };
                        put(o, h, 2);
                }
        }
        if (f->has_fmt)
                put_num_opt(o, "fmt", f->fmt);
        for (size_t i = 0; i < f->n_user; i++) {
                puts_(o, " u.");
                put_enc(o, f->user[i].key);
                put(o, "=", 1);
                put_enc(o, f->user[i].value);
        }
}

static int check(const struct mql_ipc_frame *f) {
        switch (f->kind) {
        case MQL_IPC_PUB:
                return pub_fields_ok(f) ? 0 : -EINVAL;
        case MQL_IPC_MSG:
                return token_ok(f->sid, MQL_IPC_SID_MAX) && pub_fields_ok(f) ? 0 : -EINVAL;
        case MQL_IPC_SUB:
                if (!token_ok(f->sid, MQL_IPC_SID_MAX) ||
                    mql_topic_filter_check(f->topic.ptr, f->topic.len) < 0)
                        return -EINVAL;
                if (f->broker.len > 0 && !mqtt_str_ok(f->broker))
                        return -EINVAL;
                return f->qos > 2 || f->retain_handling > 2 ? -EINVAL : 0;
        case MQL_IPC_UNSUB:
                return token_ok(f->sid, MQL_IPC_SID_MAX) ? 0 : -EINVAL;
        case MQL_IPC_ERR:
                return token_ok(f->code, SIZE_MAX) ? 0 : -EINVAL;
        case MQL_IPC_PING:
        case MQL_IPC_STATUS:
        case MQL_IPC_OK:
        case MQL_IPC_PONG:
                return 0;
        default:
                return -EINVAL;
        }
}

static void write_frame(struct out *o, const struct mql_ipc_frame *f) {
        puts_(o, mql_ipc_kind_str(f->kind));
        switch (f->kind) {
        case MQL_IPC_PUB:
        case MQL_IPC_MSG:
                if (f->kind == MQL_IPC_MSG) {
                        put(o, " ", 1);
                        put(o, f->sid.ptr, f->sid.len);
                }
                put(o, " ", 1);
                put_enc(o, f->topic);
                put(o, " ", 1);
                put_uint(o, f->payload.len);
                put_pub_fields(o, f);
                put_payload(o, f->payload);
                return;
        case MQL_IPC_SUB:
                put(o, " ", 1);
                put(o, f->sid.ptr, f->sid.len);
                put(o, " ", 1);
                put_enc(o, f->topic);
                put_opt(o, "broker", f->broker);
                if (f->qos)
                        put_num_opt(o, "qos", f->qos);
                if (f->no_local)
                        put_num_opt(o, "nl", 1);
                if (f->retain_as_published)
                        put_num_opt(o, "rap", 1);
                if (f->retain_handling)
                        put_num_opt(o, "rh", f->retain_handling);
                break;
        case MQL_IPC_UNSUB:
                put(o, " ", 1);
                put(o, f->sid.ptr, f->sid.len);
                break;
        case MQL_IPC_ERR:
                put(o, " ", 1);
                put(o, f->code.ptr, f->code.len);
                if (f->text.len > 0) {
                        put(o, " ", 1);
                        put_text(o, f->text);
                }
                break;
        case MQL_IPC_OK:
                if (f->has_payload) {
                        put(o, " ", 1);
                        put_uint(o, f->payload.len);
                        put_payload(o, f->payload);
                        return;
                }
                break;
        default:
                break;
        }
        put(o, "\n", 1);
}

MQL_EXPORT ssize_t mql_ipc_size(const struct mql_ipc_frame *f) {
        struct out o = { 0 };

        if (!f || check(f) < 0)
                return -EINVAL;
        write_frame(&o, f);
        if (o.n > SSIZE_MAX)
                return -EINVAL;
        return (ssize_t)o.n;
}

MQL_EXPORT ssize_t mql_ipc_format(const struct mql_ipc_frame *f, void *buf, size_t cap) {
        ssize_t size = mql_ipc_size(f);

        if (size < 0)
                return size;
        if (!buf || (size_t)size > cap)
                return -ENOBUFS;
        struct out o = { .buf = buf, .cap = cap };
        write_frame(&o, f);
        return size;
}

MQL_EXPORT const char *mql_ipc_kind_str(enum mql_ipc_kind kind) {
        switch (kind) {
        case MQL_IPC_PUB:
                return "PUB";
        case MQL_IPC_SUB:
                return "SUB";
        case MQL_IPC_UNSUB:
                return "UNSUB";
        case MQL_IPC_PING:
                return "PING";
        case MQL_IPC_STATUS:
                return "STATUS";
        case MQL_IPC_OK:
                return "+OK";
        case MQL_IPC_ERR:
                return "-ERR";
        case MQL_IPC_PONG:
                return "PONG";
        case MQL_IPC_MSG:
                return "MSG";
        default:
                return NULL;
        }
}

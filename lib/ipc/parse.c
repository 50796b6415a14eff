/* SPDX-License-Identifier: MIT */
#include "mqlink/ipc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "ipc/ipc-internal.h"
#include "mqlink/topic.h"
#include "util/macro.h"
#include "util/utf8.h"

/*
 * Parsing goes in two steps. First the framing: find the "\n", read the
 * byte count if the verb has one, wait for the payload and its "\n". Only
 * framing errors are negative returns. Then the content of a complete frame
 * is checked; a bad line becomes an error word in the frame, since the
 * stream itself is still in step.
 *
 * Bad content is reported internally as -EINVAL with frame->error set.
 */

struct ctx {
        struct mql_ipc_frame f;
        char *scratch;
        size_t used;
        size_t size;
};

/* A cursor over the line's tokens, split on runs of spaces. */
struct tokens {
        const char *p;
        size_t len;
        size_t pos;
};

static bool next_token(struct tokens *t, struct mql_ipc_str *ret) {
        while (t->pos < t->len && t->p[t->pos] == ' ')
                t->pos++;
        if (t->pos == t->len)
                return false;
        size_t start = t->pos;
        while (t->pos < t->len && t->p[t->pos] != ' ')
                t->pos++;
        *ret = (struct mql_ipc_str){ t->p + start, t->pos - start };
        return true;
}

static int bad(struct ctx *c, const char *code, const char *text) {
        c->f.error = code;
        c->f.error_text = text;
        return -EINVAL;
}

static int hexval(unsigned char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static bool str_eq(struct mql_ipc_str s, const char *lit) {
        return s.len == strlen(lit) && (s.len == 0 || memcmp(s.ptr, lit, s.len) == 0);
}

static bool has_ctl(struct mql_ipc_str s) {
        for (size_t i = 0; i < s.len; i++)
                if (ipc_is_ctl((unsigned char)s.ptr[i]))
                        return true;
        return false;
}

/*
 * Percent-decodes `in`. A token without '%' is returned as is (zero-copy);
 * otherwise it is decoded into the scratch buffer, which cannot run out: a
 * decoded token is never longer than its encoding, tokens do not overlap, and
 * the scratch holds at least a whole line. Raw control bytes are refused so
 * that nothing invisible slips into topics and properties.
 */
static int unescape(struct ctx *c, struct mql_ipc_str in, struct mql_ipc_str *ret) {
        if (has_ctl(in))
                return -EINVAL;
        if (in.len == 0 || !memchr(in.ptr, '%', in.len)) {
                *ret = in;
                return 0;
        }
        if (in.len > c->size - c->used)
                return -EINVAL; /* cannot happen; see above */

        char *d = c->scratch + c->used;
        size_t n = 0;
        for (size_t i = 0; i < in.len; i++) {
                unsigned char ch = in.ptr[i];
                if (ch == '%') {
                        if (in.len - i < 3)
                                return -EINVAL;
                        int hi = hexval(in.ptr[i + 1]), lo = hexval(in.ptr[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        ch = (unsigned char)(hi << 4 | lo);
                        i += 2;
                }
                d[n++] = (char)ch;
        }
        c->used += n;
        *ret = (struct mql_ipc_str){ d, n };
        return 0;
}

/* A byte count: 1-20 plain decimal digits (no sign, no space) fitting
 * size_t. Anything else means the payload's end is unknown: -EBADMSG. */
static int parse_count(struct mql_ipc_str t, size_t *ret) {
        size_t v = 0;

        if (t.len == 0 || t.len > 20)
                return -EBADMSG;
        for (size_t i = 0; i < t.len; i++) {
                unsigned d = (unsigned char)t.ptr[i] - '0';
                if (d > 9 || v > (SIZE_MAX - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

static int parse_u32(struct mql_ipc_str t, uint32_t *ret) {
        uint64_t v = 0;

        if (t.len == 0 || t.len > 10)
                return -EINVAL;
        for (size_t i = 0; i < t.len; i++) {
                unsigned d = (unsigned char)t.ptr[i] - '0';
                if (d > 9)
                        return -EINVAL;
                v = v * 10 + d;
        }
        if (v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

/* A one-digit value 0..max. */
static int parse_digit(struct mql_ipc_str t, unsigned max, uint8_t *ret) {
        if (t.len != 1 || t.ptr[0] < '0' || (unsigned)(t.ptr[0] - '0') > max)
                return -EINVAL;
        *ret = (uint8_t)(t.ptr[0] - '0');
        return 0;
}

/* The length of the "\n" or "\r\n" at b[at], 0 when it is not all there
 * yet, -EBADMSG when something else follows the payload. */
static int terminator(const char *b, size_t len, size_t at) {
        if (at >= len)
                return 0;
        if (b[at] == '\n')
                return 1;
        if (b[at] != '\r')
                return -EBADMSG;
        if (at + 1 >= len)
                return 0;
        return b[at + 1] == '\n' ? 2 : -EBADMSG;
}

/* Decodes hex into bytes. Decoding in place is safe: output trails input. */
static int parse_corr(struct ctx *c, struct mql_ipc_str v) {
        char *d;

        if (v.len % 2 != 0 || v.len / 2 > IPC_MQTT_STR_MAX)
                return -EINVAL;
        if (v.ptr >= c->scratch && v.ptr < c->scratch + c->size) {
                d = (char *)(uintptr_t)v.ptr; /* our own scratch */
        } else {
                if (v.len / 2 > c->size - c->used)
                        return -EINVAL; /* cannot happen: the line fits */
                d = c->scratch + c->used;
                c->used += v.len / 2;
        }
        for (size_t i = 0; i < v.len; i += 2) {
                int hi = hexval(v.ptr[i]), lo = hexval(v.ptr[i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                d[i / 2] = (char)(hi << 4 | lo);
        }
        c->f.corr = (struct mql_ipc_str){ d, v.len / 2 };
        return 0;
}

static bool mqtt_str_ok(struct mql_ipc_str s) {
        return s.len <= IPC_MQTT_STR_MAX && mql__utf8_check((const uint8_t *)s.ptr, s.len) == 0;
}

enum opt {
        OPT_BROKER,
        OPT_QOS,
        OPT_RETAIN,
        OPT_EXPIRY,
        OPT_CTYPE,
        OPT_RTOPIC,
        OPT_CORR,
        OPT_FMT,
        OPT_NL,
        OPT_RAP,
        OPT_RH,
        _OPT_MAX,
};

static const char *const opt_names[_OPT_MAX] = {
        [OPT_BROKER] = "broker", [OPT_QOS] = "qos",     [OPT_RETAIN] = "retain",
        [OPT_EXPIRY] = "expiry", [OPT_CTYPE] = "ctype", [OPT_RTOPIC] = "rtopic",
        [OPT_CORR] = "corr",     [OPT_FMT] = "fmt",     [OPT_NL] = "nl",
        [OPT_RAP] = "rap",       [OPT_RH] = "rh",
};

#define OPTS_PUB                                                                  \
        (1u << OPT_BROKER | 1u << OPT_QOS | 1u << OPT_RETAIN | 1u << OPT_EXPIRY | \
         1u << OPT_CTYPE | 1u << OPT_RTOPIC | 1u << OPT_CORR | 1u << OPT_FMT)
#define OPTS_SUB (1u << OPT_BROKER | 1u << OPT_QOS | 1u << OPT_NL | 1u << OPT_RAP | 1u << OPT_RH)

static int parse_user_prop(struct ctx *c, struct mql_ipc_str key, struct mql_ipc_str val) {
        struct mql_ipc_user_prop *u;

        if (c->f.n_user >= MQL_IPC_USER_PROPS_MAX)
                return bad(c, "bad-option", "too many user properties");
        u = &c->f.user[c->f.n_user];
        if (unescape(c, key, &u->key) < 0 || unescape(c, val, &u->value) < 0)
                return bad(c, "bad-option", "bad percent escape or raw control byte");
        if (u->key.len == 0)
                return bad(c, "bad-option", "empty user property name");
        if (!mqtt_str_ok(u->key) || !mqtt_str_ok(u->value))
                return bad(c, "bad-option", "user property is not valid UTF-8 or too long");
        c->f.n_user++;
        return 0;
}

static int set_opt(struct ctx *c, enum opt o, struct mql_ipc_str v) {
        struct mql_ipc_frame *f = &c->f;
        uint8_t b = 0;
        int r = 0;

        switch (o) {
        case OPT_BROKER:
                if (!mqtt_str_ok(v))
                        return bad(c, "bad-option", "broker name is not valid UTF-8");
                f->broker = v;
                return 0;
        case OPT_QOS:
                r = parse_digit(v, 2, &f->qos);
                break;
        case OPT_RETAIN:
                r = parse_digit(v, 1, &b);
                f->retain = b;
                break;
        case OPT_EXPIRY:
                r = parse_u32(v, &f->expiry);
                f->has_expiry = true;
                break;
        case OPT_CTYPE:
                if (!mqtt_str_ok(v))
                        return bad(c, "bad-option", "ctype is not valid UTF-8 or too long");
                f->ctype = v;
                return 0;
        case OPT_RTOPIC:
                if (mql_topic_name_check(v.ptr, v.len) < 0)
                        return bad(c, "bad-option", "rtopic is not a valid topic name");
                f->rtopic = v;
                return 0;
        case OPT_CORR:
                r = parse_corr(c, v);
                if (r < 0)
                        return bad(c, "bad-option", "corr must be an even number of hex digits");
                return 0;
        case OPT_FMT:
                r = parse_digit(v, 1, &f->fmt);
                f->has_fmt = true;
                break;
        case OPT_NL:
                r = parse_digit(v, 1, &b);
                f->no_local = b;
                break;
        case OPT_RAP:
                r = parse_digit(v, 1, &b);
                f->retain_as_published = b;
                break;
        case OPT_RH:
                r = parse_digit(v, 2, &f->retain_handling);
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                return bad(c, "bad-option", "option value out of range");
        return 0;
}

/* The options after the positional arguments: name=value, each at most
 * once, plus (where user properties are allowed) any number of u.KEY=VALUE. */
static int parse_options(struct ctx *c, struct tokens *t, unsigned allowed) {
        struct mql_ipc_str tok;
        unsigned seen = 0;

        while (next_token(t, &tok)) {
                const char *eq = memchr(tok.ptr, '=', tok.len);
                if (!eq)
                        return bad(c, "bad-option", "option without '='");
                struct mql_ipc_str key = { tok.ptr, (size_t)(eq - tok.ptr) };
                struct mql_ipc_str raw = { eq + 1, tok.len - key.len - 1 }, val;

                if ((allowed & OPTS_PUB) == OPTS_PUB && key.len >= 2 &&
                    memcmp(key.ptr, "u.", 2) == 0) {
                        key.ptr += 2;
                        key.len -= 2;
                        if (parse_user_prop(c, key, raw) < 0)
                                return -EINVAL;
                        continue;
                }

                enum opt o = 0;
                while (o < _OPT_MAX && !((allowed >> o & 1u) && str_eq(key, opt_names[o])))
                        o++;
                if (o == _OPT_MAX)
                        return bad(c, "bad-option", "unknown option");
                if (seen >> o & 1u)
                        return bad(c, "bad-option", "duplicate option");
                seen |= 1u << o;
                if (unescape(c, raw, &val) < 0)
                        return bad(c, "bad-option", "bad percent escape or raw control byte");
                if (val.len == 0)
                        return bad(c, "bad-option", "empty option value");
                if (set_opt(c, o, val) < 0)
                        return -EINVAL;
        }
        return 0;
}

/* A subscription id is taken literally: the client chose it, the daemon
 * only echoes it in MSG. */
static int check_sid(struct ctx *c, struct mql_ipc_str sid) {
        if (sid.len == 0 || sid.len > MQL_IPC_SID_MAX || has_ctl(sid))
                return bad(c, "bad-sid", "sid must be 1-64 bytes without control bytes");
        c->f.sid = sid;
        return 0;
}

static int parse_topic(struct ctx *c, struct mql_ipc_str raw, bool filter) {
        struct mql_ipc_str v;

        if (unescape(c, raw, &v) < 0)
                return bad(c, "bad-topic", "bad percent escape or raw control byte");
        if (filter ? mql_topic_filter_check(v.ptr, v.len) < 0
                   : mql_topic_name_check(v.ptr, v.len) < 0)
                return bad(c, "bad-topic",
                           filter ? "invalid topic filter"
                                  : "invalid topic name (wildcard, UTF-8)");
        c->f.topic = v;
        return 0;
}

static int no_more(struct ctx *c, struct tokens *t) {
        struct mql_ipc_str extra;

        if (next_token(t, &extra))
                return bad(c, "bad-command", "too many arguments");
        return 0;
}

/* Content of a complete frame; the positional arguments before the byte
 * count were already split off into `pos`. */
static int parse_content(struct ctx *c, struct tokens *t, const struct mql_ipc_str *pos) {
        struct mql_ipc_str a, b;

        switch (c->f.kind) {
        case MQL_IPC_PUB:
                if (parse_topic(c, pos[0], false) < 0)
                        return -EINVAL;
                return parse_options(c, t, OPTS_PUB);
        case MQL_IPC_MSG:
                if (check_sid(c, pos[0]) < 0 || parse_topic(c, pos[1], false) < 0)
                        return -EINVAL;
                return parse_options(c, t, OPTS_PUB);
        case MQL_IPC_SUB:
                if (!next_token(t, &a) || !next_token(t, &b))
                        return bad(c, "bad-command", "usage: SUB <sid> <filter> [options]");
                if (check_sid(c, a) < 0 || parse_topic(c, b, true) < 0)
                        return -EINVAL;
                return parse_options(c, t, OPTS_SUB);
        case MQL_IPC_UNSUB:
                if (!next_token(t, &a))
                        return bad(c, "bad-command", "usage: UNSUB <sid>");
                if (check_sid(c, a) < 0)
                        return -EINVAL;
                return no_more(c, t);
        case MQL_IPC_ERR:
                if (!next_token(t, &a) || has_ctl(a))
                        return bad(c, "bad-command", "usage: -ERR <code> <text>");
                c->f.code = a;
                while (t->pos < t->len && t->p[t->pos] == ' ')
                        t->pos++;
                b = (struct mql_ipc_str){ t->p + t->pos, t->len - t->pos };
                t->pos = t->len;
                /* Free text: spaces are literal, only '%' and control bytes
                 * are escaped. */
                if (unescape(c, b, &c->f.text) < 0)
                        return bad(c, "bad-command", "bad percent escape in -ERR text");
                return 0;
        default: /* PING, STATUS, PONG, +OK: nothing after the verb (+OK's
                  * count was taken already) */
                return no_more(c, t);
        }
}

struct verb {
        const char *name;
        enum mql_ipc_kind kind;
        bool reply;
};

static const struct verb verbs[] = {
        { "PUB", MQL_IPC_PUB, false },       { "SUB", MQL_IPC_SUB, false },
        { "UNSUB", MQL_IPC_UNSUB, false },   { "PING", MQL_IPC_PING, false },
        { "STATUS", MQL_IPC_STATUS, false }, { "+OK", MQL_IPC_OK, true },
        { "-ERR", MQL_IPC_ERR, true },       { "PONG", MQL_IPC_PONG, true },
        { "MSG", MQL_IPC_MSG, true },
};

static enum mql_ipc_kind lookup_verb(struct mql_ipc_str v, bool reply) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (verbs[i].reply == reply && v.len == strlen(verbs[i].name) &&
                    strncasecmp(v.ptr, verbs[i].name, v.len) == 0)
                        return verbs[i].kind;
        return MQL_IPC_NONE;
}

/* Bytes of an oversized payload and then its "\n" are dropped here, as
 * they arrive, so the caller never has to hold them. */
static ssize_t drain(struct mql_ipc_parser *p, const char *b, size_t len,
                     struct mql_ipc_frame *ret) {
        size_t n;

        if (len == 0)
                return 0;
        if (p->_skip > 0) {
                n = len < p->_skip ? len : p->_skip;
                p->_skip -= n;
        } else {
                int r = terminator(b, len, 0);
                if (r <= 0)
                        return r;
                n = (size_t)r;
                p->_skip_term = false;
        }
        *ret = (struct mql_ipc_frame){ .kind = MQL_IPC_NONE };
        return (ssize_t)n;
}

/* How many positional arguments precede the byte count, or -1 when the
 * verb has no byte count. "+OK" has an optional one. */
static int count_position(enum mql_ipc_kind kind) {
        switch (kind) {
        case MQL_IPC_PUB:
                return 1;
        case MQL_IPC_MSG:
                return 2;
        case MQL_IPC_OK:
                return 0;
        default:
                return -1;
        }
}

static ssize_t parse(struct mql_ipc_parser *p, const void *buf, size_t len, char *scratch,
                     size_t scratch_size, struct mql_ipc_frame *ret, bool reply) {
        const char *b = buf;
        struct mql_ipc_str verb, pos[3];
        size_t count = 0;
        int r;

        if (!p || (!buf && len > 0) || !scratch || scratch_size < p->max_line || !ret)
                return -EINVAL;
        if (p->_skip > 0 || p->_skip_term)
                return drain(p, b, len, ret);

        const char *nl = memchr(b, '\n', len < p->max_line ? len : p->max_line);
        if (!nl)
                return len >= p->max_line ? -EMSGSIZE : 0;
        size_t line_len = (size_t)(nl - b) + 1, n = line_len - 1;
        if (n > 0 && b[n - 1] == '\r')
                n--;

        struct ctx c = { .scratch = scratch, .size = scratch_size };
        struct tokens t = { b, n, 0 };

        if (!next_token(&t, &verb)) {
                *ret = c.f; /* a blank line: easy to type by hand, ignored */
                return (ssize_t)line_len;
        }
        c.f.kind = lookup_verb(verb, reply);
        if (c.f.kind == MQL_IPC_NONE) {
                bad(&c, "bad-command", "unknown command");
                *ret = c.f;
                return (ssize_t)line_len;
        }

        /* Framing first: a payload follows exactly when a byte count does. */
        int cp = count_position(c.f.kind);
        size_t total = line_len;
        if (cp >= 0) {
                struct mql_ipc_str ctok;
                for (int i = 0; i < cp; i++)
                        if (!next_token(&t, &pos[i])) {
                                bad(&c, "bad-command", "missing arguments");
                                *ret = c.f;
                                return (ssize_t)line_len;
                        }
                if (!next_token(&t, &ctok)) {
                        if (c.f.kind != MQL_IPC_OK)
                                bad(&c, "bad-command", "missing byte count");
                        *ret = c.f;
                        return (ssize_t)line_len;
                }
                r = parse_count(ctok, &count);
                if (r < 0)
                        return r;
                if (count > p->max_payload) {
                        bad(&c, "too-large", "payload larger than allowed");
                        p->_skip = count;
                        p->_skip_term = true;
                        *ret = c.f;
                        return (ssize_t)line_len;
                }
                /* No overflow: count <= SIZE_MAX / 4 and line_len <= len. */
                total = line_len + count;
                r = terminator(b, len, total);
                if (r <= 0)
                        return r;
                c.f.payload = (struct mql_ipc_str){ b + line_len, count };
                c.f.has_payload = true;
                total += (size_t)r;
        }

        (void)parse_content(&c, &t, pos);
        *ret = c.f;
        return (ssize_t)total;
}

MQL_EXPORT int mql_ipc_parser_init(struct mql_ipc_parser *p, size_t max_line, size_t max_payload) {
        if (!p)
                return -EINVAL;
        if (max_line == 0)
                max_line = MQL_IPC_LINE_MAX_DEFAULT;
        if (max_payload == 0)
                max_payload = MQL_IPC_PAYLOAD_MAX_DEFAULT;
        if (max_line < 16 || max_payload > SIZE_MAX / 4 || max_line > SIZE_MAX / 4)
                return -EINVAL;
        *p = (struct mql_ipc_parser){ .max_line = max_line, .max_payload = max_payload };
        return 0;
}

MQL_EXPORT ssize_t mql_ipc_parse_command(struct mql_ipc_parser *p, const void *buf, size_t len,
                                         char *scratch, size_t scratch_size,
                                         struct mql_ipc_frame *ret) {
        return parse(p, buf, len, scratch, scratch_size, ret, false);
}

MQL_EXPORT ssize_t mql_ipc_parse_reply(struct mql_ipc_parser *p, const void *buf, size_t len,
                                       char *scratch, size_t scratch_size,
                                       struct mql_ipc_frame *ret) {
        return parse(p, buf, len, scratch, scratch_size, ret, true);
}

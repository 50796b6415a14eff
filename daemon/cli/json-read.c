/* SPDX-License-Identifier: MIT */

/*
 * A strict JSON reader (RFC 8259) for the STATUS document: recursive
 * descent into a small tree. Strict, because a document that does not
 * parse means the daemon is broken, and that should show rather than be
 * guessed around.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli-json.h"

#define DEPTH_MAX 64

struct reader {
        const char *s;
        size_t len;
        size_t pos;
        unsigned depth;
};

/* A growable byte string for decoded text. */
struct text {
        char *p;
        size_t len;
        size_t cap;
};

static int text_add(struct text *t, const char *p, size_t n) {
        if (t->cap - t->len < n + 1) {
                size_t cap = t->cap ? t->cap : 32;
                while (cap - t->len < n + 1)
                        cap *= 2;
                char *q = realloc(t->p, cap);
                if (!q)
                        return -ENOMEM;
                t->p = q;
                t->cap = cap;
        }
        memcpy(t->p + t->len, p, n);
        t->len += n;
        t->p[t->len] = '\0';
        return 0;
}

static int parse_value(struct reader *r, struct json *ret);

static void skip_ws(struct reader *r) {
        while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                                   r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
                r->pos++;
}

static bool peek(struct reader *r, char c) {
        return r->pos < r->len && r->s[r->pos] == c;
}

static bool eat(struct reader *r, char c) {
        if (!peek(r, c))
                return false;
        r->pos++;
        return true;
}

static bool is_digit(struct reader *r) {
        return r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9';
}

static int hex4(struct reader *r, uint32_t *ret) {
        uint32_t v = 0;

        if (r->len - r->pos < 4)
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                char c = r->s[r->pos];
                unsigned d;
                if (c >= '0' && c <= '9')
                        d = (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        d = (unsigned)(c - 'A' + 10);
                else
                        return -EBADMSG;
                v = v << 4 | d;
                r->pos++;
        }
        *ret = v;
        return 0;
}

/* After "\u": one code point, a surrogate pair taking two escapes. */
static int unicode_escape(struct reader *r, uint32_t *ret) {
        uint32_t hi, lo;

        if (hex4(r, &hi) < 0)
                return -EBADMSG;
        if (hi >= 0xdc00 && hi <= 0xdfff)
                return -EBADMSG; /* a low surrogate alone */
        if (hi < 0xd800 || hi > 0xdbff) {
                *ret = hi;
                return 0;
        }
        if (!eat(r, '\\') || !eat(r, 'u') || hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                return -EBADMSG;
        *ret = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
        return 0;
}

static int escape(struct reader *r, struct text *t) {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        char buf[4];
        uint32_t cp;

        if (r->pos >= r->len)
                return -EBADMSG;
        char c = r->s[r->pos++];
        if (c == 'u') {
                if (unicode_escape(r, &cp) < 0)
                        return -EBADMSG;
                return text_add(t, buf, utf8_encode(cp, buf));
        }
        const char *at = memchr(from, c, sizeof(from) - 1);
        if (!at) {
                r->pos--;
                return -EBADMSG;
        }
        return text_add(t, &to[at - from], 1);
}

static int parse_string(struct reader *r, char **ret, size_t *ret_len) {
        struct text t = { 0 };
        int e = -EBADMSG;

        if (!eat(r, '"'))
                return -EBADMSG;
        if (text_add(&t, "", 0) < 0)
                return -ENOMEM;
        while (r->pos < r->len) {
                unsigned char c = (unsigned char)r->s[r->pos];
                uint32_t cp;
                if (c == '"') {
                        r->pos++;
                        *ret = t.p;
                        *ret_len = t.len;
                        return 0;
                }
                if (c == '\\') {
                        r->pos++;
                        e = escape(r, &t);
                        if (e < 0)
                                goto fail;
                        continue;
                }
                if (c < 0x20)
                        break; /* raw control bytes must be escaped */
                size_t n = utf8_decode(r->s + r->pos, r->len - r->pos, &cp);
                if (n == 0)
                        break;
                e = text_add(&t, r->s + r->pos, n);
                if (e < 0)
                        goto fail;
                r->pos += n;
        }
        e = -EBADMSG;
fail:
        free(t.p);
        return e;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, kept as text. */
static int parse_number(struct reader *r, struct json *ret) {
        size_t start = r->pos;

        eat(r, '-');
        if (eat(r, '0')) {
                if (is_digit(r))
                        return -EBADMSG; /* no leading zeros */
        } else if (is_digit(r)) {
                while (is_digit(r))
                        r->pos++;
        } else
                return -EBADMSG;
        if (eat(r, '.')) {
                if (!is_digit(r))
                        return -EBADMSG;
                while (is_digit(r))
                        r->pos++;
        }
        if (eat(r, 'e') || eat(r, 'E')) {
                if (!eat(r, '+'))
                        eat(r, '-');
                if (!is_digit(r))
                        return -EBADMSG;
                while (is_digit(r))
                        r->pos++;
        }
        size_t n = r->pos - start;
        ret->str = malloc(n + 1);
        if (!ret->str)
                return -ENOMEM;
        memcpy(ret->str, r->s + start, n);
        ret->str[n] = '\0';
        ret->len = n;
        ret->type = JSON_NUMBER;
        return 0;
}

static int parse_literal(struct reader *r, const char *word, enum json_type type,
                         struct json *ret) {
        size_t n = strlen(word);
        if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0)
                return -EBADMSG;
        r->pos += n;
        ret->type = type;
        return 0;
}

/* Makes room for one more element of `size` bytes in *arr. */
static int grow(void **arr, size_t n, size_t *cap, size_t size) {
        if (n < *cap)
                return 0;
        size_t c = *cap ? *cap * 2 : 4;
        void *p = realloc(*arr, c * size);
        if (!p)
                return -ENOMEM;
        *arr = p;
        *cap = c;
        return 0;
}

static int parse_array(struct reader *r, struct json *ret) {
        size_t cap = 0;
        int e;

        ret->type = JSON_ARRAY;
        r->pos++; /* '[' */
        skip_ws(r);
        if (eat(r, ']'))
                return 0;
        for (;;) {
                e = grow((void **)&ret->items, ret->n, &cap, sizeof(*ret->items));
                if (e < 0)
                        return e;
                /* Counted before parsing: parse_value() leaves even a
                 * failed item fit for json_done(). */
                e = parse_value(r, &ret->items[ret->n++]);
                if (e < 0)
                        return e;
                skip_ws(r);
                if (eat(r, ']'))
                        return 0;
                if (!eat(r, ','))
                        return -EBADMSG;
        }
}

static int parse_object(struct reader *r, struct json *ret) {
        size_t cap = 0;
        int e;

        ret->type = JSON_OBJECT;
        r->pos++; /* '{' */
        skip_ws(r);
        if (eat(r, '}'))
                return 0;
        for (;;) {
                e = grow((void **)&ret->members, ret->n, &cap, sizeof(*ret->members));
                if (e < 0)
                        return e;
                struct json_member *m = &ret->members[ret->n];
                *m = (struct json_member){ 0 };
                skip_ws(r);
                e = parse_string(r, &m->key, &m->key_len);
                if (e < 0)
                        return e;
                ret->n++; /* owned by ret from here on, for json_done() */
                skip_ws(r);
                if (!eat(r, ':'))
                        return -EBADMSG;
                e = parse_value(r, &m->value);
                if (e < 0)
                        return e;
                skip_ws(r);
                if (eat(r, '}'))
                        return 0;
                if (!eat(r, ','))
                        return -EBADMSG;
        }
}

/* Fills *ret; on failure *ret holds what was built so far, for json_done(). */
static int parse_value(struct reader *r, struct json *ret) {
        int e;

        *ret = (struct json){ .type = JSON_NULL };
        skip_ws(r);
        if (r->pos >= r->len)
                return -EBADMSG;
        if (++r->depth > DEPTH_MAX)
                return -EBADMSG;
        switch (r->s[r->pos]) {
        case '{':
                e = parse_object(r, ret);
                break;
        case '[':
                e = parse_array(r, ret);
                break;
        case '"':
                ret->type = JSON_STRING;
                e = parse_string(r, &ret->str, &ret->len);
                break;
        case 't':
                e = parse_literal(r, "true", JSON_TRUE, ret);
                break;
        case 'f':
                e = parse_literal(r, "false", JSON_FALSE, ret);
                break;
        case 'n':
                e = parse_literal(r, "null", JSON_NULL, ret);
                break;
        default:
                e = parse_number(r, ret);
                break;
        }
        r->depth--;
        return e;
}

int json_parse(const char *s, size_t len, struct json *ret, size_t *ret_error_at) {
        struct reader r = { .s = s, .len = len };
        struct json j;

        int e = parse_value(&r, &j);
        if (e == 0) {
                skip_ws(&r);
                if (r.pos != r.len)
                        e = -EBADMSG;
        }
        if (e < 0) {
                json_done(&j);
                if (ret_error_at)
                        *ret_error_at = r.pos;
                return e;
        }
        *ret = j;
        return 0;
}

void json_done(struct json *j) {
        for (size_t i = 0; j->items && i < j->n; i++)
                json_done(&j->items[i]);
        for (size_t i = 0; j->members && i < j->n; i++) {
                free(j->members[i].key);
                json_done(&j->members[i].value);
        }
        free(j->items);
        free(j->members);
        free(j->str);
        *j = (struct json){ .type = JSON_NULL };
}

const struct json *json_get(const struct json *obj, const char *key) {
        if (!obj || obj->type != JSON_OBJECT)
                return NULL;
        size_t len = strlen(key);
        for (size_t i = obj->n; i > 0; i--) {
                const struct json_member *m = &obj->members[i - 1];
                if (m->key_len == len && memcmp(m->key, key, len) == 0)
                        return &m->value;
        }
        return NULL;
}

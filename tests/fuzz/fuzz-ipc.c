/* SPDX-License-Identifier: MIT */

/*
 * The IPC text protocol codec. The first input byte picks the direction
 * (bit 0: daemon-to-client) and small limits (bits 1-3: the line maximum,
 * bits 4-7: the payload maximum), so that -EMSGSIZE and the dropping of
 * oversized payloads are reached; the rest is a stream parsed frame after
 * frame. Checked for every frame: the return is bounded by the input, a
 * frame makes progress, one byte less gives "need more", every view lies in
 * the input or the scratch buffer, and a good frame formats, parses back to
 * the same fields, and formats again to the same bytes.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqlink/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

/* Room for a formatted frame: lines grow at most threefold when encoded. */
#define BIG_LINE (1u << 20)

static bool inside(struct mql_ipc_str s, const char *base, size_t len) {
        if (s.len == 0)
                return true;
        return s.ptr >= base && s.len <= len && (size_t)(s.ptr - base) <= len - s.len;
}

static bool view_ok(struct mql_ipc_str s, const char *in, size_t in_len, const char *scratch,
                    size_t scratch_len) {
        return inside(s, in, in_len) || inside(s, scratch, scratch_len);
}

static void check_views(const struct mql_ipc_frame *f, const char *in, size_t in_len,
                        const char *scratch, size_t scratch_len) {
        const struct mql_ipc_str all[] = { f->sid,    f->topic, f->payload, f->broker, f->ctype,
                                           f->rtopic, f->corr,  f->code,    f->text };
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
                CHECK(view_ok(all[i], in, in_len, scratch, scratch_len));
        CHECK(f->n_user <= MQL_IPC_USER_PROPS_MAX);
        for (size_t i = 0; i < f->n_user; i++) {
                CHECK(view_ok(f->user[i].key, in, in_len, scratch, scratch_len));
                CHECK(view_ok(f->user[i].value, in, in_len, scratch, scratch_len));
        }
        /* The payload is never decoded: it is the input's own bytes. */
        CHECK(inside(f->payload, in, in_len));
}

static bool same(struct mql_ipc_str a, struct mql_ipc_str b) {
        return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool frames_equal(const struct mql_ipc_frame *a, const struct mql_ipc_frame *b) {
        if (a->kind != b->kind || !same(a->sid, b->sid) || !same(a->topic, b->topic) ||
            !same(a->payload, b->payload) || !same(a->broker, b->broker) ||
            !same(a->ctype, b->ctype) || !same(a->rtopic, b->rtopic) || !same(a->corr, b->corr) ||
            !same(a->code, b->code) || !same(a->text, b->text))
                return false;
        if (a->qos != b->qos || a->retain != b->retain || a->no_local != b->no_local ||
            a->retain_as_published != b->retain_as_published ||
            a->retain_handling != b->retain_handling || a->has_expiry != b->has_expiry ||
            a->expiry != b->expiry || a->has_fmt != b->has_fmt || a->fmt != b->fmt ||
            a->n_user != b->n_user)
                return false;
        if (a->kind == MQL_IPC_OK && a->has_payload != b->has_payload)
                return false;
        for (size_t i = 0; i < a->n_user; i++)
                if (!same(a->user[i].key, b->user[i].key) ||
                    !same(a->user[i].value, b->user[i].value))
                        return false;
        return true;
}

static ssize_t parse(struct mql_ipc_parser *p, bool reply, const char *buf, size_t len,
                     char *scratch, size_t scratch_len, struct mql_ipc_frame *f) {
        return reply ? mql_ipc_parse_reply(p, buf, len, scratch, scratch_len, f)
                     : mql_ipc_parse_command(p, buf, len, scratch, scratch_len, f);
}

static void round_trip(const struct mql_ipc_frame *f, bool reply) {
        static struct mql_ipc_frame g;
        struct mql_ipc_parser p;
        ssize_t size = mql_ipc_size(f);

        /* Whatever the parser accepts, the formatter accepts. */
        CHECK(size > 0);
        char *out = malloc((size_t)size), *again = malloc((size_t)size);
        char *scratch = malloc(BIG_LINE);
        CHECK(out && again && scratch);
        CHECK(mql_ipc_format(f, out, (size_t)size - 1) == -ENOBUFS);
        CHECK(mql_ipc_format(f, out, (size_t)size) == size);

        CHECK(mql_ipc_parser_init(&p, BIG_LINE, SIZE_MAX / 8) == 0);
        CHECK(parse(&p, reply, out, (size_t)size, scratch, BIG_LINE, &g) == size);
        CHECK(g.error == NULL);
        CHECK(frames_equal(f, &g));
        CHECK(mql_ipc_format(&g, again, (size_t)size) == size);
        CHECK(memcmp(out, again, (size_t)size) == 0);
        free(out);
        free(again);
        free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct mql_ipc_frame f, g;
        struct mql_ipc_parser p, q;

        if (size < 1)
                return 0;
        bool reply = data[0] & 1;
        size_t max_line = (size_t)16 << ((data[0] >> 1) & 7);
        size_t max_payload = 1 + (size_t)(data[0] >> 4) * 9;
        const char *in = (const char *)data + 1;
        size_t len = size - 1, off = 0;

        CHECK(mql_ipc_parser_init(&p, max_line, max_payload) == 0);
        char *scratch = malloc(max_line);
        CHECK(scratch);

        while (off < len) {
                q = p;
                ssize_t r = parse(&p, reply, in + off, len - off, scratch, max_line, &f);
                CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r > 0);
                if (r <= 0)
                        break;
                CHECK((size_t)r <= len - off);
                check_views(&f, in + off, (size_t)r, scratch, max_line);
                CHECK((f.error == NULL) == (f.error_text == NULL));
                CHECK(f.kind == MQL_IPC_NONE || mql_ipc_kind_str(f.kind));
                CHECK(reply ? (f.kind == MQL_IPC_NONE || f.kind >= MQL_IPC_OK)
                            : f.kind < MQL_IPC_OK);

                /* A frame read from a fresh start is not there one byte
                 * short (only payload dropping consumes piecemeal). */
                if (q._skip == 0 && !q._skip_term) {
                        char *s2 = malloc(max_line);
                        CHECK(s2);
                        CHECK(parse(&q, reply, in + off, (size_t)r - 1, s2, max_line, &g) == 0);
                        free(s2);
                }

                if (!f.error && f.kind != MQL_IPC_NONE)
                        round_trip(&f, reply);
                off += (size_t)r;
        }
        free(scratch);
        return 0;
}

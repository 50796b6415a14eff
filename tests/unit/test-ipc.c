/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqlink/ipc.h"

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_LINE (64u * 1024u)
#define MAX_PAYLOAD (1024u * 1024u)

static char scratch[MAX_LINE];

static struct mql_ipc_parser new_parser(void) {
        struct mql_ipc_parser p;
        assert_int_equal(mql_ipc_parser_init(&p, MAX_LINE, MAX_PAYLOAD), 0);
        return p;
}

static ssize_t parse(struct mql_ipc_parser *p, bool reply, const void *buf, size_t len,
                     struct mql_ipc_frame *f) {
        return reply ? mql_ipc_parse_reply(p, buf, len, scratch, sizeof(scratch), f)
                     : mql_ipc_parse_command(p, buf, len, scratch, sizeof(scratch), f);
}

static bool str_is(struct mql_ipc_str s, const char *lit) {
        return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

#define assert_str(s, lit) assert_true(str_is((s), (lit)))

/* ---- the hostile-input table ---- */

enum {
        WANT_ERR = 1,
        WANT_MORE = 0
};

struct bad_case {
        const char *in;
        size_t len; /* 0: strlen(in) */
        bool reply;
        int want; /* WANT_ERR (whole input consumed, error word `err`), WANT_MORE, or -errno */
        const char *err;
};

#define CMD(s, w, e) \
        { s, sizeof(s) - 1, false, w, e }
#define REP(s, w, e) \
        { s, sizeof(s) - 1, true, w, e }

static const struct bad_case bad_cases[] = {
        CMD("FOO\n", WANT_ERR, "bad-command"),
        CMD("pubx a 1\n", WANT_ERR, "bad-command"),
        CMD("PUB\n", WANT_ERR, "bad-command"),
        CMD("PUB a\n", WANT_ERR, "bad-command"),
        CMD("SUB\n", WANT_ERR, "bad-command"),
        CMD("SUB s\n", WANT_ERR, "bad-command"),
        CMD("UNSUB\n", WANT_ERR, "bad-command"),
        CMD("UNSUB a b\n", WANT_ERR, "bad-command"),
        CMD("PING x\n", WANT_ERR, "bad-command"),
        CMD("STATUS now\r\n", WANT_ERR, "bad-command"),
        CMD("MSG s a 1\n", WANT_ERR, "bad-command"),
        CMD("+OK\n", WANT_ERR, "bad-command"),
        CMD("PUB a 2000000\n", WANT_ERR, "too-large"),
        CMD("PUB a 1048577\n", WANT_ERR, "too-large"),
        CMD("PUB a -1\nx\n", -EBADMSG, NULL),
        CMD("PUB a abc\n", -EBADMSG, NULL),
        CMD("PUB a +1\nx\n", -EBADMSG, NULL),
        CMD("PUB a 1x\nx\n", -EBADMSG, NULL),
        CMD("PUB a 0x10\n", -EBADMSG, NULL),
        CMD("PUB a 999999999999999999999\n", -EBADMSG, NULL),
        CMD("PUB a 18446744073709551616\n", -EBADMSG, NULL),
        CMD("PUB a/+ 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a/# 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB \xff\xfe 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB \xc0\xaf 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a%zz 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a%4 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a% 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a%00b 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a\x01z 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a\rb 1\nx\n", WANT_ERR, "bad-topic"),
        CMD("PUB a 3\nabcX", -EBADMSG, NULL),
        CMD("PUB a 3\nabc\rX", -EBADMSG, NULL),
        CMD("PUB a 0\nX\n", -EBADMSG, NULL),
        CMD("PUB a 3\nabc", WANT_MORE, NULL),
        CMD("PUB a 3\nabc\r", WANT_MORE, NULL),
        CMD("PUB a 3\nab", WANT_MORE, NULL),
        CMD("PUB a 3", WANT_MORE, NULL),
        CMD("PUB a 0 qos=1 qos=1\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 broker=x broker=x\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 foo=1\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 QOS=1\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 qos=3\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 qos=01\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 qos\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 qos=\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 retain=2\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 fmt=2\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 expiry=4294967296\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 expiry=-1\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 expiry=1h\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 corr=abc\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 corr=zz\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 rtopic=a/+\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 ctype=%GG\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 ctype=\xff\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 broker=%00\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 u.=v\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 u.k=\x02\n\n", WANT_ERR, "bad-option"),
        CMD("PUB a 0 nl=1\n\n", WANT_ERR, "bad-option"),
        CMD("SUB s a rh=3\n", WANT_ERR, "bad-option"),
        CMD("SUB s a nl=2\n", WANT_ERR, "bad-option"),
        CMD("SUB s a expiry=5\n", WANT_ERR, "bad-option"),
        CMD("SUB s a u.k=v\n", WANT_ERR, "bad-option"),
        CMD("SUB s a/#/b\n", WANT_ERR, "bad-topic"),
        CMD("SUB s a+\n", WANT_ERR, "bad-topic"),
        CMD("SUB s $share/g\n", WANT_ERR, "bad-topic"),
        CMD("SUB s\x01 a\n", WANT_ERR, "bad-sid"),
        CMD("UNSUB 12345678901234567890123456789012345678901234567890123456789012345\n", WANT_ERR,
            "bad-sid"),
        REP("MSG s a/+ 1\nx\n", WANT_ERR, "bad-topic"),
        REP("MSG s a x\n", -EBADMSG, NULL),
        REP("MSG s a 1\nxy", -EBADMSG, NULL),
        REP("MSG s a\n", WANT_ERR, "bad-command"),
        REP("+OK -1\n", -EBADMSG, NULL),
        REP("+OK 1 2\nx\n", WANT_ERR, "bad-command"),
        REP("-ERR\n", WANT_ERR, "bad-command"),
        REP("-ERR x bad%zzescape\n", WANT_ERR, "bad-command"),
        REP("PUB a 1\n", WANT_ERR, "bad-command"),
        REP("PONG x\n", WANT_ERR, "bad-command"),
};

static void test_bad_table(void **state) {
        (void)state;
        assert_true(ELEMENTS(bad_cases) >= 40);
        for (size_t i = 0; i < ELEMENTS(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                struct mql_ipc_parser p = new_parser();
                struct mql_ipc_frame f;
                ssize_t r = parse(&p, c->reply, c->in, c->len, &f);

                if ((c->want == WANT_ERR) != (r == (ssize_t)c->len) ||
                    (c->want != WANT_ERR && r != c->want) ||
                    (c->want == WANT_ERR && (!f.error || strcmp(f.error, c->err) != 0)))
                        fail_msg("case %zu \"%.40s\": got %zd (%s), want %d %s", i, c->in, r,
                                 r > 0 && f.error ? f.error : "-", c->want, c->err ? c->err : "");
                if (c->want == WANT_ERR) {
                        assert_non_null(f.error_text);
                        /* One byte at a time: nothing until the frame is whole. */
                        for (size_t k = 0; k < c->len; k++) {
                                struct mql_ipc_parser q = new_parser();
                                assert_int_equal(parse(&q, c->reply, c->in, k, &f), 0);
                        }
                }
        }
}

static void test_33_user_props(void **state) {
        char line[1024] = "PUB a 0";
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame f;
        (void)state;

        for (int i = 0; i < 32; i++)
                sprintf(line + strlen(line), " u.k%d=v", i);
        strcat(line, "\n\n");
        assert_int_equal(parse(&p, false, line, strlen(line), &f), (ssize_t)strlen(line));
        assert_null(f.error);
        assert_int_equal(f.n_user, 32);

        line[strlen(line) - 2] = '\0';
        strcat(line, " u.k32=v\n\n");
        assert_int_equal(parse(&p, false, line, strlen(line), &f), (ssize_t)strlen(line));
        assert_string_equal(f.error, "bad-option");
}

static void test_long_line(void **state) {
        size_t len = 1024 * 1024;
        char *big = malloc(len);
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame f;
        (void)state;

        assert_non_null(big);
        memset(big, 'a', len);
        memcpy(big, "PUB ", 4);
        assert_int_equal(parse(&p, false, big, len, &f), -EMSGSIZE);
        /* Just below the limit it still waits; at the limit it gives up. */
        assert_int_equal(parse(&p, false, big, MAX_LINE - 1, &f), 0);
        assert_int_equal(parse(&p, false, big, MAX_LINE, &f), -EMSGSIZE);
        /* A line of exactly max_line bytes, "\n" included, is fine. */
        big[MAX_LINE - 1] = '\n';
        assert_int_equal(parse(&p, false, big, MAX_LINE, &f), MAX_LINE);
        assert_string_equal(f.error, "bad-command"); /* no byte count */
        memcpy(big, "PUB a ", 6);
        assert_int_equal(parse(&p, false, big, MAX_LINE, &f), -EBADMSG); /* "aaa" count */
        free(big);
}

/* An oversized payload is reported at once, then dropped as it arrives,
 * and the command after it parses normally. */
static void test_too_large_skips(void **state) {
        const char head[] = "PUB a/b 2000000 qos=1\r\n";
        size_t n = sizeof(head) - 1, len = n + 2000000 + 2 + 5;
        char *buf = malloc(len);
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame f;
        ssize_t r;
        (void)state;

        assert_non_null(buf);
        memcpy(buf, head, n);
        memset(buf + n, '\n', 2000000);
        memcpy(buf + n + 2000000, "\r\nPING\n", 7);

        r = parse(&p, false, buf, len, &f);
        assert_int_equal(r, n);
        assert_int_equal(f.kind, MQL_IPC_PUB);
        assert_string_equal(f.error, "too-large");

        /* Feed the payload in uneven pieces. */
        size_t off = n, steps = 0;
        while (off < len - 5) {
                size_t piece = 70000 < len - off ? 70000 : len - off;
                r = parse(&p, false, buf + off, piece, &f);
                assert_true(r > 0);
                assert_int_equal(f.kind, MQL_IPC_NONE);
                assert_null(f.error);
                off += (size_t)r;
                steps++;
        }
        assert_int_equal(off, len - 5);
        assert_true(steps > 2);
        r = parse(&p, false, buf + off, 5, &f);
        assert_int_equal(r, 5);
        assert_int_equal(f.kind, MQL_IPC_PING);

        /* A missing "\n" after the dropped payload is lost framing. */
        p = new_parser();
        memcpy(buf, "PUB a 1048577\n", 14);
        assert_int_equal(parse(&p, false, buf, 14, &f), 14);
        memset(buf, 'x', 1048578);
        assert_int_equal(parse(&p, false, buf, 1048577, &f), 1048577);
        assert_int_equal(parse(&p, false, buf, 1, &f), -EBADMSG);
        free(buf);
}

/* ---- valid input ---- */

struct good_case {
        const char *in;
        size_t len;
        bool reply;
        enum mql_ipc_kind kind;
};

#define GCMD(s, k) \
        { s, sizeof(s) - 1, false, k }
#define GREP(s, k) \
        { s, sizeof(s) - 1, true, k }

static const struct good_case good_cases[] = {
        GCMD("PUB a/b 5\nhello\n", MQL_IPC_PUB),
        GCMD("pub  a/b   5  \r\nhello\r\n", MQL_IPC_PUB),
        GCMD("PUB a%20b%25c%3dd%0A 3\na\0b\n", MQL_IPC_PUB),
        GCMD("PUB t 6 broker=home qos=2 retain=1 expiry=4294967295 ctype=text/plain "
             "rtopic=r/t corr=00fFaB fmt=1 u.k=v u.k=w u.a%3Db=c%20d\n\n\0\n\r\n\n\n",
             MQL_IPC_PUB),
        GCMD("PUB \xc3\xa9t\xc3\xa9 0\n\n", MQL_IPC_PUB),
        GCMD("SUB 1 a/+/c\n", MQL_IPC_SUB),
        GCMD("SUB s-1 # broker=b qos=1 nl=1 rap=1 rh=2\n", MQL_IPC_SUB),
        GCMD("SUB x $share/g/a/# qos=0\n", MQL_IPC_SUB),
        GCMD("UNSUB s-1\n", MQL_IPC_UNSUB),
        GCMD("ping\n", MQL_IPC_PING),
        GCMD("Status\r\n", MQL_IPC_STATUS),
        GCMD("   \n", MQL_IPC_NONE),
        GCMD("\r\n", MQL_IPC_NONE),
        GREP("+OK\n", MQL_IPC_OK),
        GREP("+ok 2\n{}\n", MQL_IPC_OK),
        GREP("-ERR no-broker no broker named %22x%22\n", MQL_IPC_ERR),
        GREP("PONG\r\n", MQL_IPC_PONG),
        GREP("MSG 7 a/b 3 broker=home qos=1 retain=1 corr=01 u.x=y\nx\ny\n", MQL_IPC_MSG),
};

static void test_good(void **state) {
        (void)state;
        for (size_t i = 0; i < ELEMENTS(good_cases); i++) {
                const struct good_case *c = &good_cases[i];
                struct mql_ipc_parser p = new_parser();
                struct mql_ipc_frame f, g;
                ssize_t r = parse(&p, c->reply, c->in, c->len, &f);

                if (r != (ssize_t)c->len || f.error || f.kind != c->kind)
                        fail_msg("case %zu: got %zd kind %d error %s", i, r, f.kind,
                                 r > 0 && f.error ? f.error : "-");
                /* One byte at a time, the same result and nothing before. */
                for (size_t k = 0; k < c->len; k++) {
                        struct mql_ipc_parser q = new_parser();
                        assert_int_equal(parse(&q, c->reply, c->in, k, &g), 0);
                }
        }
}

static void test_pub_every_option(void **state) {
        const struct good_case *c = &good_cases[3];
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame f;
        (void)state;

        assert_int_equal(parse(&p, false, c->in, c->len, &f), c->len);
        assert_null(f.error);
        assert_str(f.topic, "t");
        assert_int_equal(f.payload.len, 6);
        assert_memory_equal(f.payload.ptr, "\n\0\n\r\n\n", 6);
        assert_str(f.broker, "home");
        assert_int_equal(f.qos, 2);
        assert_true(f.retain);
        assert_true(f.has_expiry);
        assert_int_equal(f.expiry, UINT32_MAX);
        assert_str(f.ctype, "text/plain");
        assert_str(f.rtopic, "r/t");
        assert_int_equal(f.corr.len, 3);
        assert_memory_equal(f.corr.ptr, "\x00\xff\xab", 3);
        assert_true(f.has_fmt);
        assert_int_equal(f.fmt, 1);
        assert_int_equal(f.n_user, 3);
        assert_str(f.user[0].key, "k");
        assert_str(f.user[0].value, "v");
        assert_str(f.user[1].value, "w");
        assert_str(f.user[2].key, "a=b");
        assert_str(f.user[2].value, "c d");
        /* Zero-copy where nothing was encoded, scratch where it was. */
        assert_ptr_equal(f.topic.ptr, c->in + 4);
        assert_true(f.user[2].key.ptr >= scratch && f.user[2].key.ptr < scratch + sizeof(scratch));
}

static void test_escapes_and_binary(void **state) {
        const struct good_case *c = &good_cases[2];
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame f;
        (void)state;

        assert_int_equal(parse(&p, false, c->in, c->len, &f), c->len);
        assert_str(f.topic, "a b%c=d\n");
        assert_int_equal(f.payload.len, 3);
        assert_memory_equal(f.payload.ptr, "a\0b", 3);
}

static void test_sub_and_replies(void **state) {
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame f;
        const struct good_case *c;
        (void)state;

        c = &good_cases[6];
        assert_int_equal(parse(&p, false, c->in, c->len, &f), c->len);
        assert_str(f.sid, "s-1");
        assert_str(f.topic, "#");
        assert_str(f.broker, "b");
        assert_int_equal(f.qos, 1);
        assert_true(f.no_local && f.retain_as_published);
        assert_int_equal(f.retain_handling, 2);

        c = &good_cases[14];
        assert_int_equal(parse(&p, true, c->in, c->len, &f), c->len);
        assert_true(f.has_payload);
        assert_str(f.payload, "{}");

        c = &good_cases[13];
        assert_int_equal(parse(&p, true, c->in, c->len, &f), c->len);
        assert_false(f.has_payload);

        c = &good_cases[15];
        assert_int_equal(parse(&p, true, c->in, c->len, &f), c->len);
        assert_str(f.code, "no-broker");
        assert_str(f.text, "no broker named \"x\"");

        c = &good_cases[17];
        assert_int_equal(parse(&p, true, c->in, c->len, &f), c->len);
        assert_str(f.sid, "7");
        assert_str(f.topic, "a/b");
        assert_str(f.payload, "x\ny");
        assert_int_equal(f.corr.len, 1);
        assert_int_equal(f.n_user, 1);
}

static void test_pipelined(void **state) {
        static const char in[] =
                "PING\nPUB a 3\na\nb\nSUB 1 a/#\n\nUNSUB 1\r\nFOO\nSTATUS\nPUB b 2\nx";
        static const enum mql_ipc_kind kinds[] = { MQL_IPC_PING,  MQL_IPC_PUB,   MQL_IPC_SUB,
                                                   MQL_IPC_NONE,  MQL_IPC_UNSUB, MQL_IPC_NONE,
                                                   MQL_IPC_STATUS };
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame f;
        size_t off = 0, len = sizeof(in) - 1;
        (void)state;

        for (size_t i = 0; i < ELEMENTS(kinds); i++) {
                ssize_t r = parse(&p, false, in + off, len - off, &f);
                assert_true(r > 0);
                assert_int_equal(f.kind, kinds[i]);
                assert_true((f.error != NULL) == (i == 5)); /* FOO */
                off += (size_t)r;
        }
        assert_int_equal(parse(&p, false, in + off, len - off, &f), 0);
}

/* ---- formatting ---- */

static void assert_frames_equal(const struct mql_ipc_frame *a, const struct mql_ipc_frame *b) {
#define SAME(x) assert_memory_equal(a->x.ptr ? a->x.ptr : "", b->x.ptr ? b->x.ptr : "", a->x.len)
#define SAMESTR(x)                                    \
        do {                                          \
                assert_int_equal(a->x.len, b->x.len); \
                SAME(x);                              \
        } while (0)
        assert_int_equal(a->kind, b->kind);
        SAMESTR(sid);
        SAMESTR(topic);
        SAMESTR(payload);
        SAMESTR(broker);
        SAMESTR(ctype);
        SAMESTR(rtopic);
        SAMESTR(corr);
        SAMESTR(code);
        SAMESTR(text);
        assert_int_equal(a->qos, b->qos);
        assert_int_equal(a->retain, b->retain);
        assert_int_equal(a->no_local, b->no_local);
        assert_int_equal(a->retain_as_published, b->retain_as_published);
        assert_int_equal(a->retain_handling, b->retain_handling);
        assert_int_equal(a->has_expiry, b->has_expiry);
        if (a->has_expiry)
                assert_int_equal(a->expiry, b->expiry);
        assert_int_equal(a->has_fmt, b->has_fmt);
        if (a->has_fmt)
                assert_int_equal(a->fmt, b->fmt);
        assert_int_equal(a->n_user, b->n_user);
        for (size_t i = 0; i < a->n_user; i++) {
                SAMESTR(user[i].key);
                SAMESTR(user[i].value);
        }
#undef SAME
#undef SAMESTR
}

static void round_trip(const struct mql_ipc_frame *f, const char *expect, size_t expect_len) {
        static char buf[4096];
        static char scratch2[MAX_LINE];
        bool reply = f->kind >= MQL_IPC_OK;
        ssize_t size = mql_ipc_size(f);
        struct mql_ipc_parser p = new_parser();
        struct mql_ipc_frame g;

        assert_true(size > 0);
        assert_int_equal(mql_ipc_format(f, buf, (size_t)size - 1), -ENOBUFS);
        assert_int_equal(mql_ipc_format(f, buf, sizeof(buf)), size);
        if (expect) {
                assert_int_equal(size, expect_len);
                assert_memory_equal(buf, expect, size);
        }
        ssize_t r = reply ? mql_ipc_parse_reply(&p, buf, size, scratch2, sizeof(scratch2), &g)
                          : mql_ipc_parse_command(&p, buf, size, scratch2, sizeof(scratch2), &g);
        assert_int_equal(r, size);
        assert_null(g.error);
        assert_frames_equal(f, &g);
}

/* For expected text without NUL bytes. */
static void rt(const struct mql_ipc_frame *f, const char *expect) {
        round_trip(f, expect, strlen(expect));
}

static void test_round_trip(void **state) {
        (void)state;
        struct mql_ipc_frame f = {
                .kind = MQL_IPC_PUB,
                .topic = { "a b/%=\x7f/\xc3\xa9", 10 },
                .payload = { "x\n\0y", 4 },
                .broker = { "my broker", 9 },
                .qos = 1,
                .retain = true,
                .has_expiry = true,
                .expiry = 60,
                .ctype = { "text/plain; charset=utf-8", 25 },
                .rtopic = { "reply/to", 8 },
                .corr = { "\x00\x01\xfe", 3 },
                .has_fmt = true,
                .fmt = 0,
                .n_user = 2,
                .user = { { { "k=1", 3 }, { "", 0 } }, { { "k", 1 }, { "v v", 3 } } },
        };
        static const char want[] =
                "PUB a%20b/%25%3D%7F/\xc3\xa9 4 broker=my%20broker qos=1 retain=1 "
                "expiry=60 ctype=text/plain;%20charset%3Dutf-8 rtopic=reply/to "
                "corr=0001FE fmt=0 u.k%3D1= u.k=v%20v\nx\n\0y\n";
        round_trip(&f, want, sizeof(want) - 1);

        f.kind = MQL_IPC_MSG;
        f.sid = (struct mql_ipc_str){ "sub-1", 5 };
        round_trip(&f, NULL, 0);

        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_PUB, .topic = { "t", 1 } }, "PUB t 0\n\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_SUB,
                                    .sid = { "1", 1 },
                                    .topic = { "a/+/#", 5 },
                                    .broker = { "b", 1 },
                                    .qos = 2,
                                    .no_local = true,
                                    .retain_as_published = true,
                                    .retain_handling = 1 },
           "SUB 1 a/+/# broker=b qos=2 nl=1 rap=1 rh=1\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_UNSUB, .sid = { "x", 1 } }, "UNSUB x\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_PING }, "PING\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_STATUS }, "STATUS\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_PONG }, "PONG\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_OK }, "+OK\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_OK,
                                    .has_payload = true,
                                    .payload = { "{}", 2 } },
           "+OK 2\n{}\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_ERR,
                                    .code = { "refused", 7 },
                                    .text = { " 100% \r\nno", 10 } },
           "-ERR refused %20100%25 %0D%0Ano\n");
        rt(&(struct mql_ipc_frame){ .kind = MQL_IPC_ERR, .code = { "queue-full", 10 } },
           "-ERR queue-full\n");
}

static void test_format_invalid(void **state) {
        char buf[256];
        (void)state;
        const struct mql_ipc_frame bad[] = {
                { .kind = MQL_IPC_NONE },
                { .kind = MQL_IPC_PUB, .topic = { "a/+", 3 } },
                { .kind = MQL_IPC_PUB, .topic = { "", 0 } },
                { .kind = MQL_IPC_PUB, .topic = { "\xff", 1 } },
                { .kind = MQL_IPC_PUB, .topic = { "a", 1 }, .qos = 3 },
                { .kind = MQL_IPC_PUB, .topic = { "a", 1 }, .has_fmt = true, .fmt = 2 },
                { .kind = MQL_IPC_PUB, .topic = { "a", 1 }, .rtopic = { "#", 1 } },
                { .kind = MQL_IPC_PUB, .topic = { "a", 1 }, .n_user = 33 },
                { .kind = MQL_IPC_PUB, .topic = { "a", 1 }, .n_user = 1 },
                { .kind = MQL_IPC_MSG, .topic = { "a", 1 } },
                { .kind = MQL_IPC_MSG, .topic = { "a", 1 }, .sid = { "a b", 3 } },
                { .kind = MQL_IPC_SUB, .sid = { "1", 1 }, .topic = { "a#", 2 } },
                { .kind = MQL_IPC_SUB,
                  .sid = { "1", 1 },
                  .topic = { "a", 1 },
                  .retain_handling = 3 },
                { .kind = MQL_IPC_UNSUB },
                { .kind = MQL_IPC_ERR, .code = { "a b", 3 } },
        };
        for (size_t i = 0; i < ELEMENTS(bad); i++) {
                if (mql_ipc_size(&bad[i]) != -EINVAL ||
                    mql_ipc_format(&bad[i], buf, sizeof(buf)) != -EINVAL)
                        fail_msg("format case %zu accepted", i);
        }
        assert_int_equal(mql_ipc_format(&(struct mql_ipc_frame){ .kind = MQL_IPC_PING }, NULL, 0),
                         -ENOBUFS);
}

static void test_init_and_args(void **state) {
        struct mql_ipc_parser p;
        struct mql_ipc_frame f;
        char small[8];
        (void)state;

        assert_int_equal(mql_ipc_parser_init(&p, 0, 0), 0);
        assert_int_equal(p.max_line, MQL_IPC_LINE_MAX_DEFAULT);
        assert_int_equal(p.max_payload, MQL_IPC_PAYLOAD_MAX_DEFAULT);
        assert_int_equal(mql_ipc_parser_init(&p, 15, 0), -EINVAL);
        assert_int_equal(mql_ipc_parser_init(&p, 0, SIZE_MAX), -EINVAL);
        p = new_parser();
        assert_int_equal(mql_ipc_parse_command(&p, "PING\n", 5, small, sizeof(small), &f), -EINVAL);
        assert_int_equal(mql_ipc_parse_command(&p, "", 0, scratch, sizeof(scratch), &f), 0);
        assert_string_equal(mql_ipc_kind_str(MQL_IPC_ERR), "-ERR");
        assert_null(mql_ipc_kind_str(MQL_IPC_NONE));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_table),
                cmocka_unit_test(test_33_user_props),
                cmocka_unit_test(test_long_line),
                cmocka_unit_test(test_too_large_skips),
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_pub_every_option),
                cmocka_unit_test(test_escapes_and_binary),
                cmocka_unit_test(test_sub_and_replies),
                cmocka_unit_test(test_pipelined),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_format_invalid),
                cmocka_unit_test(test_init_and_args),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * mqlinkd against hostile local input: one daemon (and one mosquitto) for
 * the whole run, fed a table of byte strings on fresh connections. Each row
 * says what must come back: reply lines (matched on their first words, e.g.
 * "-ERR bad-command") or CLOSE. After every row the same connection, unless
 * closed, still answers PING with PONG and nothing else, a fresh connection
 * does too, and the daemon is still running.
 *
 * Then the load cases: pipelined PINGs never read, a subscriber that never
 * reads 20 MiB of messages, and SIGTERM at the end, which must exit 0 with
 * no sanitizer report in the daemon's stderr.
 *
 * The daemon runs with client_output_max = 256K and client_stall = 1, so
 * that slow clients are dealt with quickly.
 */
#define _GNU_SOURCE 1
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "daemon-harness.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#define OUTPUT_MAX (256u * 1024u)
#define MAX_LINE (64u * 1024u)
#define MAX_PAYLOAD (1024u * 1024u)

/* ------------------------------------------------------- the daemon */

static struct dh_daemon daemon_ = DH_DAEMON_INIT;
static struct test_broker broker = TEST_BROKER_INIT;
static bool ready;             /* the first test started both */
static bool skipping;          /* no daemon or no mosquitto: everything skips */
static bool all_passed = true; /* the test running now has passed */
static bool any_failed;        /* one before it failed */

/* Brackets a test: a failure leaves all_passed false, which the next test
 * or the group teardown notices, and the logs are dumped once at the end. */
/* The connections of the test running now: a failed test leaves them
 * open, the next one closes them. */
static struct dh_conn conns[4] = { DH_CONN_INIT, DH_CONN_INIT, DH_CONN_INIT, DH_CONN_INIT };

static void begin(void) {
        if (!all_passed)
                any_failed = true;
        all_passed = false;
        for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++)
                dh_close(&conns[i]);
}

static bool attempted; /* test_start ran */

static void test_start(void **state);

/* Starts the daemon if no test did yet (MQL_TEST_FILTER may leave out
 * "start"). */
static void need_ready(void) {
        if (!attempted)
                test_start(NULL);
        if (skipping)
                skip();
        if (!ready)
                fail_msg("the daemon did not start (see the first test)");
}

static void test_start(void **state) {
        char *conf = NULL;

        if (attempted) {
                if (skipping)
                        skip();
                assert_true(ready);
                return;
        }
        attempted = true;

        if (!getenv("MQLINKD") || !*getenv("MQLINKD") || !dh_find_program("mosquitto")) {
                skipping = true;
                fprintf(stderr, "# skip: MQLINKD is not set or mosquitto is missing\n");
                skip();
        }
        all_passed = false;
        dh_must_start_broker(&broker, NULL);
        dh_conf_daemon(&conf, &daemon_,
                       "client_output_max = 256K\nclient_stall = 1\nmax_line = 64K\n"
                       "max_payload = 1M\n");
        dh_conf_broker(&conf, "a", broker.port, NULL);
        /* Under ASan, freed memory waits in a quarantine (256 MiB by
         * default) and counts in RSS: keep it small, so that the memory
         * bound of the slow-subscriber test means the same with and
         * without. Harmless without ASan. */
        const char *asan = getenv("ASAN_OPTIONS");
        char *asan_env = dh_strf("ASAN_OPTIONS=%s%squarantine_size_mb=8", asan ? asan : "",
                                 asan && *asan ? ":" : "");
        char *env[] = { asan_env, NULL };
        dh_must_start_daemon(&daemon_, conf, env);
        free(asan_env);
        free(conf);
        if (!dh_wait_broker_state(daemon_.sock, "a", "connected", DH_TIMEOUT_MS))
                fail_msg("broker a did not connect");
        ready = true;
        all_passed = true;
}

/* Any failure dumps the logs once, at the end. */
static int group_teardown(void **state) {
        if (!all_passed || any_failed) {
                dh_daemon_dump_log(&daemon_);
                if (broker.dir[0])
                        test_broker_dump_log(&broker, stderr, 4000);
        }
        dh_daemon_cleanup(&daemon_);
        test_broker_stop(&broker);
        return 0;
}

static void check_alive(void) {
        if (!dh_daemon_running(&daemon_))
                fail_msg("mqlinkd is gone: %s", dh_status_str(daemon_.status));
}

/* ------------------------------------------------------------ the table */

#define CLOSE "CLOSE"

enum {
        F_NO_FOLLOW = 1, /* the connection cannot go on (skipping a huge payload) */
        F_SHUT_WR = 2,   /* shutdown(SHUT_WR) after sending */
        F_DROP = 4,      /* close at once after sending, read nothing */
};

struct row {
        const char *name;
        const char *bytes;
        size_t len;
        char *(*make)(size_t *len); /* instead of bytes: built at run time */
        const char *expect[5];
        unsigned flags;
};

#define R(name_, lit_, ...)                                                                      \
        {                                                                                        \
                .name = name_, .bytes = lit_, .len = sizeof(lit_) - 1, .expect = { __VA_ARGS__ } \
        }
#define RF(name_, lit_, flags_, ...)                                                    \
        {                                                                               \
                .name = name_, .bytes = lit_, .len = sizeof(lit_) - 1, .flags = flags_, \
                .expect = {                                                             \
                        __VA_ARGS__                                                     \
                }                                                                       \
        }
#define D(name_, make_, ...)                                            \
        {                                                               \
                .name = name_, .make = make_, .expect = { __VA_ARGS__ } \
        }

static char *repeat(const char *head, char fill, size_t n, const char *tail, size_t *len) {
        size_t h = strlen(head), t = strlen(tail);
        char *s = malloc(h + n + t + 1);
        if (!s)
                abort();
        memcpy(s, head, h);
        memset(s + h, fill, n);
        memcpy(s + h + n, tail, t + 1);
        *len = h + n + t;
        return s;
}

/* One byte over max_payload, sent in full: the payload is a run of PING
 * lines, which the daemon must skip, not answer. */
static char *make_too_large(size_t *len) {
        size_t n = MAX_PAYLOAD + 1;
        char *s = NULL;
        dh_cat(&s, "PUB t %zu\n", n);
        size_t h = strlen(s);
        s = realloc(s, h + n + 2);
        if (!s)
                abort();
        for (size_t i = 0; i < n; i++)
                s[h + i] = "PING\n"[i % 5];
        s[h + n] = '\n';
        *len = h + n + 1;
        return s;
}

static char *make_u_props(unsigned n, size_t *len) {
        char *s = NULL;
        dh_cat(&s, "PUB t 1");
        for (unsigned i = 0; i < n; i++)
                dh_cat(&s, " u.k%u=v", i);
        dh_cat(&s, "\nx\n");
        *len = strlen(s);
        return s;
}

static char *make_33u(size_t *len) {
        return make_u_props(33, len);
}

static char *make_32u(size_t *len) {
        return make_u_props(32, len);
}

static char *make_sid65(size_t *len) {
        return repeat("SUB ", 's', 65, " t\n", len);
}

static char *make_sid64(size_t *len) {
        return repeat("SUB ", 's', 64, " t\n", len);
}

/* The longest line: max_line bytes with its "\n" (an unknown verb). */
static char *make_line_max(size_t *len) {
        return repeat("", 'a', MAX_LINE - 1, "\n", len);
}

static char *make_line_over(size_t *len) {
        return repeat("", 'a', MAX_LINE, "\n", len);
}

static char *make_mib_line(size_t *len) {
        return repeat("PUB ", 'a', 1024 * 1024, "", len);
}

/* A topic as long as a line allows: accepted (MQTT allows 65535 bytes). */
static char *make_long_topic(size_t *len) {
        return repeat("PUB ", 't', 60000, " 1 qos=1\nx\n", len);
}

static const struct row rows[] = {
        /* Verbs and framing. */
        R("unknown verb", "FOO bar\n", "-ERR bad-command"),
        R("NUL as the verb", "\0\n", "-ERR bad-command"),
        R("NUL inside a verb", "PI\0NG\n", "-ERR bad-command"),
        R("a reply verb from a client", "PONG\n", "-ERR bad-command"),
        R("MSG from a client: two unknown lines", "MSG s t 1\nx\n", "-ERR bad-command",
          "-ERR bad-command"),
        R("empty PUB", "PUB\n", "-ERR bad-command"),
        R("PUB without byte count", "PUB t\n", "-ERR bad-command"),
        R("empty topic (two spaces)", "PUB  0\n\n", "-ERR bad-command"),
        R("PUB with an extra argument after the options", "PUB t 1 qos=1 extra\nx\n",
          "-ERR bad-option"),
        /* Framing lost: a last -ERR says why, then the daemon closes. */
        R("byte count -1", "PUB t -1\nx\n", "-ERR bad-command", CLOSE),
        R("byte count +5", "PUB t +5\nhello\n", "-ERR bad-command", CLOSE),
        R("byte count 5x", "PUB t 5x\nhello\n", "-ERR bad-command", CLOSE),
        R("byte count 0x5", "PUB t 0x5\nhello\n", "-ERR bad-command", CLOSE),
        R("byte count 21 digits", "PUB t 100000000000000000000\nx\n", "-ERR bad-command", CLOSE),
        R("byte count over SIZE_MAX", "PUB t 99999999999999999999\nx\n", "-ERR bad-command", CLOSE),
        RF("byte count 99999999999: too large", "PUB t 99999999999\n", F_NO_FOLLOW,
           "-ERR too-large"),
        D("too large by one byte: payload skipped", make_too_large, "-ERR too-large"),
        R("payload not followed by \\n", "PUB t 3\nabcXPING\n", "-ERR bad-command", CLOSE),
        R("payload followed by \\r and not \\n", "PUB t 3\nabc\rXPING\n", "-ERR bad-command",
          CLOSE),
        R("0-byte payload without its \\n", "PUB t 0\nPING\n", "-ERR bad-command", CLOSE),
        R("payload followed by \\r\\n", "PUB t 3\nabc\r\n", "+OK"),
        R("0-byte payload", "PUB t 0\n\n", "+OK"),
        /* Topics. */
        R("PUB topic with +", "PUB a/+ 1\nx\n", "-ERR bad-topic"),
        R("PUB topic with #", "PUB a/# 1\nx\n", "-ERR bad-topic"),
        R("PUB topic %FF (invalid UTF-8)", "PUB a%FFb 1\nx\n", "-ERR bad-topic"),
        R("PUB topic raw 0xFF",
          "PUB a\xff"
          "b 1\nx\n",
          "-ERR bad-topic"),
        R("PUB topic overlong UTF-8 %C0%80", "PUB a%C0%80 1\nx\n", "-ERR bad-topic"),
        R("PUB topic UTF-16 surrogate %ED%A0%80", "PUB a%ED%A0%80 1\nx\n", "-ERR bad-topic"),
        R("PUB topic with NUL via %00", "PUB a%00b 1\nx\n", "-ERR bad-topic"),
        R("PUB topic with raw NUL", "PUB a\0b 1\nx\n", "-ERR bad-topic"),
        R("PUB topic with raw control byte", "PUB a\x01 1\nx\n", "-ERR bad-topic"),
        R("PUB topic bad escape %zz", "PUB a%zz 1\nx\n", "-ERR bad-topic"),
        R("PUB topic truncated escape", "PUB a% 1\nx\n", "-ERR bad-topic"),
        R("PUB topic with UTF-8 and escapes", "PUB \xc3\xa9t\xc3\xa9/a%20b%25 1\nx\n", "+OK"),
        D("PUB topic of 60000 bytes", make_long_topic, "+OK"),
        /* PUB options. */
        R("qos=3", "PUB t 1 qos=3\nx\n", "-ERR bad-option"),
        R("qos=x", "PUB t 1 qos=x\nx\n", "-ERR bad-option"),
        R("qos=01", "PUB t 1 qos=01\nx\n", "-ERR bad-option"),
        R("retain=2", "PUB t 1 retain=2\nx\n", "-ERR bad-option"),
        R("unknown option", "PUB t 1 color=red\nx\n", "-ERR bad-option"),
        R("SUB option on PUB (nl=1)", "PUB t 1 nl=1\nx\n", "-ERR bad-option"),
        R("option names are case-sensitive", "PUB t 1 QOS=1\nx\n", "-ERR bad-option"),
        R("repeated option", "PUB t 1 qos=1 qos=1\nx\n", "-ERR bad-option"),
        R("option without =", "PUB t 1 qos\nx\n", "-ERR bad-option"),
        R("empty option value", "PUB t 1 qos=\nx\n", "-ERR bad-option"),
        R("empty broker=", "PUB t 1 broker=\nx\n", "-ERR bad-option"),
        D("33 u. properties", make_33u, "-ERR bad-option"),
        D("32 u. properties", make_32u, "+OK"),
        R("u. with an empty name", "PUB t 1 u.=v\nx\n", "-ERR bad-option"),
        R("u. value with a bad escape", "PUB t 1 u.k=%G0\nx\n", "-ERR bad-option"),
        R("u. value with invalid UTF-8", "PUB t 1 u.k=%FF\nx\n", "-ERR bad-option"),
        R("corr with an odd number of hex digits", "PUB t 1 corr=abc\nx\n", "-ERR bad-option"),
        R("corr not hex", "PUB t 1 corr=zz\nx\n", "-ERR bad-option"),
        R("expiry too big", "PUB t 1 expiry=4294967296\nx\n", "-ERR bad-option"),
        R("expiry negative", "PUB t 1 expiry=-1\nx\n", "-ERR bad-option"),
        R("expiry at its maximum", "PUB t 1 expiry=4294967295\nx\n", "+OK"),
        R("fmt=2", "PUB t 1 fmt=2\nx\n", "-ERR bad-option"),
        R("rtopic with a wildcard", "PUB t 1 rtopic=a/#\nx\n", "-ERR bad-option"),
        R("every MQTT 5 option",
          "PUB t 1 qos=2 retain=0 expiry=30 ctype=text/plain rtopic=r/t "
          "corr=0a1B fmt=1 u.k%3D=v%20w u.k%3D=again\nx\n",
          "+OK"),
        R("PUB broker=nope", "PUB t 1 broker=nope\nx\n", "-ERR no-broker"),
        /* SUB and UNSUB. */
        R("SUB without arguments", "SUB\n", "-ERR bad-command"),
        R("SUB without filter", "SUB s1\n", "-ERR bad-command"),
        R("SUB filter a/#/b", "SUB s1 a/#/b\n", "-ERR bad-topic"),
        R("SUB filter a+/b", "SUB s1 a+/b\n", "-ERR bad-topic"),
        R("SUB filter with %00", "SUB s1 a/%00\n", "-ERR bad-topic"),
        R("SUB $share without a filter", "SUB s1 $share/g\n", "-ERR bad-topic"),
        R("SUB qos=3", "SUB s1 a qos=3\n", "-ERR bad-option"),
        R("SUB rh=3", "SUB s1 a rh=3\n", "-ERR bad-option"),
        R("SUB with a PUB option (retain=1)", "SUB s1 a retain=1\n", "-ERR bad-option"),
        R("SUB with a user property", "SUB s1 a u.k=v\n", "-ERR bad-option"),
        D("sid of 65 bytes", make_sid65, "-ERR bad-sid"),
        D("sid of 64 bytes", make_sid64, "+OK"),
        R("sid with a control byte", "SUB a\x01z t\n", "-ERR bad-sid"),
        R("sid with DEL", "SUB a\x7fz t\n", "-ERR bad-sid"),
        R("sid already in use", "SUB s t/1\nSUB s t/2\n", "+OK", "-ERR bad-sid"),
        R("SUB with every option", "SUB s in/# qos=2 nl=1 rap=1 rh=2 broker=a\n", "+OK"),
        R("SUB $share", "SUB s $share/g/in/+\n", "+OK"),
        R("SUB broker=nope", "SUB s1 a broker=nope\n", "-ERR no-broker"),
        R("UNSUB of an unknown sid", "UNSUB nope\n", "-ERR not-subscribed"),
        R("UNSUB without sid", "UNSUB\n", "-ERR bad-command"),
        R("UNSUB with an extra argument", "UNSUB a b\n", "-ERR bad-command"),
        /* Read at once, so the UNSUB comes before the SUBACK: the SUB is
         * answered that it was withdrawn. */
        R("SUB, UNSUB, UNSUB again", "SUB s t/u\nUNSUB s\nUNSUB s\n", "-ERR not-subscribed", "+OK",
          "-ERR not-subscribed"),
        /* Both lines are read at once, so the SUBACK cannot come between:
         * the SUB is answered that it was withdrawn, then the UNSUB. */
        R("UNSUB before the SUBACK", "SUB s t/early\nUNSUB s\n", "-ERR not-subscribed", "+OK"),
        /* PING, STATUS, lines. */
        R("PING with an argument", "PING now\n", "-ERR bad-command"),
        R("STATUS with an argument", "STATUS all\n", "-ERR bad-command"),
        R("lowercase verbs", "ping\npub t 1\nx\n", "PONG", "+OK"),
        R("mixed-case verbs", "pUb t 1 qos=1\nx\nsUb s t/m\nStAtUs\nuNsUb nope\n", "+OK", "+OK",
          "+OK", "-ERR not-subscribed"),
        R("\\r\\n line endings", "PING\r\nPUB t 1 qos=1\r\nx\r\nSUB s t/crlf\r\n", "PONG", "+OK",
          "+OK"),
        R("blank lines ignored", "\n\r\n   \n \r\n\nPING\n", "PONG"),
        R("runs of spaces between tokens", "PUB   t    1    qos=1  \nx\n", "+OK"),
        D("the longest line (64 KiB with its \\n)", make_line_max, "-ERR bad-command"),
        D("a line one byte too long", make_line_over, "-ERR bad-command", CLOSE),
        D("1 MiB line without a newline", make_mib_line, "-ERR bad-command", CLOSE),
        /* Ends of connections. */
        RF("half a payload, then shutdown", "PUB t 10\nhello", F_SHUT_WR, CLOSE),
        RF("half a line, then shutdown", "PIN", F_SHUT_WR, CLOSE),
        RF("a whole command, then shutdown", "PING\nPUB t 1 qos=1\nx\n", F_SHUT_WR, "PONG", "+OK",
           CLOSE),
        RF("half a payload, then close", "PUB t 10\nhello", F_DROP, NULL),
        RF("commands, then close without reading", "SUB s t/#\nPUB t 1 qos=1\nx\nSTATUS\n", F_DROP,
           NULL),
};

/* The reply's first words are `want`: the whole line, or followed by a
 * space ("-ERR bad-command unknown command", "+OK 312"). */
static void expect_reply(struct dh_conn *c, const char *want) {
        struct dh_frame f;
        size_t n = strlen(want);

        dh_must_read(c, &f);
        bool ok = strncmp(f.line, want, n) == 0 && (f.line[n] == '\0' || f.line[n] == ' ');
        if (!ok) {
                char got[300];
                snprintf(got, sizeof got, "%s", f.line);
                dh_frame_done(&f);
                fail_msg("expected \"%s\", got \"%s\"", want, got);
        }
        fprintf(stderr, "#   %s\n", f.line);
        dh_frame_done(&f);
}

static void run_row(void **state) {
        const struct row *row = *state;
        struct dh_conn *c = &conns[0];
        char *made = NULL;
        const char *bytes = row->bytes;
        size_t len = row->len;
        bool closes = false;

        need_ready();
        begin();
        if (row->make)
                bytes = made = row->make(&len);
        for (size_t i = 0; i < N_ELEMENTS(row->expect) && row->expect[i]; i++)
                closes = closes || strcmp(row->expect[i], CLOSE) == 0;

        dh_must_connect(c, daemon_.sock);
        int r = dh_send(c, bytes, len);
        /* The daemon may close before it has read everything. */
        if (r < 0 && !(closes && (r == -EPIPE || r == -ECONNRESET)))
                fail_msg("sending: %s", strerror(-r));
        free(made);
        if (row->flags & F_SHUT_WR)
                assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
        if (row->flags & F_DROP) {
                dh_close(c);
        } else {
                for (size_t i = 0; i < N_ELEMENTS(row->expect) && row->expect[i]; i++) {
                        if (strcmp(row->expect[i], CLOSE) == 0)
                                dh_expect_closed(c, DH_TIMEOUT_MS, NULL);
                        else
                                expect_reply(c, row->expect[i]);
                }
                if (!closes && !(row->flags & F_NO_FOLLOW)) {
                        dh_must_ping(c);
                        dh_expect_quiet(c, 20);
                }
                dh_close(c);
        }
        check_alive();
        dh_must_ping_fresh(daemon_.sock);
        all_passed = true;
}

/* The -ERR that precedes a close is text for people: no escaped bytes
 * that were never in the message. */
static void test_close_reason_text(void **state) {
        static const char *const inputs[] = { "PUB t 5x\nhello\n", "PUB t 3\nabcX" };
        struct dh_conn *c = &conns[0];

        need_ready();
        begin();
        for (size_t i = 0; i < N_ELEMENTS(inputs); i++) {
                struct dh_frame f;
                dh_must_connect(c, daemon_.sock);
                dh_must_send(c, inputs[i], strlen(inputs[i]));
                dh_must_read(c, &f);
                fprintf(stderr, "# %s\n", f.line);
                assert_null(strstr(f.line, "%00"));
                assert_true(strncmp(f.line, "-ERR bad-command ", 17) == 0);
                assert_non_null(strstr(f.line, "closing"));
                dh_frame_done(&f);
                dh_expect_closed(c, DH_TIMEOUT_MS, NULL);
                dh_close(c);
        }
        all_passed = true;
}

/* ------------------------------------------------------------ the flood */

static char *pings(size_t n, size_t *len) {
        char *s = malloc(n * 5);
        if (!s)
                abort();
        for (size_t i = 0; i < n; i++)
                memcpy(s + i * 5, "PING\n", 5);
        *len = n * 5;
        return s;
}

static int64_t ping_ms(struct dh_conn *c) {
        int64_t t0 = dh_now_ms();
        dh_must_ping(c);
        return dh_now_ms() - t0;
}

/* Reads exactly n PONGs. */
static void read_pongs(struct dh_conn *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct dh_frame f;
                int r = dh_read_frame(c, DH_TIMEOUT_MS, &f);
                if (r != 1)
                        fail_msg("PONG %zu of %zu: %s", i + 1, n, r == 0 ? "closed" : strerror(-r));
                if (strcmp(f.line, "PONG") != 0)
                        fail_msg("reply %zu: \"%s\" instead of PONG", i + 1, f.line);
                dh_frame_done(&f);
        }
}

/* 20000 PINGs written at once, no reply read meanwhile: another client is
 * answered at once, and then all 20000 PONGs come, none lost. */
static void test_flood_pings(void **state) {
        struct dh_conn *c = &conns[0], *other = &conns[1];
        size_t len;

        need_ready();
        begin();
        char *buf = pings(20000, &len);
        dh_must_connect(c, daemon_.sock);
        dh_must_connect(other, daemon_.sock);
        dh_must_send(c, buf, len);
        free(buf);
        int64_t ms = ping_ms(other);
        fprintf(stderr, "# another client's PING during the flood: %lld ms\n", (long long)ms);
        if (ms >= 200)
                fail_msg("another client waited %lld ms for PONG", (long long)ms);
        read_pongs(c, 20000);
        dh_expect_quiet(c, 50);
        dh_must_ping(c);
        dh_close(c);
        dh_close(other);
        check_alive();
        all_passed = true;
}

/* 1 MB of PINGs, more than the socket buffers and client_output_max hold:
 * the daemon stops reading this client (our writes stall), keeps answering
 * others, and once we read, every PONG arrives. */
static void test_flood_backpressure(void **state) {
        const size_t n = 200000;
        struct dh_conn *c = &conns[0], *other = &conns[1];
        size_t len, sent = 0, got = 0;

        need_ready();
        begin();
        char *buf = pings(n, &len);
        dh_must_connect(c, daemon_.sock);
        dh_must_connect(other, daemon_.sock);

        /* Write until the daemon stops taking bytes for 100 ms. All this,
         * until we read again, must stay well within client_stall (1 s):
         * the daemon's output is full from some moment in here on, and a
         * client that reads nothing for client_stall is disconnected. */
        int64_t stalled_since = 0, t_start = dh_now_ms();
        while (sent < len) {
                ssize_t w = send(c->fd, buf + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                        sent += (size_t)w;
                        stalled_since = 0;
                        continue;
                }
                if (w < 0 && errno != EAGAIN)
                        fail_msg("send: %s", strerror(errno));
                if (!stalled_since)
                        stalled_since = dh_now_ms();
                else if (dh_now_ms() - stalled_since >= 100)
                        break;
                dh_nap(2);
        }
        fprintf(stderr, "# the daemon paused after %zu of %zu bytes (%lld ms)\n", sent, len,
                (long long)(dh_now_ms() - t_start));
        assert_true(sent < len);
        int64_t ms = ping_ms(other);
        fprintf(stderr, "# another client's PING meanwhile: %lld ms\n", (long long)ms);
        if (ms >= 200)
                fail_msg("another client waited %lld ms for PONG", (long long)ms);
        char *doc = dh_must_status_at(daemon_.sock);
        uint64_t out = 0;
        const char *p = strstr(doc, "\"output_bytes\":");
        for (; p; p = strstr(p + 1, "\"output_bytes\":")) {
                uint64_t v;
                if (dh_json_u64(p, "output_bytes", &v) && v > out)
                        out = v;
        }
        fprintf(stderr, "# largest output_bytes in STATUS: %llu\n", (unsigned long long)out);
        free(doc);
        long rss0 = dh_rss_kib(daemon_.pid);
        fprintf(stderr, "# reading from %lld ms on\n", (long long)(dh_now_ms() - t_start));

        /* Now read and write together until every PONG is in. */
        int64_t deadline = dh_now_ms() + 30000;
        while (got < n) {
                if (dh_now_ms() > deadline)
                        fail_msg("%zu of %zu PONGs after 30 s (%zu bytes sent)", got, n, sent);
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN | (sent < len ? POLLOUT : 0) };
                (void)poll(&pfd, 1, 100);
                if (sent < len && (pfd.revents & POLLOUT)) {
                        ssize_t w =
                                send(c->fd, buf + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (w > 0)
                                sent += (size_t)w;
                }
                for (;;) {
                        struct dh_frame f;
                        int r = dh_read_frame(c, 0, &f);
                        if (r == -ETIMEDOUT)
                                break;
                        if (r != 1)
                                fail_msg("after %zu PONGs: %s", got,
                                         r == 0 ? "closed" : strerror(-r));
                        if (strcmp(f.line, "PONG") != 0)
                                fail_msg("reply %zu: \"%s\"", got + 1, f.line);
                        dh_frame_done(&f);
                        got++;
                }
        }
        free(buf);
        dh_expect_quiet(c, 50);
        dh_must_ping(c);
        long rss1 = dh_rss_kib(daemon_.pid);
        fprintf(stderr, "# RSS %ld KiB while paused, %ld KiB after\n", rss0, rss1);
        dh_close(c);
        dh_close(other);
        check_alive();
        all_passed = true;
}

/* ------------------------------------------------------- a slow reader */

#define SLOW_MSG (64u * 1024u)
#define SLOW_TOTAL (20u * 1024u * 1024u)

/* The "subscriptions" and "dropped" of the client holding `subs`
 * subscriptions in a STATUS document; false if there is none. */
static bool client_with_subs(const char *doc, uint64_t subs, uint64_t *dropped) {
        const char *clients = dh_json_find(doc, "clients");
        for (const char *p = clients; p && (p = strstr(p, "{\"id\":")); p++) {
                uint64_t s;
                if (dh_json_u64(p, "subscriptions", &s) && s == subs)
                        return dh_json_u64(p, "dropped", dropped);
        }
        return false;
}

/* A subscriber that never reads while 20 MiB of QoS 0 messages come for
 * it: others are served promptly, the daemon's memory stays bounded, the
 * subscriber loses messages (dropped > 0) or is disconnected, and is
 * disconnected client_stall after its queue filled; what it was sent is
 * whole frames up to the cut. */
static void test_slow_subscriber(void **state) {
        struct dh_conn *slow = &conns[0], *pub = &conns[1], *other = &conns[2];
        int64_t worst = 0;
        uint64_t dropped = 0;

        need_ready();
        begin();
        dh_must_connect(slow, daemon_.sock);
        dh_must_connect(pub, daemon_.sock);
        dh_must_connect(other, daemon_.sock);
        dh_must_sub(slow, "slow", "slow/#", NULL);
        /* A small receive buffer: the backlog builds up in the daemon,
         * not in our socket. */
        int rcv = 4096;
        (void)setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);

        long rss0 = dh_rss_kib(daemon_.pid);
        char *payload = malloc(SLOW_MSG);
        assert_non_null(payload);
        memset(payload, 'z', SLOW_MSG);
        size_t n = SLOW_TOTAL / SLOW_MSG;
        for (size_t i = 0; i < n; i++) {
                dh_must_sendf(pub, "PUB slow/%zu %u\n", i, SLOW_MSG);
                dh_must_send(pub, payload, SLOW_MSG);
                dh_must_send(pub, "\n", 1);
                dh_expect_line(pub, "+OK");
                if (i % 32 == 0) {
                        int64_t ms = ping_ms(other);
                        if (ms > worst)
                                worst = ms;
                }
        }
        free(payload);
        fprintf(stderr,
                "# %zu messages of %u bytes published; slowest PING of another "
                "client: %lld ms\n",
                n, SLOW_MSG, (long long)worst);
        if (worst >= 500)
                fail_msg("another client waited %lld ms for PONG", (long long)worst);

        /* Dropped messages, or (after client_stall = 1 s) disconnected. */
        bool gone = false;
        if (!DH_WAIT_FOR(({
                                 char *doc = dh_must_status_at(daemon_.sock);
                                 bool found = client_with_subs(doc, 1, &dropped);
                                 free(doc);
                                 gone = !found;
                                 gone || dropped > 0;
                         }),
                         DH_TIMEOUT_MS))
                fail_msg("the slow subscriber lost nothing and is still connected");
        long rss1 = dh_rss_kib(daemon_.pid);
        fprintf(stderr, "# slow subscriber: %s, %llu dropped; RSS %ld -> %ld KiB\n",
                gone ? "disconnected" : "connected", (unsigned long long)dropped, rss0, rss1);
        if (rss0 > 0 && rss1 > 0 && rss1 - rss0 >= 64 * 1024)
                fail_msg("the daemon grew by %ld KiB", rss1 - rss0);
        /* Its queue stays full: client_stall (1 s) later it is gone. */
        int64_t t0 = dh_now_ms();
        if (!DH_WAIT_FOR(({
                                 char *doc = dh_must_status_at(daemon_.sock);
                                 uint64_t d;
                                 bool found = client_with_subs(doc, 1, &d);
                                 free(doc);
                                 !found;
                         }),
                         DH_TIMEOUT_MS))
                fail_msg("the slow subscriber is still connected %d ms after its queue filled "
                         "(client_stall = 1)",
                         DH_TIMEOUT_MS);
        fprintf(stderr, "# the slow subscriber was disconnected %lld ms later\n",
                (long long)(dh_now_ms() - t0));

        /* What it was sent is whole frames, then the end or quiet. */
        size_t frames = 0;
        for (;;) {
                struct dh_frame f;
                int r = dh_read_frame(slow, 2000, &f);
                /* Cut off: the end may fall inside a frame (-EPIPE), whatever
                 * the daemon had written of it when it gave up. */
                if (r == 0 || r == -ECONNRESET || r == -EPIPE)
                        break;
                if (r < 0)
                        fail_msg("slow subscriber's stream after %zu frames: %s", frames,
                                 strerror(-r));
                if (strncmp(f.line, "MSG slow slow/", 14) != 0 || f.len != SLOW_MSG)
                        fail_msg("slow subscriber got \"%s\" (%zu bytes)", f.line, f.len);
                dh_frame_done(&f);
                frames++;
        }
        fprintf(stderr, "# the slow subscriber read %zu whole messages, then the end\n", frames);
        assert_true(frames < n);
        dh_close(slow);
        dh_must_ping(other);
        dh_close(pub);
        dh_close(other);
        check_alive();
        all_passed = true;
}

/* A QoS 1 subscriber that never reads: its messages are not dropped (only
 * QoS 0 may be lost); at twice client_output_max it is disconnected. */
static void test_slow_subscriber_qos1(void **state) {
        struct dh_conn *slow = &conns[0], *pub = &conns[1];

        need_ready();
        begin();
        dh_must_connect(slow, daemon_.sock);
        dh_must_connect(pub, daemon_.sock);
        dh_must_sub(slow, "slow1", "slowq/#", " qos=1");
        int rcv = 4096;
        (void)setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
        size_t before = dh_file_count(daemon_.log, "bytes of messages unread", NULL);

        char *payload = malloc(SLOW_MSG);
        assert_non_null(payload);
        memset(payload, 'q', SLOW_MSG);
        size_t n = 4 * OUTPUT_MAX / SLOW_MSG;
        for (size_t i = 0; i < n; i++) {
                dh_must_sendf(pub, "PUB slowq/%zu %u qos=1\n", i, SLOW_MSG);
                dh_must_send(pub, payload, SLOW_MSG);
                dh_must_send(pub, "\n", 1);
                dh_expect_line(pub, "+OK");
        }
        free(payload);
        if (!dh_wait_file_count(daemon_.log, "bytes of messages unread", NULL, before + 1,
                                DH_TIMEOUT_MS))
                fail_msg("a QoS 1 subscriber with %zu bytes unread is still connected",
                         n * SLOW_MSG);
        size_t frames = 0;
        for (;;) {
                struct dh_frame f;
                int r = dh_read_frame(slow, 2000, &f);
                if (r == 0 || r == -ECONNRESET || r == -EPIPE)
                        break;
                if (r < 0)
                        fail_msg("after %zu frames: %s", frames, strerror(-r));
                char want[64];
                snprintf(want, sizeof want, "MSG slow1 slowq/%zu %u broker=a qos=1", frames,
                         SLOW_MSG);
                /* In order, none left out. */
                assert_string_equal(f.line, want);
                dh_frame_done(&f);
                frames++;
        }
        fprintf(stderr, "# the QoS 1 subscriber read %zu messages in order, then the end\n",
                frames);
        dh_close(slow);
        dh_must_ping(pub);
        dh_close(pub);
        check_alive();
        all_passed = true;
}

/* ---------------------------------------------------------------- the end */

static void test_status_after(void **state) {
        need_ready();
        begin();
        char *doc = dh_must_status_at(daemon_.sock);
        if (!dh_json_valid(doc, strlen(doc)))
                fail_msg("STATUS is not JSON: %s", doc);
        char st[32];
        assert_true(dh_json_str(dh_json_broker(doc, "a"), "state", st, sizeof st));
        assert_string_equal(st, "connected");
        free(doc);
        all_passed = true;
}

static void test_sigterm(void **state) {
        need_ready();
        begin();
        dh_must_stop_daemon(&daemon_, 5000);
        all_passed = true;
}

int main(void) {
        if (dh_tap_fix_skips() < 0)
                return 99;
        if (getenv("MQL_TEST_FILTER"))
                cmocka_set_test_filter(getenv("MQL_TEST_FILTER"));
        signal(SIGPIPE, SIG_IGN);

        size_t n_rows = N_ELEMENTS(rows), n = 0;
        struct CMUnitTest *tests = calloc(n_rows + 8, sizeof *tests);
        assert_non_null(tests);
        tests[n++] = (struct CMUnitTest){ .name = "start", .test_func = test_start };
        for (size_t i = 0; i < n_rows; i++)
                tests[n++] = (struct CMUnitTest){ .name = rows[i].name,
                                                  .test_func = run_row,
                                                  .initial_state = (void *)&rows[i] };
        tests[n++] = (struct CMUnitTest){ .name = "the -ERR text before a close",
                                          .test_func = test_close_reason_text };
        tests[n++] = (struct CMUnitTest){ .name = "flood of 20000 PINGs",
                                          .test_func = test_flood_pings };
        tests[n++] = (struct CMUnitTest){ .name = "flood of 200000 PINGs, back-pressure",
                                          .test_func = test_flood_backpressure };
        tests[n++] = (struct CMUnitTest){ .name = "subscriber that never reads 20 MiB",
                                          .test_func = test_slow_subscriber };
        tests[n++] = (struct CMUnitTest){ .name = "QoS 1 subscriber that never reads",
                                          .test_func = test_slow_subscriber_qos1 };
        tests[n++] = (struct CMUnitTest){ .name = "STATUS after it all",
                                          .test_func = test_status_after };
        tests[n++] = (struct CMUnitTest){ .name = "SIGTERM: exit 0, no sanitizer report",
                                          .test_func = test_sigterm };
        int r = _cmocka_run_group_tests("daemon-input", tests, n, NULL, group_teardown);
        free(tests);
        return r;
}

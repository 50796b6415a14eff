/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mqlink/topic.h"
#include "util/macro.h"

/* String literals with their length, so rows may hold 0x00 bytes. */
#define S(s) s, sizeof(s) - 1

/* ---------------------------------------------------------------- matching */

struct match_case {
        const char *filter;
        size_t filter_len;
        const char *name;
        size_t name_len;
        bool expect;
};

#define M(f, n, e) { S(f), S(n), e }

static const struct match_case match_cases[] = {
        /* '#', MQTT 5 §4.7.1.2 and its examples */
        M("sport/tennis/player1/#", "sport/tennis/player1", true),
        M("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
        M("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
        M("sport/tennis/player1/#", "sport/tennis/player2", false),
        M("sport/#", "sport", true),
        M("sport/#", "sport/", true),
        M("sport/#", "sport/tennis", true),
        M("sport/#", "sports", false),
        M("sport/#", "spor", false),
        M("sport/tennis/#", "sport/tennis", true),
        M("sport/tennis/#", "sport", false),
        M("sport/tennis/#", "sport/tennisx", false),
        M("#", "sport", true),
        M("#", "/", true),
        M("#", "//", true),
        M("#", "a/b/c", true),
        M("#", "/finance", true),
        M("/#", "/", true),
        M("/#", "/a/b", true),
        M("/#", "a", false),
        M("/#", "a/b", false),
        /* '+', MQTT 5 §4.7.1.3 and its examples */
        M("sport/tennis/+", "sport/tennis/player1", true),
        M("sport/tennis/+", "sport/tennis/player2", true),
        M("sport/tennis/+", "sport/tennis/player1/ranking", false),
        M("sport/tennis/+", "sport/tennis", false),
        M("sport/tennis/+", "sport/tennis/", true),
        M("sport/+", "sport", false),
        M("sport/+", "sport/", true),
        M("+", "sport", true),
        M("+", "/finance", false),
        M("+/+", "/finance", true),
        M("/+", "/finance", true),
        M("+/tennis/#", "sport/tennis/player1", true),
        M("+/tennis/#", "sport/tennis", true),
        M("+/tennis/#", "sport/golf", false),
        M("+/+", "a/b", true),
        M("+/+", "a/b/c", false),
        M("+/+", "a", false),
        M("+/b/+", "a/b/c", true),
        M("+/b/+", "a/x/c", false),
        M("a/+/+/d", "a/b/c/d", true),
        M("a/+/+/d", "a/b/c/e", false),
        M("a/+/#", "a/b", true),
        M("a/+/#", "a/b/c/d", true),
        M("a/+/#", "a", false),
        M("a/+/#", "a/", true),
        /* '$' topics, MQTT-4.7.2-1 */
        M("#", "$SYS/x", false),
        M("#", "$SYS", false),
        M("#", "$", false),
        M("+/x", "$SYS/x", false),
        M("+/#", "$SYS/x", false),
        M("+", "$SYS", false),
        M("+/+", "$SYS/x", false),
        M("$SYS/#", "$SYS/x", true),
        M("$SYS/#", "$SYS", true),
        M("$SYS/#", "$SYS/broker/load/bytes", true),
        M("$SYS/+", "$SYS/x", true),
        M("$SYS/+", "$SYS/x/y", false),
        M("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        M("$SYS/x", "$SYS/x", true),
        M("$SYS/x", "$sys/x", false),
        M("$SYS/#", "SYS/x", false),
        M("$SYS/#", "$SYSTEM/x", false),
        M("$", "$", true),
        M("x/$y", "x/$y", true),
        M("+/$y", "x/$y", true),
        M("x/+", "x/$y", true),
        M("x/#", "x/$SYS", true),
        M("a$/+", "a$/b", true),
        /* empty levels, leading and trailing '/' */
        M("a//b", "a//b", true),
        M("a/+/b", "a//b", true),
        M("a//b", "a/b", false),
        M("a/+/b", "a/b", false),
        M("a/#", "a//b", true),
        M("/a", "/a", true),
        M("/a", "a", false),
        M("a", "/a", false),
        M("+/a", "/a", true),
        M("/+", "/", true),
        M("+/+", "/", true),
        M("+", "/", false),
        M("/", "/", true),
        M("//", "//", true),
        M("//", "/", false),
        M("/", "//", false),
        M("+/+/+", "//", true),
        M("+/+/+", "/", false),
        M("a/", "a/", true),
        M("a/", "a", false),
        M("a", "a/", false),
        M("a/+", "a/", true),
        M("a/#", "a/", true),
        M("a/#", "a", true),
        M("a//#", "a/", true),
        M("a//#", "a//", true),
        M("a//#", "a", false),
        /* plain levels */
        M("a/b/c", "a/b/c", true),
        M("a/b/c", "a/b", false),
        M("a/b", "a/b/c", false),
        M("a/b/c", "a/b/d", false),
        M("a/b/c", "A/b/c", false),
        M("abc", "ab", false),
        M("ab", "abc", false),
        M("a/b", "a/bc", false),
        M("a b", "a b", true),
        M("a b", "a  b", false),
        /* multi-byte UTF-8 */
        M("caf\xC3\xA9/+", "caf\xC3\xA9/menu", true),
        M("caf\xC3\xA9", "cafe", false),
        M("caf\xC3\xA9", "caf\xC3\xA8", false),
        M("\xE2\x82\xAC/#", "\xE2\x82\xAC/price", true),
        M("\xE2\x82\xAC/#", "\xE2\x82\xAC", true),
        M("+/\xF0\x9F\x98\x80", "a/\xF0\x9F\x98\x80", true),
        M("+/\xF0\x9F\x98\x80", "a/\xF0\x9F\x98\x81", false),
        M("+", "\xF0\x9F\x98\x80", true),
        M("+", "\xE2\x82\xAC", true),
        M("#", "\xE2\x82\xAC/\xC3\xA9", true),
        M("\xEF\xBB\xBF" "a", "a", false), /* BOM is a character, MQTT-1.5.4-3 */
        M("\xEF\xBB\xBF" "a", "\xEF\xBB\xBF" "a", true),
        M("\xF4\x8F\xBF\xBF/+", "\xF4\x8F\xBF\xBF/x", true),
        /* shared subscriptions match as their inner filter, MQTT 5 §4.8.2 */
        M("$share/g/a/+", "a/b", true),
        M("$share/g/a/+", "a/b/c", false),
        M("$share/g/a/+", "$share/g/a/b", false),
        M("$share/g/#", "x/y", true),
        M("$share/g/#", "$SYS/x", false),
        M("$share/g/+/x", "$SYS/x", false),
        M("$share/g/$SYS/#", "$SYS/x", true),
        M("$share/consumer1/sport/tennis/+", "sport/tennis/player1", true),
        M("$share/g/a", "a", true),
        M("$share/g/a", "g/a", false),
        M("$share/g/a", "$share/g/a", false),
        M("$share/g/sport/#", "sport", true),
        M("$share/g//a", "/a", true),
        M("$share/g/+", "x", true),
        M("$share/\xC3\xA9/a", "a", true),
        M("$share/g/$share", "$share", true),
        M("$share", "$share", true),         /* no '/': not shared */
        M("$sharex/a", "$sharex/a", true),   /* not shared */
        M("$SHARE/g/a", "$SHARE/g/a", true), /* the prefix is case-sensitive */
        M("$SHARE/g/a", "a", false),
        M("+/g/a", "$share/g/a", false),
};

static void test_match_table(void **state) {
        (void)state;
        assert_true(ELEMENTSOF(match_cases) >= 80);
        for (size_t i = 0; i < ELEMENTSOF(match_cases); i++) {
                const struct match_case *c = &match_cases[i];

                /* The table only holds valid input: matches() assumes it. */
                if (mql_topic_filter_check(c->filter, c->filter_len) != 0)
                        fail_msg("row %zu: filter \"%s\" invalid", i, c->filter);
                if (mql_topic_name_check(c->name, c->name_len) != 0)
                        fail_msg("row %zu: name \"%s\" invalid", i, c->name);

                bool r = mql_topic_matches(c->filter, c->filter_len, c->name, c->name_len);
                if (r != c->expect)
                        fail_msg("row %zu: \"%s\" vs \"%s\": got %d, want %d", i, c->filter,
                                 c->name, r, c->expect);
        }
}

static void test_match_length_counted(void **state) {
        (void)state;
        /* Bytes past the given lengths are never read. */
        assert_true(mql_topic_matches("sport/#garbage", 7, "sport/tennisXX", 12));
        assert_true(mql_topic_matches("a/b/c", 3, "a/b/d", 3));
        assert_false(mql_topic_matches("a/b", 3, "a/bc", 4));
        assert_true(mql_topic_matches("a/+/c", 3, "a/x", 3));
        assert_false(mql_topic_matches("+x", 1, "$y", 1));
        assert_true(mql_topic_matches("#", 1, "a\0b", 1));
}

/*
 * An independent reference: split both into levels, then match level lists
 * recursively. Simpler than the real walk, so it is a fair oracle.
 */
struct level {
        const char *p;
        size_t len;
};

static size_t split(const char *s, size_t len, struct level *out, size_t max) {
        size_t n = 0, start = 0;
        for (size_t i = 0; i <= len; i++)
                if (i == len || s[i] == '/') {
                        assert_true(n < max);
                        out[n++] = (struct level){ s + start, i - start };
                        start = i + 1;
                }
        return n;
}

static bool is_level(const struct level *l, const char *what) {
        return l->len == strlen(what) && memcmp(l->p, what, l->len) == 0;
}

static bool ref_levels(const struct level *f, size_t nf, const struct level *n, size_t nn) {
        if (nf == 0)
                return nn == 0;
        if (is_level(&f[0], "#"))
                return true;
        if (nn == 0)
                return false;
        if (!is_level(&f[0], "+") &&
            (f[0].len != n[0].len || memcmp(f[0].p, n[0].p, f[0].len) != 0))
                return false;
        return ref_levels(f + 1, nf - 1, n + 1, nn - 1);
}

static bool ref_matches(const char *f, size_t flen, const char *n, size_t nlen) {
        struct level fl[16], nl[16];
        size_t nf = split(f, flen, fl, ELEMENTSOF(fl));
        size_t nn = split(n, nlen, nl, ELEMENTSOF(nl));
        if (n[0] == '$' && (f[0] == '+' || f[0] == '#'))
                return false;
        return ref_levels(fl, nf, nl, nn);
}

/* Writes the index-th string over `alphabet` of length `len`. */
static void nth_string(char *out, size_t len, const char *alphabet, size_t idx) {
        size_t k = strlen(alphabet);
        for (size_t i = 0; i < len; i++) {
                out[i] = alphabet[idx % k];
                idx /= k;
        }
}

static void test_match_exhaustive(void **state) {
        /*
         * Every valid filter over {a,$,/,+,#} and every valid name over
         * {a,b,$,/} up to 5 bytes, against the reference.
         */
        static const char falpha[] = "a$/+#", nalpha[] = "ab$/";
        size_t valid_filters = 0, pairs = 0, hits = 0;
        (void)state;

        for (size_t flen = 1; flen <= 5; flen++) {
                size_t fcount = 1;
                for (size_t i = 0; i < flen; i++)
                        fcount *= strlen(falpha);
                for (size_t fi = 0; fi < fcount; fi++) {
                        char f[8]; /* 5 used; room for GCC -O3 range analysis */
                        nth_string(f, flen, falpha, fi);
                        if (mql_topic_filter_check(f, flen) != 0)
                                continue;
                        valid_filters++;
                        for (size_t nlen = 1; nlen <= 5; nlen++) {
                                size_t ncount = 1;
                                for (size_t i = 0; i < nlen; i++)
                                        ncount *= strlen(nalpha);
                                for (size_t ni = 0; ni < ncount; ni++) {
                                        char n[8];
                                        nth_string(n, nlen, nalpha, ni);
                                        assert_int_equal(mql_topic_name_check(n, nlen), 0);
                                        bool want = ref_matches(f, flen, n, nlen);
                                        bool got = mql_topic_matches(f, flen, n, nlen);
                                        if (want != got)
                                                fail_msg("\"%.*s\" vs \"%.*s\": got %d want %d",
                                                         (int)flen, f, (int)nlen, n, got, want);
                                        pairs++;
                                        hits += got;
                                }
                        }
                }
        }
        /* Pin the enumeration so a broken generator cannot pass vacuously. */
        assert_int_equal(valid_filters, 547);
        assert_int_equal(pairs, valid_filters * (4 + 16 + 64 + 256 + 1024));
        assert_true(hits > 5000);
}

static void test_match_long(void **state) {
        /* A maximal name of 32768 levels "a/a/.../a" (65535 bytes). */
        size_t len = MQL_TOPIC_MAX;
        char *name = malloc(len);
        (void)state;
        assert_non_null(name);
        for (size_t i = 0; i < len; i++)
                name[i] = i % 2 ? '/' : 'a';
        assert_int_equal(mql_topic_name_check(name, len), 0);
        assert_int_equal(mql_topic_filter_check(name, len), 0);

        assert_true(mql_topic_matches(name, len, name, len));
        assert_true(mql_topic_matches("#", 1, name, len));
        assert_true(mql_topic_matches("a/#", 3, name, len));
        assert_true(mql_topic_matches("+/+/#", 5, name, len));
        assert_false(mql_topic_matches(name, len, name, len - 2));
        assert_false(mql_topic_matches(name, len - 2, name, len));

        /* The same, with every level a '+': matches and still valid. */
        char *filter = malloc(len);
        assert_non_null(filter);
        for (size_t i = 0; i < len; i++)
                filter[i] = i % 2 ? '/' : '+';
        assert_int_equal(mql_topic_filter_check(filter, len), 0);
        assert_true(mql_topic_matches(filter, len, name, len));
        assert_false(mql_topic_matches(filter, len - 2, name, len));
        filter[len - 1] = '#';
        assert_int_equal(mql_topic_filter_check(filter, len), 0);
        assert_true(mql_topic_matches(filter, len, name, len));
        assert_true(mql_topic_matches(filter, len, name, len - 2));
        free(filter);
        free(name);
}

/* ----------------------------------------------------------- names, filters */

struct check_case {
        const char *s;
        size_t len;
        int expect;
};

#define C(s, e) { S(s), e }

static const struct check_case name_cases[] = {
        C("a", 0),
        C("/", 0),
        C("//", 0),
        C("a/b", 0),
        C("/a", 0),
        C("a/", 0),
        C("sport/tennis/player1", 0),
        C("$SYS/broker/load", 0),
        C("$", 0),
        C("a$", 0),
        C("$share/g/a", 0), /* a name, not a filter: nothing special */
        C("$share/g", 0),
        C(" ", 0),
        C("a b/c d", 0),
        C("caf\xC3\xA9", 0),
        C("\xE2\x82\xAC/\xF0\x9F\x98\x80", 0),
        C("\xEF\xBB\xBF", 0),           /* U+FEFF kept, MQTT-1.5.4-3 */
        C("\xF4\x8F\xBF\xBF", 0),       /* U+10FFFF */
        C("\x01\x1F\x7F", 0),           /* controls other than NUL pass */
        /* -EINVAL: empty or wildcards, MQTT-4.7.3-1, MQTT-3.3.2-2 */
        C("", -EINVAL),
        C("+", -EINVAL),
        C("#", -EINVAL),
        C("a/+", -EINVAL),
        C("a/#", -EINVAL),
        C("+/a", -EINVAL),
        C("sport/tennis#", -EINVAL),
        C("a+b", -EINVAL),
        C("$SYS/#", -EINVAL),
        C("caf\xC3\xA9/+", -EINVAL),
        /* -EBADMSG: ill-formed UTF-8 or U+0000, MQTT-1.5.4-1/2 */
        C("\xC0\xAF", -EBADMSG),
        C("a/\xC0\xAF", -EBADMSG),
        C("\xED\xA0\x80", -EBADMSG),
        C("\xED\xBF\xBF", -EBADMSG),
        C("\xF4\x90\x80\x80", -EBADMSG),
        C("\xFF", -EBADMSG),
        C("\x80", -EBADMSG),
        C("abc\xC3", -EBADMSG),
        C("a\0b", -EBADMSG),
        C("\0", -EBADMSG),
        C("a/\0", -EBADMSG),
        /* UTF-8 is judged before wildcards */
        C("+\xC0\xAF", -EBADMSG),
};

static const struct check_case filter_cases[] = {
        C("#", 0),
        C("+", 0),
        C("+/+", 0),
        C("/+", 0),
        C("+/", 0),
        C("/#", 0),
        C("+/#", 0),
        C("a/#", 0),
        C("a/+/b", 0),
        C("a/+/+/#", 0),
        C("sport/tennis/player1", 0),
        C("$SYS/#", 0),
        C("$SYS/+/x", 0),
        C("/", 0),
        C("//", 0),
        C("a//b", 0),
        C("+//+", 0),
        C("$", 0),
        C("$share", 0),    /* not a shared subscription */
        C("$sharex/+", 0), /* nor this */
        C("$SHARE/+/a", 0),
        C("$share/g/a", 0),
        C("$share/g/#", 0),
        C("$share/g/+/x", 0),
        C("$share/g/$SYS/#", 0),
        C("$share/g//", 0),
        C("caf\xC3\xA9/+", 0),
        C("\xF0\x9F\x98\x80/#", 0),
        C("\xEF\xBB\xBF/#", 0),
        /* -EINVAL: wildcard placement, MQTT-4.7.1-1, MQTT-4.7.1-2 */
        C("", -EINVAL),
        C("a/#/b", -EINVAL),
        C("#/", -EINVAL),
        C("#/a", -EINVAL),
        C("a#", -EINVAL),
        C("a/b#", -EINVAL),
        C("##", -EINVAL),
        C("a+/b", -EINVAL),
        C("+a", -EINVAL),
        C("a/+b", -EINVAL),
        C("a/b+", -EINVAL),
        C("sport+", -EINVAL),
        C("++", -EINVAL),
        C("+#", -EINVAL),
        C("#+", -EINVAL),
        C("+/+#", -EINVAL),
        C("\xC3\xA9+", -EINVAL),
        /* -EINVAL: malformed shared subscriptions, MQTT-4.8.2-1/2 */
        C("$share/", -EINVAL),
        C("$share/g", -EINVAL),
        C("$share/g/", -EINVAL),
        C("$share//a", -EINVAL),
        C("$share/g+/a", -EINVAL),
        C("$share/+/a", -EINVAL),
        C("$share/#/a", -EINVAL),
        C("$share/#", -EINVAL),
        C("$share/g/a/#/b", -EINVAL),
        C("$share/g/a+", -EINVAL),
        C("$share/g/$share/h/a", -EINVAL),
        /* -EBADMSG: ill-formed UTF-8 or U+0000 */
        C("\xC0\xAF", -EBADMSG),
        C("\xED\xA0\x80", -EBADMSG),
        C("\xED\xA0\x80/#", -EBADMSG),
        C("\xF5\x80\x80\x80", -EBADMSG),
        C("a\0b", -EBADMSG),
        C("#\0", -EBADMSG),
        C("+/\xC0", -EBADMSG),
        C("$share/g/\xC0\xAF", -EBADMSG),
        C("$share/\xED\xA0\x80/a", -EBADMSG),
        /* UTF-8 is judged before wildcards */
        C("a#\xC0\xAF", -EBADMSG),
};

static void run_checks(const char *what, int (*check)(const char *, size_t),
                       const struct check_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = check(cases[i].s, cases[i].len);
                if (r != cases[i].expect)
                        fail_msg("%s row %zu (\"%s\", %zu bytes): got %d, want %d", what, i,
                                 cases[i].s, cases[i].len, r, cases[i].expect);
        }
}

static void test_name_table(void **state) {
        (void)state;
        run_checks("name", mql_topic_name_check, name_cases, ELEMENTSOF(name_cases));
}

static void test_filter_table(void **state) {
        (void)state;
        run_checks("filter", mql_topic_filter_check, filter_cases, ELEMENTSOF(filter_cases));
}

static void test_name_is_filter(void **state) {
        /* Every valid name that is not "$share/..." is also a valid filter. */
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(name_cases); i++) {
                const struct check_case *c = &name_cases[i];
                if (c->expect != 0)
                        continue;
                if (mql_topic_share_parse(c->s, c->len, NULL, NULL, NULL, NULL) != 0)
                        continue;
                assert_int_equal(mql_topic_filter_check(c->s, c->len), 0);
                assert_true(mql_topic_matches(c->s, c->len, c->s, c->len));
        }
}

static void test_length_limits(void **state) {
        size_t max = MQL_TOPIC_MAX;
        char *buf = malloc(max + 2);
        (void)state;
        assert_non_null(buf);
        memset(buf, 'x', max + 1);

        /* MQTT-4.7.3-3: at most 65535 bytes, the two-byte length prefix. */
        assert_int_equal(mql_topic_name_check(buf, max), 0);
        assert_int_equal(mql_topic_name_check(buf, max + 1), -EINVAL);
        assert_int_equal(mql_topic_filter_check(buf, max), 0);
        assert_int_equal(mql_topic_filter_check(buf, max + 1), -EINVAL);
        assert_int_equal(mql_topic_name_check(buf, SIZE_MAX), -EINVAL);
        assert_int_equal(mql_topic_filter_check(buf, SIZE_MAX), -EINVAL);

        /* Too long wins over the bytes themselves. */
        buf[0] = '\xC0';
        assert_int_equal(mql_topic_name_check(buf, max + 1), -EINVAL);
        assert_int_equal(mql_topic_name_check(buf, max), -EBADMSG);

        /* A maximal filter ending in "/#". */
        memset(buf, 'x', max + 1);
        buf[max - 2] = '/';
        buf[max - 1] = '#';
        assert_int_equal(mql_topic_filter_check(buf, max), 0);
        assert_int_equal(mql_topic_name_check(buf, max), -EINVAL);

        /* A shared subscription counts its prefix: 65536 bytes in all. */
        memcpy(buf, "$share/g/", 9);
        memset(buf + 9, 'x', max + 1 - 9);
        assert_int_equal(mql_topic_share_parse(buf, max + 1, NULL, NULL, NULL, NULL), -EINVAL);
        assert_int_equal(mql_topic_filter_check(buf, max + 1), -EINVAL);
        assert_int_equal(mql_topic_share_parse(buf, max, NULL, NULL, NULL, NULL), 1);
        assert_int_equal(mql_topic_filter_check(buf, max), 0);
        free(buf);
}

static void test_null_and_counted(void **state) {
        (void)state;
        assert_int_equal(mql_topic_name_check(NULL, 0), -EINVAL);
        assert_int_equal(mql_topic_filter_check(NULL, 0), -EINVAL);
        assert_int_equal(mql_topic_share_parse(NULL, 0, NULL, NULL, NULL, NULL), 0);
        /* Only the first len bytes count. */
        assert_int_equal(mql_topic_name_check("a+", 1), 0);
        assert_int_equal(mql_topic_name_check("a\0", 1), 0);
        assert_int_equal(mql_topic_filter_check("a/#/b", 3), 0);
        assert_int_equal(mql_topic_filter_check("a#", 1), 0);
        assert_int_equal(mql_topic_filter_check("\xC3\xA9", 1), -EBADMSG);
        assert_int_equal(mql_topic_share_parse("$share/g/a", 8, NULL, NULL, NULL, NULL),
                         -EINVAL);
}

/* ------------------------------------------------------------- share parse */

struct share_case {
        const char *s;
        size_t len;
        int expect;
        const char *group; /* for expect == 1 */
        const char *inner;
};

#define SH(s, e, g, f) { S(s), e, g, f }

static const struct share_case share_cases[] = {
        SH("$share/g/a", 1, "g", "a"),
        SH("$share/g/#", 1, "g", "#"),
        SH("$share/g/+", 1, "g", "+"),
        SH("$share/consumer1/sport/tennis/+", 1, "consumer1", "sport/tennis/+"),
        SH("$share/g//", 1, "g", "/"),
        SH("$share/g//a", 1, "g", "/a"),
        SH("$share/g/$SYS/#", 1, "g", "$SYS/#"),
        SH("$share/g/$share", 1, "g", "$share"),
        SH("$share/\xC3\xA9t\xC3\xA9/a", 1, "\xC3\xA9t\xC3\xA9", "a"),
        SH("$share/$/a", 1, "$", "a"),
        /* not shared subscriptions */
        SH("$sharex/a", 0, NULL, NULL),
        SH("$share", 0, NULL, NULL),
        SH("$shar", 0, NULL, NULL),
        SH("$SHARE/g/a", 0, NULL, NULL),
        SH("share/g/a", 0, NULL, NULL),
        SH(" $share/g/a", 0, NULL, NULL),
        SH("a/$share/g/a", 0, NULL, NULL),
        SH("#", 0, NULL, NULL),
        SH("", 0, NULL, NULL),
        SH("$share\xC0/g/a", 0, NULL, NULL), /* not ours to judge then */
        /* malformed */
        SH("$share/", -EINVAL, NULL, NULL),
        SH("$share//a", -EINVAL, NULL, NULL), /* MQTT-4.8.2-1 */
        SH("$share/g", -EINVAL, NULL, NULL),
        SH("$share/g/", -EINVAL, NULL, NULL),
        SH("$share/g+/a", -EINVAL, NULL, NULL), /* MQTT-4.8.2-2 */
        SH("$share/+/a", -EINVAL, NULL, NULL),
        SH("$share/#/a", -EINVAL, NULL, NULL),
        SH("$share/g#/a", -EINVAL, NULL, NULL),
        SH("$share/#", -EINVAL, NULL, NULL),
        SH("$share/g/a/#/b", -EINVAL, NULL, NULL),
        SH("$share/g/a+", -EINVAL, NULL, NULL),
        SH("$share/g/a#", -EINVAL, NULL, NULL),
        SH("$share/g/$share/h/a", -EINVAL, NULL, NULL),
        SH("$share/g/\xC0\xAF", -EINVAL, NULL, NULL),
        SH("$share/\xC0\xAF/a", -EINVAL, NULL, NULL),
        SH("$share/g/a\0b", -EINVAL, NULL, NULL),
};

static void test_share_table(void **state) {
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(share_cases); i++) {
                const struct share_case *c = &share_cases[i];
                const char *canary = "untouched";
                const char *group = canary, *inner = canary;
                size_t group_len = 4242, inner_len = 4242;

                int r = mql_topic_share_parse(c->s, c->len, &group, &group_len, &inner,
                                              &inner_len);
                if (r != c->expect)
                        fail_msg("row %zu (\"%s\"): got %d, want %d", i, c->s, r, c->expect);

                if (r != 1) {
                        /* Out parameters are written only on success. */
                        assert_ptr_equal(group, canary);
                        assert_ptr_equal(inner, canary);
                        assert_int_equal(group_len, 4242);
                        assert_int_equal(inner_len, 4242);
                        continue;
                }

                /* Views into the input, not copies. */
                assert_ptr_equal(group, c->s + 7);
                assert_ptr_equal(inner, group + group_len + 1);
                assert_ptr_equal(inner + inner_len, c->s + c->len);
                assert_int_equal(group_len, strlen(c->group));
                assert_memory_equal(group, c->group, group_len);
                assert_int_equal(inner_len, strlen(c->inner));
                assert_memory_equal(inner, c->inner, inner_len);

                /* The inner filter stands on its own, and so does the whole. */
                assert_int_equal(mql_topic_filter_check(inner, inner_len), 0);
                assert_int_equal(mql_topic_filter_check(c->s, c->len), 0);
        }
}

static void test_share_null_outputs(void **state) {
        const char *inner = NULL;
        size_t inner_len = 0;
        (void)state;
        /* Any subset of the out parameters may be NULL. */
        assert_int_equal(mql_topic_share_parse(S("$share/g/a/b"), NULL, NULL, &inner, NULL), 1);
        assert_non_null(inner);
        assert_memory_equal(inner, "a/b", 3);
        assert_int_equal(mql_topic_share_parse(S("$share/g/a/b"), NULL, NULL, NULL, &inner_len),
                         1);
        assert_int_equal(inner_len, 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_match_table),
                cmocka_unit_test(test_match_length_counted),
                cmocka_unit_test(test_match_exhaustive),
                cmocka_unit_test(test_match_long),
                cmocka_unit_test(test_name_table),
                cmocka_unit_test(test_filter_table),
                cmocka_unit_test(test_name_is_filter),
                cmocka_unit_test(test_length_limits),
                cmocka_unit_test(test_null_and_counted),
                cmocka_unit_test(test_share_table),
                cmocka_unit_test(test_share_null_outputs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */

/*
 * Topic names, filters and shared subscriptions. The input is split at its
 * first 0x00 byte into a filter and a name; without one, the whole input is
 * both. Every invariant below aborts when broken, and mql_topic_matches() is
 * only ever called with input that passed its check, as its contract asks.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqlink/topic.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                  \
        do {                      \
                if (!(x))         \
                        abort();  \
        } while (0)

static bool starts_with(const char *s, size_t len, const char *prefix) {
        size_t n = strlen(prefix);
        return len >= n && memcmp(s, prefix, n) == 0;
}

/* Whether view [p, p+n) lies inside [base, base+len). */
static bool inside(const char *p, size_t n, const char *base, size_t len) {
        return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static size_t count_levels(const char *s, size_t len) {
        size_t n = 1;
        for (size_t i = 0; i < len; i++)
                n += s[i] == '/';
        return n;
}

/*
 * A second matcher built differently from the library's: count the levels
 * first, decide from the counts alone whether the shapes fit, then compare
 * the levels that must agree.
 */
static bool ref_matches(const char *f, size_t flen, const char *n, size_t nlen) {
        const char *g, *inner;
        size_t glen, ilen;

        if (mql_topic_share_parse(f, flen, &g, &glen, &inner, &ilen) == 1) {
                f = inner;
                flen = ilen;
        }
        if (n[0] == '$' && (f[0] == '+' || f[0] == '#'))
                return false; /* MQTT-4.7.2-1 */

        bool hash = f[flen - 1] == '#'; /* valid: '#' is a whole last level */
        size_t fk = count_levels(f, flen), nk = count_levels(n, nlen);
        size_t fixed = hash ? fk - 1 : fk;
        if (hash ? nk < fixed : nk != fk)
                return false;

        size_t fi = 0, ni = 0;
        for (size_t level = 0; level < fixed; level++) {
                size_t fe = fi, ne = ni;
                while (fe < flen && f[fe] != '/')
                        fe++;
                while (ne < nlen && n[ne] != '/')
                        ne++;
                bool plus = fe - fi == 1 && f[fi] == '+';
                if (!plus && (fe - fi != ne - ni || memcmp(f + fi, n + ni, fe - fi) != 0))
                        return false;
                fi = fe + 1;
                ni = ne + 1;
        }
        return true;
}

/* Checks one string alone as a name, a filter and a shared subscription. */
static void check_one(const char *s, size_t len) {
        int nc = mql_topic_name_check(s, len);
        int fc = mql_topic_filter_check(s, len);
        const char *g = NULL, *inner = NULL;
        size_t glen = 0, ilen = 0;
        int sp = mql_topic_share_parse(s, len, &g, &glen, &inner, &ilen);

        CHECK(nc == 0 || nc == -EINVAL || nc == -EBADMSG);
        CHECK(fc == 0 || fc == -EINVAL || fc == -EBADMSG);
        CHECK(sp == 1 || sp == 0 || sp == -EINVAL);

        /* Length first, then the bytes, the same for names and filters. */
        if (len == 0 || len > MQL_TOPIC_MAX) {
                CHECK(nc == -EINVAL && fc == -EINVAL);
        } else if (mql__utf8_check((const uint8_t *)s, len) < 0) {
                CHECK(nc == -EBADMSG && fc == -EBADMSG);
        } else {
                CHECK(nc != -EBADMSG && fc != -EBADMSG);
                bool wild = memchr(s, '+', len) || memchr(s, '#', len);
                CHECK((nc == 0) == !wild);
        }

        CHECK((sp != 0) == starts_with(s, len, "$share/"));
        if (sp == 1) {
                CHECK(fc == 0);
                CHECK(inside(g, glen, s, len) && inside(inner, ilen, s, len));
                CHECK(g == s + 7 && inner == g + glen + 1 && inner + ilen == s + len);
                CHECK(glen >= 1 && ilen >= 1);
                CHECK(!memchr(g, '/', glen) && !memchr(g, '+', glen) && !memchr(g, '#', glen));
                CHECK(mql_topic_filter_check(inner, ilen) == 0);
                CHECK(mql_topic_share_parse(inner, ilen, NULL, NULL, NULL, NULL) == 0);
        } else {
                /* Out parameters are written only on success. */
                CHECK(g == NULL && inner == NULL && glen == 0 && ilen == 0);
        }
        if (sp == -EINVAL)
                CHECK(fc != 0);

        if (nc == 0) {
                /* A name is a filter that matches itself, unless "$share/". */
                if (sp == 0) {
                        CHECK(fc == 0);
                        CHECK(mql_topic_matches(s, len, s, len));
                }
                /* MQTT-4.7.2-1: '#' matches every name but the '$' ones. */
                CHECK(mql_topic_matches("#", 1, s, len) == (s[0] != '$'));
                CHECK(mql_topic_matches("$share/g/#", 10, s, len) == (s[0] != '$'));
                CHECK(mql_topic_matches("+/#", 3, s, len) == (s[0] != '$'));
        }
}

/* A name made from a valid filter by filling each wildcard: must match. */
static void check_instance(const char *f, size_t flen) {
        const char *g, *inner;
        size_t glen, ilen;
        if (mql_topic_share_parse(f, flen, &g, &glen, &inner, &ilen) == 1) {
                f = inner;
                flen = ilen;
        }

        char *n = malloc(flen);
        CHECK(n);
        for (size_t i = 0; i < flen; i++)
                n[i] = f[i] == '+' ? 'p' : f[i] == '#' ? 'h' : f[i];
        CHECK(mql_topic_name_check(n, flen) == 0);
        CHECK(mql_topic_matches(f, flen, n, flen));
        /* Without the level '#' stands for, the parent still matches. */
        if (f[flen - 1] == '#' && flen > 2)
                CHECK(mql_topic_matches(f, flen, n, flen - 2));
        free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *in = (const char *)data;
        const char *nul = size ? memchr(in, 0, size) : NULL;
        const char *f = in, *n = in;
        size_t flen = size, nlen = size;

        if (nul) {
                flen = (size_t)(nul - in);
                n = nul + 1;
                nlen = size - flen - 1;
        }

        check_one(f, flen);
        if (nul)
                check_one(n, nlen);

        bool f_ok = mql_topic_filter_check(f, flen) == 0;
        bool n_ok = mql_topic_name_check(n, nlen) == 0;
        if (f_ok)
                check_instance(f, flen);
        if (f_ok && n_ok) {
                bool m = mql_topic_matches(f, flen, n, nlen);
                CHECK(m == ref_matches(f, flen, n, nlen));

                const char *g, *inner;
                size_t glen, ilen;
                if (mql_topic_share_parse(f, flen, &g, &glen, &inner, &ilen) == 1)
                        CHECK(m == mql_topic_matches(inner, ilen, n, nlen));
                else if (!memchr(f, '+', flen) && !memchr(f, '#', flen))
                        /* No wildcard: matching is byte equality. */
                        CHECK(m == (flen == nlen && memcmp(f, n, flen) == 0));
        }
        return 0;
}

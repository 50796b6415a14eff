/* SPDX-License-Identifier: MIT */

/*
 * The daemon's topic trie (daemon/trie.c): every filter/topic pair gives
 * the same answer as the library's reference matcher, mql_topic_matches(),
 * over a table of edge cases and over random sets of thousands of filters
 * with values added and removed.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/topic.h>

#include "trie.h"

struct hits {
        size_t n;
        void *v[4096];
};

static void collect(void *value, void *userdata) {
        struct hits *h = userdata;
        assert_true(h->n < 4096);
        h->v[h->n++] = value;
}

static bool hit(const struct hits *h, void *value) {
        size_t n = 0;
        for (size_t i = 0; i < h->n; i++)
                if (h->v[i] == value)
                        n++;
        assert_true(n <= 1); /* never twice for one value */
        return n == 1;
}

static const char *const filters[] = {
        "#",     "+",     "+/+",   "a",     "a/#",   "a/+",   "a/b",    "a/b/#", "a/+/c",
        "+/b",   "a//b",  "a/",    "/a",    "/",     "/#",    "+/#",    "$SYS/#", "$SYS/+",
        "$SYS",  "+/+/+", "a/b/c", "#/x" /* invalid, never added */,
};

static const char *const topics[] = {
        "a",    "a/b",  "a/b/c", "a/x/c",   "a//b", "a/",    "/a",     "/",    "b",
        "x/b",  "a/b/", "//",    "$SYS",    "$SYS/x", "$SYS/x/y", "$other/b", "a/b/c/d",
};

static void test_table(void **state) {
        struct trie t = { 0 };
        size_t n_filters = sizeof filters / sizeof *filters;

        for (size_t i = 0; i < n_filters; i++)
                if (mql_topic_filter_check(filters[i], strlen(filters[i])) >= 0)
                        assert_int_equal(trie_add(&t, filters[i], strlen(filters[i]), (void *)filters[i]), 0);
        for (size_t j = 0; j < sizeof topics / sizeof *topics; j++) {
                struct hits h = { 0 };
                trie_match(&t, topics[j], strlen(topics[j]), collect, &h);
                for (size_t i = 0; i < n_filters; i++) {
                        bool valid = mql_topic_filter_check(filters[i], strlen(filters[i])) >= 0;
                        bool want = valid && mql_topic_matches(filters[i], strlen(filters[i]),
                                                               topics[j], strlen(topics[j]));
                        if (hit(&h, (void *)filters[i]) != want)
                                fail_msg("filter \"%s\" topic \"%s\": trie %d, reference %d",
                                         filters[i], topics[j], !want, want);
                }
        }
        for (size_t i = 0; i < n_filters; i++)
                if (mql_topic_filter_check(filters[i], strlen(filters[i])) >= 0)
                        assert_int_equal(trie_remove(&t, filters[i], strlen(filters[i]), (void *)filters[i]), 0);
        assert_null(t.root);
        assert_int_equal(t.n_values, 0);
        trie_done(&t);
}

static void test_several_values(void **state) {
        struct trie t = { 0 };
        int a, b, c;

        assert_int_equal(trie_add(&t, "x/+", 3, &a), 0);
        assert_int_equal(trie_add(&t, "x/+", 3, &b), 0);
        assert_int_equal(trie_add(&t, "x/y", 3, &c), 0);
        struct hits h = { 0 };
        trie_match(&t, "x/y", 3, collect, &h);
        assert_int_equal(h.n, 3);
        assert_int_equal(trie_remove(&t, "x/+", 3, &a), 0);
        assert_int_equal(trie_remove(&t, "x/+", 3, &a), -ENOENT);
        assert_int_equal(trie_remove(&t, "x/z", 3, &a), -ENOENT);
        h.n = 0;
        trie_match(&t, "x/y", 3, collect, &h);
        assert_int_equal(h.n, 2);
        assert_true(hit(&h, &b) && hit(&h, &c));
        trie_done(&t);
        assert_null(t.root);
}

/* Random filters and topics over a small alphabet, so that they collide a
 * lot; checked against the reference after every round of changes. */
static void random_level(char *out, size_t *len, bool filter, unsigned *seed) {
        static const char *const lv[] = { "a", "b", "", "$x", "long-level", "+", "#" };
        unsigned n = filter ? 7 : 5;
        const char *l = lv[(unsigned)rand_r(seed) % n];
        memcpy(out + *len, l, strlen(l));
        *len += strlen(l);
}

static size_t random_string(char *out, bool filter, unsigned *seed) {
        size_t len = 0;
        unsigned levels = 1 + (unsigned)rand_r(seed) % 5;
        for (unsigned i = 0; i < levels; i++) {
                if (i)
                        out[len++] = '/';
                random_level(out, &len, filter, seed);
        }
        out[len] = '\0';
        return len;
}

#define N_RANDOM 2000

static void test_random(void **state) {
        static char fs[N_RANDOM][64];
        static bool in[N_RANDOM];
        static char topic[64];
        struct trie t = { 0 };
        unsigned seed = 12345;

        for (size_t i = 0; i < N_RANDOM; i++) {
                do
                        random_string(fs[i], true, &seed);
                while (mql_topic_filter_check(fs[i], strlen(fs[i])) < 0);
        }
        for (int round = 0; round < 6; round++) {
                /* Add or remove about half of the filters. */
                for (size_t i = 0; i < N_RANDOM; i++) {
                        if (rand_r(&seed) % 2)
                                continue;
                        if (in[i])
                                assert_int_equal(trie_remove(&t, fs[i], strlen(fs[i]), fs[i]), 0);
                        else
                                assert_int_equal(trie_add(&t, fs[i], strlen(fs[i]), fs[i]), 0);
                        in[i] = !in[i];
                }
                for (int k = 0; k < 300; k++) {
                        size_t len;
                        do /* a topic name is never empty */
                                len = random_string(topic, false, &seed);
                        while (mql_topic_name_check(topic, len) < 0);
                        struct hits h = { 0 };
                        trie_match(&t, topic, len, collect, &h);
                        size_t want = 0;
                        for (size_t i = 0; i < N_RANDOM; i++) {
                                bool m = in[i] && mql_topic_matches(fs[i], strlen(fs[i]), topic, len);
                                want += m;
                                if (hit(&h, fs[i]) != m)
                                        fail_msg("filter \"%s\" topic \"%s\": reference %d", fs[i],
                                                 topic, m);
                        }
                        assert_int_equal(h.n, want);
                }
        }
        for (size_t i = 0; i < N_RANDOM; i++)
                if (in[i])
                        assert_int_equal(trie_remove(&t, fs[i], strlen(fs[i]), fs[i]), 0);
        assert_null(t.root);
        trie_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_several_values),
                cmocka_unit_test(test_random),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

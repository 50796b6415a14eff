/* SPDX-License-Identifier: MIT */

/*
 * The CLI's strict JSON reader (daemon/cli/json-read.c): what it takes,
 * and a table of malformed documents, each refused with -EBADMSG at the
 * offset of the byte at fault.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-json.h"

#define S(s) s, sizeof(s) - 1

static void test_valid(void **state) {
        struct json j;
        size_t at;

        assert_int_equal(json_parse(S(" {\"a\" : [1, -2.5e3, true, false, null, \"x\"], \"b\": {}} \n"),
                                    &j, &at),
                         0);
        assert_int_equal(j.type, JSON_OBJECT);
        assert_int_equal(j.n, 2);
        const struct json *a = json_get(&j, "a");
        assert_non_null(a);
        assert_int_equal(a->type, JSON_ARRAY);
        assert_int_equal(a->n, 6);
        assert_string_equal(a->items[1].str, "-2.5e3");
        assert_int_equal(a->items[2].type, JSON_TRUE);
        assert_int_equal(a->items[4].type, JSON_NULL);
        assert_string_equal(a->items[5].str, "x");
        assert_int_equal(json_get(&j, "b")->type, JSON_OBJECT);
        assert_null(json_get(&j, "c"));
        assert_null(json_get(a, "a")); /* not an object */
        json_done(&j);

        /* Escapes, a surrogate pair, a NUL inside a string. */
        assert_int_equal(json_parse(S("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000z\""), &j, &at), 0);
        assert_int_equal(j.type, JSON_STRING);
        assert_int_equal(j.len, 8 + 2 + 4 + 1 + 1);
        assert_memory_equal(j.str, "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\0z", j.len);
        json_done(&j);

        /* The last of a repeated key wins. */
        assert_int_equal(json_parse(S("{\"k\":1,\"k\":2}"), &j, &at), 0);
        assert_string_equal(json_get(&j, "k")->str, "2");
        json_done(&j);
}

struct bad {
        const char *text;
        size_t len;
        size_t at; /* offset of the byte at fault */
};

#define B(t, a) { S(t), a }

static const struct bad bad[] = {
        B("", 0),                       /* nothing */
        B("   ", 3),                    /* only whitespace */
        B("{", 1),                      /* unterminated object */
        B("[", 1),                      /* unterminated array */
        B("[1,", 3),                    /* truncated after a comma */
        B("[1,]", 3),                   /* trailing comma */
        B("{\"a\":1,}", 7),             /* trailing comma in an object */
        B("{\"a\" 1}", 5),              /* missing colon */
        B("{a:1}", 1),                  /* unquoted key */
        B("{1:1}", 1),                  /* number as key */
        B("[1 2]", 3),                  /* missing comma */
        B("\"abc", 4),                  /* unterminated string */
        B("\"a\nb\"", 2),               /* raw control byte in a string */
        B("\"a\tb\"", 2),               /* raw tab in a string */
        B("\"\\x\"", 2),                /* unknown escape */
        B("\"\\u12\"", 3),              /* short \u escape */
        B("\"\\u12g4\"", 5),            /* bad hex in \u */
        B("\"\\ud800\"", 7),            /* lone high surrogate */
        B("\"\\udc00\"", 7),            /* lone low surrogate */
        B("\"\\ud800\\u0041\"", 13),     /* high surrogate, then no low one */
        B("\"\xff\"", 1),               /* not UTF-8 */
        B("\"\xc0\xaf\"", 1),           /* overlong */
        B("\"\xed\xa0\x80\"", 1),       /* encoded surrogate */
        B("\"\xf4\x90\x80\x80\"", 1),   /* above U+10FFFF */
        B("\"\xe2\x82\"", 1),           /* truncated sequence */
        B("01", 1),                     /* leading zero */
        B("-", 1),                      /* sign alone */
        B("1.", 2),                     /* no digit after the point */
        B(".5", 0),                     /* no digit before the point */
        B("1e", 2),                     /* no exponent digits */
        B("1e+", 3),                    /* no exponent digits after sign */
        B("+1", 0),                     /* plus sign */
        B("NaN", 0),                    /* not JSON */
        B("Infinity", 0),               /* not JSON */
        B("tru", 0),                    /* truncated literal */
        B("nul", 0),                    /* truncated literal */
        B("True", 0),                   /* literals are lower case */
        B("1 2", 2),                    /* two values */
        B("{} {}", 3),                  /* two documents */
        B("[1]x", 3),                   /* garbage after the value */
        B("'a'", 0),                    /* single quotes */
        B("[1,\x00]", 3),               /* NUL byte */
        B("/* c */ 1", 0),              /* comments are not JSON */
};

static void test_malformed(void **state) {
        size_t wrong = 0;
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct json j;
                size_t at = SIZE_MAX;
                int r = json_parse(bad[i].text, bad[i].len, &j, &at);
                if (r == 0)
                        json_done(&j);
                if (r != -EBADMSG || at != bad[i].at) {
                        print_error("row %zu \"%.*s\": %d at %zu, want -EBADMSG at %zu\n", i,
                                    (int)bad[i].len, bad[i].text, r, at, bad[i].at);
                        wrong++;
                }
        }
        assert_int_equal(wrong, 0);
}

/* Nesting is capped, so a hostile document cannot exhaust the stack. */
static void test_depth(void **state) {
        char doc[200];
        struct json j;
        size_t at;

        memset(doc, '[', 64);
        memset(doc + 64, ']', 64);
        assert_int_equal(json_parse(doc, 128, &j, &at), 0);
        json_done(&j);
        memset(doc, '[', 65);
        memset(doc + 65, ']', 65);
        assert_int_equal(json_parse(doc, 130, &j, &at), -EBADMSG);
        assert_int_equal(at, 64);
}

/* The writer's output always reads back, with U+FFFD for what was not
 * UTF-8. */
static void test_write_read(void **state) {
        static const struct {
                const char *in;
                size_t len;
                const char *out;
                size_t out_len;
        } rows[] = {
                { S("plain"), S("plain") },
                { S("q\"b\\s/"), S("q\"b\\s/") },
                { S("\x01\x1f\x7f\n"), S("\x01\x1f\x7f\n") },
                { S("\xc3\xa9\xf0\x9f\x98\x80"), S("\xc3\xa9\xf0\x9f\x98\x80") },
                { S("a\xffz"), S("a\xef\xbf\xbdz") },
                { S("\0x"), S("\0x") },
        };
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);
                assert_non_null(f);
                json_write_string(f, rows[i].in, rows[i].len);
                assert_int_equal(fclose(f), 0);
                struct json j;
                size_t at;
                assert_int_equal(json_parse(buf, len, &j, &at), 0);
                assert_int_equal(j.type, JSON_STRING);
                assert_int_equal(j.len, rows[i].out_len);
                assert_memory_equal(j.str, rows[i].out, j.len);
                json_done(&j);
                free(buf);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_write_read),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/macro.h"
#include "util/utf8.h"

/*
 * Each row is a byte string (length given explicitly: some hold 0x00) and
 * the result mql__utf8_check() must give for it.
 */
struct utf8_case {
        const char *what;
        const char *bytes;
        size_t len;
        int expect;
};

#define OK(w, s) { w, s, sizeof(s) - 1, 0 }
#define BAD(w, s) { w, s, sizeof(s) - 1, -EBADMSG }

static void run_cases(const struct utf8_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = mql__utf8_check((const uint8_t *)cases[i].bytes, cases[i].len);
                if (r != cases[i].expect)
                        fail_msg("%s: got %d, want %d", cases[i].what, r, cases[i].expect);
        }
}

static void test_well_formed(void **state) {
        static const struct utf8_case cases[] = {
                OK("empty", ""),
                OK("ascii", "hello/world"),
                OK("U+0001", "\x01"),
                OK("U+007F, last 1-byte", "\x7F"),
                OK("U+0080, first 2-byte", "\xC2\x80"),
                OK("U+00E9", "\xC3\xA9"),
                OK("U+07FF, last 2-byte", "\xDF\xBF"),
                OK("U+0800, first 3-byte", "\xE0\xA0\x80"),
                OK("U+20AC", "\xE2\x82\xAC"),
                OK("U+D7FF, just below surrogates", "\xED\x9F\xBF"),
                OK("U+E000, just above surrogates", "\xEE\x80\x80"),
                OK("U+FEFF, BOM is kept (MQTT-1.5.4-3)", "\xEF\xBB\xBF"),
                OK("BOM inside a topic", "a/\xEF\xBB\xBF/b"),
                OK("U+FFFE, noncharacter allowed", "\xEF\xBF\xBE"),
                OK("U+FFFF, last 3-byte", "\xEF\xBF\xBF"),
                OK("U+10000, first 4-byte", "\xF0\x90\x80\x80"),
                OK("U+1F600", "\xF0\x9F\x98\x80"),
                OK("U+FFFFF", "\xF3\xBF\xBF\xBF"),
                OK("U+100000", "\xF4\x80\x80\x80"),
                OK("U+10FFFF, last code point", "\xF4\x8F\xBF\xBF"),
                OK("mixed widths", "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"),
                OK("control chars other than NUL", "\x1F\x7F\x09"),
        };
        (void)state;
        run_cases(cases, ELEMENTSOF(cases));
}

static void test_nul(void **state) {
        static const struct utf8_case cases[] = {
                BAD("U+0000 alone (MQTT-1.5.4-2)", "\0"),
                BAD("U+0000 in the middle", "ab\0cd"),
                BAD("U+0000 at the end", "abc\0"),
                BAD("U+0000 overlong C0 80", "\xC0\x80"),
        };
        (void)state;
        run_cases(cases, ELEMENTSOF(cases));
}

static void test_overlong(void **state) {
        static const struct utf8_case cases[] = {
                BAD("C0 80", "\xC0\x80"),
                BAD("C0 AF, overlong '/'", "\xC0\xAF"),
                BAD("C1 BF, overlong U+007F", "\xC1\xBF"),
                BAD("E0 80 80", "\xE0\x80\x80"),
                BAD("E0 80 AF, overlong '/'", "\xE0\x80\xAF"),
                BAD("E0 9F BF, overlong U+07FF", "\xE0\x9F\xBF"),
                BAD("F0 80 80 80", "\xF0\x80\x80\x80"),
                BAD("F0 80 80 AF, overlong '/'", "\xF0\x80\x80\xAF"),
                BAD("F0 8F BF BF, overlong U+FFFF", "\xF0\x8F\xBF\xBF"),
                BAD("F8 88 80 80 80, 5-byte form", "\xF8\x88\x80\x80\x80"),
                BAD("FC 84 80 80 80 80, 6-byte form", "\xFC\x84\x80\x80\x80\x80"),
        };
        (void)state;
        run_cases(cases, ELEMENTSOF(cases));
}

static void test_surrogates(void **state) {
        static const struct utf8_case cases[] = {
                BAD("U+D800 (MQTT-1.5.4-1)", "\xED\xA0\x80"),
                BAD("U+DB7F", "\xED\xAD\xBF"),
                BAD("U+DB80", "\xED\xAE\x80"),
                BAD("U+DBFF", "\xED\xAF\xBF"),
                BAD("U+DC00", "\xED\xB0\x80"),
                BAD("U+DFFF", "\xED\xBF\xBF"),
                BAD("CESU-8 pair for U+10000", "\xED\xA0\x80\xED\xB0\x80"),
                BAD("surrogate after ascii", "a/b\xED\xB2\x80"),
        };
        (void)state;
        run_cases(cases, ELEMENTSOF(cases));
}

static void test_every_surrogate(void **state) {
        /* All 2048 surrogates: ED A0 80 .. ED BF BF. */
        (void)state;
        for (unsigned cp = 0xD800; cp <= 0xDFFF; cp++) {
                uint8_t b[3] = { 0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F) };
                if (mql__utf8_check(b, sizeof(b)) != -EBADMSG)
                        fail_msg("U+%04X accepted", cp);
        }
}

static void test_too_large(void **state) {
        static const struct utf8_case cases[] = {
                BAD("F4 90 80 80, U+110000", "\xF4\x90\x80\x80"),
                BAD("F4 BF BF BF", "\xF4\xBF\xBF\xBF"),
                BAD("F5 80 80 80", "\xF5\x80\x80\x80"),
                BAD("F7 BF BF BF", "\xF7\xBF\xBF\xBF"),
        };
        (void)state;
        run_cases(cases, ELEMENTSOF(cases));
}

static void test_invalid_leads(void **state) {
        /* 0x80..0xC1 and 0xF5..0xFF can never start a sequence. */
        (void)state;
        for (unsigned lead = 0x80; lead <= 0xFF; lead++) {
                if (lead >= 0xC2 && lead <= 0xF4)
                        continue;
                uint8_t b[4] = { (uint8_t)lead, 0x80, 0x80, 0x80 };
                for (size_t n = 1; n <= sizeof(b); n++)
                        if (mql__utf8_check(b, n) != -EBADMSG)
                                fail_msg("lead %02X len %zu accepted", lead, n);
        }
}

static void test_truncated(void **state) {
        static const struct utf8_case cases[] = {
                BAD("C3 at end", "\xC3"),
                BAD("ascii then C3", "abc\xC3"),
                BAD("E2 at end", "\xE2"),
                BAD("E2 82 at end", "\xE2\x82"),
                BAD("ascii then E2 82", "a\xE2\x82"),
                BAD("F0 at end", "\xF0"),
                BAD("F0 9F at end", "\xF0\x9F"),
                BAD("F0 9F 98 at end", "\xF0\x9F\x98"),
                BAD("F4 8F BF at end", "\xF4\x8F\xBF"),
                BAD("2-byte cut by ascii", "\xC3" "a"),
                BAD("3-byte cut by ascii", "\xE2\x82" "a"),
                BAD("4-byte cut by ascii", "\xF0\x9F\x98" "a"),
                BAD("3-byte cut by new lead", "\xE2\xC3\xA9"),
                BAD("4-byte cut by NUL", "\xF0\x9F\x98\0"),
        };
        (void)state;
        run_cases(cases, ELEMENTSOF(cases));
}

static void test_truncated_prefixes(void **state) {
        /* Every proper prefix of a multi-byte character is rejected. */
        static const char *const chars[] = {
                "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xEF\xBF\xBF",
                "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF",
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(chars); i++) {
                size_t len = strlen(chars[i]);
                assert_int_equal(mql__utf8_check((const uint8_t *)chars[i], len), 0);
                for (size_t n = 1; n < len; n++)
                        if (mql__utf8_check((const uint8_t *)chars[i], n) != -EBADMSG)
                                fail_msg("char %zu prefix %zu accepted", i, n);
        }
}

static void test_stray_continuation(void **state) {
        static const struct utf8_case cases[] = {
                BAD("lone 80", "\x80"),
                BAD("lone BF", "\xBF"),
                BAD("80 after ascii", "a\x80"),
                BAD("extra continuation after 2-byte", "\xC3\xA9\xA9"),
                BAD("extra continuation after 3-byte", "\xE2\x82\xAC\x80"),
                BAD("extra continuation after 4-byte", "\xF0\x9F\x98\x80\x80"),
                BAD("2-byte lead, ascii second", "\xC3\x41"),
                BAD("3-byte lead, bad third", "\xE2\x82\x41"),
                BAD("4-byte lead, bad fourth", "\xF0\x9F\x98\xC0"),
                BAD("lead followed by lead", "\xC3\xC3"),
        };
        (void)state;
        run_cases(cases, ELEMENTSOF(cases));
}

static void test_length_is_honoured(void **state) {
        /* Bytes past len are never read or judged. */
        static const uint8_t bytes[] = { 'a', 'b', 0x00, 0xFF };
        (void)state;
        assert_int_equal(mql__utf8_check(bytes, 2), 0);
        assert_int_equal(mql__utf8_check(bytes, 3), -EBADMSG);
        assert_int_equal(mql__utf8_check(NULL, 0), 0);
}

/*
 * Checks the validator against a plain decoder over every code point: the
 * encoding of each scalar value is accepted, and nothing else of that shape.
 */
static size_t encode(uint32_t cp, uint8_t *b) {
        if (cp < 0x80) {
                b[0] = (uint8_t)cp;
                return 1;
        }
        if (cp < 0x800) {
                b[0] = 0xC0 | (cp >> 6);
                b[1] = 0x80 | (cp & 0x3F);
                return 2;
        }
        if (cp < 0x10000) {
                b[0] = 0xE0 | (cp >> 12);
                b[1] = 0x80 | ((cp >> 6) & 0x3F);
                b[2] = 0x80 | (cp & 0x3F);
                return 3;
        }
        b[0] = 0xF0 | (cp >> 18);
        b[1] = 0x80 | ((cp >> 12) & 0x3F);
        b[2] = 0x80 | ((cp >> 6) & 0x3F);
        b[3] = 0x80 | (cp & 0x3F);
        return 4;
}

static void test_every_code_point(void **state) {
        (void)state;
        for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
                uint8_t b[4];
                size_t n = encode(cp, b);
                int want = (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) ? -EBADMSG : 0;
                if (mql__utf8_check(b, n) != want)
                        fail_msg("U+%04X: want %d", cp, want);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_well_formed),
                cmocka_unit_test(test_nul),
                cmocka_unit_test(test_overlong),
                cmocka_unit_test(test_surrogates),
                cmocka_unit_test(test_every_surrogate),
                cmocka_unit_test(test_too_large),
                cmocka_unit_test(test_invalid_leads),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_truncated_prefixes),
                cmocka_unit_test(test_stray_continuation),
                cmocka_unit_test(test_length_is_honoured),
                cmocka_unit_test(test_every_code_point),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

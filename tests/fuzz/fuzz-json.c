/* SPDX-License-Identifier: MIT */

/*
 * The CLI's strict JSON reader (daemon/cli/json-read.c), which reads the
 * daemon's STATUS document. Checked: the parser never reads outside the
 * input, an error offset lies inside it, a parsed tree is well formed
 * (every string is well-formed UTF-8 of its stated length, counts match),
 * and every string written back by the CLI's writer parses to the same
 * bytes.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

/* A string written by json_write_string() reads back the same (when it
 * was UTF-8; otherwise with U+FFFD, which is still well formed). */
static void check_roundtrip(const char *s, size_t len) {
        char *buf = NULL;
        size_t buf_len = 0;
        FILE *f = open_memstream(&buf, &buf_len);
        CHECK(f);
        json_write_string(f, s, len);
        CHECK(fclose(f) == 0);
        struct json j;
        size_t at;
        CHECK(json_parse(buf, buf_len, &j, &at) == 0);
        CHECK(j.type == JSON_STRING);
        if (utf8_valid(s, len))
                CHECK(j.len == len && memcmp(j.str, s, len) == 0);
        json_done(&j);
        free(buf);
}

static void check_tree(const struct json *j, unsigned depth) {
        CHECK(depth <= 65);
        switch (j->type) {
        case JSON_STRING:
                CHECK(j->str && j->str[j->len] == '\0');
                CHECK(utf8_valid(j->str, j->len));
                check_roundtrip(j->str, j->len);
                break;
        case JSON_NUMBER:
                CHECK(j->str && j->len > 0);
                break;
        case JSON_ARRAY:
                CHECK(j->n == 0 || j->items);
                for (size_t i = 0; i < j->n; i++)
                        check_tree(&j->items[i], depth + 1);
                break;
        case JSON_OBJECT:
                CHECK(j->n == 0 || j->members);
                for (size_t i = 0; i < j->n; i++) {
                        CHECK(utf8_valid(j->members[i].key, j->members[i].key_len));
                        /* json_get() finds the last member of a key. */
                        const struct json *v = json_get(j, j->members[i].key);
                        CHECK(v);
                        check_tree(&j->members[i].value, depth + 1);
                }
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A copy of exactly size bytes, so that reading past it is caught. */
        char *s = malloc(size ? size : 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        struct json j;
        size_t at = SIZE_MAX;
        int r = json_parse(s, size, &j, &at);
        if (r == 0) {
                check_tree(&j, 0);
                json_done(&j);
        } else {
                CHECK(r == -EBADMSG || r == -ENOMEM);
                if (r == -EBADMSG)
                        CHECK(at <= size);
        }
        check_roundtrip(s, size);
        free(s);
        return 0;
}

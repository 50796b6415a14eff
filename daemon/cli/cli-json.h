/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Just enough JSON for the CLI: a writer for `sub -F json` (json-write.c)
 * and a strict reader for the STATUS document (json-read.c), over the
 * daemon's UTF-8 checker (../utf8.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "utf8.h"

/* ---- writing (json-write.c) ---- */

/* s[0..len) as a JSON string, quotes included. Bytes that are not UTF-8
 * become U+FFFD: the output always parses. */
void json_write_string(FILE *f, const char *s, size_t len);
/* p[0..len) as a quoted base64 string (RFC 4648, with padding). */
void json_write_base64(FILE *f, const void *p, size_t len);

/* ---- reading (json-read.c) ---- */

enum json_type {
        JSON_NULL,
        JSON_FALSE,
        JSON_TRUE,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
};

struct json_member;

/* A parsed value. Owns everything below it. */
struct json {
        enum json_type type;
        /* STRING: the decoded text (UTF-8, NUL-terminated, may hold NUL
         * bytes before len). NUMBER: its text as written. */
        char *str;
        size_t len;
        struct json *items;          /* ARRAY: n items */
        struct json_member *members; /* OBJECT: n members, in document order */
        size_t n;
};

struct json_member {
        char *key; /* decoded, NUL-terminated */
        size_t key_len;
        struct json value;
};

/*
 * Parses s[0..len), which must hold exactly one JSON value (RFC 8259:
 * whitespace around it allowed, nothing else), nested at most 64 deep.
 * Strings must be well-formed UTF-8; \u escapes must pair surrogates.
 * Returns 0 and fills *ret (free with json_done()), -EBADMSG with the
 * offset of the offending byte in *ret_error_at, or -ENOMEM.
 */
int json_parse(const char *s, size_t len, struct json *ret, size_t *ret_error_at);
void json_done(struct json *j);
/* The value of `key` in object `obj` (the last one, should it repeat), or
 * NULL when obj is NULL, not an object, or has no such key. */
const struct json *json_get(const struct json *obj, const char *key);

/* SPDX-License-Identifier: MIT */
#pragma once

/* Just enough JSON writing for the STATUS document. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

/* Appends s[0..len) as a JSON string, quotes included; bytes that are not
 * valid UTF-8 become U+FFFD so the document always parses. */
int json_string(struct bytes *b, const char *s, size_t len);
/* "key": with a leading comma unless first. */
int json_key(struct bytes *b, bool first, const char *key);
int json_kv_str(struct bytes *b, bool first, const char *key, const char *value);
int json_kv_u64(struct bytes *b, bool first, const char *key, uint64_t value);
int json_kv_bool(struct bytes *b, bool first, const char *key, bool value);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * UTF-8 as RFC 3629 has it (shortest form only, no surrogates, nothing
 * above U+10FFFF), for the daemon, its config loader and the CLI. (The
 * library has its own checker, but these use the public API only.)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the well-formed UTF-8 sequence at the start of s[0..len)
 * and its code point in *ret_cp; 0 when ill-formed (overlong, surrogate,
 * above U+10FFFF, truncated). len must be > 0. */
size_t utf8_decode(const char *s, size_t len, uint32_t *ret_cp);
bool utf8_valid(const char *s, size_t len);
/* Writes code point cp (a scalar value) as UTF-8 into out; returns 1-4. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The value parsers of the config loader: pure functions from a string to a
 * number, no allocation, no messages. Each returns 0 and fills *ret, or
 * -EINVAL (-ERANGE for a well-formed number outside [min, max]); the caller
 * says what was expected, since only it knows the key.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "utf8.h"

/* yes/no, true/false, on/off, 1/0; any case. */
int parse_bool(const char *s, bool *ret);

/* Plain decimal digits (no sign, no spaces), in [min, max]. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Seconds with up to three decimals ("0.5", "30") as milliseconds in
 * [min_ms, max_ms]. */
int parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *ret);

/* Bytes, with an optional K, M or G suffix (powers of 1024, any case). */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* One to four octal digits, at most 0777: a file mode without the
 * set-id and sticky bits, which make no sense on a socket. */
int parse_mode(const char *s, mode_t *ret);

/* A syslog level word (emerg alert crit err|error warning|warn notice info
 * debug, any case) or its number 0..7. */
int parse_log_level(const char *s, int *ret);

/* The MQTT protocol level: "5" or "5.0" give 5, "3.1.1", "311" or "4" give 4. */
int parse_protocol(const char *s, uint8_t *ret);

/* Writes `s` into buf for a message: '"' and '\' backslashed, control bytes
 * and bytes that are not UTF-8 as \xNN, cut after CONFIG_VALUE_SHOWN input
 * bytes with "..." appended. Always NUL-terminates. */
#define CONFIG_VALUE_SHOWN 64
#define CONFIG_VALUE_BUF (CONFIG_VALUE_SHOWN * 4 + 4)
void escape_value(const char *s, size_t len, char buf[static CONFIG_VALUE_BUF]);

/* "16M", "1000", "1.5" for messages: a size with the largest exact suffix,
 * milliseconds as seconds. buf holds at least 32 bytes. */
void format_size(uint64_t n, char *buf, size_t size);
void format_seconds(uint64_t ms, char *buf, size_t size);

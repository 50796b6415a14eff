/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Checks that s[0..len) is well-formed UTF-8 as MQTT requires of every
 * string (MQTT-1.5.4-1, MQTT-1.5.4-2): shortest-form encodings only, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, and no U+0000.
 * Returns 0 or -EBADMSG.
 */
int mql__utf8_check(const uint8_t *s, size_t len);

/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the IPC parser and formatter. Not installed. */

#include <stdbool.h>
#include <stddef.h>

/* Longest MQTT string or binary field (a two-byte length prefix). */
#define IPC_MQTT_STR_MAX 65535u

/* A control byte: never raw inside a token, always percent-encoded. */
static inline bool ipc_is_ctl(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

/* Bytes percent-encoded in topics, option values and user properties: the
 * token separator, the escape itself, the option separator, control bytes. */
static inline bool ipc_needs_escape(unsigned char c) {
        return c == ' ' || c == '%' || c == '=' || ipc_is_ctl(c);
}

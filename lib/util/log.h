/* SPDX-License-Identifier: MIT */
#pragma once

#include <mqlink/mqlink.h>

/* Formats and hands a message to the callback of mql_log_set(), if any and
 * if `level` passes its threshold. Returns -err so that a failure path can
 * log and return in one statement. */
int mql__log(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error_errno(err, ...) mql__log(MQL_LOG_ERR, (err), __VA_ARGS__)
#define log_warning(...) mql__log(MQL_LOG_WARNING, 0, __VA_ARGS__)
#define log_info(...) mql__log(MQL_LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) mql__log(MQL_LOG_DEBUG, 0, __VA_ARGS__)

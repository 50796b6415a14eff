/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The daemon's log: one line per message on stderr. When stderr is the
 * journal (JOURNAL_STREAM names its device and inode) each line starts with
 * "<N>", the syslog priority, which journald turns into the entry's
 * priority; otherwise with a readable level word. The library's own messages
 * come through here too (log_setup() installs mql_log_set()).
 */

#include <stdbool.h>
#include <syslog.h>

void log_setup(void);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Logs and returns -|err| (or 0 for err 0), so a failure path can log and
 * return in one statement. %m is not used; pass the errno. */
int log_full_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_full(level, ...) log_full_errno((level), 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(err, ...) log_full_errno(LOG_ERR, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) log_full_errno(LOG_WARNING, (err), __VA_ARGS__)

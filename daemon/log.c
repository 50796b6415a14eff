/* SPDX-License-Identifier: MIT */

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mqlink/mqlink.h>

static int max_level = LOG_INFO;
static bool to_journal;

/* JOURNAL_STREAM is "DEV:INODE" of the stream journald gave us; it only
 * counts when stderr is still that stream (not redirected since). */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

static void log_line(int level, const char *msg) {
        static const char *const words[] = { "emerg", "alert", "crit",   "error",
                                             "warning", "notice", "info", "debug" };
        if (level < 0)
                level = 0;
        if (level > 7)
                level = 7;
        if (to_journal)
                fprintf(stderr, "<%d>%s\n", level, msg);
        else
                fprintf(stderr, "mqlinkd[%s]: %s\n", words[level], msg);
}

static void library_log(int level, const char *msg, void *userdata) {
        if (level <= max_level)
                log_line(level, msg);
}

void log_setup(void) {
        to_journal = stderr_is_journal();
        /* Line buffered, so that lines from a crash are not lost and the
         * journal gets whole lines. */
        setvbuf(stderr, NULL, _IOLBF, 0);
        mql_log_set(library_log, max_level, NULL);
}

void log_set_max_level(int level) {
        max_level = level;
        mql_log_set(library_log, max_level, NULL);
}

int log_get_max_level(void) {
        return max_level;
}

int log_full_errno(int level, int err, const char *fmt, ...) {
        char msg[2048];
        va_list ap;
        int n;

        if (err < 0)
                err = -err;
        if (level > max_level)
                return -err;
        va_start(ap, fmt);
        n = vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -err;
        if (err != 0 && (size_t)n < sizeof msg)
                snprintf(msg + n, sizeof msg - (size_t)n, ": %s", mql_strerror(-err));
        log_line(level, msg);
        return -err;
}

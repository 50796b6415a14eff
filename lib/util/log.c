/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "macro.h"

static struct {
        mql_log_fn fn;
        int max_level;
        void *userdata;
} logger;

MQL_EXPORT void mql_log_set(mql_log_fn fn, int max_level, void *userdata) {
        logger.fn = fn;
        logger.max_level = max_level;
        logger.userdata = userdata;
}

int mql__log(int level, int err, const char *fmt, ...) {
        if (err > 0)
                err = -err;
        if (!logger.fn || level > logger.max_level)
                return err;

        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        logger.fn(level, buf, logger.userdata);
        return err;
}

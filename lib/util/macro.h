/* SPDX-License-Identifier: MIT */
#pragma once

/* Internal helpers shared by every part of the library. Not installed. */

#include <stdlib.h>
#include <unistd.h>

#define MQL_EXPORT __attribute__((visibility("default")))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))
#define _pure_ __attribute__((pure))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

static inline void freep(void *p) {
        free(*(void **)p);
}
static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hands a pointer out of a _cleanup_ variable: returns it and clears it. */
#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) _taken_ = (p);         \
                (p) = NULL;                          \
                _taken_;                             \
        })
#define TAKE_FD(fd)                                  \
        ({                                           \
                int _taken_ = (fd);                  \
                (fd) = -1;                           \
                _taken_;                             \
        })

/* SPDX-License-Identifier: MIT */

/* Small helpers the benchmarks share (see bench-util.h). */

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void nap_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static uint64_t tv_ns(struct timeval tv) {
        return (uint64_t)tv.tv_sec * NSEC_PER_SEC + (uint64_t)tv.tv_usec * NSEC_PER_USEC;
}

uint64_t self_cpu_ns(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

long self_maxrss_kib(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

uint64_t proc_cpu_ns(pid_t pid) {
        char path[64], buf[1024];
        unsigned long utime = 0, stime = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        /* Fields 14 and 15, counted after the parenthesised command name
         * (which may hold spaces and parentheses itself). */
        const char *p = strrchr(buf, ')');
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                         &stime) != 2)
                return 0;
        return (uint64_t)(utime + stime) * NSEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK);
}

int write_all(int fd, const void *buf, size_t len) {
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t r = write(fd, p, len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                p += r;
                len -= (size_t)r;
        }
        return 0;
}

int read_all(int fd, void *buf, size_t len, int timeout_ms) {
        uint8_t *p = buf;
        uint64_t deadline = now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;

        while (len > 0) {
                uint64_t t = now_ns();
                if (t >= deadline)
                        return -ETIMEDOUT;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int r = poll(&pfd, 1, (int)((deadline - t) / NSEC_PER_MSEC) + 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        continue;
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EPIPE;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

uint8_t *make_payload(size_t size) {
        uint8_t *p = malloc(size ? size : 1);

        if (!p)
                abort();
        for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t)('a' + i % 26);
        return p;
}

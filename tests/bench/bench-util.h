/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Small helpers the benchmarks share: the clock, this and other processes'
 * CPU time and memory, whole reads and writes on pipes, the payload.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull

/* CLOCK_MONOTONIC, ns. */
uint64_t now_ns(void);
/* Sleeps ms milliseconds, signals or not. */
void nap_ms(unsigned ms);

/* CPU time (user + sys) this process has used so far (getrusage). */
uint64_t self_cpu_ns(void);
/* This process's peak RSS so far, KiB. */
long self_maxrss_kib(void);
/* CPU time (user + sys) of process `pid` so far (/proc/PID/stat, in clock
 * ticks of 10 ms), 0 if unknown. */
uint64_t proc_cpu_ns(pid_t pid);

/* Writes all of buf, retrying on EINTR. Returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes within timeout_ms. Returns 0, -ETIMEDOUT, -EPIPE
 * (the writer closed first) or -errno. */
int read_all(int fd, void *buf, size_t len, int timeout_ms);

/* The payload every benchmark sends, size bytes of "abc...z" over and over,
 * malloc'd (aborts when out of memory). */
uint8_t *make_payload(size_t size);

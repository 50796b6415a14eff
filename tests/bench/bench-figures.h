/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the benchmarks do with their figures: each one's median over the
 * rounds (each figure on its own: the run with the median rate need not
 * have the median CPU time), and a line on stderr per run, so that a long
 * benchmark shows how it goes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The median of v[0..n), n > 0; sorts v. */
double median(double *v, size_t n);

/* sum.field = the median of runs[0..n).field, through v (n doubles). */
#define MEDIAN_OF(sum, runs, n, v, field)                   \
        do {                                                \
                for (size_t i_ = 0; i_ < (size_t)(n); i_++) \
                        (v)[i_] = (double)(runs)[i_].field; \
                (sum).field = median((v), (size_t)(n));     \
        } while (0)

/* Ends a run's line on stderr: "R msg/s, D/N delivered", or "FAILED: err". */
void report_run(bool valid, double rate, uint64_t delivered, unsigned n, const char *err);

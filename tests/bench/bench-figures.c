/* SPDX-License-Identifier: MIT */

/* Medians and per-run lines (see bench-figures.h). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-figures.h"

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

double median(double *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void report_run(bool valid, double rate, uint64_t delivered, unsigned n, const char *err) {
        if (valid)
                fprintf(stderr, "%.0f msg/s, %" PRIu64 "/%u delivered\n", rate, delivered, n);
        else
                fprintf(stderr, "FAILED: %s\n", err);
}

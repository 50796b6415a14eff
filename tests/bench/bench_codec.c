/* SPDX-License-Identifier: MIT */
/*
 * Encode and decode throughput of the packet codec, each beside memcpy() of
 * the same bytes: memcpy is the ceiling any codec that must at least touch
 * its output could reach, so codec/memcpy says how close we are to it.
 *
 * Decoding is zero-copy, so for large PUBLISH payloads it does not read the
 * payload at all and beats memcpy by far; that is the point of the design.
 *
 * Usage: bench_codec [--quick]   (--quick: ~20 ms per figure, a smoke test)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mqlink/mqlink.h>

struct bench_case {
        const char *name;
        enum mql_version version;
        struct mql_packet pkt;
        uint8_t *wire; /* pkt encoded once, the input of decode and memcpy */
        size_t len;
};

/* Results of every timed loop end up here, so no loop can be optimised out. */
static volatile uint64_t sink;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const struct bench_case *c, long r) {
        fprintf(stderr, "bench_codec: %s of %s failed: %s\n", what, c->name, mql_strerror((int)r));
        exit(EXIT_FAILURE);
}

/* ---- the timed operations ----------------------------------------------- */

typedef uint64_t (*op_fn)(struct bench_case *c, uint8_t *scratch, uint64_t iters);

/* What a sender does: size the packet, then write it. */
static uint64_t op_encode(struct bench_case *c, uint8_t *scratch, uint64_t iters) {
        uint64_t sum = 0;

        for (uint64_t i = 0; i < iters; i++) {
                ssize_t n = mql_packet_size(&c->pkt, c->version);
                if (n < 0)
                        die("size", c, n);
                ssize_t r = mql_packet_encode(&c->pkt, c->version, scratch, (size_t)n);
                if (r != n)
                        die("encode", c, r);
                sum += (uint64_t)r + scratch[i % (uint64_t)r];
        }
        return sum;
}

static uint64_t op_decode(struct bench_case *c, uint8_t *scratch, uint64_t iters) {
        uint64_t sum = 0;

        for (uint64_t i = 0; i < iters; i++) {
                struct mql_packet p;
                ssize_t r = mql_packet_decode(c->wire, c->len, c->version, &p);
                if (r != (ssize_t)c->len)
                        die("decode", c, r);
                sum += (uint64_t)r + p.type;
        }
        return sum;
}

static uint64_t op_memcpy(struct bench_case *c, uint8_t *scratch, uint64_t iters) {
        uint64_t sum = 0;

        for (uint64_t i = 0; i < iters; i++) {
                memcpy(scratch, c->wire, c->len);
                /* The copy must really happen each time: the barrier says
                 * the buffer is read behind the compiler's back. */
                __asm__ volatile("" : : "r"(scratch) : "memory");
                sum += scratch[i % c->len];
        }
        return sum;
}

/* ---- timing --------------------------------------------------------------- */

struct result {
        double pkts_per_s;
        double mb_per_s;
};

/* Runs `op` for about `seconds`: first doubles the iteration count until one
 * run takes a measurable slice, then scales it to the target. */
static struct result measure(op_fn op, struct bench_case *c, uint8_t *scratch, double seconds) {
        uint64_t iters = 1;
        double t;

        for (;;) {
                double t0 = now();
                sink += op(c, scratch, iters);
                t = now() - t0;
                if (t >= seconds / 16 || iters >= UINT64_MAX / 4)
                        break;
                iters *= 2;
        }

        iters = (uint64_t)((double)iters * seconds / t) + 1;
        double t0 = now();
        sink += op(c, scratch, iters);
        t = now() - t0;

        return (struct result){
                .pkts_per_s = (double)iters / t,
                .mb_per_s = (double)iters * (double)c->len / t / 1e6,
        };
}

/* ---- the cases ------------------------------------------------------------ */

#define TOPIC "sensors/building-1/floor-3/temperature"

/* MQTT 5 PUBLISH properties a real sender would set. */
static const struct mql_prop publish_props[] = {
        { .id = MQL_PROP_MESSAGE_EXPIRY_INTERVAL, .u32 = 3600 },
        { .id = MQL_PROP_CONTENT_TYPE, .str = { "application/json", 16 } },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { { "source", 6 }, { "mqlink", 6 } } },
        { .id = MQL_PROP_USER_PROPERTY, .pair = { { "trace-id", 8 }, { "4bf92f3577b34da6", 16 } } },
        { .id = MQL_PROP_TOPIC_ALIAS, .u32 = 7 },
};

static struct mql_subscription subs_v311[10], subs_v5[10];
static const char *const filters[10] = {
        "sensors/+/temperature", "sensors/+/humidity", "home/kitchen/#", "home/+/light/set",
        "$SYS/broker/load/#",    "cmd/mqlink-1/+",     "status/#",       "alerts/critical",
        "$share/workers/jobs/#", "a/b/c/d/e/f/g",
};

static struct mql_packet publish(uint8_t qos, const uint8_t *payload, size_t len,
                                 const struct mql_prop *props, size_t nprops) {
        return (struct mql_packet){
                .type = MQL_PUBLISH,
                .publish = {
                        .qos = qos,
                        .topic = { TOPIC, sizeof(TOPIC) - 1 },
                        .packet_id = qos ? 4242 : 0,
                        .props = { .list = props, .count = nprops },
                        .payload = { payload, len },
                },
        };
}

static struct mql_packet subscribe(enum mql_version version) {
        struct mql_subscription *subs = version == MQL_V5 ? subs_v5 : subs_v311;

        for (size_t i = 0; i < 10; i++)
                subs[i] = (struct mql_subscription){
                        .filter = { filters[i], strlen(filters[i]) },
                        .qos = (uint8_t)(i % 3),
                        /* Options beyond QoS do not exist in 3.1.1. */
                        .no_local = version == MQL_V5 && i % 2,
                        .retain_handling = version == MQL_V5 ? (uint8_t)(i % 3) : 0,
                };
        return (struct mql_packet){
                .type = MQL_SUBSCRIBE,
                .subscribe = {
                        .packet_id = 17,
                        .filters = { .list = subs, .count = 10 },
                },
        };
}

static void prepare(struct bench_case *c) {
        ssize_t n = mql_packet_size(&c->pkt, c->version);
        if (n < 0)
                die("size", c, n);
        c->wire = malloc((size_t)n);
        if (!c->wire)
                die("allocation", c, -ENOMEM);
        ssize_t r = mql_packet_encode(&c->pkt, c->version, c->wire, (size_t)n);
        if (r != n)
                die("encode", c, r);
        c->len = (size_t)n;

        /* Check once that the bytes decode, before timing anything. */
        struct mql_packet p;
        r = mql_packet_decode(c->wire, c->len, c->version, &p);
        if (r != n)
                die("decode", c, r);
}

int main(int argc, char **argv) {
        static uint8_t payload[65536];
        double seconds = 0.35;
        size_t nprops = sizeof(publish_props) / sizeof(publish_props[0]);

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--quick") == 0) {
                        seconds = 0.02;
                } else {
                        fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
                        return 2;
                }
        }

        for (size_t i = 0; i < sizeof(payload); i++)
                payload[i] = (uint8_t)(i * 7 + 1);

        struct bench_case cases[] = {
                { "PUBLISH 16 B", MQL_V311, publish(1, payload, 16, NULL, 0) },
                { "PUBLISH 256 B", MQL_V311, publish(1, payload, 256, NULL, 0) },
                { "PUBLISH 64 KiB", MQL_V311, publish(1, payload, 65536, NULL, 0) },
                { "PUBLISH 16 B +props", MQL_V5, publish(1, payload, 16, publish_props, nprops) },
                { "PUBLISH 256 B +props", MQL_V5, publish(1, payload, 256, publish_props, nprops) },
                { "PUBLISH 64 KiB +props", MQL_V5,
                  publish(1, payload, 65536, publish_props, nprops) },
                { "SUBSCRIBE 10 filters", MQL_V311, subscribe(MQL_V311) },
                { "SUBSCRIBE 10 filters", MQL_V5, subscribe(MQL_V5) },
        };

        printf("%-22s %-5s %7s  %-6s %13s %10s %12s %7s\n", "case", "ver", "bytes", "op",
               "packets/s", "MB/s", "memcpy MB/s", "ratio");

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct bench_case *c = &cases[i];

                prepare(c);

                uint8_t *scratch = malloc(c->len);
                if (!scratch)
                        die("allocation", c, -ENOMEM);

                struct result mem = measure(op_memcpy, c, scratch, seconds);
                struct {
                        const char *name;
                        op_fn fn;
                } ops[] = { { "encode", op_encode }, { "decode", op_decode } };

                for (size_t j = 0; j < 2; j++) {
                        struct result r = measure(ops[j].fn, c, scratch, seconds);
                        printf("%-22s %-5s %7zu  %-6s %13.0f %10.1f %12.1f %7.3f\n", c->name,
                               c->version == MQL_V5 ? "5" : "3.1.1", c->len, ops[j].name,
                               r.pkts_per_s, r.mb_per_s, mem.mb_per_s, r.mb_per_s / mem.mb_per_s);
                }
                fflush(stdout);

                free(scratch);
                free(c->wire);
        }
        return 0;
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One publisher and one subscriber through a broker, each in a process of
 * its own (fork), so that each one's CPU time and peak RSS are its own;
 * each reports a struct peer_result through a pipe. The subscriber starts
 * first and says when it is subscribed; then the publisher runs; once it
 * has reported, the parent tells the subscriber, which waits a while for
 * stragglers (QoS 0 may lose some) and reports in turn. Which client a
 * child runs is the job's peer_fn: bench-mosq.h has libmosquitto's,
 * bench_client.c mqlink's and a raw socket's.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PEER_STR_(x) #x
#define PEER_STR(x) PEER_STR_(x)

/* The mosquitto configuration of the benchmarks, with the clients' in-flight
 * window as the broker's: unbounded queues, so that a slow subscriber sees
 * every message (QoS 0 too: mosquitto drops those only when a queue is
 * full); no disk; Nagle off as in the clients; no per-connection log.
 * (One setting a line, which clang-format would not keep.) */
/* clang-format off */
#define PEER_BROKER_CONF(window)                       \
        "persistence false\n"                          \
        "max_inflight_messages " PEER_STR(window) "\n" \
        "max_queued_messages 0\n"                      \
        "max_queued_bytes 0\n"                         \
        "set_tcp_nodelay true\n"                       \
        "connection_messages false\n"
/* clang-format on */

struct peer_job;
struct peer_result;

/* What a child runs. A subscriber calls peer_sub_ready() once subscribed
 * and stops when peer_sub_more() says so; a publisher gets -1 for both
 * fds. Failures go to res (peer_fail()). */
typedef void (*peer_fn)(const struct peer_job *j, struct peer_result *res, int ready_fd,
                        int ctl_fd);

struct peer_job {
        peer_fn run;
        int port; /* the broker's, on 127.0.0.1 */
        uint8_t qos;
        size_t size; /* of each payload */
        unsigned n;  /* messages */
        /* Publisher: at most this many messages outstanding; the client's
         * send maximum too. */
        uint16_t window;
        uint16_t receive_maximum; /* the client's */
        /* Publisher: measure publish -> PUBACK/PUBCOMP (and allocate its
         * bookkeeping before the work, whatever the QoS: see peer_begin()). */
        bool latency;
        uint64_t stall_nsec; /* no progress for this long fails the child */
        /* Subscriber: once the publisher is done, how long to wait for
         * stragglers. */
        uint64_t idle_nsec;
        char topic[64];
};

/* What a child reports through its pipe. Times are CLOCK_MONOTONIC ns. */
struct peer_result {
        int err; /* 0, or the errno that describes what went wrong */
        char msg[200];
        uint64_t count;   /* publisher: completed; subscriber: received */
        uint64_t failed;  /* publisher: completions with an error */
        uint64_t bad;     /* subscriber: payloads of the wrong size */
        uint64_t t_first; /* publisher: first publish; subscriber: first message */
        uint64_t t_last;  /* publisher: last completion; subscriber: last message */
        uint64_t cpu_ns;  /* user + sys over the work */
        long maxrss_kib;
        uint64_t lat_p50_ns, lat_p99_ns; /* publisher, QoS 1/2: publish -> PUBACK/PUBCOMP */
        unsigned server_receive_maximum;
};

/* ---- in a child ---------------------------------------------------------- */

/* One child process runs one client, so its state can live here, where
 * the client's callbacks reach it without userdata. */
struct peer_state {
        const struct peer_job *j;
        struct peer_result *res;
        bool connected, lost;
        int lost_err;
        bool subscribed;
        bool ready; /* the subscriber said so to the parent */
        /* publisher */
        /* Send times, 65536 slots indexed by sequence number or packet id
         * modulo 65536: at most a window's worth are outstanding. */
        uint64_t *t_send;
        uint64_t *lat;
        size_t n_lat;
        uint64_t completed, outstanding;
        uint64_t last_progress;
};

extern struct peer_state peer;

/* Records the first failure in res (err 0: EIO); later ones are dropped. */
void peer_fail(struct peer_result *res, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Starts a child's client on job j. With j->latency, allocates and touches
 * the publisher's bookkeeping now, so that it weighs the same in every
 * client's peak RSS figure. */
void peer_begin(const struct peer_job *j, struct peer_result *res);
/* Publisher: message `key` (sequence number or packet id) left at t. */
void peer_sent(uint16_t key, uint64_t t);
/* Publisher: message `key` completed now. */
void peer_completed(uint16_t key);
/* Publisher, after the work that started at CPU time cpu0 (self_cpu_ns()):
 * the CPU time, the count and the latency percentiles into the result. */
void peer_publisher_done(uint64_t cpu0);
/* Subscriber: a message of len payload bytes arrived now. */
void peer_received(size_t len);

/* The subscriber's end of the run. */
struct peer_watch {
        int ctl_fd;
        uint64_t last, last_count, done_at, last_ctl;
};

/* Subscriber, once subscribed: tells the parent, and starts watching ctl_fd
 * for "the publisher is done". */
void peer_sub_ready(struct peer_watch *w, int ready_fd, int ctl_fd);
/* Subscriber, after each turn of its loop: whether to go on counting. No
 * once every message arrived, once the publisher is done and nothing came
 * for idle_nsec, or when nothing came for twice stall_nsec. */
bool peer_sub_more(struct peer_watch *w);

/* ---- in the parent ------------------------------------------------------- */

struct pair {
        struct peer_job pub, sub;
        pid_t broker_pid;     /* its CPU time over the publishing is measured */
        int child_timeout_ms; /* a child that has not reported by then fails */
        /* Called first in each child, or NULL. A child never returns: it
         * ends with _exit(), not running this process's atexit handlers. */
        void (*in_child)(pid_t parent);
        /* Where the children's pids stand while they run ([0] publisher,
         * [1] subscriber), for a signal handler to kill them; or NULL. */
        volatile pid_t *kids;
};

struct pair_result {
        struct peer_result pub, sub;
        uint64_t broker_cpu_ns;
        char err[512]; /* empty, or what went wrong first */
};

/* Runs the pair, reaps both children, and checks that neither reported a
 * failure. Whether every message was delivered is the caller's to judge.
 * Returns 0, or -EIO with out->err set. */
int pair_run(const struct pair *p, struct pair_result *out);

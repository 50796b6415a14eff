/* SPDX-License-Identifier: MIT */
/*
 * mqlink's client beside libmosquitto, doing the same work in the same run:
 * one publisher sends N messages to one subscriber through a mosquitto that
 * this program starts on a free 127.0.0.1 port, for 64 B and 4 KiB payloads
 * at QoS 0, 1 and 2.
 *
 * Fairness: both use MQTT 5, TCP_NODELAY, one thread with the library's own
 * non-threaded loop (mql_loop + mql_client; mosquitto_loop()), and the same
 * in-flight window of WINDOW messages: the broker's Receive Maximum
 * (max_inflight_messages), each publisher's send maximum, each subscriber's
 * Receive Maximum (but 65535 at QoS 2, for both: mosquitto 2.0 frees a QoS 2
 * slot toward a subscriber at PUBREC rather than PUBCOMP, so it overruns a
 * window of WINDOW, and libmosquitto then drops the connection with
 * MOSQ_ERR_PROTOCOL). The publishers keep at most WINDOW messages
 * outstanding, counted by their own completion callbacks (mqlink's publish
 * callback, libmosquitto's on_publish). At QoS 0, where mqlink completes a
 * message once it is in its output, mqlink's output is bounded to WINDOW
 * packets (max_output_bytes; -ENOBUFS: run the loop once, retry) and
 * libmosquitto's to WINDOW packets not yet written (its on_publish comes
 * once a packet is written); without those bounds both libraries would
 * buffer the whole run in memory.
 *
 * Publisher and subscriber are separate processes (fork), so each one's
 * CPU time (getrusage user+sys over the work, connecting excluded) and peak
 * RSS are its own; they report through pipes. Wall time runs from the
 * publisher's first publish to the subscriber's last message, both read
 * from CLOCK_MONOTONIC. Every run gets a fresh broker, whose CPU time
 * (/proc/PID/stat, 10 ms ticks) is shown per message too; it runs flat
 * out, so that figure mostly mirrors msg/s. Runs go round by round, the two
 * clients in turn, and each figure is the median over the rounds: a loaded
 * machine then slows both alike.
 *
 * At QoS 0 the single-threaded broker is the limit, so its ceiling is
 * measured as well: PUBLISH packets pre-encoded with mqlink's codec are
 * written from a raw non-blocking socket as fast as the broker takes them,
 * while an mqlink subscriber counts them; each client's share of that
 * ceiling follows the table.
 *
 * QoS 1/2 must deliver every message and a stalled client (no progress for
 * 5 s) fails the run; QoS 0 may lose some (deliv < sent).
 *
 * Usage: bench_client [--quick] [-n N] [-r REPS] [--client mqlink|libmosquitto|both]
 *   --quick  500 messages per case, one round (a smoke test: ~3 s)
 *   -n N     N messages per case (default 20000 for 64 B, 10000 for 4 KiB)
 *   -r REPS  rounds (default 5, --quick 1; at most 15)
 *   --client only one of the two (no ratios then)
 * Exits 77 (skipped) when mosquitto is not installed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include <mqlink/client.h>
#include <mqlink/loop.h>
#include <mqlink/mqlink.h>

#define WINDOW 100
#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull
/* A child that sees no progress for this long gives up and says so. */
#define STALL_NSEC (5 * NSEC_PER_SEC)
/* Once the publisher is done, the subscriber waits this long for stragglers
 * (QoS 0 may lose some; QoS 1/2 must not). */
#define IDLE_NSEC (500 * NSEC_PER_MSEC)
/* The parent kills a child that has not reported after this long. */
#define CHILD_TIMEOUT_MS (90 * 1000)

enum impl {
        IMPL_MQLINK,
        IMPL_MOSQ,
        IMPL_RAW, /* pre-encoded packets on a raw socket: the broker's ceiling */
};

static const char *const impl_name[] = {
        [IMPL_MQLINK] = "mqlink",
        [IMPL_MOSQ] = "libmosquitto",
        [IMPL_RAW] = "raw",
};

struct job {
        enum impl impl;
        int port;
        uint8_t qos;
        size_t size;
        unsigned n;
        uint16_t receive_maximum; /* the subscriber's */
        char topic[64];
};

/* What a child reports through its pipe. Times are CLOCK_MONOTONIC ns. */
struct result {
        int err; /* 0, or the errno that describes what went wrong */
        char msg[200];
        uint64_t count;   /* publisher: completed; subscriber: received */
        uint64_t failed;  /* publisher: completions with an error */
        uint64_t bad;     /* subscriber: payloads of the wrong size */
        uint64_t t_first; /* publisher: first publish; subscriber: first message */
        uint64_t t_last;  /* publisher: last completion; subscriber: last message */
        uint64_t cpu_ns;  /* user + sys over the work */
        long maxrss_kib;
        uint64_t lat_p50_ns, lat_p99_ns; /* publisher, QoS 1/2: publish → PUBACK/PUBCOMP */
        unsigned server_receive_maximum;
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(struct timeval tv) {
        return (uint64_t)tv.tv_sec * NSEC_PER_SEC + (uint64_t)tv.tv_usec * NSEC_PER_USEC;
}

static uint64_t cpu_ns(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

static long maxrss_kib(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

static void fail(struct result *res, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void fail(struct result *res, int err, const char *fmt, ...) {
        va_list ap;

        if (res->err)
                return; /* the first failure is the interesting one */
        res->err = err ? err : EIO;
        va_start(ap, fmt);
        vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
        va_end(ap);
}

static int write_all(int fd, const void *buf, size_t len) {
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

/* Reads exactly len bytes within timeout_ms. Returns 0, -ETIMEDOUT, -EPIPE
 * (the writer closed first) or -errno. */
static int read_all(int fd, void *buf, size_t len, int timeout_ms) {
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

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static void percentiles(uint64_t *v, size_t n, struct result *res) {
        if (n == 0)
                return;
        qsort(v, n, sizeof(*v), cmp_u64);
        res->lat_p50_ns = v[n / 2];
        size_t i99 = (n * 99) / 100;
        res->lat_p99_ns = v[i99 < n ? i99 : n - 1];
}

static uint8_t *make_payload(size_t size) {
        uint8_t *p = malloc(size ? size : 1);
        if (!p)
                abort();
        for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t)('a' + i % 26);
        return p;
}

/* Whether the parent said "the publisher is done" on ctl (non-blocking). */
static bool ctl_done(int ctl_fd) {
        char c;
        ssize_t r = read(ctl_fd, &c, 1);

        return r >= 0 || (errno != EAGAIN && errno != EINTR);
}

/* ---- the broker --------------------------------------------------------- */

#define STR_(x) #x
#define STR(x) STR_(x)

/* Unbounded queues, so that a slow subscriber sees every message (QoS 0
 * too: mosquitto drops those only when a queue is full); the clients'
 * window; no disk; Nagle off as in both clients; no per-connection log. */
#define BROKER_CONF                                                    \
        "persistence false\n"                                          \
        "max_inflight_messages " STR(WINDOW) "\n"                      \
                                             "max_queued_messages 0\n" \
                                             "max_queued_bytes 0\n"    \
                                             "set_tcp_nodelay true\n"  \
                                             "connection_messages false\n"


/* tests/integration/broker.h: the launcher the integration tests use. */
#include "broker.h"

struct broker {
        struct test_broker tb;
        pid_t pid;
        int port;
};

static void broker_dump_log(const struct broker *b) {
        test_broker_dump_log(&b->tb, stderr, 8192);
}

static void broker_stop(struct broker *b) {
        test_broker_stop(&b->tb);
        b->pid = 0;
}

static int broker_start(struct broker *b) {
        *b = (struct broker){ .tb = TEST_BROKER_INIT };
        int r = test_broker_start(&b->tb, BROKER_CONF);
        if (r < 0) {
                if (r != -ENOENT)
                        broker_dump_log(b);
                broker_stop(b);
                return r;
        }
        b->pid = b->tb.pid;
        b->port = b->tb.port;
        return 0;
}


/* CPU time (user + sys) the broker has used so far. */
static uint64_t broker_cpu_ns(const struct broker *b) {
        char path[64], buf[1024];
        unsigned long utime = 0, stime = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)b->pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        /* Fields 14 and 15, counted after the parenthesised command name. */
        const char *p = strrchr(buf, ')');
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                         &stime) != 2)
                return 0;
        return (uint64_t)(utime + stime) * NSEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK);
}

/* ---- mqlink ------------------------------------------------------------- */

/* One child process runs one client, so its state can live here. */
static struct {
        const struct job *j;
        struct result *res;
        bool connected, lost;
        int lost_err;
        bool subscribed;
        bool ready; /* the subscriber said so to the parent */
        /* publisher */
        /* Send times, 65536 slots indexed by sequence number (mqlink) or
         * mid (libmosquitto) modulo 65536: at most WINDOW are outstanding. */
        uint64_t *t_send;
        uint64_t *lat;
        size_t n_lat;
        uint64_t completed, outstanding;
        uint64_t last_progress;
} C;

/* The publishers' bookkeeping, the same for both clients (and touched
 * before the work, so that it weighs the same in both peak RSS figures). */
static void harness_alloc(const struct job *j) {
        C.t_send = calloc(65536, sizeof(uint64_t));
        C.lat = calloc(j->n ? j->n : 1, sizeof(uint64_t));
        if (!C.t_send || !C.lat)
                abort();
        memset(C.t_send, 0xff, 65536 * sizeof(uint64_t));
        memset(C.lat, 0xff, (j->n ? j->n : 1) * sizeof(uint64_t));
}

static void mq_on_state(struct mql_client *c, enum mql_client_state state, int error,
                        void *userdata) {
        if (state == MQL_CLIENT_CONNECTED) {
                C.connected = true;
                return;
        }
        if (state == MQL_CLIENT_STOPPED && error == 0)
                return; /* our own mql_client_disconnect() */
        if (state != MQL_CLIENT_CONNECTING) {
                C.lost = true;
                C.lost_err = error;
        }
}

static void mq_on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        uint64_t t = now_ns();

        if (msg->payload.len != C.j->size)
                C.res->bad++;
        if (C.res->count++ == 0)
                C.res->t_first = t;
        C.res->t_last = t;
}

static void mq_on_suback(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                         void *userdata) {
        if (error < 0 || n != 1 || reasons[0] >= 0x80)
                fail(C.res, EPROTO, "mqlink: SUBSCRIBE refused (error %d, reason 0x%02x)", error,
                     n ? reasons[0] : 0);
        else
                C.subscribed = true;
}

static void mq_on_publish(struct mql_session *s, uint16_t packet_id, int reason, void *userdata) {
        uint64_t t = now_ns();

        if (reason < 0 || reason >= 0x80) {
                if (C.res->failed++ == 0)
                        fail(C.res, reason < 0 ? -reason : EPROTO,
                             "mqlink: publish completed with %d (%s)", reason,
                             reason < 0 ? mql_strerror(reason) : mql_reason_str((unsigned)reason));
        }
        if (C.j->qos)
                C.lat[C.n_lat++] = t - C.t_send[(uint16_t)(uintptr_t)userdata];
        C.completed++;
        C.outstanding--;
        C.last_progress = t;
        C.res->t_last = t;
}

static size_t mq_output_len(struct mql_client *c) {
        const uint8_t *p;
        size_t len;

        mql_session_output(mql_client_get_session(c), &p, &len);
        return len;
}

static struct mql_client *mq_client(const struct job *j, const char *id, struct mql_loop *loop,
                                    size_t max_output) {
        char uri[64];
        const char *uris[] = { uri };
        struct mql_client *c;

        snprintf(uri, sizeof(uri), "mqtt://127.0.0.1:%d", j->port);
        struct mql_client_config cfg = {
                .uris = uris,
                .n_uris = 1,
                .session = {
                        .version = MQL_V5,
                        .client_id = id,
                        .clean_start = true,
                        .keepalive = 60,
                        .receive_maximum = j->receive_maximum,
                        .max_output_bytes = max_output,
                },
                .no_reconnect = true,
                .connect_timeout_ms = 5000,
                .on_state = mq_on_state,
                .on_message = mq_on_message,
        };
        int r = mql_client_new(&cfg, &c);
        if (r < 0) {
                fail(C.res, -r, "mql_client_new: %s", mql_strerror(r));
                return NULL;
        }
        r = mql_client_attach_loop(c, loop);
        if (r >= 0)
                r = mql_client_start(c);
        if (r < 0) {
                fail(C.res, -r, "mqlink attach/start: %s", mql_strerror(r));
                return mql_client_free(c);
        }
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (!C.connected && !C.lost && now_ns() < deadline) {
                r = mql_loop_run_once(loop, 100 * 1000);
                if (r < 0) {
                        fail(C.res, -r, "mql_loop_run_once: %s", mql_strerror(r));
                        return mql_client_free(c);
                }
        }
        if (!C.connected) {
                fail(C.res, ETIMEDOUT, "mqlink: not connected (state %d, error %d)",
                     mql_client_get_state(c), C.lost_err);
                return mql_client_free(c);
        }
        struct mql_session_stats st;
        mql_session_get_stats(mql_client_get_session(c), &st);
        C.res->server_receive_maximum = st.server_receive_maximum;
        return c;
}

static void mq_close(struct mql_client *c, struct mql_loop *loop) {
        if (!C.lost && mql_client_disconnect(c, 0) >= 0) {
                uint64_t deadline = now_ns() + NSEC_PER_SEC;
                while (mql_client_get_state(c) != MQL_CLIENT_STOPPED && now_ns() < deadline)
                        if (mql_loop_run_once(loop, 100 * 1000) < 0)
                                break;
        }
        mql_client_free(c);
}

/* Runs the loop once; false (with the reason in C.res) when the client lost
 * its connection or made no progress for STALL_NSEC. */
static bool mq_pump(struct mql_client *c, struct mql_loop *loop, uint64_t *progress) {
        int r = mql_loop_run_once(loop, 100 * 1000);

        if (r < 0) {
                fail(C.res, -r, "mql_loop_run_once: %s", mql_strerror(r));
                return false;
        }
        if (C.lost) {
                fail(C.res, C.lost_err < 0 ? -C.lost_err : EPROTO,
                     "mqlink: connection lost (%d: %s) after %" PRIu64 " completions", C.lost_err,
                     mql_strerror(C.lost_err), C.completed);
                return false;
        }
        uint64_t t = now_ns(), p = C.completed << 32 ^ mq_output_len(c);
        if (p != *progress) {
                *progress = p;
                C.last_progress = t;
        } else if (t - C.last_progress > STALL_NSEC) {
                struct mql_session_stats st;
                mql_session_get_stats(mql_client_get_session(c), &st);
                fail(C.res, ETIMEDOUT,
                     "mqlink: stalled: %" PRIu64 " completed, %" PRIu64
                     " outstanding, session inflight %zu queued %zu, output %zu bytes, "
                     "events 0x%x",
                     C.completed, C.outstanding, st.inflight, st.queued, mq_output_len(c),
                     mql_client_get_events(c));
                return false;
        }
        return true;
}

static void mq_publisher(const struct job *j, struct result *res) {
        struct mql_loop *loop;
        uint8_t *payload = make_payload(j->size);
        /* At most WINDOW packets waiting in the output (see the top). */
        size_t max_output = WINDOW * (j->size + strlen(j->topic) + 16);

        C.j = j;
        C.res = res;
        harness_alloc(j);
        if (mql_loop_new(&loop) < 0)
                abort();
        struct mql_client *c = mq_client(j, "bench-pub", loop, max_output);
        if (!c)
                return;

        struct mql_message msg = {
                .topic = mql_str_from(j->topic),
                .payload = { payload, j->size },
                .qos = j->qos,
        };
        uint64_t progress = 0, cpu0 = cpu_ns(), seq = 0;
        C.last_progress = res->t_first = now_ns();
        while (seq < j->n) {
                if (j->qos && C.outstanding >= WINDOW) {
                        if (!mq_pump(c, loop, &progress))
                                break;
                        continue;
                }
                if (j->qos)
                        C.t_send[(uint16_t)seq] = now_ns();
                C.outstanding++;
                int r = mql_client_publish(c, &msg, mq_on_publish, (void *)(uintptr_t)seq);
                if (r == -ENOBUFS) {
                        C.outstanding--;
                        if (!mq_pump(c, loop, &progress))
                                break;
                        continue;
                }
                if (r < 0) {
                        C.outstanding--;
                        fail(res, -r, "mql_client_publish: %s", mql_strerror(r));
                        break;
                }
                seq++;
        }
        while (!res->err && (C.completed < seq || mq_output_len(c) > 0))
                if (!mq_pump(c, loop, &progress))
                        break;
        res->cpu_ns = cpu_ns() - cpu0;
        res->count = C.completed;
        percentiles(C.lat, C.n_lat, res);
        mq_close(c, loop);
        mql_loop_free(loop);
        res->maxrss_kib = maxrss_kib();
}

/* Counts messages until N arrived, or the publisher is done and nothing
 * more came for IDLE_NSEC. */
static void mq_subscriber(const struct job *j, struct result *res, int ready_fd, int ctl_fd) {
        struct mql_loop *loop;

        C.j = j;
        C.res = res;
        if (mql_loop_new(&loop) < 0)
                abort();
        struct mql_client *c = mq_client(j, "bench-sub", loop, 0);
        if (!c)
                return;
        struct mql_subscription sub = { .filter = mql_str_from(j->topic), .qos = j->qos };
        int r = mql_client_subscribe(c, &sub, 1, NULL, mq_on_suback, NULL);
        if (r < 0) {
                fail(res, -r, "mql_client_subscribe: %s", mql_strerror(r));
                goto out;
        }
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (!C.subscribed && !res->err && !C.lost && now_ns() < deadline)
                if (mql_loop_run_once(loop, 100 * 1000) < 0)
                        break;
        if (!C.subscribed) {
                fail(res, ETIMEDOUT, "mqlink: no SUBACK");
                goto out;
        }

        uint64_t cpu0 = cpu_ns(), last = now_ns(), last_count = 0, done_at = 0, last_ctl = 0;
        (void)write_all(ready_fd, "R", 1);
        C.ready = true;
        while (res->count < j->n) {
                r = mql_loop_run_once(loop, 50 * 1000);
                if (r < 0) {
                        fail(res, -r, "mql_loop_run_once: %s", mql_strerror(r));
                        break;
                }
                if (C.lost) {
                        fail(res, C.lost_err < 0 ? -C.lost_err : EPROTO,
                             "mqlink subscriber: connection lost (%d: %s) after %" PRIu64
                             " messages",
                             C.lost_err, mql_strerror(C.lost_err), res->count);
                        break;
                }
                uint64_t t = now_ns();
                if (res->count != last_count) {
                        last_count = res->count;
                        last = t;
                }
                if (!done_at && t - last_ctl > 20 * NSEC_PER_MSEC) {
                        last_ctl = t;
                        if (ctl_done(ctl_fd))
                                done_at = t;
                }
                if (done_at && t - (last > done_at ? last : done_at) > IDLE_NSEC)
                        break;
                if (t - last > STALL_NSEC + 5 * NSEC_PER_SEC)
                        break;
        }
        res->cpu_ns = cpu_ns() - cpu0;
out:
        mq_close(c, loop);
        mql_loop_free(loop);
        res->maxrss_kib = maxrss_kib();
}

/* ---- libmosquitto ------------------------------------------------------- */

static void mosq_on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                            const mosquitto_property *props) {
        if (rc == 0)
                C.connected = true;
        else {
                C.lost = true;
                C.lost_err = rc;
        }
}

static void mosq_on_disconnect(struct mosquitto *m, void *obj, int rc,
                               const mosquitto_property *props) {
        if (rc != 0) {
                C.lost = true;
                C.lost_err = rc;
        }
}

static void mosq_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
                              const mosquitto_property *props) {
        if (n != 1 || granted[0] >= 0x80)
                fail(C.res, EPROTO, "libmosquitto: SUBSCRIBE refused (0x%02x)", n ? granted[0] : 0);
        else
                C.subscribed = true;
}

static void mosq_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                            const mosquitto_property *props) {
        uint64_t t = now_ns();

        if ((size_t)msg->payloadlen != C.j->size)
                C.res->bad++;
        if (C.res->count++ == 0)
                C.res->t_first = t;
        C.res->t_last = t;
}

static void mosq_on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                            const mosquitto_property *props) {
        uint64_t t = now_ns();

        if (reason >= 0x80 && C.res->failed++ == 0)
                fail(C.res, EPROTO, "libmosquitto: publish refused (0x%02x)", reason);
        if (C.j->qos)
                C.lat[C.n_lat++] = t - C.t_send[(uint16_t)mid];
        C.completed++;
        C.outstanding--;
        C.last_progress = t;
        C.res->t_last = t;
}

static struct mosquitto *mosq_client(const struct job *j, const char *id) {
        struct mosquitto *m;

        mosquitto_lib_init();
        m = mosquitto_new(id, true, NULL);
        if (!m) {
                fail(C.res, ENOMEM, "mosquitto_new failed");
                return NULL;
        }
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
        mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
        mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, j->receive_maximum);
        mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, WINDOW);
        mosquitto_max_inflight_messages_set(m, WINDOW);
        mosquitto_connect_v5_callback_set(m, mosq_on_connect);
        mosquitto_disconnect_v5_callback_set(m, mosq_on_disconnect);
        mosquitto_subscribe_v5_callback_set(m, mosq_on_subscribe);
        mosquitto_message_v5_callback_set(m, mosq_on_message);
        mosquitto_publish_v5_callback_set(m, mosq_on_publish);

        int rc = mosquitto_connect_bind_v5(m, "127.0.0.1", j->port, 60, NULL, NULL);
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (rc == MOSQ_ERR_SUCCESS && !C.connected && !C.lost && now_ns() < deadline)
                rc = mosquitto_loop(m, 100, 1);
        if (!C.connected) {
                fail(C.res, ECONNREFUSED, "libmosquitto: not connected (%s, %d)",
                     mosquitto_strerror(rc), C.lost_err);
                mosquitto_destroy(m);
                return NULL;
        }
        return m;
}

static void mosq_close(struct mosquitto *m) {
        if (!C.lost && mosquitto_disconnect_v5(m, 0, NULL) == MOSQ_ERR_SUCCESS)
                for (int i = 0; i < 10 && mosquitto_loop(m, 10, 1) == MOSQ_ERR_SUCCESS; i++)
                        ;
        mosquitto_destroy(m);
        mosquitto_lib_cleanup();
}

static bool mosq_pump(struct mosquitto *m) {
        int rc = mosquitto_loop(m, 100, 1);

        if (rc != MOSQ_ERR_SUCCESS || C.lost) {
                fail(C.res, EPIPE, "libmosquitto: loop: %s (%d) after %" PRIu64 " completions",
                     mosquitto_strerror(rc), C.lost_err, C.completed);
                return false;
        }
        uint64_t t = now_ns();
        if (t - C.last_progress > STALL_NSEC) {
                fail(C.res, ETIMEDOUT,
                     "libmosquitto: stalled: %" PRIu64 " completed, %" PRIu64 " outstanding",
                     C.completed, C.outstanding);
                return false;
        }
        return true;
}

static void mosq_publisher(const struct job *j, struct result *res) {
        uint8_t *payload = make_payload(j->size);

        C.j = j;
        C.res = res;
        harness_alloc(j);
        struct mosquitto *m = mosq_client(j, "bench-pub");
        if (!m)
                return;

        uint64_t cpu0 = cpu_ns(), seq = 0;
        C.last_progress = res->t_first = now_ns();
        while (seq < j->n) {
                /* At QoS 0 on_publish says "written", so this bounds the
                 * packets waiting in libmosquitto's queue (see the top). */
                if (C.outstanding >= WINDOW) {
                        if (!mosq_pump(m))
                                break;
                        continue;
                }
                int mid;
                uint64_t t = now_ns();
                C.outstanding++;
                int rc = mosquitto_publish_v5(m, &mid, j->topic, (int)j->size, payload, j->qos,
                                              false, NULL);
                if (rc == MOSQ_ERR_NOMEM) {
                        C.outstanding--;
                        if (!mosq_pump(m))
                                break;
                        continue;
                }
                if (rc != MOSQ_ERR_SUCCESS) {
                        C.outstanding--;
                        fail(res, EIO, "mosquitto_publish_v5: %s", mosquitto_strerror(rc));
                        break;
                }
                if (j->qos)
                        C.t_send[(uint16_t)mid] = t;
                seq++;
        }
        while (!res->err && C.completed < seq)
                if (!mosq_pump(m))
                        break;
        res->cpu_ns = cpu_ns() - cpu0;
        res->count = C.completed;
        percentiles(C.lat, C.n_lat, res);
        mosq_close(m);
        res->maxrss_kib = maxrss_kib();
}

static void mosq_subscriber(const struct job *j, struct result *res, int ready_fd, int ctl_fd) {
        C.j = j;
        C.res = res;
        struct mosquitto *m = mosq_client(j, "bench-sub");
        if (!m)
                return;
        int rc = mosquitto_subscribe_v5(m, NULL, j->topic, j->qos, 0, NULL);
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (rc == MOSQ_ERR_SUCCESS && !C.subscribed && !res->err && now_ns() < deadline)
                rc = mosquitto_loop(m, 100, 1);
        if (!C.subscribed) {
                fail(res, ETIMEDOUT, "libmosquitto: no SUBACK (%s)", mosquitto_strerror(rc));
                mosq_close(m);
                return;
        }

        uint64_t cpu0 = cpu_ns(), last = now_ns(), last_count = 0, done_at = 0, last_ctl = 0;
        (void)write_all(ready_fd, "R", 1);
        C.ready = true;
        while (res->count < j->n) {
                rc = mosquitto_loop(m, 50, 1);
                if (rc != MOSQ_ERR_SUCCESS || C.lost) {
                        fail(res, EPIPE,
                             "libmosquitto subscriber: %s (%d) after %" PRIu64 " messages",
                             mosquitto_strerror(rc), C.lost_err, res->count);
                        break;
                }
                uint64_t t = now_ns();
                if (res->count != last_count) {
                        last_count = res->count;
                        last = t;
                }
                if (!done_at && t - last_ctl > 20 * NSEC_PER_MSEC) {
                        last_ctl = t;
                        if (ctl_done(ctl_fd))
                                done_at = t;
                }
                if (done_at && t - (last > done_at ? last : done_at) > IDLE_NSEC)
                        break;
                if (t - last > STALL_NSEC + 5 * NSEC_PER_SEC)
                        break;
        }
        res->cpu_ns = cpu_ns() - cpu0;
        mosq_close(m);
        res->maxrss_kib = maxrss_kib();
}

/* ---- the broker's ceiling: pre-encoded packets on a raw socket ------------ */

static ssize_t encode(const struct mql_packet *p, uint8_t *buf, size_t cap) {
        ssize_t n = mql_packet_encode(p, MQL_V5, buf, cap);
        if (n < 0) {
                fprintf(stderr, "bench_client: mql_packet_encode: %s\n", mql_strerror((int)n));
                abort();
        }
        return n;
}

static int raw_connect(const struct job *j, struct result *res) {
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)j->port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        uint8_t buf[256];
        struct mql_packet p = {
                .type = MQL_CONNECT,
                .connect = { .version = MQL_V5,
                             .clean_start = true,
                             .keepalive = 60,
                             .client_id = mql_str_from("bench-raw") },
        };
        int one = 1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                fail(res, errno, "raw connect: %m");
                return -1;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ssize_t n = encode(&p, buf, sizeof(buf));
        if (write_all(fd, buf, (size_t)n) < 0) {
                fail(res, errno, "raw CONNECT: %m");
                close(fd);
                return -1;
        }
        size_t have = 0;
        ssize_t len = 0;
        while ((len = mql_packet_frame(buf, have)) == 0 && have < sizeof(buf)) {
                ssize_t r = read(fd, buf + have, sizeof(buf) - have);
                if (r <= 0)
                        break;
                have += (size_t)r;
        }
        struct mql_packet ack;
        if (len <= 0 || mql_packet_decode(buf, have, MQL_V5, &ack) <= 0 ||
            ack.type != MQL_CONNACK || ack.connack.reason_code != 0) {
                fail(res, ECONNREFUSED, "raw: no CONNACK");
                close(fd);
                return -1;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        return fd;
}

static void raw_publisher(const struct job *j, struct result *res) {
        uint8_t *payload = make_payload(j->size);
        struct mql_packet p = {
                .type = MQL_PUBLISH,
                .publish = { .topic = mql_str_from(j->topic), .payload = { payload, j->size } },
        };
        int fd = raw_connect(j, res);
        if (fd < 0)
                return;

        /* A chunk of whole packets, about 256 KiB, written again and again. */
        size_t one = (size_t)mql_packet_size(&p, MQL_V5);
        size_t per_chunk = (256 * 1024) / one ? (256 * 1024) / one : 1;
        if (per_chunk > j->n)
                per_chunk = j->n;
        uint8_t *chunk = malloc(per_chunk * one);
        if (!chunk)
                abort();
        for (size_t i = 0; i < per_chunk; i++)
                encode(&p, chunk + i * one, one);

        uint64_t cpu0 = cpu_ns(), sent = 0;
        res->t_first = now_ns();
        while (sent < j->n) {
                size_t pkts = j->n - sent < per_chunk ? j->n - sent : per_chunk;
                size_t len = pkts * one, off = 0;
                while (off < len) {
                        ssize_t r = write(fd, chunk + off, len - off);
                        if (r < 0 && errno == EAGAIN) {
                                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                                poll(&pfd, 1, 1000);
                                continue;
                        }
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r < 0) {
                                fail(res, errno, "raw write: %m");
                                goto out;
                        }
                        off += (size_t)r;
                }
                sent += pkts;
        }
        res->t_last = now_ns();
        res->count = sent;
        res->cpu_ns = cpu_ns() - cpu0;
        /* DISCONNECT after the last PUBLISH; the broker reads it in order. */
        struct mql_packet d = { .type = MQL_DISCONNECT };
        uint8_t dbuf[16];
        ssize_t dn = encode(&d, dbuf, sizeof(dbuf));
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        (void)write_all(fd, dbuf, (size_t)dn);
out:
        close(fd);
        free(chunk);
        res->maxrss_kib = maxrss_kib();
}

/* ---- one run: a broker, a subscriber process, a publisher process -------- */

struct run {
        struct result pub, sub;
        uint64_t broker_cpu_ns;
        char err[512];
};

static void child_exit(int fd, const struct result *res) {
        (void)write_all(fd, res, sizeof(*res));
        _exit(0);
}

static pid_t spawn(int *ret_fd, int *ret_ctl, const struct job *j, bool subscriber,
                   const int *close_fds, size_t n_close) {
        int out[2], ctl[2] = { -1, -1 };

        if (pipe2(out, O_CLOEXEC) < 0 || (ret_ctl && pipe2(ctl, O_CLOEXEC) < 0))
                return -1;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                struct result res = { 0 };
                for (size_t i = 0; i < n_close; i++)
                        close(close_fds[i]);
                close(out[0]);
                if (ret_ctl) {
                        close(ctl[1]);
                        fcntl(ctl[0], F_SETFL, O_NONBLOCK);
                }
                if (subscriber && j->impl == IMPL_MQLINK)
                        mq_subscriber(j, &res, out[1], ctl[0]);
                else if (subscriber)
                        mosq_subscriber(j, &res, out[1], ctl[0]);
                else if (j->impl == IMPL_MQLINK)
                        mq_publisher(j, &res);
                else if (j->impl == IMPL_MOSQ)
                        mosq_publisher(j, &res);
                else
                        raw_publisher(j, &res);
                if (subscriber && !C.ready)
                        (void)write_all(out[1], "F", 1); /* never got ready */
                child_exit(out[1], &res);
        }
        close(out[1]);
        *ret_fd = out[0];
        if (ret_ctl) {
                close(ctl[0]);
                *ret_ctl = ctl[1];
        }
        return pid;
}

static void reap(pid_t pid, const char *who, char *err, size_t errlen) {
        int status;

        if (waitpid(pid, &status, WNOHANG) == 0) {
                usleep(200 * 1000);
                if (waitpid(pid, &status, WNOHANG) == 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        if (!err[0])
                                snprintf(err, errlen, "%s did not exit: killed", who);
                        return;
                }
        }
        if (WIFSIGNALED(status) && !err[0])
                snprintf(err, errlen, "%s died of signal %d (%s)", who, WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
}

static int run_one(enum impl pub_impl, enum impl sub_impl, uint8_t qos, size_t size, unsigned n,
                   struct run *out) {
        static unsigned serial;
        struct broker b;
        /* mosquitto 2.0 frees a QoS 2 slot toward a subscriber at PUBREC
         * instead of PUBCOMP (MQTT 5 §4.9), so it sends more than the
         * subscriber's Receive Maximum and libmosquitto drops the connection
         * (MOSQ_ERR_PROTOCOL). At QoS 2 both subscribers allow 65535. */
        uint16_t sub_rm = qos == 2 ? 65535 : WINDOW;
        struct job jp = { .qos = qos, .size = size, .n = n, .receive_maximum = WINDOW }, js;
        int sub_fd = -1, ctl_fd = -1, pub_fd = -1, r;
        pid_t sub_pid = -1, pub_pid = -1;
        char ready = 0;

        *out = (struct run){ 0 };
        r = broker_start(&b);
        if (r < 0) {
                snprintf(out->err, sizeof(out->err), "cannot start mosquitto: %s", strerror(-r));
                return r;
        }
        jp.port = b.port;
        snprintf(jp.topic, sizeof(jp.topic), "bench/%d/%u", (int)getpid(), serial++);
        js = jp;
        js.receive_maximum = sub_rm;
        jp.impl = pub_impl;
        js.impl = sub_impl;

        sub_pid = spawn(&sub_fd, &ctl_fd, &js, true, NULL, 0);
        if (sub_pid < 0) {
                snprintf(out->err, sizeof(out->err), "fork: %m");
                goto done;
        }
        r = read_all(sub_fd, &ready, 1, 15 * 1000);
        if (r < 0 || ready != 'R') {
                if (ready == 'F' && read_all(sub_fd, &out->sub, sizeof(out->sub), 1000) == 0)
                        snprintf(out->err, sizeof(out->err), "subscriber: %s", out->sub.msg);
                else
                        snprintf(out->err, sizeof(out->err), "subscriber not ready: %s",
                                 strerror(-r));
                goto done;
        }
        uint64_t bcpu0 = broker_cpu_ns(&b);
        int close_in_pub[] = { sub_fd, ctl_fd };
        pub_pid = spawn(&pub_fd, NULL, &jp, false, close_in_pub, 2);
        if (pub_pid < 0) {
                snprintf(out->err, sizeof(out->err), "fork: %m");
                goto done;
        }
        r = read_all(pub_fd, &out->pub, sizeof(out->pub), CHILD_TIMEOUT_MS);
        if (r < 0)
                snprintf(out->err, sizeof(out->err), "publisher did not report: %s", strerror(-r));
        (void)write_all(ctl_fd, "D", 1);
        r = read_all(sub_fd, &out->sub, sizeof(out->sub), CHILD_TIMEOUT_MS);
        if (r < 0 && !out->err[0])
                snprintf(out->err, sizeof(out->err), "subscriber did not report: %s", strerror(-r));
        out->broker_cpu_ns = broker_cpu_ns(&b) - bcpu0;
        if (!out->err[0] && out->pub.err)
                snprintf(out->err, sizeof(out->err), "publisher: %s", out->pub.msg);
        if (!out->err[0] && out->sub.err)
                snprintf(out->err, sizeof(out->err), "subscriber: %s", out->sub.msg);
        if (!out->err[0] && qos > 0 && pub_impl != IMPL_RAW && out->sub.count < n)
                snprintf(out->err, sizeof(out->err),
                         "QoS %u: subscriber got %" PRIu64 " of %u messages", qos, out->sub.count,
                         n);
        if (!out->err[0] && out->sub.bad)
                snprintf(out->err, sizeof(out->err), "%" PRIu64 " payloads of the wrong size",
                         out->sub.bad);
done:
        if (pub_pid > 0)
                reap(pub_pid, "publisher", out->err, sizeof(out->err));
        if (sub_pid > 0) {
                if (ctl_fd >= 0)
                        (void)write_all(ctl_fd, "D", 1);
                reap(sub_pid, "subscriber", out->err, sizeof(out->err));
        }
        if (sub_fd >= 0)
                close(sub_fd);
        if (ctl_fd >= 0)
                close(ctl_fd);
        if (pub_fd >= 0)
                close(pub_fd);
        if (out->err[0])
                broker_dump_log(&b);
        broker_stop(&b);
        return out->err[0] ? -EIO : 0;
}

/* ---- figures and output -------------------------------------------------- */

/* Peak RSS of a child forked from here that does nothing: what every
 * publisher and subscriber starts from. */
static long baseline_rss_kib(void) {
        int fd[2];
        long kib = 0;

        if (pipe2(fd, O_CLOEXEC) < 0)
                return 0;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                kib = maxrss_kib();
                (void)write_all(fd[1], &kib, sizeof(kib));
                _exit(0);
        }
        close(fd[1]);
        if (pid < 0 || read_all(fd[0], &kib, sizeof(kib), 5000) < 0)
                kib = 0;
        close(fd[0]);
        if (pid > 0)
                waitpid(pid, NULL, 0);
        return kib;
}

struct figures {
        bool valid;
        char err[512];
        unsigned sent;
        uint64_t delivered;
        double rate;                   /* messages/s */
        double pub_us, sub_us, brk_us; /* CPU µs per message */
        double p50_us, p99_us;         /* QoS 1/2 */
        long pub_rss, sub_rss;         /* KiB */
        unsigned server_rm;
};

static struct figures figures_of(const struct run *r, unsigned n, uint8_t qos) {
        struct figures f = { .sent = n };

        if (r->err[0]) {
                snprintf(f.err, sizeof(f.err), "%s", r->err);
                return f;
        }
        f.delivered = r->sub.count;
        uint64_t wall = r->sub.t_last > r->pub.t_first ? r->sub.t_last - r->pub.t_first : 0;
        if (!f.delivered || !wall) {
                snprintf(f.err, sizeof(f.err), "nothing delivered");
                return f;
        }
        f.valid = true;
        f.rate = (double)f.delivered * 1e9 / (double)wall;
        f.pub_us = (double)r->pub.cpu_ns / 1e3 / n;
        f.sub_us = (double)r->sub.cpu_ns / 1e3 / (double)f.delivered;
        f.brk_us = (double)r->broker_cpu_ns / 1e3 / (double)f.delivered;
        f.p50_us = qos ? (double)r->pub.lat_p50_ns / 1e3 : 0;
        f.p99_us = qos ? (double)r->pub.lat_p99_ns / 1e3 : 0;
        f.pub_rss = r->pub.maxrss_kib;
        f.sub_rss = r->sub.maxrss_kib;
        f.server_rm = r->pub.server_receive_maximum;
        return f;
}

#define MAX_REPS 15

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Each figure's median over the runs (each figure on its own: the run with
 * the median rate need not have the median CPU time). A failed run makes
 * the whole case fail: its error is what gets reported. */
static struct figures summarize(const struct figures *runs, unsigned n) {
        double v[MAX_REPS];
        struct figures f = runs[0];

        for (unsigned i = 0; i < n; i++)
                if (!runs[i].valid)
                        return runs[i];
#define MEDIAN_OF(field)                              \
        do {                                          \
                for (unsigned i = 0; i < n; i++)      \
                        v[i] = (double)runs[i].field; \
                f.field = median(v, n);               \
        } while (0)
        MEDIAN_OF(rate);
        MEDIAN_OF(pub_us);
        MEDIAN_OF(sub_us);
        MEDIAN_OF(brk_us);
        MEDIAN_OF(p50_us);
        MEDIAN_OF(p99_us);
        MEDIAN_OF(pub_rss);
        MEDIAN_OF(sub_rss);
#undef MEDIAN_OF
        for (unsigned i = 0; i < n; i++)
                if (runs[i].delivered < f.delivered)
                        f.delivered = runs[i].delivered; /* the worst run's losses */
        return f;
}

static struct figures measure_once(enum impl pub, enum impl sub, uint8_t qos, size_t size,
                                   unsigned n, unsigned rep) {
        struct run r;

        run_one(pub, sub, qos, size, n, &r);
        struct figures f = figures_of(&r, n, qos);
        fprintf(stderr, "  %-4s q%u %-12s -> %-12s run %u: ", size == 64 ? "64B" : "4KiB", qos,
                impl_name[pub], impl_name[sub], rep + 1);
        if (f.valid)
                fprintf(stderr, "%.0f msg/s, %" PRIu64 "/%u delivered\n", f.rate, f.delivered, n);
        else
                fprintf(stderr, "FAILED: %s\n", f.err);
        return f;
}

static void print_header(void) {
        printf("%-10s %-13s %7s %7s %9s %9s %9s %9s %9s %9s %9s %9s\n", "case", "client", "sent",
               "deliv", "msg/s", "pub_us/m", "sub_us/m", "brk_us/m", "ack_p50us", "ack_p99us",
               "pubRSS_K", "subRSS_K");
}

static void print_row(const char *cs, const char *client, const struct figures *f, uint8_t qos) {
        if (!f->valid) {
                printf("%-10s %-13s FAILED: %s\n", cs, client, f->err);
                return;
        }
        printf("%-10s %-13s %7u %7" PRIu64 " %9.0f %9.2f %9.2f %9.2f", cs, client, f->sent,
               f->delivered, f->rate, f->pub_us, f->sub_us, f->brk_us);
        if (qos)
                printf(" %9.0f %9.0f", f->p50_us, f->p99_us);
        else
                printf(" %9s %9s", "-", "-");
        printf(" %9ld %9ld\n", f->pub_rss, f->sub_rss);
}

static void ratio(const char *name, double a, double b) {
        if (a > 0 && b > 0)
                printf("  %s %.2f", name, a / b);
        else
                printf("  %s -", name);
}

int main(int argc, char **argv) {
        bool quick = false;
        unsigned n_opt = 0, reps = 0;
        bool want[2] = { true, true };

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--quick"))
                        quick = true;
                else if (!strcmp(argv[i], "-n") && i + 1 < argc)
                        n_opt = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (!strcmp(argv[i], "-r") && i + 1 < argc)
                        reps = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (!strcmp(argv[i], "--client") && i + 1 < argc) {
                        const char *c = argv[++i];
                        want[IMPL_MQLINK] = !strcmp(c, "mqlink") || !strcmp(c, "both");
                        want[IMPL_MOSQ] = !strcmp(c, "libmosquitto") || !strcmp(c, "both");
                } else {
                        fprintf(stderr,
                                "usage: %s [--quick] [-n N] [-r REPS] "
                                "[--client mqlink|libmosquitto|both]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (!want[0] && !want[1]) {
                fprintf(stderr, "bench_client: no client selected\n");
                return 2;
        }
        if (!reps)
                reps = quick ? 1 : 5;
        if (reps > MAX_REPS)
                reps = MAX_REPS;
        signal(SIGPIPE, SIG_IGN);

        struct broker probe;
        int r = broker_start(&probe);
        if (r == -ENOENT) {
                fprintf(stderr, "bench_client: mosquitto is not installed: skipped\n");
                return 77; /* meson: skipped */
        }
        if (r < 0) {
                fprintf(stderr, "bench_client: cannot start mosquitto: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        broker_stop(&probe);

        static const size_t sizes[] = { 64, 4096 };
        static struct figures runs[2][3][2][MAX_REPS], ceil_runs[2][MAX_REPS];
        struct figures fig[2][3][2], ceil[2];
        enum impl ceil_sub = want[IMPL_MQLINK] ? IMPL_MQLINK : IMPL_MOSQ;
        unsigned ns[2];
        bool failed = false;
        int lmaj, lmin, lrev;

        mosquitto_lib_version(&lmaj, &lmin, &lrev);
        printf("bench_client: 1 publisher -> mosquitto -> 1 subscriber on 127.0.0.1, MQTT 5, "
               "in-flight window %d, median of %u run(s)\n",
               WINDOW, reps);
        printf("mqlink %s, libmosquitto %d.%d.%d, %ld CPU(s); an idle forked child peaks at "
               "%ld KiB RSS\n",
               mql_version_string(), lmaj, lmin, lrev, sysconf(_SC_NPROCESSORS_ONLN),
               baseline_rss_kib());
        fflush(stdout);

        /* Round after round, every case once per round and the two clients
         * in turn, so that a slow moment of the machine hits both. */
        for (size_t s = 0; s < 2; s++)
                ns[s] = n_opt ? n_opt : quick ? 500 : sizes[s] == 64 ? 20000 : 10000;
        for (unsigned rep = 0; rep < reps; rep++)
                for (size_t s = 0; s < 2; s++) {
                        ceil_runs[s][rep] =
                                measure_once(IMPL_RAW, ceil_sub, 0, sizes[s], ns[s], rep);
                        for (uint8_t q = 0; q < 3; q++)
                                for (int k = 0; k < 2; k++) {
                                        enum impl im = (enum impl)((k + q + s + rep) % 2);
                                        if (want[im])
                                                runs[s][q][im][rep] = measure_once(
                                                        im, im, q, sizes[s], ns[s], rep);
                                }
                }
        for (size_t s = 0; s < 2; s++) {
                ceil[s] = summarize(ceil_runs[s], reps);
                failed |= !ceil[s].valid;
                for (uint8_t q = 0; q < 3; q++)
                        for (int im = 0; im < 2; im++)
                                if (want[im]) {
                                        fig[s][q][im] = summarize(runs[s][q][im], reps);
                                        failed |= !fig[s][q][im].valid;
                                }
        }

        printf("\n");
        print_header();
        for (size_t s = 0; s < 2; s++) {
                char cs[32];
                const char *sz = sizes[s] == 64 ? "64B" : "4KiB";
                snprintf(cs, sizeof(cs), "%s q0", sz);
                print_row(cs, "ceiling(raw)", &ceil[s], 0);
                for (uint8_t q = 0; q < 3; q++) {
                        snprintf(cs, sizeof(cs), "%s q%u", sz, q);
                        for (int im = 0; im < 2; im++)
                                if (want[im])
                                        print_row(cs, impl_name[im], &fig[s][q][im], q);
                }
        }
        printf("\nmsg/s: delivered / (subscriber's last message - publisher's first publish); "
               "*_us/m: CPU (user+sys) per message;\n"
               "brk: the broker; ack: publish -> PUBACK (QoS 1) / PUBCOMP (QoS 2); RSS: peak, "
               "KiB.\n"
               "ceiling(raw): pre-encoded QoS 0 PUBLISH packets written from a raw socket as "
               "fast as the broker takes them,\ncounted by %s %s subscriber (pub_us/m: the raw "
               "writer).\n",
               ceil_sub == IMPL_MQLINK ? "an" : "a", impl_name[ceil_sub]);
        if (want[IMPL_MQLINK] && fig[0][1][IMPL_MQLINK].valid)
                printf("The broker's Receive Maximum (CONNACK, seen by mqlink): %u. Subscribers' "
                       "Receive Maximum: %d, but 65535 at QoS 2\n(mosquitto 2.0 frees a QoS 2 "
                       "slot at PUBREC and overruns %d, which libmosquitto refuses).\n",
                       fig[0][1][IMPL_MQLINK].server_rm, WINDOW, WINDOW);

        if (want[0] && want[1]) {
                printf("\nratios mqlink/libmosquitto (msg/s: higher is better; the rest: lower "
                       "is better)\n");
                for (size_t s = 0; s < 2; s++)
                        for (uint8_t q = 0; q < 3; q++) {
                                const struct figures *a = &fig[s][q][IMPL_MQLINK],
                                                     *b = &fig[s][q][IMPL_MOSQ];
                                printf("%-4s q%u:", sizes[s] == 64 ? "64B" : "4KiB", q);
                                if (!a->valid || !b->valid) {
                                        printf("  -\n");
                                        continue;
                                }
                                ratio("msg/s", a->rate, b->rate);
                                ratio("pub_cpu", a->pub_us, b->pub_us);
                                ratio("sub_cpu", a->sub_us, b->sub_us);
                                ratio("brk_cpu", a->brk_us, b->brk_us);
                                if (q) {
                                        ratio("ack_p50", a->p50_us, b->p50_us);
                                        ratio("ack_p99", a->p99_us, b->p99_us);
                                }
                                ratio("pub_rss", (double)a->pub_rss, (double)b->pub_rss);
                                ratio("sub_rss", (double)a->sub_rss, (double)b->sub_rss);
                                printf("\n");
                        }
        }
        printf("\nshare of the broker's QoS 0 ceiling (client msg/s / ceiling msg/s)\n");
        for (size_t s = 0; s < 2; s++) {
                printf("%-4s q0: ceiling %.0f msg/s", sizes[s] == 64 ? "64B" : "4KiB",
                       ceil[s].valid ? ceil[s].rate : 0.0);
                for (int im = 0; im < 2; im++) {
                        if (!want[im])
                                continue;
                        const struct figures *f = &fig[s][0][im];
                        if (f->valid && ceil[s].valid)
                                printf("  %s %.2f", impl_name[im], f->rate / ceil[s].rate);
                        else
                                printf("  %s -", impl_name[im]);
                }
                printf("\n");
        }
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

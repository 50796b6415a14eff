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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mosquitto.h>

#include <mqlink/client.h>
#include <mqlink/loop.h>
#include <mqlink/mqlink.h>

#include "bench-figures.h"
#include "bench-mosq.h"
#include "bench-peer.h"
#include "bench-util.h"

#define WINDOW 100
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

/* ---- the broker --------------------------------------------------------- */

#define BROKER_CONF PEER_BROKER_CONF(WINDOW)

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

/* ---- mqlink ------------------------------------------------------------- */

static void mq_on_state(struct mql_client *c, enum mql_client_state state, int error,
                        void *userdata) {
        if (state == MQL_CLIENT_CONNECTED) {
                peer.connected = true;
                return;
        }
        if (state == MQL_CLIENT_STOPPED && error == 0)
                return; /* our own mql_client_disconnect() */
        if (state != MQL_CLIENT_CONNECTING) {
                peer.lost = true;
                peer.lost_err = error;
        }
}

static void mq_on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        peer_received(msg->payload.len);
}

static void mq_on_suback(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                         void *userdata) {
        if (error < 0 || n != 1 || reasons[0] >= 0x80)
                peer_fail(peer.res, EPROTO, "mqlink: SUBSCRIBE refused (error %d, reason 0x%02x)",
                          error, n ? reasons[0] : 0);
        else
                peer.subscribed = true;
}

static void mq_on_publish(struct mql_session *s, uint16_t packet_id, int reason, void *userdata) {
        if (reason < 0 || reason >= 0x80) {
                if (peer.res->failed++ == 0)
                        peer_fail(peer.res, reason < 0 ? -reason : EPROTO,
                                  "mqlink: publish completed with %d (%s)", reason,
                                  reason < 0 ? mql_strerror(reason)
                                             : mql_reason_str((unsigned)reason));
        }
        peer_completed((uint16_t)(uintptr_t)userdata);
}

static size_t mq_output_len(struct mql_client *c) {
        const uint8_t *p;
        size_t len;

        mql_session_output(mql_client_get_session(c), &p, &len);
        return len;
}

static struct mql_client *mq_client(const struct peer_job *j, const char *id, struct mql_loop *loop,
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
                peer_fail(peer.res, -r, "mql_client_new: %s", mql_strerror(r));
                return NULL;
        }
        r = mql_client_attach_loop(c, loop);
        if (r >= 0)
                r = mql_client_start(c);
        if (r < 0) {
                peer_fail(peer.res, -r, "mqlink attach/start: %s", mql_strerror(r));
                return mql_client_free(c);
        }
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (!peer.connected && !peer.lost && now_ns() < deadline) {
                r = mql_loop_run_once(loop, 100 * 1000);
                if (r < 0) {
                        peer_fail(peer.res, -r, "mql_loop_run_once: %s", mql_strerror(r));
                        return mql_client_free(c);
                }
        }
        if (!peer.connected) {
                peer_fail(peer.res, ETIMEDOUT, "mqlink: not connected (state %d, error %d)",
                          mql_client_get_state(c), peer.lost_err);
                return mql_client_free(c);
        }
        struct mql_session_stats st;
        mql_session_get_stats(mql_client_get_session(c), &st);
        peer.res->server_receive_maximum = st.server_receive_maximum;
        return c;
}

static void mq_close(struct mql_client *c, struct mql_loop *loop) {
        if (!peer.lost && mql_client_disconnect(c, 0) >= 0) {
                uint64_t deadline = now_ns() + NSEC_PER_SEC;
                while (mql_client_get_state(c) != MQL_CLIENT_STOPPED && now_ns() < deadline)
                        if (mql_loop_run_once(loop, 100 * 1000) < 0)
                                break;
        }
        mql_client_free(c);
}

/* Runs the loop once; false (with the reason in the result) when the
 * client lost its connection or made no progress for STALL_NSEC. */
static bool mq_pump(struct mql_client *c, struct mql_loop *loop, uint64_t *progress) {
        int r = mql_loop_run_once(loop, 100 * 1000);

        if (r < 0) {
                peer_fail(peer.res, -r, "mql_loop_run_once: %s", mql_strerror(r));
                return false;
        }
        if (peer.lost) {
                peer_fail(peer.res, peer.lost_err < 0 ? -peer.lost_err : EPROTO,
                          "mqlink: connection lost (%d: %s) after %" PRIu64 " completions",
                          peer.lost_err, mql_strerror(peer.lost_err), peer.completed);
                return false;
        }
        uint64_t t = now_ns(), p = peer.completed << 32 ^ mq_output_len(c);
        if (p != *progress) {
                *progress = p;
                peer.last_progress = t;
        } else if (t - peer.last_progress > STALL_NSEC) {
                struct mql_session_stats st;
                mql_session_get_stats(mql_client_get_session(c), &st);
                peer_fail(peer.res, ETIMEDOUT,
                          "mqlink: stalled: %" PRIu64 " completed, %" PRIu64
                          " outstanding, session inflight %zu queued %zu, output %zu bytes, "
                          "events 0x%x",
                          peer.completed, peer.outstanding, st.inflight, st.queued,
                          mq_output_len(c), mql_client_get_events(c));
                return false;
        }
        return true;
}

static void mq_publisher(const struct peer_job *j, struct peer_result *res, int ready_fd,
                         int ctl_fd) {
        struct mql_loop *loop;
        uint8_t *payload = make_payload(j->size);
        /* At most WINDOW packets waiting in the output (see the top). */
        size_t max_output = WINDOW * (j->size + strlen(j->topic) + 16);

        peer_begin(j, res);
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
        uint64_t progress = 0, cpu0 = self_cpu_ns(), seq = 0;
        peer.last_progress = res->t_first = now_ns();
        while (seq < j->n) {
                if (j->qos && peer.outstanding >= WINDOW) {
                        if (!mq_pump(c, loop, &progress))
                                break;
                        continue;
                }
                if (j->qos)
                        peer_sent((uint16_t)seq, now_ns());
                peer.outstanding++;
                int r = mql_client_publish(c, &msg, mq_on_publish, (void *)(uintptr_t)seq);
                if (r == -ENOBUFS) {
                        peer.outstanding--;
                        if (!mq_pump(c, loop, &progress))
                                break;
                        continue;
                }
                if (r < 0) {
                        peer.outstanding--;
                        peer_fail(res, -r, "mql_client_publish: %s", mql_strerror(r));
                        break;
                }
                seq++;
        }
        while (!res->err && (peer.completed < seq || mq_output_len(c) > 0))
                if (!mq_pump(c, loop, &progress))
                        break;
        peer_publisher_done(cpu0);
        mq_close(c, loop);
        mql_loop_free(loop);
        res->maxrss_kib = self_maxrss_kib();
}

static void mq_subscriber(const struct peer_job *j, struct peer_result *res, int ready_fd,
                          int ctl_fd) {
        struct mql_loop *loop;
        struct peer_watch w;

        peer_begin(j, res);
        if (mql_loop_new(&loop) < 0)
                abort();
        struct mql_client *c = mq_client(j, "bench-sub", loop, 0);
        if (!c)
                return;
        struct mql_subscription sub = { .filter = mql_str_from(j->topic), .qos = j->qos };
        int r = mql_client_subscribe(c, &sub, 1, NULL, mq_on_suback, NULL);
        if (r < 0) {
                peer_fail(res, -r, "mql_client_subscribe: %s", mql_strerror(r));
                goto out;
        }
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (!peer.subscribed && !res->err && !peer.lost && now_ns() < deadline)
                if (mql_loop_run_once(loop, 100 * 1000) < 0)
                        break;
        if (!peer.subscribed) {
                peer_fail(res, ETIMEDOUT, "mqlink: no SUBACK");
                goto out;
        }

        uint64_t cpu0 = self_cpu_ns();
        peer_sub_ready(&w, ready_fd, ctl_fd);
        while (peer_sub_more(&w)) {
                r = mql_loop_run_once(loop, 50 * 1000);
                if (r < 0) {
                        peer_fail(res, -r, "mql_loop_run_once: %s", mql_strerror(r));
                        break;
                }
                if (peer.lost) {
                        peer_fail(res, peer.lost_err < 0 ? -peer.lost_err : EPROTO,
                                  "mqlink subscriber: connection lost (%d: %s) after %" PRIu64
                                  " messages",
                                  peer.lost_err, mql_strerror(peer.lost_err), res->count);
                        break;
                }
        }
        res->cpu_ns = self_cpu_ns() - cpu0;
out:
        mq_close(c, loop);
        mql_loop_free(loop);
        res->maxrss_kib = self_maxrss_kib();
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

static int raw_connect(const struct peer_job *j, struct peer_result *res) {
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
                peer_fail(res, errno, "raw connect: %m");
                return -1;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ssize_t n = encode(&p, buf, sizeof(buf));
        if (write_all(fd, buf, (size_t)n) < 0) {
                peer_fail(res, errno, "raw CONNECT: %m");
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
                peer_fail(res, ECONNREFUSED, "raw: no CONNACK");
                close(fd);
                return -1;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        return fd;
}

static void raw_publisher(const struct peer_job *j, struct peer_result *res, int ready_fd,
                          int ctl_fd) {
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

        uint64_t cpu0 = self_cpu_ns(), sent = 0;
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
                                peer_fail(res, errno, "raw write: %m");
                                goto out;
                        }
                        off += (size_t)r;
                }
                sent += pkts;
        }
        res->t_last = now_ns();
        res->count = sent;
        res->cpu_ns = self_cpu_ns() - cpu0;
        /* DISCONNECT after the last PUBLISH; the broker reads it in order. */
        struct mql_packet d = { .type = MQL_DISCONNECT };
        uint8_t dbuf[16];
        ssize_t dn = encode(&d, dbuf, sizeof(dbuf));
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        (void)write_all(fd, dbuf, (size_t)dn);
out:
        close(fd);
        free(chunk);
        res->maxrss_kib = self_maxrss_kib();
}

/* ---- one run: a broker, a subscriber process, a publisher process -------- */

static const peer_fn publishers[] = {
        [IMPL_MQLINK] = mq_publisher,
        [IMPL_MOSQ] = mosq_publisher,
        [IMPL_RAW] = raw_publisher,
};

static const peer_fn subscribers[] = {
        [IMPL_MQLINK] = mq_subscriber,
        [IMPL_MOSQ] = mosq_subscriber,
};

static int run_one(enum impl pub_impl, enum impl sub_impl, uint8_t qos, size_t size, unsigned n,
                   struct pair_result *out) {
        static unsigned serial;
        struct broker b;
        struct pair p = {
                .pub = { .run = publishers[pub_impl],
                         .qos = qos,
                         .size = size,
                         .n = n,
                         .window = WINDOW,
                         .receive_maximum = WINDOW,
                         /* Measured by mqlink's and libmosquitto's. */
                         .latency = pub_impl != IMPL_RAW,
                         .stall_nsec = STALL_NSEC,
                         .idle_nsec = IDLE_NSEC },
                .child_timeout_ms = CHILD_TIMEOUT_MS,
        };
        int r;

        r = broker_start(&b);
        if (r < 0) {
                *out = (struct pair_result){ 0 };
                snprintf(out->err, sizeof(out->err), "cannot start mosquitto: %s", strerror(-r));
                return r;
        }
        p.broker_pid = b.pid;
        p.pub.port = b.port;
        snprintf(p.pub.topic, sizeof(p.pub.topic), "bench/%d/%u", (int)getpid(), serial++);
        p.sub = p.pub;
        p.sub.run = subscribers[sub_impl];
        p.sub.latency = false;
        /* mosquitto 2.0 frees a QoS 2 slot toward a subscriber at PUBREC
         * instead of PUBCOMP (MQTT 5 §4.9), so it sends more than the
         * subscriber's Receive Maximum and libmosquitto drops the connection
         * (MOSQ_ERR_PROTOCOL). At QoS 2 both subscribers allow 65535. */
        p.sub.receive_maximum = qos == 2 ? 65535 : WINDOW;

        pair_run(&p, out);
        if (!out->err[0] && qos > 0 && pub_impl != IMPL_RAW && out->sub.count < n)
                snprintf(out->err, sizeof(out->err),
                         "QoS %u: subscriber got %" PRIu64 " of %u messages", qos, out->sub.count,
                         n);
        if (!out->err[0] && out->sub.bad)
                snprintf(out->err, sizeof(out->err), "%" PRIu64 " payloads of the wrong size",
                         out->sub.bad);
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
                kib = self_maxrss_kib();
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

static struct figures figures_of(const struct pair_result *r, unsigned n, uint8_t qos) {
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

/* Each figure's median over the runs (each figure on its own: the run with
 * the median rate need not have the median CPU time). A failed run makes
 * the whole case fail: its error is what gets reported. */
static struct figures summarize(const struct figures *runs, unsigned n) {
        double v[MAX_REPS];
        struct figures f = runs[0];

        for (unsigned i = 0; i < n; i++)
                if (!runs[i].valid)
                        return runs[i];
        MEDIAN_OF(f, runs, n, v, rate);
        MEDIAN_OF(f, runs, n, v, pub_us);
        MEDIAN_OF(f, runs, n, v, sub_us);
        MEDIAN_OF(f, runs, n, v, brk_us);
        MEDIAN_OF(f, runs, n, v, p50_us);
        MEDIAN_OF(f, runs, n, v, p99_us);
        MEDIAN_OF(f, runs, n, v, pub_rss);
        MEDIAN_OF(f, runs, n, v, sub_rss);
        for (unsigned i = 0; i < n; i++)
                if (runs[i].delivered < f.delivered)
                        f.delivered = runs[i].delivered; /* the worst run's losses */
        return f;
}

static struct figures measure_once(enum impl pub, enum impl sub, uint8_t qos, size_t size,
                                   unsigned n, unsigned rep) {
        struct pair_result r;

        run_one(pub, sub, qos, size, n, &r);
        struct figures f = figures_of(&r, n, qos);
        fprintf(stderr, "  %-4s q%u %-12s -> %-12s run %u: ", size == 64 ? "64B" : "4KiB", qos,
                impl_name[pub], impl_name[sub], rep + 1);
        report_run(f.valid, f.rate, f.delivered, n, f.err);
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

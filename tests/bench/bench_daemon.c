/* SPDX-License-Identifier: MIT */
/*
 * mqlinkd end to end, beside libmosquitto doing the same work in the same
 * run. The program starts its own mosquitto (tests/integration/broker.h) on
 * a free 127.0.0.1 port and its own mqlinkd (`mqlinkd -c <dir>/d.conf`,
 * one [broker:local] pointing at that mosquitto), then measures:
 *
 * 1. Throughput, 64 B payloads, QoS 0 and QoS 1:
 *      local PUB -> mqlinkd -> mosquitto -> mqlinkd -> local MSG
 *    against
 *      libmosquitto publisher -> mosquitto -> libmosquitto subscriber.
 *    The local publisher and subscriber are raw Unix-socket clients of this
 *    process, driven by one epoll loop, speaking the text protocol
 *    (docs/protocol.md; replies parsed with mql_ipc_parse_reply()). The
 *    publisher keeps at most WINDOW PUBs waiting for their +OK, at QoS 0
 *    too (that bounds what it queues). libmosquitto runs as bench_client
 *    runs it: publisher and subscriber are forked processes, each on
 *    mosquitto_loop(), MQTT 5, TCP_NODELAY, at most WINDOW messages
 *    outstanding (on_publish: PUBACK at QoS 1, "written" at QoS 0), send
 *    and receive maximum WINDOW. mosquitto's max_inflight_messages is
 *    WINDOW as well, and mqlinkd takes the broker's Receive Maximum as its
 *    own window toward it, so both paths have the same window on every hop.
 *    Rate: delivered / (subscriber's last message - first publish). CPU time
 *    per delivered message: the daemon's and the broker's (/proc/PID/stat,
 *    10 ms ticks) and the clients' (getrusage: this process for the local
 *    clients, publisher + subscriber for libmosquitto). Each figure is the
 *    median over R rounds; the two paths alternate in order round by
 *    round. QoS 1 must deliver every message, QoS 0 may lose some.
 *
 * 2. Fan-out: S local connections each SUB'd to one topic (mqlinkd holds
 *    ONE upstream subscription for all of them), one local publisher sends
 *    M QoS 0 messages; deliveries/s over all subscribers, from the first
 *    PUB to the last MSG the last subscriber gets, and when the first MSG
 *    came (the daemon routes a burst from its broker into its client
 *    buffers before it writes them: first_ms shows how long that takes).
 *
 * 3. Memory: the daemon's VmRSS idle (just started, its broker connected),
 *    with C local clients connected (each sent PING and got PONG), and with
 *    each of them holding one subscription (a topic of its own, so C
 *    upstream subscriptions too). Measured first, on the fresh daemon.
 *
 * Usage: bench_daemon [--quick] [--rounds N] [--messages N]
 *                     [--only throughput|fanout|memory]
 *   --quick       a smoke test: 1000 messages, 1 round, fan-out 10 and 50
 *                 subscribers, memory with 100 clients (a few seconds)
 *   --rounds N    rounds of the throughput cases (default 3; at most 15)
 *   --messages N  messages per throughput case (default 100000 at QoS 0,
 *                 50000 at QoS 1)
 *   --only WHAT   one part only
 * The daemon is MQLINKD from the environment, else the one built with this
 * program (MQLINKD_PATH). Exits 77 (skipped) without mosquitto. Prints
 * figures and never judges them; exits 1 when a run fails (a QoS 1 message
 * lost, the daemon gone or stalled, a refused command).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mosquitto.h>

#include <mqlink/ipc.h>
#include <mqlink/mqlink.h>

#include "bench-figures.h"
#include "bench-mosq.h"
#include "bench-peer.h"
#include "bench-util.h"

/* tests/integration/broker.h: the launcher the integration tests use. */
#include "broker.h"

#ifndef MQLINKD_PATH
#define MQLINKD_PATH "mqlinkd"
#endif

#define WINDOW 1000
#define PAYLOAD 64
#define MAX_ROUNDS 15
/* No progress for this long fails a run. */
#define STALL_NSEC (10 * NSEC_PER_SEC)
/* Once every PUB is answered, how long the subscriber(s) may stay silent
 * before the rest counts as lost (QoS 0 may lose messages). Through the
 * daemon, only while it is idle too: it may be busy for seconds routing a
 * burst into its client buffers before it writes any of them. */
#define IDLE_NSEC (1 * NSEC_PER_SEC)
/* The daemon counts as idle when it used less CPU than this over IDLE_NSEC. */
#define DAEMON_BUSY_NSEC (50 * NSEC_PER_MSEC)
/* The parent kills a libmosquitto child that has not reported by then. */
#define CHILD_TIMEOUT_MS (120 * 1000)
/* File descriptors this process and the daemon get (fan-out and memory
 * open 1000 local connections). */
#define FD_WANT 4096

/* As bench_client's, with the window of this benchmark. */
#define BROKER_CONF PEER_BROKER_CONF(WINDOW)

/* ---- small helpers ------------------------------------------------------ */

/* snprintf() without the compiler's truncation warnings: truncating a
 * message or a path that cannot be that long is fine here. */
static void say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
}

static void *xmalloc(size_t n) {
        void *p = malloc(n ? n : 1);
        if (!p) {
                fprintf(stderr, "bench_daemon: out of memory\n");
                abort();
        }
        return p;
}

/* A "Vm...:  N kB" line of /proc/PID/status (key with its colon), in KiB;
 * -1 if unknown. */
static long proc_status_kib(pid_t pid, const char *key) {
        char path[64], line[256];
        size_t klen = strlen(key);
        long kib = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, key, klen) && sscanf(line + klen, "%ld", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

static long proc_rss_kib(pid_t pid) {
        return proc_status_kib(pid, "VmRSS:");
}

/* Heap and other private mappings, touched or not. */
static long proc_data_kib(pid_t pid) {
        return proc_status_kib(pid, "VmData:");
}

/* ---- the processes this program starts, and their cleanup --------------- */

static struct test_broker g_broker = TEST_BROKER_INIT;
static volatile pid_t g_daemon_pid;
static volatile pid_t g_kids[2]; /* libmosquitto publisher and subscriber */
static bool g_is_child;
static const char *g_daemon_path;
/* In the broker's directory, so that test_broker_stop() removes them too. */
static char g_conf[PATH_MAX], g_log[PATH_MAX], g_sock[PATH_MAX];
/* What the signal handler unlinks (only async-signal-safe calls there). */
static char g_unlink[6][PATH_MAX];

static void dump_file(const char *path, size_t max_bytes) {
        FILE *f = fopen(path, "r");
        if (!f)
                return;
        if (fseek(f, 0, SEEK_END) == 0) {
                long size = ftell(f);
                if (size > (long)max_bytes)
                        fseek(f, size - (long)max_bytes, SEEK_SET);
                else
                        fseek(f, 0, SEEK_SET);
        }
        char line[1024];
        while (fgets(line, sizeof(line), f))
                fprintf(stderr, "# %s%s", line, strchr(line, '\n') ? "" : "\n");
        fclose(f);
}

static void daemon_dump_log(void) {
        fprintf(stderr, "# mqlinkd's log (%s):\n", g_log);
        dump_file(g_log, 8192);
}

/* Whether the daemon still runs; reaps it (and says how it ended) if not. */
static bool daemon_alive(void) {
        int status;

        if (g_daemon_pid <= 0)
                return false;
        pid_t r = waitpid(g_daemon_pid, &status, WNOHANG);
        if (r == 0)
                return true;
        if (r == g_daemon_pid) {
                if (WIFSIGNALED(status))
                        fprintf(stderr, "bench_daemon: mqlinkd died of signal %d (%s)\n",
                                WTERMSIG(status), strsignal(WTERMSIG(status)));
                else
                        fprintf(stderr, "bench_daemon: mqlinkd exited with status %d\n",
                                WEXITSTATUS(status));
                daemon_dump_log();
        }
        g_daemon_pid = 0;
        return false;
}

/* SIGTERM (the daemon waits up to shutdown_timeout for acks), SIGKILL
 * after 3 s. */
static void daemon_stop(void) {
        pid_t pid = g_daemon_pid;

        if (pid <= 0)
                return;
        kill(pid, SIGTERM);
        for (int i = 0; i < 300; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                        g_daemon_pid = 0;
                        return;
                }
                nap_ms(10);
        }
        fprintf(stderr, "bench_daemon: mqlinkd did not stop on SIGTERM within 3 s: killed\n");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        g_daemon_pid = 0;
}

static void cleanup(void) {
        if (g_is_child)
                return;
        for (int i = 0; i < 2; i++)
                if (g_kids[i] > 0) {
                        kill(g_kids[i], SIGKILL);
                        waitpid(g_kids[i], NULL, 0);
                        g_kids[i] = 0;
                }
        daemon_stop();
        test_broker_stop(&g_broker); /* removes its directory, our files too */
}

static void on_fatal_signal(int sig) {
        if (!g_is_child) {
                /* kill() and waitpid() are async-signal-safe; no zombies
                 * left for whoever inherits them. */
                for (int i = 0; i < 2; i++)
                        if (g_kids[i] > 0) {
                                kill(g_kids[i], SIGKILL);
                                waitpid(g_kids[i], NULL, 0);
                        }
                if (g_daemon_pid > 0) {
                        kill(g_daemon_pid, SIGKILL);
                        waitpid(g_daemon_pid, NULL, 0);
                }
                if (g_broker.pid > 0) {
                        kill(-g_broker.pid, SIGKILL);
                        kill(g_broker.pid, SIGKILL);
                        waitpid(g_broker.pid, NULL, 0);
                }
                for (size_t i = 0; i < sizeof(g_unlink) / sizeof(g_unlink[0]); i++)
                        if (g_unlink[i][0])
                                unlink(g_unlink[i]);
                if (g_broker.dir[0])
                        rmdir(g_broker.dir);
        }
        signal(sig, SIG_DFL);
        raise(sig);
}

/* First thing in a child of ours: this process's cleanup and signal
 * handlers are not its own, and it dies with this process (at once if
 * that is gone already). */
static void become_child(pid_t parent) {
        g_is_child = true;
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
}

/* ---- mqlinkd ------------------------------------------------------------ */

static int write_daemon_conf(void) {
        FILE *f = fopen(g_conf, "w");
        if (!f)
                return -errno;
        fprintf(f,
                "[mqlinkd]\n"
                "socket_path = %s\n"
                "log_level = warning\n"
                "max_clients = %d\n"
                /* 1000 subscribers and their messages: no loss to the bound. */
                "client_output_max = 64M\n"
                "shutdown_timeout = 1\n"
                "\n"
                "[broker:local]\n"
                "uri = mqtt://127.0.0.1:%u\n"
                "client_id = bench-mqlinkd\n"
                "clean_start = yes\n"
                "protocol = 5\n",
                g_sock, FD_WANT, (unsigned)g_broker.port);
        if (fclose(f) != 0)
                return -errno;
        return 0;
}

static int unix_connect(int *ret) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        size_t len = strlen(g_sock);
        if (len >= sizeof(a.sun_path)) {
                close(fd);
                return -ENAMETOOLONG;
        }
        memcpy(a.sun_path, g_sock, len + 1);
        /* Blocking: with the listen backlog full, connect() waits for the
         * daemon to accept instead of failing with EAGAIN. */
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        *ret = fd;
        return 0;
}

/* One STATUS round trip on a fresh connection, blocking (setup only):
 * the JSON document, NUL-terminated, in buf. */
static int daemon_status(char *buf, size_t size) {
        static char scratch[MQL_IPC_LINE_MAX_DEFAULT];
        struct mql_ipc_parser p;
        char *in = xmalloc(1 << 20);
        size_t have = 0;
        int fd, r = unix_connect(&fd);

        if (r < 0) {
                free(in);
                return r;
        }
        mql_ipc_parser_init(&p, 0, 0);
        r = write_all(fd, "STATUS\n", 7);
        while (r >= 0) {
                struct mql_ipc_frame f;
                ssize_t n = mql_ipc_parse_reply(&p, in, have, scratch, sizeof(scratch), &f);
                if (n < 0) {
                        r = (int)n;
                        break;
                }
                if (n > 0) {
                        if (f.kind != MQL_IPC_OK || !f.has_payload || f.error) {
                                r = -EPROTO;
                                break;
                        }
                        size_t len = f.payload.len < size - 1 ? f.payload.len : size - 1;
                        memcpy(buf, f.payload.ptr, len);
                        buf[len] = 0;
                        r = 0;
                        break;
                }
                if (have == (1 << 20)) {
                        r = -EMSGSIZE;
                        break;
                }
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (poll(&pfd, 1, 5000) <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                ssize_t got = read(fd, in + have, (1 << 20) - have);
                if (got < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (got <= 0) {
                        r = got < 0 ? -errno : -EPIPE;
                        break;
                }
                have += (size_t)got;
        }
        close(fd);
        free(in);
        return r;
}

/* Starts the daemon and waits (10 s at most) until its socket answers and
 * its broker is connected. */
static int daemon_start(void) {
        int r = write_daemon_conf();
        if (r < 0) {
                fprintf(stderr, "bench_daemon: cannot write %s: %s\n", g_conf, strerror(-r));
                return r;
        }
        if (access(g_daemon_path, X_OK) < 0) {
                r = -errno;
                fprintf(stderr, "bench_daemon: %s: %s\n", g_daemon_path, strerror(errno));
                return r;
        }
        pid_t parent = getpid();
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                become_child(parent);
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                int log = open(g_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (null >= 0)
                        dup2(null, 0);
                if (log >= 0) {
                        dup2(log, 1);
                        dup2(log, 2);
                }
                /* meson test sets it: the daemon's heap would then be
                 * written on malloc, and its RSS figures would mean little. */
                unsetenv("MALLOC_PERTURB_");
                execl(g_daemon_path, "mqlinkd", "-c", g_conf, (char *)NULL);
                dprintf(2, "exec %s: %s\n", g_daemon_path, strerror(errno));
                _exit(127);
        }
        g_daemon_pid = pid;

        char doc[16384];
        uint64_t deadline = now_ns() + 10 * NSEC_PER_SEC;
        r = -ETIMEDOUT;
        while (now_ns() < deadline) {
                if (!daemon_alive())
                        return -ECHILD;
                if (daemon_status(doc, sizeof(doc)) == 0 && strstr(doc, "\"connected\"")) {
                        r = 0;
                        break;
                }
                nap_ms(20);
        }
        if (r < 0) {
                fprintf(stderr,
                        "bench_daemon: mqlinkd did not listen on %s with its broker connected "
                        "within 10 s\n",
                        g_sock);
                daemon_dump_log();
                daemon_stop();
        }
        return r;
}

/* After a failed run: what the daemon says about its broker and its local
 * clients (STATUS), for the report. */
static void daemon_diagnose(void) {
        static char doc[1 << 20];

        if (daemon_status(doc, sizeof(doc)) < 0) {
                fprintf(stderr, "# mqlinkd does not answer STATUS\n");
                return;
        }
        char *clients = strstr(doc, ",\"clients\":");
        size_t n = 0;
        uint64_t dropped = 0, output = 0, pending = 0;
        if (clients) {
                for (const char *p = clients; (p = strstr(p, "\"dropped\":")); p++) {
                        dropped += strtoull(p + 10, NULL, 10);
                        n++;
                }
                for (const char *p = clients; (p = strstr(p, "\"output_bytes\":")); p++)
                        output += strtoull(p + 15, NULL, 10);
                for (const char *p = clients; (p = strstr(p, "\"pending\":")); p++)
                        pending += strtoull(p + 10, NULL, 10);
                *clients = 0;
        }
        fprintf(stderr, "# mqlinkd STATUS: %s\n", doc);
        fprintf(stderr,
                "# local clients: %zu (this STATUS one included), replies pending %" PRIu64
                ", output queued %" PRIu64 " bytes, dropped %" PRIu64 "\n",
                n, pending, output, dropped);
}

/* ---- local clients: raw Unix sockets and the text protocol --------------- */

static char g_scratch[MQL_IPC_LINE_MAX_DEFAULT];

struct hub;

struct lc {
        struct hub *hub;
        int fd;
        struct mql_ipc_parser parser;
        char *in;
        size_t in_off, in_len, in_cap;
        char *out;
        size_t out_off, out_len, out_cap;
        bool want_out; /* EPOLLOUT registered */
        bool closed;
        uint64_t oks, errs, pongs, msgs, bad;
        uint64_t expect;          /* MSGs after which it counts as complete (0: none) */
        uint64_t t_first, t_last; /* of MSGs */
        char err[200];            /* the first problem */
};

/* One epoll set of local clients. */
struct hub {
        int ep;
        size_t complete;     /* clients with msgs == expect */
        uint64_t t_last_msg; /* last MSG on any client */
        uint64_t n_events;   /* anything at all happened: progress */
};

static void lc_problem(struct lc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void lc_problem(struct lc *c, const char *fmt, ...) {
        va_list ap;

        if (c->err[0])
                return;
        va_start(ap, fmt);
        vsnprintf(c->err, sizeof(c->err), fmt, ap);
        va_end(ap);
}

static void buf_reserve(char **buf, size_t *cap, size_t need) {
        if (need <= *cap)
                return;
        size_t n = *cap ? *cap : 4096;
        while (n < need)
                n *= 2;
        char *p = realloc(*buf, n);
        if (!p) {
                fprintf(stderr, "bench_daemon: out of memory\n");
                abort();
        }
        *buf = p;
        *cap = n;
}

static int hub_init(struct hub *h) {
        *h = (struct hub){ 0 };
        h->ep = epoll_create1(EPOLL_CLOEXEC);
        return h->ep < 0 ? -errno : 0;
}

static void hub_done(struct hub *h) {
        if (h->ep >= 0)
                close(h->ep);
        h->ep = -1;
}

static int lc_open(struct lc *c, struct hub *h) {
        *c = (struct lc){ .hub = h, .fd = -1 };
        int r = unix_connect(&c->fd);
        if (r < 0)
                return r;
        mql_ipc_parser_init(&c->parser, 0, 0);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                r = -errno;
                close(c->fd);
                c->fd = -1;
                return r;
        }
        return 0;
}

static void lc_close(struct lc *c) {
        if (c->fd >= 0)
                close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
        free(c->in);
        free(c->out);
        c->in = c->out = NULL;
        c->in_cap = c->out_cap = 0;
}

static void lc_queue(struct lc *c, const void *data, size_t len) {
        if (c->out_off > 0 && c->out_off == c->out_len)
                c->out_off = c->out_len = 0;
        else if (c->out_off > c->out_cap / 2) {
                /* Partly written: keep the buffer from creeping forward. */
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
        }
        buf_reserve(&c->out, &c->out_cap, c->out_len + len);
        memcpy(c->out + c->out_len, data, len);
        c->out_len += len;
}

static void lc_set_out(struct lc *c, bool want) {
        if (want == c->want_out || c->fd < 0)
                return;
        struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
        if (epoll_ctl(c->hub->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
                c->want_out = want;
}

/* Writes what the socket takes; EPOLLOUT while the rest waits. */
static void lc_flush(struct lc *c) {
        while (!c->closed && c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0) {
                        lc_problem(c, "send: %s", strerror(errno));
                        c->closed = true;
                        break;
                }
                c->out_off += (size_t)n;
        }
        if (c->out_off == c->out_len)
                c->out_off = c->out_len = 0;
        lc_set_out(c, c->out_len > 0 && !c->closed);
}

static void lc_parse(struct lc *c, uint64_t now) {
        while (c->in_off < c->in_len) {
                struct mql_ipc_frame f;
                ssize_t n =
                        mql_ipc_parse_reply(&c->parser, c->in + c->in_off, c->in_len - c->in_off,
                                            g_scratch, sizeof(g_scratch), &f);
                if (n == 0)
                        break;
                if (n < 0) {
                        lc_problem(c, "the daemon broke the framing (%s)", strerror((int)-n));
                        c->closed = true;
                        return;
                }
                c->in_off += (size_t)n;
                if (f.error) {
                        lc_problem(c, "bad reply from the daemon: %s", f.error);
                        c->errs++;
                        continue;
                }
                switch (f.kind) {
                case MQL_IPC_MSG:
                        if (f.payload.len != PAYLOAD)
                                c->bad++;
                        if (c->msgs++ == 0)
                                c->t_first = now;
                        c->t_last = now;
                        c->hub->t_last_msg = now;
                        if (c->expect && c->msgs == c->expect)
                                c->hub->complete++;
                        break;
                case MQL_IPC_OK:
                        c->oks++;
                        break;
                case MQL_IPC_PONG:
                        c->pongs++;
                        break;
                case MQL_IPC_ERR:
                        c->errs++;
                        lc_problem(c, "-ERR %.*s %.*s", (int)f.code.len, f.code.ptr,
                                   (int)f.text.len, f.text.ptr);
                        break;
                default:
                        lc_problem(c, "unexpected reply kind %d", (int)f.kind);
                        c->errs++;
                }
        }
        if (c->in_off == c->in_len)
                c->in_off = c->in_len = 0;
        else if (c->in_off > c->in_cap / 2) {
                memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
                c->in_len -= c->in_off;
                c->in_off = 0;
        }
}

/* One read (level-triggered epoll brings the rest), then the frames. */
static void lc_read(struct lc *c) {
        buf_reserve(&c->in, &c->in_cap, c->in_len + 65536);
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR) {
                        lc_problem(c, "recv: %s", strerror(errno));
                        c->closed = true;
                }
                return;
        }
        if (n == 0) {
                lc_problem(c, "the daemon closed the connection");
                c->closed = true;
                return;
        }
        c->in_len += (size_t)n;
        lc_parse(c, now_ns());
}

/* Waits up to timeout_ms for events and handles them. Returns the number
 * of clients that had some, or -errno. */
static int hub_poll(struct hub *h, int timeout_ms) {
        struct epoll_event evs[256];
        int n = epoll_wait(h->ep, evs, 256, timeout_ms);

        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                struct lc *c = evs[i].data.ptr;
                if (c->closed)
                        continue;
                if (evs[i].events & EPOLLOUT)
                        lc_flush(c);
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        lc_read(c);
                if (c->closed && c->fd >= 0) {
                        /* Out of the set, or it would report HUP forever. */
                        epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
                }
        }
        h->n_events += (uint64_t)n;
        return n;
}

/* Runs the hub until done(arg) or timeout; false on timeout or when a
 * client failed (its reason in err). */
static bool hub_wait(struct hub *h, struct lc *cs, size_t n, bool (*done)(struct lc *, size_t),
                     int timeout_ms, char *err, size_t errlen) {
        uint64_t deadline = now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;

        for (;;) {
                for (size_t i = 0; i < n; i++)
                        if (cs[i].closed || cs[i].errs) {
                                say(err, errlen, "local client %zu: %s", i,
                                    cs[i].err[0] ? cs[i].err : "failed");
                                return false;
                        }
                if (done(cs, n))
                        return true;
                if (now_ns() >= deadline) {
                        snprintf(err, errlen, "no answer within %d ms", timeout_ms);
                        return false;
                }
                int r = hub_poll(h, 50);
                if (r < 0) {
                        snprintf(err, errlen, "epoll_wait: %s", strerror(-r));
                        return false;
                }
        }
}

static bool all_ok1(struct lc *cs, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (cs[i].oks < 1)
                        return false;
        return true;
}

static bool all_pong1(struct lc *cs, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (cs[i].pongs < 1)
                        return false;
        return true;
}

/* The one PUB frame every publish of a run sends. */
static size_t format_pub(char *buf, size_t cap, const char *topic, uint8_t qos) {
        uint8_t *payload = make_payload(PAYLOAD);
        struct mql_ipc_frame f = {
                .kind = MQL_IPC_PUB,
                .topic = { topic, strlen(topic) },
                .payload = { (const char *)payload, PAYLOAD },
                .qos = qos,
        };
        ssize_t n = mql_ipc_format(&f, buf, cap);
        free(payload);
        if (n <= 0) {
                fprintf(stderr, "bench_daemon: mql_ipc_format: %s\n", strerror((int)-n));
                abort();
        }
        return (size_t)n;
}

/*
 * The local publisher's loop, shared by throughput and fan-out: sends n
 * copies of `frame`, at most WINDOW awaiting their reply, until every PUB
 * is answered and either the hub has `want_complete` complete clients or
 * nothing came for IDLE_NSEC after the last answer while the daemon was
 * idle. Returns 0 or -1 with err set. *ret_t0 is the first write.
 */
static int publish_run(struct hub *h, struct lc *pub, const char *frame, size_t frame_len,
                       unsigned n, size_t want_complete, uint64_t *ret_t0, char *err,
                       size_t errlen) {
        uint64_t sent = 0, last_events = UINT64_MAX, last_progress, done_at = 0;
        uint64_t t0 = now_ns(), busy_at = 0, cpu_t = 0, cpu = 0;

        *ret_t0 = t0;
        last_progress = t0;
        for (;;) {
                uint64_t acked = pub->oks + pub->errs;
                if (pub->closed || pub->errs) {
                        snprintf(err, errlen,
                                 "publisher: %s (%" PRIu64 " of %" PRIu64 " PUBs answered)",
                                 pub->err[0] ? pub->err : "failed", acked, sent);
                        return -1;
                }
                size_t queued = 0;
                while (sent < n && sent - acked < WINDOW) {
                        lc_queue(pub, frame, frame_len);
                        sent++;
                        queued++;
                }
                if (queued)
                        lc_flush(pub);
                uint64_t t = now_ns();
                if (acked == n) {
                        if (h->complete >= want_complete)
                                return 0;
                        if (!done_at)
                                done_at = cpu_t = t;
                        if (t - cpu_t >= IDLE_NSEC / 4) {
                                /* Still working on it: not quiet. */
                                uint64_t c = proc_cpu_ns(g_daemon_pid);
                                if (cpu && c - cpu > DAEMON_BUSY_NSEC / 4)
                                        busy_at = t;
                                cpu = c;
                                cpu_t = t;
                        }
                        uint64_t quiet = h->t_last_msg > done_at ? h->t_last_msg : done_at;
                        if (busy_at > quiet)
                                quiet = busy_at;
                        if (t - quiet > IDLE_NSEC)
                                return 0; /* the rest is lost */
                }
                if (h->n_events != last_events || busy_at == t) {
                        last_events = h->n_events;
                        last_progress = t;
                } else if (t - last_progress > STALL_NSEC) {
                        snprintf(err, errlen,
                                 "stalled: %" PRIu64 " PUBs sent, %" PRIu64
                                 " answered, %zu of %zu subscribers complete, nothing for "
                                 "%llu s",
                                 sent, acked, h->complete, want_complete,
                                 STALL_NSEC / NSEC_PER_SEC);
                        return -1;
                }
                int r = hub_poll(h, 100);
                if (r < 0) {
                        snprintf(err, errlen, "epoll_wait: %s", strerror(-r));
                        return -1;
                }
        }
}

/* ---- figures ------------------------------------------------------------- */

struct tput {
        bool valid;
        char err[512];
        unsigned sent;
        uint64_t delivered;
        double rate;      /* delivered msg/s */
        double daemon_us; /* CPU µs per delivered message */
        double broker_us;
        double client_us;
};

static unsigned g_serial;

static void tput_finish(struct tput *f, uint64_t wall, uint64_t d_daemon, uint64_t d_broker,
                        uint64_t d_clients, bool with_daemon) {
        if (!f->delivered || !wall) {
                if (!f->err[0])
                        snprintf(f->err, sizeof(f->err), "nothing delivered");
                return;
        }
        f->rate = (double)f->delivered * 1e9 / (double)wall;
        f->daemon_us = with_daemon ? (double)d_daemon / 1e3 / (double)f->delivered : 0;
        f->broker_us = (double)d_broker / 1e3 / (double)f->delivered;
        f->client_us = (double)d_clients / 1e3 / (double)f->delivered;
        f->valid = !f->err[0];
}

/* Throughput through the daemon: one local publisher, one local subscriber. */
static struct tput run_mqlinkd(uint8_t qos, unsigned n) {
        struct tput f = { .sent = n };
        struct hub h;
        struct lc lc[2]; /* [0] subscriber, [1] publisher */
        char topic[64], line[128], frame[256];

        snprintf(topic, sizeof(topic), "bench/%d/%u", (int)getpid(), g_serial++);
        if (hub_init(&h) < 0) {
                snprintf(f.err, sizeof(f.err), "epoll_create1: %m");
                return f;
        }
        int r = lc_open(&lc[0], &h);
        if (r < 0) {
                say(f.err, sizeof(f.err), "connect %s: %s", g_sock, strerror(-r));
                hub_done(&h);
                return f;
        }
        r = lc_open(&lc[1], &h);
        if (r < 0) {
                say(f.err, sizeof(f.err), "connect %s: %s", g_sock, strerror(-r));
                lc_close(&lc[0]);
                hub_done(&h);
                return f;
        }
        int len = snprintf(line, sizeof(line), "SUB s %s qos=%u\n", topic, qos);
        lc_queue(&lc[0], line, (size_t)len);
        lc_flush(&lc[0]);
        if (!hub_wait(&h, lc, 1, all_ok1, 5000, f.err, sizeof(f.err)))
                goto out;
        lc[0].expect = n;
        size_t flen = format_pub(frame, sizeof(frame), topic, qos);

        uint64_t d0 = proc_cpu_ns(g_daemon_pid), b0 = proc_cpu_ns(g_broker.pid);
        uint64_t c0 = self_cpu_ns(), t0;
        r = publish_run(&h, &lc[1], frame, flen, n, 1, &t0, f.err, sizeof(f.err));
        uint64_t d1 = proc_cpu_ns(g_daemon_pid), b1 = proc_cpu_ns(g_broker.pid);
        uint64_t c1 = self_cpu_ns();
        f.delivered = lc[0].msgs;
        if (r == 0 && lc[0].closed)
                snprintf(f.err, sizeof(f.err), "subscriber: %s", lc[0].err);
        else if (r == 0 && lc[0].bad)
                snprintf(f.err, sizeof(f.err), "%" PRIu64 " payloads of the wrong size", lc[0].bad);
        else if (r == 0 && qos > 0 && lc[0].msgs < n)
                snprintf(f.err, sizeof(f.err),
                         "QoS %u: the subscriber got %" PRIu64 " of %u messages (every PUB "
                         "answered +OK)",
                         qos, lc[0].msgs, n);
        tput_finish(&f, lc[0].t_last > t0 ? lc[0].t_last - t0 : 0, d1 - d0, b1 - b0, c1 - c0, true);
out:
        lc_close(&lc[1]);
        lc_close(&lc[0]);
        hub_done(&h);
        return f;
}

/* ---- libmosquitto (forked publisher and subscriber, as in bench_client) ---- */

static void in_mosq_child(pid_t parent) {
        become_child(parent);
        signal(SIGPIPE, SIG_IGN);
}

static struct tput run_libmosquitto(uint8_t qos, unsigned n) {
        struct tput f = { .sent = n };
        struct pair p = {
                .pub = { .run = mosq_publisher,
                         .port = g_broker.port,
                         .qos = qos,
                         .size = PAYLOAD,
                         .n = n,
                         .window = WINDOW,
                         .receive_maximum = WINDOW,
                         .stall_nsec = STALL_NSEC,
                         .idle_nsec = IDLE_NSEC },
                .broker_pid = g_broker.pid,
                .child_timeout_ms = CHILD_TIMEOUT_MS,
                .in_child = in_mosq_child,
                .kids = g_kids,
        };
        struct pair_result r;

        snprintf(p.pub.topic, sizeof(p.pub.topic), "bench/%d/%u", (int)getpid(), g_serial++);
        p.sub = p.pub;
        p.sub.run = mosq_subscriber;
        pair_run(&p, &r);
        snprintf(f.err, sizeof(f.err), "%s", r.err);
        if (!f.err[0] && qos > 0 && r.sub.count < n)
                snprintf(f.err, sizeof(f.err), "QoS %u: subscriber got %" PRIu64 " of %u", qos,
                         r.sub.count, n);
        if (!f.err[0] && r.sub.bad)
                snprintf(f.err, sizeof(f.err), "%" PRIu64 " payloads of the wrong size", r.sub.bad);
        f.delivered = r.sub.count;
        /* With an error set, the figures stay invalid. */
        tput_finish(&f, r.sub.t_last > r.pub.t_first ? r.sub.t_last - r.pub.t_first : 0, 0,
                    r.broker_cpu_ns, r.pub.cpu_ns + r.sub.cpu_ns, false);
        return f;
}

/* ---- fan-out ------------------------------------------------------------- */

struct fanout {
        bool valid, skipped;
        char err[512];
        unsigned subs, published;
        uint64_t delivered, expected, dropped;
        double wall_ms;
        double first_ms;  /* first PUB -> first MSG at any subscriber */
        double rate;      /* deliveries/s */
        double msg_rate;  /* published messages/s fully fanned out */
        double daemon_us; /* daemon CPU per delivery */
        double broker_us; /* broker CPU per published message */
        size_t min_got;   /* the least any subscriber got */
};

/* Connects n local clients; -errno (and closes those opened) on failure. */
static int open_many(struct hub *h, struct lc *cs, size_t n, char *err, size_t errlen) {
        for (size_t i = 0; i < n; i++) {
                int r = lc_open(&cs[i], h);
                if (r < 0) {
                        snprintf(err, errlen, "local connection %zu: %s", i + 1, strerror(-r));
                        for (size_t k = 0; k < i; k++)
                                lc_close(&cs[k]);
                        return r;
                }
        }
        return 0;
}

static void close_many(struct lc *cs, size_t n) {
        for (size_t i = 0; i < n; i++)
                lc_close(&cs[i]);
}

static struct fanout run_fanout(unsigned nsubs, unsigned m) {
        struct fanout f = { .subs = nsubs, .published = m, .expected = (uint64_t)nsubs * m };
        struct hub h;
        struct lc *cs = calloc(nsubs + 1, sizeof(*cs)); /* [nsubs]: the publisher */
        char topic[64], line[128], frame[256];

        if (!cs || hub_init(&h) < 0) {
                snprintf(f.err, sizeof(f.err), "setup: %m");
                free(cs);
                return f;
        }
        snprintf(topic, sizeof(topic), "bench/fan/%d/%u", (int)getpid(), g_serial++);
        if (open_many(&h, cs, nsubs + 1, f.err, sizeof(f.err)) < 0) {
                hub_done(&h);
                free(cs);
                return f;
        }
        int len = snprintf(line, sizeof(line), "SUB f %s\n", topic);
        for (unsigned i = 0; i < nsubs; i++) {
                lc_queue(&cs[i], line, (size_t)len);
                lc_flush(&cs[i]);
        }
        if (!hub_wait(&h, cs, nsubs, all_ok1, 20000, f.err, sizeof(f.err)))
                goto out;
        for (unsigned i = 0; i < nsubs; i++)
                cs[i].expect = m;
        size_t flen = format_pub(frame, sizeof(frame), topic, 0);

        uint64_t d0 = proc_cpu_ns(g_daemon_pid), b0 = proc_cpu_ns(g_broker.pid), t0;
        int r = publish_run(&h, &cs[nsubs], frame, flen, m, nsubs, &t0, f.err, sizeof(f.err));
        uint64_t d1 = proc_cpu_ns(g_daemon_pid), b1 = proc_cpu_ns(g_broker.pid);
        if (r < 0)
                goto out;
        uint64_t t_last = 0, t_first = UINT64_MAX;
        f.min_got = SIZE_MAX;
        for (unsigned i = 0; i < nsubs; i++) {
                if (cs[i].closed || cs[i].errs || cs[i].bad) {
                        snprintf(f.err, sizeof(f.err), "subscriber %u: %s", i,
                                 cs[i].err[0] ? cs[i].err : "payloads of the wrong size");
                        goto out;
                }
                f.delivered += cs[i].msgs;
                if (cs[i].msgs < f.min_got)
                        f.min_got = cs[i].msgs;
                if (cs[i].t_last > t_last)
                        t_last = cs[i].t_last;
                if (cs[i].msgs && cs[i].t_first < t_first)
                        t_first = cs[i].t_first;
        }
        if (!f.delivered || t_last <= t0) {
                snprintf(f.err, sizeof(f.err), "nothing delivered");
                goto out;
        }
        uint64_t wall = t_last - t0;
        f.wall_ms = (double)wall / 1e6;
        f.first_ms = (double)(t_first - t0) / 1e6;
        f.rate = (double)f.delivered * 1e9 / (double)wall;
        f.msg_rate = (double)m * 1e9 / (double)wall;
        f.daemon_us = (double)(d1 - d0) / 1e3 / (double)f.delivered;
        f.broker_us = (double)(b1 - b0) / 1e3 / (double)m;
        f.valid = true;
out:
        close_many(cs, nsubs + 1);
        hub_done(&h);
        free(cs);
        return f;
}

/* ---- memory ---------------------------------------------------------------- */

struct memory {
        bool valid;
        char err[512];
        unsigned clients;
        long idle, pinged, subscribed, after;                     /* VmRSS, KiB */
        long idle_data, pinged_data, subscribed_data, after_data; /* VmData, KiB */
};

static struct memory run_memory(unsigned n, long idle_kib, long idle_data_kib) {
        struct memory f = { .clients = n, .idle = idle_kib, .idle_data = idle_data_kib };
        struct hub h;
        struct lc *cs = calloc(n, sizeof(*cs));
        char line[128];

        if (!cs || hub_init(&h) < 0) {
                snprintf(f.err, sizeof(f.err), "setup: %m");
                free(cs);
                return f;
        }
        if (open_many(&h, cs, n, f.err, sizeof(f.err)) < 0) {
                hub_done(&h);
                free(cs);
                return f;
        }
        for (unsigned i = 0; i < n; i++) {
                lc_queue(&cs[i], "PING\n", 5);
                lc_flush(&cs[i]);
        }
        if (!hub_wait(&h, cs, n, all_pong1, 20000, f.err, sizeof(f.err)))
                goto out;
        f.pinged = proc_rss_kib(g_daemon_pid);
        f.pinged_data = proc_data_kib(g_daemon_pid);
        for (unsigned i = 0; i < n; i++) {
                int len = snprintf(line, sizeof(line), "SUB m bench/mem/%d/%u\n", (int)getpid(), i);
                lc_queue(&cs[i], line, (size_t)len);
                lc_flush(&cs[i]);
        }
        if (!hub_wait(&h, cs, n, all_ok1, 30000, f.err, sizeof(f.err)))
                goto out;
        f.subscribed = proc_rss_kib(g_daemon_pid);
        f.subscribed_data = proc_data_kib(g_daemon_pid);
        f.valid = f.pinged > 0 && f.subscribed > 0;
        if (!f.valid)
                snprintf(f.err, sizeof(f.err), "cannot read /proc/%d/status", (int)g_daemon_pid);
out:
        close_many(cs, n);
        hub_done(&h);
        free(cs);
        /* Once the daemon has freed them: what it keeps. */
        char doc[65536];
        for (int i = 0; i < 100; i++) {
                if (daemon_status(doc, sizeof(doc)) == 0 && strstr(doc, "\"clients\":[{") &&
                    !strstr(doc, "},{"))
                        break; /* only the STATUS connection left */
                nap_ms(20);
        }
        f.after = proc_rss_kib(g_daemon_pid);
        f.after_data = proc_data_kib(g_daemon_pid);
        return f;
}

/* ---- summaries and output ---------------------------------------------------- */

/* Each figure's median on its own; a failed run fails the case. */
static struct tput summarize(const struct tput *runs, unsigned n) {
        double v[MAX_ROUNDS];
        struct tput f = runs[0];

        for (unsigned i = 0; i < n; i++)
                if (!runs[i].valid)
                        return runs[i];
        MEDIAN_OF(f, runs, n, v, rate);
        MEDIAN_OF(f, runs, n, v, daemon_us);
        MEDIAN_OF(f, runs, n, v, broker_us);
        MEDIAN_OF(f, runs, n, v, client_us);
        for (unsigned i = 0; i < n; i++)
                if (runs[i].delivered < f.delivered)
                        f.delivered = runs[i].delivered; /* the worst run's losses */
        return f;
}

static const char *const path_name[] = { "mqlinkd", "libmosquitto" };

static struct tput measure_once(int path, uint8_t qos, unsigned n, unsigned round) {
        struct tput f = path == 0 ? run_mqlinkd(qos, n) : run_libmosquitto(qos, n);

        fprintf(stderr, "  q%u %-12s round %u: ", qos, path_name[path], round + 1);
        report_run(f.valid, f.rate, f.delivered, n, f.err);
        return f;
}

static void print_tput_row(uint8_t qos, int path, const struct tput *f) {
        char cs[16];

        snprintf(cs, sizeof(cs), "64B q%u", qos);
        if (!f->valid) {
                printf("%-8s %-13s FAILED: %s\n", cs, path_name[path], f->err);
                return;
        }
        printf("%-8s %-13s %7u %7" PRIu64 " %9.0f", cs, path_name[path], f->sent, f->delivered,
               f->rate);
        if (path == 0)
                printf(" %10.2f", f->daemon_us);
        else
                printf(" %10s", "-");
        printf(" %9.2f %10.2f\n", f->broker_us, f->client_us);
}

/* The tables. Each returns whether a case failed. */
static bool print_tput(struct tput runs[2][2][MAX_ROUNDS], unsigned rounds) {
        struct tput fig[2][2];
        bool failed = false;

        printf("\nthroughput (%d B, window %d)\n", PAYLOAD, WINDOW);
        printf("%-8s %-13s %7s %7s %9s %10s %9s %10s\n", "case", "path", "sent", "deliv", "msg/s",
               "daemon_us", "brk_us", "client_us");
        for (uint8_t q = 0; q < 2; q++)
                for (int p = 0; p < 2; p++) {
                        fig[q][p] = summarize(runs[q][p], rounds);
                        if (!fig[q][p].valid && !fig[q][p].err[0])
                                snprintf(fig[q][p].err, sizeof(fig[q][p].err),
                                         "not run (mqlinkd is gone)");
                        failed |= !fig[q][p].valid;
                        print_tput_row(q, p, &fig[q][p]);
                }
        printf("msg/s: delivered / (last message at the subscriber - first publish); *_us: CPU "
               "(user+sys) per\ndelivered message of the daemon, of mosquitto, and of the "
               "clients (this process's raw\nUnix-socket publisher + subscriber for mqlinkd; "
               "the forked libmosquitto publisher +\nsubscriber otherwise). /proc ticks are "
               "10 ms.\n");
        printf("ratio mqlinkd/libmosquitto (msg/s: higher is better; CPU: lower is better; "
               "total_cpu: daemon +\nbroker + clients against broker + clients):\n");
        for (uint8_t q = 0; q < 2; q++) {
                const struct tput *a = &fig[q][0], *b = &fig[q][1];
                printf("  64B q%u: ", q);
                if (!a->valid || !b->valid) {
                        printf("-\n");
                        continue;
                }
                double ta = a->daemon_us + a->broker_us + a->client_us,
                       tb = b->broker_us + b->client_us;
                printf("msg/s %.2f  brk_cpu %.2f  client_cpu %.2f  total_cpu %.2f "
                       "(the daemon itself: %.2f us/msg)\n",
                       a->rate / b->rate, b->broker_us > 0 ? a->broker_us / b->broker_us : 0.0,
                       b->client_us > 0 ? a->client_us / b->client_us : 0.0, tb > 0 ? ta / tb : 0.0,
                       a->daemon_us);
        }
        return failed;
}

static bool print_fanout(const struct fanout fan[2]) {
        bool failed = false;

        printf("\nfan-out (QoS 0, %d B; every subscriber SUB'd to one topic: one upstream "
               "subscription)\n",
               PAYLOAD);
        printf("%6s %9s %11s %11s %9s %9s %12s %10s %10s\n", "subs", "published", "delivered",
               "expected", "first_ms", "wall_ms", "deliveries/s", "msgs/s", "daemon_us");
        for (int i = 0; i < 2; i++) {
                const struct fanout *f = &fan[i];
                if (!f->valid) {
                        printf("%6u %9u %s: %s\n", f->subs, f->published,
                               f->skipped ? "SKIPPED" : "FAILED", f->err);
                        failed |= !f->skipped;
                        continue;
                }
                printf("%6u %9u %11" PRIu64 " %11" PRIu64 " %9.1f %9.1f %12.0f %10.0f %10.2f\n",
                       f->subs, f->published, f->delivered, f->expected, f->first_ms, f->wall_ms,
                       f->rate, f->msg_rate, f->daemon_us);
        }
        printf("first: first PUB -> first MSG at any subscriber; wall: first PUB -> last MSG at "
               "the last subscriber;\nmsgs/s: published messages fanned out per second; "
               "daemon_us: the daemon's CPU per delivery.\n");
        return failed;
}

static bool print_memory(const struct memory *mem) {
        printf("\nmemory (mqlinkd)\n");
        printf("%-36s %8s %9s %11s %10s %11s\n", "state", "clients", "RSS_KiB", "RSS/client",
               "Data_KiB", "Data/client");
        printf("%-36s %8d %9ld %11s %10ld %11s\n", "idle, 1 broker connected", 0, mem->idle, "-",
               mem->idle_data, "-");
        if (!mem->valid) {
                printf("FAILED: %s\n", mem->err);
                return true;
        }
        char label[64];
        double n = mem->clients;
        snprintf(label, sizeof(label), "%u clients, each after PING/PONG", mem->clients);
        printf("%-36s %8u %9ld %11.2f %10ld %11.2f\n", label, mem->clients, mem->pinged,
               (double)(mem->pinged - mem->idle) / n, mem->pinged_data,
               (double)(mem->pinged_data - mem->idle_data) / n);
        snprintf(label, sizeof(label), "%u clients, each with 1 SUB", mem->clients);
        printf("%-36s %8u %9ld %11.2f %10ld %11.2f\n", label, mem->clients, mem->subscribed,
               (double)(mem->subscribed - mem->idle) / n, mem->subscribed_data,
               (double)(mem->subscribed_data - mem->idle_data) / n);
        printf("%-36s %8d %9ld %11s %10ld %11s\n", "after they all closed", 0, mem->after, "-",
               mem->after_data, "-");
        printf("RSS: VmRSS (resident); Data: VmData (heap and private mappings, touched or not); "
               "*/client: (figure -\nidle figure) / clients, KiB. Each SUB is to a topic of its "
               "own (%u upstream subscriptions).\n",
               mem->clients);
        return false;
}

static void raise_fd_limit(rlim_t *ret_soft) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
                *ret_soft = 1024;
                return;
        }
        if (rl.rlim_cur < FD_WANT) {
                struct rlimit want = { FD_WANT, rl.rlim_max > FD_WANT ? rl.rlim_max : FD_WANT };
                if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
                        /* Not allowed above the hard limit: as far as it goes. */
                        rl.rlim_cur = rl.rlim_max;
                        (void)setrlimit(RLIMIT_NOFILE, &rl);
                }
        }
        getrlimit(RLIMIT_NOFILE, &rl);
        *ret_soft = rl.rlim_cur;
}

static void usage(FILE *f, const char *argv0) {
        fprintf(f,
                "usage: %s [--quick] [--rounds N] [--messages N] "
                "[--only throughput|fanout|memory]\n",
                argv0);
}

int main(int argc, char **argv) {
        bool quick = false;
        bool want_tput = true, want_fan = true, want_mem = true;
        unsigned n_opt = 0, rounds = 0;

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--quick"))
                        quick = true;
                else if ((!strcmp(argv[i], "--rounds") || !strcmp(argv[i], "-r")) && i + 1 < argc)
                        rounds = (unsigned)strtoul(argv[++i], NULL, 10);
                else if ((!strcmp(argv[i], "--messages") || !strcmp(argv[i], "-n")) && i + 1 < argc)
                        n_opt = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
                        const char *w = argv[++i];
                        want_tput = !strcmp(w, "throughput");
                        want_fan = !strcmp(w, "fanout");
                        want_mem = !strcmp(w, "memory");
                        if (!want_tput && !want_fan && !want_mem) {
                                usage(stderr, argv[0]);
                                return 2;
                        }
                } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                        usage(stdout, argv[0]);
                        return 0;
                } else {
                        usage(stderr, argv[0]);
                        return 2;
                }
        }
        if (!rounds)
                rounds = quick ? 1 : 3;
        if (rounds > MAX_ROUNDS)
                rounds = MAX_ROUNDS;
        const char *env = getenv("MQLINKD");
        g_daemon_path = env && *env ? env : MQLINKD_PATH;

        unsigned n_tput[2] = { quick ? 1000 : 100000, quick ? 1000 : 50000 };
        if (n_opt)
                n_tput[0] = n_tput[1] = n_opt;
        /* Sized so that each fan-out run takes a second or two here. */
        unsigned fan_subs[2] = { quick ? 10 : 100, quick ? 50 : 1000 };
        unsigned fan_msgs[2] = { quick ? 50 : 12000, quick ? 50 : 1200 };
        unsigned mem_clients = quick ? 100 : 1000;

        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, on_fatal_signal);
        signal(SIGTERM, on_fatal_signal);
        signal(SIGHUP, on_fatal_signal);
        atexit(cleanup);

        /* Before any child: the daemon and mosquitto inherit it. */
        rlim_t fd_soft;
        raise_fd_limit(&fd_soft);
        /* Headroom for this process's other fds and the daemon's own. */
        unsigned max_conns = fd_soft > 64 ? (unsigned)(fd_soft - 64) : 0;

        int r = test_broker_start(&g_broker, BROKER_CONF);
        if (r == -ENOENT) {
                fprintf(stderr, "bench_daemon: mosquitto is not installed: skipped\n");
                return 77; /* meson: skipped */
        }
        if (r < 0) {
                fprintf(stderr, "bench_daemon: cannot start mosquitto: %s\n", strerror(-r));
                test_broker_dump_log(&g_broker, stderr, 8192);
                return EXIT_FAILURE;
        }
        say(g_conf, sizeof(g_conf), "%s/d.conf", g_broker.dir);
        say(g_log, sizeof(g_log), "%s/d.log", g_broker.dir);
        say(g_sock, sizeof(g_sock), "%s/d.sock", g_broker.dir);
        {
                static const char *const names[] = { "d.conf",        "d.log",
                                                     "d.sock",        "mosquitto.conf",
                                                     "mosquitto.log", "mosquitto.db" };
                for (size_t i = 0; i < 6; i++)
                        say(g_unlink[i], sizeof(g_unlink[i]), "%s/%s", g_broker.dir, names[i]);
        }
        if (daemon_start() < 0)
                return EXIT_FAILURE;

        int lmaj, lmin, lrev;
        mosquitto_lib_version(&lmaj, &lmin, &lrev);
        printf("bench_daemon: local PUB -> mqlinkd -> mosquitto -> mqlinkd -> local MSG, beside\n"
               "libmosquitto publisher -> mosquitto -> libmosquitto subscriber; 127.0.0.1, "
               "MQTT 5, %d B payloads,\nwindow %d, median of %u round(s)\n",
               PAYLOAD, WINDOW, rounds);
        printf("mqlink %s, libmosquitto %d.%d.%d, %ld CPU(s), daemon %s (pid %d), "
               "RLIMIT_NOFILE %llu\n",
               mql_version_string(), lmaj, lmin, lrev, sysconf(_SC_NPROCESSORS_ONLN), g_daemon_path,
               (int)g_daemon_pid, (unsigned long long)fd_soft);
        fflush(stdout);

        bool failed = false, daemon_gone = false;
        struct memory mem = { 0 };
        static struct tput runs[2][2][MAX_ROUNDS];
        struct fanout fan[2] = { 0 };

        /* Memory first, on the fresh daemon: later runs leave freed heap
         * behind that new clients would reuse. */
        if (want_mem) {
                if (mem_clients > max_conns) {
                        fprintf(stderr,
                                "bench_daemon: RLIMIT_NOFILE %llu: memory with %u clients "
                                "instead of %u\n",
                                (unsigned long long)fd_soft, max_conns, mem_clients);
                        mem_clients = max_conns;
                }
                fprintf(stderr, "memory: %u local clients\n", mem_clients);
                mem = run_memory(mem_clients, proc_rss_kib(g_daemon_pid),
                                 proc_data_kib(g_daemon_pid));
                if (!mem.valid) {
                        fprintf(stderr, "  FAILED: %s\n", mem.err);
                        daemon_diagnose();
                }
                daemon_gone = !daemon_alive();
        }

        if (want_tput && !daemon_gone) {
                fprintf(stderr, "throughput: %u messages at QoS 0, %u at QoS 1\n", n_tput[0],
                        n_tput[1]);
                for (unsigned round = 0; round < rounds && !daemon_gone; round++)
                        for (uint8_t q = 0; q < 2 && !daemon_gone; q++)
                                for (int k = 0; k < 2 && !daemon_gone; k++) {
                                        int path = (k + q + round) % 2;
                                        struct tput *t = &runs[q][path][round];
                                        *t = measure_once(path, q, n_tput[q], round);
                                        daemon_gone = !daemon_alive();
                                        if (!t->valid && path == 0 && !daemon_gone)
                                                daemon_diagnose();
                                }
        }

        for (int i = 0; want_fan && i < 2; i++) {
                fan[i].subs = fan_subs[i];
                fan[i].published = fan_msgs[i];
                if (daemon_gone) {
                        snprintf(fan[i].err, sizeof(fan[i].err), "not run: mqlinkd is gone");
                        continue;
                }
                if (fan_subs[i] + 1 > max_conns) {
                        fan[i].skipped = true;
                        snprintf(fan[i].err, sizeof(fan[i].err),
                                 "RLIMIT_NOFILE %llu is too low for %u connections",
                                 (unsigned long long)fd_soft, fan_subs[i] + 1);
                        fprintf(stderr, "fan-out %u: skipped: %s\n", fan_subs[i], fan[i].err);
                        continue;
                }
                fprintf(stderr, "fan-out: %u subscribers, %u messages\n", fan_subs[i], fan_msgs[i]);
                fan[i] = run_fanout(fan_subs[i], fan_msgs[i]);
                daemon_gone = !daemon_alive();
                if (fan[i].valid)
                        fprintf(stderr, "  %.0f deliveries/s, %" PRIu64 "/%" PRIu64 "\n",
                                fan[i].rate, fan[i].delivered, fan[i].expected);
                else {
                        fprintf(stderr, "  FAILED: %s\n", fan[i].err);
                        if (!daemon_gone)
                                daemon_diagnose();
                }
        }

        if (want_tput)
                failed |= print_tput(runs, rounds);
        if (want_fan)
                failed |= print_fanout(fan);
        if (want_mem)
                failed |= print_memory(&mem);
        if (daemon_gone) {
                printf("\nmqlinkd exited during the benchmark (see above)\n");
                failed = true;
        } else {
                struct stat st;
                if (failed || (stat(g_log, &st) == 0 && st.st_size > 0))
                        daemon_dump_log();
        }
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

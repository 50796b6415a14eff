/* SPDX-License-Identifier: MIT */

/* A publisher and a subscriber in forked processes (see bench-peer.h). */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-peer.h"
#include "bench-util.h"

struct peer_state peer;

/* ---- in a child ---------------------------------------------------------- */

void peer_fail(struct peer_result *res, int err, const char *fmt, ...) {
        va_list ap;

        if (res->err)
                return; /* the first failure is the interesting one */
        res->err = err ? err : EIO;
        va_start(ap, fmt);
        vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
        va_end(ap);
}

void peer_begin(const struct peer_job *j, struct peer_result *res) {
        size_t n = j->n ? j->n : 1;

        peer.j = j;
        peer.res = res;
        if (!j->latency)
                return;
        peer.t_send = calloc(65536, sizeof(uint64_t));
        peer.lat = calloc(n, sizeof(uint64_t));
        if (!peer.t_send || !peer.lat)
                abort();
        memset(peer.t_send, 0xff, 65536 * sizeof(uint64_t));
        memset(peer.lat, 0xff, n * sizeof(uint64_t));
}

void peer_sent(uint16_t key, uint64_t t) {
        if (peer.t_send && peer.j->qos)
                peer.t_send[key] = t;
}

void peer_completed(uint16_t key) {
        uint64_t t = now_ns();

        if (peer.lat && peer.j->qos)
                peer.lat[peer.n_lat++] = t - peer.t_send[key];
        peer.completed++;
        peer.outstanding--;
        peer.last_progress = t;
        peer.res->t_last = t;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static void percentiles(uint64_t *v, size_t n, struct peer_result *res) {
        if (n == 0)
                return;
        qsort(v, n, sizeof(*v), cmp_u64);
        res->lat_p50_ns = v[n / 2];
        size_t i99 = (n * 99) / 100;
        res->lat_p99_ns = v[i99 < n ? i99 : n - 1];
}

void peer_publisher_done(uint64_t cpu0) {
        peer.res->cpu_ns = self_cpu_ns() - cpu0;
        peer.res->count = peer.completed;
        percentiles(peer.lat, peer.n_lat, peer.res);
}

void peer_received(size_t len) {
        uint64_t t = now_ns();

        if (len != peer.j->size)
                peer.res->bad++;
        if (peer.res->count++ == 0)
                peer.res->t_first = t;
        peer.res->t_last = t;
}

void peer_sub_ready(struct peer_watch *w, int ready_fd, int ctl_fd) {
        *w = (struct peer_watch){ .ctl_fd = ctl_fd, .last = now_ns() };
        (void)write_all(ready_fd, "R", 1);
        peer.ready = true;
}

/* Whether the parent said "the publisher is done" on ctl (non-blocking). */
static bool ctl_done(int ctl_fd) {
        char c;
        ssize_t r = read(ctl_fd, &c, 1);

        return r >= 0 || (errno != EAGAIN && errno != EINTR);
}

bool peer_sub_more(struct peer_watch *w) {
        const struct peer_job *j = peer.j;
        uint64_t count = peer.res->count, t = now_ns();

        if (count >= j->n)
                return false;
        if (count != w->last_count) {
                w->last_count = count;
                w->last = t;
        }
        if (!w->done_at && t - w->last_ctl > 20 * NSEC_PER_MSEC) {
                w->last_ctl = t;
                if (ctl_done(w->ctl_fd))
                        w->done_at = t;
        }
        if (w->done_at && t - (w->last > w->done_at ? w->last : w->done_at) > j->idle_nsec)
                return false;
        return t - w->last <= 2 * j->stall_nsec;
}

/* ---- in the parent ------------------------------------------------------- */

/* Forks a child that runs job j and writes its result to *ret_fd's pipe; a
 * subscriber (ret_ctl) first writes "R" once subscribed, or "F" when it
 * never was, and reads "the publisher is done" from *ret_ctl's. The child
 * closes close_fds[0..n_close), the parent's ends of the other pipes. */
static pid_t spawn(const struct pair *p, const struct peer_job *j, int *ret_fd, int *ret_ctl,
                   const int *close_fds, size_t n_close) {
        int out[2], ctl[2] = { -1, -1 };
        pid_t parent = getpid();

        if (pipe2(out, O_CLOEXEC) < 0)
                return -1;
        if (ret_ctl && pipe2(ctl, O_CLOEXEC) < 0) {
                int e = errno;
                close(out[0]);
                close(out[1]);
                errno = e;
                return -1;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(out[0]);
                close(out[1]);
                if (ret_ctl) {
                        close(ctl[0]);
                        close(ctl[1]);
                }
                errno = e;
                return -1;
        }
        if (pid == 0) {
                struct peer_result res = { 0 };
                if (p->in_child)
                        p->in_child(parent);
                for (size_t i = 0; i < n_close; i++)
                        close(close_fds[i]);
                close(out[0]);
                if (ret_ctl) {
                        close(ctl[1]);
                        fcntl(ctl[0], F_SETFL, O_NONBLOCK);
                }
                j->run(j, &res, ret_ctl ? out[1] : -1, ctl[0]);
                if (ret_ctl && !peer.ready)
                        (void)write_all(out[1], "F", 1); /* never got ready */
                (void)write_all(out[1], &res, sizeof(res));
                _exit(0); /* not exit(): the parent's atexit handlers are not ours */
        }
        close(out[1]);
        *ret_fd = out[0];
        if (ret_ctl) {
                close(ctl[0]);
                *ret_ctl = ctl[1];
        }
        return pid;
}

/* Waits for kids[slot] to exit (200 ms at most, then SIGKILL); says in err
 * (if empty) when it had to be killed or died of a signal. */
static void reap(volatile pid_t *kids, int slot, const char *who, char *err, size_t errlen) {
        pid_t pid = kids[slot];
        int status;

        if (pid <= 0)
                return;
        if (waitpid(pid, &status, WNOHANG) == 0) {
                nap_ms(200);
                if (waitpid(pid, &status, WNOHANG) == 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        kids[slot] = 0;
                        if (!err[0])
                                snprintf(err, errlen, "%s did not exit: killed", who);
                        return;
                }
        }
        kids[slot] = 0;
        if (WIFSIGNALED(status) && !err[0])
                snprintf(err, errlen, "%s died of signal %d (%s)", who, WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
}

int pair_run(const struct pair *p, struct pair_result *out) {
        volatile pid_t own[2] = { 0, 0 };
        volatile pid_t *kids = p->kids ? p->kids : own;
        int sub_fd = -1, ctl_fd = -1, pub_fd = -1, r;
        char ready = 0;

        *out = (struct pair_result){ 0 };
        kids[1] = spawn(p, &p->sub, &sub_fd, &ctl_fd, NULL, 0);
        if (kids[1] < 0) {
                kids[1] = 0;
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
        uint64_t bcpu0 = proc_cpu_ns(p->broker_pid);
        int close_in_pub[] = { sub_fd, ctl_fd };
        kids[0] = spawn(p, &p->pub, &pub_fd, NULL, close_in_pub, 2);
        if (kids[0] < 0) {
                kids[0] = 0;
                snprintf(out->err, sizeof(out->err), "fork: %m");
                goto done;
        }
        r = read_all(pub_fd, &out->pub, sizeof(out->pub), p->child_timeout_ms);
        if (r < 0)
                snprintf(out->err, sizeof(out->err), "publisher did not report: %s", strerror(-r));
        (void)write_all(ctl_fd, "D", 1);
        r = read_all(sub_fd, &out->sub, sizeof(out->sub), p->child_timeout_ms);
        if (r < 0 && !out->err[0])
                snprintf(out->err, sizeof(out->err), "subscriber did not report: %s", strerror(-r));
        out->broker_cpu_ns = proc_cpu_ns(p->broker_pid) - bcpu0;
        if (!out->err[0] && out->pub.err)
                snprintf(out->err, sizeof(out->err), "publisher: %s", out->pub.msg);
        if (!out->err[0] && out->sub.err)
                snprintf(out->err, sizeof(out->err), "subscriber: %s", out->sub.msg);
done:
        reap(kids, 0, "publisher", out->err, sizeof(out->err));
        if (kids[1] > 0 && ctl_fd >= 0)
                (void)write_all(ctl_fd, "D", 1);
        reap(kids, 1, "subscriber", out->err, sizeof(out->err));
        if (sub_fd >= 0)
                close(sub_fd);
        if (ctl_fd >= 0)
                close(ctl_fd);
        if (pub_fd >= 0)
                close(pub_fd);
        return out->err[0] ? -EIO : 0;
}

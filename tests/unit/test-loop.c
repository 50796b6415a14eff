/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pipe2 */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mqlink/loop.h"
#include "util/macro.h"

#define MSEC 1000u

static mql_usec now(void) {
        return mql_loop_now(NULL);
}

static void make_pipe(int p[2]) {
        assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void write_byte(int fd) {
        assert_int_equal(write(fd, "x", 1), 1);
}

static void drain(int fd) {
        char buf[64];
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

/* Records what an io callback saw. */
struct io_rec {
        int calls;
        int fd;
        uint32_t revents;
        bool drain;
};

static int io_record(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        struct io_rec *rec = userdata;

        rec->calls++;
        rec->fd = fd;
        rec->revents = revents;
        if (rec->drain)
                drain(fd);
        return 0;
}

static int io_unexpected(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        fail_msg("io callback of fd %d called, revents %#x", fd, revents);
        return 0;
}

static int time_unexpected(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        fail_msg("timer for %llu called", (unsigned long long)usec);
        return 0;
}

static int signal_unexpected(struct mql_loop_source *src, int signo, void *userdata) {
        fail_msg("signal %d delivered", signo);
        return 0;
}

static int defer_count(struct mql_loop_source *src, void *userdata) {
        (*(int *)userdata)++;
        return 0;
}

/* ---------------------------------------------------------- construction */

static void test_new_free(void **state) {
        struct mql_loop *loop = NULL;
        struct mql_loop_source *s = NULL;
        int dummy;

        assert_int_equal(mql_loop_new(NULL), -EINVAL);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_non_null(loop);
        assert_true(mql_loop_get_fd(loop) >= 0);
        assert_int_equal(mql_loop_get_fd(NULL), -EINVAL);
        assert_true(mql_loop_get_timeout(loop) == MQL_USEC_INFINITY);

        assert_int_equal(mql_loop_add_defer(loop, &s, NULL, NULL), -EINVAL);
        assert_int_equal(mql_loop_add_time(loop, &s, 0, NULL, NULL), -EINVAL);
        assert_int_equal(mql_loop_add_io(loop, &s, -1, EPOLLIN, io_unexpected, NULL), -EINVAL);
        assert_null(s); /* ret_* untouched on failure */

        assert_int_equal(mql_loop_add_defer(loop, &s, defer_count, &dummy), 0);
        assert_ptr_equal(mql_loop_source_get_userdata(s), &dummy);
        assert_ptr_equal(mql_loop_source_get_loop(s), loop);
        assert_null(mql_loop_source_get_userdata(NULL));
        assert_null(mql_loop_source_get_loop(NULL));
        assert_null(mql_loop_source_free(s));
        assert_null(mql_loop_source_free(NULL));

        /* Nothing to wait for: neither call may block. */
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(mql_loop_run_once(loop, MQL_USEC_INFINITY), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);

        assert_null(mql_loop_free(loop));
        assert_null(mql_loop_free(NULL));
}

/* Sources of every kind still attached are freed with the loop (ASan and
 * valgrind check that nothing leaks, the signalfd included). */
static void test_free_with_sources(void **state) {
        struct mql_loop *loop;
        sigset_t mask, old;
        int p[2], count = 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR2);
        assert_int_equal(pthread_sigmask(SIG_BLOCK, &mask, &old), 0);

        make_pipe(p);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_io(loop, NULL, p[0], EPOLLIN, io_unexpected, NULL), 0);
        assert_int_equal(mql_loop_add_time(loop, NULL, now() + 1000 * MSEC, time_unexpected, NULL),
                         0);
        assert_int_equal(mql_loop_add_time(loop, NULL, MQL_USEC_INFINITY, time_unexpected, NULL),
                         0);
        assert_int_equal(mql_loop_add_defer(loop, NULL, defer_count, &count), 0);
        assert_int_equal(mql_loop_add_signal(loop, NULL, SIGUSR2, NULL, NULL), -EINVAL);
        assert_int_equal(mql_loop_add_signal(loop, NULL, SIGUSR2, signal_unexpected, NULL), 0);
        mql_loop_free(loop);
        assert_int_equal(count, 0); /* freed without being called */

        close(p[0]);
        close(p[1]);
        assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/* -------------------------------------------------------------------- io */

static void test_io_in_out(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *s, *t;
        struct io_rec rec = { .drain = true };
        int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        uint64_t one = 1;

        assert_true(efd >= 0);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_io(loop, &s, efd, EPOLLIN | EPOLLET, io_record, &rec),
                         -EINVAL);
        assert_int_equal(mql_loop_add_io(loop, &s, efd, EPOLLIN, io_record, &rec), 0);

        /* Not readable yet. */
        assert_int_equal(mql_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.calls, 0);

        assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(rec.calls, 1);
        assert_int_equal(rec.fd, efd);
        assert_int_equal(rec.revents, EPOLLIN);

        /* Drained by the callback: nothing more. */
        assert_int_equal(mql_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.calls, 1);

        /* An eventfd is always writable: EPOLLOUT on, then off again. */
        assert_int_equal(mql_loop_source_set_io_events(s, EPOLLOUT), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(rec.calls, 2);
        assert_int_equal(rec.revents, EPOLLOUT);
        assert_int_equal(mql_loop_source_set_io_events(s, EPOLLIN), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.calls, 2);

        assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
        rec.drain = false;
        assert_int_equal(mql_loop_source_set_io_events(s, EPOLLIN | EPOLLOUT), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(rec.revents, EPOLLIN | EPOLLOUT);

        /* Disabled: not reported even though ready, and events changed
         * meanwhile apply once it is enabled again. */
        assert_int_equal(mql_loop_source_set_enabled(s, 0), 0);
        assert_int_equal(mql_loop_source_set_io_events(s, EPOLLOUT), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.calls, 3);
        assert_int_equal(mql_loop_source_set_enabled(s, 1), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(rec.calls, 4);
        assert_int_equal(rec.revents, EPOLLOUT);

        assert_int_equal(mql_loop_source_set_io_events(s, EPOLLIN | EPOLLET), -EINVAL);
        assert_int_equal(mql_loop_add_time(loop, &t, MQL_USEC_INFINITY, time_unexpected, NULL), 0);
        assert_int_equal(mql_loop_source_set_io_events(t, EPOLLIN), -EINVAL);
        assert_int_equal(mql_loop_source_set_time(s, 0), -EINVAL);

        mql_loop_free(loop);
        close(efd);
}

static void test_io_hup(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *s;
        struct io_rec rec = {};
        int p[2];

        make_pipe(p);
        assert_int_equal(mql_loop_new(&loop), 0);
        /* Asking for nothing still reports the hang-up. */
        assert_int_equal(mql_loop_add_io(loop, &s, p[0], 0, io_record, &rec), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);

        close(p[1]);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(rec.calls, 1);
        assert_int_equal(rec.revents, EPOLLHUP);

        assert_int_equal(mql_loop_source_set_io_events(s, EPOLLIN), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_true(rec.revents & EPOLLHUP);

        /* A disabled source is out of epoll: no endless HUP. */
        assert_int_equal(mql_loop_source_set_enabled(s, 0), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);
        assert_int_equal(rec.calls, 2);
        assert_int_equal(mql_loop_run(loop), 0);

        mql_loop_free(loop);
        close(p[0]);
}

static void test_io_eexist(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *a, *b;
        int p[2];
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        make_pipe(p);
        assert_true(null >= 0);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_io(loop, &a, p[0], EPOLLIN, io_unexpected, NULL), 0);
        assert_int_equal(mql_loop_add_io(loop, &b, p[0], EPOLLIN, io_unexpected, NULL), -EEXIST);
        /* Disabled, the fd is out of epoll but still taken. */
        assert_int_equal(mql_loop_source_set_enabled(a, 0), 0);
        assert_int_equal(mql_loop_add_io(loop, &b, p[0], EPOLLOUT, io_unexpected, NULL), -EEXIST);
        mql_loop_source_free(a);
        assert_int_equal(mql_loop_add_io(loop, &b, p[0], EPOLLIN, io_unexpected, NULL), 0);

        /* A large fd number grows the table. */
        int high = fcntl(p[1], F_DUPFD_CLOEXEC, 1000);
        assert_true(high >= 1000);
        assert_int_equal(mql_loop_add_io(loop, NULL, high, EPOLLOUT, io_unexpected, NULL), 0);
        assert_int_equal(mql_loop_add_io(loop, NULL, high, EPOLLOUT, io_unexpected, NULL), -EEXIST);

        /* epoll cannot watch /dev/null. */
        assert_int_equal(mql_loop_add_io(loop, NULL, null, EPOLLIN, io_unexpected, NULL), -EPERM);

        mql_loop_free(loop);
        close(high);
        close(null);
        close(p[0]);
        close(p[1]);
}

/* ---------------------------------------------------------------- timers */

struct fire_log {
        struct mql_loop *loop;
        int n;
        int order[16];
        mql_usec usec[16];
};

struct timer {
        struct fire_log *log;
        int id;
};

static int time_record(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct timer *t = userdata;
        struct fire_log *log = t->log;

        /* Never early. */
        assert_true(mql_loop_now(log->loop) >= usec);
        assert_true(log->n < (int)ELEMENTSOF(log->order));
        log->order[log->n] = t->id;
        log->usec[log->n] = usec;
        log->n++;
        return 0;
}

static void test_timers_order(void **state) {
        struct mql_loop *loop;
        struct fire_log log = {};
        struct timer t[6];
        struct mql_loop_source *s[6];
        mql_usec base;

        assert_int_equal(mql_loop_new(&loop), 0);
        log.loop = loop;
        for (int i = 0; i < 6; i++)
                t[i] = (struct timer){ &log, i };

        base = now() + 5 * MSEC;
        /* Armed out of order; 3 and 4 share a deadline and fire as armed. */
        assert_int_equal(mql_loop_add_time(loop, &s[0], base + 30 * MSEC, time_record, &t[0]), 0);
        assert_int_equal(mql_loop_add_time(loop, &s[1], base + 10 * MSEC, time_record, &t[1]), 0);
        assert_int_equal(mql_loop_add_time(loop, &s[2], base + 20 * MSEC, time_record, &t[2]), 0);
        assert_int_equal(mql_loop_add_time(loop, &s[3], base + 15 * MSEC, time_record, &t[3]), 0);
        assert_int_equal(mql_loop_add_time(loop, &s[4], base + 15 * MSEC, time_record, &t[4]), 0);
        assert_int_equal(mql_loop_add_time(loop, &s[5], base, time_record, &t[5]), 0);

        /* Re-armed earlier, disarmed, disabled. */
        assert_int_equal(mql_loop_source_set_time(s[0], base + 2 * MSEC), 0);
        assert_int_equal(mql_loop_source_set_time(s[2], MQL_USEC_INFINITY), 0);
        assert_int_equal(mql_loop_source_set_enabled(s[5], 0), 0);

        mql_usec timeout = mql_loop_get_timeout(loop);
        assert_true(timeout > 0 && timeout <= 7 * MSEC);

        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(log.n, 4);
        assert_int_equal(log.order[0], 0);
        assert_int_equal(log.order[1], 1);
        assert_int_equal(log.order[2], 3);
        assert_int_equal(log.order[3], 4);
        assert_true(log.usec[0] == base + 2 * MSEC);
        assert_true(log.usec[1] == base + 10 * MSEC);
        assert_true(log.usec[2] == base + 15 * MSEC);

        /* One-shot: fired timers are disarmed, so the loop is idle. */
        assert_true(mql_loop_get_timeout(loop) == MQL_USEC_INFINITY);

        /* A disabled timer keeps its (past) time and fires when enabled. */
        assert_int_equal(mql_loop_source_set_enabled(s[5], 1), 0);
        assert_true(mql_loop_get_timeout(loop) == 0);
        assert_int_equal(mql_loop_run_once(loop, MQL_USEC_INFINITY), 1);
        assert_int_equal(log.n, 5);
        assert_int_equal(log.order[4], 5);
        assert_true(log.usec[4] == base);

        /* Re-armed after firing. */
        assert_int_equal(mql_loop_source_set_time(s[1], now() + 1 * MSEC), 0);
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(log.n, 6);
        assert_int_equal(log.order[5], 1);

        mql_loop_free(loop);
}

/* A timer due in a fraction of a millisecond: the rounded-up wait and the
 * callback's clock both say "not early". */
static void test_timer_not_early(void **state) {
        struct mql_loop *loop;
        struct fire_log log = {};
        struct timer t = { &log, 0 };

        assert_int_equal(mql_loop_new(&loop), 0);
        log.loop = loop;
        for (int i = 0; i < 10; i++) {
                mql_usec due = now() + 300 + (mql_usec)i * 170;
                assert_int_equal(mql_loop_add_time(loop, NULL, due, time_record, &t), 0);
                while (log.n == i)
                        assert_true(mql_loop_run_once(loop, MQL_USEC_INFINITY) >= 0);
                assert_int_equal(log.n, i + 1);
                assert_true(log.usec[i] == due);
        }
        mql_loop_free(loop);
}

struct rearm {
        int calls;
        int limit;
        mql_usec delta; /* 0: re-arm at its own (past) time */
};

static int time_rearm(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct rearm *r = userdata;

        r->calls++;
        if (r->calls < r->limit)
                assert_int_equal(mql_loop_source_set_time(src, usec + r->delta), 0);
        return 0;
}

static void test_timer_rearm_from_callback(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *s;
        struct rearm periodic = { .limit = 5, .delta = 1 * MSEC };
        struct rearm past = { .limit = 1000 };
        mql_usec start = now();

        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_time(loop, NULL, start + 1 * MSEC, time_rearm, &periodic), 0);
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(periodic.calls, 5);
        assert_true(now() >= start + 5 * MSEC);

        /* Re-armed in the past it fires once per iteration, and never
         * keeps one iteration going. */
        assert_int_equal(mql_loop_add_time(loop, &s, now(), time_rearm, &past), 0);
        for (int i = 1; i <= 3; i++) {
                assert_int_equal(mql_loop_run_once(loop, 0), 1);
                assert_int_equal(past.calls, i);
        }
        assert_true(mql_loop_get_timeout(loop) == 0);
        assert_int_equal(mql_loop_source_set_time(s, MQL_USEC_INFINITY), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);
        assert_int_equal(past.calls, 3);

        mql_loop_free(loop);
}

#define N_TIMERS 10000

struct many {
        struct mql_loop *loop;
        struct mql_loop_source *src[N_TIMERS];
        mql_usec due[N_TIMERS];
        uint64_t armed[N_TIMERS]; /* order of the last arming */
        bool expect[N_TIMERS];
        bool fired[N_TIMERS];
        uint64_t arm_count;
        int n_fired;
        mql_usec last_usec;
        uint64_t last_armed;
};

struct many_timer {
        struct many *m;
        int i;
};

static int time_many(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct many_timer *t = userdata;
        struct many *m = t->m;

        assert_true(m->expect[t->i]);
        assert_false(m->fired[t->i]);
        assert_true(usec == m->due[t->i]);
        assert_true(mql_loop_now(m->loop) >= usec);
        /* In order of deadline, then of arming. */
        assert_true(usec >= m->last_usec);
        if (usec == m->last_usec)
                assert_true(m->armed[t->i] > m->last_armed);
        m->last_usec = usec;
        m->last_armed = m->armed[t->i];
        m->fired[t->i] = true;
        m->n_fired++;
        return 0;
}

static void many_arm(struct many *m, int i, mql_usec due) {
        m->due[i] = due;
        m->armed[i] = ++m->arm_count;
        m->expect[i] = due != MQL_USEC_INFINITY;
}

static void test_timers_many(void **state) {
        struct many *m = calloc(1, sizeof(*m));
        struct many_timer *t = calloc(N_TIMERS, sizeof(*t));
        mql_usec base;
        int n_expect = 0;

        assert_non_null(m);
        assert_non_null(t);
        srandom(42);
        assert_int_equal(mql_loop_new(&m->loop), 0);
        base = now() + 2 * MSEC;
        for (int i = 0; i < N_TIMERS; i++) {
                /* 1/8 ms steps over 40 ms: plenty of equal deadlines. */
                t[i] = (struct many_timer){ m, i };
                many_arm(m, i, base + (mql_usec)(random() % 320) * 125);
                assert_int_equal(
                        mql_loop_add_time(m->loop, &m->src[i], m->due[i], time_many, &t[i]), 0);
        }
        /* Remove and re-insert from the middle of the heap. */
        for (int i = 0; i < N_TIMERS; i += 7) {
                mql_usec due = i % 2 ? MQL_USEC_INFINITY : base + (mql_usec)(random() % 320) * 125;
                many_arm(m, i, due);
                assert_int_equal(mql_loop_source_set_time(m->src[i], due), 0);
        }
        for (int i = 3; i < N_TIMERS; i += 11) {
                mql_loop_source_free(m->src[i]);
                m->expect[i] = false;
        }
        for (int i = 0; i < N_TIMERS; i++)
                n_expect += m->expect[i];

        assert_int_equal(mql_loop_run(m->loop), 0);
        assert_int_equal(m->n_fired, n_expect);
        for (int i = 0; i < N_TIMERS; i++)
                assert_true(m->fired[i] == m->expect[i]);

        mql_loop_free(m->loop);
        free(t);
        free(m);
}

/* ---------------------------------------------------------------- defers */

struct defer_state {
        int calls;
        int disable_after;
        int added;
        struct mql_loop *loop;
};

static int defer_self_disable(struct mql_loop_source *src, void *userdata) {
        struct defer_state *d = userdata;

        d->calls++;
        if (d->calls == d->disable_after)
                assert_int_equal(mql_loop_source_set_enabled(src, 0), 0);
        return 0;
}

static int defer_adds_defer(struct mql_loop_source *src, void *userdata) {
        struct defer_state *d = userdata;

        d->calls++;
        /* The new one runs from the next iteration on. */
        assert_int_equal(mql_loop_add_defer(d->loop, NULL, defer_count, &d->added), 0);
        mql_loop_source_free(src);
        return 0;
}

static void test_defer(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *s;
        int count = 0;
        struct defer_state d = { .disable_after = 3 };

        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_defer(loop, &s, defer_count, &count), 0);
        assert_true(mql_loop_get_timeout(loop) == 0);
        for (int i = 1; i <= 5; i++) {
                assert_int_equal(mql_loop_run_once(loop, MQL_USEC_INFINITY), 1);
                assert_int_equal(count, i);
        }
        assert_int_equal(mql_loop_source_set_enabled(s, 0), 0);
        assert_true(mql_loop_get_timeout(loop) == MQL_USEC_INFINITY);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);
        assert_int_equal(count, 5);
        assert_int_equal(mql_loop_run(loop), 0); /* a disabled defer is nothing to wait for */

        assert_int_equal(mql_loop_add_defer(loop, NULL, defer_self_disable, &d), 0);
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(d.calls, 3);

        struct defer_state e = { .loop = loop };
        assert_int_equal(mql_loop_add_defer(loop, NULL, defer_adds_defer, &e), 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(e.calls, 1);
        assert_int_equal(e.added, 0);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(e.calls, 1);
        assert_int_equal(e.added, 1);

        mql_loop_free(loop);
}

/* --------------------------------------------------------------- signals */

struct sig_rec {
        int calls;
        int signo;
};

static int signal_record(struct mql_loop_source *src, int signo, void *userdata) {
        struct sig_rec *rec = userdata;

        rec->calls++;
        rec->signo = signo;
        return 0;
}

static void test_signal(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *s, *dup = NULL;
        struct sig_rec rec = {};
        sigset_t mask, old;

        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        assert_int_equal(pthread_sigmask(SIG_BLOCK, &mask, &old), 0);
        assert_int_equal(mql_loop_new(&loop), 0);

        assert_int_equal(mql_loop_add_signal(loop, &s, SIGKILL, signal_record, &rec), -EINVAL);
        assert_int_equal(mql_loop_add_signal(loop, &s, 0, signal_record, &rec), -EINVAL);
        assert_int_equal(mql_loop_add_signal(loop, &s, 100000, signal_record, &rec), -EINVAL);
        if (!sigismember(&old, SIGUSR2))
                assert_int_equal(mql_loop_add_signal(loop, &s, SIGUSR2, signal_record, &rec),
                                 -EBUSY);

        assert_int_equal(mql_loop_add_signal(loop, &s, SIGUSR1, signal_record, &rec), 0);
        assert_int_equal(mql_loop_add_signal(loop, &dup, SIGUSR1, signal_record, &rec), -EEXIST);
        assert_null(dup);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);

        assert_int_equal(raise(SIGUSR1), 0);
        assert_int_equal(mql_loop_run_once(loop, 1000 * MSEC), 1);
        assert_int_equal(rec.calls, 1);
        assert_int_equal(rec.signo, SIGUSR1);
        assert_int_equal(mql_loop_run_once(loop, 0), 0);

        /* Raised while disabled: stays pending until enabled. */
        assert_int_equal(mql_loop_source_set_enabled(s, 0), 0);
        assert_int_equal(raise(SIGUSR1), 0);
        assert_int_equal(mql_loop_run(loop), 0); /* a disabled signal is not waited for */
        assert_int_equal(rec.calls, 1);
        assert_int_equal(mql_loop_source_set_enabled(s, 1), 0);
        assert_int_equal(mql_loop_run_once(loop, 1000 * MSEC), 1);
        assert_int_equal(rec.calls, 2);

        /* Freed, the signal can be watched again. */
        mql_loop_source_free(s);
        assert_int_equal(mql_loop_add_signal(loop, &s, SIGUSR1, signal_record, &rec), 0);

        mql_loop_free(loop);
        sigpending(&mask);
        assert_false(sigismember(&mask, SIGUSR1));
        assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/* ---------------------------------------------------- freeing in callbacks */

static int io_free_self(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        (*(int *)userdata)++;
        assert_null(mql_loop_source_free(src));
        return 0;
}

static int time_free_self(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        (*(int *)userdata)++;
        mql_loop_source_free(src);
        return 0;
}

static int defer_free_self(struct mql_loop_source *src, void *userdata) {
        (*(int *)userdata)++;
        mql_loop_source_free(src);
        return 0;
}

static int signal_free_self(struct mql_loop_source *src, int signo, void *userdata) {
        (*(int *)userdata)++;
        mql_loop_source_free(src);
        return 0;
}

static void test_free_self(void **state) {
        struct mql_loop *loop;
        int p[2], io = 0, tm = 0, df = 0, sg = 0;
        sigset_t mask, old;

        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        assert_int_equal(pthread_sigmask(SIG_BLOCK, &mask, &old), 0);

        make_pipe(p);
        write_byte(p[1]);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_io(loop, NULL, p[0], EPOLLIN, io_free_self, &io), 0);
        assert_int_equal(mql_loop_add_time(loop, NULL, 0, time_free_self, &tm), 0);
        assert_int_equal(mql_loop_add_defer(loop, NULL, defer_free_self, &df), 0);
        assert_int_equal(mql_loop_add_signal(loop, NULL, SIGUSR1, signal_free_self, &sg), 0);
        assert_int_equal(raise(SIGUSR1), 0);

        /* Everything fires once and frees itself: the loop ends idle. */
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(io, 1);
        assert_int_equal(tm, 1);
        assert_int_equal(df, 1);
        assert_int_equal(sg, 1);

        /* The fd is free for a new source. */
        assert_int_equal(mql_loop_add_io(loop, NULL, p[0], EPOLLIN, io_free_self, &io), 0);
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(io, 2);

        mql_loop_free(loop);
        close(p[0]);
        close(p[1]);
        assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

struct pair {
        struct mql_loop *loop;
        struct mql_loop_source *src[2];
        struct mql_loop_source *timer;
        int fd[2];
        int calls[2];
        int readded;
        struct io_rec rec;
};

static int io_free_other(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        struct pair *p = userdata;
        int me = src == p->src[1];
        int other = !me;

        assert_ptr_equal(src, p->src[me]);
        p->calls[me]++;
        drain(fd);
        p->src[other] = mql_loop_source_free(p->src[other]);
        /* A due timer freed before its turn in this iteration. */
        p->timer = mql_loop_source_free(p->timer);
        /* The freed fd can be watched again at once; the event already
         * collected for the old source must not reach the new one. */
        assert_int_equal(mql_loop_add_io(p->loop, NULL, p->fd[other], EPOLLIN, io_record, &p->rec),
                         0);
        p->readded++;
        return 0;
}

static void test_free_other_pending(void **state) {
        struct pair p = { .rec.drain = true };
        int a[2], b[2];

        make_pipe(a);
        make_pipe(b);
        p.fd[0] = a[0];
        p.fd[1] = b[0];
        write_byte(a[1]);
        write_byte(b[1]);
        assert_int_equal(mql_loop_new(&p.loop), 0);
        assert_int_equal(mql_loop_add_io(p.loop, &p.src[0], a[0], EPOLLIN, io_free_other, &p), 0);
        assert_int_equal(mql_loop_add_io(p.loop, &p.src[1], b[0], EPOLLIN, io_free_other, &p), 0);
        assert_int_equal(mql_loop_add_time(p.loop, &p.timer, 0, time_unexpected, NULL), 0);

        /* Both fds are in the same epoll_wait batch; whichever comes first
         * frees the other, which must not be called. */
        assert_int_equal(mql_loop_run_once(p.loop, 0), 1);
        assert_int_equal(p.calls[0] + p.calls[1], 1);
        assert_int_equal(p.readded, 1);
        assert_int_equal(p.rec.calls, 0);
        assert_null(p.timer);

        /* The new source gets the still-unread byte next time. */
        assert_int_equal(mql_loop_run_once(p.loop, 0), 1);
        assert_int_equal(p.rec.calls, 1);
        assert_int_equal(p.calls[0] + p.calls[1], 1);

        mql_loop_free(p.loop);
        close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

/* --------------------------------------------------- exit, errors, nesting */

static int time_exit(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        mql_loop_exit(mql_loop_source_get_loop(src), *(int *)userdata);
        return 0;
}

static int time_fail(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        return -ETIMEDOUT;
}

static int io_fail(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        return -EIO;
}

/* A deferred call that ends the run must not leave the same iteration
 * blocked on I/O that never comes (a pipe nobody writes to). */
static int defer_exits(struct mql_loop_source *src, void *userdata) {
        mql_loop_exit(userdata, 7);
        return mql_loop_source_set_enabled(src, 0);
}

static int io_never(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        fail_msg("no I/O expected");
        return 0;
}

static void test_exit_from_defer(void **state) {
        struct mql_loop *loop;
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_io(loop, NULL, p[0], EPOLLIN, io_never, NULL), 0);
        assert_int_equal(mql_loop_add_defer(loop, NULL, defer_exits, loop), 0);
        assert_int_equal(mql_loop_run(loop), 7);
        mql_loop_free(loop);
        close(p[0]);
        close(p[1]);
}

static void test_exit(void **state) {
        struct mql_loop *loop;
        int p[2], code = 42, code2 = 5;

        make_pipe(p);
        assert_int_equal(mql_loop_new(&loop), 0);
        /* A pipe that never becomes readable: only exit ends run(). */
        assert_int_equal(mql_loop_add_io(loop, NULL, p[0], EPOLLIN, io_unexpected, NULL), 0);
        assert_int_equal(mql_loop_add_time(loop, NULL, now() + 1 * MSEC, time_exit, &code), 0);
        assert_int_equal(mql_loop_run(loop), 42);

        /* Spent: the next run waits again. */
        assert_int_equal(mql_loop_add_time(loop, NULL, now(), time_exit, &code2), 0);
        assert_int_equal(mql_loop_run(loop), 5);

        /* Requested before run: returns at once. */
        mql_loop_exit(loop, 7);
        assert_int_equal(mql_loop_run(loop), 7);

        mql_loop_free(loop);
        close(p[0]);
        close(p[1]);
}

static void test_callback_error(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *s, *t;
        int p[2];

        make_pipe(p);
        write_byte(p[1]);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_io(loop, &s, p[0], EPOLLIN, io_fail, NULL), 0);
        assert_int_equal(mql_loop_run(loop), -EIO);
        assert_int_equal(mql_loop_run_once(loop, 0), -EIO);

        mql_loop_source_free(s);
        assert_int_equal(mql_loop_add_time(loop, &t, now(), time_fail, NULL), 0);
        assert_int_equal(mql_loop_run(loop), -ETIMEDOUT);
        /* The loop is still usable. */
        assert_int_equal(mql_loop_run(loop), 0);

        mql_loop_free(loop);
        close(p[0]);
        close(p[1]);
}

static int defer_nested(struct mql_loop_source *src, void *userdata) {
        struct mql_loop *loop = mql_loop_source_get_loop(src);

        assert_int_equal(mql_loop_run_once(loop, 0), -EBUSY);
        assert_int_equal(mql_loop_run(loop), -EBUSY);
        (*(int *)userdata)++;
        mql_loop_source_free(src);
        return 0;
}

static void test_nested_run(void **state) {
        struct mql_loop *loop;
        int calls = 0;

        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_defer(loop, NULL, defer_nested, &calls), 0);
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(calls, 1);
        mql_loop_free(loop);
}

static void test_idle(void **state) {
        struct mql_loop *loop;
        struct mql_loop_source *io, *later, *df;
        int p[2], count = 0;

        make_pipe(p);
        write_byte(p[1]);
        assert_int_equal(mql_loop_new(&loop), 0);
        /* A disabled io source (readable, even), a disarmed timer, a
         * disabled armed timer and a disabled defer: nothing to wait for. */
        assert_int_equal(mql_loop_add_io(loop, &io, p[0], EPOLLIN, io_unexpected, NULL), 0);
        assert_int_equal(mql_loop_add_time(loop, NULL, MQL_USEC_INFINITY, time_unexpected, NULL),
                         0);
        assert_int_equal(
                mql_loop_add_time(loop, &later, now() + 1000 * MSEC, time_unexpected, NULL), 0);
        assert_int_equal(mql_loop_add_defer(loop, &df, defer_count, &count), 0);
        assert_int_equal(mql_loop_source_set_enabled(io, 0), 0);
        assert_int_equal(mql_loop_source_set_enabled(later, 0), 0);
        assert_int_equal(mql_loop_source_set_enabled(df, 0), 0);
        assert_true(mql_loop_get_timeout(loop) == MQL_USEC_INFINITY);

        mql_usec t0 = now();
        assert_int_equal(mql_loop_run(loop), 0);
        assert_int_equal(mql_loop_run_once(loop, MQL_USEC_INFINITY), 0);
        assert_true(now() - t0 < 50 * MSEC);
        assert_int_equal(count, 0);

        /* Enabling the armed timer makes it something to wait for again. */
        assert_int_equal(mql_loop_source_set_enabled(later, 1), 0);
        assert_true(mql_loop_get_timeout(loop) > 900 * MSEC);

        mql_loop_free(loop);
        close(p[0]);
        close(p[1]);
}

/* ------------------------------------------------------------- embedding */

static int time_count(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        (*(int *)userdata)++;
        return 0;
}

static void test_embed(void **state) {
        struct mql_loop *loop;
        struct io_rec rec = { .drain = true };
        struct epoll_event ev = { .events = EPOLLIN };
        int p[2], outer, fired = 0, count = 0;
        struct mql_loop_source *d;

        make_pipe(p);
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_loop_add_io(loop, NULL, p[0], EPOLLIN, io_record, &rec), 0);

        outer = epoll_create1(EPOLL_CLOEXEC);
        assert_true(outer >= 0);
        assert_int_equal(epoll_ctl(outer, EPOLL_CTL_ADD, mql_loop_get_fd(loop), &ev), 0);
        assert_int_equal(epoll_wait(outer, &ev, 1, 0), 0);

        /* A ready pipe makes the loop's fd readable... */
        write_byte(p[1]);
        assert_int_equal(epoll_wait(outer, &ev, 1, 0), 1);
        assert_true(ev.events & EPOLLIN);
        assert_int_equal(mql_loop_run_once(loop, 0), 1);
        assert_int_equal(rec.calls, 1);
        /* ...until it is dispatched. */
        assert_int_equal(epoll_wait(outer, &ev, 1, 0), 0);

        /* The next timer, through get_timeout(). */
        assert_true(mql_loop_get_timeout(loop) == MQL_USEC_INFINITY);
        mql_usec due = now() + 20 * MSEC;
        assert_int_equal(mql_loop_add_time(loop, NULL, due, time_count, &fired), 0);
        assert_int_equal(mql_loop_add_time(loop, NULL, due + 500 * MSEC, time_count, &fired), 0);
        mql_usec timeout = mql_loop_get_timeout(loop);
        assert_true(timeout > 10 * MSEC && timeout <= 20 * MSEC);

        /* The outer loop sleeps for it, then lets the loop run. */
        while (fired == 0) {
                timeout = mql_loop_get_timeout(loop);
                int ms = (int)((timeout + 999) / 1000);
                assert_true(epoll_wait(outer, &ev, 1, ms) >= 0);
                assert_true(mql_loop_run_once(loop, 0) >= 0);
        }
        assert_true(now() >= due);
        timeout = mql_loop_get_timeout(loop);
        assert_true(timeout > 400 * MSEC && timeout <= 500 * MSEC);

        /* A deferred call is "ready now". */
        assert_int_equal(mql_loop_add_defer(loop, &d, defer_count, &count), 0);
        assert_true(mql_loop_get_timeout(loop) == 0);
        mql_loop_source_free(d);
        assert_true(mql_loop_get_timeout(loop) > 0);

        close(outer);
        mql_loop_free(loop);
        close(p[0]);
        close(p[1]);
}

/* ------------------------------------------------------------ two loops */

static void test_two_loops(void **state) {
        struct mql_loop *a, *b;
        struct io_rec ra = { .drain = true }, rb = { .drain = true };
        int pa[2], pb[2], fired = 0;

        make_pipe(pa);
        make_pipe(pb);
        assert_int_equal(mql_loop_new(&a), 0);
        assert_int_equal(mql_loop_new(&b), 0);
        assert_int_not_equal(mql_loop_get_fd(a), mql_loop_get_fd(b));
        assert_int_equal(mql_loop_add_io(a, NULL, pa[0], EPOLLIN, io_record, &ra), 0);
        assert_int_equal(mql_loop_add_io(b, NULL, pb[0], EPOLLIN, io_record, &rb), 0);
        /* The same fd in both loops is no conflict. */
        assert_int_equal(mql_loop_add_io(b, NULL, pa[1], EPOLLOUT, io_unexpected, NULL), 0);
        mql_loop_free(b);
        assert_int_equal(mql_loop_new(&b), 0);
        assert_int_equal(mql_loop_add_io(b, NULL, pb[0], EPOLLIN, io_record, &rb), 0);

        write_byte(pa[1]);
        assert_int_equal(mql_loop_run_once(b, 0), 0);
        assert_int_equal(rb.calls, 0);
        assert_int_equal(mql_loop_run_once(a, 0), 1);
        assert_int_equal(ra.calls, 1);

        assert_int_equal(mql_loop_add_time(a, NULL, now(), time_count, &fired), 0);
        assert_true(mql_loop_get_timeout(b) == MQL_USEC_INFINITY);
        assert_int_equal(mql_loop_run_once(b, 0), 0);
        assert_int_equal(fired, 0);

        mql_loop_exit(a, 3);
        write_byte(pb[1]);
        assert_int_equal(mql_loop_run_once(b, 0), 1);
        assert_int_equal(rb.calls, 1);
        assert_int_equal(mql_loop_run(a), 3);
        assert_int_equal(fired, 0);

        mql_loop_free(a);
        mql_loop_free(b);
        close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]);
}

struct thread_arg {
        int fired;
        int result;
};

static int time_chain(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct thread_arg *arg = userdata;

        if (++arg->fired < 20)
                return mql_loop_source_set_time(src, usec + 500);
        return 0;
}

static void *thread_main(void *userdata) {
        struct thread_arg *arg = userdata;
        struct mql_loop *loop;

        if (mql_loop_new(&loop) < 0)
                return NULL;
        for (int i = 0; i < 50; i++)
                if (mql_loop_add_time(loop, NULL, now() + (mql_usec)i * 100, time_chain, arg) < 0)
                        break;
        arg->result = mql_loop_run(loop);
        mql_loop_free(loop);
        return NULL;
}

static void test_two_threads(void **state) {
        pthread_t th[2];
        struct thread_arg arg[2] = { { 0, -1 }, { 0, -1 } };

        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&th[i], NULL, thread_main, &arg[i]), 0);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_int_equal(arg[i].result, 0);
                /* Each of the 50 timers once, plus the 19 re-arms. */
                assert_int_equal(arg[i].fired, 20 + 49);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_free),
                cmocka_unit_test(test_free_with_sources),
                cmocka_unit_test(test_io_in_out),
                cmocka_unit_test(test_io_hup),
                cmocka_unit_test(test_io_eexist),
                cmocka_unit_test(test_timers_order),
                cmocka_unit_test(test_timer_not_early),
                cmocka_unit_test(test_timer_rearm_from_callback),
                cmocka_unit_test(test_timers_many),
                cmocka_unit_test(test_defer),
                cmocka_unit_test(test_signal),
                cmocka_unit_test(test_free_self),
                cmocka_unit_test(test_free_other_pending),
                cmocka_unit_test(test_exit),
                cmocka_unit_test(test_exit_from_defer),
                cmocka_unit_test(test_callback_error),
                cmocka_unit_test(test_nested_run),
                cmocka_unit_test(test_idle),
                cmocka_unit_test(test_embed),
                cmocka_unit_test(test_two_loops),
                cmocka_unit_test(test_two_threads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

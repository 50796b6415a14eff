/* SPDX-License-Identifier: MIT */
#include "mqlink/loop.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "util/macro.h"

/*
 * One epoll fd holds every io source and every signalfd, with data.ptr
 * pointing at the source. Timers live in a binary min-heap ordered by
 * (deadline, arm sequence) and are driven by the epoll_wait timeout: MQTT
 * timers (keepalive, retry, reconnect backoff) count in seconds, so the
 * millisecond of epoll_wait costs nothing, where a timerfd would cost an fd
 * and a timerfd_settime each time the earliest deadline moves. The timeout
 * is rounded up and due timers are picked by reading the clock after the
 * wait, so a timer never fires early.
 *
 * Freeing from callbacks: while an iteration dispatches, a freed source is
 * only detached (out of epoll, the heap, the fd table; marked dead) and
 * queued; its memory goes at the end of the iteration. So epoll events
 * already collected for it, and list walks that hold it, see a dead source
 * and skip it, and its address cannot be reused by a new source during the
 * same iteration.
 */

#define MAX_EVENTS 64
#define HEAP_NONE SIZE_MAX
#define IO_EVENTS_ALLOWED (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLERR | EPOLLHUP)

enum source_type {
        SOURCE_IO,
        SOURCE_TIME,
        SOURCE_DEFER,
        SOURCE_SIGNAL,
};

struct mql_loop_source {
        struct mql_loop *loop;
        enum source_type type;
        bool enabled;
        bool dead;
        void *userdata;
        /* loop->sources: every source, so that mql_loop_free() finds them. */
        struct mql_loop_source *prev, *next;
        /* loop->garbage: dead sources waiting for the end of the iteration. */
        struct mql_loop_source *gc_next;
        union {
                struct {
                        mql_loop_io_fn cb;
                        int fd;
                        uint32_t events;
                } io;
                struct {
                        mql_loop_time_fn cb;
                        mql_usec usec;
                        uint64_t seq; /* breaks ties between equal deadlines: FIFO */
                        size_t idx;   /* in loop->heap, or HEAP_NONE */
                } time;
                struct {
                        mql_loop_defer_fn cb;
                        struct mql_loop_source *prev, *next;
                } defer;
                struct {
                        mql_loop_signal_fn cb;
                        int signo;
                        int fd;
                } signal;
        };
};

struct mql_loop {
        int epfd;
        bool dispatching;
        bool exit_requested;
        int exit_code;

        struct mql_loop_source *sources;
        struct mql_loop_source *defers, *defers_tail;
        struct mql_loop_source *garbage;

        /* Armed, enabled, live timers only. Room for every timer source is
         * reserved when it is added, so arming never allocates. */
        struct mql_loop_source **heap;
        size_t n_heap, heap_cap, n_timers;
        uint64_t time_seq;

        /* fd -> io source, for -EEXIST even while the source is disabled
         * (and so not in epoll). fds are small dense integers. */
        struct mql_loop_source **fds;
        size_t n_fds;

        sigset_t signals;

        /* What mql_loop_run() waits for, besides the heap. */
        size_t n_io_enabled, n_defer_enabled, n_signal_enabled;

        struct epoll_event events[MAX_EVENTS];
};

/* ------------------------------------------------------------------ heap */

static bool time_before(const struct mql_loop_source *a, const struct mql_loop_source *b) {
        if (a->time.usec != b->time.usec)
                return a->time.usec < b->time.usec;
        return a->time.seq < b->time.seq;
}

static void heap_put(struct mql_loop *loop, size_t i, struct mql_loop_source *s) {
        loop->heap[i] = s;
        s->time.idx = i;
}

static void heap_up(struct mql_loop *loop, size_t i) {
        struct mql_loop_source *s = loop->heap[i];

        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!time_before(s, loop->heap[parent]))
                        break;
                heap_put(loop, i, loop->heap[parent]);
                i = parent;
        }
        heap_put(loop, i, s);
}

static void heap_down(struct mql_loop *loop, size_t i) {
        struct mql_loop_source *s = loop->heap[i];

        for (;;) {
                size_t child = 2 * i + 1;
                if (child >= loop->n_heap)
                        break;
                if (child + 1 < loop->n_heap &&
                    time_before(loop->heap[child + 1], loop->heap[child]))
                        child++;
                if (!time_before(loop->heap[child], s))
                        break;
                heap_put(loop, i, loop->heap[child]);
                i = child;
        }
        heap_put(loop, i, s);
}

static void heap_insert(struct mql_loop *loop, struct mql_loop_source *s) {
        assert(loop->n_heap < loop->heap_cap);
        heap_put(loop, loop->n_heap++, s);
        heap_up(loop, s->time.idx);
}

static void heap_remove(struct mql_loop *loop, struct mql_loop_source *s) {
        size_t i = s->time.idx;
        struct mql_loop_source *last = loop->heap[--loop->n_heap];

        s->time.idx = HEAP_NONE;
        if (last == s)
                return;
        heap_put(loop, i, last);
        heap_up(loop, i);
        heap_down(loop, last->time.idx);
}

/* Puts a timer in the heap exactly when it can fire: live, enabled, armed. */
static void time_sync(struct mql_loop_source *s) {
        struct mql_loop *loop = s->loop;

        if (s->time.idx != HEAP_NONE)
                heap_remove(loop, s);
        if (s->dead || !s->enabled || s->time.usec == MQL_USEC_INFINITY)
                return;
        s->time.seq = loop->time_seq++;
        heap_insert(loop, s);
}

/* --------------------------------------------------------------- sources */

static int epoll_add(struct mql_loop_source *s, int fd, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = s };

        if (epoll_ctl(s->loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        return 0;
}

static void epoll_del(struct mql_loop_source *s, int fd) {
        /* Fails only if the caller closed fd first, which removed it from
         * epoll already: nothing left to undo. */
        (void)epoll_ctl(s->loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static struct mql_loop_source *source_new(struct mql_loop *loop, enum source_type type,
                                          void *userdata) {
        struct mql_loop_source *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->loop = loop;
        s->type = type;
        s->enabled = true;
        s->userdata = userdata;
        return s;
}

static void source_link(struct mql_loop_source *s, struct mql_loop_source **ret) {
        struct mql_loop *loop = s->loop;

        s->next = loop->sources;
        if (loop->sources)
                loop->sources->prev = s;
        loop->sources = s;

        if (s->type == SOURCE_DEFER) {
                s->defer.prev = loop->defers_tail;
                if (loop->defers_tail)
                        loop->defers_tail->defer.next = s;
                else
                        loop->defers = s;
                loop->defers_tail = s;
        }
        if (ret)
                *ret = s;
}

/* Takes a source out of everything that could dispatch it, at once. */
static void source_detach(struct mql_loop_source *s) {
        struct mql_loop *loop = s->loop;

        switch (s->type) {
        case SOURCE_IO:
                if (s->enabled) {
                        epoll_del(s, s->io.fd);
                        loop->n_io_enabled--;
                }
                loop->fds[s->io.fd] = NULL;
                break;
        case SOURCE_TIME:
                if (s->time.idx != HEAP_NONE)
                        heap_remove(loop, s);
                loop->n_timers--;
                break;
        case SOURCE_DEFER:
                if (s->enabled)
                        loop->n_defer_enabled--;
                break;
        case SOURCE_SIGNAL:
                if (s->enabled)
                        loop->n_signal_enabled--;
                /* Closing drops it from epoll, and frees the signo for a
                 * new source added in the same iteration. */
                close(s->signal.fd);
                sigdelset(&loop->signals, s->signal.signo);
                break;
        }
        s->enabled = false;
        s->dead = true;
}

/* Unlinks and frees a detached source. */
static void source_destroy(struct mql_loop_source *s) {
        struct mql_loop *loop = s->loop;

        if (s->prev)
                s->prev->next = s->next;
        else
                loop->sources = s->next;
        if (s->next)
                s->next->prev = s->prev;

        if (s->type == SOURCE_DEFER) {
                if (s->defer.prev)
                        s->defer.prev->defer.next = s->defer.next;
                else
                        loop->defers = s->defer.next;
                if (s->defer.next)
                        s->defer.next->defer.prev = s->defer.prev;
                else
                        loop->defers_tail = s->defer.prev;
        }
        free(s);
}

static void loop_reap(struct mql_loop *loop) {
        while (loop->garbage) {
                struct mql_loop_source *s = loop->garbage;
                loop->garbage = s->gc_next;
                source_destroy(s);
        }
}

MQL_EXPORT struct mql_loop_source *mql_loop_source_free(struct mql_loop_source *src) {
        if (!src || src->dead)
                return NULL;

        source_detach(src);
        if (src->loop->dispatching) {
                src->gc_next = src->loop->garbage;
                src->loop->garbage = src;
        } else
                source_destroy(src);
        return NULL;
}

MQL_EXPORT void *mql_loop_source_get_userdata(struct mql_loop_source *src) {
        return src ? src->userdata : NULL;
}

MQL_EXPORT struct mql_loop *mql_loop_source_get_loop(struct mql_loop_source *src) {
        return src ? src->loop : NULL;
}

MQL_EXPORT int mql_loop_source_set_enabled(struct mql_loop_source *src, int enabled) {
        struct mql_loop *loop;
        bool on = enabled != 0;
        int r;

        if (!src || src->dead)
                return -EINVAL;
        if (src->enabled == on)
                return 0;
        loop = src->loop;

        switch (src->type) {
        case SOURCE_IO:
                if (on) {
                        r = epoll_add(src, src->io.fd, src->io.events);
                        if (r < 0)
                                return r;
                } else
                        epoll_del(src, src->io.fd);
                loop->n_io_enabled += on ? 1 : -1;
                break;
        case SOURCE_SIGNAL:
                if (on) {
                        r = epoll_add(src, src->signal.fd, EPOLLIN);
                        if (r < 0)
                                return r;
                } else
                        epoll_del(src, src->signal.fd);
                loop->n_signal_enabled += on ? 1 : -1;
                break;
        case SOURCE_DEFER:
                loop->n_defer_enabled += on ? 1 : -1;
                break;
        case SOURCE_TIME:
                break;
        }

        src->enabled = on;
        if (src->type == SOURCE_TIME)
                time_sync(src);
        return 0;
}

/* -------------------------------------------------------------------- io */

static int fds_reserve(struct mql_loop *loop, int fd) {
        size_t n = loop->n_fds ? loop->n_fds : 64;
        struct mql_loop_source **p;

        if ((size_t)fd < loop->n_fds)
                return 0;
        while (n <= (size_t)fd)
                n *= 2;
        p = reallocarray(loop->fds, n, sizeof(*p));
        if (!p)
                return -ENOMEM;
        memset(p + loop->n_fds, 0, (n - loop->n_fds) * sizeof(*p));
        loop->fds = p;
        loop->n_fds = n;
        return 0;
}

MQL_EXPORT int mql_loop_add_io(struct mql_loop *loop, struct mql_loop_source **ret, int fd,
                               uint32_t events, mql_loop_io_fn cb, void *userdata) {
        int r;

        if (!loop || fd < 0 || !cb || (events & ~(uint32_t)IO_EVENTS_ALLOWED))
                return -EINVAL;
        if ((size_t)fd < loop->n_fds && loop->fds[fd])
                return -EEXIST;
        r = fds_reserve(loop, fd);
        if (r < 0)
                return r;

        _cleanup_free_ struct mql_loop_source *s = source_new(loop, SOURCE_IO, userdata);
        if (!s)
                return -ENOMEM;
        s->io.cb = cb;
        s->io.fd = fd;
        s->io.events = events;
        r = epoll_add(s, fd, events);
        if (r < 0)
                return r;

        loop->fds[fd] = s;
        loop->n_io_enabled++;
        source_link(TAKE_PTR(s), ret);
        return 0;
}

MQL_EXPORT int mql_loop_source_set_io_events(struct mql_loop_source *src, uint32_t events) {
        if (!src || src->dead || src->type != SOURCE_IO || (events & ~(uint32_t)IO_EVENTS_ALLOWED))
                return -EINVAL;

        if (src->enabled && events != src->io.events) {
                struct epoll_event ev = { .events = events, .data.ptr = src };
                if (epoll_ctl(src->loop->epfd, EPOLL_CTL_MOD, src->io.fd, &ev) < 0)
                        return -errno;
        }
        src->io.events = events;
        return 0;
}

/* ----------------------------------------------------------------- timers */

MQL_EXPORT int mql_loop_add_time(struct mql_loop *loop, struct mql_loop_source **ret, mql_usec usec,
                                 mql_loop_time_fn cb, void *userdata) {
        if (!loop || !cb)
                return -EINVAL;

        if (loop->n_timers == loop->heap_cap) {
                size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
                struct mql_loop_source **h = reallocarray(loop->heap, cap, sizeof(*h));
                if (!h)
                        return -ENOMEM;
                loop->heap = h;
                loop->heap_cap = cap;
        }

        struct mql_loop_source *s = source_new(loop, SOURCE_TIME, userdata);
        if (!s)
                return -ENOMEM;
        s->time.cb = cb;
        s->time.usec = usec;
        s->time.idx = HEAP_NONE;
        loop->n_timers++;
        time_sync(s);
        source_link(s, ret);
        return 0;
}

MQL_EXPORT int mql_loop_source_set_time(struct mql_loop_source *src, mql_usec usec) {
        if (!src || src->dead || src->type != SOURCE_TIME)
                return -EINVAL;
        src->time.usec = usec;
        time_sync(src);
        return 0;
}

/* ---------------------------------------------------------------- defers */

MQL_EXPORT int mql_loop_add_defer(struct mql_loop *loop, struct mql_loop_source **ret,
                                  mql_loop_defer_fn cb, void *userdata) {
        if (!loop || !cb)
                return -EINVAL;

        struct mql_loop_source *s = source_new(loop, SOURCE_DEFER, userdata);
        if (!s)
                return -ENOMEM;
        s->defer.cb = cb;
        loop->n_defer_enabled++;
        source_link(s, ret);
        return 0;
}

/* --------------------------------------------------------------- signals */

MQL_EXPORT int mql_loop_add_signal(struct mql_loop *loop, struct mql_loop_source **ret, int signo,
                                   mql_loop_signal_fn cb, void *userdata) {
        sigset_t mask;
        int r;

        if (!loop || !cb || signo <= 0 || signo >= _NSIG || signo == SIGKILL || signo == SIGSTOP)
                return -EINVAL;
        if (sigismember(&loop->signals, signo) == 1)
                return -EEXIST;

        /* An unblocked signal never reaches the signalfd: it takes its
         * default action first, which for most kills the process. */
        r = pthread_sigmask(SIG_SETMASK, NULL, &mask);
        if (r != 0)
                return -r;
        if (sigismember(&mask, signo) != 1)
                return -EBUSY;

        sigemptyset(&mask);
        if (sigaddset(&mask, signo) < 0)
                return -EINVAL;
        _cleanup_close_ int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0)
                return -errno;

        _cleanup_free_ struct mql_loop_source *s = source_new(loop, SOURCE_SIGNAL, userdata);
        if (!s)
                return -ENOMEM;
        s->signal.cb = cb;
        s->signal.signo = signo;
        r = epoll_add(s, fd, EPOLLIN);
        if (r < 0)
                return r;

        s->signal.fd = TAKE_FD(fd);
        sigaddset(&loop->signals, signo);
        loop->n_signal_enabled++;
        source_link(TAKE_PTR(s), ret);
        return 0;
}

/* ------------------------------------------------------------------- loop */

MQL_EXPORT int mql_loop_new(struct mql_loop **ret) {
        if (!ret)
                return -EINVAL;

        _cleanup_free_ struct mql_loop *loop = calloc(1, sizeof(*loop));
        if (!loop)
                return -ENOMEM;
        loop->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (loop->epfd < 0)
                return -errno;
        sigemptyset(&loop->signals);

        *ret = TAKE_PTR(loop);
        return 0;
}

MQL_EXPORT struct mql_loop *mql_loop_free(struct mql_loop *loop) {
        if (!loop)
                return NULL;
        /* The caller's stack still holds sources of this loop. */
        assert(!loop->dispatching);

        while (loop->sources) {
                struct mql_loop_source *s = loop->sources;
                source_detach(s);
                source_destroy(s);
        }
        close(loop->epfd);
        free(loop->heap);
        free(loop->fds);
        free(loop);
        return NULL;
}

MQL_EXPORT mql_usec mql_loop_now(struct mql_loop *loop) {
        struct timespec ts;

        /* Truncating the nanoseconds keeps "due" (usec <= now) honest. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (mql_usec)ts.tv_sec * 1000000u + (mql_usec)ts.tv_nsec / 1000u;
}

MQL_EXPORT int mql_loop_get_fd(struct mql_loop *loop) {
        return loop ? loop->epfd : -EINVAL;
}

MQL_EXPORT mql_usec mql_loop_get_timeout(struct mql_loop *loop) {
        mql_usec now, due;

        if (!loop)
                return MQL_USEC_INFINITY;
        if (loop->n_defer_enabled > 0)
                return 0;
        if (loop->n_heap == 0)
                return MQL_USEC_INFINITY;
        due = loop->heap[0]->time.usec;
        now = mql_loop_now(loop);
        return due <= now ? 0 : due - now;
}

MQL_EXPORT void mql_loop_exit(struct mql_loop *loop, int code) {
        if (!loop)
                return;
        loop->exit_requested = true;
        loop->exit_code = code;
}

static bool loop_idle(const struct mql_loop *loop) {
        return loop->n_io_enabled == 0 && loop->n_signal_enabled == 0 &&
               loop->n_defer_enabled == 0 && loop->n_heap == 0;
}

/* Rounds up, so that the wait never ends before the deadline it is for. */
static int usec_to_timeout_ms(mql_usec usec) {
        if (usec == MQL_USEC_INFINITY)
                return -1;
        if (usec / 1000 >= INT_MAX)
                return INT_MAX;
        return (int)((usec + 999) / 1000);
}

static int dispatch_defers(struct mql_loop *loop, bool *dispatched) {
        /* Defers added by these callbacks are appended after `last` and
         * wait for the next iteration, so a defer that adds a defer cannot
         * keep this walk going. Dead ones stay linked until loop_reap(). */
        struct mql_loop_source *last = loop->defers_tail;

        for (struct mql_loop_source *s = loop->defers; s; s = s->defer.next) {
                if (s->enabled) {
                        int r = s->defer.cb(s, s->userdata);
                        *dispatched = true;
                        if (r < 0)
                                return r;
                }
                if (s == last)
                        break;
        }
        return 0;
}

static int dispatch_signal(struct mql_loop_source *s, bool *dispatched) {
        struct signalfd_siginfo si;
        ssize_t n = read(s->signal.fd, &si, sizeof(si));

        if (n < 0)
                /* EAGAIN: another loop or a sigwait() took it first. */
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n != sizeof(si))
                return -EIO;
        *dispatched = true;
        return s->signal.cb(s, (int)si.ssi_signo, s->userdata);
}

static int dispatch_events(struct mql_loop *loop, int n, bool *dispatched) {
        for (int i = 0; i < n; i++) {
                struct mql_loop_source *s = loop->events[i].data.ptr;
                int r;

                /* Freed or disabled by an earlier callback of this batch. */
                if (s->dead || !s->enabled)
                        continue;

                if (s->type == SOURCE_SIGNAL)
                        r = dispatch_signal(s, dispatched);
                else {
                        /* Events a callback stopped asking for meanwhile
                         * are not reported. */
                        uint32_t revents =
                                loop->events[i].events & (s->io.events | EPOLLERR | EPOLLHUP);
                        if (revents == 0)
                                continue;
                        r = s->io.cb(s, s->io.fd, revents, s->userdata);
                        *dispatched = true;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dispatch_timers(struct mql_loop *loop, uint64_t seq_limit, bool *dispatched) {
        mql_usec now = mql_loop_now(loop);

        /* Timers armed during this iteration (seq >= seq_limit) wait for the
         * next one even when already due: a callback that re-arms its timer
         * in the past must not spin here forever. */
        while (loop->n_heap > 0) {
                struct mql_loop_source *s = loop->heap[0];
                mql_usec usec = s->time.usec;
                int r;

                if (usec > now || s->time.seq >= seq_limit)
                        break;
                heap_remove(loop, s);
                s->time.usec = MQL_USEC_INFINITY; /* one-shot */
                r = s->time.cb(s, usec, s->userdata);
                *dispatched = true;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int loop_iterate(struct mql_loop *loop, mql_usec timeout) {
        uint64_t seq_limit = loop->time_seq;
        bool dispatched = false;
        mql_usec wait;
        int n, r;

        r = dispatch_defers(loop, &dispatched);
        if (r < 0)
                return r;

        wait = mql_loop_get_timeout(loop);
        if (timeout < wait)
                wait = timeout;
        /* A deferred call may have just disabled or freed the last thing
         * that could wake the wait up, or asked the loop to exit: either
         * way, do not block. */
        if (loop_idle(loop) || loop->exit_requested)
                wait = 0;
        n = epoll_wait(loop->epfd, loop->events, MAX_EVENTS, usec_to_timeout_ms(wait));
        if (n < 0) {
                if (errno != EINTR)
                        return -errno;
                n = 0;
        }

        r = dispatch_events(loop, n, &dispatched);
        if (r < 0)
                return r;
        r = dispatch_timers(loop, seq_limit, &dispatched);
        if (r < 0)
                return r;
        return dispatched ? 1 : 0;
}

MQL_EXPORT int mql_loop_run_once(struct mql_loop *loop, mql_usec timeout) {
        int r;

        if (!loop)
                return -EINVAL;
        if (loop->dispatching)
                return -EBUSY;
        /* epoll_wait(-1) on nothing would never return. */
        if (timeout == MQL_USEC_INFINITY && loop_idle(loop))
                return 0;

        loop->dispatching = true;
        r = loop_iterate(loop, timeout);
        loop->dispatching = false;
        loop_reap(loop);
        return r;
}

MQL_EXPORT int mql_loop_run(struct mql_loop *loop) {
        int r;

        if (!loop)
                return -EINVAL;
        if (loop->dispatching)
                return -EBUSY;

        for (;;) {
                if (loop->exit_requested) {
                        r = loop->exit_code;
                        break;
                }
                if (loop_idle(loop)) {
                        r = 0;
                        break;
                }
                r = mql_loop_run_once(loop, MQL_USEC_INFINITY);
                if (r < 0)
                        break;
        }
        /* An exit requested in the iteration that failed is spent too. */
        loop->exit_requested = false;
        return r;
}

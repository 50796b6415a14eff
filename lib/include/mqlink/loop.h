/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * mql_loop: a small epoll event loop for programs that have none of their
 * own (luamqtt's ioloop): several clients, file descriptors, monotonic
 * timers, deferred calls and signals in one thread.
 *
 * One loop per thread; a loop and its sources are not thread-safe. There is
 * no global state: two loops in two threads are independent.
 *
 * Embedding: mql_loop_get_fd() is an epoll file descriptor that becomes
 * readable whenever a source of the loop is ready. A program with its own
 * loop (glib, libuv, another epoll) watches that fd for reading, arms a
 * timer for mql_loop_get_timeout(), and calls mql_loop_run_once(loop, 0)
 * when either fires. Deferred calls count as "ready now": get_timeout()
 * returns 0 while any is pending.
 *   In detail: io and signal sources make the fd readable; timers and
 * deferred calls never do, which is why get_timeout() must be re-read
 * after every mql_loop_run_once() and after adding or re-arming a source
 * (a callback of the outer loop that re-arms a timer changes it too).
 * Never call mql_loop_run() from the outer loop's callbacks: it blocks.
 *
 * Callbacks run from mql_loop_run()/mql_loop_run_once() only. A callback may
 * add or free any source, its own included.
 *   A freed source is never called again, even if its event was already
 * collected in the same iteration. The `src` handed to a callback is valid
 * until the callback returns or frees it; `userdata` is never touched by
 * the loop, and must stay valid for as long as the source exists.
 *   Sources are level-triggered: a callback that leaves data unread is
 * called again on the next iteration. A callback can also be called with
 * nothing to do (an fd that another callback of the same iteration drained),
 * so io callbacks use non-blocking fds.
 */

#include <stdint.h>
#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mql_loop;
struct mql_loop_source;

/* Microseconds of CLOCK_MONOTONIC. */
typedef uint64_t mql_usec;
#define MQL_USEC_INFINITY UINT64_MAX

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP) that
 * occurred. Returning a negative errno stops the loop with that value. */
typedef int (*mql_loop_io_fn)(struct mql_loop_source *src, int fd, uint32_t revents,
                              void *userdata);
/* Called once `usec` (absolute, monotonic) has passed. A timer is one-shot:
 * re-arm it with mql_loop_source_set_time(). */
typedef int (*mql_loop_time_fn)(struct mql_loop_source *src, mql_usec usec, void *userdata);
/* Deferred calls run on every iteration until disabled or freed. */
typedef int (*mql_loop_defer_fn)(struct mql_loop_source *src, void *userdata);
typedef int (*mql_loop_signal_fn)(struct mql_loop_source *src, int signo, void *userdata);

/* Returns 0 and a new loop in *ret, -ENOMEM, or the errno of epoll_create1. */
int mql_loop_new(struct mql_loop **ret);
/* Frees the loop and every source still attached to it (without calling
 * them). Accepts NULL. Returns NULL. Must not be called from one of the
 * loop's own callbacks (call mql_loop_exit() there, and free the loop once
 * mql_loop_run() has returned). */
struct mql_loop *mql_loop_free(struct mql_loop *loop);

/* CLOCK_MONOTONIC now, in microseconds. */
mql_usec mql_loop_now(struct mql_loop *loop);

/*
 * Every mql_loop_add_*() below returns the new source in *ret (enabled). ret
 * may be NULL: the source then belongs to the loop, which frees it with
 * itself, unless a callback frees it first (it receives `src`). cb must not
 * be NULL (-EINVAL).
 */

/*
 * Watches `fd` (not owned: the caller closes it after freeing the source)
 * for `events` (EPOLLIN | EPOLLOUT; EPOLLERR and EPOLLHUP are always
 * reported). Returns 0, -EINVAL, -EEXIST if fd is already watched by this
 * loop, -ENOMEM, or the errno of epoll_ctl.
 *   `events` may also hold EPOLLPRI and EPOLLRDHUP; any other flag (EPOLLET,
 * EPOLLONESHOT…) is -EINVAL. 0 waits for EPOLLERR and EPOLLHUP only. An fd
 * epoll cannot watch (a regular file) is -EPERM.
 */
int mql_loop_add_io(struct mql_loop *loop, struct mql_loop_source **ret, int fd, uint32_t events,
                    mql_loop_io_fn cb, void *userdata);
/* Changes the events an io source waits for. Returns 0 or -errno. (-EINVAL:
 * not an io source, or flags as for mql_loop_add_io(); otherwise the errno
 * of epoll_ctl, and the source keeps its former events.) */
int mql_loop_source_set_io_events(struct mql_loop_source *src, uint32_t events);

/* A one-shot timer at absolute monotonic time `usec` (MQL_USEC_INFINITY:
 * disarmed). Returns 0 or -ENOMEM.
 *   A timer never fires early: it fires on the first iteration that finds
 * CLOCK_MONOTONIC >= usec, which with nothing else to do is within about a
 * millisecond (the loop sleeps in epoll_wait, whose timeout is rounded up
 * to whole milliseconds). Timers due in the same iteration fire in order of
 * `usec`, then in the order they were armed. A timer that has fired is
 * disarmed (as if set to MQL_USEC_INFINITY) before its callback runs. */
int mql_loop_add_time(struct mql_loop *loop, struct mql_loop_source **ret, mql_usec usec,
                      mql_loop_time_fn cb, void *userdata);
/* Re-arms (or with MQL_USEC_INFINITY disarms) a timer. Returns 0 or -EINVAL
 * for a source that is not a timer.
 *   It never fails otherwise (the space was reserved by add_time), so
 * re-arming keepalives needs no error path. A timer armed by a callback
 * fires on the next iteration at the earliest, even at a time already past,
 * so a timer re-armed at its own `usec` cannot starve the loop. A disabled
 * timer keeps its time and fires once re-enabled. */
int mql_loop_source_set_time(struct mql_loop_source *src, mql_usec usec);

/* A deferred call, run on each iteration before waiting while enabled.
 * Returns 0, -EINVAL or -ENOMEM. Deferred calls added by a deferred call
 * run from the next iteration on. */
int mql_loop_add_defer(struct mql_loop *loop, struct mql_loop_source **ret, mql_loop_defer_fn cb,
                       void *userdata);

/* Delivers `signo` through a signalfd. The caller blocks the signal in every
 * thread beforehand (pthread_sigmask) — the loop does not, so that it never
 * changes the process's signal state behind its back. Returns 0, -EEXIST
 * if this loop already watches signo, or -errno.
 *   -EINVAL: signo is not a signal a signalfd can take (SIGKILL, SIGSTOP,
 * out of range). -EBUSY: signo is not blocked in the calling thread (it
 * would be delivered the ordinary way, and kill the process by default).
 * A signal raised while its source is disabled stays pending. If two loops
 * watch the same signal, one of them gets each delivery. */
int mql_loop_add_signal(struct mql_loop *loop, struct mql_loop_source **ret, int signo,
                        mql_loop_signal_fn cb, void *userdata);

/* Enables or disables a source of any kind (all start enabled). Returns 0,
 * -EINVAL, or (enabling an io or signal source) the errno of epoll_ctl. A
 * disabled io source is taken out of epoll, so it does not report EPOLLHUP
 * either; it still holds its fd for -EEXIST. */
int mql_loop_source_set_enabled(struct mql_loop_source *src, int enabled);
/* Detaches and frees a source. Safe inside its own callback. Accepts NULL.
 * Returns NULL. */
struct mql_loop_source *mql_loop_source_free(struct mql_loop_source *src);
void *mql_loop_source_get_userdata(struct mql_loop_source *src);
struct mql_loop *mql_loop_source_get_loop(struct mql_loop_source *src);

/*
 * Runs one iteration: runs deferred calls, waits up to `timeout` (µs,
 * MQL_USEC_INFINITY: until something happens) for fds and timers, and
 * dispatches what is ready. Returns 1 if it dispatched something, 0 if not,
 * or the negative value a callback returned (the loop stops).
 *   Within an iteration, io and signal sources are dispatched before the
 * timers that are due. A callback's failure ends the iteration at once
 * (what was not dispatched yet is still ready on the next one). It never
 * waits when nothing is left to wait for (see mql_loop_run()), so that
 * MQL_USEC_INFINITY cannot block forever: it returns 0 at once, or 1 if
 * its deferred calls just disabled the last source. -EINTR never
 * surfaces (a signal that interrupts the wait ends the iteration early);
 * -EBUSY if called from a callback of this loop; or the errno of
 * epoll_wait or of reading a signalfd.
 */
int mql_loop_run_once(struct mql_loop *loop, mql_usec timeout);
/*
 * Runs until mql_loop_exit() is called (returns its code), a callback fails
 * (returns its negative errno), or nothing is left to wait for: no enabled
 * io source, no armed timer, no deferred call, no signal (returns 0).
 *   "Armed" and "deferred call" mean enabled ones; disabled sources of
 * every kind, signals included, are not waited for. -EBUSY if called from
 * a callback of this loop. The loop can be run again after it returns.
 */
int mql_loop_run(struct mql_loop *loop);
/* Makes mql_loop_run() return `code` after the current iteration. Called
 * outside mql_loop_run(), it makes the next mql_loop_run() return `code` at
 * once. mql_loop_run_once() ignores it. */
void mql_loop_exit(struct mql_loop *loop, int code);

/* The epoll fd to embed the loop in another one (see the top of this file).
 * Owned by the loop; -EINVAL for a NULL loop. */
int mql_loop_get_fd(struct mql_loop *loop);
/* Microseconds until the next timer is due (0 if due or a deferred call
 * is pending), or MQL_USEC_INFINITY. */
mql_usec mql_loop_get_timeout(struct mql_loop *loop);

#ifdef __cplusplus
}
#endif

/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE 1 /* EAI_NODATA, EAI_ADDRFAMILY */
#include "io/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include "util/macro.h"

/*
 * Lifetime. A job starts with two references, the caller's and the
 * worker's. The mutex guards `done`, `cancelled`, the result and the
 * eventfd; the count itself is atomic and only ever decremented after the
 * mutex is released, so the side that drops it to zero may destroy the
 * mutex.
 *
 * The eventfd is the subtle part: the caller closes it when it cancels
 * (its loop must not keep watching an fd nobody will service), and the
 * worker must then never write to that number, which the process may by
 * now have handed to an unrelated file. Both the close and the write
 * happen under the mutex, and the worker writes only if not cancelled.
 *
 * The worker never logs (mqlink.h promises that the log callback runs on
 * the library user's threads only).
 */

struct mql__resolve {
        pthread_mutex_t lock;
        unsigned n_ref; /* atomic */

        bool done;
        bool cancelled;
        int error;
        struct mql__addrlist *result;
        int efd;

        char *host;
        char service[sizeof("65535")];
};

static unsigned test_delay_msec; /* atomic */
static unsigned jobs_alive;      /* atomic */

void mql__resolve_set_test_delay(unsigned msec) {
        __atomic_store_n(&test_delay_msec, msec, __ATOMIC_RELAXED);
}

unsigned mql__resolve_jobs_alive(void) {
        return __atomic_load_n(&jobs_alive, __ATOMIC_ACQUIRE);
}

static void job_unref(struct mql__resolve *j) {
        if (__atomic_sub_fetch(&j->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return;

        pthread_mutex_destroy(&j->lock);
        if (j->efd >= 0)
                close(j->efd);
        free(j->result);
        free(j->host);
        free(j);
        __atomic_sub_fetch(&jobs_alive, 1, __ATOMIC_RELEASE);
}

/* getaddrinfo()'s failures as the errno values transport.h promises. */
static int gai_to_errno(int gai, int saved_errno) {
        switch (gai) {
        case EAI_NONAME:
        case EAI_NODATA:
        case EAI_ADDRFAMILY:
                return -ENOENT;
        case EAI_AGAIN:
        case EAI_FAIL:
                return -EHOSTUNREACH;
        case EAI_MEMORY:
                return -ENOMEM;
        case EAI_SYSTEM:
                return saved_errno > 0 ? -saved_errno : -EIO;
        default: /* EAI_SERVICE, EAI_FAMILY, EAI_SOCKTYPE, EAI_BADFLAGS */
                return -EINVAL;
        }
}

/* Copies what connect() needs out of the addrinfo list, so that the result
 * is one plain allocation and freeaddrinfo() stays on the worker. */
static int addrinfo_to_list(const struct addrinfo *ai, struct mql__addrlist **ret) {
        size_t n = 0;
        for (const struct addrinfo *a = ai; a; a = a->ai_next)
                if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
                    a->ai_addrlen <= sizeof(struct sockaddr_in6))
                        n++;
        if (n == 0)
                return -ENOENT;

        struct mql__addrlist *l = calloc(1, sizeof(*l) + n * sizeof(l->addr[0]));
        if (!l)
                return -ENOMEM;
        for (const struct addrinfo *a = ai; a; a = a->ai_next)
                if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
                    a->ai_addrlen <= sizeof(struct sockaddr_in6)) {
                        memcpy(&l->addr[l->n].sa, a->ai_addr, a->ai_addrlen);
                        l->addr[l->n].len = a->ai_addrlen;
                        l->n++;
                }
        *ret = l;
        return 0;
}

static int lookup(const char *host, const char *service, int flags, struct mql__addrlist **ret) {
        const struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_protocol = IPPROTO_TCP,
                .ai_flags = flags | AI_NUMERICSERV,
        };
        struct addrinfo *ai = NULL;

        errno = 0;
        int r = getaddrinfo(host, service, &hints, &ai);
        if (r != 0)
                return gai_to_errno(r, errno);
        r = addrinfo_to_list(ai, ret);
        freeaddrinfo(ai);
        return r;
}

static void *worker(void *arg) {
        struct mql__resolve *j = arg;
        struct mql__addrlist *result = NULL;

        unsigned delay = __atomic_load_n(&test_delay_msec, __ATOMIC_RELAXED);
        if (delay > 0)
                nanosleep(&(struct timespec){ .tv_sec = delay / 1000,
                                              .tv_nsec = (long)(delay % 1000) * 1000000L },
                          NULL);

        int r = lookup(j->host, j->service, 0, &result);

        pthread_mutex_lock(&j->lock);
        j->done = true;
        j->error = r;
        j->result = result; /* freed with the job if nobody takes it */
        if (!j->cancelled)
                (void)eventfd_write(j->efd, 1);
        pthread_mutex_unlock(&j->lock);

        job_unref(j);
        return NULL;
}

static int worker_start(struct mql__resolve *j) {
        pthread_attr_t attr;
        pthread_t tid;
        sigset_t all, old;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

        /* The worker inherits our signal mask: block everything so that the
         * program's signals keep going to the threads that expect them. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = pthread_create(&tid, &attr, worker, j);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);

        /* pthread_create() says EAGAIN when out of threads; to our callers
         * -EAGAIN means "in progress", so report a resource shortage. */
        if (r == EAGAIN)
                return -ENOMEM;
        return -r;
}

int mql__resolve_start(const char *host, uint16_t port, struct mql__resolve **ret) {
        struct mql__resolve *j;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        __atomic_add_fetch(&jobs_alive, 1, __ATOMIC_RELAXED);
        j->n_ref = 1;
        j->efd = -1;
        pthread_mutex_init(&j->lock, NULL);
        snprintf(j->service, sizeof(j->service), "%u", (unsigned)port);

        j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (j->efd < 0) {
                r = -errno;
                job_unref(j);
                return r;
        }

        /* A literal never touches the network: answer at once. */
        r = lookup(host, j->service, AI_NUMERICHOST, &j->result);
        if (r == 0) {
                j->done = true;
                (void)eventfd_write(j->efd, 1);
                *ret = j;
                return 0;
        }

        j->host = strdup(host);
        if (!j->host) {
                job_unref(j);
                return -ENOMEM;
        }

        j->n_ref = 2;
        r = worker_start(j);
        if (r < 0) {
                j->n_ref = 1;
                job_unref(j);
                return r;
        }

        *ret = j;
        return 0;
}

int mql__resolve_fd(struct mql__resolve *j) {
        return j->efd;
}

int mql__resolve_result(struct mql__resolve *j, struct mql__addrlist **ret) {
        int r;

        pthread_mutex_lock(&j->lock);
        if (!j->done)
                r = -EAGAIN;
        else if (j->error < 0)
                r = j->error;
        else if (!j->result)
                r = -EALREADY; /* taken by an earlier call */
        else {
                *ret = TAKE_PTR(j->result);
                r = 0;
        }
        pthread_mutex_unlock(&j->lock);
        return r;
}

struct mql__resolve *mql__resolve_free(struct mql__resolve *j) {
        if (!j)
                return NULL;

        pthread_mutex_lock(&j->lock);
        j->cancelled = true;
        if (j->efd >= 0) {
                close(j->efd);
                j->efd = -1;
        }
        pthread_mutex_unlock(&j->lock);

        job_unref(j);
        return NULL;
}

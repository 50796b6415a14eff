/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Asynchronous name resolution: getaddrinfo() on a detached thread per
 * lookup, its completion signalled through an eventfd the caller polls.
 *
 * The caller may give up at any time (mql__resolve_free()) without waiting
 * for the thread: the job is refcounted between the two sides and whichever
 * finishes last frees it, the result included.
 */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* One address to connect() to. */
struct mql__addr {
        socklen_t len;
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
                struct sockaddr_un un;
        };
};

/* The result of a lookup, in getaddrinfo()'s order. One allocation: free(). */
struct mql__addrlist {
        size_t n;
        struct mql__addr addr[];
};

struct mql__resolve;

/*
 * Starts resolving host:port for a TCP connection. A numeric host (an IPv4
 * or IPv6 literal) cannot block, so it is resolved at once and the job is
 * born complete; anything else starts a thread. Returns 0, -ENOMEM, or the
 * errno of eventfd().
 */
int mql__resolve_start(const char *host, uint16_t port, struct mql__resolve **ret);

/* Becomes readable when the result is ready. */
int mql__resolve_fd(struct mql__resolve *r);

/*
 * Returns -EAGAIN while the lookup runs; 0 and the addresses in *ret (the
 * caller frees them) once done; or the lookup's failure: -ENOENT (no such
 * host, or no address for it), -EHOSTUNREACH (the name server could not be
 * reached, EAI_AGAIN/EAI_FAIL), -ENOMEM, another -errno. Never blocks.
 */
int mql__resolve_result(struct mql__resolve *r, struct mql__addrlist **ret);

/* Cancels the lookup if it still runs and drops the caller's reference; the
 * fd is closed now. Accepts NULL. Returns NULL. */
struct mql__resolve *mql__resolve_free(struct mql__resolve *r);

static inline void mql__resolve_freep(struct mql__resolve **r) {
        mql__resolve_free(*r);
}

/* Test hooks. A delay (ms) each worker sleeps before getaddrinfo(), so that
 * a test can act while a lookup is certainly under way; and the number of
 * jobs not yet freed, so that it can wait for abandoned workers to finish. */
void mql__resolve_set_test_delay(unsigned msec);
unsigned mql__resolve_jobs_alive(void);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Stream socket transports: TCP (resolved asynchronously, each address
 * tried in turn) and Unix domain sockets. Both follow the contract of
 * mqlink/transport.h to the letter; the TLS transport layers on top of the
 * TCP one.
 */

#include <stdint.h>

#include "mqlink/transport.h"

/* `host` (a name or an IP literal, copied) and `port` are only remembered:
 * nothing happens before connect(). Returns 0 or -ENOMEM. */
int mql__socket_new_tcp(const char *host, uint16_t port, struct mql_transport **ret);

/* `path` is copied. Returns 0, -ENOMEM, or -EINVAL if it does not fit in
 * sockaddr_un. */
int mql__socket_new_unix(const char *path, struct mql_transport **ret);

static inline void mql__transport_freep(struct mql_transport **t) {
        mql_transport_free(*t);
}
#define _cleanup_transport_ __attribute__((cleanup(mql__transport_freep)))

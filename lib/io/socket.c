/* SPDX-License-Identifier: MIT */
#include "io/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "io/resolve.h"
#include "util/log.h"
#include "util/macro.h"

/*
 *   IDLE ──connect()──▶ RESOLVING ──result──▶ CONNECTING ──SO_ERROR 0──▶ CONNECTED
 *     ▲                  (eventfd)      │      (socket, one address     │
 *     │                                 │       at a time; on failure,  │
 *     └──────── close() / failure ◀─────┴────── the next one) ◀─────────┘
 *
 * fd() follows the state: the resolver's eventfd, then each socket tried.
 * A Unix socket skips RESOLVING: its one address is known from the start.
 */

/* "[v6 address]:port", or a socket path. */
#define ADDR_STR_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path) + INET6_ADDRSTRLEN + 8)

enum state {
        ST_IDLE,
        ST_RESOLVING,
        ST_CONNECTING,
        ST_CONNECTED
};

struct sock {
        struct mql_transport head;

        bool is_unix;
        char *host; /* or the socket path */
        uint16_t port;

        enum state state;
        struct mql__resolve *resolve;
        struct mql__addrlist *addrs;
        size_t next;    /* index in addrs of the address to try next */
        int last_error; /* the failure of the last address tried */
        int fd;
        bool write_blocked;
};

static struct sock *sock_of(struct mql_transport *t) {
        return (struct sock *)t;
}

static const char *addr_str(const struct mql__addr *a, char *buf, size_t size) {
        char ip[INET6_ADDRSTRLEN];

        switch (a->sa.sa_family) {
        case AF_INET:
                inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip));
                snprintf(buf, size, "%s:%u", ip, ntohs(a->in.sin_port));
                break;
        case AF_INET6:
                inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
                snprintf(buf, size, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
                break;
        default:
                snprintf(buf, size, "%s", a->un.sun_path);
        }
        return buf;
}

static void sock_close(struct mql_transport *t) {
        struct sock *s = sock_of(t);

        s->resolve = mql__resolve_free(s->resolve);
        free(s->addrs);
        s->addrs = NULL;
        s->next = 0;
        if (s->fd >= 0) {
                close(s->fd);
                s->fd = -1;
        }
        s->write_blocked = false;
        s->state = ST_IDLE;
}

/* Starts a non-blocking connect() to one address. Returns 0 if connected
 * at once (Unix sockets, sometimes loopback), -EINPROGRESS if under way,
 * or the failure. */
static int try_one(struct sock *s, const struct mql__addr *a) {
        _cleanup_close_ int fd = -1;

        fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;

        if (a->sa.sa_family != AF_UNIX) {
                /* MQTT packets are small and latency-bound: a PUBACK must not
                 * wait for Nagle's timer. */
                int one = 1;
                (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }

        int r = connect(fd, &a->sa, a->len);
        if (r < 0 && errno == EAGAIN)
                /* There is no completion to wait for, and -EAGAIN would read
                 * as "under way" to our caller: a Unix socket whose listen
                 * backlog is full, or no local port left for TCP. */
                r = a->sa.sa_family == AF_UNIX ? -ECONNREFUSED : -EADDRNOTAVAIL;
        else if (r < 0)
                r = -errno;

        if (r == 0 || r == -EINPROGRESS)
                s->fd = TAKE_FD(fd);
        return r;
}

/* Walks the address list from s->next on. */
static int try_next(struct sock *s) {
        char buf[ADDR_STR_MAX];

        while (s->next < s->addrs->n) {
                const struct mql__addr *a = &s->addrs->addr[s->next++];
                int r = try_one(s, a);
                if (r == 0) {
                        log_debug("connected to %s", addr_str(a, buf, sizeof(buf)));
                        s->state = ST_CONNECTED;
                        return 0;
                }
                if (r == -EINPROGRESS) {
                        s->state = ST_CONNECTING;
                        return -EAGAIN;
                }
                log_debug("connecting to %s failed: %s", addr_str(a, buf, sizeof(buf)),
                          mql_strerror(r));
                s->last_error = r;
        }

        /* The errno says what went wrong; the log says where. Debug level:
         * the caller decides whether a failed attempt is worth more. */
        int r = s->last_error < 0 ? s->last_error : -ENOENT;
        log_debug("cannot connect to %s: %s", s->host, mql_strerror(r));
        sock_close(&s->head);
        return r;
}

static int connect_resolved(struct sock *s) {
        int r = mql__resolve_result(s->resolve, &s->addrs);
        if (r == -EAGAIN)
                return r;
        s->resolve = mql__resolve_free(s->resolve);
        if (r < 0) {
                log_debug("cannot resolve %s: %s", s->host, mql_strerror(r));
                sock_close(&s->head);
                return r;
        }
        s->next = 0;
        s->last_error = 0;
        return try_next(s);
}

/* Called again after EPOLLOUT, or spuriously: poll() tells us without
 * blocking whether the handshake is over, since SO_ERROR is 0 both while
 * it runs and once it has succeeded. */
static int connect_progress(struct sock *s) {
        char buf[ADDR_STR_MAX];
        struct pollfd p = { .fd = s->fd, .events = POLLOUT };
        int err = 0;
        socklen_t len = sizeof(err);

        if (poll(&p, 1, 0) <= 0)
                return -EAGAIN; /* not yet (or EINTR: look again later) */
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err == 0) {
                log_debug("connected to %s",
                          addr_str(&s->addrs->addr[s->next - 1], buf, sizeof(buf)));
                s->state = ST_CONNECTED;
                return 0;
        }

        log_debug("connecting to %s failed: %s",
                  addr_str(&s->addrs->addr[s->next - 1], buf, sizeof(buf)), mql_strerror(err));
        s->last_error = -err;
        close(s->fd);
        s->fd = -1;
        return try_next(s);
}

/* A Unix socket has one address, known from the start. */
static int unix_addrs(const char *path, struct mql__addrlist **ret) {
        size_t len = strlen(path);
        struct mql__addrlist *l = calloc(1, sizeof(*l) + sizeof(l->addr[0]));

        if (!l)
                return -ENOMEM;
        l->n = 1;
        l->addr[0].un.sun_family = AF_UNIX;
        memcpy(l->addr[0].un.sun_path, path, len + 1); /* fits: checked by the constructor */
        l->addr[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        *ret = l;
        return 0;
}

static int sock_connect(struct mql_transport *t) {
        struct sock *s = sock_of(t);
        int r;

        switch (s->state) {
        case ST_IDLE:
                s->last_error = 0;
                s->next = 0;
                if (s->is_unix) {
                        r = unix_addrs(s->host, &s->addrs);
                        if (r < 0)
                                return r;
                        return try_next(s);
                }
                r = mql__resolve_start(s->host, s->port, &s->resolve);
                if (r < 0)
                        return log_error_errno(r, "cannot start resolving %s: %s", s->host,
                                               mql_strerror(r));
                s->state = ST_RESOLVING;
                return connect_resolved(s);
        case ST_RESOLVING:
                return connect_resolved(s);
        case ST_CONNECTING:
                return connect_progress(s);
        case ST_CONNECTED:
                return 0;
        }
        return -EINVAL;
}

static ssize_t sock_read(struct mql_transport *t, void *buf, size_t len) {
        struct sock *s = sock_of(t);

        if (s->state != ST_CONNECTED)
                return -ENOTCONN;
        if (len == 0)
                return 0; /* recv() would say 0, which means EOF */

        for (;;) {
                ssize_t n = recv(s->fd, buf, len, MSG_DONTWAIT);
                if (n > 0)
                        return n;
                if (n == 0)
                        return -EPIPE;
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return 0;
                return -errno;
        }
}

static ssize_t sock_writev(struct mql_transport *t, const struct iovec *iov, int iovcnt) {
        struct sock *s = sock_of(t);
        struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
        size_t total = 0;

        if (s->state != ST_CONNECTED)
                return -ENOTCONN;
        if (iovcnt < 0)
                return -EINVAL;
        for (int i = 0; i < iovcnt; i++)
                total += iov[i].iov_len;
        if (total == 0)
                return 0;

        for (;;) {
                /* MSG_NOSIGNAL: a peer that went away must be an -EPIPE for
                 * us, not a SIGPIPE that kills the program. */
                ssize_t n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n >= 0) {
                        s->write_blocked = (size_t)n < total;
                        return n;
                }
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                        s->write_blocked = true;
                        return 0;
                }
                return -errno;
        }
}

static int sock_fd(struct mql_transport *t) {
        struct sock *s = sock_of(t);

        switch (s->state) {
        case ST_RESOLVING:
                return mql__resolve_fd(s->resolve);
        case ST_CONNECTING:
        case ST_CONNECTED:
                return s->fd;
        default:
                return -ENOTCONN;
        }
}

static uint32_t sock_events(struct mql_transport *t) {
        struct sock *s = sock_of(t);

        switch (s->state) {
        case ST_RESOLVING:
                return EPOLLIN;
        case ST_CONNECTING:
                return EPOLLOUT;
        case ST_CONNECTED:
                return EPOLLIN | (s->write_blocked ? EPOLLOUT : 0);
        default:
                return 0;
        }
}

static void sock_free(struct mql_transport *t) {
        struct sock *s = sock_of(t);

        sock_close(t);
        free(s->host);
        free(s);
}

static const struct mql_transport_ops tcp_ops = {
        .name = "tcp",
        .connect = sock_connect,
        .read = sock_read,
        .writev = sock_writev,
        .fd = sock_fd,
        .events = sock_events,
        .close = sock_close,
        .free = sock_free,
};

static const struct mql_transport_ops unix_ops = {
        .name = "unix",
        .connect = sock_connect,
        .read = sock_read,
        .writev = sock_writev,
        .fd = sock_fd,
        .events = sock_events,
        .close = sock_close,
        .free = sock_free,
};

static int sock_new(const struct mql_transport_ops *ops, const char *host, uint16_t port,
                    struct mql_transport **ret) {
        _cleanup_free_ struct sock *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = strdup(host);
        if (!s->host)
                return -ENOMEM;
        s->head.ops = ops;
        s->is_unix = ops == &unix_ops;
        s->port = port;
        s->fd = -1;
        s->state = ST_IDLE;
        *ret = &TAKE_PTR(s)->head;
        return 0;
}

int mql__socket_new_tcp(const char *host, uint16_t port, struct mql_transport **ret) {
        return sock_new(&tcp_ops, host, port, ret);
}

int mql__socket_new_unix(const char *path, struct mql_transport **ret) {
        if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
                return -EINVAL;
        return sock_new(&unix_ops, path, 0, ret);
}

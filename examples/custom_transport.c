/* SPDX-License-Identifier: MIT */
/*
 * custom_transport: a transport of your own (luamqtt's "connectors").
 *
 * The client speaks MQTT over any byte stream behind struct
 * mql_transport_ops (mqlink/transport.h). This one is a plain non-blocking
 * TCP socket to an IPv4 address, written out in full so that the contract
 * is visible:
 *
 *   connect  0 once connected, -EAGAIN while under way (the client waits
 *            for events() on fd() and calls again), -errno on failure
 *   read     bytes read, 0 if none now, -EPIPE when the peer closed
 *   writev   bytes taken (maybe fewer than offered), 0 if none now; the
 *            next call starts with the bytes not taken. Never SIGPIPE.
 *   fd       the fd to watch, or -ENOTCONN
 *   events   what to wait for now: EPOLLOUT while connecting, EPOLLIN
 *            once connected (+ EPOLLOUT after a short write)
 *   close    closes; connect() may start again (reconnects do)
 *   free     closes and frees
 *
 * The client asks transport_factory for a transport on every connection
 * attempt. A real one could be a serial line, a WebSocket, a pipe to a
 * test; a TCP one would resolve names off the loop thread (the library's
 * own does).
 *
 *     ./build/examples/custom_transport [mqtt://127.0.0.1:1883]
 *
 * Does what simple does (subscribe, publish, receive, disconnect) and
 * prints the bytes that went through the transport. Exit status 0 on
 * success.
 */
#define _GNU_SOURCE 1 /* MSG_NOSIGNAL, SOCK_NONBLOCK */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mqlink/client.h>
#include <mqlink/mqlink.h>

#define TOPIC "mqlink/example/custom_transport"

struct counters {
        size_t bytes_in;
        size_t bytes_out;
        unsigned transports;
};

struct tcp_transport {
        struct mql_transport base; /* first: the library holds a pointer to it */
        struct sockaddr_in addr;
        int fd;
        bool connected;
        bool short_write; /* the last writev() did not take everything */
        struct counters *counters;
};

static struct tcp_transport *tcp(struct mql_transport *t) {
        return (struct tcp_transport *)t;
}

static void tcp_close(struct mql_transport *t) {
        struct tcp_transport *tt = tcp(t);

        if (tt->fd >= 0)
                close(tt->fd);
        tt->fd = -1;
        tt->connected = false;
        tt->short_write = false;
}

static int tcp_connect(struct mql_transport *t) {
        struct tcp_transport *tt = tcp(t);
        int err = 0;
        socklen_t len = sizeof(err);

        if (tt->connected)
                return 0;
        if (tt->fd < 0) {
                tt->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (tt->fd < 0)
                        return -errno;
                if (connect(tt->fd, (struct sockaddr *)&tt->addr, sizeof(tt->addr)) == 0) {
                        tt->connected = true;
                        return 0;
                }
                if (errno == EINPROGRESS)
                        return -EAGAIN;
                err = errno;
                tcp_close(t);
                return -err;
        }
        /* Under way. Called before the socket is writable it must say
         * "not yet", not fail. */
        struct pollfd pfd = { .fd = tt->fd, .events = POLLOUT };
        if (poll(&pfd, 1, 0) == 0)
                return -EAGAIN;
        if (getsockopt(tt->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err) {
                tcp_close(t); /* a failed transport is closed */
                return -err;
        }
        tt->connected = true;
        return 0;
}

static ssize_t tcp_read(struct mql_transport *t, void *buf, size_t len) {
        struct tcp_transport *tt = tcp(t);

        if (!tt->connected)
                return -ENOTCONN;
        ssize_t n = recv(tt->fd, buf, len, MSG_DONTWAIT);
        if (n > 0) {
                tt->counters->bytes_in += (size_t)n;
                return n;
        }
        if (n == 0)
                return -EPIPE; /* the broker closed the stream */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
        return -errno;
}

static ssize_t tcp_writev(struct mql_transport *t, const struct iovec *iov, int iovcnt) {
        struct tcp_transport *tt = tcp(t);
        struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
        size_t want = 0;

        if (!tt->connected)
                return -ENOTCONN;
        for (int i = 0; i < iovcnt; i++)
                want += iov[i].iov_len;
        /* MSG_NOSIGNAL: a closed peer is -EPIPE, not a signal. */
        ssize_t n = sendmsg(tt->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                        tt->short_write = true;
                        return 0;
                }
                return -errno;
        }
        tt->short_write = (size_t)n < want;
        tt->counters->bytes_out += (size_t)n;
        return n;
}

static int tcp_fd(struct mql_transport *t) {
        return tcp(t)->fd >= 0 ? tcp(t)->fd : -ENOTCONN;
}

static uint32_t tcp_events(struct mql_transport *t) {
        struct tcp_transport *tt = tcp(t);

        if (tt->fd < 0)
                return 0;
        if (!tt->connected)
                return EPOLLOUT;
        return EPOLLIN | (tt->short_write ? EPOLLOUT : 0);
}

static void tcp_free(struct mql_transport *t) {
        tcp_close(t);
        free(tcp(t));
}

static const struct mql_transport_ops tcp_ops = {
        .name = "example-tcp",
        .connect = tcp_connect,
        .read = tcp_read,
        .writev = tcp_writev,
        .fd = tcp_fd,
        .events = tcp_events,
        .close = tcp_close,
        .free = tcp_free,
};

/* transport_factory: mqtt://IPv4[:port] only. */
static int make_transport(const char *uri, void *userdata, struct mql_transport **ret) {
        struct counters *counters = userdata;
        bool tls, is_unix;
        char *host = NULL;
        uint16_t port;

        int r = mql_uri_parse(uri, &tls, &is_unix, &host, &port);
        if (r < 0)
                return r;
        if (tls || is_unix) {
                free(host);
                return -EPROTONOSUPPORT;
        }
        struct tcp_transport *tt = calloc(1, sizeof(*tt));
        if (!tt) {
                free(host);
                return -ENOMEM;
        }
        tt->addr.sin_family = AF_INET;
        tt->addr.sin_port = htons(port);
        r = inet_pton(AF_INET, host, &tt->addr.sin_addr);
        free(host);
        if (r != 1) {
                free(tt);
                return -EINVAL; /* not an IPv4 address: no resolver here */
        }
        tt->base.ops = &tcp_ops;
        tt->fd = -1;
        tt->counters = counters;
        counters->transports++;
        *ret = &tt->base;
        return 0;
}

/* ---- the application: as simple.c ---- */

struct app {
        struct mql_loop *loop;
        struct counters counters;
        bool subscribed;
        int status;
};

static void on_subscribed(struct mql_session *s, const uint8_t *reasons, size_t n, int error,
                          void *userdata) {
        struct mql_client *c = mql_client_from_session(s);
        const struct mql_message msg = {
                .topic = mql_str_from(TOPIC),
                .payload = { (const uint8_t *)"through my own socket", 21 },
                .qos = 2,
        };

        if (error < 0 || n != 1 || reasons[0] >= 0x80 ||
            mql_client_publish(c, &msg, NULL, NULL) < 0)
                mql_client_disconnect(c, 0);
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct app *app = userdata;

        switch (state) {
        case MQL_CLIENT_CONNECTED:
                printf("connected to %s through the example transport\n", mql_client_get_uri(c));
                if (!app->subscribed) {
                        app->subscribed = true;
                        const struct mql_subscription sub = { .filter = mql_str_from(TOPIC),
                                                              .qos = 2 };
                        if (mql_client_subscribe(c, &sub, 1, NULL, on_subscribed, app) < 0)
                                mql_client_disconnect(c, 0);
                }
                break;
        case MQL_CLIENT_WAITING:
                fprintf(stderr, "custom_transport: %s; retrying\n",
                        error < 0 ? mql_strerror(error) : mql_reason_str((unsigned)error));
                break;
        case MQL_CLIENT_STOPPED:
                mql_loop_exit(app->loop, app->status);
                break;
        case MQL_CLIENT_CONNECTING:
                break;
        }
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        struct app *app = userdata;

        printf("received: %.*s\n", (int)msg->payload.len, (const char *)msg->payload.ptr);
        app->status = 0;
        mql_client_disconnect(c, 0);
}

int main(int argc, char **argv) {
        const char *uri = argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883";
        struct app app = { .status = 1 };
        struct mql_client *c = NULL;

        if (mql_loop_new(&app.loop) < 0)
                return 1;
        const struct mql_client_config cfg = {
                .uris = &uri,
                .n_uris = 1,
                .transport_factory = make_transport,
                .transport_userdata = &app.counters,
                .session = { .version = MQL_V5, .clean_start = true, .keepalive = 60 },
                .on_state = on_state,
                .on_message = on_message,
                .userdata = &app,
        };
        int r = mql_client_new(&cfg, &c);
        if (r < 0) {
                fprintf(stderr, "custom_transport: %s: %s\n", uri, mql_strerror(r));
                return 1;
        }
        mql_client_attach_loop(c, app.loop);
        mql_client_start(c);

        r = mql_loop_run(app.loop);

        mql_client_free(c);
        mql_loop_free(app.loop);
        printf("custom transport carried %zu bytes out, %zu bytes in (%u connection%s)\n",
               app.counters.bytes_out, app.counters.bytes_in, app.counters.transports,
               app.counters.transports == 1 ? "" : "s");
        return r == 0 && app.counters.bytes_in > 0 ? 0 : 1;
}

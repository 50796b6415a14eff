/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE 1
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "io/resolve.h"
#include "mqlink/mqlink.h"
#include "util/macro.h"

/*
 * The transports against servers of our own, on threads of this process:
 * 127.0.0.1 / ::1 / localhost on ephemeral ports and Unix sockets in a
 * temporary directory. The client side runs a tiny epoll loop of its own
 * that does what a loop integration must: re-read fd() and events() after
 * every call into the transport.
 *
 * SIGPIPE keeps its default action on the main thread, so a transport
 * that lets one through kills the test. The server threads block it.
 */

#define DEADLINE_MS 10000

static char dir[] = "/tmp/mqlink-transport-XXXXXX";
static bool have_certs;
static int epfd = -1;
static int registered_fd = -1;
static char last_log[512];
static unsigned blocked_writes; /* writev() calls that took less than offered */

static int64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void log_cb(int level, const char *msg, void *userdata) {
        if (level <= MQL_LOG_WARNING)
                snprintf(last_log, sizeof(last_log), "%s", msg);
        if (getenv("MQL_TEST_VERBOSE") || level <= MQL_LOG_WARNING)
                fprintf(stderr, "# mqlink<%d>: %s\n", level, msg);
}

/* The files of the temporary directory, named once in group_setup(). */
enum {
        F_CA,
        F_WRONG_CA,
        F_SERVER_CERT,
        F_SERVER_KEY,
        F_CLIENT_CERT,
        F_CLIENT_KEY,
        F_CNF,
        F_ECHO_SOCK,
        F_MISSING_SOCK,
        _F_MAX,
};
static const char *const file_names[_F_MAX] = {
        [F_CA] = "ca.pem",
        [F_WRONG_CA] = "wrong-ca.pem",
        [F_SERVER_CERT] = "server.pem",
        [F_SERVER_KEY] = "server.key",
        [F_CLIENT_CERT] = "client.pem",
        [F_CLIENT_KEY] = "client.key",
        [F_CNF] = "openssl.cnf",
        [F_ECHO_SOCK] = "echo.sock",
        [F_MISSING_SOCK] = "missing.sock",
};
static char files[_F_MAX][PATH_MAX];

/* ------------------------------------------------------------ the loop */

/* Waits for the transport's fd, with its events plus `extra`. */
static void wait_transport(struct mql_transport *t, uint32_t extra, int64_t deadline) {
        int fd = mql_transport_fd(t);
        uint32_t events = mql_transport_events(t) | extra;
        struct epoll_event ev = { .events = events, .data.fd = fd };

        assert_true(fd >= 0);
        assert_true(events != 0);
        if (registered_fd >= 0)
                (void)epoll_ctl(epfd, EPOLL_CTL_DEL, registered_fd, NULL);
        assert_int_equal(epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev), 0);
        registered_fd = fd;

        int64_t left = (deadline - now_us()) / 1000;
        if (left <= 0)
                fail_msg("timed out");
        int n = epoll_wait(epfd, &ev, 1, (int)left);
        if (n == 0)
                fail_msg("timed out waiting for fd %d (events %#x)", fd, events);
        assert_int_equal(n, 1);
}

static void loop_forget(void) {
        if (registered_fd >= 0)
                (void)epoll_ctl(epfd, EPOLL_CTL_DEL, registered_fd, NULL);
        registered_fd = -1;
}

static int drive_connect(struct mql_transport *t) {
        int64_t deadline = now_us() + DEADLINE_MS * 1000LL;
        int r;

        while ((r = mql_transport_connect(t)) == -EAGAIN)
                wait_transport(t, 0, deadline);
        loop_forget();
        return r;
}

/* Writes and reads at once, the way a client must so that neither side's
 * buffers fill up, cutting the iovecs at a different place on each call. */
static void echo_roundtrip(struct mql_transport *t, size_t size) {
        _cleanup_free_ uint8_t *out = malloc(size);
        _cleanup_free_ uint8_t *in = malloc(size);
        int64_t deadline = now_us() + 20 * 1000000LL;
        size_t sent = 0, got = 0;
        unsigned round = 0;

        assert_non_null(out);
        assert_non_null(in);
        for (size_t i = 0; i < size; i++)
                out[i] = (uint8_t)(i * 7 + i / 251);

        while (got < size) {
                bool progress = false;

                if (sent < size) {
                        size_t left = size - sent;
                        size_t cut = (round++ * 977u) % (left + 1);
                        struct iovec iov[2] = {
                                { out + sent, cut },
                                { out + sent + cut, left - cut },
                        };
                        ssize_t n = mql_transport_writev(t, iov, 2);
                        if (n < 0)
                                fail_msg("writev: %s", mql_strerror((int)n));
                        if ((size_t)n < left) {
                                blocked_writes++;
                                assert_true(mql_transport_events(t) & EPOLLOUT);
                        }
                        sent += (size_t)n;
                        progress |= n > 0;
                }
                for (;;) {
                        ssize_t n = mql_transport_read(t, in + got, size - got);
                        if (n < 0)
                                fail_msg("read: %s", mql_strerror((int)n));
                        if (n == 0)
                                break;
                        got += (size_t)n;
                        progress = true;
                }
                if (!progress)
                        wait_transport(t, sent < size ? EPOLLOUT : 0, deadline);
        }
        loop_forget();
        assert_memory_equal(in, out, size);
}

/* Reads until the transport fails; returns the error. */
static int read_until_error(struct mql_transport *t) {
        int64_t deadline = now_us() + DEADLINE_MS * 1000LL;
        char buf[256];

        for (;;) {
                ssize_t n = mql_transport_read(t, buf, sizeof(buf));
                if (n < 0) {
                        loop_forget();
                        return (int)n;
                }
                if (n == 0)
                        wait_transport(t, 0, deadline);
        }
}

static void wait_no_jobs(void) {
        int64_t deadline = now_us() + 5 * 1000000LL;

        while (mql__resolve_jobs_alive() > 0) {
                if (now_us() > deadline)
                        fail_msg("%u resolver jobs still alive", mql__resolve_jobs_alive());
                usleep(1000);
        }
}

static bool fd_is_eventfd(int fd) {
        char link[64], target[64] = "";

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        return n > 0 && strstr(target, "eventfd");
}

/* --------------------------------------------------------- the servers */

enum mode {
        MODE_ECHO,  /* echo until EOF */
        MODE_CLOSE, /* close right after accept (and the TLS handshake) */
        MODE_RESET, /* TLS: close the TCP connection without close_notify */
        MODE_SLOW,  /* echo, from a small receive buffer after a pause: the
                     * client's writes block */
};

struct server {
        int lfd;
        uint16_t port;
        enum mode mode;
        SSL_CTX *ctx; /* TLS when set */
        pthread_t thread;

        /* results, read after join */
        bool accepted;
        bool handshake_ok;
        bool client_cert;
        char alpn[32];
};

static void block_sigpipe(void) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void set_timeouts(int fd) {
        struct timeval tv = { .tv_sec = DEADLINE_MS / 1000 };
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void pause_if_slow(struct server *s) {
        if (s->mode == MODE_SLOW)
                usleep(200 * 1000);
}

static void serve_plain(struct server *s, int fd) {
        char buf[16384];

        if (s->mode != MODE_ECHO && s->mode != MODE_SLOW)
                return;
        pause_if_slow(s);
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0)
                        return;
                for (ssize_t o = 0; o < n;) {
                        ssize_t w = send(fd, buf + o, (size_t)(n - o), MSG_NOSIGNAL);
                        if (w <= 0)
                                return;
                        o += w;
                }
        }
}

static void serve_tls(struct server *s, int fd) {
        char buf[16384];
        SSL *ssl = SSL_new(s->ctx);

        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
                goto out;
        s->handshake_ok = true;
        s->client_cert = SSL_get0_peer_certificate(ssl) != NULL;
        const unsigned char *alpn;
        unsigned alpn_len;
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        snprintf(s->alpn, sizeof(s->alpn), "%.*s", (int)alpn_len, alpn ? (const char *)alpn : "");

        switch (s->mode) {
        case MODE_CLOSE:
                SSL_shutdown(ssl);
                goto out;
        case MODE_RESET:
                goto out;
        case MODE_ECHO:
        case MODE_SLOW:
                break;
        }
        pause_if_slow(s);
        for (;;) {
                int n = SSL_read(ssl, buf, sizeof(buf));
                if (n <= 0)
                        break;
                if (SSL_write(ssl, buf, n) != n)
                        break;
        }
        SSL_shutdown(ssl);
out:
        SSL_free(ssl);
        ERR_clear_error();
}

static void *server_main(void *arg) {
        struct server *s = arg;

        block_sigpipe();
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        s->accepted = true;
        set_timeouts(fd);
        if (s->ctx)
                serve_tls(s, fd);
        else
                serve_plain(s, fd);
        close(fd);
        return NULL;
}

static void server_run(struct server *s) {
        set_timeouts(s->lfd); /* accept() gives up too, if no client comes */
        if (s->mode == MODE_SLOW) {
                /* Inherited by the accepted socket. */
                int size = 4096;
                assert_int_equal(setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)), 0);
        }
        assert_int_equal(listen(s->lfd, 8), 0);
        assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* Returns false if the address family is not available here. */
static bool server_start_tcp(struct server *s, int family, enum mode mode, SSL_CTX *ctx) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } a = { 0 };
        socklen_t len;

        *s = (struct server){ .mode = mode, .ctx = ctx };
        s->lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->lfd < 0)
                return false;
        if (family == AF_INET) {
                a.in.sin_family = AF_INET;
                a.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof(a.in);
        } else {
                a.in6.sin6_family = AF_INET6;
                a.in6.sin6_addr = in6addr_loopback;
                len = sizeof(a.in6);
        }
        if (bind(s->lfd, &a.sa, len) < 0) {
                close(s->lfd);
                return false;
        }
        assert_int_equal(getsockname(s->lfd, &a.sa, &len), 0);
        s->port = ntohs(family == AF_INET ? a.in.sin_port : a.in6.sin6_port);
        server_run(s);
        return true;
}

static void server_start_unix(struct server *s, const char *path, enum mode mode) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };

        *s = (struct server){ .mode = mode };
        assert_true(strlen(path) < sizeof(a.sun_path));
        memcpy(a.sun_path, path, strlen(path) + 1);
        unlink(path);
        s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->lfd >= 0);
        assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        server_run(s);
}

static void server_join(struct server *s) {
        pthread_join(s->thread, NULL);
        close(s->lfd);
        SSL_CTX_free(s->ctx);
        s->ctx = NULL;
}

/* A port nothing listens on (bound, then released). */
static uint16_t closed_port(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static struct mql_transport *new_transport(const char *fmt, const struct mql_tls_config *tls, ...) {
        char uri[PATH_MAX + 32];
        struct mql_transport *t = NULL;
        va_list ap;

        va_start(ap, tls);
        vsnprintf(uri, sizeof(uri), fmt, ap);
        va_end(ap);
        int r = mql_transport_new_uri(uri, tls, &t);
        if (r < 0)
                fail_msg("%s: %s", uri, mql_strerror(r));
        return t;
}

/* ----------------------------------------------------------- TCP, Unix */

static void test_tcp_echo(void **state) {
        static struct server s; /* outlives a failed test: its thread may still run */

        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, NULL));
        struct mql_transport *t = new_transport("mqtt://127.0.0.1:%u", NULL, s.port);
        assert_string_equal(t->ops->name, "tcp");

        /* An IP literal needs no lookup: straight to the socket. */
        int r = mql_transport_connect(t);
        assert_true(r == 0 || r == -EAGAIN);
        assert_false(fd_is_eventfd(mql_transport_fd(t)));
        assert_int_equal(drive_connect(t), 0);
        assert_int_equal(mql_transport_connect(t), 0); /* idempotent */
        assert_int_equal(mql_transport_events(t) & EPOLLIN, EPOLLIN);

        echo_roundtrip(t, 5);
        echo_roundtrip(t, 4 << 20);
        mql_transport_free(t);
        server_join(&s);
        assert_true(s.accepted);

        /* A peer that reads late and little: writev() must say 0 and
         * events() must then ask for EPOLLOUT. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_SLOW, NULL));
        t = new_transport("mqtt://127.0.0.1:%u", NULL, s.port);
        assert_int_equal(drive_connect(t), 0);
        blocked_writes = 0;
        echo_roundtrip(t, 4 << 20);
        assert_true(blocked_writes > 0);
        mql_transport_free(t);
        server_join(&s);
}

static void test_tcp6_echo(void **state) {
        static struct server s; /* outlives a failed test: its thread may still run */

        if (!server_start_tcp(&s, AF_INET6, MODE_ECHO, NULL))
                skip(); /* no IPv6 loopback here */
        struct mql_transport *t = new_transport("mqtt://[::1]:%u", NULL, s.port);
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 100000);
        mql_transport_free(t);
        server_join(&s);
}

static void test_localhost_resolver(void **state) {
        static struct server s; /* outlives a failed test: its thread may still run */

        /* Listening on 127.0.0.1 only: where localhost also resolves to ::1,
         * that address is refused first and the next one is tried. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, NULL));
        struct mql_transport *t = new_transport("mqtt://localhost:%u", NULL, s.port);

        assert_true(mql_transport_fd(t) < 0);
        assert_int_equal(mql_transport_events(t), 0);
        /* A resolver may answer before connect() returns: hold it back so
         * that the eventfd phase is certain to be seen. */
        mql__resolve_set_test_delay(50);
        int r = mql_transport_connect(t);
        mql__resolve_set_test_delay(0);
        assert_int_equal(r, -EAGAIN);
        assert_true(fd_is_eventfd(mql_transport_fd(t)));
        assert_int_equal(mql_transport_events(t), EPOLLIN);

        assert_int_equal(drive_connect(t), 0);
        assert_false(fd_is_eventfd(mql_transport_fd(t)));
        echo_roundtrip(t, 1000);

        /* close() and connect() again: a fresh lookup. */
        mql_transport_close(t);
        assert_true(mql_transport_fd(t) < 0);
        assert_int_equal(mql_transport_read(t, (char[1]){ 0 }, 1), -ENOTCONN);
        mql_transport_free(t);
        server_join(&s);
        wait_no_jobs();
}

static void test_refused(void **state) {
        uint16_t port = closed_port();

        struct mql_transport *t = new_transport("mqtt://127.0.0.1:%u", NULL, port);
        assert_int_equal(drive_connect(t), -ECONNREFUSED);
        assert_true(mql_transport_fd(t) < 0); /* closed after the failure */
        /* and it may start over */
        assert_int_equal(drive_connect(t), -ECONNREFUSED);
        mql_transport_free(t);

        t = new_transport("mqtt://localhost:%u", NULL, port);
        assert_int_equal(drive_connect(t), -ECONNREFUSED);
        mql_transport_free(t);

        const struct mql_tls_config insecure = { .insecure = true };
        t = new_transport("mqtts://127.0.0.1:%u", &insecure, port);
        assert_int_equal(drive_connect(t), -ECONNREFUSED);
        mql_transport_free(t);
        wait_no_jobs();
}

static void test_unknown_host(void **state) {
        /* Make sure the lookup is still running when connect() returns. */
        mql__resolve_set_test_delay(300);
        struct mql_transport *t = new_transport("mqtt://nonexistent.invalid:1883", NULL);

        int64_t t0 = now_us();
        int r = mql_transport_connect(t);
        int64_t dt = now_us() - t0;
        assert_int_equal(r, -EAGAIN);
        if (dt > 20000)
                fail_msg("connect() blocked for %lld µs", (long long)dt);

        /* Calling again early is harmless and does not block either. */
        t0 = now_us();
        assert_int_equal(mql_transport_connect(t), -EAGAIN);
        assert_true(now_us() - t0 < 20000);
        assert_true(fd_is_eventfd(mql_transport_fd(t)));

        assert_int_equal(drive_connect(t), -ENOENT);
        assert_true(now_us() - t0 >= 250000);
        assert_true(mql_transport_fd(t) < 0);

        /* Without the delay, through TLS as well. */
        mql__resolve_set_test_delay(0);
        assert_int_equal(drive_connect(t), -ENOENT);
        mql_transport_free(t);

        t = new_transport("mqtts://nonexistent.invalid", NULL);
        assert_int_equal(drive_connect(t), -ENOENT);
        mql_transport_free(t);
        wait_no_jobs();
}

static void test_free_while_resolving(void **state) {
        /* The worker outlives the transport: it must free the job alone. */
        mql__resolve_set_test_delay(200);
        struct mql_transport *t = new_transport("mqtt://localhost:1883", NULL);
        assert_int_equal(mql_transport_connect(t), -EAGAIN);
        assert_int_equal(mql__resolve_jobs_alive(), 1);
        int64_t t0 = now_us();
        mql_transport_free(t);
        assert_true(now_us() - t0 < 20000); /* no join */
        assert_int_equal(mql__resolve_jobs_alive(), 1);
        wait_no_jobs();

        /* close() while resolving, then connect() again. */
        static struct server s; /* outlives a failed test: its thread may still run */
        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, NULL));
        t = new_transport("mqtt://localhost:%u", NULL, s.port);
        assert_int_equal(mql_transport_connect(t), -EAGAIN);
        mql_transport_close(t);
        assert_true(mql_transport_fd(t) < 0);
        mql__resolve_set_test_delay(0);
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 10);
        mql_transport_free(t);
        server_join(&s);
        wait_no_jobs();

        /* The other order: the lookup is done but nobody collected it. */
        mql__resolve_set_test_delay(20);
        t = new_transport("mqtt://localhost:1883", NULL);
        assert_int_equal(mql_transport_connect(t), -EAGAIN);
        assert_true(fd_is_eventfd(mql_transport_fd(t)));
        struct pollfd p = { .fd = mql_transport_fd(t), .events = POLLIN };
        assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
        mql_transport_free(t);
        wait_no_jobs();

        /* Many at once. */
        mql__resolve_set_test_delay(50);
        struct mql_transport *many[32];
        for (size_t i = 0; i < ELEMENTSOF(many); i++) {
                many[i] = new_transport("mqtt://localhost:1883", NULL);
                assert_int_equal(mql_transport_connect(many[i]), -EAGAIN);
        }
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                mql_transport_free(many[i]);
        mql__resolve_set_test_delay(0);
        wait_no_jobs();
}

static void test_eof(void **state) {
        static struct server s; /* outlives a failed test: its thread may still run */

        assert_true(server_start_tcp(&s, AF_INET, MODE_CLOSE, NULL));
        struct mql_transport *t = new_transport("mqtt://127.0.0.1:%u", NULL, s.port);
        assert_int_equal(drive_connect(t), 0);
        assert_int_equal(read_until_error(t), -EPIPE);
        server_join(&s);

        /* Writing to the closed peer: an error, not SIGPIPE. */
        int r = 0;
        for (int i = 0; i < 100 && r >= 0; i++) {
                struct iovec iov = { .iov_base = (char *)"x", .iov_len = 1 };
                r = (int)mql_transport_writev(t, &iov, 1);
                usleep(1000);
        }
        assert_true(r == -EPIPE || r == -ECONNRESET);
        mql_transport_free(t);
}

static void test_unix(void **state) {
        const char *path = files[F_ECHO_SOCK];
        static struct server s; /* outlives a failed test: its thread may still run */

        server_start_unix(&s, path, MODE_ECHO);
        struct mql_transport *t = new_transport("unix://%s", NULL, path);
        assert_string_equal(t->ops->name, "unix");
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 7);
        echo_roundtrip(t, 1 << 20);
        mql_transport_free(t);
        server_join(&s);

        /* The socket file outlives its listener: refused. */
        t = new_transport("unix://%s", NULL, path);
        assert_int_equal(drive_connect(t), -ECONNREFUSED);
        mql_transport_free(t);

        t = new_transport("unix://%s", NULL, files[F_MISSING_SOCK]);
        assert_int_equal(drive_connect(t), -ENOENT);
        mql_transport_free(t);

        server_start_unix(&s, path, MODE_CLOSE);
        t = new_transport("unix://%s", NULL, path);
        assert_int_equal(drive_connect(t), 0);
        assert_int_equal(read_until_error(t), -EPIPE);
        mql_transport_free(t);
        server_join(&s);
}

/* ----------------------------------------------------------------- TLS */

static int run(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;

        va_start(ap, fmt);
        int n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", dir);
        vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
        va_end(ap);
        strncat(cmd, " >>openssl.log 2>&1", sizeof(cmd) - strlen(cmd) - 1);
        return system(cmd);
}

/* clang-format off */
static const char openssl_cnf[] =
        "[req]\n"
        "distinguished_name = dn\n"
        "prompt = no\n"
        "[dn]\n"
        "CN = unused\n"
        "[v3_ca]\n"
        "basicConstraints = critical,CA:TRUE\n"
        "keyUsage = critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier = hash\n"
        "[server]\n"
        "basicConstraints = CA:FALSE\n"
        "keyUsage = critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost\n"
        "[client]\n"
        "basicConstraints = CA:FALSE\n"
        "keyUsage = critical,digitalSignature\n"
        "extendedKeyUsage = clientAuth\n";
/* clang-format on */

#define NEWKEY "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

static bool make_certs(void) {
        if (system("openssl version >/dev/null 2>&1") != 0)
                return false;

        FILE *f = fopen(files[F_CNF], "we");
        if (!f)
                return false;
        fputs(openssl_cnf, f);
        fclose(f);

        return run("openssl req -x509 -config openssl.cnf -extensions v3_ca " NEWKEY
                   " -keyout ca.key -out ca.pem -days 2 -subj '/CN=mqlink test CA'") == 0 &&
               run("openssl req -x509 -config openssl.cnf -extensions v3_ca " NEWKEY
                   " -keyout wrong-ca.key -out wrong-ca.pem -days 2 -subj '/CN=mqlink wrong CA'") ==
                       0 &&
               run("openssl req -new -config openssl.cnf " NEWKEY
                   " -keyout server.key -out server.csr -subj '/CN=127.0.0.1'") == 0 &&
               run("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2"
                   " -days 2 -extfile openssl.cnf -extensions server -out server.pem") == 0 &&
               run("openssl req -new -config openssl.cnf " NEWKEY
                   " -keyout client.key -out client.csr -subj '/CN=mqlink test client'") == 0 &&
               run("openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 3"
                   " -days 2 -extfile openssl.cnf -extensions client -out client.pem") == 0;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg) {
        static const unsigned char mqtt[] = "\x04mqtt";
        if (SSL_select_next_proto((unsigned char **)out, outlen, mqtt, sizeof(mqtt) - 1, in,
                                  inlen) != OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_NOACK;
        return SSL_TLSEXT_ERR_OK;
}

enum {
        SRV_REQUIRE_CLIENT_CERT = 1 << 0,
        SRV_TLS11_ONLY = 1 << 1,
};

static SSL_CTX *server_ctx(unsigned flags) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

        assert_non_null(ctx);
        assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, files[F_SERVER_CERT]), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, files[F_SERVER_KEY], SSL_FILETYPE_PEM),
                         1);
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
        if (flags & SRV_REQUIRE_CLIENT_CERT) {
                assert_int_equal(SSL_CTX_load_verify_locations(ctx, files[F_CA], NULL), 1);
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
        if (flags & SRV_TLS11_ONLY) {
                /* OpenSSL 3 allows TLS 1.1 at security level 0 only. */
                SSL_CTX_set_security_level(ctx, 0);
                SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
                SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
        }
        return ctx;
}

static void tls_skip_unless_certs(void) {
        if (!have_certs)
                skip();
}

static void test_tls_echo(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = { .ca_file = files[F_CA], .alpn = "mqtt" };
        static struct server s; /* outlives a failed test: its thread may still run */

        /* An IP literal: verified against the certificate's IP SAN. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(0)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        assert_string_equal(t->ops->name, "tls");
        assert_int_equal(drive_connect(t), 0);
        assert_int_equal(mql_transport_connect(t), 0);
        echo_roundtrip(t, 1);
        echo_roundtrip(t, 3 << 20);
        mql_transport_free(t);
        server_join(&s);
        assert_true(s.handshake_ok);
        assert_string_equal(s.alpn, "mqtt");
        assert_false(s.client_cert);

        /* A name, through the resolver: verified against the DNS SAN, sent
         * as SNI. No ALPN offered this time. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(0)));
        const struct mql_tls_config by_name = { .ca_file = files[F_CA] };
        t = new_transport("mqtts://localhost:%u", &by_name, s.port);
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 100000);
        mql_transport_free(t);
        server_join(&s);
        assert_true(s.handshake_ok);
        assert_string_equal(s.alpn, "");
        wait_no_jobs();

        /* A slow reader: SSL_write() wants to write, the retry must hand
         * OpenSSL the same bytes although the iovecs are cut differently. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_SLOW, server_ctx(0)));
        t = new_transport("mqtts://127.0.0.1:%u", &by_name, s.port);
        assert_int_equal(drive_connect(t), 0);
        blocked_writes = 0;
        echo_roundtrip(t, 4 << 20);
        assert_true(blocked_writes > 0);
        mql_transport_free(t);
        server_join(&s);
}

static void test_tls_reconnect(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = { .ca_file = files[F_CA] };
        static struct server s; /* outlives a failed test: its thread may still run */

        /* One transport, two connections to the same server port: the
         * listener accepts twice. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(0)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 1000);
        mql_transport_close(t); /* sends close_notify: the server's echo ends */
        pthread_join(s.thread, NULL);
        assert_true(s.handshake_ok);

        s.handshake_ok = false;
        assert_int_equal(pthread_create(&s.thread, NULL, server_main, &s), 0);
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 1000);
        mql_transport_free(t);
        server_join(&s);
        assert_true(s.handshake_ok);
}

static void test_tls_wrong_ca(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = { .ca_file = files[F_WRONG_CA] };
        static struct server s; /* outlives a failed test: its thread may still run */

        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(0)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        last_log[0] = 0;
        assert_int_equal(drive_connect(t), -EKEYREJECTED);
        assert_non_null(strstr(last_log, "issuer certificate"));
        assert_true(mql_transport_fd(t) < 0);
        mql_transport_free(t);
        server_join(&s);
        assert_false(s.handshake_ok);
}

static void test_tls_hostname_mismatch(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = {
                .ca_file = files[F_CA],
                .server_name = "wrong.example",
        };
        static struct server s; /* outlives a failed test: its thread may still run */

        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(0)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        last_log[0] = 0;
        assert_int_equal(drive_connect(t), -EKEYREJECTED);
        assert_non_null(strstr(last_log, "mismatch"));
        mql_transport_free(t);
        server_join(&s);

        /* An IP the certificate does not list. */
        const struct mql_tls_config ip = {
                .ca_file = files[F_CA],
                .server_name = "127.0.0.2",
        };
        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(0)));
        t = new_transport("mqtts://127.0.0.1:%u", &ip, s.port);
        assert_int_equal(drive_connect(t), -EKEYREJECTED);
        mql_transport_free(t);
        server_join(&s);
}

static void test_tls_insecure(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = {
                .ca_file = files[F_WRONG_CA],
                .server_name = "wrong.example",
                .insecure = true,
        };
        static struct server s; /* outlives a failed test: its thread may still run */

        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(0)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 5000);
        mql_transport_free(t);
        server_join(&s);
        assert_true(s.handshake_ok);
}

static void test_tls_client_cert(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = {
                .ca_file = files[F_CA],
                .cert_file = files[F_CLIENT_CERT],
                .key_file = files[F_CLIENT_KEY],
        };
        static struct server s; /* outlives a failed test: its thread may still run */

        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(SRV_REQUIRE_CLIENT_CERT)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        assert_int_equal(drive_connect(t), 0);
        echo_roundtrip(t, 5000);
        mql_transport_free(t);
        server_join(&s);
        assert_true(s.handshake_ok);
        assert_true(s.client_cert);
}

static void test_tls_client_cert_missing(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = { .ca_file = files[F_CA] };
        static struct server s; /* outlives a failed test: its thread may still run */

        /* In TLS 1.3 the client finishes its handshake before the server
         * has judged its (absent) certificate: the refusal, an alert,
         * arrives on the first read. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(SRV_REQUIRE_CLIENT_CERT)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        int r = drive_connect(t);
        if (r == 0)
                r = read_until_error(t);
        assert_int_equal(r, -EPROTO);
        mql_transport_free(t);
        server_join(&s);
        assert_false(s.handshake_ok);
}

/* A blocking OpenSSL client that accepts TLS 1.1: proves the server below
 * really speaks it, so that the refusal is ours. */
static bool tls11_client_works(uint16_t port) {
        struct sockaddr_in a = {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        bool ok = false;

        assert_non_null(ctx);
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        set_timeouts(fd);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
                SSL *ssl = SSL_new(ctx);
                SSL_set_fd(ssl, fd);
                ok = SSL_connect(ssl) == 1 && SSL_version(ssl) == TLS1_1_VERSION;
                SSL_free(ssl);
        }
        close(fd);
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return ok;
}

static void test_tls11_refused(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = { .ca_file = files[F_CA] };
        static struct server s; /* outlives a failed test: its thread may still run */

        assert_true(server_start_tcp(&s, AF_INET, MODE_CLOSE, server_ctx(SRV_TLS11_ONLY)));
        bool speaks_tls11 = tls11_client_works(s.port);
        server_join(&s);
        if (!speaks_tls11)
                fprintf(stderr, "# this OpenSSL cannot do TLS 1.1 at all: a weaker test\n");

        assert_true(server_start_tcp(&s, AF_INET, MODE_ECHO, server_ctx(SRV_TLS11_ONLY)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        last_log[0] = 0;
        assert_int_equal(drive_connect(t), -EPROTO);
        assert_true(last_log[0] != 0);
        mql_transport_free(t);
        server_join(&s);
        assert_false(s.handshake_ok);
}

static void test_tls_eof(void **state) {
        tls_skip_unless_certs();
        const struct mql_tls_config cfg = { .ca_file = files[F_CA] };
        static struct server s; /* outlives a failed test: its thread may still run */

        /* close_notify, then the TCP close */
        assert_true(server_start_tcp(&s, AF_INET, MODE_CLOSE, server_ctx(0)));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        assert_int_equal(drive_connect(t), 0);
        assert_int_equal(read_until_error(t), -EPIPE);
        mql_transport_free(t);
        server_join(&s);

        /* the TCP close alone */
        assert_true(server_start_tcp(&s, AF_INET, MODE_RESET, server_ctx(0)));
        t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        assert_int_equal(drive_connect(t), 0);
        assert_int_equal(read_until_error(t), -EPIPE);
        mql_transport_free(t);
        server_join(&s);
}

static void test_tls_not_tls(void **state) {
        const struct mql_tls_config cfg = { .insecure = true };
        static struct server s; /* outlives a failed test: its thread may still run */

        /* A plain server that hangs up on the ClientHello. */
        assert_true(server_start_tcp(&s, AF_INET, MODE_CLOSE, NULL));
        struct mql_transport *t = new_transport("mqtts://127.0.0.1:%u", &cfg, s.port);
        int r = drive_connect(t);
        assert_true(r == -ECONNRESET || r == -EPIPE);
        mql_transport_free(t);
        server_join(&s);
}

/* ---------------------------------------------------------------- main */

static int group_setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        for (size_t i = 0; i < _F_MAX; i++)
                snprintf(files[i], sizeof(files[i]), "%s/%s", dir, file_names[i]);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0)
                return -1;
        mql_log_set(log_cb, MQL_LOG_DEBUG, NULL);
        have_certs = make_certs();
        if (!have_certs)
                fprintf(stderr, "# openssl(1) unavailable or failing: TLS tests skipped\n");
        return 0;
}

static int group_teardown(void **state) {
        char cmd[PATH_MAX + 16];

        close(epfd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tcp_echo),
                cmocka_unit_test(test_tcp6_echo),
                cmocka_unit_test(test_localhost_resolver),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_unknown_host),
                cmocka_unit_test(test_free_while_resolving),
                cmocka_unit_test(test_eof),
                cmocka_unit_test(test_unix),
                cmocka_unit_test(test_tls_echo),
                cmocka_unit_test(test_tls_reconnect),
                cmocka_unit_test(test_tls_wrong_ca),
                cmocka_unit_test(test_tls_hostname_mismatch),
                cmocka_unit_test(test_tls_insecure),
                cmocka_unit_test(test_tls_client_cert),
                cmocka_unit_test(test_tls_client_cert_missing),
                cmocka_unit_test(test_tls11_refused),
                cmocka_unit_test(test_tls_eof),
                cmocka_unit_test(test_tls_not_tls),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

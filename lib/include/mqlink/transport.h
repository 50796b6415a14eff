/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Transports: the byte streams a client speaks MQTT over. One small vtable,
 * so that a program can bring its own (luamqtt's "connectors"): a serial
 * line, a WebSocket, an in-memory pipe for tests.
 *
 * Every operation is non-blocking and returns >= 0 or a negative errno:
 *   connect   0 when connected (again 0 if called once connected), -EAGAIN
 *             while still under way (wait for events() on fd() and call it
 *             again; a call before the fd is ready is harmless), another
 *             -errno on failure (-EHOSTUNREACH, -ECONNREFUSED, -ETIMEDOUT,
 *             -ENOENT for an unknown host or a missing Unix socket,
 *             -EKEYREJECTED for a TLS verification failure, -EPROTO for
 *             another TLS failure). A failed transport is closed and
 *             connect() may start over. There is no timeout of its own
 *             beyond the kernel's: the caller bounds the attempt and calls
 *             close().
 *   read      bytes read (> 0), 0 if nothing is available now, -EPIPE when
 *             the peer closed the stream, -ENOTCONN before connect() has
 *             succeeded, another -errno on failure. A transport may hold
 *             bytes the fd no longer signals (TLS decrypts whole records):
 *             after the fd is ready, call read() until it returns 0.
 *   writev    bytes written (> 0, possibly fewer than offered), 0 if the
 *             stream cannot take any now, -EPIPE / another -errno on
 *             failure (never SIGPIPE). After 0 or a short count, the next
 *             call must begin with the bytes not taken (more may follow,
 *             the iovec split may differ): TLS has already committed to
 *             them.
 * fd() may change while connecting (a resolver's eventfd, then each socket
 * tried in turn): a loop integration re-reads fd() and events() after every
 * call into the transport. The new fd may carry the number of the one just
 * closed, yet it is a different file: an epoll user treats any change of
 * phase as a new fd (EPOLL_CTL_MOD failing with ENOENT means: ADD it). fd()
 * is negative (-ENOTCONN) when the transport has none: before connect() and
 * after close(). The fd belongs to the transport: watch it, never close it.
 * events() is what the transport waits for now, as EPOLL* bits: EPOLLIN
 * while resolving, EPOLLOUT while a TCP connection is under way, either one
 * during a TLS handshake; once connected EPOLLIN, plus EPOLLOUT while the
 * last writev() was cut short or TLS needs to write to read. A caller with
 * bytes still to send adds EPOLLOUT itself. 0: nothing (not connecting).
 *
 * A transport is used from one thread at a time. Name resolution runs on a
 * thread of the library's own, which never calls back into the program.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mql_transport;

struct mql_transport_ops {
        const char *name;
        int (*connect)(struct mql_transport *t);
        ssize_t (*read)(struct mql_transport *t, void *buf, size_t len);
        ssize_t (*writev)(struct mql_transport *t, const struct iovec *iov, int iovcnt);
        int (*fd)(struct mql_transport *t);
        uint32_t (*events)(struct mql_transport *t);
        /* Closes the stream; connect() may start again afterwards. */
        void (*close)(struct mql_transport *t);
        /* Frees the transport (closing it first). */
        void (*free)(struct mql_transport *t);
};

/* The head of every transport: embed it first in your own struct and fill
 * `ops`. */
struct mql_transport {
        const struct mql_transport_ops *ops;
};

/*
 * TLS settings (OpenSSL 3). The constructor reads the files and copies the
 * strings: the struct may go away once it returns. TLS 1.2 is the minimum;
 * renegotiation is refused.
 */
struct mql_tls_config {
        const char *ca_file;   /* PEM bundle; NULL with ca_path NULL: the system store */
        const char *ca_path;   /* hashed directory (c_rehash) */
        const char *cert_file; /* client certificate chain (PEM), optional */
        const char *key_file;  /* its key (PEM); NULL: in cert_file */
        /* Name sent as SNI and checked against the certificate; NULL: the
         * URI's host. An IP literal is matched against the certificate's IP
         * addresses and sends no SNI (RFC 6066 §3). */
        const char *server_name;
        const char *alpn; /* comma-separated, e.g. "mqtt"; NULL: none */
        bool insecure;    /* skip peer and host name verification: testing only */
};

/*
 * Parses a broker URI: mqtt://host[:port] and tcp:// (default port 1883),
 * mqtts://host[:port] and ssl:// (8883), unix:///absolute/path. Schemes are
 * case-insensitive. IPv6 literal hosts are written in brackets:
 * mqtt://[::1]:1883, with a zone as mqtt://[fe80::1%25eth0] (RFC 6874).
 * The port is 1..65535. A lone trailing "/" is accepted; userinfo
 * ("mqtt://user@host": credentials go in the CONNECT packet, not in a
 * string that ends up in logs), any other path, a query, a fragment,
 * whitespace and control characters are not. There is no percent-decoding;
 * a unix:// path is taken as written and must fit in sockaddr_un.
 * Fills the out parameters, each of which may be NULL, on success only
 * (host is copied into a malloc'd string the caller frees, without
 * brackets; for unix:// it is the path and port is 0). Returns 0, -EINVAL
 * for a malformed URI, -EPROTONOSUPPORT for a well-formed but unknown
 * scheme (http://, ws://), -ENOMEM.
 */
int mql_uri_parse(const char *uri, bool *ret_tls, bool *ret_unix, char **ret_host,
                  uint16_t *ret_port);

/*
 * The transport a URI names; nothing happens on the network before
 * connect(). `tls` applies to mqtts:// and ssl:// only (NULL: defaults:
 * verify against the system store). Name resolution runs on a thread of
 * its own and never blocks the caller; every resolved address is tried in
 * turn, and connect() reports the failure of the last one. A lookup that
 * fails outright gives -ENOENT (no such host) or -EHOSTUNREACH (no name
 * server could answer). Returns 0 and the transport in *ret (the caller
 * frees it with mql_transport_free()), -EINVAL / -EPROTONOSUPPORT for a bad
 * URI, -EINVAL for an inconsistent `tls` (key_file without cert_file, an
 * empty ALPN name), -ENOMEM, or -EIO if the TLS context cannot be set up (a
 * CA, certificate or key file that cannot be read: the message goes to the
 * log callback).
 */
int mql_transport_new_uri(const char *uri, const struct mql_tls_config *tls,
                          struct mql_transport **ret);

/* Convenience wrappers around t->ops. A NULL transport or operation gives
 * -EINVAL (events(): 0; close(): nothing). */
int mql_transport_connect(struct mql_transport *t);
ssize_t mql_transport_read(struct mql_transport *t, void *buf, size_t len);
ssize_t mql_transport_writev(struct mql_transport *t, const struct iovec *iov, int iovcnt);
int mql_transport_fd(struct mql_transport *t);
uint32_t mql_transport_events(struct mql_transport *t);
void mql_transport_close(struct mql_transport *t);
/* Accepts NULL. Returns NULL. */
struct mql_transport *mql_transport_free(struct mql_transport *t);

#ifdef __cplusplus
}
#endif

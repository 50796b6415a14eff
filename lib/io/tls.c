/* SPDX-License-Identifier: MIT */
#include "io/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/log.h"
#include "util/macro.h"

/*
 * States: IDLE ──connect()──▶ TCP (the inner transport connects) ──▶
 * HANDSHAKE (SSL_connect() until it says 1) ──▶ CONNECTED. Any failure, or
 * close(), goes back to IDLE with the SSL object freed; the SSL_CTX lives
 * as long as the transport.
 *
 * Want-read/want-write. OpenSSL reports what it lacks, not what the caller
 * asked for: SSL_read() may need to write (a TLS 1.3 key update answer),
 * SSL_write() may need to read. Each is mapped to "0, nothing now", and the
 * need is remembered so that events() asks the loop for EPOLLOUT even
 * though the caller only wants to read. While connected we always want
 * EPOLLIN, which covers a write that needs a read.
 *
 * Writes. After SSL_write() fails with WANT_*, OpenSSL requires the retry
 * to present the same bytes with at least the same length. Our caller only
 * promises to present the same leading bytes (transport.h), possibly cut
 * into different iovecs, so the bytes of a blocked SSL_write() are kept in
 * `stage` and the retry hands OpenSSL exactly those, at the same address.
 */

#define STAGE_SIZE 16384 /* one full TLS record of plaintext, RFC 8446 §5.1 */

enum state {
        ST_IDLE,
        ST_TCP,
        ST_HANDSHAKE,
        ST_CONNECTED
};

struct tls {
        struct mql_transport head;
        struct mql_transport *inner;

        SSL_CTX *ctx;
        BIO_METHOD *bio_method;
        SSL *ssl;

        char *name; /* to send as SNI and verify; no trailing dot */
        char *ip;   /* `name` as an IP literal (zone stripped), or NULL */
        bool insecure;

        enum state state;
        uint32_t handshake_events;
        bool read_wants_write; /* the last SSL_read() said WANT_WRITE */
        bool write_blocked;    /* the last writev() did not take everything */
        bool failed;           /* a fatal error: no close_notify then */
        int io_error;          /* the inner transport's failure, seen by the BIO */

        size_t pending; /* bytes of `stage` a blocked SSL_write() holds */
        uint8_t stage[STAGE_SIZE];
};

static struct tls *tls_of(struct mql_transport *t) {
        return (struct tls *)t;
}

/* Logs the oldest OpenSSL error queued (the root cause, usually) and clears
 * the queue, which is per thread and must not leak into the next call. */
static int log_openssl(int err, const char *what) {
        char buf[256] = "unknown error";
        unsigned long e = ERR_get_error();

        if (e != 0)
                ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        return log_error_errno(err, "%s: %s", what, buf);
}

/* ---- the BIO between OpenSSL's record layer and the inner transport ---- */

static int bio_read(BIO *b, char *buf, int len) {
        struct tls *t = BIO_get_data(b);

        BIO_clear_retry_flags(b);
        ssize_t n = mql_transport_read(t->inner, buf, (size_t)len);
        if (n > 0)
                return (int)n;
        if (n == 0) {
                BIO_set_retry_read(b);
                return -1;
        }
        if (n == -EPIPE)
                return 0; /* EOF, which OpenSSL judges itself */
        t->io_error = (int)n;
        return -1;
}

static int bio_write(BIO *b, const char *buf, int len) {
        struct tls *t = BIO_get_data(b);
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = (size_t)len };

        BIO_clear_retry_flags(b);
        ssize_t n = mql_transport_writev(t->inner, &iov, 1);
        if (n > 0)
                return (int)n;
        if (n == 0) {
                BIO_set_retry_write(b);
                return -1;
        }
        t->io_error = (int)n;
        return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
        /* Writes go straight to the transport: nothing to flush. Everything
         * else (push, pop, kTLS queries…) is "not supported", 0. */
        return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b) {
        BIO_set_init(b, 1);
        return 1;
}

/* OpenSSL hands out fewer than 128 BIO type indices per process: take one
 * once, not one per transport. The methods themselves are per transport, so
 * that nothing stays allocated after the last one is freed. */
static int bio_index = -1;
static pthread_once_t bio_index_once = PTHREAD_ONCE_INIT;

static void bio_index_init(void) {
        bio_index = BIO_get_new_index();
}

static BIO_METHOD *bio_method_new(void) {
        pthread_once(&bio_index_once, bio_index_init);
        if (bio_index < 0)
                return NULL;

        BIO_METHOD *m = BIO_meth_new(bio_index | BIO_TYPE_SOURCE_SINK, "mqlink");
        if (!m)
                return NULL;
        if (!BIO_meth_set_read(m, bio_read) || !BIO_meth_set_write(m, bio_write) ||
            !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
                BIO_meth_free(m);
                return NULL;
        }
        return m;
}

/* ---- errors ---- */

/*
 * Turns an SSL_* return value into 0 ("try again": *ret_events says when)
 * or a negative errno. `eof` is what a bare end of stream means here: the
 * peer hanging up mid-handshake is a reset, afterwards it is -EPIPE.
 */
static int ssl_status(struct tls *t, int ret, int eof, uint32_t *ret_events) {
        int e = SSL_get_error(t->ssl, ret);

        switch (e) {
        case SSL_ERROR_WANT_READ:
                *ret_events = EPOLLIN;
                return 0;
        case SSL_ERROR_WANT_WRITE:
                *ret_events = EPOLLOUT;
                return 0;
        case SSL_ERROR_ZERO_RETURN: /* close_notify */
                t->failed = true;
                return -EPIPE;
        case SSL_ERROR_SYSCALL:
                t->failed = true;
                ERR_clear_error();
                return t->io_error < 0 ? t->io_error : eof;
        case SSL_ERROR_SSL:
                break;
        default:
                t->failed = true;
                return log_openssl(-EPROTO, "TLS failure");
        }

        t->failed = true;
        long v = SSL_get_verify_result(t->ssl);
        if (t->state == ST_HANDSHAKE && v != X509_V_OK) {
                ERR_clear_error();
                return log_error_errno(-EKEYREJECTED, "TLS certificate of %s rejected: %s", t->name,
                                       X509_verify_cert_error_string(v));
        }
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                /* The peer closed the TCP connection without close_notify:
                 * for MQTT, which has its own DISCONNECT, just an EOF. */
                ERR_clear_error();
                return eof;
        }
        return log_openssl(-EPROTO,
                           t->state == ST_HANDSHAKE ? "TLS handshake failed" : "TLS error");
}

/* ---- connection ---- */

static void tls_close(struct mql_transport *tr) {
        struct tls *t = tls_of(tr);

        if (t->ssl) {
                /* A courtesy close_notify, if it fits in the socket buffer
                 * now: never wait for it, nor for the peer's. */
                if (t->state == ST_CONNECTED && !t->failed)
                        (void)SSL_shutdown(t->ssl);
                SSL_free(t->ssl); /* and the BIO */
                t->ssl = NULL;
                ERR_clear_error();
        }
        mql_transport_close(t->inner);
        t->state = ST_IDLE;
        t->handshake_events = 0;
        t->read_wants_write = false;
        t->write_blocked = false;
        t->failed = false;
        t->io_error = 0;
        t->pending = 0;
}

static int handshake_start(struct tls *t) {
        t->ssl = SSL_new(t->ctx);
        if (!t->ssl)
                return log_openssl(-ENOMEM, "SSL_new");

        BIO *b = BIO_new(t->bio_method);
        if (!b)
                return log_openssl(-ENOMEM, "BIO_new");
        BIO_set_data(b, t);
        SSL_set_bio(t->ssl, b, b);
        SSL_set_connect_state(t->ssl);

        /* SNI carries host names only, RFC 6066 §3. */
        if (!t->ip && !SSL_set_tlsext_host_name(t->ssl, t->name))
                return log_openssl(-EINVAL, "cannot set the TLS server name");

        if (!t->insecure) {
                int ok;
                if (t->ip)
                        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->ip);
                else {
                        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                        ok = SSL_set1_host(t->ssl, t->name);
                }
                if (!ok)
                        return log_openssl(-EINVAL, "cannot set the name to verify");
        }
        return 0;
}

static int handshake_step(struct tls *t) {
        ERR_clear_error();
        t->io_error = 0;

        int r = SSL_connect(t->ssl);
        if (r == 1) {
                log_debug("TLS connected to %s: %s, %s", t->name, SSL_get_version(t->ssl),
                          SSL_get_cipher_name(t->ssl));
                return 0;
        }
        r = ssl_status(t, r, -ECONNRESET, &t->handshake_events);
        return r < 0 ? r : -EAGAIN;
}

static int tls_connect(struct mql_transport *tr) {
        struct tls *t = tls_of(tr);
        int r;

        switch (t->state) {
        case ST_IDLE:
                t->state = ST_TCP;
                __attribute__((fallthrough));
        case ST_TCP:
                r = mql_transport_connect(t->inner);
                if (r == -EAGAIN)
                        return r;
                if (r >= 0)
                        r = handshake_start(t);
                if (r < 0) {
                        tls_close(tr);
                        return r;
                }
                t->state = ST_HANDSHAKE;
                __attribute__((fallthrough));
        case ST_HANDSHAKE:
                r = handshake_step(t);
                if (r == -EAGAIN)
                        return r;
                if (r < 0) {
                        tls_close(tr);
                        return r;
                }
                t->state = ST_CONNECTED;
                return 0;
        case ST_CONNECTED:
                return 0;
        }
        return -EINVAL;
}

/* ---- data ---- */

static ssize_t tls_read(struct mql_transport *tr, void *buf, size_t len) {
        struct tls *t = tls_of(tr);
        uint32_t need = 0;

        if (t->state != ST_CONNECTED)
                return -ENOTCONN;
        if (len == 0)
                return 0;

        ERR_clear_error();
        t->io_error = 0;
        int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
        if (n > 0) {
                t->read_wants_write = false;
                return n;
        }
        int r = ssl_status(t, n, -EPIPE, &need);
        if (r < 0)
                return r;
        t->read_wants_write = need == EPOLLOUT;
        return 0;
}

/* One SSL_write(): > 0 bytes taken, 0 if it must be retried with the same
 * bytes, or a negative errno. */
static int ssl_write(struct tls *t, const void *buf, size_t len) {
        uint32_t need = 0;

        ERR_clear_error();
        t->io_error = 0;
        int n = SSL_write(t->ssl, buf, (int)len);
        if (n > 0)
                return n;
        return ssl_status(t, n, -EPIPE, &need);
}

/* Copies up to `size` bytes of the iovecs, from byte `skip` on. */
static size_t iov_gather(const struct iovec *iov, int iovcnt, size_t skip, uint8_t *dst,
                         size_t size) {
        size_t n = 0;

        for (int i = 0; i < iovcnt && n < size; i++) {
                size_t l = iov[i].iov_len;
                if (skip >= l) {
                        skip -= l;
                        continue;
                }
                size_t c = l - skip < size - n ? l - skip : size - n;
                memcpy(dst + n, (const uint8_t *)iov[i].iov_base + skip, c);
                n += c;
                skip = 0;
        }
        return n;
}

static ssize_t tls_writev(struct mql_transport *tr, const struct iovec *iov, int iovcnt) {
        struct tls *t = tls_of(tr);
        size_t total = 0, done = 0;
        int r;

        if (t->state != ST_CONNECTED)
                return -ENOTCONN;
        if (iovcnt < 0)
                return -EINVAL;
        for (int i = 0; i < iovcnt; i++)
                total += iov[i].iov_len;
        if (total == 0)
                return 0;

        if (t->pending > 0) {
                /* The leading `pending` bytes of this call are the ones the
                 * blocked SSL_write() holds (transport.h's contract). */
                if (total < t->pending)
                        return -EINVAL;
                r = ssl_write(t, t->stage, t->pending);
                if (r <= 0) {
                        t->write_blocked = r == 0;
                        return r;
                }
                done = (size_t)r;
                bool partial = done < t->pending;
                t->pending = 0;
                if (partial) {
                        t->write_blocked = true;
                        return (ssize_t)done;
                }
        }

        while (done < total) {
                size_t n = iov_gather(iov, iovcnt, done, t->stage, sizeof(t->stage));
                r = ssl_write(t, t->stage, n);
                if (r < 0) {
                        /* Report what did go out; the failure repeats on the
                         * next call. */
                        if (done > 0)
                                break;
                        return r;
                }
                if (r == 0) {
                        t->pending = n;
                        break;
                }
                done += (size_t)r;
                if ((size_t)r < n)
                        break;
        }

        t->write_blocked = done < total;
        return (ssize_t)done;
}

static int tls_fd(struct mql_transport *tr) {
        struct tls *t = tls_of(tr);

        if (t->state == ST_IDLE)
                return -ENOTCONN;
        return mql_transport_fd(t->inner);
}

static uint32_t tls_events(struct mql_transport *tr) {
        struct tls *t = tls_of(tr);

        switch (t->state) {
        case ST_TCP:
                return mql_transport_events(t->inner);
        case ST_HANDSHAKE:
                return t->handshake_events;
        case ST_CONNECTED:
                return EPOLLIN | (t->read_wants_write || t->write_blocked ? EPOLLOUT : 0);
        default:
                return 0;
        }
}

/* Everything but the inner transport and the connection. */
static void tls_destroy(struct tls *t) {
        SSL_CTX_free(t->ctx);
        BIO_meth_free(t->bio_method);
        free(t->name);
        free(t->ip);
        free(t);
}

static void tls_free(struct mql_transport *tr) {
        struct tls *t = tls_of(tr);

        tls_close(tr);
        mql_transport_free(t->inner);
        tls_destroy(t);
}

static const struct mql_transport_ops tls_ops = {
        .name = "tls",
        .connect = tls_connect,
        .read = tls_read,
        .writev = tls_writev,
        .fd = tls_fd,
        .events = tls_events,
        .close = tls_close,
        .free = tls_free,
};

/* ---- setup ---- */

/* "mqtt,x-amzn-mqtt-ca" to the wire format of RFC 7301 §3.1: each name
 * prefixed by its length. */
static int alpn_set(SSL_CTX *ctx, const char *list) {
        size_t len = strlen(list);
        _cleanup_free_ unsigned char *wire = malloc(len + 1);
        size_t w = 0;

        if (!wire)
                return -ENOMEM;
        for (const char *p = list;;) {
                size_t l = strcspn(p, ",");
                const char *comma = p + l;
                if (l == 0 || l > 255)
                        return log_error_errno(-EINVAL, "invalid ALPN list \"%s\"", list);
                wire[w++] = (unsigned char)l;
                memcpy(wire + w, p, l);
                w += l;
                if (!*comma)
                        break;
                p = comma + 1;
        }
        /* Unlike most of OpenSSL, 0 is success here. */
        if (SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)w) != 0)
                return log_openssl(-ENOMEM, "SSL_CTX_set_alpn_protos");
        return 0;
}

static int ctx_load(SSL_CTX *ctx, const struct mql_tls_config *cfg) {
        if (cfg->ca_file || cfg->ca_path) {
                if (!SSL_CTX_load_verify_locations(ctx, cfg->ca_file, cfg->ca_path))
                        return log_openssl(-EIO, cfg->ca_file ? cfg->ca_file : cfg->ca_path);
        } else if (!cfg->insecure && !SSL_CTX_set_default_verify_paths(ctx))
                return log_openssl(-EIO, "cannot load the system's CA certificates");

        if (cfg->key_file && !cfg->cert_file)
                return log_error_errno(-EINVAL, "TLS key_file given without cert_file");
        if (cfg->cert_file) {
                /* The key may sit in the certificate's PEM file. */
                const char *key = cfg->key_file ? cfg->key_file : cfg->cert_file;
                if (!SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file))
                        return log_openssl(-EIO, cfg->cert_file);
                if (!SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM))
                        return log_openssl(-EIO, key);
                if (!SSL_CTX_check_private_key(ctx))
                        return log_openssl(-EIO, "TLS client key does not match its certificate");
        }

        if (cfg->alpn)
                return alpn_set(ctx, cfg->alpn);
        return 0;
}

static int ctx_new(const struct mql_tls_config *cfg, SSL_CTX **ret) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
                return log_openssl(-ENOMEM, "SSL_CTX_new");

        /* TLS 1.0 and 1.1 are deprecated, RFC 8996. */
        if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
                SSL_CTX_free(ctx);
                return log_openssl(-EIO, "cannot require TLS 1.2");
        }
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
        /* Partial writes let writev() report progress record by record;
         * the stage buffer moves nowhere, but say so anyway. */
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);

        int r = ctx_load(ctx, cfg);
        if (r < 0) {
                SSL_CTX_free(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

/* The name to verify, without a trailing dot (not allowed in SNI), and, if
 * it is an IP literal, that address without an IPv6 zone. */
static int names_set(struct tls *t, const char *name) {
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } a;

        t->name = strdup(name);
        if (!t->name)
                return -ENOMEM;
        size_t l = strlen(t->name);
        if (l > 1 && t->name[l - 1] == '.')
                t->name[l - 1] = 0;

        _cleanup_free_ char *ip = strndup(t->name, strcspn(t->name, "%"));
        if (!ip)
                return -ENOMEM;
        if (inet_pton(AF_INET, ip, &a) == 1 || inet_pton(AF_INET6, ip, &a) == 1)
                t->ip = TAKE_PTR(ip);
        return 0;
}

/* For a half-built transport, which does not own `inner` yet: the caller
 * keeps it on failure. */
static void tls_destroyp(struct tls **t) {
        if (*t)
                tls_destroy(*t);
}

int mql__tls_new(struct mql_transport *inner, const char *host, const struct mql_tls_config *cfg,
                 struct mql_transport **ret) {
        static const struct mql_tls_config defaults = { 0 };
        _cleanup_(tls_destroyp) struct tls *t = NULL;
        int r;

        if (!cfg)
                cfg = &defaults;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->head.ops = &tls_ops;
        t->insecure = cfg->insecure;

        r = names_set(t, cfg->server_name ? cfg->server_name : host);
        if (r < 0)
                return r;
        t->bio_method = bio_method_new();
        if (!t->bio_method)
                return log_openssl(-ENOMEM, "BIO_meth_new");
        r = ctx_new(cfg, &t->ctx);
        if (r < 0)
                return r;
        if (cfg->insecure)
                log_warning("TLS peer verification disabled for %s", t->name);

        t->inner = inner;
        *ret = &TAKE_PTR(t)->head;
        return 0;
}

/* SPDX-License-Identifier: MIT */
#include "mqlink/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "util/macro.h"

/*
 * Broker URIs, a deliberately small subset of RFC 3986:
 *
 *   scheme "://" host [ ":" port ] [ "/" ]     scheme: mqtt tcp mqtts ssl
 *   "unix://" absolute-path
 *
 * No userinfo (credentials belong in the CONNECT packet, and a URI ends up
 * in logs), no path, query or fragment, no percent-decoding. Anything we
 * would have to guess about is rejected rather than half-understood.
 */

#define DEFAULT_PORT 1883
#define DEFAULT_TLS_PORT 8883
#define HOST_MAX 253 /* RFC 1035 §2.3.4, without the trailing dot */
#define LABEL_MAX 63

enum kind {
        KIND_TCP,
        KIND_TLS,
        KIND_UNIX
};

static const struct {
        const char *name;
        enum kind kind;
} schemes[] = {
        { "mqtt", KIND_TCP }, { "tcp", KIND_TCP },   { "mqtts", KIND_TLS },
        { "ssl", KIND_TLS },  { "unix", KIND_UNIX },
};

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Scheme syntax, RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
 * Telling a malformed scheme (-EINVAL) from a well-formed unknown one
 * (-EPROTONOSUPPORT) points the user at the right mistake. */
static int scheme_lookup(const char *s, size_t len, enum kind *ret) {
        if (len == 0 || !is_alpha(s[0]))
                return -EINVAL;
        for (size_t i = 1; i < len; i++)
                if (!is_alpha(s[i]) && !is_digit(s[i]) && !strchr("+-.", s[i]))
                        return -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(schemes); i++)
                if (strlen(schemes[i].name) == len && strncasecmp(s, schemes[i].name, len) == 0) {
                        *ret = schemes[i].kind;
                        return 0;
                }
        return -EPROTONOSUPPORT;
}

/* A DNS name or an IPv4 literal: dot-separated labels of letters, digits,
 * '-' and '_' (seen in the wild on internal names), one trailing dot
 * allowed. */
static bool hostname_valid(const char *s, size_t len) {
        if (len > 0 && s[len - 1] == '.')
                len--;
        if (len == 0 || len > HOST_MAX)
                return false;

        size_t label = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                } else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
                        if (++label > LABEL_MAX)
                                return false;
                } else
                        return false;
        }
        return label > 0;
}

/* "[" IPv6address [ "%25" zone ] "]", RFC 3986 §3.2.2 and RFC 6874. Writes
 * the address (with "%zone", the form getaddrinfo() takes) to *ret. */
static int ipv6_literal_parse(const char *s, size_t len, char **ret) {
        char addr[INET6_ADDRSTRLEN];
        struct in6_addr a;
        size_t alen = len;
        const char *zone = NULL;
        size_t zlen = 0;

        const char *pct = memchr(s, '%', len);
        if (pct) {
                alen = (size_t)(pct - s);
                if (len - alen < 4 || strncmp(pct, "%25", 3) != 0)
                        return -EINVAL;
                zone = pct + 3;
                zlen = len - alen - 3;
                for (size_t i = 0; i < zlen; i++)
                        if (!is_alpha(zone[i]) && !is_digit(zone[i]) && !strchr("-._~", zone[i]))
                                return -EINVAL;
        }
        if (alen == 0 || alen >= sizeof(addr))
                return -EINVAL;
        memcpy(addr, s, alen);
        addr[alen] = 0;
        if (inet_pton(AF_INET6, addr, &a) != 1)
                return -EINVAL;

        if (!ret)
                return 0;
        char *h = malloc(alen + (zone ? 1 + zlen : 0) + 1);
        if (!h)
                return -ENOMEM;
        memcpy(h, addr, alen);
        if (zone) {
                h[alen] = '%';
                memcpy(h + alen + 1, zone, zlen);
                h[alen + 1 + zlen] = 0;
        } else
                h[alen] = 0;
        *ret = h;
        return 0;
}

/* 1..65535 in at most five decimal digits: port 0 means "any" to the
 * kernel, which is never what a client wants. */
static int port_parse(const char *s, size_t len, uint16_t *ret) {
        unsigned long v = 0;

        if (len == 0 || len > 5)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (!is_digit(s[i]))
                        return -EINVAL;
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        if (v == 0 || v > UINT16_MAX)
                return -EINVAL;
        *ret = (uint16_t)v;
        return 0;
}

static int unix_parse(const char *path, char **ret_host) {
        /* "unix://" followed by an absolute path: unix:///run/x.sock. A
         * relative one would make the "host" part ambiguous. */
        size_t len = strlen(path);
        if (path[0] != '/' || len >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
                return -EINVAL;
        if (ret_host) {
                *ret_host = strdup(path);
                if (!*ret_host)
                        return -ENOMEM;
        }
        return 0;
}

static int authority_parse(const char *a, uint16_t default_port, char **ret_host,
                           uint16_t *ret_port) {
        _cleanup_free_ char *host = NULL;
        const char *end = a + strlen(a);
        const char *p;
        uint16_t port = default_port;
        int r;

        /* Accept a lone trailing "/", nothing after it. */
        if (end > a && end[-1] == '/')
                end--;
        if (memchr(a, '@', (size_t)(end - a)))
                return -EINVAL; /* userinfo: see the top of this file */

        if (*a == '[') {
                const char *close = memchr(a, ']', (size_t)(end - a));
                if (!close)
                        return -EINVAL;
                r = ipv6_literal_parse(a + 1, (size_t)(close - a - 1), ret_host ? &host : NULL);
                if (r < 0)
                        return r;
                p = close + 1;
        } else {
                p = a;
                while (p < end && *p != ':')
                        p++;
                if (!hostname_valid(a, (size_t)(p - a)))
                        return -EINVAL;
                if (ret_host) {
                        host = strndup(a, (size_t)(p - a));
                        if (!host)
                                return -ENOMEM;
                }
        }

        if (p < end) {
                if (*p != ':')
                        return -EINVAL;
                r = port_parse(p + 1, (size_t)(end - p - 1), &port);
                if (r < 0)
                        return r;
        }

        if (ret_host)
                *ret_host = TAKE_PTR(host);
        *ret_port = port;
        return 0;
}

MQL_EXPORT int mql_uri_parse(const char *uri, bool *ret_tls, bool *ret_unix, char **ret_host,
                             uint16_t *ret_port) {
        _cleanup_free_ char *host = NULL;
        enum kind kind;
        uint16_t port = 0;
        int r;

        if (!uri)
                return -EINVAL;
        /* Whitespace and control characters are never part of a URI
         * (RFC 3986 §2); rejecting them here keeps them out of host names
         * and socket paths alike. */
        for (const char *c = uri; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return -EINVAL;

        const char *sep = strstr(uri, "://");
        if (!sep)
                return -EINVAL;
        r = scheme_lookup(uri, (size_t)(sep - uri), &kind);
        if (r < 0)
                return r;

        const char *rest = sep + 3;
        if (kind == KIND_UNIX)
                r = unix_parse(rest, ret_host ? &host : NULL);
        else
                r = authority_parse(rest, kind == KIND_TLS ? DEFAULT_TLS_PORT : DEFAULT_PORT,
                                    ret_host ? &host : NULL, &port);
        if (r < 0)
                return r;

        if (ret_tls)
                *ret_tls = kind == KIND_TLS;
        if (ret_unix)
                *ret_unix = kind == KIND_UNIX;
        if (ret_host)
                *ret_host = TAKE_PTR(host);
        if (ret_port)
                *ret_port = port;
        return 0;
}

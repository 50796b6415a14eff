/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * TLS (OpenSSL 3) over another transport, in practice the TCP one. The
 * record layer talks to the inner transport through a BIO of our own, so
 * it inherits its non-blocking, SIGPIPE-free reads and writes.
 */

#include "mqlink/transport.h"

/*
 * Wraps `inner` (owned on success: freed with the TLS transport). `host` is
 * the URI's host, used for SNI and verification unless cfg->server_name
 * overrides it; cfg NULL: verify against the system store. Builds the
 * SSL_CTX at once, so that a configuration mistake shows here rather than
 * at every connection attempt. Returns 0, -ENOMEM, -EINVAL (key_file
 * without cert_file, a malformed ALPN list), or -EIO if a CA, certificate
 * or key file cannot be loaded (the reason is logged).
 */
int mql__tls_new(struct mql_transport *inner, const char *host, const struct mql_tls_config *cfg,
                 struct mql_transport **ret);

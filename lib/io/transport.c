/* SPDX-License-Identifier: MIT */
#include "mqlink/transport.h"

#include <errno.h>

#include "io/socket.h"
#include "io/tls.h"
#include "util/macro.h"

/* The wrappers give a NULL transport or a missing operation an errno rather
 * than a crash: user-supplied vtables are the likely place for a gap. */

MQL_EXPORT int mql_transport_connect(struct mql_transport *t) {
        if (!t || !t->ops || !t->ops->connect)
                return -EINVAL;
        return t->ops->connect(t);
}

MQL_EXPORT ssize_t mql_transport_read(struct mql_transport *t, void *buf, size_t len) {
        if (!t || !t->ops || !t->ops->read || (!buf && len > 0))
                return -EINVAL;
        return t->ops->read(t, buf, len);
}

MQL_EXPORT ssize_t mql_transport_writev(struct mql_transport *t, const struct iovec *iov,
                                        int iovcnt) {
        if (!t || !t->ops || !t->ops->writev || iovcnt < 0 || (!iov && iovcnt > 0))
                return -EINVAL;
        return t->ops->writev(t, iov, iovcnt);
}

MQL_EXPORT int mql_transport_fd(struct mql_transport *t) {
        if (!t || !t->ops || !t->ops->fd)
                return -EINVAL;
        return t->ops->fd(t);
}

MQL_EXPORT uint32_t mql_transport_events(struct mql_transport *t) {
        if (!t || !t->ops || !t->ops->events)
                return 0;
        return t->ops->events(t);
}

MQL_EXPORT void mql_transport_close(struct mql_transport *t) {
        if (t && t->ops && t->ops->close)
                t->ops->close(t);
}

MQL_EXPORT struct mql_transport *mql_transport_free(struct mql_transport *t) {
        if (!t)
                return NULL;
        if (t->ops && t->ops->free)
                t->ops->free(t);
        return NULL;
}

MQL_EXPORT int mql_transport_new_uri(const char *uri, const struct mql_tls_config *tls,
                                     struct mql_transport **ret) {
        _cleanup_free_ char *host = NULL;
        _cleanup_transport_ struct mql_transport *t = NULL;
        bool is_tls, is_unix;
        uint16_t port;
        int r;

        if (!ret)
                return -EINVAL;
        r = mql_uri_parse(uri, &is_tls, &is_unix, &host, &port);
        if (r < 0)
                return r;

        if (is_unix)
                r = mql__socket_new_unix(host, &t);
        else
                r = mql__socket_new_tcp(host, port, &t);
        if (r < 0)
                return r;

        if (is_tls) {
                struct mql_transport *wrapped;
                r = mql__tls_new(t, host, tls, &wrapped);
                if (r < 0)
                        return r;
                t = wrapped; /* owns the TCP transport now */
        }

        *ret = TAKE_PTR(t);
        return 0;
}

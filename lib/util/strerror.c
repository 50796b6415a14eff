/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <mqlink/mqlink.h>

#include "macro.h"
#include "mqlink-config.h"

MQL_EXPORT const char *mql_version_string(void) {
        return MQL_VERSION;
}

MQL_EXPORT const char *mql_strerror(int err) {
        if (err < 0)
                err = -err;

        /* The codes to which the library gives a meaning of its own. */
        switch (err) {
        case 0:
                return "Success";
        case EBADMSG:
                return "Malformed MQTT packet";
        case EPROTO:
                return "MQTT protocol violation";
        case EPROTONOSUPPORT:
                return "Unsupported MQTT protocol version";
        case ENOBUFS:
                return "Buffer or queue full";
        case EMSGSIZE:
                return "Packet too large";
        case ENOTCONN:
                return "Not connected";
        case EKEYREJECTED:
                return "TLS certificate verification failed";
        default:
                return strerror(err);
        }
}

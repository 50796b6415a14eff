/* SPDX-License-Identifier: MIT */
#pragma once

/* The umbrella header of libmqlink: include this one, or the parts you use. */

#include <mqlink/client.h>
#include <mqlink/ipc.h>
#include <mqlink/loop.h>
#include <mqlink/packet.h>
#include <mqlink/session.h>
#include <mqlink/topic.h>
#include <mqlink/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH"; static storage. */
const char *mql_version_string(void);

/*
 * A description of a value returned by a libmqlink function: `err` may be
 * negative (-EBADMSG) or positive. For the codes the library gives a meaning
 * of its own (-EBADMSG: malformed packet, -EPROTO: protocol violation…) it
 * says that; for any other it is strerror()'s text. Never NULL; the string
 * is static storage.
 */
const char *mql_strerror(int err);

/* syslog(3) priorities. */
enum mql_log_level {
        MQL_LOG_ERR = 3,
        MQL_LOG_WARNING = 4,
        MQL_LOG_NOTICE = 5,
        MQL_LOG_INFO = 6,
        MQL_LOG_DEBUG = 7,
};

/* `msg` is valid during the call only. Called from whichever thread the
 * library runs in: the resolver thread never logs. */
typedef void (*mql_log_fn)(int level, const char *msg, void *userdata);

/*
 * The library never prints: it hands its messages to this callback
 * (process-wide; NULL, the default, drops them) when their level is at most
 * `max_level`. Set it before starting clients.
 */
void mql_log_set(mql_log_fn fn, int max_level, void *userdata);

#ifdef __cplusplus
}
#endif

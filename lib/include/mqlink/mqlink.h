/* SPDX-License-Identifier: MIT */
#pragma once

/* The umbrella header of libmqlink: include this one, or the parts you use. */

#include <mqlink/packet.h>
#include <mqlink/topic.h>

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

#ifdef __cplusplus
}
#endif

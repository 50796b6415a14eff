/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Runs a client on an sd-event loop (libsystemd), as mql_client_attach_loop()
 * does on an mql_loop. Installed only when libmqlink was built with
 * libsystemd.
 */

#include <stdint.h>
#include <systemd/sd-event.h>

#include <mqlink/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Adds an io source and a timer for `c` to `e` (referenced until
 * mql_client_detach() or mql_client_free()), at `priority` (SD_EVENT_PRIORITY_*).
 * Returns 0, -EBUSY if the client is already attached to a loop, or the
 * negative errno of sd-event.
 */
int mql_client_attach_event(struct mql_client *c, sd_event *e, int64_t priority);

#ifdef __cplusplus
}
#endif

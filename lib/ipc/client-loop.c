/* SPDX-License-Identifier: MIT */

/* Runs an IPC client on an mql_loop: one io source on its socket, its
 * events brought up to date after every call into the client. */

#include <errno.h>

#include "ipc/client-internal.h"
#include "util/log.h"
#include "util/macro.h"

static int on_io(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        /* The end of the connection is the client's news (on_close), not a
         * failure of the loop: stopping every other source for it would
         * be the wrong call for a program that does more than this. */
        (void)mql_ipc_client_process(userdata);
        return 0;
}

void mql__ipc_client_sync(struct mql_ipc_client *c) {
        if (!c->io)
                return;
        uint32_t events = mql_ipc_client_get_events(c);
        if (events != c->io_events && mql_loop_source_set_io_events(c->io, events) == 0)
                c->io_events = events;
}

MQL_EXPORT int mql_ipc_client_attach_loop(struct mql_ipc_client *c, struct mql_loop *loop) {
        if (!c || !loop)
                return -EINVAL;
        if (c->loop)
                return -EBUSY;
        if (c->fd < 0)
                return -ENOTCONN;
        uint32_t events = mql_ipc_client_get_events(c);
        int r = mql_loop_add_io(loop, &c->io, c->fd, events, on_io, c);
        if (r < 0)
                return r;
        c->loop = loop;
        c->io_events = events;
        return 0;
}

MQL_EXPORT void mql_ipc_client_detach(struct mql_ipc_client *c) {
        if (!c)
                return;
        c->io = mql_loop_source_free(c->io);
        c->loop = NULL;
}

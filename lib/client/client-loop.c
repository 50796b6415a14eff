/* SPDX-License-Identifier: MIT */

/* Runs a client on an mql_loop: one io source on the client's current fd,
 * one timer at its next deadline, both brought up to date after every call
 * into the client. */

#include <errno.h>

#include "client-internal.h"
#include "util/log.h"
#include "util/macro.h"

static int on_io(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        return mql_client_process(userdata);
}

static int on_time(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        return mql_client_process(userdata);
}

static void sync_loop(struct mql_client *c) {
        int fd = mql_client_get_fd(c);
        uint32_t events = mql_client_get_events(c);

        /* The transport closes and opens sockets while connecting; a new
         * socket may get the number of the old one, so any change of
         * generation means a new registration. */
        if (fd != c->io_fd || c->fd_gen != c->io_gen) {
                c->io = mql_loop_source_free(c->io);
                c->io_fd = -1;
                c->io_gen = c->fd_gen;
                if (fd >= 0) {
                        int r = mql_loop_add_io(c->loop, &c->io, fd, events, on_io, c);
                        if (r < 0)
                                log_error_errno(r, "mqtt: cannot watch fd %d: %s", fd,
                                                mql_strerror(r));
                        else {
                                c->io_fd = fd;
                                c->io_events = events;
                        }
                }
        } else if (c->io && events != c->io_events) {
                if (mql_loop_source_set_io_events(c->io, events) == 0)
                        c->io_events = events;
        }
        (void)mql_loop_source_set_time(c->timer, mql_client_get_timeout(c));
}

void mql__client_forget_fd(struct mql_client *c) {
        c->io = mql_loop_source_free(c->io);
        c->io_fd = -1;
        mql__client_forget_fd_sd_event(c);
}

void mql__client_sync(struct mql_client *c) {
        if (c->loop)
                sync_loop(c);
        mql__client_sync_sd_event(c);
}

MQL_EXPORT int mql_client_attach_loop(struct mql_client *c, struct mql_loop *loop) {
        if (c->loop || c->sd_attach)
                return -EBUSY;
        int r = mql_loop_add_time(loop, &c->timer, MQL_USEC_INFINITY, on_time, c);
        if (r < 0)
                return r;
        c->loop = loop;
        c->io_fd = -1;
        sync_loop(c);
        return 0;
}

MQL_EXPORT void mql_client_detach(struct mql_client *c) {
        c->io = mql_loop_source_free(c->io);
        c->timer = mql_loop_source_free(c->timer);
        c->loop = NULL;
        c->io_fd = -1;
        mql__client_detach_sd_event(c);
}

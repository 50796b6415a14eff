/* SPDX-License-Identifier: MIT */

/* The sd-event attachment: the same bookkeeping as client-loop.c, on
 * sd_event sources. Built without libsystemd it is two no-ops. */

#include <errno.h>
#include <stdlib.h>

#include "client-internal.h"
#include "mqlink-config.h"
#include "util/log.h"
#include "util/macro.h"

#if MQL_HAVE_SD_EVENT
#include <mqlink/sd-event.h>

struct sd_attach {
        sd_event *event;             /* referenced */
        sd_event_source *io;         /* owned */
        sd_event_source *timer;      /* owned */
        int64_t priority;
        int fd;
        uint64_t gen;
        uint32_t events;
};

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return mql_client_process(userdata);
}

static int on_time(sd_event_source *s, uint64_t usec, void *userdata) {
        return mql_client_process(userdata);
}

void mql__client_sync_sd_event(struct mql_client *c) {
        struct sd_attach *a = c->sd_attach;
        if (!a)
                return;

        int fd = mql_client_get_fd(c);
        uint32_t events = mql_client_get_events(c);
        if (fd != a->fd || c->fd_gen != a->gen) {
                a->io = sd_event_source_disable_unref(a->io);
                a->fd = -1;
                a->gen = c->fd_gen;
                if (fd >= 0) {
                        int r = sd_event_add_io(a->event, &a->io, fd, events, on_io, c);
                        if (r < 0)
                                log_error_errno(r, "mqtt: cannot watch fd %d: %s", fd,
                                                mql_strerror(r));
                        else {
                                (void)sd_event_source_set_priority(a->io, a->priority);
                                a->fd = fd;
                                a->events = events;
                        }
                }
        } else if (a->io && events != a->events) {
                if (sd_event_source_set_io_events(a->io, events) >= 0)
                        a->events = events;
        }

        uint64_t t = mql_client_get_timeout(c);
        if (t == UINT64_MAX) {
                (void)sd_event_source_set_enabled(a->timer, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_time(a->timer, t);
        (void)sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
}

void mql__client_forget_fd_sd_event(struct mql_client *c) {
        struct sd_attach *a = c->sd_attach;
        if (!a)
                return;
        a->io = sd_event_source_disable_unref(a->io);
        a->fd = -1;
}

void mql__client_detach_sd_event(struct mql_client *c) {
        struct sd_attach *a = c->sd_attach;
        if (!a)
                return;
        sd_event_source_disable_unref(a->io);
        sd_event_source_disable_unref(a->timer);
        sd_event_unref(a->event);
        free(a);
        c->sd_attach = NULL;
}

MQL_EXPORT int mql_client_attach_event(struct mql_client *c, sd_event *e, int64_t priority) {
        if (c->loop || c->sd_attach)
                return -EBUSY;
        struct sd_attach *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->fd = -1;
        a->priority = priority;
        int r = sd_event_add_time(e, &a->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_time, c);
        if (r < 0) {
                free(a);
                return r;
        }
        /* Default accuracy is 250 ms: too coarse for "come back at once". */
        (void)sd_event_source_set_time_accuracy(a->timer, 1);
        (void)sd_event_source_set_priority(a->timer, priority);
        (void)sd_event_source_set_enabled(a->timer, SD_EVENT_OFF);
        a->event = sd_event_ref(e);
        c->sd_attach = a;
        mql__client_sync_sd_event(c);
        return 0;
}
#else
void mql__client_sync_sd_event(struct mql_client *c) {
}

void mql__client_forget_fd_sd_event(struct mql_client *c) {
}

void mql__client_detach_sd_event(struct mql_client *c) {
}
#endif

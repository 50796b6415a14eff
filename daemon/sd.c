/* SPDX-License-Identifier: MIT */

#include "sd.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>

#include "log.h"

int sd_listen_socket(void) {
        int n = sd_listen_fds(1);
        if (n < 0)
                return log_error_errno(n, "cannot take the sockets systemd passed");
        if (n == 0)
                return -1;
        if (n > 1)
                return log_error_errno(-EINVAL, "systemd passed %d sockets; mqlinkd takes one", n);
        int fd = SD_LISTEN_FDS_START;
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
                return log_error_errno(-EINVAL, "the socket systemd passed is not a listening "
                                                "Unix stream socket");
        return fd;
}

void sd_tell_ready(const char *status) {
        (void)sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void sd_tell_status(const char *status) {
        (void)sd_notifyf(0, "STATUS=%s", status);
}

void sd_tell_reloading(void) {
        (void)sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
}

void sd_tell_stopping(void) {
        (void)sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
}

/* SPDX-License-Identifier: MIT */
#pragma once

/* What mqlinkd tells systemd and takes from it. Everything is a no-op when
 * not run by systemd (no NOTIFY_SOCKET, no LISTEN_FDS). */

/* The listening socket systemd passed (socket activation): its fd, -1 when
 * none was passed, or -EINVAL (logged) when what was passed is not one
 * listening Unix stream socket. */
int sd_listen_socket(void);

void sd_tell_ready(const char *status);
void sd_tell_status(const char *status);
void sd_tell_reloading(void);
void sd_tell_stopping(void);

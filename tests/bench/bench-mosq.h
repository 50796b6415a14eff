/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * libmosquitto as a benchmark peer (bench-peer.h): MQTT 5, TCP_NODELAY, one
 * thread on mosquitto_loop(), the job's window as its send maximum and
 * in-flight limit, the job's Receive Maximum. The publisher keeps at most
 * a window of messages outstanding, counted by on_publish: PUBACK or
 * PUBCOMP at QoS 1 and 2, "written" at QoS 0, so that at QoS 0 it bounds
 * the packets waiting in libmosquitto's queue instead of buffering the
 * whole run in memory.
 */

#include "bench-peer.h"

void mosq_publisher(const struct peer_job *j, struct peer_result *res, int ready_fd, int ctl_fd);
/* Counts messages until j->n arrived, or as peer_sub_more() says. */
void mosq_subscriber(const struct peer_job *j, struct peer_result *res, int ready_fd, int ctl_fd);

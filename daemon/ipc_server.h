/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The local Unix socket: accepts connections, parses commands with the
 * lib/ipc codec, hands them to the router and the brokers, and writes
 * replies in command order with deliveries (MSG) in between.
 *
 * Every connection has bounds: its unsent output (client_output_max: above
 * it QoS 0 deliveries are dropped and counted, and a client that stays
 * above it for client_stall_ms, or reaches twice it, is disconnected), and
 * its commands awaiting a reply (reading pauses at MAX_PENDING). Nothing
 * ever waits for a slow client.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include <mqlink/ipc.h>
#include <mqlink/session.h>

#include "bytes.h"

struct manager;
struct conn;
struct local_sub;

/* A reply slot, taken in command order. Completing it (reply_ok/err/...)
 * lets it and those after it go out. When the connection closes first the
 * slot is orphaned: completing it then only frees it. */
struct reply;

struct ipc_server;

int ipc_server_new(struct manager *m, struct ipc_server **ret);
/* Listens on `fd` when >= 0 (socket activation), else binds the configured
 * path (replacing a stale socket) with the configured mode and group. */
int ipc_server_listen(struct ipc_server *s, int fd);
/* Stops accepting (shutdown); connections stay. */
void ipc_server_stop_listening(struct ipc_server *s);
/* Closes every connection and the listener; removes the socket file when
 * the daemon made it. */
struct ipc_server *ipc_server_free(struct ipc_server *s);
size_t ipc_server_n_conns(const struct ipc_server *s);
/* Appends the "clients" array of the STATUS document. */
int ipc_server_status_json(const struct ipc_server *s, struct bytes *out);

/* Router-facing. */
struct local_sub **conn_subs(struct conn *c);
size_t *conn_n_subs(struct conn *c);
uint64_t conn_id(const struct conn *c);
/* Queues "MSG sid topic ..." for `msg` as received from broker `broker`,
 * at qos `qos` and with `retain`. Never blocks: drops QoS 0 when the
 * connection is backed up (counted), disconnects a connection that is
 * over twice its bound. */
void conn_deliver(struct conn *c, const char *sid, const char *broker,
                  const struct mql_message *msg, uint8_t qos, bool retain);

void reply_ok(struct reply *r);
void reply_err(struct reply *r, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* For publish callbacks: 0 → +OK, MQTT reason or -errno → -ERR. */
void reply_publish_result(struct reply *r, int reason);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The daemon as a whole: the configuration, the brokers, the local socket
 * and the sd-event loop they share; signals (SIGHUP reload, SIGTERM/SIGINT
 * graceful stop) and what systemd is told (READY, STATUS, RELOADING,
 * STOPPING, the watchdog).
 */

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "bytes.h"
#include "config.h"

struct manager;
struct broker;

/* Takes `config` (owned from then on, also on failure). */
int manager_new(const char *config_path, struct config *config, struct manager **ret);
struct manager *manager_free(struct manager *m);
/* Listens, starts the brokers, tells systemd READY=1. */
int manager_start(struct manager *m);
/* Runs the loop until a stop; returns the exit code. */
int manager_run(struct manager *m);

sd_event *manager_event(struct manager *m);
const struct config *manager_config(struct manager *m);
/* The broker named name[0..len), or the default one when len is 0; NULL
 * when there is none. */
struct broker *manager_find_broker(struct manager *m, const char *name, size_t len);
/* A broker changed state: STATUS= is refreshed (coalesced). */
void manager_broker_changed(struct manager *m);
/* The STATUS document. */
int manager_status_json(struct manager *m, struct bytes *out);
/* Whether the daemon is stopping (no new commands are taken then). */
bool manager_stopping(const struct manager *m);
/* A local connection's command went through: during a graceful stop the
 * manager looks again whether it can finish. */
void manager_kick(struct manager *m);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One [broker:NAME] section: a library client attached to the manager's
 * sd-event loop, keeping one MQTT session up (reconnect, failover, the
 * offline queue). The broker knows nothing of local clients: it hands
 * messages to the router and reports its state to the manager.
 */

#include <stdbool.h>
#include <stdint.h>

#include <mqlink/client.h>

#include "config.h"

struct manager;
struct route_table;

struct broker {
        struct manager *manager;          /* borrowed; outlives the broker */
        char *name;                       /* owned */
        const struct config_broker *cfg;  /* borrowed from manager->config */
        struct mql_client *client;        /* owned */
        enum mql_client_state state;
        int last_error;                   /* -errno of the last failure, 0 */
        uint8_t last_reason;              /* MQTT reason of the last refusal/DISCONNECT */
        bool sub_ids;                     /* the broker takes Subscription Identifiers */
        bool cfg_pending;                 /* cfg not applied: a replace failed */
        uint64_t connects;
        uint64_t published;               /* publishes completed with success */
        uint64_t publish_failed;
        uint64_t received;                /* messages from the broker */
        uint64_t unrouted;                /* ... that matched no local subscription */
        struct route_table *routes;       /* owned by the router */
        struct broker *next;              /* the manager's list */
};

/* Makes the broker and its client (not started). Returns 0, -ENOMEM, or the
 * client's -EINVAL for a config the library refuses. */
int broker_new(struct manager *m, const struct config_broker *cfg, struct broker **ret);
int broker_start(struct broker *b);
/* Frees at once: pending publish callbacks run with -ECANCELED. */
struct broker *broker_free(struct broker *b);
/* A reload changed the session: a clean DISCONNECT, then a new client on
 * `cfg`. Messages queued in the old one complete with -ECANCELED. */
int broker_replace(struct broker *b, const struct config_broker *cfg);
/* Shutdown: sends DISCONNECT (normal) and stops reconnecting. */
void broker_disconnect(struct broker *b);

int broker_publish(struct broker *b, const struct mql_message *msg, mql_publish_fn cb,
                   void *userdata);
/* QoS 1/2 messages not yet acknowledged plus the queue. */
size_t broker_pending(struct broker *b);
const char *broker_state_str(const struct broker *b);

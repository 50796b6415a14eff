/* SPDX-License-Identifier: MIT */

#include "broker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/sd-event.h>

#include "log.h"
#include "manager.h"
#include "router.h"

static const char *state_words[] = {
        [MQL_CLIENT_STOPPED] = "stopped",
        [MQL_CLIENT_CONNECTING] = "connecting",
        [MQL_CLIENT_CONNECTED] = "connected",
        [MQL_CLIENT_WAITING] = "waiting",
};

const char *broker_state_str(const struct broker *b) {
        return state_words[b->state];
}

static void on_state(struct mql_client *c, enum mql_client_state state, int error, void *userdata) {
        struct broker *b = userdata;
        enum mql_client_state old = b->state;

        b->state = state;
        if (error < 0)
                b->last_error = error;
        else if (error > 0)
                b->last_reason = (uint8_t)error;
        switch (state) {
        case MQL_CLIENT_CONNECTED:
                b->connects++;
                log_info("broker %s: connected to %s", b->name, mql_client_get_uri(c));
                break;
        case MQL_CLIENT_WAITING:
                if (error > 0)
                        log_warning("broker %s: %s: refused or disconnected: 0x%02x %s", b->name,
                                    mql_client_get_uri(c), (unsigned)error, mql_reason_str((unsigned)error));
                else if (old == MQL_CLIENT_CONNECTED)
                        log_warning_errno(error, "broker %s: connection to %s lost", b->name,
                                          mql_client_get_uri(c));
                else
                        log_full_errno(LOG_NOTICE, error, "broker %s: cannot connect to %s", b->name,
                                       mql_client_get_uri(c));
                break;
        default:
                break;
        }
        if (state != old)
                manager_broker_changed(b->manager);
}

static void on_event(struct mql_client *c, const struct mql_event *ev, void *userdata) {
        struct broker *b = userdata;

        if (ev->type != MQL_EVENT_CONNECTED)
                return;
        /* MQTT 5 brokers take Subscription Identifiers unless CONNACK says
         * otherwise (MQTT 3.2.2.3.12); they make routing exact. */
        b->sub_ids = false;
        if (b->cfg->protocol == 5) {
                struct mql_prop p;
                b->sub_ids = !mql_props_find(&ev->connack.props,
                                             MQL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, &p) ||
                             p.u32 != 0;
        }
        router_broker_connected(b);
}

static void on_message(struct mql_client *c, const struct mql_message *msg, void *userdata) {
        router_route(userdata, msg);
}

static int client_make(struct broker *b, const struct config_broker *cfg, struct mql_client **ret) {
        const struct mql_tls_config tls = {
                .ca_file = cfg->tls_ca_file,
                .ca_path = cfg->tls_ca_path,
                .cert_file = cfg->tls_cert_file,
                .key_file = cfg->tls_key_file,
                .server_name = cfg->tls_server_name,
                .alpn = cfg->tls_alpn,
                .insecure = !cfg->tls_verify,
        };
        struct mql_prop will_delay = { .id = MQL_PROP_WILL_DELAY_INTERVAL, .u32 = cfg->will_delay };
        const struct mql_will will = {
                .topic = { cfg->will_topic, cfg->will_topic ? strlen(cfg->will_topic) : 0 },
                .payload = { (const uint8_t *)cfg->will_payload, cfg->will_payload_len },
                .qos = cfg->will_qos,
                .retain = cfg->will_retain,
                .props = { .list = &will_delay, .count = cfg->protocol == 5 && cfg->will_delay ? 1 : 0 },
        };
        struct mql_client_config cc = {
                .uris = (const char *const *)cfg->uris,
                .n_uris = cfg->n_uris,
                .tls = &tls,
                .session = {
                        .version = cfg->protocol == 4 ? MQL_V311 : MQL_V5,
                        .client_id = cfg->client_id,
                        .clean_start = cfg->clean_start,
                        .keepalive = cfg->keepalive,
                        .session_expiry = cfg->protocol == 5 ? cfg->session_expiry : 0,
                        .max_inflight = cfg->max_inflight,
                        .username = cfg->username,
                        .password_bin = { (const uint8_t *)cfg->password, cfg->password_len },
                        .will = cfg->will_topic ? &will : NULL,
                        .offline_queue_messages = cfg->queue_messages,
                        .offline_queue_bytes = cfg->queue_bytes,
                        .connect_timeout_ms = cfg->connect_timeout_ms,
                },
                .reconnect_min_ms = cfg->reconnect_min_ms,
                .reconnect_max_ms = cfg->reconnect_max_ms,
                .connect_timeout_ms = cfg->connect_timeout_ms,
                .on_state = on_state,
                .on_message = on_message,
                .on_event = on_event,
                .userdata = b,
        };
        struct mql_client *c;
        int r = mql_client_new(&cc, &c);
        if (r < 0)
                return r;
        r = mql_client_attach_event(c, manager_event(b->manager), 0);
        if (r < 0) {
                mql_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int broker_new(struct manager *m, const struct config_broker *cfg, struct broker **ret) {
        struct broker *b = calloc(1, sizeof *b);
        int r;

        if (!b)
                return -ENOMEM;
        b->manager = m;
        b->cfg = cfg;
        b->name = strdup(cfg->name);
        if (!b->name) {
                free(b);
                return -ENOMEM;
        }
        r = router_broker_add(b);
        if (r >= 0)
                r = client_make(b, cfg, &b->client);
        if (r >= 0)
                r = router_broker_sync_pinned(b);
        if (r < 0) {
                broker_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

int broker_start(struct broker *b) {
        return mql_client_start(b->client);
}

struct broker *broker_free(struct broker *b) {
        if (!b)
                return NULL;
        /* The client first: its callbacks (-ECANCELED) still find the routes. */
        b->client = mql_client_free(b->client);
        router_broker_remove(b);
        free(b->name);
        free(b);
        return NULL;
}

int broker_replace(struct broker *b, const struct config_broker *cfg) {
        struct mql_client *c;
        int r;

        /* b->cfg must point into the live config whatever happens, since
         * the old one is freed after a reload; a failed replace is marked
         * so that the next reload tries again. */
        b->cfg = cfg;
        b->cfg_pending = true;
        r = client_make(b, cfg, &c);
        if (r < 0)
                return r;
        b->cfg_pending = false;
        if (b->state == MQL_CLIENT_CONNECTED)
                (void)mql_client_disconnect(b->client, 0);
        /* Freeing runs the old client's callbacks; its state must not be
         * taken for the new one's. */
        struct mql_client *old = b->client;
        b->client = c;
        b->state = MQL_CLIENT_STOPPED;
        b->sub_ids = false;
        mql_client_free(old);
        router_broker_reset(b);
        r = router_broker_sync_pinned(b);
        if (r < 0)
                return r;
        return mql_client_start(c);
}

void broker_disconnect(struct broker *b) {
        router_broker_release(b);
        (void)mql_client_disconnect(b->client, 0);
}

int broker_publish(struct broker *b, const struct mql_message *msg, mql_publish_fn cb,
                   void *userdata) {
        return mql_client_publish(b->client, msg, cb, userdata);
}

size_t broker_pending(struct broker *b) {
        struct mql_session_stats st;
        mql_session_get_stats(mql_client_get_session(b->client), &st);
        return st.inflight + st.queued;
}

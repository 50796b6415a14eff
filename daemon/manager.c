/* SPDX-License-Identifier: MIT */

#include "manager.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mqlink/mqlink.h>

#include "broker.h"
#include "ipc_server.h"
#include "json.h"
#include "log.h"
#include "router.h"
#include "sd.h"

/* How often a graceful stop looks whether the brokers have their acks. */
#define STOP_POLL_USEC (50u * 1000u)
/* After DISCONNECT: how long to let it reach the broker. */
#define STOP_LINGER_USEC (1000u * 1000u)

struct manager {
        sd_event *event;      /* owned reference */
        char *config_path;    /* owned */
        struct config *config; /* owned */
        struct broker *brokers; /* owned list, in config order */
        struct ipc_server *server; /* owned */
        sd_event_source *sig_term, *sig_int, *sig_hup;
        sd_event_source *status; /* coalesces STATUS= updates */
        sd_event_source *stop_timer;
        uint64_t started_usec;
        uint64_t stop_deadline;
        bool stopping;
        bool disconnected; /* DISCONNECT sent during the stop */
        bool ready;
        int exit_code;
};

sd_event *manager_event(struct manager *m) {
        return m->event;
}

const struct config *manager_config(struct manager *m) {
        return m->config;
}

bool manager_stopping(const struct manager *m) {
        return m->stopping;
}

struct broker *manager_find_broker(struct manager *m, const char *name, size_t len) {
        if (len == 0) {
                const struct config_broker *d = m->config->default_broker;
                if (!d)
                        return NULL;
                name = d->name;
                len = strlen(name);
        }
        for (struct broker *b = m->brokers; b; b = b->next)
                if (strlen(b->name) == len && memcmp(b->name, name, len) == 0)
                        return b;
        return NULL;
}

/* ---- STATUS= and the STATUS document ---------------------------------- */

static void status_line(struct manager *m, char *buf, size_t size) {
        size_t n_up = 0, n = 0;
        int off;

        for (struct broker *b = m->brokers; b; b = b->next, n++)
                if (b->state == MQL_CLIENT_CONNECTED)
                        n_up++;
        off = snprintf(buf, size, "%zu/%zu brokers connected, %zu local clients", n_up, n,
                       ipc_server_n_conns(m->server));
        /* Then the ones that are not up, which is what someone reading
         * `systemctl status` looks for. */
        for (struct broker *b = m->brokers; b && off > 0 && (size_t)off < size; b = b->next)
                if (b->state != MQL_CLIENT_CONNECTED)
                        off += snprintf(buf + off, size - (size_t)off, "; %s %s", b->name,
                                        broker_state_str(b));
}

static int on_status(sd_event_source *src, void *userdata) {
        struct manager *m = userdata;
        char line[512];

        if (m->stopping || !m->ready)
                return 0;
        status_line(m, line, sizeof line);
        sd_tell_status(line);
        return 0;
}

void manager_broker_changed(struct manager *m) {
        if (m->status)
                (void)sd_event_source_set_enabled(m->status, SD_EVENT_ONESHOT);
}

static int broker_json(struct broker *b, bool is_default, struct bytes *out) {
        struct mql_session_stats st;
        int r;

        mql_session_get_stats(mql_client_get_session(b->client), &st);
        const char *uri = b->state == MQL_CLIENT_STOPPED ? NULL : mql_client_get_uri(b->client);
        char err[160] = "";
        if (b->last_error < 0)
                snprintf(err, sizeof err, "%s", mql_strerror(b->last_error));
        else if (b->last_reason)
                snprintf(err, sizeof err, "0x%02x %s", b->last_reason, mql_reason_str(b->last_reason));

        r = bytes_append(out, "{", 1);
        if (r >= 0)
                r = json_kv_str(out, true, "name", b->name);
        if (r >= 0)
                r = json_kv_str(out, false, "state", broker_state_str(b));
        if (r >= 0)
                r = json_kv_str(out, false, "uri", uri ? uri : b->cfg->uris[0]);
        if (r >= 0)
                r = json_kv_bool(out, false, "default", is_default);
        if (r >= 0)
                r = json_kv_str(out, false, "protocol", b->cfg->protocol == 5 ? "5" : "3.1.1");
        if (r >= 0)
                r = json_kv_str(out, false, "client_id", b->cfg->client_id);
        if (r >= 0)
                r = json_kv_u64(out, false, "queued", st.queued);
        if (r >= 0)
                r = json_kv_u64(out, false, "queued_bytes", st.queued_bytes);
        if (r >= 0)
                r = json_kv_u64(out, false, "inflight", st.inflight);
        if (r >= 0)
                r = json_kv_u64(out, false, "subscriptions", router_broker_n_upstream(b));
        if (r >= 0)
                r = json_kv_u64(out, false, "connects", b->connects);
        if (r >= 0)
                r = json_kv_u64(out, false, "published", st.published);
        if (r >= 0)
                r = json_kv_u64(out, false, "received", b->received);
        if (r >= 0)
                r = json_kv_u64(out, false, "unrouted", b->unrouted);
        if (r >= 0)
                r = json_kv_str(out, false, "last_error", err);
        return r < 0 ? r : bytes_append(out, "}", 1);
}

int manager_status_json(struct manager *m, struct bytes *out) {
        uint64_t now;
        int r;

        sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        r = bytes_append(out, "{", 1);
        if (r >= 0)
                r = json_kv_str(out, true, "version", mql_version_string());
        if (r >= 0)
                r = json_kv_u64(out, false, "pid", (uint64_t)getpid());
        if (r >= 0)
                r = json_kv_u64(out, false, "uptime", (now - m->started_usec) / 1000000u);
        if (r >= 0)
                r = json_kv_str(out, false, "socket", m->config->socket_path);
        if (r >= 0)
                r = json_key(out, false, "brokers");
        if (r >= 0)
                r = bytes_append(out, "[", 1);
        for (struct broker *b = m->brokers; b && r >= 0; b = b->next) {
                if (b != m->brokers)
                        r = bytes_append(out, ",", 1);
                if (r >= 0)
                        r = broker_json(b, b->cfg == m->config->default_broker, out);
        }
        if (r >= 0)
                r = bytes_append(out, "]", 1);
        if (r >= 0)
                r = json_key(out, false, "clients");
        if (r >= 0)
                r = ipc_server_status_json(m->server, out);
        return r < 0 ? r : bytes_append(out, "}", 1);
}

/* ---- brokers ---------------------------------------------------------- */

static int brokers_create(struct manager *m) {
        struct broker **tail = &m->brokers;
        for (size_t i = 0; i < m->config->n_brokers; i++) {
                struct broker *b;
                int r = broker_new(m, &m->config->brokers[i], &b);
                if (r < 0)
                        return log_error_errno(r, "broker %s", m->config->brokers[i].name);
                *tail = b;
                tail = &b->next;
        }
        return 0;
}

/*
 * Applies a new configuration: unchanged brokers keep their session (only
 * their config pointer and pinned subscriptions move), changed ones get a
 * new client, removed ones close, new ones start. Local clients are not
 * touched.
 */
static int apply_config(struct manager *m, struct config *new) {
        struct broker *list = NULL, **tail = &list;
        struct broker *old = m->brokers;

        /* The new list in the new order, taking brokers over by name. */
        for (size_t i = 0; i < new->n_brokers; i++) {
                const struct config_broker *cb = &new->brokers[i];
                struct broker *b = NULL, **pp;
                for (pp = &old; *pp; pp = &(*pp)->next)
                        if (strcmp((*pp)->name, cb->name) == 0) {
                                b = *pp;
                                *pp = b->next;
                                b->next = NULL;
                                break;
                        }
                if (b && !b->cfg_pending && config_broker_same_session(b->cfg, cb)) {
                        b->cfg = cb;
                        (void)router_broker_sync_pinned(b);
                        log_debug("broker %s: unchanged", b->name);
                } else if (b) {
                        log_info("broker %s: changed: reconnecting", b->name);
                        int r = broker_replace(b, cb);
                        if (r < 0)
                                log_error_errno(r, "broker %s: cannot restart", b->name);
                } else {
                        int r = broker_new(m, cb, &b);
                        if (r < 0) {
                                log_error_errno(r, "broker %s", cb->name);
                                continue;
                        }
                        log_info("broker %s: added", b->name);
                        (void)broker_start(b);
                }
                *tail = b;
                tail = &b->next;
        }
        while (old) {
                struct broker *b = old;
                old = b->next;
                log_info("broker %s: removed", b->name);
                broker_disconnect(b);
                broker_free(b);
        }
        m->brokers = list;
        return 0;
}

static int reload(struct manager *m) {
        struct config *new = NULL;
        char *error = NULL;
        int r;

        sd_tell_reloading();
        log_info("reloading %s", m->config_path);
        r = config_load(m->config_path, &new, &error);
        if (r < 0) {
                log_error("reload refused, the running configuration stays: %s",
                          error ? error : mql_strerror(r));
                free(error);
        } else {
                if (strcmp(new->socket_path, m->config->socket_path) != 0 ||
                    new->socket_mode != m->config->socket_mode)
                        log_warning("socket settings change only on restart");
                struct config *old = m->config;
                /* The new config must be in place before brokers are
                 * compared and made, since they point into it. */
                m->config = new;
                apply_config(m, new);
                config_free(old);
                log_set_max_level(new->log_level);
        }
        char line[512];
        status_line(m, line, sizeof line);
        sd_tell_ready(line);
        return 0;
}

/* ---- stopping ------------------------------------------------------------ */

static bool brokers_idle(struct manager *m) {
        /* A broker that is reconnecting may still take its queue before
         * the deadline. */
        for (struct broker *b = m->brokers; b; b = b->next)
                if (b->state != MQL_CLIENT_STOPPED && broker_pending(b) > 0)
                        return false;
        return true;
}

static bool brokers_stopped(struct manager *m) {
        for (struct broker *b = m->brokers; b; b = b->next)
                if (b->state != MQL_CLIENT_STOPPED && b->state != MQL_CLIENT_WAITING)
                        return false;
        return true;
}

/* Timer sources are one-shot: each new time needs them enabled again. */
static int stop_timer_at(struct manager *m, uint64_t usec) {
        int r = sd_event_source_set_time(m->stop_timer, usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->stop_timer, SD_EVENT_ONESHOT);
        return r;
}

static int on_stop_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        if (!m->disconnected) {
                if (!brokers_idle(m) && usec < m->stop_deadline)
                        return stop_timer_at(m, usec + STOP_POLL_USEC);
                if (!brokers_idle(m))
                        log_warning("stopping with messages still unacknowledged by a broker");
                for (struct broker *b = m->brokers; b; b = b->next)
                        broker_disconnect(b);
                m->disconnected = true;
                m->stop_deadline = usec + STOP_LINGER_USEC;
        }
        if (brokers_stopped(m) || usec >= m->stop_deadline)
                return sd_event_exit(m->event, m->exit_code);
        return stop_timer_at(m, usec + STOP_POLL_USEC);
}

static void stop(struct manager *m) {
        uint64_t now;

        if (m->stopping)
                return;
        m->stopping = true;
        sd_tell_stopping();
        log_info("stopping");
        ipc_server_stop_listening(m->server);
        sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        m->stop_deadline = now + (uint64_t)m->config->shutdown_timeout_ms * 1000u;
        /* 1 ms accuracy: 0 would mean sd-event's default of 250 ms. */
        if (sd_event_add_time(m->event, &m->stop_timer, CLOCK_MONOTONIC, now, 1000, on_stop_timer,
                              m) < 0)
                sd_event_exit(m->event, m->exit_code);
}

void manager_kick(struct manager *m) {
        if (m->stop_timer && !m->disconnected)
                (void)stop_timer_at(m, 0);
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;

        if (si->ssi_signo == SIGHUP) {
                if (!m->stopping)
                        reload(m);
        } else
                stop(m);
        return 0;
}

/* ---- life cycle ----------------------------------------------------------- */

int manager_new(const char *config_path, struct config *config, struct manager **ret) {
        struct manager *m = calloc(1, sizeof *m);
        int r;

        if (!m) {
                config_free(config);
                return -ENOMEM;
        }
        m->config = config;
        m->config_path = strdup(config_path);
        if (!m->config_path) {
                manager_free(m);
                return -ENOMEM;
        }
        r = sd_event_default(&m->event);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sig_term, SIGTERM, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sig_int, SIGINT, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sig_hup, SIGHUP, on_signal, m);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &m->status, on_status, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->status, SD_EVENT_OFF);
        /* Pings systemd's watchdog when WatchdogSec= is set; a wedged loop
         * stops pinging and gets restarted. */
        if (r >= 0)
                r = sd_event_set_watchdog(m->event, true);
        if (r >= 0)
                r = ipc_server_new(m, &m->server);
        if (r >= 0)
                r = brokers_create(m);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        sd_event_now(m->event, CLOCK_MONOTONIC, &m->started_usec);
        *ret = m;
        return 0;
}

struct manager *manager_free(struct manager *m) {
        if (!m)
                return NULL;
        /* Local connections first: their replies waiting on brokers are
         * orphaned, so broker callbacks find nothing to answer. */
        m->server = ipc_server_free(m->server);
        while (m->brokers) {
                struct broker *b = m->brokers;
                m->brokers = b->next;
                broker_free(b);
        }
        sd_event_source_disable_unref(m->sig_term);
        sd_event_source_disable_unref(m->sig_int);
        sd_event_source_disable_unref(m->sig_hup);
        sd_event_source_disable_unref(m->status);
        sd_event_source_disable_unref(m->stop_timer);
        sd_event_unref(m->event);
        config_free(m->config);
        free(m->config_path);
        free(m);
        return NULL;
}

int manager_start(struct manager *m) {
        int fd = sd_listen_socket();
        if (fd < -1)
                return fd;
        int r = ipc_server_listen(m->server, fd);
        if (r < 0)
                return r;
        for (struct broker *b = m->brokers; b; b = b->next) {
                r = broker_start(b);
                if (r < 0)
                        return log_error_errno(r, "broker %s: cannot start", b->name);
        }
        /* Ready once local programs can connect; brokers come when they
         * come (their messages queue meanwhile). */
        char line[512];
        status_line(m, line, sizeof line);
        m->ready = true;
        sd_tell_ready(line);
        return 0;
}

int manager_run(struct manager *m) {
        int r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "event loop failed");
        return r;
}

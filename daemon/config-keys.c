/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE 1 /* asprintf, strndup */

/*
 * The sections and keys of mqlinkd.conf: their defaults, names, ranges and
 * setters. A setter checks one value on its own and stores it; checks that
 * involve several keys or the file system wait for config-check.c, when
 * every file has been read and drop-ins have had their say.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <mqlink/ipc.h>
#include <mqlink/topic.h>
#include <mqlink/transport.h>

#include "config-internal.h"
#include "config-parse.h"

/* MQTT strings and binary data carry a two-byte length (MQTT 1.5.4, 1.5.6). */
#define MQTT_STRING_MAX 65535u
/* The largest MQTT packet: a Remaining Length of four bytes (MQTT 1.5.5). */
#define MQTT_PACKET_MAX 268435455u

struct key {
        const char *name;
        int (*set)(struct loader *l, void *obj, const struct key *k, const char *value);
        size_t offset, size; /* of the field set, for the generic setters */
        uint64_t min, max;   /* numbers; bytes for sizes, ms for durations */
        const char *noun;    /* "a number of seconds": for messages */
        bool repeats;        /* may be given more than once in a file */
};

#define FIELD(type, f) offsetof(type, f), sizeof(((type *)0)->f)

/* ---- messages ---- */

static int bad(struct loader *l, const struct key *k, const char *value, int err, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));
static int bad(struct loader *l, const struct key *k, const char *value, int err, const char *fmt,
               ...) {
        char label[80];
        va_list ap;

        va_start(ap, fmt);
        int r = loader_vfail_key(l, err, NULL,
                                 section_label(l, l->section, l->broker, label, sizeof(label)),
                                 k->name, value, fmt, ap);
        va_end(ap);
        return r;
}

static int oom(struct loader *l) {
        return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
}

/* ---- generic setters ---- */

static void store_uint(void *field, size_t size, uint64_t v) {
        switch (size) {
        case 1:
                *(uint8_t *)field = (uint8_t)v;
                break;
        case 2:
                *(uint16_t *)field = (uint16_t)v;
                break;
        case 4:
                *(uint32_t *)field = (uint32_t)v;
                break;
        default:
                *(uint64_t *)field = v;
                break;
        }
}

static int set_uint(struct loader *l, void *obj, const struct key *k, const char *value) {
        uint64_t v;

        if (parse_uint(value, k->min, k->max, &v) < 0)
                return bad(l, k, value, -EINVAL, "not %s in %llu..%llu",
                           k->noun ? k->noun : "a number", (unsigned long long)k->min,
                           (unsigned long long)k->max);
        store_uint((char *)obj + k->offset, k->size, v);
        return 0;
}

static int set_duration(struct loader *l, void *obj, const struct key *k, const char *value) {
        uint64_t v;

        if (parse_duration_ms(value, k->min, k->max, &v) < 0) {
                char min[32], max[32];
                format_seconds(k->min, min, sizeof(min));
                format_seconds(k->max, max, sizeof(max));
                return bad(l, k, value, -EINVAL,
                           "not a number of seconds in %s..%s (up to 3 decimals)", min, max);
        }
        store_uint((char *)obj + k->offset, k->size, v);
        return 0;
}

static int set_size(struct loader *l, void *obj, const struct key *k, const char *value) {
        uint64_t v;

        if (parse_size(value, k->min, k->max, &v) < 0) {
                char min[32], max[32];
                format_size(k->min, min, sizeof(min));
                format_size(k->max, max, sizeof(max));
                return bad(l, k, value, -EINVAL,
                           "not a size in %s..%s (bytes, or with a K, M or G suffix)", min, max);
        }
        store_uint((char *)obj + k->offset, k->size, v);
        return 0;
}

static int set_bool(struct loader *l, void *obj, const struct key *k, const char *value) {
        if (parse_bool(value, (bool *)((char *)obj + k->offset)) < 0)
                return bad(l, k, value, -EINVAL, "not a boolean (yes/no, true/false, on/off, 1/0)");
        return 0;
}

/* Replaces an owned string field; "" unsets it. */
static int store_string(struct loader *l, void *obj, const struct key *k, const char *value,
                        bool empty_unsets) {
        char **field = (char **)((char *)obj + k->offset);
        char *copy = NULL;

        if (*value || !empty_unsets) {
                copy = strdup(value);
                if (!copy)
                        return oom(l);
        }
        free(*field);
        *field = copy;
        return 0;
}

static int check_mqtt_string(struct loader *l, const struct key *k, const char *value) {
        size_t len = strlen(value);

        if (len > MQTT_STRING_MAX)
                return bad(l, k, value, -EINVAL, "longer than %u bytes", MQTT_STRING_MAX);
        if (!utf8_valid(value, len))
                return bad(l, k, value, -EINVAL, "not valid UTF-8");
        return 0;
}

/* An MQTT string (UTF-8, at most 65535 bytes); empty unsets it. */
static int set_mqtt_string(struct loader *l, void *obj, const struct key *k, const char *value) {
        int r = check_mqtt_string(l, k, value);
        if (r < 0)
                return r;
        return store_string(l, obj, k, value, true);
}

/* A path, resolved against the directory of the file that names it, so that
 * a drop-in can sit next to its certificates. Empty unsets it. */
static int set_path(struct loader *l, void *obj, const struct key *k, const char *value) {
        char **field = (char **)((char *)obj + k->offset);
        char *p = NULL;

        if (*value) {
                p = path_resolve(l->dir, value);
                if (!p)
                        return oom(l);
        }
        free(*field);
        *field = p;
        return 0;
}

/* ---- [mqlinkd] ---- */

static int set_socket_path(struct loader *l, void *obj, const struct key *k, const char *value) {
        if (value[0] != '/')
                return bad(l, k, value, -EINVAL, "not an absolute path");
        if (strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return bad(l, k, value, -EINVAL,
                           "longer than a Unix socket path can be (%zu bytes)",
                           sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        return store_string(l, obj, k, value, false);
}

static int set_socket_mode(struct loader *l, void *obj, const struct key *k, const char *value) {
        if (parse_mode(value, &((struct config *)obj)->socket_mode) < 0)
                return bad(l, k, value, -EINVAL, "not an octal mode in 0..0777");
        return 0;
}

static int set_socket_group(struct loader *l, void *obj, const struct key *k, const char *value) {
        size_t len = strlen(value);

        /* A POSIX portable name (or a number). It is looked up once all
         * files are read, so that only the final one has to exist. */
        if (len > 32 || value[0] == '-' ||
            strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
                    len)
                return bad(l, k, value, -EINVAL, "not a group name or number");
        return store_string(l, obj, k, value, true);
}

static int set_log_level(struct loader *l, void *obj, const struct key *k, const char *value) {
        if (parse_log_level(value, &((struct config *)obj)->log_level) < 0)
                return bad(l, k, value, -EINVAL,
                           "not a log level (err, warning, notice, info, debug, or 0..7)");
        return 0;
}

#define DAEMON(f) FIELD(struct config, f)

static const struct key daemon_keys[DAEMON_KEY_MAX] = {
        [DAEMON_SOCKET_PATH] = { "socket_path", set_socket_path, DAEMON(socket_path) },
        [DAEMON_SOCKET_MODE] = { "socket_mode", set_socket_mode, DAEMON(socket_mode) },
        [DAEMON_SOCKET_GROUP] = { "socket_group", set_socket_group, DAEMON(socket_group) },
        [DAEMON_LOG_LEVEL] = { "log_level", set_log_level, DAEMON(log_level) },
        [DAEMON_MAX_CLIENTS] = { "max_clients", set_uint, DAEMON(max_clients), 1, 1000000 },
        /* The IPC codec's own bounds (mql_ipc_parser_init()): 16 bytes at
         * least; and a line is kept whole in memory, hence 16M at most. */
        [DAEMON_MAX_LINE] = { "max_line", set_size, DAEMON(max_line), 16, 16u << 20 },
        [DAEMON_MAX_PAYLOAD] = { "max_payload", set_size, DAEMON(max_payload), 1, MQTT_PACKET_MAX },
        [DAEMON_MAX_SUBS_PER_CLIENT] = { "max_subs_per_client", set_uint,
                                         DAEMON(max_subs_per_client), 1, 1000000 },
        [DAEMON_CLIENT_OUTPUT_MAX] = { "client_output_max", set_size, DAEMON(client_output_max),
                                       1024, 1ull << 30 },
        [DAEMON_CLIENT_STALL] = { "client_stall", set_duration, DAEMON(client_stall_ms), 100,
                                  86400000 },
        [DAEMON_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", set_duration, DAEMON(shutdown_timeout_ms),
                                      0, 3600000 },
};

struct config *config_new_defaults(void) {
        struct config *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->socket_path = strdup(CONFIG_DEFAULT_SOCKET);
        if (!c->socket_path) {
                free(c);
                return NULL;
        }
        c->socket_mode = 0660;
        c->socket_gid = (gid_t)-1;
        c->log_level = LOG_INFO;
        c->max_clients = 1024;
        c->max_line = MQL_IPC_LINE_MAX_DEFAULT;
        c->max_payload = MQL_IPC_PAYLOAD_MAX_DEFAULT;
        c->max_subs_per_client = 1000;
        c->client_output_max = 4u << 20;
        c->client_stall_ms = 30000;
        c->shutdown_timeout_ms = 5000;
        return c;
}

/* ---- [broker:NAME] ---- */

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static void free_strv(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int set_uris(struct loader *l, void *obj, const struct key *k, const char *value) {
        struct config_broker *b = obj;
        char **uris = NULL;
        size_t n = 0;

        for (const char *p = value;;) {
                while (is_blank(*p))
                        p++;
                if (!*p)
                        break;
                size_t len = 0;
                while (p[len] && !is_blank(p[len]))
                        len++;

                char **bigger = realloc(uris, (n + 1) * sizeof(*uris));
                if (!bigger) {
                        free_strv(uris, n);
                        return oom(l);
                }
                uris = bigger;
                uris[n] = strndup(p, len);
                if (!uris[n]) {
                        free_strv(uris, n);
                        return oom(l);
                }
                n++;
                p += len;

                int r = mql_uri_parse(uris[n - 1], NULL, NULL, NULL, NULL);
                if (r < 0) {
                        if (r == -ENOMEM)
                                r = oom(l);
                        else
                                r = bad(l, k, uris[n - 1], -EINVAL, "%s",
                                        r == -EPROTONOSUPPORT
                                                ? "unknown scheme (mqtt://, mqtts://, tcp://, "
                                                  "ssl:// or unix://)"
                                                : "not a broker URI");
                        free_strv(uris, n);
                        return r;
                }
        }
        if (n == 0)
                return bad(l, k, value, -EINVAL, "no URI given");

        free_strv(b->uris, b->n_uris);
        b->uris = uris;
        b->n_uris = n;
        return 0;
}

static int set_protocol(struct loader *l, void *obj, const struct key *k, const char *value) {
        if (parse_protocol(value, &((struct config_broker *)obj)->protocol) < 0)
                return bad(l, k, value, -EINVAL, "not an MQTT version (5, 5.0, 3.1.1, 311 or 4)");
        return 0;
}

/* Empty is kept, not unset: "" asks the broker to assign an identifier. */
static int set_client_id(struct loader *l, void *obj, const struct key *k, const char *value) {
        int r = check_mqtt_string(l, k, value);
        if (r < 0)
                return r;
        return store_string(l, obj, k, value, false);
}

static bool is_token(const char *s, size_t len) {
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
                        return false;
        return true;
}

static int set_server_name(struct loader *l, void *obj, const struct key *k, const char *value) {
        size_t len = strlen(value);

        /* A DNS name is 253 bytes at most (RFC 1035 §2.3.4, written out). */
        if (len > 0 && (len > 253 || !is_token(value, len)))
                return bad(l, k, value, -EINVAL, "not a host name");
        return store_string(l, obj, k, value, true);
}

static int set_alpn(struct loader *l, void *obj, const struct key *k, const char *value) {
        /* Each protocol name is 1..255 bytes (RFC 7301 §3.1); an empty one
         * would make the transport refuse the whole list. */
        for (const char *p = value; *p;) {
                size_t len = strcspn(p, ",");
                if (len > 255 || !is_token(p, len))
                        return bad(l, k, value, -EINVAL,
                                   "not a comma-separated list of protocol names (\"mqtt\")");
                p += len;
                if (*p == ',' && !*++p)
                        return bad(l, k, value, -EINVAL, "an empty protocol name at the end");
        }
        return store_string(l, obj, k, value, true);
}

static int set_will_topic(struct loader *l, void *obj, const struct key *k, const char *value) {
        size_t len = strlen(value);

        if (len > 0) {
                int r = mql_topic_name_check(value, len);
                if (r == -EBADMSG)
                        return bad(l, k, value, -EINVAL, "not valid UTF-8");
                if (r < 0)
                        return bad(l, k, value, -EINVAL,
                                   "not a topic name (no '+' or '#', at most 65535 bytes)");
        }
        return store_string(l, obj, k, value, true);
}

static int set_will_payload(struct loader *l, void *obj, const struct key *k, const char *value) {
        struct config_broker *b = obj;
        size_t len = strlen(value);

        if (len > MQTT_STRING_MAX)
                return bad(l, k, value, -EINVAL, "longer than %u bytes", MQTT_STRING_MAX);
        int r = store_string(l, obj, k, value, true);
        if (r < 0)
                return r;
        b->will_payload_len = len;
        return 0;
}

static int add_subscription(struct loader *l, struct config_broker *b, const char *filter,
                            size_t len, uint8_t qos) {
        /* The same filter again sets its QoS, as a SUBSCRIBE would
         * (MQTT-3.8.4-3): a drop-in may raise the QoS of one from the main
         * file without a second entry. */
        for (size_t i = 0; i < b->n_subs; i++)
                if (strlen(b->subs[i].filter) == len &&
                    memcmp(b->subs[i].filter, filter, len) == 0) {
                        b->subs[i].qos = qos;
                        return 0;
                }

        struct config_subscription *subs = realloc(b->subs, (b->n_subs + 1) * sizeof(*subs));
        if (!subs)
                return oom(l);
        b->subs = subs;
        subs[b->n_subs].filter = strndup(filter, len);
        if (!subs[b->n_subs].filter)
                return oom(l);
        subs[b->n_subs].qos = qos;
        b->n_subs++;
        return 0;
}

/* `subscribe = FILTER [QOS]`. A filter may hold spaces, so the QoS is the
 * last word only when that word is a number; a filter that itself ends in a
 * number word needs its QoS written out ("floor 2 0"). */
static int set_subscribe(struct loader *l, void *obj, const struct key *k, const char *value) {
        size_t len = strlen(value);
        const char *last = value + len;
        uint64_t qos = 0;

        while (last > value && !is_blank(last[-1]))
                last--;
        if (last > value && *last && strspn(last, "0123456789") == strlen(last)) {
                if (parse_uint(last, 0, 2, &qos) < 0)
                        return bad(l, k, value, -EINVAL, "QoS %s not in 0..2", last);
                len = (size_t)(last - value);
                while (len > 0 && is_blank(value[len - 1]))
                        len--;
        }
        if (len == 0)
                return bad(l, k, value, -EINVAL, "no topic filter given");

        int r = mql_topic_filter_check(value, len);
        if (r == -EBADMSG)
                return bad(l, k, value, -EINVAL, "not valid UTF-8");
        if (r < 0)
                return bad(l, k, value, -EINVAL,
                           "not a topic filter ('+' and '#' fill a whole level, '#' the last)");
        return add_subscription(l, obj, value, len, (uint8_t)qos);
}

#define BROKER(f) FIELD(struct config_broker, f)
#define SECONDS "a number of seconds"

static const struct key broker_keys[BROKER_KEY_MAX] = {
        [BROKER_URI] = { "uri", set_uris },
        [BROKER_PROTOCOL] = { "protocol", set_protocol },
        [BROKER_CLIENT_ID] = { "client_id", set_client_id, BROKER(client_id) },
        [BROKER_CLEAN_START] = { "clean_start", set_bool, BROKER(clean_start) },
        [BROKER_SESSION_EXPIRY] = { "session_expiry", set_uint, BROKER(session_expiry), 0,
                                    UINT32_MAX, SECONDS },
        [BROKER_KEEPALIVE] = { "keepalive", set_uint, BROKER(keepalive), 0, UINT16_MAX, SECONDS },
        [BROKER_USERNAME] = { "username", set_mqtt_string, BROKER(username) },
        [BROKER_PASSWORD_FILE] = { "password_file", set_path, BROKER(password_file) },
        [BROKER_TLS_CA_FILE] = { "tls_ca_file", set_path, BROKER(tls_ca_file) },
        [BROKER_TLS_CA_PATH] = { "tls_ca_path", set_path, BROKER(tls_ca_path) },
        [BROKER_TLS_CERT_FILE] = { "tls_cert_file", set_path, BROKER(tls_cert_file) },
        [BROKER_TLS_KEY_FILE] = { "tls_key_file", set_path, BROKER(tls_key_file) },
        [BROKER_TLS_SERVER_NAME] = { "tls_server_name", set_server_name, BROKER(tls_server_name) },
        [BROKER_TLS_ALPN] = { "tls_alpn", set_alpn, BROKER(tls_alpn) },
        [BROKER_TLS_VERIFY] = { "tls_verify", set_bool, BROKER(tls_verify) },
        [BROKER_WILL_TOPIC] = { "will_topic", set_will_topic, BROKER(will_topic) },
        [BROKER_WILL_PAYLOAD] = { "will_payload", set_will_payload, BROKER(will_payload) },
        [BROKER_WILL_QOS] = { "will_qos", set_uint, BROKER(will_qos), 0, 2, "a QoS" },
        [BROKER_WILL_RETAIN] = { "will_retain", set_bool, BROKER(will_retain) },
        [BROKER_WILL_DELAY] = { "will_delay", set_uint, BROKER(will_delay), 0, UINT32_MAX,
                                SECONDS },
        [BROKER_RECONNECT_MIN] = { "reconnect_min", set_duration, BROKER(reconnect_min_ms), 10,
                                   3600000 },
        [BROKER_RECONNECT_MAX] = { "reconnect_max", set_duration, BROKER(reconnect_max_ms), 10,
                                   86400000 },
        [BROKER_CONNECT_TIMEOUT] = { "connect_timeout", set_duration, BROKER(connect_timeout_ms),
                                     100, 3600000 },
        [BROKER_QUEUE_MESSAGES] = { "queue_messages", set_uint, BROKER(queue_messages), 1,
                                    10000000 },
        [BROKER_QUEUE_BYTES] = { "queue_bytes", set_size, BROKER(queue_bytes), 1024, 1ull << 30 },
        [BROKER_MAX_INFLIGHT] = { "max_inflight", set_uint, BROKER(max_inflight), 0, UINT16_MAX },
        [BROKER_DEFAULT] = { "default", set_bool, BROKER(is_default) },
        [BROKER_SUBSCRIBE] = { "subscribe", set_subscribe, .repeats = true },
};

const char *daemon_key_name(enum daemon_key k) {
        return daemon_keys[k].name;
}

const char *broker_key_name(enum broker_key k) {
        return broker_keys[k].name;
}

/* "mqlinkd-<hostname>-<name>": unique per machine and broker section, and
 * stable across restarts so that the session can be resumed. */
static char *default_client_id(const char *name) {
        char host[256] = "";
        char *id;

        if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
                strcpy(host, "localhost");
        /* Keep the identifier printable ASCII whatever the host name holds. */
        for (char *p = host; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                        *p = '_';
        if (asprintf(&id, "mqlinkd-%s-%s", host, name) < 0)
                return NULL;
        return id;
}

static int broker_new(struct loader *l, const char *name, size_t len) {
        struct config *c = l->config;

        struct broker_seen *seen = realloc(l->broker_seen, (c->n_brokers + 1) * sizeof(*seen));
        if (!seen)
                return oom(l);
        l->broker_seen = seen;
        memset(&seen[c->n_brokers], 0, sizeof(*seen));

        struct config_broker *brokers = realloc(c->brokers, (c->n_brokers + 1) * sizeof(*brokers));
        if (!brokers)
                return oom(l);
        c->brokers = brokers;

        struct config_broker *b = &brokers[c->n_brokers];
        *b = (struct config_broker){
                .protocol = 5,
                .session_expiry = 3600,
                .keepalive = 60,
                .tls_verify = true,
                .reconnect_min_ms = 500,
                .reconnect_max_ms = 30000,
                .connect_timeout_ms = 30000,
                .queue_messages = 1000,
                .queue_bytes = 16u << 20,
                .line = l->line,
        };
        /* Counted before the allocations, so that config_free() frees
         * whatever of them succeeded. */
        c->n_brokers++;
        b->name = strndup(name, len);
        b->file = strdup(l->files[l->n_files - 1]);
        if (!b->name || !b->file)
                return oom(l);
        b->client_id = default_client_id(b->name);
        if (!b->client_id)
                return oom(l);

        l->broker = c->n_brokers - 1;
        return 0;
}

static int broker_open(struct loader *l, const char *name, size_t len) {
        static const char charset[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
        char shown[CONFIG_VALUE_BUF];
        size_t ok = 0;

        /* strspn() stops at a NUL, which cannot occur here: sections come
         * from NUL-free lines. */
        while (ok < len && strchr(charset, name[ok]) && name[ok])
                ok++;
        if (len == 0 || len > CONFIG_BROKER_NAME_MAX || ok != len) {
                escape_value(name, len, shown);
                return loader_fail_here(l, -EINVAL,
                                        "bad broker name (1 to %u of A-Z a-z 0-9 _ . -): \"%s\"",
                                        CONFIG_BROKER_NAME_MAX, shown);
        }

        for (size_t i = 0; i < l->config->n_brokers; i++)
                if (strlen(l->config->brokers[i].name) == len &&
                    memcmp(l->config->brokers[i].name, name, len) == 0) {
                        l->broker = i;
                        l->section = SECTION_BROKER;
                        return 0;
                }

        int r = broker_new(l, name, len);
        if (r < 0)
                return r;
        l->section = SECTION_BROKER;
        return 0;
}

static bool has_prefix(const char *s, size_t len, const char *prefix) {
        size_t n = strlen(prefix);
        return len >= n && memcmp(s, prefix, n) == 0;
}

int section_open(struct loader *l, const char *name, size_t len) {
        char shown[CONFIG_VALUE_BUF];

        if (len == 7 && memcmp(name, "mqlinkd", 7) == 0) {
                l->section = SECTION_DAEMON;
                return 0;
        }
        if (has_prefix(name, len, "broker:"))
                return broker_open(l, name + 7, len - 7);

        escape_value(name, len, shown);
        if (has_prefix(name, len, "bridge:"))
                return loader_fail_here(l, -EINVAL, "[%s]: bridges are not supported yet", shown);
        return loader_fail_here(l, -EINVAL,
                                "unknown section, expected [mqlinkd] or [broker:NAME]: \"[%s]\"",
                                shown);
}

static const struct key *find_key(const struct key *table, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (table[i].name && strcmp(table[i].name, name) == 0)
                        return &table[i];
        return NULL;
}

/* What to add to "unknown key": the likely slip. */
static const char *unknown_key_hint(enum section_kind section, const char *name) {
        if (section == SECTION_DAEMON && find_key(broker_keys, BROKER_KEY_MAX, name))
                return " here (it belongs in a [broker:NAME] section)";
        if (section == SECTION_BROKER && find_key(daemon_keys, DAEMON_KEY_MAX, name))
                return " here (it belongs in [mqlinkd])";
        for (const char *p = name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        return " (keys are lower case)";
        return "";
}

int key_set(struct loader *l, const char *name, const char *value) {
        char shown[CONFIG_VALUE_BUF], label[80];
        const struct key *table;
        struct key_seen *seen;
        void *obj;
        size_t n;

        if (!*name) {
                escape_value(value, strlen(value), shown);
                return loader_fail_here(l, -EINVAL, "syntax error: a value without a key: \"%s\"",
                                        shown);
        }
        escape_value(name, strlen(name), shown);

        switch (l->section) {
        case SECTION_DAEMON:
                table = daemon_keys;
                n = DAEMON_KEY_MAX;
                obj = l->config;
                seen = l->daemon_seen;
                break;
        case SECTION_BROKER:
                table = broker_keys;
                n = BROKER_KEY_MAX;
                obj = &l->config->brokers[l->broker];
                seen = l->broker_seen[l->broker].key;
                break;
        default:
                return loader_fail_here(l, -EINVAL,
                                        "%s: outside any section; put it under [mqlinkd] or "
                                        "[broker:NAME]",
                                        shown);
        }

        section_label(l, l->section, l->broker, label, sizeof(label));
        const struct key *k = find_key(table, n, name);
        if (!k)
                return loader_fail_key(l, -EINVAL, NULL, label, shown, NULL, "unknown key%s",
                                       unknown_key_hint(l->section, name));

        struct key_seen *s = &seen[k - table];
        /* A key twice in one file is a slip (an edit that missed the first
         * one); across files it is what drop-ins are for. */
        if (!k->repeats && s->file == l->n_files)
                return loader_fail_key(l, -EINVAL, NULL, label, k->name, value,
                                       "given twice in one file (first on line %u)", s->line);

        int r = k->set(l, obj, k, value);
        if (r < 0)
                return r;
        *s = (struct key_seen){ .file = (unsigned)l->n_files, .line = l->line };
        return 0;
}

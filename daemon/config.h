/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * mqlinkd's configuration: INI files read with inih. The main file, then
 * every "*.conf" in "<main file>.d/" in lexical (strcmp) order. A section
 * seen again in a later file is merged into the earlier one: a key given
 * again replaces the earlier value, except `subscribe`, which adds. Within
 * one file, a key given twice in one section is an error (a typo, most of
 * the time), again except `subscribe`.
 *
 * Sections: [mqlinkd] (at most one, merged), [broker:NAME] (one per broker),
 * [bridge:NAME] (reserved: refused with "not supported yet"). Any other
 * section or key is an error. Every error names the file and the line:
 *   "/etc/mqlink/mqlinkd.conf:12: [broker:home] keepalive: not a number
 *    of seconds in 0..65535: \"abc\""
 *
 * Lines are "key = value"; ';' or '#' starts a comment line, and " ;"
 * (after whitespace) a comment at the end of a line. Values are taken as
 * written, without quotes or escapes, leading and trailing whitespace
 * stripped; an empty value unsets an optional key. Indentation is ignored
 * (there are no continuation lines). A line holds at most what inih's
 * buffer does (198 bytes in Debian's build); a longer one is an error.
 *
 * The whole configuration is checked at load time (URIs parsed, topic
 * filters checked, password files read and their permissions checked, TLS
 * files and the socket group looked up), so that `mqlinkd --check-config`
 * and a SIGHUP reload catch everything a start would.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_DEFAULT_PATH "/etc/mqlink/mqlinkd.conf"
#define CONFIG_DEFAULT_SOCKET "/run/mqlinkd/mqlinkd.sock"

/* `subscribe = FILTER [QOS]` of a broker: held upstream for as long as the
 * broker is configured, whether or not a local client listens. */
struct config_subscription {
        char *filter; /* owned; a valid topic filter */
        uint8_t qos;  /* 0..2; default 0 */
};

struct config_broker {
        char *name; /* owned; from the section name: [A-Za-z0-9_.-]{1,64} */

        char **uris; /* owned, n_uris >= 1; `uri = U1 [U2...]` (failover order) */
        size_t n_uris;
        uint8_t protocol; /* 4 (`protocol = 3.1.1`) or 5 (default) */
        char *client_id;  /* owned; default "mqlinkd-<hostname>-<name>" */
        bool clean_start; /* default false: resume the session */
        uint32_t session_expiry; /* seconds; default 3600 (MQTT 5 only) */
        uint16_t keepalive;      /* seconds; default 60; 0 disables */

        char *username;      /* owned or NULL */
        /* Paths here and below given relative are resolved at load against
         * the directory of the file that names them. */
        char *password_file; /* owned or NULL */
        char *password;      /* owned or NULL; the file's content, one trailing
                              * "\n" (or "\r\n") removed; may hold any byte */
        size_t password_len;

        /* TLS, used by mqtts:// URIs. */
        char *tls_ca_file;     /* owned or NULL */
        char *tls_ca_path;     /* owned or NULL */
        char *tls_cert_file;   /* owned or NULL */
        char *tls_key_file;    /* owned or NULL */
        char *tls_server_name; /* owned or NULL */
        char *tls_alpn;        /* owned or NULL */
        bool tls_verify;       /* default true */

        /* The will; will_topic NULL: none. */
        char *will_topic;   /* owned or NULL; a valid topic name */
        char *will_payload; /* owned or NULL (empty payload) */
        size_t will_payload_len;
        uint8_t will_qos;   /* default 0 */
        bool will_retain;   /* default false */
        uint32_t will_delay; /* seconds, MQTT 5 only; default 0 */

        uint32_t reconnect_min_ms; /* `reconnect_min = 0.5` seconds (decimals allowed); default 500 */
        uint32_t reconnect_max_ms; /* default 30000; >= reconnect_min_ms */
        uint32_t connect_timeout_ms; /* default 30000 */

        size_t queue_messages; /* offline queue bound; default 1000; >= 1 */
        size_t queue_bytes;    /* default 16 MiB; sizes accept K/M/G suffixes */
        uint16_t max_inflight; /* default 0: the library's default */

        bool is_default; /* `default = yes`; at most one broker has it */

        struct config_subscription *subs; /* owned array, n_subs entries */
        size_t n_subs;

        char *file;    /* owned; where the section was first seen */
        unsigned line;
};

struct config {
        char *path; /* owned; the main file */

        char *socket_path;   /* owned; default CONFIG_DEFAULT_SOCKET */
        mode_t socket_mode;  /* octal; default 0660 */
        char *socket_group;  /* owned or NULL: the daemon's group */
        gid_t socket_gid;    /* socket_group looked up at load; (gid_t)-1 when NULL */
        int log_level;       /* syslog priority; `log_level = err|warning|notice|info|debug`; default info */

        size_t max_clients;        /* local connections; default 1024 */
        size_t max_line;           /* default MQL_IPC_LINE_MAX_DEFAULT (64K) */
        size_t max_payload;        /* default 1 MiB; <= 268435455 */
        size_t max_subs_per_client; /* default 1000 */
        size_t client_output_max;  /* bytes queued to one local client before QoS 0
                                    * messages to it are dropped; default 4 MiB */
        uint32_t client_stall_ms;  /* a client kept full this long is disconnected; default 30000 */
        uint32_t shutdown_timeout_ms; /* SIGTERM: wait this long for pending acks; default 5000 */

        struct config_broker *brokers; /* owned array, n_brokers entries, in the
                                        * order first seen; names are unique */
        size_t n_brokers;
        /* The broker a PUB without broker= goes to: the one with
         * `default = yes`, else the first; NULL when there is no broker. */
        const struct config_broker *default_broker;
};

/*
 * Loads `path` (NULL: CONFIG_DEFAULT_PATH) and its drop-in directory
 * "<path>.d/" (missing: fine). Returns 0 and a new config in *ret, or a
 * -errno and a malloc'd message in *ret_error (the caller frees it; it may
 * be NULL on -ENOMEM; ret_error itself may be NULL) that starts with the
 * file's name and, where there is one, its line: -ENOENT the main file is
 * missing, -EINVAL a bad value, unknown section or key, or a syntax error,
 * -EACCES a password file readable or writable by others ("mode 0644:
 * readable by others; chmod 600 it"), or the errno of a file that could not
 * be read (a password or TLS file, a drop-in). Only the first error is
 * reported. Nothing is written to *ret on failure.
 */
int config_load(const char *path, struct config **ret, char **ret_error);

/*
 * As config_load() but from a string, as if it were a file named `name`
 * with no drop-in directory; for tests and the fuzzer. Password files are
 * still read from the file system.
 */
int config_load_string(const char *name, const char *text, struct config **ret, char **ret_error);

/* Accepts NULL. Returns NULL. */
struct config *config_free(struct config *c);

const struct config_broker *config_find_broker(const struct config *c, const char *name);

/*
 * True when two broker sections would make the same MQTT session: every
 * field that goes into the connection (URIs, protocol, client id, clean
 * start, expiry, keepalive, credentials, TLS, will, reconnect bounds,
 * queue bounds, inflight). `default`, `subscribe` and the file position are
 * left out: a reload applies those without reconnecting.
 */
bool config_broker_same_session(const struct config_broker *a, const struct config_broker *b);

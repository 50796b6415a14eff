/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the parts of the config loader share: the loader's state while files
 * are read, and the calls between its files:
 *   config.c        the public functions: load, free, find, compare
 *   config-ini.c    inih glue: lines, sections, syntax errors
 *   config-keys.c   the keys of each section and their setters
 *   config-check.c  checks that need the whole configuration
 *   config-file.c   reading files safely, resolving relative paths
 *   config-parse.c  value parsers (config-parse.h)
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* The daemon has no shared macro header yet; these follow lib/util/macro.h. */
static inline void config_freep(void *p) {
        free(*(void **)p);
}
static inline void config_closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(config_freep)
#define _cleanup_close_ _cleanup_(config_closep)
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _taken_ = (p); \
                (p) = NULL;                  \
                _taken_;                     \
        })
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Largest config file: far beyond any real one, small enough that a wrong
 * path (a log, an image) fails at once instead of being parsed. */
#define CONFIG_FILE_MAX (1024u * 1024u)
/* MQTT carries a password as Binary Data with a two-byte length (MQTT
 * 1.5.6); room for a trailing "\r\n" on top. */
#define CONFIG_PASSWORD_MAX 65535u
#define CONFIG_BROKER_NAME_MAX 64u

enum daemon_key {
        DAEMON_SOCKET_PATH,
        DAEMON_SOCKET_MODE,
        DAEMON_SOCKET_GROUP,
        DAEMON_LOG_LEVEL,
        DAEMON_MAX_CLIENTS,
        DAEMON_MAX_LINE,
        DAEMON_MAX_PAYLOAD,
        DAEMON_MAX_SUBS_PER_CLIENT,
        DAEMON_CLIENT_OUTPUT_MAX,
        DAEMON_CLIENT_STALL,
        DAEMON_SHUTDOWN_TIMEOUT,
        DAEMON_KEY_MAX,
};

enum broker_key {
        BROKER_URI,
        BROKER_PROTOCOL,
        BROKER_CLIENT_ID,
        BROKER_CLEAN_START,
        BROKER_SESSION_EXPIRY,
        BROKER_KEEPALIVE,
        BROKER_USERNAME,
        BROKER_PASSWORD_FILE,
        BROKER_TLS_CA_FILE,
        BROKER_TLS_CA_PATH,
        BROKER_TLS_CERT_FILE,
        BROKER_TLS_KEY_FILE,
        BROKER_TLS_SERVER_NAME,
        BROKER_TLS_ALPN,
        BROKER_TLS_VERIFY,
        BROKER_WILL_TOPIC,
        BROKER_WILL_PAYLOAD,
        BROKER_WILL_QOS,
        BROKER_WILL_RETAIN,
        BROKER_WILL_DELAY,
        BROKER_RECONNECT_MIN,
        BROKER_RECONNECT_MAX,
        BROKER_CONNECT_TIMEOUT,
        BROKER_QUEUE_MESSAGES,
        BROKER_QUEUE_BYTES,
        BROKER_MAX_INFLIGHT,
        BROKER_DEFAULT,
        BROKER_SUBSCRIBE,
        BROKER_KEY_MAX,
};

/* Where a key was last given: for the duplicate check within one file and
 * for messages about it after all files are read. */
struct key_seen {
        unsigned file; /* 1 + index into loader.files; 0: never given */
        unsigned line;
};

struct broker_seen {
        struct key_seen key[BROKER_KEY_MAX];
};

enum section_kind {
        SECTION_NONE, /* before the first section header of a file */
        SECTION_DAEMON,
        SECTION_BROKER,
};

struct loader {
        struct config *config;

        char **files; /* every file read, as named in messages */
        size_t n_files;

        /* The file being read. */
        const char *text;
        size_t len, pos;
        unsigned line;
        char *dir; /* relative paths are resolved against it; NULL: "." */

        enum section_kind section;
        size_t broker; /* SECTION_BROKER: index into config->brokers */

        struct key_seen daemon_seen[DAEMON_KEY_MAX];
        struct broker_seen *broker_seen; /* parallel to config->brokers */

        int error; /* the first error, which is the one reported */
        char *message;
};

/* config.c */
/* Records the first error as "FILE:LINE: WHAT" ("FILE: WHAT" for line 0;
 * file NULL: the main file); later ones are dropped. Returns the error kept
 * (-ENOMEM if even the message could not be made). */
int loader_fail(struct loader *l, int err, const char *file, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
/* The same at the line being read. */
int loader_fail_here(struct loader *l, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "FILE:LINE: [SECTION] KEY: WHAT: "VALUE"" (no value part when value is
 * NULL), at `seen`, or at the line being read when seen is NULL. */
int loader_fail_key(struct loader *l, int err, const struct key_seen *seen, const char *section,
                    const char *key, const char *value, const char *fmt, ...)
        __attribute__((format(printf, 7, 8)));
int loader_vfail_key(struct loader *l, int err, const struct key_seen *seen, const char *section,
                     const char *key, const char *value, const char *fmt, va_list ap)
        __attribute__((format(printf, 7, 0)));
/* "[mqlinkd]" or "[broker:NAME]" into buf (at least 80 bytes). */
const char *section_label(const struct loader *l, enum section_kind kind, size_t broker, char *buf,
                          size_t size);

/* config-ini.c: parses one file's text (NUL-terminated at text[len]). */
int loader_parse(struct loader *l, const char *name, const char *text, size_t len);

/* config-keys.c */
/* A config with every default and no broker. */
struct config *config_new_defaults(void);
int section_open(struct loader *l, const char *name, size_t len);
int key_set(struct loader *l, const char *name, const char *value);
const char *daemon_key_name(enum daemon_key k);
const char *broker_key_name(enum broker_key k);

/* config-check.c: the checks and file reads that need every file read. */
int loader_finish(struct loader *l);

/* config-file.c */
/* Opens a regular file for reading without opening anything else: no FIFO,
 * device or directory is opened, so that a wrong path can neither hang nor
 * have side effects. Returns the fd and fills *ret_st, or -EISDIR, -EINVAL
 * (not a regular file), or the errno of stat/open. */
int file_open_regular(const char *path, struct stat *ret_st);
/* Reads fd to its end: at most `max` bytes (-EFBIG beyond), NUL appended and
 * not counted. */
int file_read_all(int fd, size_t max, char **ret_data, size_t *ret_len);
/* What a file_open_regular() / file_read_all() error means, for a message. */
const char *file_error_str(int err);
/* `path` as seen from directory `dir` (NULL: the working directory).
 * Returns a malloc'd string or NULL. */
char *path_resolve(const char *dir, const char *path);
/* The directory part of `file`, malloc'd; NULL with *ret_oom false when it
 * has none. */
char *path_dir(const char *file, bool *ret_oom);
/* The "*.conf" files directly in `dir`, not starting with '.', sorted by
 * strcmp, as malloc'd full paths. A missing directory gives none. */
int dropins_list(const char *dir, char ***ret, size_t *ret_n);

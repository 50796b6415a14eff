/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE 1 /* asprintf, vasprintf, explicit_bzero */

/*
 * The config loader's public face: read the main file and its drop-ins,
 * hand back a config or the first error; free; find; compare. How a line
 * becomes a value lives in config-ini.c and config-keys.c.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config-internal.h"
#include "config-parse.h"

/* ---- errors ---- */

int loader_fail(struct loader *l, int err, const char *file, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        if (l->error)
                return l->error;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0) {
                what = NULL;
                l->error = -ENOMEM;
                return l->error;
        }

        if (!file)
                file = l->config->path;
        r = line > 0 ? asprintf(&l->message, "%s:%u: %s", file, line, what)
                     : asprintf(&l->message, "%s: %s", file, what);
        if (r < 0) {
                l->message = NULL;
                err = -ENOMEM;
        }
        l->error = err;
        return err;
}

int loader_fail_here(struct loader *l, int err, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0) {
                what = NULL;
                return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
        }
        return loader_fail(l, err, l->files[l->n_files - 1], l->line, "%s", what);
}

int loader_vfail_key(struct loader *l, int err, const struct key_seen *seen, const char *section,
                     const char *key, const char *value, const char *fmt, va_list ap) {
        _cleanup_free_ char *what = NULL;
        char shown[CONFIG_VALUE_BUF];
        const char *file = NULL;
        unsigned line = 0;

        if (!seen) {
                file = l->files[l->n_files - 1];
                line = l->line;
        } else if (seen->file > 0) {
                file = l->files[seen->file - 1];
                line = seen->line;
        }
        if (vasprintf(&what, fmt, ap) < 0) {
                what = NULL;
                return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
        }
        if (!value)
                return loader_fail(l, err, file, line, "%s %s: %s", section, key, what);
        escape_value(value, strlen(value), shown);
        return loader_fail(l, err, file, line, "%s %s: %s: \"%s\"", section, key, what, shown);
}

int loader_fail_key(struct loader *l, int err, const struct key_seen *seen, const char *section,
                    const char *key, const char *value, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        int r = loader_vfail_key(l, err, seen, section, key, value, fmt, ap);
        va_end(ap);
        return r;
}

const char *section_label(const struct loader *l, enum section_kind kind, size_t broker, char *buf,
                          size_t size) {
        switch (kind) {
        case SECTION_DAEMON:
                snprintf(buf, size, "[mqlinkd]");
                break;
        case SECTION_BROKER:
                snprintf(buf, size, "[broker:%s]", l->config->brokers[broker].name);
                break;
        default:
                snprintf(buf, size, "[]");
                break;
        }
        return buf;
}

/* ---- loading ---- */

static int load_file(struct loader *l, const char *path) {
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len;

        _cleanup_close_ int fd = file_open_regular(path, &st);
        if (fd < 0)
                return loader_fail(l, fd, path, 0, "cannot read: %s", file_error_str(fd));
        int r = file_read_all(fd, CONFIG_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return loader_fail(l, r, path, 0, "larger than %u bytes: not a config file",
                                   CONFIG_FILE_MAX);
        if (r < 0)
                return loader_fail(l, r, path, 0, "cannot read: %s", file_error_str(r));
        return loader_parse(l, path, text, len);
}

static int load_dropins(struct loader *l, const char *path) {
        _cleanup_free_ char *dir = NULL;
        char **files = NULL;
        size_t n = 0;
        int r;

        if (asprintf(&dir, "%s.d", path) < 0) {
                dir = NULL;
                return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
        }
        r = dropins_list(dir, &files, &n);
        if (r < 0)
                return loader_fail(l, r, dir, 0, "cannot read the directory: %s", strerror(-r));

        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        r = load_file(l, files[i]);
                free(files[i]);
        }
        free(files);
        return r;
}

static void loader_done(struct loader *l) {
        for (size_t i = 0; i < l->n_files; i++)
                free(l->files[i]);
        free(l->files);
        free(l->dir);
        free(l->broker_seen);
        free(l->message);
        config_free(l->config);
}

/* Hands out the config or the error, and frees the rest. */
static int loader_end(struct loader *l, struct config **ret, char **ret_error) {
        int r = l->error;

        if (r == 0) {
                *ret = TAKE_PTR(l->config);
        } else if (ret_error) {
                /* On -ENOMEM there may be no message. */
                *ret_error = TAKE_PTR(l->message);
        }
        loader_done(l);
        return r;
}

static int loader_init(struct loader *l, const char *name) {
        *l = (struct loader){ 0 };
        l->config = config_new_defaults();
        if (!l->config)
                return -ENOMEM;
        l->config->path = strdup(name);
        if (!l->config->path) {
                l->config = config_free(l->config);
                return -ENOMEM;
        }
        return 0;
}

int config_load(const char *path, struct config **ret, char **ret_error) {
        struct loader l;

        if (!path)
                path = CONFIG_DEFAULT_PATH;
        if (loader_init(&l, path) < 0) {
                if (ret_error)
                        *ret_error = NULL;
                return -ENOMEM;
        }
        if (load_file(&l, path) >= 0 && load_dropins(&l, path) >= 0)
                (void)loader_finish(&l);
        return loader_end(&l, ret, ret_error);
}

int config_load_string(const char *name, const char *text, struct config **ret, char **ret_error) {
        struct loader l;

        if (!name || !text) {
                if (ret_error)
                        *ret_error = NULL;
                return -EINVAL;
        }
        if (loader_init(&l, name) < 0) {
                if (ret_error)
                        *ret_error = NULL;
                return -ENOMEM;
        }
        if (loader_parse(&l, name, text, strlen(text)) >= 0)
                (void)loader_finish(&l);
        return loader_end(&l, ret, ret_error);
}

/* ---- the config ---- */

static void free_secret(char *s, size_t len) {
        if (s)
                explicit_bzero(s, len);
        free(s);
}

static void broker_done(struct config_broker *b) {
        free(b->name);
        for (size_t i = 0; i < b->n_uris; i++)
                free(b->uris[i]);
        free(b->uris);
        free(b->client_id);
        free(b->username);
        free(b->password_file);
        free_secret(b->password, b->password_len);
        free(b->tls_ca_file);
        free(b->tls_ca_path);
        free(b->tls_cert_file);
        free(b->tls_key_file);
        free(b->tls_server_name);
        free(b->tls_alpn);
        free(b->will_topic);
        free(b->will_payload);
        for (size_t i = 0; i < b->n_subs; i++)
                free(b->subs[i].filter);
        free(b->subs);
        free(b->file);
}

struct config *config_free(struct config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_brokers; i++)
                broker_done(&c->brokers[i]);
        free(c->brokers);
        free(c->path);
        free(c->socket_path);
        free(c->socket_group);
        free(c);
        return NULL;
}

const struct config_broker *config_find_broker(const struct config *c, const char *name) {
        if (!c || !name)
                return NULL;
        for (size_t i = 0; i < c->n_brokers; i++)
                if (strcmp(c->brokers[i].name, name) == 0)
                        return &c->brokers[i];
        return NULL;
}

static bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static bool memeq_ptr(const char *a, size_t alen, const char *b, size_t blen) {
        return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

bool config_broker_same_session(const struct config_broker *a, const struct config_broker *b) {
        if (a->n_uris != b->n_uris)
                return false;
        for (size_t i = 0; i < a->n_uris; i++)
                if (strcmp(a->uris[i], b->uris[i]) != 0)
                        return false;

        /* The password's content, not its file: a rotated password must
         * reconnect, a moved file need not. TLS files are compared by
         * path only; their content is read by each connection attempt. */
        return a->protocol == b->protocol && streq_ptr(a->client_id, b->client_id) &&
               a->clean_start == b->clean_start && a->session_expiry == b->session_expiry &&
               a->keepalive == b->keepalive && streq_ptr(a->username, b->username) &&
               memeq_ptr(a->password, a->password_len, b->password, b->password_len) &&
               (a->password == NULL) == (b->password == NULL) &&
               streq_ptr(a->tls_ca_file, b->tls_ca_file) &&
               streq_ptr(a->tls_ca_path, b->tls_ca_path) &&
               streq_ptr(a->tls_cert_file, b->tls_cert_file) &&
               streq_ptr(a->tls_key_file, b->tls_key_file) &&
               streq_ptr(a->tls_server_name, b->tls_server_name) &&
               streq_ptr(a->tls_alpn, b->tls_alpn) && a->tls_verify == b->tls_verify &&
               streq_ptr(a->will_topic, b->will_topic) &&
               memeq_ptr(a->will_payload, a->will_payload_len, b->will_payload,
                         b->will_payload_len) &&
               a->will_qos == b->will_qos && a->will_retain == b->will_retain &&
               a->will_delay == b->will_delay && a->reconnect_min_ms == b->reconnect_min_ms &&
               a->reconnect_max_ms == b->reconnect_max_ms &&
               a->connect_timeout_ms == b->connect_timeout_ms &&
               a->queue_messages == b->queue_messages && a->queue_bytes == b->queue_bytes &&
               a->max_inflight == b->max_inflight;
}

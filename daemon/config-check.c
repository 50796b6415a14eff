/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE 1 /* explicit_bzero */

/*
 * What can only be checked once every file is read: keys that depend on
 * each other (a drop-in may supply the other half), the files a broker
 * names, the group of the socket, the default broker. Each error points at
 * the line of the key that made the final value.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "config-parse.h"

struct broker_ctx {
        struct loader *l;
        struct config_broker *b;
        struct key_seen *seen;
        char label[80];
};

static int fail(struct broker_ctx *x, int err, enum broker_key k, const char *value,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(struct broker_ctx *x, int err, enum broker_key k, const char *value,
                const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        int r = loader_vfail_key(x->l, err, &x->seen[k], x->label, broker_key_name(k), value, fmt,
                                 ap);
        va_end(ap);
        return r;
}

static bool seen_before(const struct key_seen *a, const struct key_seen *b) {
        return a->file < b->file || (a->file == b->file && a->line < b->line);
}

static int check_will(struct broker_ctx *x) {
        const struct config_broker *b = x->b;
        /* By value, not by presence: "will_payload =" in a drop-in that
         * also clears will_topic is how a will is removed. */
        const struct {
                enum broker_key key;
                bool set;
        } keys[] = {
                { BROKER_WILL_PAYLOAD, b->will_payload != NULL },
                { BROKER_WILL_QOS, b->will_qos != 0 },
                { BROKER_WILL_RETAIN, b->will_retain },
                { BROKER_WILL_DELAY, b->will_delay != 0 },
        };
        int first = -1;

        if (b->will_topic)
                return 0;
        /* The one given first in the files, where a reader looks first. */
        for (int i = 0; i < (int)ELEMENTSOF(keys); i++)
                if (keys[i].set &&
                    (first < 0 || seen_before(&x->seen[keys[i].key], &x->seen[keys[first].key])))
                        first = i;
        if (first >= 0)
                return fail(x, -EINVAL, keys[first].key, NULL, "needs will_topic");
        return 0;
}

static int check_reconnect(struct broker_ctx *x) {
        const struct config_broker *b = x->b;
        char min[32], max[32];

        if (b->reconnect_max_ms >= b->reconnect_min_ms)
                return 0;
        format_seconds(b->reconnect_min_ms, min, sizeof(min));
        format_seconds(b->reconnect_max_ms, max, sizeof(max));
        if (x->seen[BROKER_RECONNECT_MAX].file)
                return fail(x, -EINVAL, BROKER_RECONNECT_MAX, NULL,
                            "%s s is below reconnect_min (%s s)", max, min);
        return fail(x, -EINVAL, BROKER_RECONNECT_MIN, NULL, "%s s is above reconnect_max (%s s)",
                    min, max);
}

static int check_v311(struct broker_ctx *x) {
        const struct config_broker *b = x->b;

        if (b->protocol != 4)
                return 0;
        if (b->client_id[0] == '\0' && !b->clean_start)
                return fail(x, -EINVAL, BROKER_CLIENT_ID, NULL,
                            "an empty client id needs clean_start = yes with MQTT 3.1.1 "
                            "(MQTT-3.1.3-7)");
        if (b->password_file && !b->username)
                return fail(x, -EINVAL, BROKER_PASSWORD_FILE, NULL,
                            "needs username with MQTT 3.1.1 (MQTT-3.1.2-22)");
        return 0;
}

/* TLS files are read by each connection attempt (client.h); here they only
 * have to be there and readable, so that --check-config finds a typo. */
static int check_tls_path(struct broker_ctx *x, enum broker_key k, const char *path, bool dir) {
        struct stat st;
        int r = 0;

        if (!path)
                return 0;
        if (stat(path, &st) < 0)
                r = -errno;
        else if (dir && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        else if (!dir && S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!dir && !S_ISREG(st.st_mode))
                r = -EINVAL;
        else if (faccessat(AT_FDCWD, path, dir ? R_OK | X_OK : R_OK, AT_EACCESS) < 0)
                r = -errno;
        if (r < 0)
                return fail(x, r, k, path, "%s", file_error_str(r));
        return 0;
}

static int check_tls(struct broker_ctx *x) {
        const struct config_broker *b = x->b;
        int r;

        if (b->tls_key_file && !b->tls_cert_file)
                return fail(x, -EINVAL, BROKER_TLS_KEY_FILE, NULL, "needs tls_cert_file");
        if ((r = check_tls_path(x, BROKER_TLS_CA_FILE, b->tls_ca_file, false)) < 0 ||
            (r = check_tls_path(x, BROKER_TLS_CA_PATH, b->tls_ca_path, true)) < 0 ||
            (r = check_tls_path(x, BROKER_TLS_CERT_FILE, b->tls_cert_file, false)) < 0 ||
            (r = check_tls_path(x, BROKER_TLS_KEY_FILE, b->tls_key_file, false)) < 0)
                return r;
        return 0;
}

static int read_password(struct broker_ctx *x) {
        struct config_broker *b = x->b;
        const char *path = b->password_file;
        char *data = NULL;
        struct stat st;
        size_t len = 0, read_len;

        if (!path)
                return 0;
        _cleanup_close_ int fd = file_open_regular(path, &st);
        if (fd < 0)
                return fail(x, fd, BROKER_PASSWORD_FILE, path, "%s", file_error_str(fd));
        /* Checked before reading, so that a world-readable secret is never
         * taken in: the fix is chmod, not to carry on. */
        if (st.st_mode & (S_IROTH | S_IWOTH))
                return fail(x, -EACCES, BROKER_PASSWORD_FILE, path,
                            "mode %04o: %s by others; chmod 600 it", (unsigned)(st.st_mode & 07777),
                            st.st_mode & S_IROTH ? "readable" : "writable");

        int r = file_read_all(fd, CONFIG_PASSWORD_MAX + 2, &data, &len);
        if (r == -ENOMEM)
                return loader_fail(x->l, r, NULL, 0, "out of memory");
        if (r < 0 && r != -EFBIG)
                return fail(x, r, BROKER_PASSWORD_FILE, path, "%s", file_error_str(r));

        /* One line ending, as an editor or `echo` leaves it; every other
         * byte is the password's. */
        read_len = len;
        if (r >= 0 && len > 0 && data[len - 1] == '\n') {
                len--;
                if (len > 0 && data[len - 1] == '\r')
                        len--;
        }
        if (r == -EFBIG || len > CONFIG_PASSWORD_MAX) {
                if (data)
                        explicit_bzero(data, read_len);
                free(data);
                return fail(x, -EINVAL, BROKER_PASSWORD_FILE, path,
                            "longer than %u bytes, the most MQTT can carry", CONFIG_PASSWORD_MAX);
        }
        data[len] = '\0';
        b->password = data;
        b->password_len = len;
        return 0;
}

static int check_broker(struct loader *l, size_t i) {
        struct broker_ctx x = {
                .l = l,
                .b = &l->config->brokers[i],
                .seen = l->broker_seen[i].key,
        };
        int r;

        section_label(l, SECTION_BROKER, i, x.label, sizeof(x.label));
        if (x.b->n_uris == 0)
                return loader_fail(l, -EINVAL, x.b->file, x.b->line, "%s: no uri given", x.label);
        if ((r = check_will(&x)) < 0 || (r = check_reconnect(&x)) < 0 || (r = check_v311(&x)) < 0 ||
            (r = check_tls(&x)) < 0 || (r = read_password(&x)) < 0)
                return r;
        return 0;
}

static int pick_default(struct loader *l) {
        struct config *c = l->config;
        size_t first = SIZE_MAX;
        char label[80];

        for (size_t i = 0; i < c->n_brokers; i++) {
                if (!c->brokers[i].is_default)
                        continue;
                if (first != SIZE_MAX) {
                        const struct key_seen *s = &l->broker_seen[first].key[BROKER_DEFAULT];
                        return loader_fail_key(
                                l, -EINVAL, &l->broker_seen[i].key[BROKER_DEFAULT],
                                section_label(l, SECTION_BROKER, i, label, sizeof(label)),
                                "default", NULL, "[broker:%s] (%s:%u) is the default already",
                                c->brokers[first].name, l->files[s->file - 1], s->line);
                }
                first = i;
        }
        c->default_broker = first != SIZE_MAX  ? &c->brokers[first]
                            : c->n_brokers > 0 ? &c->brokers[0]
                                               : NULL;
        return 0;
}

/* The group is looked up now rather than when the socket is made, so that
 * a missing one is an error of the config, reported with its line. */
static int resolve_group(struct loader *l) {
        struct config *c = l->config;
        struct group grp, *found = NULL;
        uint64_t v;

        if (!c->socket_group)
                return 0;
        if (parse_uint(c->socket_group, 0, (gid_t)-2, &v) == 0) {
                c->socket_gid = (gid_t)v;
                return 0;
        }

        for (size_t size = 1024;; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                if (!buf)
                        return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
                int r = getgrnam_r(c->socket_group, &grp, buf, size, &found);
                if (r == ERANGE && size < 1024 * 1024)
                        continue;
                if (r == 0 && found) {
                        c->socket_gid = grp.gr_gid;
                        return 0;
                }
                return loader_fail_key(l, -EINVAL, &l->daemon_seen[DAEMON_SOCKET_GROUP],
                                       "[mqlinkd]", "socket_group", c->socket_group, "%s",
                                       r == 0 || r == ENOENT ? "no such group" : strerror(r));
        }
}

int loader_finish(struct loader *l) {
        int r;

        if ((r = resolve_group(l)) < 0)
                return r;
        for (size_t i = 0; i < l->config->n_brokers; i++)
                if ((r = check_broker(l, i)) < 0)
                        return r;
        return pick_default(l);
}

/* SPDX-License-Identifier: MIT */

/*
 * The daemon's config loader on one file's text (no drop-ins). Checked:
 * success and failure are exclusive; a failure has a message that starts
 * with the file's name; a success keeps every promise of config.h: brokers
 * with URIs that parse, unique well-formed names, valid topic filters and
 * will topic, consistent lengths and bounds, and a default broker inside the
 * array. Paths in the input are looked at but nothing is opened beyond
 * regular files (config-file.c), so /dev/zero or a FIFO cannot hang a run.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/topic.h>
#include <mqlink/transport.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

#define NAME "fuzz.conf"

static bool name_ok(const char *name) {
        size_t len = strlen(name);
        return len >= 1 && len <= 64 &&
               strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                       len;
}

static void check_broker(const struct config *c, const struct config_broker *b) {
        CHECK(name_ok(b->name));
        CHECK(config_find_broker(c, b->name) == b);
        CHECK(b->n_uris >= 1 && b->uris);
        for (size_t i = 0; i < b->n_uris; i++)
                CHECK(mql_uri_parse(b->uris[i], NULL, NULL, NULL, NULL) == 0);
        CHECK(b->protocol == 4 || b->protocol == 5);
        CHECK(b->client_id && strlen(b->client_id) <= 65535);
        CHECK(b->client_id[0] || b->protocol == 5 || b->clean_start);

        CHECK(!b->password_file == !b->password);
        CHECK(b->password || b->password_len == 0);
        CHECK(b->password_len <= 65535);
        CHECK(!b->password || b->password[b->password_len] == '\0');
        CHECK(!b->tls_key_file || b->tls_cert_file);

        if (b->will_topic)
                CHECK(mql_topic_name_check(b->will_topic, strlen(b->will_topic)) == 0);
        else
                CHECK(!b->will_payload && !b->will_qos && !b->will_retain && !b->will_delay);
        CHECK(b->will_payload
                      ? b->will_payload_len == strlen(b->will_payload) && b->will_payload_len > 0
                      : b->will_payload_len == 0);
        CHECK(b->will_qos <= 2);

        CHECK(b->reconnect_min_ms > 0 && b->reconnect_max_ms >= b->reconnect_min_ms);
        CHECK(b->connect_timeout_ms > 0);
        CHECK(b->queue_messages >= 1 && b->queue_bytes >= 1);

        CHECK(!b->n_subs == !b->subs);
        for (size_t i = 0; i < b->n_subs; i++) {
                CHECK(mql_topic_filter_check(b->subs[i].filter, strlen(b->subs[i].filter)) == 0);
                CHECK(b->subs[i].qos <= 2);
                for (size_t j = 0; j < i; j++)
                        CHECK(strcmp(b->subs[i].filter, b->subs[j].filter) != 0);
        }

        CHECK(b->file && strcmp(b->file, NAME) == 0 && b->line >= 1);
        CHECK(config_broker_same_session(b, b));
}

static void check_config(const struct config *c) {
        size_t defaults = 0;

        CHECK(c->path && strcmp(c->path, NAME) == 0);
        CHECK(c->socket_path && c->socket_path[0] == '/');
        CHECK(c->socket_mode <= 0777);
        CHECK(!c->socket_group == (c->socket_gid == (gid_t)-1));
        CHECK(c->log_level >= 0 && c->log_level <= 7);
        CHECK(c->max_clients >= 1 && c->max_line >= 16);
        CHECK(c->max_payload >= 1 && c->max_payload <= 268435455);

        CHECK(!c->n_brokers == !c->brokers);
        for (size_t i = 0; i < c->n_brokers; i++) {
                check_broker(c, &c->brokers[i]);
                for (size_t j = 0; j < i; j++)
                        CHECK(strcmp(c->brokers[i].name, c->brokers[j].name) != 0);
                defaults += c->brokers[i].is_default;
        }
        CHECK(defaults <= 1);
        if (c->n_brokers == 0) {
                CHECK(c->default_broker == NULL);
                return;
        }
        CHECK(c->default_broker >= c->brokers && c->default_broker < c->brokers + c->n_brokers);
        CHECK(defaults == 0 ? c->default_broker == &c->brokers[0] : c->default_broker->is_default);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Like a file: the loader takes a C string, and a NUL ends it here. */
        char *text = malloc(size + 1);
        CHECK(text);
        memcpy(text, data, size);
        text[size] = '\0';

        struct config *c = NULL;
        char *err = NULL;
        int r = config_load_string(NAME, text, &c, &err);
        if (r == 0) {
                CHECK(c && !err);
                check_config(c);
        } else {
                CHECK(r < 0 && !c);
                if (r != -ENOMEM)
                        CHECK(err && strncmp(err, NAME ":", strlen(NAME ":")) == 0 &&
                              strlen(err) > strlen(NAME ": "));
        }
        free(err);
        CHECK(config_free(c) == NULL);
        free(text);
        return 0;
}

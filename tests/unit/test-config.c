/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE 1 /* asprintf, nftw's FTW_DEPTH */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config-parse.h"
#include "config.h"

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* A scratch directory per run, for files the loader must find on disk. */
static char tmpdir[] = "/tmp/test-config-XXXXXX";

static char *path_in(const char *name) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        return p;
}

static void write_file(const char *name, const char *content, mode_t mode) {
        char *p = path_in(name);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        size_t len = strlen(content);
        assert_int_equal(write(fd, content, len), (ssize_t)len);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
        free(p);
}

static void make_dir(const char *name) {
        char *p = path_in(name);
        assert_int_equal(mkdir(p, 0700), 0);
        free(p);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
        return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Loads `text` and expects success. */
static struct config *load_ok(const char *text) {
        struct config *c = NULL;
        char *err = NULL;
        int r = config_load_string("t.conf", text, &c, &err);
        if (r < 0)
                fail_msg("unexpected error %d: %s\nconfig:\n%s", r, err ? err : "(none)", text);
        assert_non_null(c);
        assert_null(err);
        return c;
}

/* Loads `text` and expects errno `expect` with a message that starts
 * "bad.conf:LINE: " and holds `word`. */
static void load_bad(const char *text, int expect, unsigned line, const char *word) {
        struct config *c = NULL;
        char *err = NULL, *prefix;
        int r = config_load_string("bad.conf", text, &c, &err);

        if (r != expect || !err)
                fail_msg("config:\n%s\nexpected %d, got %d: %s", text, expect, r,
                         err ? err : "(none)");
        assert_null(c);
        assert_true(asprintf(&prefix, "bad.conf:%u: ", line) > 0);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, word))
                fail_msg("config:\n%s\nmessage \"%s\" lacks \"%s\" or \"%s\"", text, err, prefix,
                         word);
        free(prefix);
        free(err);
}

/* ---- defaults ---- */

static void test_defaults(void **state) {
        struct config *c = load_ok("");

        assert_string_equal(c->path, "t.conf");
        assert_string_equal(c->socket_path, CONFIG_DEFAULT_SOCKET);
        assert_int_equal(c->socket_mode, 0660);
        assert_null(c->socket_group);
        assert_int_equal(c->socket_gid, (gid_t)-1);
        assert_int_equal(c->log_level, LOG_INFO);
        assert_int_equal(c->max_clients, 1024);
        assert_int_equal(c->max_line, 65536);
        assert_int_equal(c->max_payload, 1024 * 1024);
        assert_int_equal(c->max_subs_per_client, 1000);
        assert_int_equal(c->client_output_max, 4 * 1024 * 1024);
        assert_int_equal(c->client_stall_ms, 30000);
        assert_int_equal(c->shutdown_timeout_ms, 5000);
        assert_int_equal(c->n_brokers, 0);
        assert_null(c->brokers);
        /* No broker is fine: PUB answers no-broker. */
        assert_null(c->default_broker);
        config_free(c);

        c = load_ok("[broker:home]\nuri = mqtt://localhost\n");
        assert_int_equal(c->n_brokers, 1);
        const struct config_broker *b = &c->brokers[0];
        assert_ptr_equal(c->default_broker, b);
        assert_string_equal(b->name, "home");
        assert_int_equal(b->n_uris, 1);
        assert_string_equal(b->uris[0], "mqtt://localhost");
        assert_int_equal(b->protocol, 5);
        char host[256] = "", *expect;
        gethostname(host, sizeof(host) - 1);
        assert_true(asprintf(&expect, "mqlinkd-%s-home", host) > 0);
        assert_string_equal(b->client_id, expect);
        free(expect);
        assert_false(b->clean_start);
        assert_int_equal(b->session_expiry, 3600);
        assert_int_equal(b->keepalive, 60);
        assert_null(b->username);
        assert_null(b->password_file);
        assert_null(b->password);
        assert_int_equal(b->password_len, 0);
        assert_null(b->tls_ca_file);
        assert_null(b->tls_ca_path);
        assert_null(b->tls_cert_file);
        assert_null(b->tls_key_file);
        assert_null(b->tls_server_name);
        assert_null(b->tls_alpn);
        assert_true(b->tls_verify);
        assert_null(b->will_topic);
        assert_null(b->will_payload);
        assert_int_equal(b->will_payload_len, 0);
        assert_int_equal(b->will_qos, 0);
        assert_false(b->will_retain);
        assert_int_equal(b->will_delay, 0);
        assert_int_equal(b->reconnect_min_ms, 500);
        assert_int_equal(b->reconnect_max_ms, 30000);
        assert_int_equal(b->connect_timeout_ms, 30000);
        assert_int_equal(b->queue_messages, 1000);
        assert_int_equal(b->queue_bytes, 16 * 1024 * 1024);
        assert_int_equal(b->max_inflight, 0);
        assert_false(b->is_default);
        assert_int_equal(b->n_subs, 0);
        assert_string_equal(b->file, "t.conf");
        assert_int_equal(b->line, 1);
        config_free(c);
}

/* The shipped example loads, and says what the brief asks it to. */
static void test_shipped_example(void **state) {
        struct config *c = NULL;
        char *err = NULL;
        int r = config_load(SOURCE_ROOT "/conf/mqlinkd.conf", &c, &err);
        if (r < 0)
                fail_msg("%s", err);
        assert_int_equal(c->socket_mode, 0666);
        assert_int_equal(c->n_brokers, 1);
        assert_string_equal(c->default_broker->name, "local");
        assert_string_equal(c->default_broker->uris[0], "mqtt://127.0.0.1:1883");
        assert_true(c->default_broker->is_default);
        config_free(c);
}

/* ---- every key ---- */

static void test_every_key(void **state) {
        write_file("pw-all", "s3cret\n", 0600);
        write_file("ca.pem", "x", 0644);
        write_file("cert.pem", "x", 0644);
        write_file("key.pem", "x", 0600);
        make_dir("certs");

        /* Relative paths: against the file's directory, not the cwd. */
        write_file("all.conf",
                   "; a comment\n"
                   "# another\n"
                   "[mqlinkd]\n"
                   "socket_path = /run/x/y.sock\n"
                   "socket_mode = 600\n"
                   "socket_group = 0\n"
                   "log_level = debug\n"
                   "max_clients = 7\n"
                   "max_line = 4K\n"
                   "max_payload = 2M\n"
                   "max_subs_per_client = 9\n"
                   "client_output_max = 1G\n"
                   "client_stall = 2.5\n"
                   "shutdown_timeout = 0\n"
                   "\n"
                   "  [broker:a.B_c-9]   ; indented, with a comment\n"
                   "    uri = mqtts://h1:8884 \t unix:///run/b.sock mqtt://[::1]\n"
                   "    protocol = 3.1.1\n"
                   "client_id = id-\xc3\xa9\n"
                   "clean_start = on\n"
                   "session_expiry = 4294967295\n"
                   "keepalive = 0\n"
                   "username = alice\n"
                   "password_file = pw-all\n"
                   "tls_ca_file = ca.pem\n"
                   "tls_ca_path = certs\n"
                   "tls_cert_file = cert.pem\n"
                   "tls_key_file = key.pem\n"
                   "tls_server_name = broker.example.org\n"
                   "tls_alpn = mqtt,x-mqtt\n"
                   "tls_verify = false\n"
                   "will_topic = status/mqlinkd\n"
                   "will_payload = gone; for now\n"
                   "will_qos = 2\n"
                   "will_retain = YES\n"
                   "will_delay = 10\n"
                   "reconnect_min = 0.25\n"
                   "reconnect_max = 120\n"
                   "connect_timeout = 0.1\n"
                   "queue_messages = 5\n"
                   "queue_bytes = 2k\n"
                   "max_inflight = 65535\n"
                   "default = 1\n"
                   "subscribe = a/b\n"
                   "subscribe = living room/+/temp 2 ; spaces in a filter\n"
                   "subscribe = $share/g/x/# 1\n",
                   0644);

        char *path = path_in("all.conf");
        struct config *c = NULL;
        char *err = NULL;
        if (config_load(path, &c, &err) < 0)
                fail_msg("%s", err);

        assert_string_equal(c->path, path);
        assert_string_equal(c->socket_path, "/run/x/y.sock");
        assert_int_equal(c->socket_mode, 0600);
        assert_string_equal(c->socket_group, "0");
        assert_int_equal(c->socket_gid, 0);
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_int_equal(c->max_clients, 7);
        assert_int_equal(c->max_line, 4096);
        assert_int_equal(c->max_payload, 2 * 1024 * 1024);
        assert_int_equal(c->max_subs_per_client, 9);
        assert_int_equal(c->client_output_max, 1024 * 1024 * 1024);
        assert_int_equal(c->client_stall_ms, 2500);
        assert_int_equal(c->shutdown_timeout_ms, 0);

        assert_int_equal(c->n_brokers, 1);
        const struct config_broker *b = &c->brokers[0];
        assert_string_equal(b->name, "a.B_c-9");
        assert_int_equal(b->n_uris, 3);
        assert_string_equal(b->uris[0], "mqtts://h1:8884");
        assert_string_equal(b->uris[1], "unix:///run/b.sock");
        assert_string_equal(b->uris[2], "mqtt://[::1]");
        assert_int_equal(b->protocol, 4);
        assert_string_equal(b->client_id, "id-\xc3\xa9");
        assert_true(b->clean_start);
        assert_int_equal(b->session_expiry, 4294967295u);
        assert_int_equal(b->keepalive, 0);
        assert_string_equal(b->username, "alice");

        char *p = path_in("pw-all");
        assert_string_equal(b->password_file, p);
        free(p);
        assert_int_equal(b->password_len, 6);
        assert_memory_equal(b->password, "s3cret", 6);

        p = path_in("ca.pem");
        assert_string_equal(b->tls_ca_file, p);
        free(p);
        p = path_in("certs");
        assert_string_equal(b->tls_ca_path, p);
        free(p);
        p = path_in("cert.pem");
        assert_string_equal(b->tls_cert_file, p);
        free(p);
        p = path_in("key.pem");
        assert_string_equal(b->tls_key_file, p);
        free(p);
        assert_string_equal(b->tls_server_name, "broker.example.org");
        assert_string_equal(b->tls_alpn, "mqtt,x-mqtt");
        assert_false(b->tls_verify);

        assert_string_equal(b->will_topic, "status/mqlinkd");
        /* ';' without a space before it is not a comment. */
        assert_string_equal(b->will_payload, "gone; for now");
        assert_int_equal(b->will_payload_len, 13);
        assert_int_equal(b->will_qos, 2);
        assert_true(b->will_retain);
        assert_int_equal(b->will_delay, 10);
        assert_int_equal(b->reconnect_min_ms, 250);
        assert_int_equal(b->reconnect_max_ms, 120000);
        assert_int_equal(b->connect_timeout_ms, 100);
        assert_int_equal(b->queue_messages, 5);
        assert_int_equal(b->queue_bytes, 2048);
        assert_int_equal(b->max_inflight, 65535);
        assert_true(b->is_default);
        assert_ptr_equal(c->default_broker, b);

        assert_int_equal(b->n_subs, 3);
        assert_string_equal(b->subs[0].filter, "a/b");
        assert_int_equal(b->subs[0].qos, 0);
        assert_string_equal(b->subs[1].filter, "living room/+/temp");
        assert_int_equal(b->subs[1].qos, 2);
        assert_string_equal(b->subs[2].filter, "$share/g/x/#");
        assert_int_equal(b->subs[2].qos, 1);

        assert_string_equal(b->file, path);
        assert_int_equal(b->line, 16);
        config_free(c);
        free(path);
}

static void test_value_forms(void **state) {
        static const struct {
                const char *log_level;
                const char *broker;
                uint8_t protocol;
                int level;
                bool clean_start;
                uint32_t reconnect_min_ms;
                size_t queue_bytes;
        } forms[] = {
                { "0", "protocol = 5\nclean_start = TRUE\nreconnect_min = 1\nqueue_bytes = 1024", 5,
                  0, true, 1000, 1024 },
                { "err", "protocol = 5.0\nclean_start = no\nreconnect_min = 0.01\nqueue_bytes = 1M",
                  5, LOG_ERR, false, 10, 1u << 20 },
                { "Warning",
                  "protocol = 311\nclean_start = Off\nreconnect_min = 1.5\nqueue_bytes = 1g", 4,
                  LOG_WARNING, false, 1500, 1u << 30 },
                { "7", "protocol = 4\nclean_start = 1\nreconnect_min = 00.123\nqueue_bytes = 0002K",
                  4, 7, true, 123, 2048 },
                { "notice",
                  "protocol = 3.1.1\nclean_start = false\nreconnect_min = 3600\n"
                  "reconnect_max = 3600\nqueue_bytes = 16m",
                  4, LOG_NOTICE, false, 3600000, 16u << 20 },
        };

        for (size_t i = 0; i < ELEMENTS(forms); i++) {
                char *text;
                assert_true(asprintf(&text,
                                     "[mqlinkd]\nlog_level = %s\n[broker:x]\nuri = mqtt://h\n%s\n",
                                     forms[i].log_level, forms[i].broker) > 0);
                struct config *c = load_ok(text);
                const struct config_broker *b = &c->brokers[0];
                assert_int_equal(c->log_level, forms[i].level);
                assert_int_equal(b->protocol, forms[i].protocol);
                assert_int_equal(b->clean_start, forms[i].clean_start);
                assert_int_equal(b->reconnect_min_ms, forms[i].reconnect_min_ms);
                assert_int_equal(b->queue_bytes, forms[i].queue_bytes);
                config_free(c);
                free(text);
        }
}

static void test_parsers(void **state) {
        uint64_t v;
        mode_t m;
        bool b;
        uint8_t p;
        int lvl;

        assert_int_equal(parse_duration_ms("0.5", 0, 10000, &v), 0);
        assert_int_equal(v, 500);
        assert_int_equal(parse_duration_ms("1.05", 0, 10000, &v), 0);
        assert_int_equal(v, 1050);
        assert_int_equal(parse_duration_ms("1.0001", 0, 10000, &v), -EINVAL);
        assert_int_equal(parse_duration_ms(".5", 0, 10000, &v), -EINVAL);
        assert_int_equal(parse_duration_ms("5s", 0, 10000, &v), -EINVAL);
        assert_int_equal(parse_duration_ms("11", 0, 10000, &v), -ERANGE);
        assert_int_equal(parse_duration_ms("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
        assert_int_equal(parse_size("16E", 0, UINT64_MAX, &v), -EINVAL);
        assert_int_equal(parse_size("17179869184G", 0, UINT64_MAX, &v), -ERANGE);
        assert_int_equal(parse_size("1KB", 0, UINT64_MAX, &v), -EINVAL);
        assert_int_equal(parse_size("", 0, UINT64_MAX, &v), -EINVAL);
        assert_int_equal(parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(parse_uint("18446744073709551616", 0, UINT64_MAX - 1, &v), -ERANGE);
        assert_int_equal(parse_uint("+1", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_uint(" 1", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_mode("0", &m), 0);
        assert_int_equal(m, 0);
        assert_int_equal(parse_mode("0777", &m), 0);
        assert_int_equal(m, 0777);
        assert_int_equal(parse_mode("00777", &m), -EINVAL);
        assert_int_equal(parse_mode("1000", &m), -ERANGE);
        assert_int_equal(parse_bool("On", &b), 0);
        assert_true(b);
        assert_int_equal(parse_bool("y", &b), -EINVAL);
        assert_int_equal(parse_protocol("5.0.0", &p), -EINVAL);
        assert_int_equal(parse_log_level("Debug", &lvl), 0);
        assert_int_equal(lvl, LOG_DEBUG);
        assert_int_equal(parse_log_level("-1", &lvl), -EINVAL);

        assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
        assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
        assert_false(utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
        assert_false(utf8_valid("\xe2\x82", 2));         /* cut short */

        char buf[CONFIG_VALUE_BUF], big[200];
        escape_value("a\"b\\c\x01\xff\xc3\xa9", 9, buf);
        assert_string_equal(buf, "a\\\"b\\\\c\\x01\\xff\xc3\xa9");
        memset(big, 'x', sizeof(big));
        escape_value(big, sizeof(big), buf);
        assert_int_equal(strlen(buf), CONFIG_VALUE_SHOWN + 3);
        assert_string_equal(buf + CONFIG_VALUE_SHOWN, "...");

        char s[32];
        format_size(16u << 20, s, sizeof(s));
        assert_string_equal(s, "16M");
        format_size(1000, s, sizeof(s));
        assert_string_equal(s, "1000");
        format_seconds(10, s, sizeof(s));
        assert_string_equal(s, "0.01");
        format_seconds(1500, s, sizeof(s));
        assert_string_equal(s, "1.5");
}

/* ---- errors ---- */

struct bad_case {
        const char *text;
        int err;
        unsigned line;
        const char *word;
};

#define B "[broker:a]\nuri = mqtt://h\n" /* lines 1-2 */
#define M "[mqlinkd]\n"                  /* line 1 */

static const struct bad_case bad_cases[] = {
        /* structure */
        { "foo = 1\n", -EINVAL, 1, "outside any section" },
        { "\n\n[nope]\n", -EINVAL, 3, "unknown section" },
        { "[Mqlinkd]\n", -EINVAL, 1, "unknown section" },
        { "[bridge:x]\nfoo = 1\n", -EINVAL, 1, "not supported yet" },
        { "[broker:]\n", -EINVAL, 1, "bad broker name" },
        { "[broker:a b]\n", -EINVAL, 1, "bad broker name" },
        { "[broker:a/b]\n", -EINVAL, 1, "bad broker name" },
        { "[broker:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n", -EINVAL,
          1, "bad broker name" },
        { "[mqlinkd\n", -EINVAL, 1, "no ']'" },
        { "[mqlinkd] extra\n", -EINVAL, 1, "text after ']'" },
        { M "just some words\n", -EINVAL, 2, "syntax error" },
        { M "= 5\n", -EINVAL, 2, "a value without a key: \"5\"" },
        { M "foo = 1\n", -EINVAL, 2, "[mqlinkd] foo: unknown key" },
        { M "Max_Clients = 1\n", -EINVAL, 2, "lower case" },
        { M "uri = mqtt://h\n", -EINVAL, 2,
          "[mqlinkd] uri: unknown key here (it belongs in a [broker" },
        { B "log_level = info\n", -EINVAL, 3, "belongs in [mqlinkd]" },
        { B "subscribe\n", -EINVAL, 3, "syntax error" },
        { B "subscribe = a\n  b\n", -EINVAL, 4, "syntax error" },
        /* given twice in one file, also across a repeated section */
        { M "max_clients = 5\nmax_clients = 6\n", -EINVAL, 3, "given twice" },
        { B "uri = mqtt://other\n", -EINVAL, 3, "first on line 2" },
        { M "log_level = info\n" B M "log_level = debug\n", -EINVAL, 6, "given twice" },
        /* [mqlinkd] values */
        { M "max_clients = 0\n", -EINVAL, 2, "max_clients: not a number in 1..1000000: \"0\"" },
        { M "max_clients = abc\n", -EINVAL, 2, "\"abc\"" },
        { M "max_clients = -1\n", -EINVAL, 2, "max_clients" },
        { M "max_clients = 1000001\n", -EINVAL, 2, "max_clients" },
        { M "max_clients = 5 # five\n", -EINVAL, 2, "\"5 # five\"" },
        { M "max_line = 8\n", -EINVAL, 2, "not a size in 16..16M" },
        { M "max_line = 1X\n", -EINVAL, 2, "max_line" },
        { M "max_payload = 268435456\n", -EINVAL, 2, "max_payload" },
        { M "client_output_max = 2G\n", -EINVAL, 2, "client_output_max" },
        { M "socket_mode = 0888\n", -EINVAL, 2, "octal mode" },
        { M "socket_mode = 1777\n", -EINVAL, 2, "octal mode" },
        { M "socket_path = relative.sock\n", -EINVAL, 2, "absolute" },
        { M "socket_path =\n", -EINVAL, 2, "absolute" },
        { M "socket_path = "
            "/run/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock\n",
          -EINVAL, 2, "Unix socket path" },
        { M "socket_group = -wheel\n", -EINVAL, 2, "group" },
        { M "socket_group = no-such-group-mqlink-test\n", -EINVAL, 2, "no such group" },
        { M "log_level = loud\n", -EINVAL, 2, "log level" },
        { M "log_level = 8\n", -EINVAL, 2, "log level" },
        { M "client_stall = 0.05\n", -EINVAL, 2, "seconds in 0.1..86400" },
        { M "client_stall = 1.0001\n", -EINVAL, 2, "client_stall" },
        { M "shutdown_timeout = 1.\n", -EINVAL, 2, "shutdown_timeout" },
        { M "shutdown_timeout = 3601\n", -EINVAL, 2, "shutdown_timeout" },
        /* [broker:NAME] values */
        { "[broker:a]\nkeepalive = 5\n", -EINVAL, 1, "[broker:a]: no uri" },
        { B "keepalive = abc\n", -EINVAL, 3,
          "[broker:a] keepalive: not a number of seconds in 0..65535: \"abc\"" },
        { B "keepalive = 65536\n", -EINVAL, 3, "keepalive" },
        { "[broker:a]\nuri = http://h\n", -EINVAL, 2, "unknown scheme" },
        { "[broker:a]\nuri = mqtt://h:99999\n", -EINVAL, 2, "not a broker URI" },
        { "[broker:a]\nuri = mqtt://ok mqtt://u@h\n", -EINVAL, 2, "\"mqtt://u@h\"" },
        { "[broker:a]\nuri =\n", -EINVAL, 2, "no URI" },
        { B "protocol = 6\n", -EINVAL, 3, "MQTT version" },
        { B "clean_start = maybe\n", -EINVAL, 3, "boolean" },
        { B "session_expiry = 4294967296\n", -EINVAL, 3, "session_expiry" },
        { B "client_id = \xff\n", -EINVAL, 3, "client_id: not valid UTF-8: \"\\xff\"" },
        { B "username = \xc0\xaf\n", -EINVAL, 3, "UTF-8" },
        { B "tls_server_name = a\x01z\n", -EINVAL, 3, "\"a\\x01z\"" },
        { B "tls_alpn = mqtt,,x\n", -EINVAL, 3, "protocol names" },
        { B "tls_alpn = mqtt,\n", -EINVAL, 3, "empty protocol name" },
        { B "subscribe = a/#/b\n", -EINVAL, 3, "topic filter" },
        { B "subscribe = sport+ 1\n", -EINVAL, 3, "topic filter" },
        { B "subscribe = a/b 3\n", -EINVAL, 3, "QoS 3 not in 0..2" },
        { B "subscribe = a/\xed\xa0\x80\n", -EINVAL, 3, "UTF-8" },
        { B "will_topic = a/+\n", -EINVAL, 3, "topic name" },
        { B "will_qos = 3\n", -EINVAL, 3, "will_qos" },
        { B "will_qos = 1\n", -EINVAL, 3, "will_qos: needs will_topic" },
        { B "keepalive = 9\nwill_payload = bye\n", -EINVAL, 4, "will_payload: needs will_topic" },
        { B "will_delay = 5\nwill_qos = 1\nwill_payload = bye\n", -EINVAL, 3, "will_delay: needs" },
        { B "will_retain = yes\n", -EINVAL, 3, "needs will_topic" },
        { B "will_delay = 5\n", -EINVAL, 3, "needs will_topic" },
        { B "reconnect_min = 10\nreconnect_max = 5\n", -EINVAL, 4,
          "reconnect_max: 5 s is below reconnect_min" },
        { B "reconnect_min = 60\n", -EINVAL, 3, "reconnect_min: 60 s is above reconnect_max" },
        { B "reconnect_min = 0.001\n", -EINVAL, 3, "reconnect_min" },
        { B "connect_timeout = 0\n", -EINVAL, 3, "connect_timeout" },
        { B "queue_messages = 0\n", -EINVAL, 3, "queue_messages" },
        { B "queue_bytes = 100\n", -EINVAL, 3, "queue_bytes" },
        { B "max_inflight = 70000\n", -EINVAL, 3, "max_inflight" },
        { B "default = yes\n[broker:b]\nuri = mqtt://h\ndefault = yes\n", -EINVAL, 6,
          "[broker:b] default: [broker:a] (bad.conf:3) is the default already" },
        { B "protocol = 3.1.1\nclient_id =\n", -EINVAL, 4, "MQTT-3.1.3-7" },
        { B "protocol = 311\npassword_file = /nonexistent\n", -EINVAL, 4, "needs username" },
        { B "tls_key_file = /nonexistent\n", -EINVAL, 3, "needs tls_cert_file" },
        { B "tls_ca_file = /nonexistent/ca.pem\n", -ENOENT, 3, "No such file" },
        { B "tls_ca_path = /dev/null\n", -ENOTDIR, 3, "tls_ca_path" },
        { B "tls_ca_file = /\n", -EISDIR, 3, "tls_ca_file" },
        { B "tls_cert_file = /dev/null\n", -EINVAL, 3, "not a regular file" },
        { B "password_file = /nonexistent/pw\n", -ENOENT, 3, "\"/nonexistent/pw\"" },
        { B "password_file = /dev/null\n", -EINVAL, 3, "not a regular file" },
        { B "password_file = /dev/zero\n", -EINVAL, 3, "not a regular file" },
        { B "password_file = /\n", -EISDIR, 3, "password_file" },
};

static void test_errors(void **state) {
        assert_true(ELEMENTS(bad_cases) >= 40);
        for (size_t i = 0; i < ELEMENTS(bad_cases); i++)
                load_bad(bad_cases[i].text, bad_cases[i].err, bad_cases[i].line, bad_cases[i].word);
}

static void test_long_line(void **state) {
        char text[400];
        size_t n =
                (size_t)snprintf(text, sizeof(text), "[broker:a]\nuri = mqtt://h\nwill_payload = ");
        memset(text + n, 'p', 300);
        strcpy(text + n + 300, "\n");
        load_bad(text, -EINVAL, 3, "line longer than");

        /* The longest line that fits inih's buffer still loads. */
        int max = -1;
        for (int len = 150; len < 400; len++) {
                char *t;
                assert_true(asprintf(&t,
                                     "[broker:a]\nuri = mqtt://h\nwill_topic = x\n"
                                     "will_payload = %0*d\n",
                                     len - 15, 0) > 0);
                struct config *c = NULL;
                char *err = NULL;
                int r = config_load_string("t.conf", t, &c, &err);
                free(t);
                if (r < 0) {
                        assert_non_null(strstr(err, "line longer than"));
                        free(err);
                        break;
                }
                assert_int_equal(c->brokers[0].will_payload_len, (size_t)len - 15);
                config_free(c);
                max = len;
        }
        assert_true(max >= 190);
}

/* Control bytes in a value are escaped and a long value is cut. */
static void test_message_escaping(void **state) {
        struct config *c = NULL;
        char *err = NULL;
        int r = config_load_string(
                "e.conf",
                "[broker:a]\nuri = mqtt://h\nkeepalive = \x1b[31m"
                "0123456789012345678901234567890123456789012345678901234567890123"
                "456789\n",
                &c, &err);
        assert_int_equal(r, -EINVAL);
        assert_non_null(strstr(err, "\"\\x1b[31m0123"));
        assert_non_null(strstr(err, "...\""));
        assert_null(strchr(err, '\x1b'));
        free(err);
}

static void test_no_error_pointer(void **state) {
        struct config *c = NULL;
        assert_int_equal(config_load_string("x.conf", "[nope]\n", &c, NULL), -EINVAL);
        assert_null(c);
}

/* ---- files ---- */

static void test_main_missing(void **state) {
        struct config *c = NULL;
        char *err = NULL;
        char *p = path_in("missing.conf");

        assert_int_equal(config_load(p, &c, &err), -ENOENT);
        assert_null(c);
        assert_true(strncmp(err, p, strlen(p)) == 0);
        assert_non_null(strstr(err, "No such file"));
        free(err);
        free(p);

        assert_int_equal(config_load(tmpdir, &c, &err), -EISDIR);
        assert_true(strncmp(err, tmpdir, strlen(tmpdir)) == 0);
        free(err);
}

static void test_nul_byte(void **state) {
        char *p = path_in("nul.conf");
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "[mqlinkd]\n\nlog_level = info\0x\n", 31), 31);
        close(fd);

        struct config *c = NULL;
        char *err = NULL, *prefix;
        assert_int_equal(config_load(p, &c, &err), -EINVAL);
        assert_true(asprintf(&prefix, "%s:3: ", p) > 0);
        assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
        assert_non_null(strstr(err, "NUL"));
        free(prefix);
        free(err);
        free(p);
}

static void test_dropins(void **state) {
        make_dir("d.conf.d");
        write_file("d.conf",
                   "[mqlinkd]\n"
                   "max_clients = 10\n"
                   "log_level = info\n"
                   "[broker:one]\n"
                   "uri = mqtt://one\n"
                   "keepalive = 10\n"
                   "subscribe = main/# 1\n",
                   0644);
        write_file("d.conf.d/20-b.conf",
                   "[broker:one]\n"
                   "keepalive = 30\n"
                   "subscribe = b/#\n"
                   "subscribe = main/# 2\n"
                   "[mqlinkd]\n"
                   "max_clients = 30\n",
                   0644);
        write_file("d.conf.d/10-a.conf",
                   "[mqlinkd]\n"
                   "max_clients = 20\n"
                   "log_level = debug\n"
                   "[broker:two]\n"
                   "uri = mqtt://two\n"
                   "default = yes\n"
                   "[broker:one]\n"
                   "keepalive = 20\n"
                   "subscribe = a/#\n",
                   0644);
        /* Not read: wrong suffix, a dotfile, a bare ".conf". */
        write_file("d.conf.d/30-c.conf.disabled", "garbage\n", 0644);
        write_file("d.conf.d/.40-hidden.conf", "garbage\n", 0644);
        write_file("d.conf.d/.conf", "garbage\n", 0644);
        write_file("d.conf.d/README", "garbage\n", 0644);

        char *p = path_in("d.conf");
        struct config *c = NULL;
        char *err = NULL;
        if (config_load(p, &c, &err) < 0)
                fail_msg("%s", err);

        /* 10-a, then 20-b: the last word wins. */
        assert_int_equal(c->max_clients, 30);
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_int_equal(c->n_brokers, 2);
        const struct config_broker *one = config_find_broker(c, "one");
        const struct config_broker *two = config_find_broker(c, "two");
        assert_ptr_equal(one, &c->brokers[0]);
        assert_ptr_equal(two, &c->brokers[1]);
        assert_int_equal(one->keepalive, 30);
        assert_string_equal(one->file, p);
        assert_int_equal(one->line, 4);
        char *dropin = path_in("d.conf.d/10-a.conf");
        assert_string_equal(two->file, dropin);
        assert_int_equal(two->line, 4);
        free(dropin);
        assert_ptr_equal(c->default_broker, two);

        /* subscribe adds up across files; the same filter again updates it. */
        assert_int_equal(one->n_subs, 3);
        assert_string_equal(one->subs[0].filter, "main/#");
        assert_int_equal(one->subs[0].qos, 2);
        assert_string_equal(one->subs[1].filter, "a/#");
        assert_string_equal(one->subs[2].filter, "b/#");
        config_free(c);

        /* A key twice within one drop-in is an error there. */
        write_file("d.conf.d/50-dup.conf", "[broker:one]\n\nkeepalive = 1\nkeepalive = 2\n", 0644);
        assert_int_equal(config_load(p, &c, &err), -EINVAL);
        char *prefix = path_in("d.conf.d/50-dup.conf:4: [broker:one] keepalive: given twice");
        if (strncmp(err, prefix, strlen(prefix)) != 0)
                fail_msg("%s", err);
        free(prefix);
        free(err);

        /* A section error in a drop-in names the drop-in. */
        write_file("d.conf.d/50-dup.conf", "[bridge:x]\n", 0644);
        assert_int_equal(config_load(p, &c, &err), -EINVAL);
        prefix = path_in("d.conf.d/50-dup.conf:1: ");
        assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
        free(prefix);
        free(err);

        /* A drop-in that is a directory. */
        char *d = path_in("d.conf.d/50-dup.conf");
        assert_int_equal(unlink(d), 0);
        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(config_load(p, &c, &err), -EISDIR);
        assert_true(strncmp(err, d, strlen(d)) == 0);
        free(err);
        assert_int_equal(rmdir(d), 0);
        free(d);

        /* A key before any section in a drop-in: files do not continue the
         * section of the one before. */
        write_file("d.conf.d/60-nosection.conf", "keepalive = 5\n", 0644);
        assert_int_equal(config_load(p, &c, &err), -EINVAL);
        assert_non_null(strstr(err, "60-nosection.conf:1: keepalive: outside any section"));
        free(err);
        d = path_in("d.conf.d/60-nosection.conf");
        unlink(d);
        free(d);
        free(p);
}

/* "<path>.d" that is a file, not a directory, is no drop-in directory. */
static void test_dropin_dir_not_dir(void **state) {
        write_file("f.conf", "[mqlinkd]\n", 0644);
        write_file("f.conf.d", "[nope]\n", 0644);
        char *p = path_in("f.conf");
        struct config *c = NULL;
        char *err = NULL;
        assert_int_equal(config_load(p, &c, &err), 0);
        config_free(c);
        free(p);
}

static void test_password_file(void **state) {
        static const struct {
                const char *content;
                const char *password;
                size_t len;
        } forms[] = {
                { "pw\n", "pw", 2 },
                { "pw\r\n", "pw", 2 },
                { "pw", "pw", 2 },
                { "pw\n\n", "pw\n", 3 },
                { "\n", "", 0 },
                { "", "", 0 },
                { "a b\tc\x01\xff", "a b\tc\x01\xff", 7 },
        };
        struct config *c;
        char *err = NULL;

        for (size_t i = 0; i < ELEMENTS(forms); i++) {
                write_file("pw", forms[i].content, 0600);
                write_file("pw.conf",
                           "[broker:a]\nuri = mqtt://h\nusername = u\npassword_file = pw\n", 0644);
                char *p = path_in("pw.conf");
                c = NULL;
                if (config_load(p, &c, &err) < 0)
                        fail_msg("%s", err);
                assert_int_equal(c->brokers[0].password_len, forms[i].len);
                assert_memory_equal(c->brokers[0].password, forms[i].password, forms[i].len);
                assert_int_equal(c->brokers[0].password[forms[i].len], '\0');
                config_free(c);
                free(p);
        }

        /* Group-readable is fine: "root:mqlink 0640" is how it is shipped. */
        write_file("pw", "x\n", 0640);
        char *p = path_in("pw.conf");
        assert_int_equal(config_load(p, &c, &err), 0);
        config_free(c);

        /* Others may neither read nor write it. */
        char *pw = path_in("pw");
        write_file("pw", "x\n", 0644);
        assert_int_equal(config_load(p, &c, &err), -EACCES);
        char *prefix;
        assert_true(asprintf(&prefix,
                             "%s:4: [broker:a] password_file: mode 0644: readable by "
                             "others; chmod 600 it: \"%s\"",
                             p, pw) > 0);
        if (strcmp(err, prefix) != 0)
                fail_msg("%s", err);
        free(prefix);
        free(err);

        write_file("pw", "x\n", 0602);
        assert_int_equal(config_load(p, &c, &err), -EACCES);
        assert_non_null(strstr(err, "writable by others"));
        free(err);

        /* Too long for MQTT: 65535 bytes and a newline are fine, one more
         * byte is not. */
        char *big = malloc(65538);
        memset(big, 'p', 65535);
        strcpy(big + 65535, "\n");
        write_file("pw", big, 0600);
        assert_int_equal(config_load(p, &c, &err), 0);
        assert_int_equal(c->brokers[0].password_len, 65535);
        config_free(c);
        strcpy(big + 65535, "pp");
        write_file("pw", big, 0600);
        assert_int_equal(config_load(p, &c, &err), -EINVAL);
        assert_non_null(strstr(err, "longer than 65535"));
        free(err);
        free(big);

        free(pw);
        free(p);
}

/* ---- brokers ---- */

static void test_default_broker(void **state) {
        struct config *c = load_ok("[broker:a]\nuri = mqtt://a\n[broker:b]\nuri = mqtt://b\n");
        assert_ptr_equal(c->default_broker, &c->brokers[0]);
        config_free(c);

        c = load_ok("[broker:a]\nuri = mqtt://a\n[broker:b]\nuri = mqtt://b\ndefault = yes\n");
        assert_ptr_equal(c->default_broker, &c->brokers[1]);
        assert_false(c->brokers[0].is_default);
        config_free(c);

        /* "default = no" is not a default. */
        c = load_ok("[broker:a]\nuri = mqtt://a\ndefault = no\n[broker:b]\nuri = mqtt://b\n"
                    "default = no\n");
        assert_ptr_equal(c->default_broker, &c->brokers[0]);
        config_free(c);
}

static void test_broker_names(void **state) {
        struct config *c = load_ok(
                "[broker:A-z_0.9]\nuri = mqtt://a\n"
                "[broker:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n"
                "uri = mqtt://b\n"
                "[ broker:spaced ]\nuri = mqtt://c\n");
        assert_int_equal(c->n_brokers, 3);
        assert_string_equal(c->brokers[0].name, "A-z_0.9");
        assert_int_equal(strlen(c->brokers[1].name), 64);
        assert_string_equal(c->brokers[2].name, "spaced");
        /* Names are case-sensitive. */
        assert_null(config_find_broker(c, "a-z_0.9"));
        assert_ptr_equal(config_find_broker(c, "A-z_0.9"), &c->brokers[0]);
        assert_ptr_equal(config_find_broker(c, "spaced"), &c->brokers[2]);
        assert_null(config_find_broker(c, "nope"));
        assert_null(config_find_broker(c, NULL));
        assert_null(config_find_broker(NULL, "spaced"));
        config_free(c);
}

static void test_subscribe(void **state) {
        struct config *c = load_ok("[broker:a]\nuri = mqtt://a\n"
                                   "subscribe = x/1\n"
                                   "subscribe = x/2 1\n"
                                   "subscribe = floor 2 0\n"
                                   "subscribe = floor 2\n" /* "floor" at QoS 2 */
                                   "subscribe = #\n"
                                   "subscribe = 7\n"
                                   "subscribe = x/1 2\n");
        const struct config_broker *b = &c->brokers[0];
        assert_int_equal(b->n_subs, 6);
        assert_string_equal(b->subs[0].filter, "x/1");
        assert_int_equal(b->subs[0].qos, 2);
        assert_string_equal(b->subs[1].filter, "x/2");
        assert_int_equal(b->subs[1].qos, 1);
        assert_string_equal(b->subs[2].filter, "floor 2");
        assert_int_equal(b->subs[2].qos, 0);
        assert_string_equal(b->subs[3].filter, "floor");
        assert_int_equal(b->subs[3].qos, 2);
        assert_string_equal(b->subs[4].filter, "#");
        assert_string_equal(b->subs[5].filter, "7");
        config_free(c);
}

static void test_empty_unsets(void **state) {
        write_file("u-pw", "x", 0600);
        write_file("u.conf",
                   "[broker:a]\nuri = mqtt://a\nusername = u\npassword_file = u-pw\n"
                   "will_topic = t\nwill_payload = p\nwill_qos = 1\n",
                   0644);
        make_dir("u.conf.d");
        write_file("u.conf.d/10.conf",
                   "[broker:a]\nusername =\npassword_file =\nwill_topic =\nwill_payload =\n"
                   "will_qos = 0\n",
                   0644);
        char *p = path_in("u.conf");
        struct config *c = NULL;
        char *err = NULL;
        if (config_load(p, &c, &err) < 0)
                fail_msg("%s", err);
        const struct config_broker *b = &c->brokers[0];
        assert_null(b->username);
        assert_null(b->password_file);
        assert_null(b->password);
        assert_null(b->will_topic);
        assert_null(b->will_payload);
        assert_int_equal(b->will_payload_len, 0);
        config_free(c);
        free(p);

        /* An empty client_id asks the broker for one (MQTT 5). */
        c = load_ok("[broker:a]\nuri = mqtt://a\nclient_id =\n");
        assert_string_equal(c->brokers[0].client_id, "");
        config_free(c);
        c = load_ok("[broker:a]\nuri = mqtt://a\nclient_id =\nprotocol = 4\nclean_start = yes\n");
        config_free(c);
}

static void test_same_session(void **state) {
        static const char base[] = "[broker:a]\nuri = mqtt://a mqtt://b\nkeepalive = 30\n";
        static const struct {
                const char *extra;
                bool same;
        } cases[] = {
                { "", true },
                { "subscribe = x/#\n", true },
                { "default = yes\n", true },
                { "keepalive = 30\n", true },
                { "uri = mqtt://a   mqtt://b\n", true },
                { "keepalive = 31\n", false },
                { "uri = mqtt://a\n", false },
                { "uri = mqtt://b mqtt://a\n", false },
                { "protocol = 4\n", false },
                { "client_id = other\n", false },
                { "clean_start = yes\n", false },
                { "session_expiry = 1\n", false },
                { "username = u\n", false },
                { "tls_server_name = h\n", false },
                { "tls_alpn = mqtt\n", false },
                { "tls_verify = no\n", false },
                { "will_topic = t\n", false },
                { "will_topic = t\nwill_payload = p\n", false },
                { "reconnect_min = 1\n", false },
                { "reconnect_max = 60\n", false },
                { "connect_timeout = 5\n", false },
                { "queue_messages = 5\n", false },
                { "queue_bytes = 1M\n", false },
                { "max_inflight = 5\n", false },
        };
        struct config *a = load_ok(base);

        /* The changed broker comes from the same file plus a drop-in, as
         * after an edit and a reload. */
        write_file("ss.conf", base, 0644);
        make_dir("ss.conf.d");
        char *p = path_in("ss.conf");
        for (size_t i = 0; i < ELEMENTS(cases); i++) {
                char *text, *err = NULL;
                struct config *b = NULL;
                assert_true(asprintf(&text, "[broker:a]\n%s", cases[i].extra) > 0);
                write_file("ss.conf.d/10.conf", text, 0644);
                if (config_load(p, &b, &err) < 0)
                        fail_msg("%s", err);
                if (config_broker_same_session(&a->brokers[0], &b->brokers[0]) != cases[i].same)
                        fail_msg("case %zu: \"%s\"", i, cases[i].extra);
                assert_true(config_broker_same_session(&b->brokers[0], &b->brokers[0]));
                config_free(b);
                free(text);
        }
        free(p);
        config_free(a);

        /* The password's content counts, not its file. */
        write_file("s-pw1", "one\n", 0600);
        write_file("s-pw2", "one", 0600);
        write_file("s-pw3", "two", 0600);
        struct config *c[3];
        for (int i = 0; i < 3; i++) {
                char *name, *text, *q;
                assert_true(asprintf(&name, "s%d.conf", i) > 0);
                assert_true(asprintf(&text,
                                     "[broker:a]\nuri = mqtt://a\nusername = u\n"
                                     "password_file = s-pw%d\n",
                                     i + 1) > 0);
                write_file(name, text, 0644);
                q = path_in(name);
                char *err = NULL;
                if (config_load(q, &c[i], &err) < 0)
                        fail_msg("%s", err);
                free(name);
                free(text);
                free(q);
        }
        assert_true(config_broker_same_session(&c[0]->brokers[0], &c[1]->brokers[0]));
        assert_false(config_broker_same_session(&c[1]->brokers[0], &c[2]->brokers[0]));
        for (int i = 0; i < 3; i++)
                config_free(c[i]);
}

static void test_free_null(void **state) {
        assert_null(config_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_shipped_example),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_value_forms),
                cmocka_unit_test(test_parsers),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_long_line),
                cmocka_unit_test(test_message_escaping),
                cmocka_unit_test(test_no_error_pointer),
                cmocka_unit_test(test_main_missing),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_dropins),
                cmocka_unit_test(test_dropin_dir_not_dir),
                cmocka_unit_test(test_password_file),
                cmocka_unit_test(test_default_broker),
                cmocka_unit_test(test_broker_names),
                cmocka_unit_test(test_subscribe),
                cmocka_unit_test(test_empty_unsets),
                cmocka_unit_test(test_same_session),
                cmocka_unit_test(test_free_null),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

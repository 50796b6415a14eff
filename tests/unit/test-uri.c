/* SPDX-License-Identifier: MIT */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqlink/transport.h"
#include "util/macro.h"

enum {
        TCP,
        TLS,
        UNX
};

struct uri_case {
        const char *uri;
        int ret;          /* expected return */
        int kind;         /* TCP, TLS, UNX when ret == 0 */
        const char *host; /* or the socket path */
        uint16_t port;
};

#define OK(u, k, h, p) \
        { u, 0, k, h, p }
#define BAD(u, e) \
        { u, e, 0, NULL, 0 }

static const struct uri_case cases[] = {
        /* schemes and their default ports */
        OK("mqtt://localhost", TCP, "localhost", 1883),
        OK("tcp://broker.example.com", TCP, "broker.example.com", 1883),
        OK("mqtts://broker.example.com", TLS, "broker.example.com", 8883),
        OK("ssl://broker.example.com", TLS, "broker.example.com", 8883),
        OK("MQTT://Host", TCP, "Host", 1883), /* schemes are case-insensitive, RFC 3986 §3.1 */
        OK("MqTtS://h", TLS, "h", 8883),
        OK("unix:///run/x.sock", UNX, "/run/x.sock", 0),
        OK("unix:///", UNX, "/", 0),

        /* ports */
        OK("mqtt://host:1", TCP, "host", 1),
        OK("mqtt://host:65535", TCP, "host", 65535),
        OK("mqtts://host:1883", TLS, "host", 1883),
        OK("mqtt://host:08883", TCP, "host", 8883),
        BAD("mqtt://host:65536", -EINVAL),
        BAD("mqtt://host:99999", -EINVAL),
        BAD("mqtt://host:123456", -EINVAL),
        BAD("mqtt://host:0", -EINVAL),
        BAD("mqtt://host:", -EINVAL),
        BAD("mqtt://host:-1", -EINVAL),
        BAD("mqtt://host:+1", -EINVAL),
        BAD("mqtt://host:1x", -EINVAL),
        BAD("mqtt://host:1:2", -EINVAL),

        /* IP literals */
        OK("mqtt://127.0.0.1", TCP, "127.0.0.1", 1883),
        OK("mqtt://127.0.0.1:1884", TCP, "127.0.0.1", 1884),
        OK("mqtt://[::1]:1883", TCP, "::1", 1883),
        OK("mqtt://[::1]", TCP, "::1", 1883),
        OK("mqtts://[2001:db8::1]:8884", TLS, "2001:db8::1", 8884),
        OK("mqtt://[::ffff:192.0.2.1]", TCP, "::ffff:192.0.2.1", 1883),
        OK("mqtt://[fe80::1%25eth0]:1883", TCP, "fe80::1%eth0", 1883), /* RFC 6874 zone */
        BAD("mqtt://::1", -EINVAL),
        BAD("mqtt://::1:1883", -EINVAL),
        BAD("mqtt://[::1", -EINVAL),
        BAD("mqtt://[]", -EINVAL),
        BAD("mqtt://[127.0.0.1]", -EINVAL),
        BAD("mqtt://[::g]", -EINVAL),
        BAD("mqtt://[::1]x", -EINVAL),
        BAD("mqtt://[::1]:", -EINVAL),
        BAD("mqtt://[fe80::1%eth0]", -EINVAL), /* the '%' must be written %25 */
        BAD("mqtt://[fe80::1%25]", -EINVAL),

        /* host names */
        OK("mqtt://a", TCP, "a", 1883),
        OK("mqtt://my_host-1.example", TCP, "my_host-1.example", 1883),
        OK("mqtt://host.example.", TCP, "host.example.", 1883),
        OK("mqtt://host/", TCP, "host", 1883), /* a lone trailing slash */
        OK("mqtt://host:1884/", TCP, "host", 1884),
        BAD("mqtt://", -EINVAL),
        BAD("mqtt://:1883", -EINVAL),
        BAD("mqtt:///", -EINVAL),
        BAD("mqtt://.", -EINVAL),
        BAD("mqtt://a..b", -EINVAL),
        BAD("mqtt://.a", -EINVAL),
        BAD("mqtt://h%41", -EINVAL), /* no percent-decoding */
        BAD("mqtt://h\xc3\xa9", -EINVAL),
        BAD("mqtt://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            -EINVAL), /* 64 */

        /* no userinfo, path, query or fragment */
        BAD("mqtt://u@h", -EINVAL),
        BAD("mqtt://user:pass@h:1883", -EINVAL),
        BAD("mqtt://h/x", -EINVAL),
        BAD("mqtt://h:1883/x", -EINVAL),
        BAD("mqtt://h//", -EINVAL),
        BAD("mqtt://h?x=1", -EINVAL),
        BAD("mqtt://h#f", -EINVAL),

        /* whitespace and control characters, anywhere */
        BAD(" mqtt://h", -EINVAL),
        BAD("mqtt://h ", -EINVAL),
        BAD("mqtt:// h", -EINVAL),
        BAD("mqtt://h:18 83", -EINVAL),
        BAD("mqtt://h\n", -EINVAL),
        BAD("mqtt://h\t:1", -EINVAL),
        BAD("unix:///run/my socket", -EINVAL),
        BAD("mqtt://h\x7f", -EINVAL),

        /* unix:// */
        BAD("unix://relative", -EINVAL),
        BAD("unix://run/x.sock", -EINVAL),
        BAD("unix://", -EINVAL),
        BAD("unix:/run/x.sock", -EINVAL),

        /* schemes */
        BAD("http://h", -EPROTONOSUPPORT),
        BAD("ws://h:80", -EPROTONOSUPPORT),
        BAD("mqtt+ws://h", -EPROTONOSUPPORT),
        BAD("mqt://h", -EPROTONOSUPPORT),
        BAD("mqttss://h", -EPROTONOSUPPORT),
        BAD("://h", -EINVAL),
        BAD("1mqtt://h", -EINVAL),
        BAD("mq_tt://h", -EINVAL),
        BAD("mqtt:h", -EINVAL),
        BAD("mqtt:/h", -EINVAL),
        BAD("localhost:1883", -EINVAL),
        BAD("localhost", -EINVAL),
        BAD("", -EINVAL),
};

static const char *kind_str(int k) {
        return k == TCP ? "tcp" : k == TLS ? "tls" : "unix";
}

static void test_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct uri_case *c = &cases[i];
                /* Sentinels: outputs are written only on success. */
                bool tls = true, unx = true;
                char *sentinel = (char *)"untouched";
                char *host = sentinel;
                uint16_t port = 4242;

                int r = mql_uri_parse(c->uri, &tls, &unx, &host, &port);
                if (r != c->ret)
                        fail_msg("\"%s\": returned %d, expected %d", c->uri, r, c->ret);
                if (r < 0) {
                        assert_true(tls);
                        assert_true(unx);
                        assert_ptr_equal(host, sentinel);
                        assert_int_equal(port, 4242);
                        continue;
                }

                int kind = unx ? UNX : tls ? TLS : TCP;
                if (kind != c->kind)
                        fail_msg("\"%s\": kind %s, expected %s", c->uri, kind_str(kind),
                                 kind_str(c->kind));
                if (strcmp(host, c->host) != 0)
                        fail_msg("\"%s\": host \"%s\", expected \"%s\"", c->uri, host, c->host);
                if (port != c->port)
                        fail_msg("\"%s\": port %u, expected %u", c->uri, port, c->port);
                free(host);
        }
}

static void test_null_outputs(void **state) {
        /* Every output may be NULL: a caller that only validates. */
        assert_int_equal(mql_uri_parse("mqtts://[::1]:1", NULL, NULL, NULL, NULL), 0);
        assert_int_equal(mql_uri_parse("unix:///x", NULL, NULL, NULL, NULL), 0);
        assert_int_equal(mql_uri_parse("mqtt://u@h", NULL, NULL, NULL, NULL), -EINVAL);
        assert_int_equal(mql_uri_parse(NULL, NULL, NULL, NULL, NULL), -EINVAL);

        uint16_t port = 0;
        assert_int_equal(mql_uri_parse("ssl://h", NULL, NULL, NULL, &port), 0);
        assert_int_equal(port, 8883);
}

static void test_unix_path_length(void **state) {
        /* sun_path holds 108 bytes with its terminating NUL. */
        char uri[200], path[120];

        memset(path, 'a', sizeof(path));
        path[0] = '/';
        path[108] = 0; /* 108 characters: no room for the NUL */
        snprintf(uri, sizeof(uri), "unix://%s", path);
        char *host = NULL;
        assert_int_equal(mql_uri_parse(uri, NULL, NULL, &host, NULL), -EINVAL);
        assert_null(host);

        path[107] = 0; /* 107 characters */
        snprintf(uri, sizeof(uri), "unix://%s", path);
        assert_int_equal(mql_uri_parse(uri, NULL, NULL, &host, NULL), 0);
        assert_int_equal(strlen(host), 107);
        free(host);
}

static void test_host_length(void **state) {
        /* 253 characters of labels: the longest DNS name, RFC 1035. */
        char uri[300] = "mqtt://";
        size_t o = strlen(uri);

        for (int i = 0; i < 4; i++) {
                memset(uri + o, 'a', 62);
                o += 62;
                uri[o++] = '.';
        }
        uri[o++] = 'b';
        uri[o] = 0; /* 4 * 63 + 1 = 253 */
        char *host = NULL;
        assert_int_equal(mql_uri_parse(uri, NULL, NULL, &host, NULL), 0);
        assert_int_equal(strlen(host), 253);
        free(host);

        uri[o++] = 'c';
        uri[o] = 0;
        assert_int_equal(mql_uri_parse(uri, NULL, NULL, NULL, NULL), -EINVAL);
}

static void test_new_uri_errors(void **state) {
        struct mql_transport *t = (struct mql_transport *)&t;

        assert_int_equal(mql_transport_new_uri("http://h", NULL, &t), -EPROTONOSUPPORT);
        assert_int_equal(mql_transport_new_uri("mqtt://h:0", NULL, &t), -EINVAL);
        assert_ptr_equal(t, (struct mql_transport *)&t);

        /* A good URI builds a transport that does nothing until connect(). */
        assert_int_equal(mql_transport_new_uri("mqtt://localhost:1", NULL, &t), 0);
        assert_string_equal(t->ops->name, "tcp");
        assert_true(mql_transport_fd(t) < 0);
        assert_int_equal(mql_transport_events(t), 0);
        assert_int_equal(mql_transport_read(t, (char[1]){ 0 }, 1), -ENOTCONN);
        t = mql_transport_free(t);
        assert_null(t);

        assert_int_equal(mql_transport_new_uri("unix:///run/x.sock", NULL, &t), 0);
        assert_string_equal(t->ops->name, "unix");
        mql_transport_free(t);

        /* A CA file that cannot be read fails up front. */
        const struct mql_tls_config cfg = { .ca_file = "/nonexistent/ca.pem" };
        t = NULL;
        assert_int_equal(mql_transport_new_uri("mqtts://localhost", &cfg, &t), -EIO);
        assert_null(t);

        const struct mql_tls_config bad_alpn = { .insecure = true, .alpn = "mqtt,,x" };
        assert_int_equal(mql_transport_new_uri("mqtts://localhost", &bad_alpn, &t), -EINVAL);
        const struct mql_tls_config key_only = { .insecure = true, .key_file = "/k.pem" };
        assert_int_equal(mql_transport_new_uri("mqtts://localhost", &key_only, &t), -EINVAL);

        const struct mql_tls_config good = { .insecure = true, .alpn = "mqtt,x-amzn-mqtt-ca" };
        assert_int_equal(mql_transport_new_uri("mqtts://localhost", &good, &t), 0);
        assert_string_equal(t->ops->name, "tls");
        mql_transport_free(t);

        /* NULL transports are refused, not dereferenced. */
        assert_null(mql_transport_free(NULL));
        assert_int_equal(mql_transport_connect(NULL), -EINVAL);
        mql_transport_close(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_null_outputs),
                cmocka_unit_test(test_unix_path_length),
                cmocka_unit_test(test_host_length),
                cmocka_unit_test(test_new_uri_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

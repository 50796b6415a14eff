/* SPDX-License-Identifier: MIT */
/*
 * Clients on an sd-event loop (mql_client_attach_event()), against a real
 * mosquitto: two clients on one sd_event, a QoS 1 round trip, reconnect
 * after the broker restarts, detach. The daemon runs its brokers this way.
 */

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mqlink/mqlink.h>
#include <mqlink/sd-event.h>

#include "broker.h"

struct peer {
        struct mql_client *c;
        int connected; /* CONNECTED transitions seen */
        int received;
        int acked;
        char last[64];
};

static void on_state(struct mql_client *c, enum mql_client_state st, int err, void *ud) {
        struct peer *p = ud;
        if (st == MQL_CLIENT_CONNECTED)
                p->connected++;
}

static void on_message(struct mql_client *c, const struct mql_message *m, void *ud) {
        struct peer *p = ud;
        p->received++;
        snprintf(p->last, sizeof(p->last), "%.*s", (int)m->payload.len,
                 (const char *)m->payload.ptr);
}

static void on_published(struct mql_session *s, uint16_t id, int reason, void *ud) {
        struct peer *p = mql_client_get_userdata(mql_client_from_session(s));
        assert_ptr_equal(p, ud);
        assert_int_equal(reason, 0);
        p->acked++;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the sd_event until *counter reaches want, or fails after ms. */
static void run_until(sd_event *e, const int *counter, int want, unsigned ms) {
        uint64_t end = now_ms() + ms;
        while (*counter < want) {
                assert_true(now_ms() < end);
                assert_true(sd_event_run(e, 50 * 1000) >= 0);
        }
}

static void peer_new(struct peer *p, const char *uri, const char *id) {
        const char *uris[] = { uri };
        struct mql_client_config cfg = {
                .uris = uris,
                .n_uris = 1,
                .reconnect_min_ms = 50,
                .reconnect_max_ms = 200,
                .on_state = on_state,
                .on_message = on_message,
                .userdata = p,
        };
        cfg.session.client_id = id;
        cfg.session.keepalive = 30;
        cfg.session.session_expiry = 300;
        assert_int_equal(mql_client_new(&cfg, &p->c), 0);
}

static void test_sd_event_roundtrip_and_reconnect(void **state) {
        struct test_broker b = TEST_BROKER_INIT;
        struct peer pub = { 0 }, sub = { 0 };
        sd_event *e = NULL;
        char uri[64];

        int r = test_broker_start(&b, "persistence true\n");
        if (r == -ENOENT)
                skip();
        assert_int_equal(r, 0);
        snprintf(uri, sizeof(uri), "mqtt://127.0.0.1:%u", b.port);
        assert_int_equal(sd_event_new(&e), 0);

        peer_new(&pub, uri, "sd-pub");
        peer_new(&sub, uri, "sd-sub");
        assert_int_equal(mql_client_attach_event(pub.c, e, 0), 0);
        assert_int_equal(mql_client_attach_event(sub.c, e, 0), 0);
        /* One loop per client. */
        assert_int_equal(mql_client_attach_event(pub.c, e, 0), -EBUSY);
        assert_int_equal(mql_client_start(pub.c), 0);
        assert_int_equal(mql_client_start(sub.c), 0);
        run_until(e, &pub.connected, 1, 5000);
        run_until(e, &sub.connected, 1, 5000);

        struct mql_subscription s = { .filter = mql_str_from("sd/#"), .qos = 1 };
        assert_int_equal(mql_client_subscribe(sub.c, &s, 1, NULL, NULL, NULL), 0);
        /* The SUBACK has no counter here: a short run lets it through. */
        for (int i = 0; i < 10; i++)
                assert_true(sd_event_run(e, 20 * 1000) >= 0);

        struct mql_message m = { .topic = mql_str_from("sd/a"),
                                 .payload = { (const uint8_t *)"one", 3 },
                                 .qos = 1 };
        assert_true(mql_client_publish(pub.c, &m, on_published, &pub) > 0);
        run_until(e, &pub.acked, 1, 5000);
        run_until(e, &sub.received, 1, 5000);
        assert_string_equal(sub.last, "one");

        /* The broker goes away and comes back: both reconnect on their
         * own, the subscription survives in the broker's session. */
        assert_int_equal(test_broker_term(&b), 0);
        assert_int_equal(test_broker_restart(&b), 0);
        run_until(e, &pub.connected, 2, 10000);
        run_until(e, &sub.connected, 2, 10000);
        m.payload = (struct mql_bin){ (const uint8_t *)"two", 3 };
        assert_true(mql_client_publish(pub.c, &m, on_published, &pub) >= 0);
        /* "one" may come again first: its PUBACK can be lost with the
         * broker (QoS 1 is at least once). "two" must come. */
        uint64_t end = now_ms() + 5000;
        while (strcmp(sub.last, "two") != 0) {
                assert_true(now_ms() < end);
                assert_true(sd_event_run(e, 50 * 1000) >= 0);
        }
        assert_true(sub.received >= 2 && sub.received <= 3);
        run_until(e, &pub.acked, 2, 5000);

        /* Detached, a client leaves nothing behind on the loop. */
        mql_client_detach(pub.c);
        assert_int_equal(mql_client_attach_event(pub.c, e, 0), 0);
        pub.c = mql_client_free(pub.c);
        sub.c = mql_client_free(sub.c);
        e = sd_event_unref(e);
        test_broker_stop(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sd_event_roundtrip_and_reconnect),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

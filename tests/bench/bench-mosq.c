/* SPDX-License-Identifier: MIT */

/* libmosquitto as a benchmark peer (see bench-mosq.h). */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <mosquitto.h>

#include "bench-mosq.h"
#include "bench-util.h"

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *props) {
        if (rc == 0)
                peer.connected = true;
        else {
                peer.lost = true;
                peer.lost_err = rc;
        }
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props) {
        if (rc != 0) {
                peer.lost = true;
                peer.lost_err = rc;
        }
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props) {
        if (n != 1 || granted[0] >= 0x80)
                peer_fail(peer.res, EPROTO, "libmosquitto: SUBSCRIBE refused (0x%02x)",
                          n ? granted[0] : 0);
        else
                peer.subscribed = true;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props) {
        peer_received((size_t)msg->payloadlen);
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *props) {
        if (reason >= 0x80 && peer.res->failed++ == 0)
                peer_fail(peer.res, EPROTO, "libmosquitto: publish refused (0x%02x)", reason);
        peer_completed((uint16_t)mid);
}

static struct mosquitto *connect_client(const struct peer_job *j, const char *id) {
        struct mosquitto *m;

        mosquitto_lib_init();
        m = mosquitto_new(id, true, NULL);
        if (!m) {
                peer_fail(peer.res, ENOMEM, "mosquitto_new failed");
                return NULL;
        }
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
        mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
        mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, j->receive_maximum);
        mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, j->window);
        mosquitto_max_inflight_messages_set(m, j->window);
        mosquitto_connect_v5_callback_set(m, on_connect);
        mosquitto_disconnect_v5_callback_set(m, on_disconnect);
        mosquitto_subscribe_v5_callback_set(m, on_subscribe);
        mosquitto_message_v5_callback_set(m, on_message);
        mosquitto_publish_v5_callback_set(m, on_publish);

        int rc = mosquitto_connect_bind_v5(m, "127.0.0.1", j->port, 60, NULL, NULL);
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (rc == MOSQ_ERR_SUCCESS && !peer.connected && !peer.lost && now_ns() < deadline)
                rc = mosquitto_loop(m, 100, 1);
        if (!peer.connected) {
                peer_fail(peer.res, ECONNREFUSED, "libmosquitto: not connected (%s, %d)",
                          mosquitto_strerror(rc), peer.lost_err);
                mosquitto_destroy(m);
                return NULL;
        }
        return m;
}

static void close_client(struct mosquitto *m) {
        if (!peer.lost && mosquitto_disconnect_v5(m, 0, NULL) == MOSQ_ERR_SUCCESS)
                for (int i = 0; i < 10 && mosquitto_loop(m, 10, 1) == MOSQ_ERR_SUCCESS; i++)
                        ;
        mosquitto_destroy(m);
        mosquitto_lib_cleanup();
}

/* Runs the loop once; false (with the reason in the result) when the
 * client lost its connection or made no progress for stall_nsec. */
static bool pump(struct mosquitto *m) {
        int rc = mosquitto_loop(m, 100, 1);

        if (rc != MOSQ_ERR_SUCCESS || peer.lost) {
                peer_fail(peer.res, EPIPE,
                          "libmosquitto: loop: %s (%d) after %" PRIu64 " completions",
                          mosquitto_strerror(rc), peer.lost_err, peer.completed);
                return false;
        }
        if (now_ns() - peer.last_progress > peer.j->stall_nsec) {
                peer_fail(peer.res, ETIMEDOUT,
                          "libmosquitto: stalled: %" PRIu64 " completed, %" PRIu64 " outstanding",
                          peer.completed, peer.outstanding);
                return false;
        }
        return true;
}

void mosq_publisher(const struct peer_job *j, struct peer_result *res, int ready_fd, int ctl_fd) {
        uint8_t *payload = make_payload(j->size);

        peer_begin(j, res);
        struct mosquitto *m = connect_client(j, "bench-pub");
        if (!m) {
                free(payload);
                return;
        }

        uint64_t cpu0 = self_cpu_ns(), seq = 0;
        peer.last_progress = res->t_first = now_ns();
        while (seq < j->n) {
                /* At QoS 0 on_publish says "written", so this bounds the
                 * packets waiting in libmosquitto's queue. */
                if (peer.outstanding >= j->window) {
                        if (!pump(m))
                                break;
                        continue;
                }
                int mid;
                /* Read only when it is used: it costs the publisher CPU. */
                uint64_t t = j->latency ? now_ns() : 0;
                peer.outstanding++;
                int rc = mosquitto_publish_v5(m, &mid, j->topic, (int)j->size, payload, j->qos,
                                              false, NULL);
                if (rc == MOSQ_ERR_NOMEM) {
                        peer.outstanding--;
                        if (!pump(m))
                                break;
                        continue;
                }
                if (rc != MOSQ_ERR_SUCCESS) {
                        peer.outstanding--;
                        peer_fail(res, EIO, "mosquitto_publish_v5: %s", mosquitto_strerror(rc));
                        break;
                }
                peer_sent((uint16_t)mid, t);
                seq++;
        }
        while (!res->err && peer.completed < seq)
                if (!pump(m))
                        break;
        peer_publisher_done(cpu0);
        close_client(m);
        free(payload);
        res->maxrss_kib = self_maxrss_kib();
}

void mosq_subscriber(const struct peer_job *j, struct peer_result *res, int ready_fd, int ctl_fd) {
        struct peer_watch w;

        peer_begin(j, res);
        struct mosquitto *m = connect_client(j, "bench-sub");
        if (!m)
                return;
        int rc = mosquitto_subscribe_v5(m, NULL, j->topic, j->qos, 0, NULL);
        uint64_t deadline = now_ns() + 5 * NSEC_PER_SEC;
        while (rc == MOSQ_ERR_SUCCESS && !peer.subscribed && !res->err && now_ns() < deadline)
                rc = mosquitto_loop(m, 100, 1);
        if (!peer.subscribed) {
                peer_fail(res, ETIMEDOUT, "libmosquitto: no SUBACK (%s)", mosquitto_strerror(rc));
                close_client(m);
                return;
        }

        uint64_t cpu0 = self_cpu_ns();
        peer_sub_ready(&w, ready_fd, ctl_fd);
        while (peer_sub_more(&w)) {
                rc = mosquitto_loop(m, 50, 1);
                if (rc != MOSQ_ERR_SUCCESS || peer.lost) {
                        peer_fail(res, EPIPE,
                                  "libmosquitto subscriber: %s (%d) after %" PRIu64 " messages",
                                  mosquitto_strerror(rc), peer.lost_err, res->count);
                        break;
                }
        }
        res->cpu_ns = self_cpu_ns() - cpu0;
        close_client(m);
        res->maxrss_kib = self_maxrss_kib();
}

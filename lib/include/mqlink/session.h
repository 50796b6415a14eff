/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * mql_session: the MQTT client protocol engine, sans-IO.
 *
 * It never touches a socket or a clock. The caller (mql_client, or a test,
 * or a program with a transport of its own) does four things:
 *   - when a connection to the broker is up: mql_session_connection_made();
 *   - feeds every byte received: mql_session_receive(s, bytes, len, now);
 *   - writes what mql_session_output() holds and reports it with
 *     mql_session_output_consumed(); more output may appear after any call;
 *   - calls mql_session_tick(s, now) once mql_session_next_tick() is reached,
 *     and mql_session_connection_lost() when the connection ends.
 * Time is a monotonic count of milliseconds the caller chooses.
 *
 * The session outlives connections: subscriptions, messages in flight, the
 * offline queue and the broker's session state carry over, so that
 * reconnecting resumes where the connection broke (MQTT-4.4.0-1).
 *
 * Errors: -EINVAL (bad argument), -ENOTCONN (needs a connection),
 * -ENOBUFS (offline queue or output bound reached: nothing was queued),
 * -EMSGSIZE (larger than the broker's Maximum Packet Size), -ENOMEM.
 * mql_session_receive() returns -EBADMSG / -EPROTO when the broker broke the
 * protocol; the session has then queued a DISCONNECT (MQTT 5) and the caller
 * closes the connection once the output is written.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mqlink/packet.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mql_session;

/* A message to publish, or one received. Views are borrowed: publish()
 * copies what it keeps; a received one is valid during the callback only. */
struct mql_message {
        struct mql_str topic;
        struct mql_bin payload;
        uint8_t qos;
        bool retain;
        bool dup;               /* received only */
        uint16_t packet_id;     /* received only: for mql_session_acknowledge() */
        struct mql_props props; /* MQTT 5 PUBLISH properties */
};

enum mql_session_state {
        MQL_SESSION_DISCONNECTED,
        MQL_SESSION_CONNECTING,    /* CONNECT sent, waiting for CONNACK (or AUTH) */
        MQL_SESSION_CONNECTED,
        MQL_SESSION_DISCONNECTING, /* DISCONNECT queued: close once written */
};

enum mql_event_type {
        /* CONNACK with success. `connack` holds session_present and the
         * broker's properties. */
        MQL_EVENT_CONNECTED,
        /* CONNACK refused: `connack.reason_code` (3.1.1 return code or MQTT 5
         * reason). The caller closes the connection. */
        MQL_EVENT_CONNECT_REFUSED,
        /* An application message arrived: `message`. With manual_ack the
         * caller acknowledges QoS 1/2 with mql_session_acknowledge(). */
        MQL_EVENT_MESSAGE,
        /* The broker sent DISCONNECT (MQTT 5): `disconnect`. */
        MQL_EVENT_DISCONNECT,
        /* The broker sent AUTH: `auth`. Answer with mql_session_auth(). */
        MQL_EVENT_AUTH,
        /* The session wants the connection closed now: `error` is
         * -ETIMEDOUT (no packet within 1.5 × keepalive, or no CONNACK within
         * connect_timeout). Bytes the broker got wrong are reported by
         * mql_session_receive()'s return value instead. */
        MQL_EVENT_CLOSE,
};

struct mql_event {
        enum mql_event_type type;
        union {
                struct mql_connack connack;
                struct mql_message message;
                struct mql_disconnect disconnect;
                struct mql_disconnect auth;
                int error;
        };
};

/* Views in `ev` are valid during the call only. The callback may call any
 * session function except mql_session_free(). */
typedef void (*mql_session_event_fn)(struct mql_session *s, const struct mql_event *ev,
                                     void *userdata);

/*
 * Completion of a publish: `reason` is 0 (QoS 0 written to the output, QoS 1
 * PUBACK, QoS 2 PUBCOMP), the broker's MQTT 5 reason code (>= 0x80 means
 * refused; 0x10 "No matching subscribers" is a success), or a negative errno:
 * -ECANCELED (session freed, or in-flight state dropped by the broker with
 * the "fail" policy; a QoS 2 message the broker already acknowledged with
 * PUBREC is the broker's and completes with 0 under either policy,
 * MQTT-4.3.3-8), -EMSGSIZE (larger than the broker allows),
 * -EOPNOTSUPP (QoS above the broker's Maximum QoS, or retain where
 * unavailable).
 */
typedef void (*mql_publish_fn)(struct mql_session *s, uint16_t packet_id, int reason,
                               void *userdata);

/* SUBACK / UNSUBACK: one reason code per filter, in order (granted QoS 0-2
 * or >= 0x80 failure; MQTT 5 UNSUBACK codes; n = 0 for a 3.1.1 UNSUBACK,
 * which carries none). `reasons` is NULL with `error` -ECANCELED when the
 * session is freed first. An ack with the wrong number of codes is a
 * protocol error (mql_session_receive() returns -EPROTO). */
typedef void (*mql_subscribe_fn)(struct mql_session *s, const uint8_t *reasons, size_t n,
                                 int error, void *userdata);

/* What to do with in-flight QoS 1/2 messages when the broker has no session
 * for us on reconnect (session present = 0). */
enum mql_resume_policy {
        MQL_RESUME_REQUEUE, /* send them again as new messages (default) */
        MQL_RESUME_FAIL,    /* complete them with -ECANCELED */
};

struct mql_will {
        struct mql_str topic;
        struct mql_bin payload;
        uint8_t qos;
        bool retain;
        struct mql_props props; /* MQTT 5 Will Properties */
};

/* Everything is copied by mql_session_new(). Zero means "default" unless
 * said otherwise. */
struct mql_session_config {
        enum mql_version version; /* 0: MQL_V5 */
        const char *client_id;    /* NULL or "": server-assigned (v5) */
        bool clean_start;
        uint16_t keepalive;        /* seconds; 0 disables it. Default: set 60 yourself */
        uint32_t session_expiry;   /* v5 Session Expiry Interval, seconds */
        uint16_t receive_maximum;  /* v5: our in-flight limit for the broker; 0: 65535 */
        /* Our own cap on QoS 1/2 messages in flight to the broker, below
         * its Receive Maximum. 0: none in MQTT 5 (the broker says), 20 in
         * 3.1.1, which has no way to say — brokers drop what exceeds their
         * window there (mosquitto's max_inflight_messages, 20). */
        uint16_t max_inflight;
        uint32_t maximum_packet_size;  /* largest packet we accept; 0: no limit */
        uint16_t topic_alias_maximum;  /* inbound aliases we accept (v5) */
        bool outbound_topic_aliases;   /* use aliases the broker offers */
        bool request_response_information;
        bool request_problem_information_off; /* v5 default is on */
        const struct mql_prop *user_props; /* v5 CONNECT user properties */
        size_t n_user_props;
        const char *username;
        const char *password; /* NUL-terminated; see password_bin for binary */
        struct mql_bin password_bin;
        const struct mql_will *will;
        const char *auth_method; /* v5 enhanced authentication */
        struct mql_bin auth_data;
        bool manual_ack;         /* acknowledge QoS 1/2 yourself */
        enum mql_resume_policy resume_policy;
        uint32_t connect_timeout_ms;  /* wait for CONNACK; 0: 30000 */
        size_t offline_queue_messages; /* bound while disconnected; 0: 1000 */
        size_t offline_queue_bytes;    /* 0: 16 MiB */
        size_t max_output_bytes;       /* bound of unwritten output; 0: 64 MiB */
        mql_session_event_fn on_event;
        void *userdata;
};

/* Returns 0 and the session, -EINVAL for a bad config, or -ENOMEM. */
int mql_session_new(const struct mql_session_config *cfg, struct mql_session **ret);
/* Completes every pending operation with -ECANCELED, then frees. Accepts
 * NULL; returns NULL. */
struct mql_session *mql_session_free(struct mql_session *s);

/* A connection is up: queues CONNECT. Returns 0 or -EALREADY. */
int mql_session_connection_made(struct mql_session *s, uint64_t now_ms);
/* The connection is gone: drops partial input and unwritten output, keeps the
 * session state for the next connection. */
void mql_session_connection_lost(struct mql_session *s);

/* Feeds received bytes (any split). Returns 0, or -EBADMSG / -EPROTO /
 * -EMSGSIZE (packet over our maximum): see the top of this file. */
int mql_session_receive(struct mql_session *s, const uint8_t *buf, size_t len, uint64_t now_ms);

/* The bytes waiting to be written (a view valid until the next call into the
 * session), and how many the caller managed to write. */
void mql_session_output(struct mql_session *s, const uint8_t **ret_ptr, size_t *ret_len);
void mql_session_output_consumed(struct mql_session *s, size_t n, uint64_t now_ms);

/* When mql_session_tick() must next run (ms), or UINT64_MAX. */
uint64_t mql_session_next_tick(struct mql_session *s);
/* Sends PINGREQ when due; raises MQL_EVENT_CLOSE when the broker is dead. */
void mql_session_tick(struct mql_session *s, uint64_t now_ms);

/*
 * Publishes a message. Connected: sent now, or queued while the broker's
 * Receive Maximum is reached. Disconnected: kept in the offline queue and sent
 * on the next connection. `cb` (may be NULL) tells the outcome. Returns the
 * packet identifier (> 0) for QoS 1/2 once assigned, 0 for QoS 0 or a
 * message still waiting, or -EINVAL (bad topic or QoS, properties not
 * allowed), -ENOBUFS (queue or output bound reached), -EMSGSIZE, -EOPNOTSUPP
 * (connected to a broker whose Maximum QoS or Retain Available refuses it),
 * -ENOMEM. On error `cb` is not called. A QoS 0 message sent at once has its
 * `cb` called before this returns. Messages queued offline are checked
 * against the broker's limits once its CONNACK is in, and complete with
 * -EMSGSIZE or -EOPNOTSUPP instead of being sent.
 */
int mql_session_publish(struct mql_session *s, const struct mql_message *msg, mql_publish_fn cb,
                        void *userdata);

/*
 * Subscribes to `n` filters in one SUBSCRIBE (options per filter). The session
 * remembers them and subscribes again when a reconnect finds no session.
 * `props` may be NULL (a Subscription Identifier goes there). Returns 0 or
 * -ENOTCONN, -EINVAL, -ENOBUFS, -ENOMEM.
 */
int mql_session_subscribe(struct mql_session *s, const struct mql_subscription *subs, size_t n,
                          const struct mql_props *props, mql_subscribe_fn cb, void *userdata);
int mql_session_unsubscribe(struct mql_session *s, const struct mql_str *filters, size_t n,
                            const struct mql_props *props, mql_subscribe_fn cb,
                            void *userdata);

/* With manual_ack: acknowledges received QoS 1/2 message `packet_id` with
 * `reason` (MQTT 5; 0 = success). Returns 0, -ENOENT for an unknown id,
 * -ENOTCONN. */
int mql_session_acknowledge(struct mql_session *s, uint16_t packet_id, uint8_t reason);

/* Sends AUTH (enhanced authentication, v5). */
int mql_session_auth(struct mql_session *s, uint8_t reason, const struct mql_props *props);

/* Queues DISCONNECT with `reason` (v5) and moves to DISCONNECTING: the caller
 * closes the connection once mql_session_output() is empty. */
int mql_session_disconnect(struct mql_session *s, uint8_t reason, const struct mql_props *props);

enum mql_session_state mql_session_get_state(struct mql_session *s);
/* The config's `userdata`. */
void *mql_session_get_userdata(struct mql_session *s);
/* The client id in use (the broker's Assigned Client Identifier once known).
 * Valid until the next call into the session. */
const char *mql_session_get_client_id(struct mql_session *s);

struct mql_session_stats {
        size_t inflight;       /* QoS 1/2 sent, not yet completed */
        size_t queued;         /* waiting: offline or for Receive Maximum */
        size_t queued_bytes;
        uint64_t published;    /* completed publishes */
        uint64_t received;     /* application messages delivered */
        uint16_t server_receive_maximum;
        uint32_t server_maximum_packet_size;
};
void mql_session_get_stats(struct mql_session *s, struct mql_session_stats *ret);

#ifdef __cplusplus
}
#endif

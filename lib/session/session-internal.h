/* SPDX-License-Identifier: MIT */
#pragma once

/* The session engine's private state, shared by its files. Not installed. */

#include <mqlink/session.h>

#include "util/buf.h"

/* An outbound PUBLISH: its own copy of topic, properties and payload. */
struct outmsg {
        struct outmsg *next;
        uint16_t packet_id; /* 0 until sent */
        uint8_t qos;
        bool retain;
        bool released; /* QoS 2: PUBREC received, PUBREL sent */
        bool sent;     /* sent at least once: a resend carries DUP */
        bool held;     /* in flight but not resent yet after a reconnect: the
                          broker's new Receive Maximum holds it back */
        mql_publish_fn cb;
        void *userdata;
        size_t topic_len;
        size_t props_len;
        size_t payload_len;
        uint8_t data[]; /* topic, property block, payload */
};

/* A FIFO of outbound messages. */
struct msgq {
        struct outmsg *head;
        struct outmsg **tailp;
        size_t count;
        size_t bytes;
};

/* A SUBSCRIBE or UNSUBSCRIBE awaiting its ack, kept encoded (3.1.1 and 5
 * alike) so that a reconnect can send it again. */
struct pending_op {
        struct pending_op *next;
        uint16_t packet_id;
        enum mql_packet_type type;
        mql_subscribe_fn cb;
        void *userdata;
        size_t n_filters; /* the ack must carry as many reason codes */
        size_t len;
        uint8_t bytes[];
};

/* One subscribe call's filters, remembered to subscribe again when a
 * reconnect finds no session on the broker. */
struct sub_group {
        struct sub_group *next;
        uint16_t pending_id; /* its SUBSCRIBE still awaits SUBACK: on a
                                session-less reconnect that SUBSCRIBE is
                                sent again, not this group */
        size_t props_len;
        uint8_t *props; /* owned: the SUBSCRIBE property block */
        size_t count;
        struct sub_entry {
                char *filter; /* owned */
                size_t len;
                struct mql_subscription opts;
        } *entries; /* owned */
};

struct alias {
        char *topic; /* owned */
        size_t len;
};

#define ID_WORDS (65536 / 64)

struct mql_session {
        /* configuration, owned copies */
        enum mql_version version;
        char *client_id;
        bool clean_start;
        uint16_t keepalive;
        uint32_t session_expiry;
        uint16_t receive_maximum;
        uint16_t max_inflight; /* 0: no cap of ours */
        uint32_t maximum_packet_size;
        uint16_t topic_alias_maximum;
        bool outbound_topic_aliases;
        bool manual_ack;
        enum mql_resume_policy resume_policy;
        uint32_t connect_timeout_ms;
        size_t queue_max_messages;
        size_t queue_max_bytes;
        size_t max_output_bytes;
        struct mql_connect connect; /* owned copies of the config's strings */
        mql_session_event_fn on_event;
        void *userdata;

        /* connection */
        enum mql_session_state state;
        bool first_connack_done;
        uint64_t connect_started;
        uint64_t last_rx;
        bool ping_outstanding; /* PINGREQ sent since the last packet received */
        uint64_t last_tx;
        struct mql__buf in;
        struct mql__buf out;

        /* what the broker granted in CONNACK */
        uint16_t server_receive_maximum;
        uint32_t server_maximum_packet_size;
        uint16_t server_topic_alias_maximum;
        uint8_t server_maximum_qos;
        bool server_retain_available;
        uint16_t effective_keepalive;

        /* outbound messages */
        struct msgq queue;    /* waiting to be sent */
        struct msgq inflight; /* sent, in send order (MQTT-4.4.0-1) */
        uint16_t next_id;
        uint64_t ids_used[ID_WORDS];
        struct pending_op *ops; /* FIFO: resent in the order first sent */
        struct pending_op **ops_tailp;
        size_t held; /* in-flight messages with `held` set */

        /* inbound */
        uint64_t rx_qos2[ID_WORDS];   /* PUBREC sent or due, PUBREL awaited */
        uint64_t rx_unacked[ID_WORDS]; /* manual ack still to come */
        uint64_t rx_unacked_qos2[ID_WORDS];
        size_t rx_inflight;            /* counts toward our Receive Maximum */
        struct alias *in_aliases;      /* [topic_alias_maximum + 1] */
        struct alias *out_aliases;     /* [server_topic_alias_maximum + 1] */
        uint16_t out_alias_next;

        struct sub_group *subs;
        struct mql_session_stats stats;
};

static inline bool id_test(const uint64_t *set, uint16_t id) {
        return set[id / 64] & (UINT64_C(1) << (id % 64));
}
static inline void id_set(uint64_t *set, uint16_t id) {
        set[id / 64] |= UINT64_C(1) << (id % 64);
}
static inline void id_clear(uint64_t *set, uint16_t id) {
        set[id / 64] &= ~(UINT64_C(1) << (id % 64));
}

/* session.c */
int mql__session_send(struct mql_session *s, const struct mql_packet *p);
int mql__session_fail(struct mql_session *s, int err, uint8_t reason);
uint16_t mql__session_alloc_id(struct mql_session *s);
void mql__session_emit(struct mql_session *s, const struct mql_event *ev);

/* publish.c */
int mql__pub_flush(struct mql_session *s);
void mql__pub_resume(struct mql_session *s, bool session_present);
int mql__pub_on_ack(struct mql_session *s, const struct mql_packet *p);
int mql__pub_on_publish(struct mql_session *s, const struct mql_publish *p);
int mql__pub_on_pubrel(struct mql_session *s, const struct mql_ack *p);
void mql__pub_reset_aliases(struct mql_session *s);
void mql__pub_free_all(struct mql_session *s);

/* subscribe.c */
int mql__sub_on_ack(struct mql_session *s, const struct mql_packet *p);
void mql__sub_resume(struct mql_session *s, bool session_present);
void mql__sub_free_all(struct mql_session *s);

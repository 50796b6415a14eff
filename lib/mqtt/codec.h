/* SPDX-License-Identifier: MIT */
#pragma once

/* Internal interfaces between the parts of the codec. Not installed. */

#include <mqlink/packet.h>

#include "util/buf.h"
#include "util/cursor.h"

/* Encodes p at the end of `out`, planning it once (mql_packet_size() and
 * mql_packet_encode() in one). Returns the bytes added or a negative errno. */
ssize_t mql__packet_append(const struct mql_packet *p, enum mql_version version,
                           struct mql__buf *out);

/* Reads a Property Length and the property block after it from c, checks
 * every property (type, allowed on `type`/`will`, repetition, range) and
 * points ret->raw at the block. Returns 0, -EBADMSG or -EPROTO. */
int mql__props_decode(struct rcursor *c, enum mql_packet_type type, bool will,
                      struct mql_props *ret);

/* Size of the property block of p (without its length prefix) on `type`
 * packets; checks the `list` entries. Returns the size, -EINVAL or -EMSGSIZE. */
ssize_t mql__props_size(const struct mql_props *p, enum mql_packet_type type, bool will);

/* Writes the Property Length `block` (from mql__props_size()) and the block. */
void mql__props_write(struct wcursor *c, const struct mql_props *p, size_t block);

/* Writes the block alone, without the Property Length. */
void mql__props_write_block(struct wcursor *c, const struct mql_props *p);

/* Whether the container holds no property at all. */
static inline bool mql__props_empty(const struct mql_props *p) {
        return p->raw_len == 0 && p->count == 0;
}

/* Reads the filter list of SUBSCRIBE (options = true) or UNSUBSCRIBE from
 * the rest of c, checking each entry. Returns 0, -EBADMSG or -EPROTO. */
int mql__filters_decode(struct rcursor *c, bool options, enum mql_version version,
                        struct mql_filters *ret);

/* Size of the encoded filter list, -EINVAL for an empty list, a bad string
 * or bad options. */
ssize_t mql__filters_size(const struct mql_filters *f, bool options, enum mql_version version);

void mql__filters_write(struct wcursor *c, const struct mql_filters *f, bool options);

/* The subscription options byte (MQTT 5 §3.8.3.1) of s; 3.1.1 keeps only QoS. */
static inline uint8_t mql__sub_options(const struct mql_subscription *s) {
        return (uint8_t)(s->qos | s->no_local << 2 | s->retain_as_published << 3 |
                         s->retain_handling << 4);
}

/* Whether a string can go on the wire: at most 65,535 bytes of MQTT UTF-8
 * (MQTT-1.5.4-1/2); likewise for binary data. */
bool mql__str_ok(struct mql_str s);
bool mql__bin_ok(struct mql_bin b);

/* Whether a topic name holds a wildcard character (MQTT-3.3.2-2). */
bool mql__has_wildcard(const char *s, size_t len);

/* Required fixed-header flags of a packet type other than PUBLISH. */
static inline uint8_t mql__fixed_flags(enum mql_packet_type type) {
        return type == MQL_PUBREL || type == MQL_SUBSCRIBE || type == MQL_UNSUBSCRIBE ? 0x2 : 0x0;
}

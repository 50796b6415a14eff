/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "codec.h"
#include "util/macro.h"

#define P(t) (1u << MQL_##t)
#define ACKS (P(PUBACK) | P(PUBREC))

struct reason_info {
        const char *name;
        uint16_t packets; /* bit N: defined for packet type N (MQTT 5 §2.4) */
};

/* MQTT 5 §2.4, table 2-6. 0x00 to 0x02 carry several names; the packet
 * specific ones are in reason_alias() below. Where table 2-6 and a packet's
 * own table disagree (0x8C "Bad authentication method" is in 2-6 for
 * DISCONNECT but not in table 3-10) we follow 2-6: a failed
 * re-authentication ends with that DISCONNECT. */
static const struct reason_info reasons[256] = {
        [0x00] = { "Success", P(CONNACK) | ACKS | P(PUBREL) | P(PUBCOMP) | P(UNSUBACK) |
                                      P(AUTH) | P(SUBACK) | P(DISCONNECT) },
        [0x01] = { "Granted QoS 1", P(SUBACK) },
        [0x02] = { "Granted QoS 2", P(SUBACK) },
        [0x04] = { "Disconnect with Will Message", P(DISCONNECT) },
        [0x10] = { "No matching subscribers", ACKS },
        [0x11] = { "No subscription existed", P(UNSUBACK) },
        [0x18] = { "Continue authentication", P(AUTH) },
        [0x19] = { "Re-authenticate", P(AUTH) },
        [0x80] = { "Unspecified error", P(CONNACK) | ACKS | P(SUBACK) | P(UNSUBACK) |
                                                P(DISCONNECT) },
        [0x81] = { "Malformed Packet", P(CONNACK) | P(DISCONNECT) },
        [0x82] = { "Protocol Error", P(CONNACK) | P(DISCONNECT) },
        [0x83] = { "Implementation specific error", P(CONNACK) | ACKS | P(SUBACK) |
                                                            P(UNSUBACK) | P(DISCONNECT) },
        [0x84] = { "Unsupported Protocol Version", P(CONNACK) },
        [0x85] = { "Client Identifier not valid", P(CONNACK) },
        [0x86] = { "Bad User Name or Password", P(CONNACK) },
        [0x87] = { "Not authorized", P(CONNACK) | ACKS | P(SUBACK) | P(UNSUBACK) |
                                             P(DISCONNECT) },
        [0x88] = { "Server unavailable", P(CONNACK) },
        [0x89] = { "Server busy", P(CONNACK) | P(DISCONNECT) },
        [0x8A] = { "Banned", P(CONNACK) },
        [0x8B] = { "Server shutting down", P(DISCONNECT) },
        [0x8C] = { "Bad authentication method", P(CONNACK) | P(DISCONNECT) },
        [0x8D] = { "Keep Alive timeout", P(DISCONNECT) },
        [0x8E] = { "Session taken over", P(DISCONNECT) },
        [0x8F] = { "Topic Filter invalid", P(SUBACK) | P(UNSUBACK) | P(DISCONNECT) },
        [0x90] = { "Topic Name invalid", P(CONNACK) | ACKS | P(DISCONNECT) },
        [0x91] = { "Packet Identifier in use", ACKS | P(SUBACK) | P(UNSUBACK) },
        [0x92] = { "Packet Identifier not found", P(PUBREL) | P(PUBCOMP) },
        [0x93] = { "Receive Maximum exceeded", P(DISCONNECT) },
        [0x94] = { "Topic Alias invalid", P(DISCONNECT) },
        [0x95] = { "Packet too large", P(CONNACK) | P(DISCONNECT) },
        [0x96] = { "Message rate too high", P(DISCONNECT) },
        [0x97] = { "Quota exceeded", P(CONNACK) | ACKS | P(SUBACK) | P(DISCONNECT) },
        [0x98] = { "Administrative action", P(DISCONNECT) },
        [0x99] = { "Payload format invalid", P(CONNACK) | ACKS | P(DISCONNECT) },
        [0x9A] = { "Retain not supported", P(CONNACK) | P(DISCONNECT) },
        [0x9B] = { "QoS not supported", P(CONNACK) | P(DISCONNECT) },
        [0x9C] = { "Use another server", P(CONNACK) | P(DISCONNECT) },
        [0x9D] = { "Server moved", P(CONNACK) | P(DISCONNECT) },
        [0x9E] = { "Shared Subscriptions not supported", P(SUBACK) | P(DISCONNECT) },
        [0x9F] = { "Connection rate exceeded", P(CONNACK) | P(DISCONNECT) },
        [0xA0] = { "Maximum connect time", P(DISCONNECT) },
        [0xA1] = { "Subscription Identifiers not supported", P(SUBACK) | P(DISCONNECT) },
        [0xA2] = { "Wildcard Subscriptions not supported", P(SUBACK) | P(DISCONNECT) },
};

/* MQTT 3.1.1 §3.2.2.3, table 3.1. */
static const char *const v311_connack[] = {
        "Connection Accepted",
        "Connection Refused, unacceptable protocol version",
        "Connection Refused, identifier rejected",
        "Connection Refused, Server unavailable",
        "Connection Refused, bad user name or password",
        "Connection Refused, not authorized",
};

MQL_EXPORT const char *mql_reason_str(unsigned reason) {
        if (reason < ELEMENTSOF(reasons) && reasons[reason].name)
                return reasons[reason].name;
        return "Unknown reason code";
}

MQL_EXPORT bool mql_reason_valid(enum mql_packet_type type, unsigned reason) {
        if (type < MQL_CONNECT || type > MQL_AUTH || reason >= ELEMENTSOF(reasons))
                return false;
        return reasons[reason].packets & (1u << type);
}

/* The names a packet gives the codes that have several (MQTT 5 §2.4). */
static const char *reason_alias(enum mql_packet_type type, unsigned reason) {
        if (type == MQL_SUBACK && reason <= 2)
                return reason == 0 ? "Granted QoS 0" : reasons[reason].name;
        if (type == MQL_DISCONNECT && reason == 0)
                return "Normal disconnection";
        return reasons[reason].name;
}

MQL_EXPORT const char *mql_reason_str_for(enum mql_packet_type type, enum mql_version version,
                                          unsigned reason) {
        if (version == MQL_V311) {
                switch (type) {
                case MQL_CONNACK:
                        return reason < ELEMENTSOF(v311_connack) ? v311_connack[reason] : NULL;
                case MQL_SUBACK: { /* 3.1.1 §3.9.3 */
                        static const char *const codes[] = {
                                "Success - Maximum QoS 0",
                                "Success - Maximum QoS 1",
                                "Success - Maximum QoS 2",
                        };
                        if (reason < ELEMENTSOF(codes))
                                return codes[reason];
                        return reason == 0x80 ? "Failure" : NULL;
                }
                default:
                        return NULL;
                }
        }
        if (!mql_reason_valid(type, reason))
                return NULL;
        return reason_alias(type, reason);
}

MQL_EXPORT const char *mql_packet_type_str(unsigned type) {
        static const char *const names[] = {
                [MQL_CONNECT] = "CONNECT",         [MQL_CONNACK] = "CONNACK",
                [MQL_PUBLISH] = "PUBLISH",         [MQL_PUBACK] = "PUBACK",
                [MQL_PUBREC] = "PUBREC",           [MQL_PUBREL] = "PUBREL",
                [MQL_PUBCOMP] = "PUBCOMP",         [MQL_SUBSCRIBE] = "SUBSCRIBE",
                [MQL_SUBACK] = "SUBACK",           [MQL_UNSUBSCRIBE] = "UNSUBSCRIBE",
                [MQL_UNSUBACK] = "UNSUBACK",       [MQL_PINGREQ] = "PINGREQ",
                [MQL_PINGRESP] = "PINGRESP",       [MQL_DISCONNECT] = "DISCONNECT",
                [MQL_AUTH] = "AUTH",
        };
        return type < ELEMENTSOF(names) && names[type] ? names[type] : "UNKNOWN";
}

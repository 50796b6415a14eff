#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the packet fuzzer, tests/fuzz/corpus/packet/.

Each seed file is one byte selecting the connection's protocol version
(0x00: MQTT 3.1.1, 0x01: MQTT 5) followed by one or more whole packets, the
input format of tests/fuzz/fuzz-packet.c.

The packets are written out by hand, field by field, from the OASIS MQTT
3.1.1 and 5.0 specifications. They are deliberately not produced by the
library's encoder: a seed made by the code under test would share its bugs.
The only thing this script computes is a check that each packet's Remaining
Length matches the bytes written after it, which catches a miscounted hand
edit.

Usage: tests/fuzz/make-corpus.py [OUTPUT_DIR]
"""

import pathlib
import sys

V311 = 0x00
V5 = 0x01

SEEDS = []


def seed(name, version, *packets):
    SEEDS.append((name, version, [bytes.fromhex(" ".join(p)) for p in packets]))


# ---- MQTT 3.1.1 -----------------------------------------------------------

CONNECT_V311_MIN = (
    "10 0c",  # CONNECT, remaining length 12
    "00 04 4d 51 54 54",  # protocol name "MQTT"
    "04",  # protocol level 4
    "02",  # flags: clean session
    "00 3c",  # keep alive 60 s
    "00 00",  # client identifier "" (allowed with clean session, MQTT-3.1.3-7)
)
seed("v311-connect-minimal", V311, CONNECT_V311_MIN)

seed("v311-connect-full", V311, (
    "10 3d",  # CONNECT, remaining length 61
    "00 04 4d 51 54 54",  # "MQTT"
    "04",  # level 4
    "ee",  # flags: user name, password, will retain, will QoS 1, will, clean session
    "00 1e",  # keep alive 30 s
    "00 08 6d 71 6c 69 6e 6b 2d 31",  # client identifier "mqlink-1"
    "00 0f 73 74 61 74 75 73 2f 6d 71 6c 69 6e 6b 2d 31",  # will topic "status/mqlink-1"
    "00 07 6f 66 66 6c 69 6e 65",  # will message "offline"
    "00 05 61 6c 69 63 65",  # user name "alice"
    "00 06 73 65 63 72 65 74",  # password "secret"
))

seed("v311-connect-will-qos2", V311, (
    "10 14",  # CONNECT, remaining length 20
    "00 04 4d 51 54 54",  # "MQTT"
    "04",  # level 4
    "16",  # flags: will QoS 2, will, clean session
    "00 0a",  # keep alive 10 s
    "00 01 78",  # client identifier "x"
    "00 03 61 2f 62",  # will topic "a/b"
    "00 00",  # will message: empty
))

seed("v311-connect-username-only", V311, (
    "10 1b",  # CONNECT, remaining length 27
    "00 04 4d 51 54 54",  # "MQTT"
    "04",  # level 4
    "80",  # flags: user name; persistent session
    "00 00",  # keep alive off
    "00 08 6d 71 6c 69 6e 6b 2d 31",  # client identifier "mqlink-1"
    "00 05 61 6c 69 63 65",  # user name "alice"
))

CONNACK_V311 = ("20 02", "00", "00")  # CONNACK: no session present, accepted
seed("v311-connack-accepted", V311, CONNACK_V311)
seed("v311-connack-session-present", V311, (
    "20 02",  # CONNACK, remaining length 2
    "01",  # acknowledge flags: session present
    "00",  # return code 0: accepted
))
seed("v311-connack-refused", V311, (
    "20 02",  # CONNACK
    "00",  # no session present (MQTT-3.2.2-4 with a non-zero code)
    "05",  # return code 5: not authorized
))

seed("v311-publish-qos0", V311, (
    "30 07",  # PUBLISH QoS 0, remaining length 7
    "00 03 61 2f 62",  # topic "a/b"
    "68 69",  # payload "hi" (no packet identifier at QoS 0)
))

seed("v311-publish-qos1-retain", V311, (
    "33 14",  # PUBLISH QoS 1 + RETAIN, remaining length 20
    "00 0c 73 65 6e 73 6f 72 73 2f 74 65 6d 70",  # topic "sensors/temp"
    "00 01",  # packet identifier 1
    "32 31 2e 35",  # payload "21.5"
))

seed("v311-publish-qos2-dup", V311, (
    "3c 0b",  # PUBLISH DUP + QoS 2, remaining length 11
    "00 03 61 2f 62",  # topic "a/b"
    "ff ff",  # packet identifier 65535
    "00 01 02 ff",  # binary payload
))

seed("v311-publish-empty-payload", V311, (
    "30 05",  # PUBLISH QoS 0, remaining length 5
    "00 03 61 2f 62",  # topic "a/b"; zero-length payload
))

seed("v311-publish-200b", V311, (
    "30 cd 01",  # PUBLISH QoS 0, remaining length 205 (two-byte varint: 0x4d|0x80, 1)
    "00 03 61 2f 62",  # topic "a/b"
    "61 " * 200,  # payload: 200 x "a"
))

seed("v311-publish-utf8", V311, (
    "30 0f",  # PUBLISH QoS 0, remaining length 15
    "00 0a 63 61 66 c3 a9 2f 6d 65 6e 75",  # topic "café/menu" (U+00E9 in two bytes)
    "e2 82 ac",  # payload "€"
))

seed("v311-puback", V311, ("40 02", "00 01"))  # PUBACK, packet identifier 1
seed("v311-pubrec", V311, ("50 02", "00 02"))  # PUBREC, packet identifier 2
seed("v311-pubrel", V311, ("62 02", "00 02"))  # PUBREL (flags 0010, MQTT-3.6.1-1), id 2
seed("v311-pubcomp", V311, ("70 02", "00 02"))  # PUBCOMP, packet identifier 2

seed("v311-subscribe", V311, (
    "82 23",  # SUBSCRIBE (flags 0010, MQTT-3.8.1-1), remaining length 35
    "00 0a",  # packet identifier 10
    "00 09 73 65 6e 73 6f 72 73 2f 23 01",  # "sensors/#", requested QoS 1
    "00 09 63 6d 64 2f 2b 2f 73 65 74 02",  # "cmd/+/set", requested QoS 2
    "00 06 24 53 59 53 2f 23 00",  # "$SYS/#", requested QoS 0
))

seed("v311-suback", V311, (
    "90 05",  # SUBACK, remaining length 5
    "00 0a",  # packet identifier 10
    "01 02 80",  # granted QoS 1, granted QoS 2, failure
))

seed("v311-unsubscribe", V311, (
    "a2 1b",  # UNSUBSCRIBE (flags 0010, MQTT-3.10.1-1), remaining length 27
    "00 0b",  # packet identifier 11
    "00 09 73 65 6e 73 6f 72 73 2f 23",  # "sensors/#"
    "00 0c 68 6f 6d 65 2f 2b 2f 6c 69 67 68 74",  # "home/+/light"
))

seed("v311-unsuback", V311, ("b0 02", "00 0b"))  # UNSUBACK, packet identifier 11
seed("v311-pingreq", V311, ("c0 00",))  # PINGREQ
seed("v311-pingresp", V311, ("d0 00",))  # PINGRESP
seed("v311-disconnect", V311, ("e0 00",))  # DISCONNECT

# What a client sends in a short session, back to back in one stream.
seed("v311-stream-client", V311,
     CONNECT_V311_MIN,
     ("82 08", "00 01", "00 03 61 2f 62 00"),  # SUBSCRIBE id 1: "a/b" QoS 0
     ("32 09", "00 03 61 2f 62", "00 02", "68 69"),  # PUBLISH QoS 1 id 2 "a/b" "hi"
     ("40 02", "00 07"),  # PUBACK id 7
     ("c0 00",),  # PINGREQ
     ("e0 00",))  # DISCONNECT

# What the server sends back.
seed("v311-stream-server", V311,
     CONNACK_V311,
     ("90 03", "00 01", "00"),  # SUBACK id 1: granted QoS 0
     ("34 09", "00 03 61 2f 62", "00 03", "68 69"),  # PUBLISH QoS 2 id 3 "a/b" "hi"
     ("62 02", "00 03"),  # PUBREL id 3
     ("d0 00",))  # PINGRESP

# ---- MQTT 5 ---------------------------------------------------------------

USER_PROP_KV = "26 00 01 6b 00 01 76"  # User Property "k" = "v" (7 bytes)

CONNECT_V5_MIN = (
    "10 0d",  # CONNECT, remaining length 13
    "00 04 4d 51 54 54",  # "MQTT"
    "05",  # protocol level 5
    "02",  # flags: clean start
    "00 3c",  # keep alive 60 s
    "00",  # property length 0
    "00 00",  # client identifier ""
)
seed("v5-connect-minimal", V5, CONNECT_V5_MIN)

seed("v5-connect-full", V5, (
    "10 92 01",  # CONNECT, remaining length 146
    "00 04 4d 51 54 54",  # "MQTT"
    "05",  # level 5
    "ee",  # flags: user name, password, will retain, will QoS 1, will, clean start
    "00 1e",  # keep alive 30 s
    "22",  # property length 34
    "11 00 00 0e 10",  # Session Expiry Interval 3600
    "21 00 14",  # Receive Maximum 20
    "27 00 01 00 00",  # Maximum Packet Size 65536
    "22 00 0a",  # Topic Alias Maximum 10
    "19 01",  # Request Response Information 1
    "17 00",  # Request Problem Information 0
    "26 00 03 61 70 70 00 06 6d 71 6c 69 6e 6b",  # User Property "app" = "mqlink"
    "00 08 6d 71 6c 69 6e 6b 2d 31",  # client identifier "mqlink-1"
    "31",  # will property length 49
    "18 00 00 00 05",  # Will Delay Interval 5
    "01 01",  # Payload Format Indicator 1 (UTF-8)
    "02 00 00 01 2c",  # Message Expiry Interval 300
    "03 00 0a 74 65 78 74 2f 70 6c 61 69 6e",  # Content Type "text/plain"
    "08 00 07 72 65 70 6c 79 2f 31",  # Response Topic "reply/1"
    "09 00 04 de ad be ef",  # Correlation Data
    USER_PROP_KV,
    "00 0f 73 74 61 74 75 73 2f 6d 71 6c 69 6e 6b 2d 31",  # will topic "status/mqlink-1"
    "00 07 6f 66 66 6c 69 6e 65",  # will payload "offline"
    "00 05 61 6c 69 63 65",  # user name "alice"
    "00 06 73 65 63 72 65 74",  # password "secret"
))

seed("v5-connect-auth", V5, (
    "10 2a",  # CONNECT, remaining length 42
    "00 04 4d 51 54 54",  # "MQTT"
    "05",  # level 5
    "02",  # flags: clean start
    "00 3c",  # keep alive 60 s
    "1d",  # property length 29
    "15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31",  # Authentication Method "SCRAM-SHA-1"
    "16 00 0c 63 6c 69 65 6e 74 2d 66 69 72 73 74",  # Authentication Data "client-first"
    "00 00",  # client identifier ""
))

seed("v5-connect-password-only", V5, (
    "10 13",  # CONNECT, remaining length 19
    "00 04 4d 51 54 54",  # "MQTT"
    "05",  # level 5
    "42",  # flags: password without user name (allowed in MQTT 5, §3.1.2.9), clean start
    "00 00",  # keep alive off
    "00",  # property length 0
    "00 01 78",  # client identifier "x"
    "00 03 01 02 03",  # password (binary data)
))

# The CONNECT carries its own protocol level whatever the stream says.
seed("v5-stream-v311-connect", V5, CONNECT_V311_MIN)
seed("v311-stream-v5-connect", V311, CONNECT_V5_MIN)

CONNACK_V5_MIN = ("20 03", "00", "00", "00")  # CONNACK: flags 0, Success, no properties
seed("v5-connack-minimal", V5, CONNACK_V5_MIN)

seed("v5-connack-full", V5, (
    "20 5a",  # CONNACK, remaining length 90
    "01",  # acknowledge flags: session present
    "00",  # reason code Success
    "57",  # property length 87
    "11 00 00 00 78",  # Session Expiry Interval 120
    "21 00 0a",  # Receive Maximum 10
    "24 01",  # Maximum QoS 1
    "25 00",  # Retain Available 0
    "27 00 00 10 00",  # Maximum Packet Size 4096
    "12 00 10 6d 71 6c 69 6e 6b 2d 61 75 74 6f 2d 34 66 32 61",  # Assigned Client Identifier
    "22 00 05",  # Topic Alias Maximum 5
    "1f 00 02 68 69",  # Reason String "hi"
    USER_PROP_KV,
    "28 01",  # Wildcard Subscription Available 1
    "29 01",  # Subscription Identifier Available 1
    "2a 00",  # Shared Subscription Available 0
    "13 00 3c",  # Server Keep Alive 60
    "1a 00 05 72 65 73 70 2f",  # Response Information "resp/"
    "15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31",  # Authentication Method "SCRAM-SHA-1"
    "16 00 02 ab cd",  # Authentication Data
))

seed("v5-connack-use-another-server", V5, (
    "20 1f",  # CONNACK, remaining length 31
    "00",  # no session present (MQTT-3.2.2-6 with an error code)
    "9c",  # reason code Use another server
    "1c",  # property length 28
    "1c 00 12 6f 74 68 65 72 2e 65 78 61 6d 70 6c 65 3a 31 38 38 33",  # Server Reference
    "1f 00 04 62 75 73 79",  # Reason String "busy"
))

seed("v5-connack-not-authorized", V5, ("20 03", "00", "87", "00"))  # Not authorized

seed("v5-publish-qos0", V5, (
    "30 08",  # PUBLISH QoS 0, remaining length 8
    "00 03 61 2f 62",  # topic "a/b"
    "00",  # property length 0
    "68 69",  # payload "hi"
))

seed("v5-publish-qos1-props", V5, (
    "32 54",  # PUBLISH QoS 1, remaining length 84
    "00 0c 73 65 6e 73 6f 72 73 2f 74 65 6d 70",  # topic "sensors/temp"
    "00 07",  # packet identifier 7
    "3f",  # property length 63
    "01 01",  # Payload Format Indicator 1
    "02 00 00 00 3c",  # Message Expiry Interval 60
    "23 00 01",  # Topic Alias 1
    "08 00 07 72 65 70 6c 79 2f 31",  # Response Topic "reply/1"
    "09 00 05 72 65 71 2d 37",  # Correlation Data "req-7"
    "26 00 03 6c 61 74 00 02 6d 73",  # User Property "lat" = "ms"
    USER_PROP_KV,  # a second User Property (may repeat, §3.3.2.3.7)
    "0b 05",  # Subscription Identifier 5
    "0b 80 01",  # Subscription Identifier 128 (repeats in PUBLISH, §3.3.2.3.8)
    "03 00 0a 74 65 78 74 2f 70 6c 61 69 6e",  # Content Type "text/plain"
    "32 31 2e 35",  # payload "21.5"
))

seed("v5-publish-alias-only", V5, (
    "30 0a",  # PUBLISH QoS 0, remaining length 10
    "00 00",  # topic "": the Topic Alias names it (MQTT-3.3.2-8)
    "03",  # property length 3
    "23 00 01",  # Topic Alias 1
    "32 31 2e 35",  # payload "21.5"
))

seed("v5-publish-qos2-dup-retain", V5, (
    "3d 08",  # PUBLISH DUP + QoS 2 + RETAIN, remaining length 8
    "00 03 61 2f 62",  # topic "a/b"
    "12 34",  # packet identifier 0x1234
    "00",  # property length 0; empty payload
))

seed("v5-publish-subid-max", V5, (
    "30 0b",  # PUBLISH QoS 0, remaining length 11
    "00 03 61 2f 62",  # topic "a/b"
    "05",  # property length 5
    "0b ff ff ff 7f",  # Subscription Identifier 268,435,455 (largest varint)
))

seed("v5-publish-300b", V5, (
    "30 b2 02",  # PUBLISH QoS 0, remaining length 306 (0x32|0x80, 2)
    "00 03 61 2f 62",  # topic "a/b"
    "00",  # property length 0
    "7a " * 300,  # payload: 300 x "z"
))

seed("v5-puback-short", V5, ("40 02", "00 01"))  # PUBACK id 1, Success implied (§3.4.2.1)
seed("v5-puback-reason", V5, (
    "40 03",  # PUBACK, remaining length 3
    "00 01",  # packet identifier 1
    "10",  # reason code No matching subscribers; no property length (§3.4.2.2)
))
seed("v5-puback-props", V5, (
    "40 19",  # PUBACK, remaining length 25
    "00 01",  # packet identifier 1
    "80",  # reason code Unspecified error
    "15",  # property length 21
    "1f 00 0b 6e 6f 74 20 61 6c 6c 6f 77 65 64",  # Reason String "not allowed"
    USER_PROP_KV,
))
seed("v5-pubrec-props", V5, (
    "50 0b",  # PUBREC, remaining length 11
    "00 02",  # packet identifier 2
    "00",  # reason code Success
    "07",  # property length 7
    USER_PROP_KV,
))
seed("v5-pubrel-not-found", V5, (
    "62 03",  # PUBREL, remaining length 3
    "00 02",  # packet identifier 2
    "92",  # reason code Packet Identifier not found
))
seed("v5-pubcomp-short", V5, ("70 02", "00 02"))  # PUBCOMP id 2

seed("v5-subscribe", V5, (
    "82 37",  # SUBSCRIBE, remaining length 55
    "00 0a",  # packet identifier 10
    "09",  # property length 9
    "0b 07",  # Subscription Identifier 7
    USER_PROP_KV,
    "00 09 73 65 6e 73 6f 72 73 2f 23 01",  # "sensors/#", QoS 1
    "00 09 63 6d 64 2f 2b 2f 73 65 74 2e",  # "cmd/+/set", QoS 2, No Local, RAP, Retain Handling 2
    "00 10 24 73 68 61 72 65 2f 67 31 2f 6a 6f 62 73 2f 23 11",  # "$share/g1/jobs/#", QoS 1, RH 1
))

seed("v5-suback", V5, (
    "90 10",  # SUBACK, remaining length 16
    "00 0a",  # packet identifier 10
    "07",  # property length 7
    "1f 00 04 62 75 73 79",  # Reason String "busy"
    "01 02 00 87 9e a2",  # QoS 1, QoS 2, QoS 0, Not authorized, Shared not supported,
                          # Wildcards not supported
))

seed("v5-unsubscribe", V5, (
    "a2 27",  # UNSUBSCRIBE, remaining length 39
    "00 0b",  # packet identifier 11
    "07",  # property length 7
    USER_PROP_KV,
    "00 09 73 65 6e 73 6f 72 73 2f 23",  # "sensors/#"
    "00 10 24 73 68 61 72 65 2f 67 31 2f 6a 6f 62 73 2f 23",  # "$share/g1/jobs/#"
))

seed("v5-unsuback", V5, (
    "b0 05",  # UNSUBACK, remaining length 5
    "00 0b",  # packet identifier 11
    "00",  # property length 0
    "00 11",  # Success, No subscription existed
))
seed("v5-unsuback-props", V5, (
    "b0 0c",  # UNSUBACK, remaining length 12
    "00 0c",  # packet identifier 12
    "07",  # property length 7
    "1f 00 04 67 6f 6e 65",  # Reason String "gone"
    "87 8f",  # Not authorized, Topic Filter invalid
))

seed("v5-pingreq", V5, ("c0 00",))  # PINGREQ
seed("v5-pingresp", V5, ("d0 00",))  # PINGRESP
seed("v5-disconnect-short", V5, ("e0 00",))  # DISCONNECT, Normal disconnection implied
seed("v5-disconnect-with-will", V5, (
    "e0 01",  # DISCONNECT, remaining length 1
    "04",  # reason code Disconnect with Will Message; no property length (§3.14.2.2)
))
seed("v5-disconnect-client", V5, (
    "e0 07",  # DISCONNECT, remaining length 7
    "00",  # Normal disconnection
    "05",  # property length 5
    "11 00 00 00 3c",  # Session Expiry Interval 60
))
seed("v5-disconnect-server", V5, (
    "e0 25",  # DISCONNECT, remaining length 37
    "9c",  # reason code Use another server
    "23",  # property length 35
    "1f 00 04 62 75 73 79",  # Reason String "busy"
    "1c 00 12 6f 74 68 65 72 2e 65 78 61 6d 70 6c 65 3a 31 38 38 33",  # Server Reference
    USER_PROP_KV,
))

seed("v5-auth-empty", V5, ("f0 00",))  # AUTH, Success implied (§3.15.2.1)
seed("v5-auth-continue", V5, (
    "f0 17",  # AUTH, remaining length 23
    "18",  # reason code Continue authentication
    "15",  # property length 21
    "15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31",  # Authentication Method "SCRAM-SHA-1"
    "16 00 04 01 02 03 04",  # Authentication Data
))
seed("v5-auth-reauthenticate", V5, (
    "f0 10",  # AUTH, remaining length 16
    "19",  # reason code Re-authenticate
    "0e",  # property length 14
    "15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31",  # Authentication Method "SCRAM-SHA-1"
))

seed("v5-stream-client", V5,
     CONNECT_V5_MIN,
     ("82 09", "00 01", "00", "00 03 61 2f 62 00"),  # SUBSCRIBE id 1: "a/b" QoS 0
     ("32 0a", "00 03 61 2f 62", "00 02", "00", "68 69"),  # PUBLISH QoS 1 id 2 "hi"
     ("40 02", "00 07"),  # PUBACK id 7
     ("c0 00",),  # PINGREQ
     ("e0 00",))  # DISCONNECT

seed("v5-stream-server", V5,
     CONNACK_V5_MIN,
     ("90 04", "00 01", "00", "00"),  # SUBACK id 1: granted QoS 0
     ("34 0a", "00 03 61 2f 62", "00 03", "00", "68 69"),  # PUBLISH QoS 2 id 3 "hi"
     ("62 02", "00 03"),  # PUBREL id 3
     ("d0 00",),  # PINGRESP
     ("e0 01", "8b"))  # DISCONNECT Server shutting down


def remaining_length(pkt):
    """Decodes the fixed header: returns (header length, remaining length)."""
    value, shift = 0, 0
    for i in range(1, 5):
        b = pkt[i]
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return i + 1, value
    raise ValueError("remaining length longer than 4 bytes")


def main():
    here = pathlib.Path(__file__).resolve().parent
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here / "corpus" / "packet"
    out.mkdir(parents=True, exist_ok=True)

    names = set()
    for name, version, packets in SEEDS:
        assert name not in names, f"duplicate seed {name}"
        names.add(name)
        for pkt in packets:
            hlen, rlen = remaining_length(pkt)
            if hlen + rlen != len(pkt):
                sys.exit(f"{name}: remaining length says {rlen}, "
                         f"{len(pkt) - hlen} bytes follow the fixed header")
        (out / name).write_bytes(bytes([version]) + b"".join(packets))

    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()

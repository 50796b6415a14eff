// SPDX-License-Identifier: MIT
//
// Every public header compiled as C++: proves the extern "C" guards are in
// place and that nothing in them is C-only. Keep the list in step with
// build-pedantic.c.
#include <mqlink/client.h>
#include <mqlink/ipc.h>
#include <mqlink/loop.h>
#include <mqlink/mqlink.h>
#include <mqlink/packet.h>
#include <mqlink/sd-event.h>
#include <mqlink/session.h>
#include <mqlink/topic.h>
#include <mqlink/transport.h>

#include <cstdio>

int main() {
        // mqlink.h
        const char *version = mql_version_string();

        // packet.h
        struct mql_packet pkt = {};
        pkt.type = MQL_PINGREQ;
        unsigned char buf[2];
        ssize_t n = mql_packet_encode(&pkt, MQL_V311, buf, sizeof(buf));

        // topic.h
        bool matches = mql_topic_matches("a/+", 3, "a/b", 3);

        // loop.h, session.h, transport.h, client.h, sd-event.h
        mql_usec never = MQL_USEC_INFINITY;
        enum mql_session_state state = MQL_SESSION_DISCONNECTED;
        struct mql_tls_config tls = {};
        struct mql_client_config ccfg = {};
        int (*attach)(struct mql_client *, sd_event *, int64_t) = mql_client_attach_event;
        if (mql_client_new(&ccfg, nullptr) == 0 || attach == nullptr)
                return 1;

        std::printf("%s %zd %d %s %d %d %d\n", version, n, matches ? 1 : 0,
                    mql_packet_type_str(pkt.type), never == MQL_USEC_INFINITY ? 1 : 0,
                    static_cast<int>(state), tls.insecure ? 1 : 0);
        return 0;
}

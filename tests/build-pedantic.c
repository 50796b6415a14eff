/* SPDX-License-Identifier: MIT */
/*
 * Every public header compiled as strict ISO C11 with -pedantic -Werror:
 * proves that a user's program needs no GNU extension to include them. Add
 * each new header of lib/include/mqlink/ here and to build-cxx.cc, and use
 * something it declares (.ci/run checks that both files include every
 * header).
 */
#include <mqlink/loop.h>
#include <mqlink/mqlink.h>
#include <mqlink/packet.h>
#include <mqlink/session.h>
#include <mqlink/topic.h>
#include <mqlink/transport.h>

#include <stdio.h>

int main(void) {
        /* mqlink.h */
        const char *version = mql_version_string();

        /* packet.h */
        struct mql_packet pkt = { .type = MQL_PINGREQ };
        unsigned char buf[2];
        ssize_t n = mql_packet_encode(&pkt, MQL_V311, buf, sizeof(buf));

        /* topic.h */
        int r = mql_topic_name_check("a/b", 3);

        /* loop.h, session.h, transport.h: their types, which need no linking
         * against parts still being written. */
        mql_usec never = MQL_USEC_INFINITY;
        enum mql_session_state state = MQL_SESSION_DISCONNECTED;
        struct mql_tls_config tls = { .insecure = false };

        printf("%s %zd %d %s %d %d %d\n", version, n, r, mql_packet_type_str(pkt.type),
               never == MQL_USEC_INFINITY, (int)state, (int)tls.insecure);
        return 0;
}

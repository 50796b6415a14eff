/* SPDX-License-Identifier: MIT */
/*
 * Every public header compiled as strict ISO C11 with -pedantic -Werror:
 * proves that a user's program needs no GNU extension to include them. Add
 * each new header of lib/include/mqlink/ here and to build-cxx.cc, and use
 * something it declares (.ci/run checks that both files include every
 * header).
 */
#include <mqlink/client.h>
#include <mqlink/ipc.h>
#include <mqlink/loop.h>
#include <mqlink/mqlink.h>
#include <mqlink/packet.h>
#include <mqlink/sd-event.h>
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

        /* loop.h, session.h, transport.h, client.h, sd-event.h */
        mql_usec never = MQL_USEC_INFINITY;
        enum mql_session_state state = MQL_SESSION_DISCONNECTED;
        struct mql_tls_config tls = { .insecure = false };
        struct mql_client_config ccfg = { .n_uris = 0 };
        int (*attach)(struct mql_client *, sd_event *, int64_t) = mql_client_attach_event;
        r += mql_client_new(&ccfg, NULL) == 0 || attach == NULL;

        printf("%s %zd %d %s %d %d %d\n", version, n, r, mql_packet_type_str(pkt.type),
               never == MQL_USEC_INFINITY, (int)state, (int)tls.insecure);
        return 0;
}

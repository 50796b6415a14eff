/* SPDX-License-Identifier: MIT */

/*
 * mqlinkd: keeps sessions to MQTT brokers and lets local programs publish
 * and subscribe through a Unix socket (docs/protocol.md).
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <mqlink/mqlink.h>

#include "config.h"
#include "log.h"
#include "manager.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: mqlinkd [-c FILE] [--check-config]\n"
                "\n"
                "  -c, --config FILE   configuration file (default %s);\n"
                "                      then every *.conf in FILE.d/, in order\n"
                "  -t, --check-config  check the configuration and exit\n"
                "  -h, --help          this help\n"
                "      --version       the version\n"
                "\n"
                "Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop after\n"
                "pending acknowledgements (shutdown_timeout).\n",
                CONFIG_DEFAULT_PATH);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const char *path = CONFIG_DEFAULT_PATH;
        bool check = false;
        int c;

        while ((c = getopt_long(argc, argv, "c:th", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        path = optarg;
                        break;
                case 't':
                        check = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("mqlinkd %s\n", mql_version_string());
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }

        log_setup();
        struct config *config = NULL;
        char *error = NULL;
        int r = config_load(path, &config, &error);
        if (r < 0) {
                log_error("%s", error ? error : mql_strerror(r));
                free(error);
                return 1;
        }
        if (check) {
                printf("%s: OK, %zu broker(s)\n", path, config->n_brokers);
                config_free(config);
                return 0;
        }
        log_set_max_level(config->log_level);

        /* sd-event takes signals through a signalfd: they must be blocked. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* Local peers that vanish must not kill us; writes use MSG_NOSIGNAL
         * anyway, this covers what a library might write. */
        signal(SIGPIPE, SIG_IGN);

        struct manager *m;
        r = manager_new(path, config, &m);
        if (r < 0) {
                log_error_errno(r, "cannot start");
                return 1;
        }
        r = manager_start(m);
        if (r >= 0)
                r = manager_run(m);
        manager_free(m);
        return r < 0 ? 1 : r;
}

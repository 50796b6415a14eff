/* SPDX-License-Identifier: MIT */

/* mqlink: talks to mqlinkd over its Unix socket. This file picks the
 * command; each command lives in a file of its own. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <mqlink/mqlink.h>

#include "cli.h"

static const struct {
        const char *name;
        int (*run)(struct cli *cli, int argc, char **argv);
        const char *summary;
} commands[] = {
        { "pub", cli_pub, "publish a message, a file, or stdin" },
        { "sub", cli_sub, "subscribe and print the messages" },
        { "status", cli_status, "show the daemon's brokers and clients" },
        { "ping", cli_ping, "check that the daemon answers" },
};

static void help(void) {
        printf("Usage: mqlink [-S SOCKET] COMMAND [OPTIONS]\n"
               "\n"
               "Publishes and subscribes through mqlinkd, the local MQTT gateway.\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                printf("  %-8s %s\n", commands[i].name, commands[i].summary);
        printf("\n"
               "Options:\n"
               "  -S, --socket PATH  the daemon's socket (default: $%s if set,\n"
               "                     else %s); \"@NAME\": abstract\n"
               "  -h, --help         this help; 'mqlink COMMAND --help' for a command's\n"
               "  -V, --version      the version\n"
               "\n"
               "Exit status:\n"
               "  0  success\n"
               "  1  the daemon refused a command (-ERR), or stdout could not be written\n"
               "  2  usage error, or an input file that cannot be read\n"
               "  3  cannot connect to the daemon's socket\n"
               "  4  the connection to the daemon was lost, or it broke the protocol\n"
               "  5  sub -W: the time ran out\n",
               MQL_IPC_SOCKET_ENV, MQL_IPC_SOCKET_DEFAULT);
}

/* The library reports what it cannot return (a delivery it had to drop);
 * errors it returns, the commands report themselves. */
static void on_log(int level, const char *msg, void *userdata) {
        cli_error("%s", msg);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        struct cli cli = { 0 };
        int c;

        mql_log_set(on_log, MQL_LOG_WARNING, NULL);
        /* "+": stop at the command; its options are its own. */
        while ((c = getopt_long(argc, argv, "+S:hV", options, NULL)) >= 0) {
                switch (c) {
                case 'S':
                        cli.socket_path = optarg;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                case 'V':
                        printf("mqlink %s (libmqlink %s)\n", MQLINK_VERSION, mql_version_string());
                        return EXIT_OK;
                default: /* getopt said what */
                        return cli_usage_error(&cli, NULL);
                }
        }
        if (optind >= argc)
                return cli_usage_error(&cli, "no command given");
        const char *name = argv[optind];
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(name, commands[i].name) == 0) {
                        static char prog[32];
                        int cmd_argc = argc - optind;
                        char **cmd_argv = argv + optind;

                        /* getopt's messages then say "mqlink pub: ..." */
                        snprintf(prog, sizeof(prog), "mqlink %s", name);
                        cmd_argv[0] = prog;
                        cli.command = name;
                        optind = 0; /* glibc: start over for the command's own options */
                        return commands[i].run(&cli, cmd_argc, cmd_argv);
                }
        if (strcmp(name, "help") == 0) {
                help();
                return EXIT_OK;
        }
        return cli_usage_error(&cli, "unknown command '%s'", name);
}

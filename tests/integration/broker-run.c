/* SPDX-License-Identifier: MIT */
/*
 * broker-run: runs a command next to a mosquitto of its own (broker.h), for
 * tests written in shell.
 *
 *   broker-run [--tls] [--conf LINE]... -- COMMAND [ARG...]
 *
 * Starts mosquitto on 127.0.0.1 with a TCP listener, a Unix socket listener
 * and (--tls) a TLS listener with certificates made for the occasion; each
 * --conf adds a line to its configuration (placeholders as in broker.h).
 * Runs COMMAND with:
 *   MQTT_URI        mqtt://127.0.0.1:PORT
 *   MQTT_UNIX_URI   unix://DIR/mqtt.sock
 *   MQTTS_URI       mqtts://127.0.0.1:PORT2          (--tls)
 *   MQTT_CA         the CA that signed the broker's certificate (--tls)
 *   MQTT_WRONG_CA   an unrelated CA (--tls)
 *   BROKER_DIR, BROKER_LOG
 * then stops the broker and exits with COMMAND's status. When mosquitto is
 * not installed the command runs anyway without MQTT_URI, so that it can
 * report a skip in its own protocol.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"

static void setenv_port(const char *name, const char *scheme, unsigned port) {
        char value[64];

        snprintf(value, sizeof(value), "%s://127.0.0.1:%u", scheme, port);
        setenv(name, value, 1);
}

static void setenv_path(const char *name, const char *prefix, const char *dir, const char *file) {
        char value[PATH_MAX + 64];

        snprintf(value, sizeof(value), "%s%s%s", prefix, dir, file);
        setenv(name, value, 1);
}

int main(int argc, char **argv) {
        struct test_broker b = TEST_BROKER_INIT;
        char extra[4096] = "listener 0 @DIR@/mqtt.sock\n";
        bool tls = false;
        int i, r;

        for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (strcmp(argv[i], "--tls") == 0)
                        tls = true;
                else if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc) {
                        strncat(extra, argv[++i], sizeof(extra) - strlen(extra) - 2);
                        strcat(extra, "\n");
                } else {
                        fprintf(stderr, "usage: %s [--tls] [--conf LINE]... -- COMMAND [ARG...]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (i + 1 >= argc) {
                fprintf(stderr, "%s: no command\n", argv[0]);
                return 2;
        }
        char **cmd = argv + i + 1;

        r = test_broker_prepare(&b);
        if (r < 0) {
                fprintf(stderr, "broker-run: %s\n", strerror(-r));
                return 1;
        }
        if (tls) {
                r = test_broker_make_certs(b.dir);
                if (r < 0 && r != -ENOENT) {
                        fprintf(stderr, "broker-run: making certificates: %s\n", strerror(-r));
                        test_broker_stop(&b);
                        return 1;
                }
                if (r == 0)
                        strncat(extra,
                                "listener @PORT2@ 127.0.0.1\n"
                                "cafile @DIR@/ca.crt\n"
                                "certfile @DIR@/server.crt\n"
                                "keyfile @DIR@/server.key\n",
                                sizeof(extra) - strlen(extra) - 1);
                tls = r == 0;
        }

        r = test_broker_start(&b, extra);
        if (r < 0 && r != -ENOENT) {
                fprintf(stderr, "broker-run: starting mosquitto: %s\n", strerror(-r));
                test_broker_dump_log(&b, stderr, 4000);
                test_broker_stop(&b);
                return 1;
        }
        if (r == 0) {
                setenv_port("MQTT_URI", "mqtt", b.port);
                setenv_path("MQTT_UNIX_URI", "unix://", b.dir, "/mqtt.sock");
                setenv("BROKER_DIR", b.dir, 1);
                setenv("BROKER_LOG", b.log, 1);
                if (tls) {
                        setenv_port("MQTTS_URI", "mqtts", b.port2);
                        setenv_path("MQTT_CA", "", b.dir, "/ca.crt");
                        setenv_path("MQTT_WRONG_CA", "", b.dir, "/wrong-ca.crt");
                }
        }

        pid_t pid = fork();
        if (pid < 0) {
                perror("broker-run: fork");
                test_broker_stop(&b);
                return 1;
        }
        if (pid == 0) {
                execvp(cmd[0], cmd);
                fprintf(stderr, "broker-run: %s: %s\n", cmd[0], strerror(errno));
                _exit(127);
        }

        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = 1 << 8;
                        break;
                }
        test_broker_stop(&b);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

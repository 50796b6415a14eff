/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A real mosquitto for a test or a benchmark: one broker process per
 * struct test_broker, in a temporary directory of its own, listening on
 * 127.0.0.1 only.
 *
 * Self-contained (libc only, no libmqlink): link the 'testbroker' static
 * library (testbroker_dep in tests/integration/meson.build).
 *
 * Usage:
 *   struct test_broker b = TEST_BROKER_INIT;
 *   r = test_broker_start(&b, "max_inflight_messages 10\n");
 *   if (r == -ENOENT) skip: mosquitto is not installed
 *   ... connect to mqtt://127.0.0.1:<b.port> ...
 *   test_broker_stop(&b);
 *
 * Files the broker needs before it starts (a password file, certificates)
 * go in its directory: call test_broker_prepare() first, which makes the
 * directory and picks the ports, write them there, then start. extra_conf
 * refers to them with placeholders:
 *   @DIR@    the broker's directory (no trailing slash)
 *   @PORT@   the main listener's port
 *   @PORT2@  a second free port, for a listener of the test's own (TLS)
 * e.g. "listener @PORT2@ 127.0.0.1\ncafile @DIR@/ca.crt\n...".
 *
 * The generated mosquitto.conf holds:
 *   listener @PORT@ 127.0.0.1
 *   allow_anonymous true
 *   persistence_location @DIR@/
 *   log_dest file @DIR@/mosquitto.log
 *   user root                       (only when running as root: mosquitto
 *                                    would otherwise drop to the user
 *                                    "mosquitto", which cannot write @DIR@)
 * followed by extra_conf. The broker's stdout and stderr are appended to the
 * same log. Set TEST_MOSQUITTO to use another binary than `mosquitto` from
 * PATH (or /usr/sbin).
 *
 * The broker gets SIGKILL when the thread that started it exits
 * (PR_SET_PDEATHSIG), so a crashed test leaves no broker behind: start
 * brokers from a thread that outlives them. It runs in a process group of
 * its own, which stop/term/kill signal as a whole: a TEST_MOSQUITTO wrapper
 * (strace, valgrind) goes down with the broker it runs.
 *
 * Functions return 0 or a negative errno. They block for at most a few
 * seconds (waiting for the broker to listen or to exit) and are not
 * thread-safe with respect to one struct test_broker.
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct test_broker {
        pid_t pid;           /* the running broker, 0 if none */
        uint16_t port;       /* main listener on 127.0.0.1 */
        uint16_t port2;      /* free port for "@PORT2@" */
        char dir[PATH_MAX];  /* temporary directory; "" until prepared */
        char conf[PATH_MAX]; /* dir/mosquitto.conf */
        char log[PATH_MAX];  /* dir/mosquitto.log */
        char extra[4096];    /* extra_conf as given, placeholders unexpanded */
};

#define TEST_BROKER_INIT \
        { .pid = 0 }

/* Creates the temporary directory (/tmp/mqlink-broker-XXXXXX, or under
 * $TMPDIR) and picks the two ports. Does nothing if already prepared.
 * -errno of mkdtemp() or socket(). */
int test_broker_prepare(struct test_broker *b);

/*
 * Prepares if needed, writes mosquitto.conf with `extra_conf` (may be NULL;
 * lines separated by '\n'; placeholders as above), starts mosquitto and
 * waits up to 5 s until it accepts TCP connections on `port` and its log
 * says it is running (all listeners are open then, Unix and TLS ones
 * included). If the broker exits at once (a port taken in the meantime),
 * it picks new ports and tries again, up to 3 times.
 * Returns 0, -ENOENT if mosquitto is not installed, -EALREADY if running,
 * -E2BIG if extra_conf does not fit, -ETIMEDOUT, -ECHILD if the broker
 * exited (its log says why: test_broker_dump_log()), or another -errno.
 */
int test_broker_start(struct test_broker *b, const char *extra_conf);

/* Stops the broker (SIGTERM; SIGKILL after 5 s), removes its directory and
 * resets *b to TEST_BROKER_INIT. Safe on a stopped or never-started
 * broker. */
void test_broker_stop(struct test_broker *b);

/* SIGTERM and wait (up to 5 s, then SIGKILL): a clean shutdown, after which
 * mosquitto has saved its persistence file. The directory is kept for
 * test_broker_restart(). Returns 0 or -ESRCH if not running. */
int test_broker_term(struct test_broker *b);

/* SIGKILL and wait: a crash. The broker saves nothing; its directory is
 * kept. Returns 0 or -ESRCH if not running. */
int test_broker_kill(struct test_broker *b);

/*
 * Starts the broker again with the same configuration and ports, in the
 * same directory (so persistence carries over). Stops it first (SIGTERM)
 * if it is running. Retries for up to 5 s while the port cannot be bound
 * yet. Returns 0, -EINVAL if never started, or as test_broker_start().
 */
int test_broker_restart(struct test_broker *b);

/*
 * Makes certificates in `dir` with the openssl(1) command (P-256 keys,
 * valid two days): ca.crt/ca.key; server.crt/server.key for CN 127.0.0.1
 * with SAN IP:127.0.0.1, IP:::1, DNS:localhost, signed by that CA;
 * client.crt/client.key, signed by it too; wrong-ca.crt/wrong-ca.key, an
 * unrelated CA. The commands' output goes to dir/tools.log. Returns 0,
 * -ENOENT without openssl, -EIO if a command failed.
 */
int test_broker_make_certs(const char *dir);

/* Writes dir/passwd for `user` with `pass` (mosquitto_passwd -b -c): use it
 * with "password_file @DIR@/passwd". Returns 0, -ENOENT without
 * mosquitto_passwd, -EIO if it failed. */
int test_broker_passwd(const char *dir, const char *user, const char *pass);

/* A TCP port on 127.0.0.1 that was free a moment ago. Returns 0 or -errno. */
int test_broker_free_port(uint16_t *ret);

/* Removes a directory tree (rm -rf, not following symlinks). Returns 0 or
 * -errno. */
int test_broker_rmtree(const char *path);

/* Copies the last `max_bytes` of the broker's log to `f`, each line
 * prefixed with "# " (a TAP comment). For failure messages. */
void test_broker_dump_log(const struct test_broker *b, FILE *f, size_t max_bytes);

#ifdef __cplusplus
}
#endif

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * mqlinkd end to end, from the outside: the daemon is a black box reached
 * through its Unix socket (docs/protocol.md), its signals, its stderr and
 * its sd_notify datagrams. Nothing here links libmqlink: what the tests
 * see is what any local program sees.
 *
 * The daemon binary comes from $MQLINKD (meson passes it); without it the
 * tests skip. Brokers are real mosquitto processes (broker.h).
 *
 * Functions named dh_expect_* and dh_must_* are cmocka assertions: they
 * print what they saw and fail the test. The others return 0 / -errno or a
 * value, for tests that want to decide themselves.
 *
 * Every process started here gets SIGKILL if the test process dies
 * (PR_SET_PDEATHSIG); cleanup functions are safe to call twice and on
 * never-started objects, so a cmocka teardown can call them whatever
 * happened.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker.h"

#define DH_TIMEOUT_MS 5000 /* a reply on loopback, ASan and a busy CI included */

#define DH_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* snprintf into an array that must not truncate (paths): aborts if it
 * would. */
#define DH_FMT(buf, ...)                                                            \
        do {                                                                        \
                if ((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) >= sizeof(buf)) \
                        abort();                                                    \
        } while (0)

/* ---------------------------------------------------------- TAP output */

/*
 * cmocka 1.1.5 reports a skipped test as "not ok N # SKIP", which meson
 * (like prove) counts as a failure: TAP says "ok N # SKIP". Call first in
 * main(): the tests then run in a child process whose stdout passes
 * through this one, which rewrites those lines and exits with the child's
 * status. Returns 0 in the child; does not return in the parent.
 */
int dh_tap_fix_skips(void);

/* ------------------------------------------------------------- time */

int64_t dh_now_ms(void);
void dh_nap(unsigned ms);

/* Polls `cond` every 5 ms until it holds or `ms` have passed; evaluates to
 * whether it holds. */
#define DH_WAIT_FOR(cond, ms)                                      \
        ({                                                         \
                int64_t dh_deadline_ = dh_now_ms() + (ms);         \
                bool dh_ok_;                                       \
                for (;;) {                                         \
                        dh_ok_ = (cond);                           \
                        if (dh_ok_ || dh_now_ms() >= dh_deadline_) \
                                break;                             \
                        dh_nap(5);                                 \
                }                                                  \
                dh_ok_;                                            \
        })

/* ------------------------------------------------------------ files */

/* Appends printf output to a malloc'd string (*s may be NULL). Aborts on
 * out of memory: this is a test. */
void dh_cat(char **s, const char *fmt, ...) DH_PRINTF(2, 3);
/* A malloc'd printf. */
char *dh_strf(const char *fmt, ...) DH_PRINTF(1, 2);

/* A fresh directory /tmp/mqlink-e2e-XXXXXX (or under $TMPDIR). */
int dh_mkdtemp(char *ret, size_t size);
int dh_write_file(const char *path, const void *data, size_t len);
/* The whole file, NUL-terminated (the NUL is not counted in *ret_len). */
int dh_read_file(const char *path, char **ret, size_t *ret_len);
/* Lines of `path` that contain `a` and, if not NULL, `b`. 0 if no file. */
size_t dh_file_count(const char *path, const char *a, const char *b);
/* Waits until dh_file_count(path, a, b) >= n. */
bool dh_wait_file_count(const char *path, const char *a, const char *b, size_t n, int timeout_ms);
/* The last `max_bytes` of a file to stderr, lines prefixed with "# ". */
void dh_dump_file(const char *path, size_t max_bytes);
/* Whether a sanitizer (ASan, LSan, UBSan) reported something in the file. */
bool dh_sanitizer_report(const char *path);

/* -------------------------------------------------------- processes */

/* `name` from PATH or the sbin directories; a static string, or NULL. */
const char *dh_find_program(const char *name);

/*
 * Forks and execs argv[0] (a path). The child: stdin /dev/null, stdout and
 * stderr to `out_path` (or /dev/null), no signal mask, no fd above 2, dies
 * with the test, NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*
 * removed from its environment and then each "NAME=VALUE" of `env` added
 * (NULL-terminated, may be NULL). With `watchdog_pid`, WATCHDOG_PID is set to
 * the child's own pid just before exec. Returns the pid or -errno.
 */
pid_t dh_spawn(char *const argv[], char *const env[], const char *out_path, bool watchdog_pid);
/* dh_spawn() with RLIMIT_NOFILE (soft and hard) set to `nofile` in the
 * child just before exec; 0 leaves the limit as inherited. */
pid_t dh_spawn_nofile(char *const argv[], char *const env[], const char *out_path,
                      bool watchdog_pid, unsigned nofile);

/* Waits up to `timeout_ms` for `pid` to exit: 0 and *ret_status (wait
 * status) or -ETIMEDOUT. */
int dh_wait_exit(pid_t pid, int timeout_ms, int *ret_status);
/* SIGKILL and reap; nothing if pid <= 0. */
void dh_kill_wait(pid_t pid);
/* A wait status in words: "exit 0", "signal 11 (Segmentation fault)". */
const char *dh_status_str(int status);
/* VmRSS in KiB, or -1. */
long dh_rss_kib(pid_t pid);
/* CPU time used so far (user + system, /proc/PID/stat) in ms, or -1. */
long dh_cpu_ms(pid_t pid);

/* --------------------------------------------------------- the daemon */

struct dh_daemon {
        pid_t pid;  /* 0 when not running */
        int status; /* wait status once exited */
        bool exited;
        char dir[PATH_MAX];  /* its own temporary directory */
        char conf[PATH_MAX]; /* dir/mqlinkd.conf */
        char sock[PATH_MAX]; /* dir/mqlinkd.sock */
        char log[PATH_MAX];  /* dir/mqlinkd.log: its stderr */
        unsigned nofile;     /* RLIMIT_NOFILE to start it with; 0: inherited */
};

#define DH_DAEMON_INIT \
        { .pid = 0 }

/* Makes the directory and the paths. Idempotent. */
int dh_daemon_prepare(struct dh_daemon *d);

/* "[mqlinkd]" with socket_path = d->sock and log_level = debug, then
 * `extra` lines; appended to *conf. Prepares `d` if needed. */
void dh_conf_daemon(char **conf, struct dh_daemon *d, const char *extra);
/* "[broker:NAME]" at 127.0.0.1:port, client_id e2e-NAME, quick reconnects
 * (0.1 to 0.5 s), then `extra` lines; appended to *conf. */
void dh_conf_broker(char **conf, const char *name, uint16_t port, const char *extra);

/* Writes d->conf. */
int dh_daemon_write_conf(struct dh_daemon *d, const char *text);

/* `$MQLINKD -c d->conf` (env and watchdog_pid as dh_spawn, d->nofile as
 * dh_spawn_nofile), stderr to d->log. Does not wait. -ENOENT without
 * $MQLINKD. */
int dh_daemon_spawn(struct dh_daemon *d, char *const env[], bool watchdog_pid);

/* Waits until d->sock accepts a connection. -ECHILD if the daemon exited
 * (status in d->status), -ETIMEDOUT. */
int dh_daemon_wait_listening(struct dh_daemon *d, int timeout_ms);

/* prepare + write conf + spawn + wait listening, asserting; skips the test
 * without $MQLINKD. */
void dh_must_start_daemon(struct dh_daemon *d, const char *conf, char *const env[]);

/* Whether the daemon process still runs (reaps it if it exited). */
bool dh_daemon_running(struct dh_daemon *d);
void dh_daemon_signal(const struct dh_daemon *d, int sig);

/* SIGTERM and wait up to `timeout_ms`: 0 and d->status, -ETIMEDOUT (still
 * running), -ESRCH if it was not running. */
int dh_daemon_term(struct dh_daemon *d, int timeout_ms);

/* SIGTERM; asserts exit status 0 within `timeout_ms`, the socket file gone,
 * and no sanitizer report in its log. */
void dh_must_stop_daemon(struct dh_daemon *d, int timeout_ms);

/* Teardown: SIGKILL if still running, remove the directory unless
 * MQL_TEST_KEEP is set. */
void dh_daemon_cleanup(struct dh_daemon *d);
void dh_daemon_dump_log(const struct dh_daemon *d);

/* ------------------------------------------------------ local clients */

struct dh_conn {
        int fd;    /* -1 when closed */
        char *buf; /* received, unread: buf[off..len) */
        size_t off;
        size_t len;
        size_t cap;
};

#define DH_CONN_INIT \
        { .fd = -1 }

/* A reply or delivery: the line without its "\n" (and "\r"), and for
 * "MSG" and "+OK <n>" the payload. Both NUL-terminated, owned. */
struct dh_frame {
        char *line;
        char *payload;
        size_t len;
        bool has_payload;
};

int dh_connect(struct dh_conn *c, const char *path);
void dh_close(struct dh_conn *c);
/* Writes all bytes (waiting while the socket is full, up to DH_TIMEOUT_MS).
 * 0 or -errno (-EPIPE, -ECONNRESET once the daemon closed). */
int dh_send(struct dh_conn *c, const void *data, size_t len);
int dh_sendf(struct dh_conn *c, const char *fmt, ...) DH_PRINTF(2, 3);

/* Reads one frame: 1, 0 at end of stream (a partial frame left: -EPIPE),
 * -ETIMEDOUT, -ECONNRESET or another -errno. */
int dh_read_frame(struct dh_conn *c, int timeout_ms, struct dh_frame *f);
void dh_frame_done(struct dh_frame *f);
/* Whether bytes wait to be read within `ms` (buffered or on the socket). */
bool dh_readable(struct dh_conn *c, int ms);

/* Assertions. */
void dh_must_connect(struct dh_conn *c, const char *path);
void dh_must_send(struct dh_conn *c, const void *data, size_t len);
void dh_must_sendf(struct dh_conn *c, const char *fmt, ...) DH_PRINTF(2, 3);
/* The next frame, which must come within DH_TIMEOUT_MS. */
void dh_must_read(struct dh_conn *c, struct dh_frame *f);
/* The next frame's line is `line`, exactly (no payload expected). */
void dh_expect_line(struct dh_conn *c, const char *line);
/* The next frame's line starts with `prefix`. */
void dh_expect_prefix(struct dh_conn *c, const char *prefix);
/* The next frame is "MSG <sid> <topic> <len><opts>" (opts: "" or starting
 * with a space, e.g. " broker=a qos=1") with exactly `payload`. */
void dh_expect_msg(struct dh_conn *c, const char *sid, const char *topic, const void *payload,
                   size_t len, const char *opts);
/* The daemon closes the connection within `timeout_ms`; frames before the
 * end are allowed (an -ERR saying why) and are returned in *n_frames. */
void dh_expect_closed(struct dh_conn *c, int timeout_ms, size_t *n_frames);
/* Nothing arrives for `ms`. */
void dh_expect_quiet(struct dh_conn *c, int ms);
/* PING, then PONG must be the next frame. */
void dh_must_ping(struct dh_conn *c);
/* A fresh connection to `path` answers PING. */
void dh_must_ping_fresh(const char *path);
/* SUB / PUB expecting +OK. `opts` "" or " qos=1 ...". */
void dh_must_sub(struct dh_conn *c, const char *sid, const char *filter, const char *opts);
void dh_must_pub(struct dh_conn *c, const char *topic, const void *payload, size_t len,
                 const char *opts);
/* STATUS: the document (malloc'd, NUL-terminated). */
char *dh_must_status(struct dh_conn *c);
/* STATUS on a connection of its own. */
char *dh_must_status_at(const char *path);

/* -------------------------------------------------------------- JSON */

/* A strict little validator (RFC 8259 grammar, UTF-8 not checked). */
bool dh_json_valid(const char *s, size_t len);
/* The value after the first `"key":` at or after `from`, or NULL. */
const char *dh_json_find(const char *from, const char *key);
bool dh_json_u64(const char *from, const char *key, uint64_t *ret);
/* A string value without escapes, copied; false if absent or not a string. */
bool dh_json_str(const char *from, const char *key, char *buf, size_t size);
/* The broker object named `name` in a STATUS document, or NULL. Keys looked
 * up from there belong to it (name is its first key, all keys are always
 * present). */
const char *dh_json_broker(const char *doc, const char *name);
/* The state of broker `name` in a fresh STATUS, into buf ("" if absent). */
void dh_broker_state(const char *sock, const char *name, char *buf, size_t size);
/* Waits until STATUS shows broker `name` in `state`. */
bool dh_wait_broker_state(const char *sock, const char *name, const char *state, int timeout_ms);

/* ------------------------------------------------------- mosquitto */

/* test_broker_start() with "log_type all" added; skips the test without
 * mosquitto, asserts otherwise. */
void dh_must_start_broker(struct test_broker *b, const char *extra_conf);

/* mosquitto_sub -p PORT -t TOPIC -C count -q 2 -i ID
 * -F '%t|%q|%r|%l|%p', output into b->dir/ID.out. Waits until the broker's
 * log shows its SUBSCRIBE. Returns the pid (asserts). */
pid_t dh_mosquitto_sub(const struct test_broker *b, const char *topic, const char *id, int count);
/* One message of that output: topic, qos, retain and payload (malloc'd). */
struct dh_sub_msg {
        char topic[256];
        int qos;
        int retain;
        char *payload;
        size_t len;
};
/* Waits for the mosquitto_sub to exit (asserts exit 0) and parses its
 * first message. */
void dh_mosquitto_sub_result(const struct test_broker *b, pid_t pid, const char *id,
                             struct dh_sub_msg *ret);

/* mosquitto_pub -p PORT -t TOPIC -q QOS [-r] -f FILE with `payload`; asserts
 * exit 0. */
void dh_mosquitto_pub(const struct test_broker *b, const char *topic, const void *payload,
                      size_t len, int qos, bool retain);
/* The same with more arguments (NULL-terminated, e.g. "-V", "5", "-D",
 * "publish", "user-property", "k", "v", NULL). */
void dh_mosquitto_pub_args(const struct test_broker *b, const char *topic, const void *payload,
                           size_t len, int qos, bool retain, char *const extra[]);

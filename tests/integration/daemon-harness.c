/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the daemon's end-to-end tests: see daemon-harness.h.
 */
#define _GNU_SOURCE 1
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "daemon-harness.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK (64u * 1024u)

/* ------------------------------------------------------------- failing */

static void dh_fail(const char *fmt, ...) DH_PRINTF(1, 2);
static void dh_fail(const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fail_msg("%s", msg);
        abort(); /* not reached */
}

/* A byte string for a message: printable as is, the rest escaped, cut. */
static const char *show(const void *data, size_t len) {
        static char buf[4][320];
        static unsigned slot;
        char *out = buf[slot++ % 4];
        const unsigned char *p = data;
        size_t n = 0;

        for (size_t i = 0; i < len && n < sizeof buf[0] - 16; i++) {
                if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
                        out[n++] = (char)p[i];
                else
                        n += (size_t)snprintf(out + n, 8, "\\x%02x", p[i]);
        }
        if (len > 0 && n >= sizeof buf[0] - 16)
                n += (size_t)snprintf(out + n, 16, "...(%zu)", len);
        out[n] = '\0';
        return out;
}

/* ---------------------------------------------------------- TAP output */

int dh_tap_fix_skips(void) {
        int p[2];
        pid_t parent = getpid();

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return -errno;
        }
        if (pid == 0) {
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(126);
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(126);
                close(p[0]);
                close(p[1]);
                return 0;
        }
        close(p[1]);
        FILE *in = fdopen(p[0], "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while (in && (n = getline(&line, &cap, in)) > 0) {
                unsigned num;
                int at = 0;
                if (sscanf(line, "not ok %u # SKIP%n", &num, &at) == 1 && at > 0)
                        fputs(line + 4, stdout);
                else
                        fwrite(line, 1, (size_t)n, stdout);
                fflush(stdout);
        }
        free(line);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(125);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* ---------------------------------------------------------------- time */

int64_t dh_now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dh_nap(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* --------------------------------------------------------------- files */

static void vcat(char **s, const char *fmt, va_list ap) DH_PRINTF(2, 0);
static void vcat(char **s, const char *fmt, va_list ap) {
        char *add = NULL;
        if (vasprintf(&add, fmt, ap) < 0)
                abort();
        if (!*s) {
                *s = add;
                return;
        }
        size_t a = strlen(*s), b = strlen(add);
        char *n = realloc(*s, a + b + 1);
        if (!n)
                abort();
        memcpy(n + a, add, b + 1);
        free(add);
        *s = n;
}

void dh_cat(char **s, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vcat(s, fmt, ap);
        va_end(ap);
}

char *dh_strf(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        vcat(&s, fmt, ap);
        va_end(ap);
        return s;
}

int dh_mkdtemp(char *ret, size_t size) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
                tmp = "/tmp";
        if ((size_t)snprintf(ret, size, "%s/mqlink-e2e-XXXXXX", tmp) >= size)
                return -ENAMETOOLONG;
        if (!mkdtemp(ret)) {
                ret[0] = '\0';
                return -errno;
        }
        return 0;
}

int dh_write_file(const char *path, const void *data, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const char *p = data;

        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        close(fd);
                        return r;
                }
                p += n;
                len -= (size_t)n;
        }
        return close(fd) < 0 ? -errno : 0;
}

int dh_read_file(const char *path, char **ret, size_t *ret_len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0, cap = 4096;
        char *buf;

        if (fd < 0)
                return -errno;
        buf = malloc(cap + 1);
        if (!buf)
                abort();
        for (;;) {
                if (len == cap) {
                        cap *= 2;
                        buf = realloc(buf, cap + 1);
                        if (!buf)
                                abort();
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        close(fd);
                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        buf[len] = '\0';
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}

size_t dh_file_count(const char *path, const char *a, const char *b) {
        char *text;
        size_t n = 0, len;

        if (dh_read_file(path, &text, &len) < 0)
                return 0;
        for (char *line = text, *next; line < text + len; line = next) {
                char *nl = memchr(line, '\n', (size_t)(text + len - line));
                next = nl ? nl + 1 : text + len;
                if (nl)
                        *nl = '\0';
                if (strstr(line, a) && (!b || strstr(line, b)))
                        n++;
        }
        free(text);
        return n;
}

bool dh_wait_file_count(const char *path, const char *a, const char *b, size_t n, int timeout_ms) {
        return DH_WAIT_FOR(dh_file_count(path, a, b) >= n, timeout_ms);
}

void dh_dump_file(const char *path, size_t max_bytes) {
        char *text;
        size_t len;

        if (dh_read_file(path, &text, &len) < 0) {
                fprintf(stderr, "# (no file %s)\n", path);
                return;
        }
        size_t from = len > max_bytes ? len - max_bytes : 0;
        fprintf(stderr, "# ---- %s%s\n", path, from ? " (the end)" : "");
        for (char *line = text + from, *next; line < text + len; line = next) {
                char *nl = memchr(line, '\n', (size_t)(text + len - line));
                next = nl ? nl + 1 : text + len;
                fprintf(stderr, "# %.*s\n", (int)((nl ? nl : text + len) - line), line);
        }
        free(text);
}

bool dh_sanitizer_report(const char *path) {
        return dh_file_count(path, "ERROR: AddressSanitizer", NULL) > 0 ||
               dh_file_count(path, "ERROR: LeakSanitizer", NULL) > 0 ||
               dh_file_count(path, "runtime error:", NULL) > 0 ||
               dh_file_count(path, "SUMMARY: ", "Sanitizer") > 0;
}

/* ----------------------------------------------------------- processes */

const char *dh_find_program(const char *name) {
        static char found[8][PATH_MAX];
        static unsigned slot;
        const char *path = getenv("PATH");
        char dirs[4096];
        char *save = NULL, *out = found[slot++ % 8];

        snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin:/usr/local/sbin:/usr/bin:/bin",
                 path ? path : "");
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if ((size_t)snprintf(out, PATH_MAX, "%s/%s", d, name) >= PATH_MAX)
                        continue;
                if (access(out, X_OK) == 0)
                        return out;
        }
        return NULL;
}

static void child(char *const argv[], char *const env[], const char *out_path, bool watchdog_pid,
                  unsigned nofile, pid_t parent) {
        sigset_t none;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(126);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);

        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(126);
        close_range(3, ~0U, 0);

        /* Whatever runs the tests (a systemd unit, a CI) must not be told
         * about our daemon, nor hand it sockets. */
        static const char *const strip[] = { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                             "LISTEN_FDS",    "LISTEN_PID",    "LISTEN_FDNAMES" };
        for (size_t i = 0; i < sizeof strip / sizeof strip[0]; i++)
                unsetenv(strip[i]);
        for (size_t i = 0; env && env[i]; i++)
                if (putenv(env[i]) < 0)
                        _exit(126);
        if (watchdog_pid) {
                char pid[32];
                snprintf(pid, sizeof pid, "%d", (int)getpid());
                setenv("WATCHDOG_PID", pid, 1);
        }
        if (nofile > 0) {
                struct rlimit rl = { .rlim_cur = nofile, .rlim_max = nofile };
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        _exit(126);
        }
        execv(argv[0], argv);
        _exit(127);
}

pid_t dh_spawn(char *const argv[], char *const env[], const char *out_path, bool watchdog_pid) {
        return dh_spawn_nofile(argv, env, out_path, watchdog_pid, 0);
}

pid_t dh_spawn_nofile(char *const argv[], char *const env[], const char *out_path,
                      bool watchdog_pid, unsigned nofile) {
        pid_t parent = getpid();
        /* Flushed, so the child's copy of stdio buffers never prints twice. */
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child(argv, env, out_path, watchdog_pid, nofile, parent);
        return pid;
}

int dh_wait_exit(pid_t pid, int timeout_ms, int *ret_status) {
        int64_t deadline = dh_now_ms() + timeout_ms;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid) {
                        if (ret_status)
                                *ret_status = status;
                        return 0;
                }
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (dh_now_ms() >= deadline)
                        return -ETIMEDOUT;
                dh_nap(2);
        }
}

void dh_kill_wait(pid_t pid) {
        if (pid <= 0)
                return;
        (void)kill(pid, SIGCONT);
        (void)kill(pid, SIGKILL);
        (void)dh_wait_exit(pid, 5000, NULL);
}

const char *dh_status_str(int status) {
        static char buf[96];

        if (WIFEXITED(status))
                snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                snprintf(buf, sizeof buf, "signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
        else
                snprintf(buf, sizeof buf, "wait status 0x%x", (unsigned)status);
        return buf;
}

long dh_rss_kib(pid_t pid) {
        char path[64], *text;
        long kib = -1;

        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (dh_read_file(path, &text, NULL) < 0)
                return -1;
        const char *p = strstr(text, "VmRSS:");
        if (p)
                kib = strtol(p + 6, NULL, 10);
        free(text);
        return kib;
}

long dh_cpu_ms(pid_t pid) {
        char path[64], *text;
        unsigned long utime, stime;
        long ms = -1;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (dh_read_file(path, &text, NULL) < 0)
                return -1;
        /* "pid (comm) state ..." where comm may hold anything: fields 14
         * and 15 (utime, stime) counted from after the last ')'. */
        const char *p = strrchr(text, ')');
        if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                        &stime) == 2)
                ms = (long)((utime + stime) * 1000u / (unsigned long)sysconf(_SC_CLK_TCK));
        free(text);
        return ms;
}

/* ----------------------------------------------------------- the daemon */

int dh_daemon_prepare(struct dh_daemon *d) {
        if (d->dir[0])
                return 0;
        int r = dh_mkdtemp(d->dir, sizeof d->dir);
        if (r < 0)
                return r;
        DH_FMT(d->conf, "%s/mqlinkd.conf", d->dir);
        DH_FMT(d->sock, "%s/mqlinkd.sock", d->dir);
        DH_FMT(d->log, "%s/mqlinkd.log", d->dir);
        return 0;
}

void dh_conf_daemon(char **conf, struct dh_daemon *d, const char *extra) {
        int r = dh_daemon_prepare(d);
        if (r < 0)
                dh_fail("cannot make a temporary directory: %s", strerror(-r));
        dh_cat(conf, "[mqlinkd]\nsocket_path = %s\nlog_level = debug\n%s\n", d->sock,
               extra ? extra : "");
}

void dh_conf_broker(char **conf, const char *name, uint16_t port, const char *extra) {
        dh_cat(conf,
               "[broker:%s]\nuri = mqtt://127.0.0.1:%u\nclient_id = e2e-%s\n"
               "reconnect_min = 0.1\nreconnect_max = 0.5\n%s\n",
               name, port, name, extra ? extra : "");
}

int dh_daemon_write_conf(struct dh_daemon *d, const char *text) {
        int r = dh_daemon_prepare(d);
        if (r < 0)
                return r;
        return dh_write_file(d->conf, text, strlen(text));
}

int dh_daemon_spawn(struct dh_daemon *d, char *const env[], bool watchdog_pid) {
        const char *exe = getenv("MQLINKD");

        if (!exe || !*exe)
                return -ENOENT;
        char *argv[] = { (char *)exe, "-c", d->conf, NULL };
        pid_t pid = dh_spawn_nofile(argv, env, d->log, watchdog_pid, d->nofile);
        if (pid < 0)
                return pid;
        d->pid = pid;
        d->exited = false;
        d->status = 0;
        return 0;
}

bool dh_daemon_running(struct dh_daemon *d) {
        int status;

        if (d->pid <= 0 || d->exited)
                return false;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
                d->exited = true;
                d->status = status;
                return false;
        }
        return true;
}

void dh_daemon_signal(const struct dh_daemon *d, int sig) {
        if (d->pid > 0 && !d->exited)
                (void)kill(d->pid, sig);
}

static bool sock_accepts(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok;

        if (fd < 0)
                return false;
        DH_FMT(sa.sun_path, "%s", path);
        ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        return ok;
}

int dh_daemon_wait_listening(struct dh_daemon *d, int timeout_ms) {
        int64_t deadline = dh_now_ms() + timeout_ms;

        for (;;) {
                if (!dh_daemon_running(d))
                        return -ECHILD;
                if (sock_accepts(d->sock))
                        return 0;
                if (dh_now_ms() >= deadline)
                        return -ETIMEDOUT;
                dh_nap(5);
        }
}

void dh_daemon_dump_log(const struct dh_daemon *d) {
        if (d->log[0])
                dh_dump_file(d->log, 12000);
}

void dh_must_start_daemon(struct dh_daemon *d, const char *conf, char *const env[]) {
        if (!getenv("MQLINKD") || !*getenv("MQLINKD"))
                skip();
        int r = dh_daemon_write_conf(d, conf);
        if (r < 0)
                dh_fail("cannot write %s: %s", d->conf, strerror(-r));
        r = dh_daemon_spawn(d, env, false);
        if (r < 0)
                dh_fail("cannot start %s: %s", getenv("MQLINKD"), strerror(-r));
        r = dh_daemon_wait_listening(d, DH_TIMEOUT_MS);
        if (r == -ECHILD) {
                dh_daemon_dump_log(d);
                dh_fail("mqlinkd exited at start: %s", dh_status_str(d->status));
        }
        if (r < 0) {
                dh_daemon_dump_log(d);
                dh_fail("mqlinkd does not accept on %s: %s", d->sock, strerror(-r));
        }
}

int dh_daemon_term(struct dh_daemon *d, int timeout_ms) {
        if (!dh_daemon_running(d))
                return -ESRCH;
        (void)kill(d->pid, SIGTERM);
        int r = dh_wait_exit(d->pid, timeout_ms, &d->status);
        if (r < 0)
                return r;
        d->exited = true;
        return 0;
}

void dh_must_stop_daemon(struct dh_daemon *d, int timeout_ms) {
        int64_t start = dh_now_ms();
        int r = dh_daemon_term(d, timeout_ms);

        if (r == -ESRCH) {
                dh_daemon_dump_log(d);
                dh_fail("mqlinkd was no longer running at SIGTERM: %s", dh_status_str(d->status));
        }
        if (r < 0) {
                dh_daemon_dump_log(d);
                dh_fail("mqlinkd did not exit within %d ms of SIGTERM", timeout_ms);
        }
        if (!WIFEXITED(d->status) || WEXITSTATUS(d->status) != 0) {
                dh_daemon_dump_log(d);
                dh_fail("mqlinkd ended with %s after SIGTERM (want exit 0)",
                        dh_status_str(d->status));
        }
        if (dh_sanitizer_report(d->log)) {
                dh_daemon_dump_log(d);
                dh_fail("a sanitizer reported errors in mqlinkd's log");
        }
        struct stat st;
        if (lstat(d->sock, &st) == 0) {
                dh_daemon_dump_log(d);
                dh_fail("the socket file %s is still there after exit", d->sock);
        }
        fprintf(stderr, "# mqlinkd exited 0, %lld ms after SIGTERM\n",
                (long long)(dh_now_ms() - start));
}

void dh_daemon_cleanup(struct dh_daemon *d) {
        if (dh_daemon_running(d)) {
                dh_kill_wait(d->pid);
                d->exited = true;
        }
        if (d->dir[0] && !getenv("MQL_TEST_KEEP"))
                (void)test_broker_rmtree(d->dir);
        else if (d->dir[0])
                fprintf(stderr, "# kept %s\n", d->dir);
        *d = (struct dh_daemon)DH_DAEMON_INIT;
}

/* ------------------------------------------------------- local clients */

int dh_connect(struct dh_conn *c, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        *c = (struct dh_conn)DH_CONN_INIT;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        c->fd = fd;
        return 0;
}

void dh_close(struct dh_conn *c) {
        if (c->fd >= 0)
                close(c->fd);
        free(c->buf);
        *c = (struct dh_conn)DH_CONN_INIT;
}

int dh_send(struct dh_conn *c, const void *data, size_t len) {
        int64_t deadline = dh_now_ms() + DH_TIMEOUT_MS;
        const char *p = data;

        while (len > 0) {
                ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n >= 0) {
                        p += n;
                        len -= (size_t)n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                int64_t left = deadline - dh_now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
                (void)poll(&pfd, 1, (int)left);
        }
        return 0;
}

int dh_sendf(struct dh_conn *c, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        vcat(&s, fmt, ap);
        va_end(ap);
        int r = dh_send(c, s, strlen(s));
        free(s);
        return r;
}

/* Reads what is there, waiting up to `ms`: bytes read, 0 at the end,
 * -ETIMEDOUT, -errno. */
static ssize_t fill(struct dh_conn *c, int ms) {
        if (c->fd < 0)
                return -EBADF;
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int r = poll(&pfd, 1, ms < 0 ? 0 : ms);
        if (r < 0)
                return errno == EINTR ? -ETIMEDOUT : -errno;
        if (r == 0)
                return -ETIMEDOUT;
        /* Read frames leave a gap at the front: close it once per read,
         * not once per frame (20000 PONGs would move megabytes). */
        if (c->off > 0) {
                memmove(c->buf, c->buf + c->off, c->len - c->off);
                c->len -= c->off;
                c->off = 0;
        }
        if (c->cap - c->len < READ_CHUNK) {
                size_t cap = c->cap ? c->cap : READ_CHUNK;
                while (cap - c->len < READ_CHUNK)
                        cap *= 2;
                char *n = realloc(c->buf, cap + 1);
                if (!n)
                        abort();
                c->buf = n;
                c->cap = cap;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? -ETIMEDOUT : -errno;
        c->len += (size_t)n;
        return n;
}

/* The byte count of a frame line that has one: the 4th token of MSG, the
 * 2nd of "+OK". -1 when none, -2 when it is not a number. */
static long long frame_count(const char *line) {
        int want;
        if (strncmp(line, "MSG ", 4) == 0)
                want = 3;
        else if (strncmp(line, "+OK ", 4) == 0)
                want = 1;
        else
                return -1;
        const char *p = line;
        for (int i = 0; i < want; i++) {
                p = strchr(p, ' ');
                if (!p)
                        return -2;
                while (*p == ' ')
                        p++;
        }
        if (!isdigit((unsigned char)*p))
                return -2;
        char *end;
        long long v = strtoll(p, &end, 10);
        return *end == ' ' || *end == '\0' ? v : -2;
}

void dh_frame_done(struct dh_frame *f) {
        free(f->line);
        free(f->payload);
        *f = (struct dh_frame){ 0 };
}

/* A complete frame at the head of the buffer: its size, 0 if more is
 * needed, -EBADMSG. */
static ssize_t frame_at_head(struct dh_conn *c, struct dh_frame *f) {
        const char *b = c->buf + c->off;
        size_t avail = c->len - c->off;
        const char *nl = avail ? memchr(b, '\n', avail) : NULL;
        if (!nl)
                return 0;
        size_t line_end = (size_t)(nl - b), n = line_end;
        if (n > 0 && b[n - 1] == '\r')
                n--;
        char *line = strndup(b, n);
        if (!line)
                abort();
        long long count = frame_count(line);
        size_t total = line_end + 1;
        if (count == -2) {
                fprintf(stderr, "# bad byte count in a frame from the daemon: %s\n", show(line, n));
                free(line);
                return -EBADMSG;
        }
        if (count >= 0) {
                if (avail < total + (size_t)count + 1) {
                        free(line);
                        return 0;
                }
                if (b[total + count] != '\n') {
                        fprintf(stderr, "# payload of %s not followed by \\n\n", show(line, n));
                        free(line);
                        return -EBADMSG;
                }
                f->payload = malloc((size_t)count + 1);
                if (!f->payload)
                        abort();
                memcpy(f->payload, b + total, (size_t)count);
                f->payload[count] = '\0';
                f->len = (size_t)count;
                f->has_payload = true;
                total += (size_t)count + 1;
        }
        f->line = line;
        return (ssize_t)total;
}

int dh_read_frame(struct dh_conn *c, int timeout_ms, struct dh_frame *f) {
        int64_t deadline = dh_now_ms() + timeout_ms;

        *f = (struct dh_frame){ 0 };
        for (;;) {
                ssize_t n = frame_at_head(c, f);
                if (n < 0)
                        return (int)n;
                if (n > 0) {
                        c->off += (size_t)n;
                        if (c->off == c->len)
                                c->off = c->len = 0;
                        return 1;
                }
                n = fill(c, (int)(deadline - dh_now_ms()));
                if (n == 0)
                        return c->len > c->off ? -EPIPE : 0;
                if (n < 0)
                        return (int)n;
        }
}

bool dh_readable(struct dh_conn *c, int ms) {
        if (c->len > c->off)
                return true;
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        return poll(&pfd, 1, ms) > 0;
}

void dh_must_connect(struct dh_conn *c, const char *path) {
        int r = dh_connect(c, path);
        if (r < 0)
                dh_fail("cannot connect to %s: %s", path, strerror(-r));
}

void dh_must_send(struct dh_conn *c, const void *data, size_t len) {
        int r = dh_send(c, data, len);
        if (r < 0)
                dh_fail("cannot send %s: %s", show(data, len), strerror(-r));
}

void dh_must_sendf(struct dh_conn *c, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        vcat(&s, fmt, ap);
        va_end(ap);
        dh_must_send(c, s, strlen(s));
        free(s);
}

void dh_must_read(struct dh_conn *c, struct dh_frame *f) {
        int r = dh_read_frame(c, DH_TIMEOUT_MS, f);
        if (r == 0)
                dh_fail("the daemon closed the connection");
        if (r < 0)
                dh_fail("no frame from the daemon within %d ms: %s", DH_TIMEOUT_MS, strerror(-r));
}

void dh_expect_line(struct dh_conn *c, const char *line) {
        struct dh_frame f;
        dh_must_read(c, &f);
        if (strcmp(f.line, line) != 0 || f.has_payload) {
                char got[400];
                snprintf(got, sizeof got, "%s", show(f.line, strlen(f.line)));
                dh_frame_done(&f);
                dh_fail("expected \"%s\", got \"%s\"", line, got);
        }
        dh_frame_done(&f);
}

void dh_expect_prefix(struct dh_conn *c, const char *prefix) {
        struct dh_frame f;
        dh_must_read(c, &f);
        if (strncmp(f.line, prefix, strlen(prefix)) != 0) {
                char got[400];
                snprintf(got, sizeof got, "%s", show(f.line, strlen(f.line)));
                dh_frame_done(&f);
                dh_fail("expected a line starting \"%s\", got \"%s\"", prefix, got);
        }
        dh_frame_done(&f);
}

void dh_expect_msg(struct dh_conn *c, const char *sid, const char *topic, const void *payload,
                   size_t len, const char *opts) {
        struct dh_frame f;
        char want[1024];

        snprintf(want, sizeof want, "MSG %s %s %zu%s", sid, topic, len, opts ? opts : "");
        dh_must_read(c, &f);
        if (strcmp(f.line, want) != 0) {
                char got[400];
                snprintf(got, sizeof got, "%s", show(f.line, strlen(f.line)));
                dh_frame_done(&f);
                dh_fail("expected \"%s\", got \"%s\"", want, got);
        }
        if (f.len != len || (len && memcmp(f.payload, payload, len) != 0)) {
                size_t at = 0;
                while (at < len && at < f.len && f.payload[at] == ((const char *)payload)[at])
                        at++;
                fprintf(stderr, "# payload differs at byte %zu of %zu\n", at, len);
                dh_frame_done(&f);
                dh_fail("MSG payload differs (%s)", want);
        }
        dh_frame_done(&f);
}

void dh_expect_closed(struct dh_conn *c, int timeout_ms, size_t *n_frames) {
        int64_t deadline = dh_now_ms() + timeout_ms;
        size_t n = 0;

        for (;;) {
                struct dh_frame f;
                int r = dh_read_frame(c, (int)(deadline - dh_now_ms()), &f);
                if (r == 1) {
                        fprintf(stderr, "# before the close: %s\n", show(f.line, strlen(f.line)));
                        dh_frame_done(&f);
                        n++;
                        continue;
                }
                /* A Unix socket closed with our bytes unread reports a reset
                 * rather than the end: both mean closed. */
                if (r == 0 || r == -ECONNRESET || r == -EPIPE)
                        break;
                dh_fail("the daemon did not close the connection within %d ms: %s", timeout_ms,
                        strerror(-r));
        }
        if (n_frames)
                *n_frames = n;
}

void dh_expect_quiet(struct dh_conn *c, int ms) {
        struct dh_frame f;
        int r = dh_read_frame(c, ms, &f);
        if (r == 1) {
                char got[400];
                snprintf(got, sizeof got, "%s", show(f.line, strlen(f.line)));
                dh_frame_done(&f);
                dh_fail("expected nothing, got \"%s\"", got);
        }
        if (r != -ETIMEDOUT)
                dh_fail("expected nothing, but the connection ended: %s",
                        r == 0 ? "closed" : strerror(-r));
}

void dh_must_ping(struct dh_conn *c) {
        dh_must_send(c, "PING\n", 5);
        dh_expect_line(c, "PONG");
}

void dh_must_ping_fresh(const char *path) {
        struct dh_conn c;
        dh_must_connect(&c, path);
        dh_must_ping(&c);
        dh_close(&c);
}

void dh_must_sub(struct dh_conn *c, const char *sid, const char *filter, const char *opts) {
        dh_must_sendf(c, "SUB %s %s%s\n", sid, filter, opts ? opts : "");
        dh_expect_line(c, "+OK");
}

void dh_must_pub(struct dh_conn *c, const char *topic, const void *payload, size_t len,
                 const char *opts) {
        dh_must_sendf(c, "PUB %s %zu%s\n", topic, len, opts ? opts : "");
        dh_must_send(c, payload, len);
        dh_must_send(c, "\n", 1);
        dh_expect_line(c, "+OK");
}

char *dh_must_status(struct dh_conn *c) {
        struct dh_frame f;

        dh_must_send(c, "STATUS\n", 7);
        dh_must_read(c, &f);
        if (strncmp(f.line, "+OK ", 4) != 0 || !f.has_payload) {
                char got[400];
                snprintf(got, sizeof got, "%s", show(f.line, strlen(f.line)));
                dh_frame_done(&f);
                dh_fail("STATUS: expected \"+OK <n>\" and a document, got \"%s\"", got);
        }
        char *doc = f.payload;
        f.payload = NULL;
        dh_frame_done(&f);
        return doc;
}

char *dh_must_status_at(const char *path) {
        struct dh_conn c;
        dh_must_connect(&c, path);
        char *doc = dh_must_status(&c);
        dh_close(&c);
        return doc;
}

/* ----------------------------------------------------------------- JSON */

struct jp {
        const char *p, *end;
        int depth;
};

static void j_ws(struct jp *j) {
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
                j->p++;
}

static bool j_value(struct jp *j);

static bool j_string(struct jp *j) {
        if (j->p >= j->end || *j->p != '"')
                return false;
        j->p++;
        while (j->p < j->end) {
                unsigned char ch = (unsigned char)*j->p++;
                if (ch == '"')
                        return true;
                if (ch < 0x20)
                        return false;
                if (ch != '\\')
                        continue;
                if (j->p >= j->end)
                        return false;
                ch = (unsigned char)*j->p++;
                if (ch == 'u') {
                        for (int i = 0; i < 4; i++)
                                if (j->p >= j->end || !isxdigit((unsigned char)*j->p++))
                                        return false;
                } else if (!strchr("\"\\/bfnrt", ch) || ch == '\0')
                        return false;
        }
        return false;
}

static bool j_digits(struct jp *j) {
        const char *s = j->p;
        while (j->p < j->end && isdigit((unsigned char)*j->p))
                j->p++;
        return j->p > s;
}

static bool j_number(struct jp *j) {
        if (j->p < j->end && *j->p == '-')
                j->p++;
        if (j->p < j->end && *j->p == '0')
                j->p++;
        else if (!j_digits(j))
                return false;
        if (j->p < j->end && *j->p == '.') {
                j->p++;
                if (!j_digits(j))
                        return false;
        }
        if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
                j->p++;
                if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
                        j->p++;
                if (!j_digits(j))
                        return false;
        }
        return true;
}

static bool j_literal(struct jp *j, const char *lit) {
        size_t n = strlen(lit);
        if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
                return false;
        j->p += n;
        return true;
}

static bool j_container(struct jp *j, char close, bool object) {
        j->p++;
        if (++j->depth > 64)
                return false;
        j_ws(j);
        if (j->p < j->end && *j->p == close) {
                j->p++;
                j->depth--;
                return true;
        }
        for (;;) {
                j_ws(j);
                if (object) {
                        if (!j_string(j))
                                return false;
                        j_ws(j);
                        if (j->p >= j->end || *j->p++ != ':')
                                return false;
                }
                if (!j_value(j))
                        return false;
                j_ws(j);
                if (j->p >= j->end)
                        return false;
                char ch = *j->p++;
                if (ch == close) {
                        j->depth--;
                        return true;
                }
                if (ch != ',')
                        return false;
        }
}

static bool j_value(struct jp *j) {
        j_ws(j);
        if (j->p >= j->end)
                return false;
        switch (*j->p) {
        case '{':
                return j_container(j, '}', true);
        case '[':
                return j_container(j, ']', false);
        case '"':
                return j_string(j);
        case 't':
                return j_literal(j, "true");
        case 'f':
                return j_literal(j, "false");
        case 'n':
                return j_literal(j, "null");
        default:
                return j_number(j);
        }
}

bool dh_json_valid(const char *s, size_t len) {
        struct jp j = { s, s + len, 0 };
        if (!j_value(&j))
                return false;
        j_ws(&j);
        return j.p == j.end;
}

const char *dh_json_find(const char *from, const char *key) {
        char needle[128];

        if (!from)
                return NULL;
        snprintf(needle, sizeof needle, "\"%s\":", key);
        const char *p = strstr(from, needle);
        if (!p)
                return NULL;
        p += strlen(needle);
        while (*p == ' ')
                p++;
        return p;
}

bool dh_json_u64(const char *from, const char *key, uint64_t *ret) {
        const char *v = dh_json_find(from, key);
        if (!v || !isdigit((unsigned char)*v))
                return false;
        *ret = strtoull(v, NULL, 10);
        return true;
}

bool dh_json_str(const char *from, const char *key, char *buf, size_t size) {
        const char *v = dh_json_find(from, key);
        if (!v || *v != '"')
                return false;
        const char *end = strchr(v + 1, '"');
        if (!end)
                return false;
        snprintf(buf, size, "%.*s", (int)(end - v - 1), v + 1);
        return true;
}

const char *dh_json_broker(const char *doc, const char *name) {
        char needle[160];
        snprintf(needle, sizeof needle, "{\"name\":\"%s\"", name);
        return strstr(doc, needle);
}

void dh_broker_state(const char *sock, const char *name, char *buf, size_t size) {
        char *doc = dh_must_status_at(sock);
        const char *b = dh_json_broker(doc, name);
        buf[0] = '\0';
        if (b)
                (void)dh_json_str(b, "state", buf, size);
        free(doc);
}

bool dh_wait_broker_state(const char *sock, const char *name, const char *state, int timeout_ms) {
        char got[64];
        return DH_WAIT_FOR((dh_broker_state(sock, name, got, sizeof got), strcmp(got, state) == 0),
                           timeout_ms);
}

/* ------------------------------------------------------------ mosquitto */

void dh_must_start_broker(struct test_broker *b, const char *extra_conf) {
        char *conf = dh_strf("log_type all\n%s", extra_conf ? extra_conf : "");
        int r = test_broker_start(b, conf);
        free(conf);
        if (r == -ENOENT)
                skip();
        if (r < 0) {
                if (b->dir[0])
                        test_broker_dump_log(b, stderr, 4000);
                dh_fail("cannot start mosquitto: %s", strerror(-r));
        }
}

pid_t dh_mosquitto_sub(const struct test_broker *b, const char *topic, const char *id, int count) {
        const char *prog = dh_find_program("mosquitto_sub");
        char port[16], n[16], out[PATH_MAX], needle[128];

        if (!prog)
                skip();
        snprintf(port, sizeof port, "%u", b->port);
        snprintf(n, sizeof n, "%d", count);
        DH_FMT(out, "%s/%s.out", b->dir, id);
        char *argv[] = { (char *)prog, "-h",          "127.0.0.1", "-p", port,
                         "-t",         (char *)topic, "-C",        n,    "-q",
                         "2",          "-i",          (char *)id,  "-F", "%t|%q|%r|%l|%p",
                         NULL };
        pid_t pid = dh_spawn(argv, NULL, out, false);
        if (pid < 0)
                dh_fail("cannot run mosquitto_sub: %s", strerror(-pid));
        snprintf(needle, sizeof needle, "Received SUBSCRIBE from %s", id);
        if (!dh_wait_file_count(b->log, needle, NULL, 1, DH_TIMEOUT_MS)) {
                dh_kill_wait(pid);
                test_broker_dump_log(b, stderr, 4000);
                dh_fail("mosquitto_sub %s did not subscribe", id);
        }
        return pid;
}

void dh_mosquitto_sub_result(const struct test_broker *b, pid_t pid, const char *id,
                             struct dh_sub_msg *ret) {
        char out[PATH_MAX], *text;
        size_t len;
        int status;

        *ret = (struct dh_sub_msg){ 0 };
        DH_FMT(out, "%s/%s.out", b->dir, id);
        if (dh_wait_exit(pid, DH_TIMEOUT_MS, &status) < 0) {
                dh_kill_wait(pid);
                dh_dump_file(out, 2000);
                test_broker_dump_log(b, stderr, 4000);
                dh_fail("mosquitto_sub %s got no message within %d ms", id, DH_TIMEOUT_MS);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                dh_dump_file(out, 2000);
                dh_fail("mosquitto_sub %s: %s", id, dh_status_str(status));
        }
        if (dh_read_file(out, &text, &len) < 0)
                dh_fail("no output from mosquitto_sub %s", id);
        /* "%t|%q|%r|%l|%p\n" */
        char *f[4], *p = text;
        for (int i = 0; i < 4; i++) {
                f[i] = p;
                p = memchr(p, '|', len - (size_t)(p - text));
                if (!p) {
                        free(text);
                        dh_fail("unexpected mosquitto_sub output");
                }
                *p++ = '\0';
        }
        snprintf(ret->topic, sizeof ret->topic, "%s", f[0]);
        ret->qos = atoi(f[1]);
        ret->retain = atoi(f[2]);
        ret->len = strtoul(f[3], NULL, 10);
        if ((size_t)(text + len - p) < ret->len + 1) {
                free(text);
                dh_fail("mosquitto_sub output shorter than its payload");
        }
        ret->payload = malloc(ret->len + 1);
        if (!ret->payload)
                abort();
        memcpy(ret->payload, p, ret->len);
        ret->payload[ret->len] = '\0';
        free(text);
}

void dh_mosquitto_pub(const struct test_broker *b, const char *topic, const void *payload,
                      size_t len, int qos, bool retain) {
        dh_mosquitto_pub_args(b, topic, payload, len, qos, retain, NULL);
}

void dh_mosquitto_pub_args(const struct test_broker *b, const char *topic, const void *payload,
                           size_t len, int qos, bool retain, char *const extra[]) {
        static unsigned serial;
        const char *prog = dh_find_program("mosquitto_pub");
        char port[16], q[8], file[PATH_MAX], out[PATH_MAX];
        int status;

        if (!prog)
                skip();
        snprintf(port, sizeof port, "%u", b->port);
        snprintf(q, sizeof q, "%d", qos);
        DH_FMT(file, "%s/pub-%u.bin", b->dir, serial++);
        DH_FMT(out, "%s/tools.log", b->dir);
        if (dh_write_file(file, payload, len) < 0)
                dh_fail("cannot write %s", file);
        char *argv[64] = { (char *)prog,  "-h", "127.0.0.1", "-p", port, "-t",
                           (char *)topic, "-q", q,           "-f", file };
        size_t n = 11;
        if (retain)
                argv[n++] = "-r";
        for (size_t i = 0; extra && extra[i] && n < 63; i++)
                argv[n++] = extra[i];
        argv[n] = NULL;
        pid_t pid = dh_spawn(argv, NULL, out, false);
        if (pid < 0)
                dh_fail("cannot run mosquitto_pub: %s", strerror(-pid));
        if (dh_wait_exit(pid, DH_TIMEOUT_MS, &status) < 0) {
                dh_kill_wait(pid);
                dh_fail("mosquitto_pub did not finish");
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                dh_dump_file(out, 2000);
                dh_fail("mosquitto_pub: %s", dh_status_str(status));
        }
        unlink(file);
}

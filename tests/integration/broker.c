/* SPDX-License-Identifier: MIT */
/*
 * Runs mosquitto for tests and benchmarks: see broker.h. libc only, so that
 * any test program (and the benchmarks) can link it without libmqlink.
 */
#define _GNU_SOURCE 1

#include "broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 5000
#define POLL_MS 5
#define START_ATTEMPTS 3

/* ---------------------------------------------------------------- time */

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* -------------------------------------------------------------- helpers */

/* Finds `name` in PATH, then in the sbin directories Debian keeps mosquitto
 * in (a non-root PATH lacks them). `env` names a variable that overrides. */
static int find_program(const char *name, const char *env, char *ret, size_t size) {
        const char *over = env ? getenv(env) : NULL;

        if (over && *over) {
                if (access(over, X_OK) < 0)
                        return -errno;
                snprintf(ret, size, "%s", over);
                return 0;
        }

        const char *path = getenv("PATH");
        char dirs[4096];
        snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin:/usr/local/sbin:/usr/bin",
                 path ? path : "");
        char *save = NULL;
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if ((size_t)snprintf(ret, size, "%s/%s", d, name) >= size)
                        continue;
                if (access(ret, X_OK) == 0)
                        return 0;
        }
        return -ENOENT;
}

/* The child side of every fork here: no signal mask or stray fds inherited
 * from the test (it may block signals for a signalfd, and hold sockets that
 * must close when the test closes them), dies with its parent, output to
 * `log_path`, in `cwd`. Never returns. */
static void exec_child(const char *cwd, const char *log_path, const char *prog, char *const argv[],
                       pid_t parent) {
        sigset_t none;

        /* A process group of its own: stop and kill signal the group, so
         * that a wrapper given as TEST_MOSQUITTO (strace, valgrind) and the
         * broker under it get them alike; a terminal's ^C reaches the test
         * alone, and the broker follows through PDEATHSIG. */
        setpgid(0, 0);
        /* A test that crashes must not leave a broker on its port. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(126);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);

        int in = open("/dev/null", O_RDONLY);
        int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(126);
        close_range(3, ~0U, 0);
        if (cwd && chdir(cwd) < 0)
                _exit(126);
        execv(prog, argv);
        _exit(127);
}

/* Runs a command to completion. Returns 0, -EIO on a non-zero exit. */
static int run_tool(const char *dir, const char *prog, char *const argv[]) {
        char log_path[PATH_MAX];
        pid_t parent = getpid();
        int status;

        snprintf(log_path, sizeof(log_path), "%s/tools.log", dir);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                exec_child(dir, log_path, prog, argv, parent);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Waits up to `timeout_ms` for `pid` to exit. Returns 0 once reaped,
 * -ETIMEDOUT. */
static int reap(pid_t pid, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                pid_t r = waitpid(pid, NULL, WNOHANG);
                if (r == pid || (r < 0 && errno == ECHILD))
                        return 0;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                nap(POLL_MS);
        }
}

int test_broker_free_port(uint16_t *ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
                r = -errno;
        else
                *ret = ntohs(sa.sin_port);
        close(fd);
        return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

int test_broker_rmtree(const char *path) {
        if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 0;
}

/* ------------------------------------------------------------ the broker */

static int pick_ports(struct test_broker *b) {
        int r = test_broker_free_port(&b->port);
        if (r < 0)
                return r;
        /* Two ports free at the same moment are different ports: the first
         * is closed again, so make sure the kernel did not hand it out
         * twice. */
        do {
                r = test_broker_free_port(&b->port2);
                if (r < 0)
                        return r;
        } while (b->port2 == b->port);
        return 0;
}

int test_broker_prepare(struct test_broker *b) {
        if (b->dir[0])
                return 0;

        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
                tmp = "/tmp";
        if ((size_t)snprintf(b->dir, sizeof(b->dir), "%s/mqlink-broker-XXXXXX", tmp) >=
            sizeof(b->dir) - 32) {
                b->dir[0] = '\0';
                return -ENAMETOOLONG;
        }
        if (!mkdtemp(b->dir)) {
                int r = -errno;
                b->dir[0] = '\0';
                return r;
        }
        /* The length was checked above. */
        if (snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir) < 0 ||
            snprintf(b->log, sizeof(b->log), "%s/mosquitto.log", b->dir) < 0)
                return -EINVAL;
        b->extra[0] = '\0';
        return pick_ports(b);
}

/* Writes `s` to `f` with the placeholders expanded. */
static void put_expanded(FILE *f, const struct test_broker *b, const char *s) {
        while (*s) {
                if (strncmp(s, "@DIR@", 5) == 0) {
                        fputs(b->dir, f);
                        s += 5;
                } else if (strncmp(s, "@PORT2@", 7) == 0) {
                        fprintf(f, "%u", b->port2);
                        s += 7;
                } else if (strncmp(s, "@PORT@", 6) == 0) {
                        fprintf(f, "%u", b->port);
                        s += 6;
                } else {
                        fputc(*s++, f);
                }
        }
}

static int write_conf(const struct test_broker *b) {
        FILE *f = fopen(b->conf, "we");
        if (!f)
                return -errno;

        fprintf(f, "listener %u 127.0.0.1\n", b->port);
        fputs("allow_anonymous true\n", f);
        fprintf(f, "persistence_location %s/\n", b->dir);
        fprintf(f, "log_dest file %s\n", b->log);
        /* As root mosquitto switches to the user "mosquitto", who may not
         * write into our 0700 directory; "root" tells it to stay. */
        if (geteuid() == 0)
                fputs("user root\n", f);
        put_expanded(f, b, b->extra);
        fputc('\n', f);
        if (ferror(f)) {
                fclose(f);
                return -EIO;
        }
        return fclose(f) < 0 ? -errno : 0;
}

static off_t file_size(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? 0 : st.st_size;
}

/* Whether the log, from `offset` on, has mosquitto's "... running" line:
 * written once every listener is open. */
static bool log_says_running(const char *path, off_t offset) {
        char line[1024];
        bool found = false;
        FILE *f = fopen(path, "re");

        if (!f)
                return false;
        if (fseeko(f, offset, SEEK_SET) == 0)
                while (!found && fgets(line, sizeof(line), f))
                        found = strstr(line, "mosquitto version") && strstr(line, " running");
        fclose(f);
        return found;
}

/* Signals the broker's process group, or the broker alone should it have
 * none (setpgid failed). */
static void signal_group(pid_t pid, int sig) {
        if (kill(-pid, sig) < 0)
                (void)kill(pid, sig);
}

static bool port_accepts(uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok;

        if (fd < 0)
                return false;
        /* Loopback connects complete (or are refused) at once: blocking is
         * fine. */
        ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        return ok;
}

/* Forks mosquitto and waits until it listens. -ECHILD if it exited (a
 * port in use, a bad configuration), -ETIMEDOUT. */
static int spawn(struct test_broker *b) {
        char prog[PATH_MAX];
        pid_t parent = getpid();
        int r = find_program("mosquitto", "TEST_MOSQUITTO", prog, sizeof(prog));

        if (r < 0)
                return r;
        off_t log_offset = file_size(b->log);

        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char *argv[] = { "mosquitto", "-c", b->conf, NULL };
                exec_child(b->dir, b->log, prog, argv, parent);
        }
        /* Also here, so that no signal can precede the child's own call. */
        (void)setpgid(pid, pid);

        int64_t deadline = now_ms() + READY_TIMEOUT_MS;
        for (;;) {
                pid_t w = waitpid(pid, NULL, WNOHANG);
                if (w == pid)
                        return -ECHILD;
                if (port_accepts(b->port) && log_says_running(b->log, log_offset)) {
                        b->pid = pid;
                        return 0;
                }
                if (now_ms() >= deadline) {
                        signal_group(pid, SIGKILL);
                        (void)reap(pid, STOP_TIMEOUT_MS);
                        return -ETIMEDOUT;
                }
                nap(POLL_MS);
        }
}

int test_broker_start(struct test_broker *b, const char *extra_conf) {
        if (b->pid > 0)
                return -EALREADY;
        int r = test_broker_prepare(b);
        if (r < 0)
                return r;
        if (!extra_conf)
                extra_conf = "";
        if (strlen(extra_conf) >= sizeof(b->extra))
                return -E2BIG;
        snprintf(b->extra, sizeof(b->extra), "%s", extra_conf);

        for (int attempt = 0;; attempt++) {
                r = write_conf(b);
                if (r < 0)
                        return r;
                r = spawn(b);
                /* Our ports were free when picked; someone may have taken
                 * one since. */
                if (r != -ECHILD || attempt + 1 >= START_ATTEMPTS)
                        return r;
                r = pick_ports(b);
                if (r < 0)
                        return r;
        }
}

static int signal_and_reap(struct test_broker *b, int sig) {
        pid_t pid = b->pid;

        if (pid <= 0)
                return -ESRCH;
        signal_group(pid, sig);
        if (reap(pid, STOP_TIMEOUT_MS) < 0) {
                signal_group(pid, SIGKILL);
                (void)reap(pid, STOP_TIMEOUT_MS);
        }
        /* Our child is gone. Under a wrapper the broker may outlive it for
         * a moment (strace detaches on SIGTERM): give what is left of the
         * group the same time, then SIGKILL. Without a wrapper the group is
         * empty by now and this costs nothing. */
        int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
        while (kill(-pid, 0) == 0 && now_ms() < deadline)
                nap(POLL_MS);
        (void)kill(-pid, SIGKILL);
        b->pid = 0;
        return 0;
}

int test_broker_term(struct test_broker *b) {
        return signal_and_reap(b, SIGTERM);
}

int test_broker_kill(struct test_broker *b) {
        return signal_and_reap(b, SIGKILL);
}

void test_broker_stop(struct test_broker *b) {
        (void)signal_and_reap(b, SIGTERM);
        if (b->dir[0])
                (void)test_broker_rmtree(b->dir);
        *b = (struct test_broker)TEST_BROKER_INIT;
}

int test_broker_restart(struct test_broker *b) {
        if (!b->dir[0] || !b->conf[0])
                return -EINVAL;
        (void)test_broker_term(b);

        /* The old process is gone, but its listening socket may linger a
         * moment; and a port another program took meanwhile only frees up
         * when it is done. Keep trying with the same port. */
        int64_t deadline = now_ms() + READY_TIMEOUT_MS;
        for (;;) {
                int r = spawn(b);
                if (r != -ECHILD || now_ms() >= deadline)
                        return r;
                nap(50);
        }
}

void test_broker_dump_log(const struct test_broker *b, FILE *f, size_t max_bytes) {
        char line[1024];
        FILE *in = fopen(b->log, "re");

        if (!in) {
                fprintf(f, "# (no broker log at %s)\n", b->log);
                return;
        }
        off_t size = file_size(b->log);
        if ((size_t)size > max_bytes) {
                fseeko(in, size - (off_t)max_bytes, SEEK_SET);
                /* Skip the partial first line. */
                if (!fgets(line, sizeof(line), in))
                        line[0] = '\0';
        }
        fprintf(f, "# ---- %s\n", b->log);
        while (fgets(line, sizeof(line), in)) {
                size_t n = strlen(line);
                if (n && line[n - 1] == '\n')
                        line[n - 1] = '\0';
                fprintf(f, "# %s\n", line);
        }
        fclose(in);
}

/* ------------------------------------------------------- files to serve */

static const char openssl_cnf[] = "[req]\n"
                                  "distinguished_name = dn\n"
                                  "prompt = no\n"
                                  "[dn]\n"
                                  "CN = unused\n"
                                  "[v3_ca]\n"
                                  "basicConstraints = critical,CA:TRUE\n"
                                  "keyUsage = critical,keyCertSign,cRLSign\n"
                                  "subjectKeyIdentifier = hash\n"
                                  "[server]\n"
                                  "basicConstraints = CA:FALSE\n"
                                  "keyUsage = critical,digitalSignature,keyEncipherment\n"
                                  "extendedKeyUsage = serverAuth\n"
                                  "subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost\n"
                                  "[client]\n"
                                  "basicConstraints = CA:FALSE\n"
                                  "keyUsage = critical,digitalSignature\n"
                                  "extendedKeyUsage = clientAuth\n";

#define NEWKEY "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"

int test_broker_make_certs(const char *dir) {
        char prog[PATH_MAX], cnf[PATH_MAX];
        int r = find_program("openssl", NULL, prog, sizeof(prog));

        if (r < 0)
                return r;
        snprintf(cnf, sizeof(cnf), "%s/openssl.cnf", dir);
        FILE *f = fopen(cnf, "we");
        if (!f)
                return -errno;
        fputs(openssl_cnf, f);
        if (fclose(f) < 0)
                return -errno;

        /* P-256 keys: generated in milliseconds, unlike RSA. */
        char *const cmds[][24] = {
                { "openssl", "req", "-x509", "-config", "openssl.cnf", "-extensions", "v3_ca",
                  NEWKEY, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
                  "/CN=mqlink test CA", NULL },
                { "openssl", "req", "-x509", "-config", "openssl.cnf", "-extensions", "v3_ca",
                  NEWKEY, "-keyout", "wrong-ca.key", "-out", "wrong-ca.crt", "-days", "2", "-subj",
                  "/CN=mqlink wrong CA", NULL },
                { "openssl", "req", "-new", "-config", "openssl.cnf", NEWKEY, "-keyout",
                  "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", NULL },
                { "openssl",     "x509",   "-req",   "-in",        "server.csr",
                  "-CA",         "ca.crt", "-CAkey", "ca.key",     "-set_serial",
                  "2",           "-days",  "2",      "-extfile",   "openssl.cnf",
                  "-extensions", "server", "-out",   "server.crt", NULL },
                { "openssl", "req", "-new", "-config", "openssl.cnf", NEWKEY, "-keyout",
                  "client.key", "-out", "client.csr", "-subj", "/CN=mqlink test client", NULL },
                { "openssl",     "x509",   "-req",   "-in",        "client.csr",
                  "-CA",         "ca.crt", "-CAkey", "ca.key",     "-set_serial",
                  "3",           "-days",  "2",      "-extfile",   "openssl.cnf",
                  "-extensions", "client", "-out",   "client.crt", NULL },
        };
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                r = run_tool(dir, prog, cmds[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int test_broker_passwd(const char *dir, const char *user, const char *pass) {
        char prog[PATH_MAX], path[PATH_MAX];
        int r = find_program("mosquitto_passwd", NULL, prog, sizeof(prog));

        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/passwd", dir);
        char *argv[] = { "mosquitto_passwd", "-b", "-c", path, (char *)user, (char *)pass, NULL };
        return run_tool(dir, prog, argv);
}

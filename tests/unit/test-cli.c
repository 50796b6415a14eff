/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pipe2, mkdtemp */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mqlink/ipc.h"

/*
 * The `mqlink` binary (its path in $MQLINK_CLI) run against a fake daemon:
 * a Unix socket in a temporary directory that this test serves, one
 * connection per run, with answers scripted per test. Each run checks the
 * exact bytes the CLI sent, its stdout, stderr and exit status.
 */

#define DEADLINE_MS 10000

static const char *cli_path;
static char dir[64];
static char sock_path[128];

/* ---- one run ---- */

struct run;
/* Answers one command (write replies with say()). */
typedef void (*script_fn)(struct run *r, const struct mql_ipc_frame *cmd);

struct run {
        /* set by the test */
        const char *const *args; /* after "mqlink", NULL-terminated */
        const char *input;       /* stdin; NULL: /dev/null */
        size_t input_len;
        bool input_file; /* stdin from a regular file rather than a pipe */
        bool no_daemon;  /* no listener at all */
        script_fn script;
        void *data;

        /* filled in */
        int fd; /* the connection, -1 once closed */
        pid_t pid;
        size_t n_cmds;
        bool closed_by_us;
        char *received; /* every byte the CLI sent */
        size_t received_len;
        char *out; /* stdout, NUL-terminated */
        size_t out_len;
        char *err;
        int status; /* exit status, or 128 + signal */
};

static void say(struct run *r, const char *s, size_t len) {
        while (len > 0 && r->fd >= 0) {
                ssize_t n = write(r->fd, s, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return; /* the CLI has gone: its status tells */
                s += n;
                len -= (size_t)n;
        }
}

static void says(struct run *r, const char *s) {
        say(r, s, strlen(s));
}

static void hang_up(struct run *r) {
        if (r->fd >= 0)
                close(r->fd);
        r->fd = -1;
        r->closed_by_us = true;
}

/* Answers +OK to PUB and SUB, PONG to PING. */
static void script_ok(struct run *r, const struct mql_ipc_frame *cmd) {
        says(r, cmd->kind == MQL_IPC_PING ? "PONG\n" : "+OK\n");
}

static char *slurp(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        buf = realloc(buf, cap);
                        assert_non_null(buf);
                }
                size_t n = fread(buf + len, 1, cap - len - 1, f);
                if (n == 0)
                        break;
                len += n;
        }
        fclose(f);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
}

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_socket(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(strlen(sock_path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
        unlink(sock_path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);
        return fd;
}

static pid_t spawn(struct run *r) {
        char out_path[128], err_path[128], in_path[128];
        int in_pipe[2] = { -1, -1 };
        int in_fd;

        snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
        snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
        if (r->input && r->input_file) {
                snprintf(in_path, sizeof(in_path), "%s/stdin", dir);
                int fd = open(in_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, r->input, r->input_len), (ssize_t)r->input_len);
                close(fd);
                in_fd = open(in_path, O_RDONLY | O_CLOEXEC);
        } else if (r->input) {
                /* Small inputs only: they must fit in the pipe. */
                assert_true(r->input_len < 60000);
                assert_int_equal(pipe2(in_pipe, O_CLOEXEC), 0);
                assert_int_equal(write(in_pipe[1], r->input, r->input_len), (ssize_t)r->input_len);
                close(in_pipe[1]);
                in_fd = in_pipe[0];
        } else
                in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(in_fd >= 0);

        const char *argv[64] = { cli_path, "-S", sock_path };
        size_t n = 3;
        for (size_t i = 0; r->args[i]; i++) {
                assert_true(n < 63);
                argv[n++] = r->args[i];
        }
        argv[n] = NULL;

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                if (out < 0 || err < 0 || dup2(in_fd, 0) < 0 || dup2(out, 1) < 0 ||
                    dup2(err, 2) < 0)
                        _exit(126);
                execv(cli_path, (char *const *)argv);
                _exit(127);
        }
        close(in_fd);
        return pid;
}

/* Reads what the CLI sent and answers each whole command. */
static void serve_input(struct run *r, struct mql_ipc_parser *p, size_t *parsed, char *scratch) {
        char buf[65536];
        ssize_t n = read(r->fd, buf, sizeof(buf));
        if (n <= 0) {
                close(r->fd);
                r->fd = -1;
                return;
        }
        r->received = realloc(r->received, r->received_len + (size_t)n + 1);
        assert_non_null(r->received);
        memcpy(r->received + r->received_len, buf, (size_t)n);
        r->received_len += (size_t)n;
        r->received[r->received_len] = '\0';
        for (;;) {
                struct mql_ipc_frame cmd;
                ssize_t m =
                        mql_ipc_parse_command(p, r->received + *parsed, r->received_len - *parsed,
                                              scratch, MQL_IPC_LINE_MAX_DEFAULT, &cmd);
                assert_true(m >= 0);
                if (m == 0)
                        break;
                *parsed += (size_t)m;
                if (cmd.kind == MQL_IPC_NONE)
                        continue;
                r->n_cmds++;
                if (r->script && r->fd >= 0)
                        r->script(r, &cmd);
        }
}

static int wait_child(pid_t pid, long long deadline) {
        int st;
        for (;;) {
                pid_t w = waitpid(pid, &st, WNOHANG);
                assert_true(w >= 0);
                if (w == pid)
                        break;
                if (now_ms() > deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &st, 0);
                        fail_msg("mqlink did not exit in time");
                }
                usleep(2000);
        }
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void run(struct run *r) {
        static char scratch[MQL_IPC_LINE_MAX_DEFAULT];
        struct mql_ipc_parser parser;
        size_t parsed = 0;
        long long deadline = now_ms() + DEADLINE_MS;
        char path[128];

        assert_int_equal(mql_ipc_parser_init(&parser, 0, 0), 0);
        r->fd = -1;
        int lfd = r->no_daemon ? -1 : listen_socket();
        if (r->no_daemon)
                unlink(sock_path);
        r->pid = spawn(r);

        /* Serve one connection until the CLI exits. */
        bool exited = false, accepted = false;
        while (!exited && now_ms() < deadline) {
                int fd = r->fd >= 0 ? r->fd : !accepted ? lfd : -1;
                if (fd >= 0) {
                        struct pollfd pfd = { .fd = fd, .events = POLLIN };
                        if (poll(&pfd, 1, 5) > 0) {
                                if (fd == lfd) {
                                        r->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                                        assert_true(r->fd >= 0);
                                        accepted = true;
                                } else
                                        serve_input(r, &parser, &parsed, scratch);
                        }
                } else
                        usleep(2000);
                int st;
                if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
                        exited = true;
                        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                }
        }
        if (!exited)
                r->status = wait_child(r->pid, deadline);
        /* Whatever came last (the CLI exits, then we read its last bytes). */
        while (r->fd >= 0)
                serve_input(r, &parser, &parsed, scratch);
        if (lfd >= 0)
                close(lfd);
        unlink(sock_path);
        snprintf(path, sizeof(path), "%s/stdout", dir);
        r->out = slurp(path, &r->out_len);
        snprintf(path, sizeof(path), "%s/stderr", dir);
        r->err = slurp(path, NULL);
        if (!r->received)
                r->received = calloc(1, 1);
}

static void run_done(struct run *r) {
        free(r->received);
        free(r->out);
        free(r->err);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void assert_received(const struct run *r, const char *want, size_t len) {
        if (r->received_len != len || memcmp(r->received, want, len) != 0) {
                print_error("received %zu bytes: \"%s\"\nwanted   %zu bytes: \"%s\"\n",
                            r->received_len, r->received, len, want);
                fail();
        }
}

#define assert_received_str(r, s) assert_received((r), (s), sizeof(s) - 1)

static void assert_contains(const char *haystack, const char *needle) {
        if (!strstr(haystack, needle)) {
                print_error("\"%s\"\ndoes not contain\n\"%s\"\n", haystack, needle);
                fail();
        }
}

/* ---- setup ---- */

static int group_setup(void **state) {
        cli_path = getenv("MQLINK_CLI");
        if (!cli_path || access(cli_path, X_OK) != 0)
                return -1;
        snprintf(dir, sizeof(dir), "/tmp/mqlink-test-cli-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(sock_path, sizeof(sock_path), "%s/mqlinkd.sock", dir);
        /* A CLI killed by SIGPIPE must not take the test with it. */
        signal(SIGPIPE, SIG_IGN);
        return 0;
}

static int group_teardown(void **state) {
        char path[128];
        const char *files[] = { "stdout", "stderr", "stdin", "file", "mqlinkd.sock" };
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                unlink(path);
        }
        rmdir(dir);
        return 0;
}

/* ---- pub ---- */

static void test_pub_message(void **state) {
        struct run r = { .args = ARGS("pub", "-t", "a/b c", "-m", "hello"), .script = script_ok };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "PUB a/b%20c 5\nhello\n");
        assert_string_equal(r.out, "");
        assert_string_equal(r.err, "");
        run_done(&r);
}

static void test_pub_file(void **state) {
        static const char content[] = "a\0b\nc\r\n\0";
        char path[128];

        snprintf(path, sizeof(path), "%s/file", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, sizeof(content) - 1), sizeof(content) - 1);
        close(fd);
        struct run r = { .args = ARGS("pub", "-f", path, "-t", "t"), .script = script_ok };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "PUB t 8\na\0b\nc\r\n\0\n");
        run_done(&r);

        /* Unreadable: a usage error, before any connection. */
        snprintf(path, sizeof(path), "%s/none", dir);
        struct run r2 = { .args = ARGS("pub", "-t", "t", "-f", path), .script = script_ok };
        run(&r2);
        assert_int_equal(r2.status, 2);
        assert_int_equal(r2.received_len, 0);
        assert_contains(r2.err, "No such file");
        run_done(&r2);
}

static void test_pub_stdin(void **state) {
        static const char in[] = "line1\nline2\n\0x";
        for (int file = 0; file < 2; file++) {
                struct run r = { .args = ARGS("pub", "-t", "t", "-s"),
                                 .input = in,
                                 .input_len = sizeof(in) - 1,
                                 .input_file = file,
                                 .script = script_ok };
                run(&r);
                assert_int_equal(r.status, 0);
                assert_received_str(&r, "PUB t 14\nline1\nline2\n\0x\n");
                run_done(&r);
        }
        /* Empty stdin: one empty message. */
        struct run r = { .args = ARGS("pub", "-t", "t", "-s"), .script = script_ok };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "PUB t 0\n\n");
        run_done(&r);
}

static void test_pub_lines(void **state) {
        static const char in[] = "one\n\nthree";
        for (int file = 0; file < 2; file++) {
                struct run r = { .args = ARGS("pub", "-l", "-t", "t"),
                                 .input = in,
                                 .input_len = sizeof(in) - 1,
                                 .input_file = file,
                                 .script = script_ok };
                run(&r);
                assert_int_equal(r.status, 0);
                assert_int_equal(r.n_cmds, 3);
                assert_received_str(&r, "PUB t 3\none\nPUB t 0\n\nPUB t 5\nthree\n");
                run_done(&r);
        }
}

/* Counts the replies, and checks that the window is kept: never more than
 * 1000 commands unanswered. The answers go out in batches, as the CLI
 * cannot send more than its window anyway. */
static void script_window(struct run *r, const struct mql_ipc_frame *cmd) {
        size_t *answered = r->data;
        assert_int_equal(cmd->kind, MQL_IPC_PUB);
        assert_true(r->n_cmds - *answered <= 1000);
        if (r->n_cmds % 100 == 0 || r->n_cmds == 5000) {
                static char replies[100 * 4 + 1];
                size_t k = r->n_cmds - *answered;
                for (size_t i = 0; i < k; i++)
                        memcpy(replies + 4 * i, "+OK\n", 4);
                say(r, replies, 4 * k);
                *answered += k;
        }
}

static void test_pub_lines_many(void **state) {
        /* 5000 lines from a regular file: the CLI may read it all at once,
         * but keeps at most 1000 commands in flight. */
        size_t len = 5000 * 5;
        char *in = malloc(len + 1);
        size_t answered = 0;
        for (int i = 0; i < 5000; i++)
                snprintf(in + 5 * i, 6, "%04d\n", i);
        struct run r = { .args = ARGS("pub", "-t", "t", "-l"),
                         .input = in,
                         .input_len = len,
                         .input_file = true,
                         .script = script_window,
                         .data = &answered };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.n_cmds, 5000);
        assert_int_equal(answered, 5000);
        assert_true(memcmp(r.received + r.received_len - 13, "PUB t 4\n4999\n", 13) == 0);
        run_done(&r);
        free(in);
}

static void test_pub_null_and_options(void **state) {
        struct run r = { .args = ARGS("pub", "-n", "-t", "t"), .script = script_ok };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "PUB t 0\n\n");
        run_done(&r);

        struct run r2 = { .args = ARGS("pub", "-t", "t", "-m", "m", "-q", "1", "-r", "-b", "x"),
                          .script = script_ok };
        run(&r2);
        assert_int_equal(r2.status, 0);
        assert_received_str(&r2, "PUB t 1 broker=x qos=1 retain=1\nm\n");
        run_done(&r2);
}

static void test_pub_properties(void **state) {
        struct run r = {
                .args = ARGS("pub", "-t", "t", "-m", "{}", "-D", "publish", "content-type",
                             "application/json", "-D", "PUBLISH", "correlation-data", "id 1", "-D",
                             "publish", "message-expiry-interval", "60", "-D", "publish",
                             "payload-format-indicator", "1", "-D", "publish", "response-topic",
                             "re/me", "-D", "publish", "user-property", "k=1", "a b", "-D",
                             "publish", "user-property", "k", ""),
                .script = script_ok,
        };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "PUB t 2 expiry=60 ctype=application/json rtopic=re/me "
                                "corr=69642031 fmt=1 u.k%3D1=a%20b u.k=\n{}\n");
        run_done(&r);
}

static void script_refuse(struct run *r, const struct mql_ipc_frame *cmd) {
        says(r, "-ERR no-broker no broker named%20x\n");
}

static void test_pub_refused(void **state) {
        struct run r = { .args = ARGS("pub", "-t", "a/b", "-m", "x", "-b", "x"),
                         .script = script_refuse };
        run(&r);
        assert_int_equal(r.status, 1);
        assert_string_equal(r.err, "mqlink: a/b: refused: no-broker no broker named x\n");
        run_done(&r);

        /* -l goes on after a refusal, and exits 1 at the end. */
        struct run r2 = { .args = ARGS("pub", "-t", "a/b", "-l"),
                          .input = "1\n2\n",
                          .input_len = 4,
                          .script = script_refuse };
        run(&r2);
        assert_int_equal(r2.status, 1);
        assert_int_equal(r2.n_cmds, 2);
        run_done(&r2);
}

static void test_pub_usage(void **state) {
        const char *const *cases[] = {
                ARGS("pub", "-m", "x"),
                ARGS("pub", "-t", "t"),
                ARGS("pub", "-t", "t", "-m", "x", "-n"),
                ARGS("pub", "-t", "t", "-n", "-q", "3"),
                ARGS("pub", "-t", "a/#", "-n"),
                ARGS("pub", "-t", "t", "-n", "extra"),
                ARGS("pub", "-t", "t", "-n", "-D", "publish", "no-such", "x"),
                ARGS("pub", "-t", "t", "-n", "-D", "connect", "content-type", "x"),
                ARGS("pub", "-t", "t", "-n", "-D", "publish", "user-property", "k"),
                ARGS("pub", "-t", "t", "-n", "-D", "publish", "message-expiry-interval", "-1"),
                ARGS("pub", "-t", "t", "-n", "-D", "publish", "content-type", "a", "-D", "publish",
                     "content-type", "b"),
                ARGS("pub", "-t", "t", "-n", "--bogus"),
                ARGS("frobnicate"),
                ARGS("sub"),
                ARGS("sub", "-t", "a/#/b"),
                ARGS("sub", "-t", "a", "-F", "xml"),
                ARGS("sub", "-t", "a", "-C", "0"),
                ARGS("sub", "-t", "a", "--rh", "3"),
                ARGS("status", "now"),
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct run r = { .args = cases[i], .script = script_ok };
                run(&r);
                assert_int_equal(r.status, 2);
                assert_int_equal(r.received_len, 0);
                assert_contains(r.err, "Try 'mqlink");
                run_done(&r);
        }
}

static void test_no_daemon(void **state) {
        struct run r = { .args = ARGS("pub", "-t", "t", "-m", "x"), .no_daemon = true };
        run(&r);
        assert_int_equal(r.status, 3);
        assert_contains(r.err, sock_path);
        assert_contains(r.err, "No such file or directory");
        assert_contains(r.err, "is mqlinkd running?");
        run_done(&r);
}

static void script_hang_up(struct run *r, const struct mql_ipc_frame *cmd) {
        hang_up(r);
}

static void test_daemon_closes(void **state) {
        struct run r = { .args = ARGS("pub", "-t", "t", "-m", "x"), .script = script_hang_up };
        run(&r);
        assert_int_equal(r.status, 4);
        assert_contains(r.err, "mqlink: ");
        run_done(&r);
}

static void script_garbage(struct run *r, const struct mql_ipc_frame *cmd) {
        says(r, "MSG 1 a 1x\n");
}

static void test_daemon_breaks_protocol(void **state) {
        struct run r = { .args = ARGS("ping"), .script = script_garbage };
        run(&r);
        assert_int_equal(r.status, 4);
        assert_contains(r.err, "protocol");
        run_done(&r);
}

/* ---- sub ---- */

/* Acknowledges each SUB; after the last one (data: how many), sends the
 * deliveries in r->data's text. */
struct sub_script {
        size_t subs;
        const char *deliveries;
        size_t deliveries_len;
        int signal;
};

static void script_sub(struct run *r, const struct mql_ipc_frame *cmd) {
        struct sub_script *s = r->data;
        assert_int_equal(cmd->kind, MQL_IPC_SUB);
        says(r, "+OK\n");
        if (r->n_cmds == s->subs) {
                if (s->deliveries)
                        say(r, s->deliveries,
                            s->deliveries_len ? s->deliveries_len : strlen(s->deliveries));
                if (s->signal)
                        kill(r->pid, s->signal);
        }
}

static const char three_msgs[] = "MSG 1 a/x 2\np1\nMSG 1 a/y 2 qos=1\np2\nMSG 1 a/z 2\np3\n";

static void test_sub_count(void **state) {
        struct sub_script s = { .subs = 1, .deliveries = three_msgs };
        struct run r = { .args = ARGS("sub", "-t", "a/#", "-C", "2"),
                         .script = script_sub,
                         .data = &s };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "SUB 1 a/#\n");
        assert_string_equal(r.out, "p1\np2\n");
        assert_string_equal(r.err, "");
        run_done(&r);
}

static void test_sub_drops_bad_message(void **state) {
        /* An option this CLI does not know (a newer daemon): that message
         * is dropped with a warning, the stream goes on. */
        struct sub_script s = { .subs = 1, .deliveries = "MSG 1 a 1 new=1\nx\nMSG 1 b 1\ny\n" };
        struct run r = { .args = ARGS("sub", "-t", "#", "-C", "1"),
                         .script = script_sub,
                         .data = &s };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "y\n");
        assert_contains(r.err, "mqlink: ipc: message dropped");
        run_done(&r);
}

static void test_sub_verbose_and_no_newline(void **state) {
        struct sub_script s = { .subs = 1, .deliveries = three_msgs };
        struct run r = { .args = ARGS("sub", "-t", "a/#", "-C", "2", "-v"),
                         .script = script_sub,
                         .data = &s };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "a/x p1\na/y p2\n");
        run_done(&r);

        struct run r2 = { .args = ARGS("sub", "-t", "a/#", "-C", "3", "-N"),
                          .script = script_sub,
                          .data = &s };
        run(&r2);
        assert_int_equal(r2.status, 0);
        assert_string_equal(r2.out, "p1p2p3");
        run_done(&r2);
}

static void test_sub_options(void **state) {
        struct sub_script s = { .subs = 2, .deliveries = "MSG 2 b 1\nx\n" };
        struct run r = { .args = ARGS("sub", "-t", "a", "-t", "b/+", "-q", "1", "-b", "home",
                                      "--nl", "--rap", "--rh", "2", "-C", "1"),
                         .script = script_sub,
                         .data = &s };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "SUB 1 a broker=home qos=1 nl=1 rap=1 rh=2\n"
                                "SUB 2 b/+ broker=home qos=1 nl=1 rap=1 rh=2\n");
        assert_string_equal(r.out, "x\n");
        run_done(&r);
}

static void test_sub_json(void **state) {
        static const char msgs[] =
                "MSG 1 a/\"q\" 12 broker=home qos=2 retain=1\n"
                "say \"hi\"\\\n\t\x01\n"
                "MSG 1 bin 3 expiry=5 ctype=text/plain rtopic=r/t corr=FF00 fmt=0 u.k=v u.k=w\n"
                "\xff\x00\x80\n";
        struct sub_script s = { .subs = 1, .deliveries = msgs, .deliveries_len = sizeof(msgs) - 1 };
        struct run r = { .args = ARGS("sub", "-t", "#", "-F", "json", "-C", "2"),
                         .script = script_sub,
                         .data = &s };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_string_equal(
                r.out, "{\"topic\":\"a/\\\"q\\\"\",\"payload\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001\","
                       "\"qos\":2,\"retain\":true,\"broker\":\"home\",\"sid\":\"1\"}\n"
                       "{\"topic\":\"bin\",\"payload_base64\":\"/wCA\",\"qos\":0,\"retain\":false,"
                       "\"sid\":\"1\",\"payload_format_indicator\":0,\"message_expiry_interval\":5,"
                       "\"content_type\":\"text/plain\",\"response_topic\":\"r/t\","
                       "\"correlation_data_base64\":\"/wA=\",\"user_properties\":[{\"key\":\"k\","
                       "\"value\":\"v\"},{\"key\":\"k\",\"value\":\"w\"}]}\n");
        run_done(&r);
}

static void test_sub_timeout(void **state) {
        struct sub_script s = { .subs = 1, .deliveries = "MSG 1 a 1\nx\n" };
        struct run r = { .args = ARGS("sub", "-t", "a", "-W", "1", "-C", "2"),
                         .script = script_sub,
                         .data = &s };
        long long t0 = now_ms();
        run(&r);
        assert_int_equal(r.status, 5);
        assert_true(now_ms() - t0 >= 900);
        assert_string_equal(r.out, "x\n");
        assert_contains(r.err, "timed out");
        run_done(&r);
}

static void test_sub_signal(void **state) {
        int sigs[] = { SIGTERM, SIGINT };
        for (size_t i = 0; i < 2; i++) {
                struct sub_script s = { .subs = 1,
                                        .deliveries = "MSG 1 a 1\nx\n",
                                        .signal = sigs[i] };
                struct run r = { .args = ARGS("sub", "-t", "a"), .script = script_sub, .data = &s };
                run(&r);
                assert_int_equal(r.status, 0);
                run_done(&r);
        }
}

static void test_sub_refused_and_lost(void **state) {
        struct run r = { .args = ARGS("sub", "-t", "a"), .script = script_refuse };
        run(&r);
        assert_int_equal(r.status, 1);
        assert_string_equal(r.err, "mqlink: a: refused: no-broker no broker named x\n");
        run_done(&r);

        struct run r2 = { .args = ARGS("sub", "-t", "a"), .script = script_hang_up };
        run(&r2);
        assert_int_equal(r2.status, 4);
        run_done(&r2);
}

/* ---- status, ping ---- */

static void script_status(struct run *r, const struct mql_ipc_frame *cmd) {
        const char *doc = r->data;
        char line[32];
        assert_int_equal(cmd->kind, MQL_IPC_STATUS);
        snprintf(line, sizeof(line), "+OK %zu\n", strlen(doc));
        says(r, line);
        says(r, doc);
        says(r, "\n");
}

static const char status_doc[] =
        "{\"version\":\"0.1.0\",\"pid\":42,\"uptime\":5,\"socket\":\"/run/x.sock\","
        "\"future\":{\"a\":[1,2.5e3,null],\"b\":\"\\ud83d\\ude00\\n\\/\","
        "\"c\":[true,false,-0.5E+2,{},[]]}, \r\n\t"
        "\"brokers\":[{\"name\":\"local\",\"state\":\"connected\","
        "\"uri\":\"mqtt://127.0.0.1:1883\",\"default\":true,\"protocol\":\"5\","
        "\"client_id\":\"x\",\"queued\":0,\"inflight\":1,\"subscriptions\":2,\"connects\":1,"
        "\"published\":10,\"received\":5,\"dropped\":0,\"last_error\":\"\"},"
        "{\"name\":\"cloud\\u00e9\",\"state\":\"waiting\",\"uri\":\"mqtts://example\","
        "\"last_error\":\"Connection refused\"}],"
        "\"clients\":[{\"id\":3,\"pid\":1234},{\"id\":4}]}";

static void test_status_table(void **state) {
        struct run r = { .args = ARGS("status"),
                         .script = script_status,
                         .data = (void *)status_doc };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "STATUS\n");
        assert_string_equal(
                r.out,
                "mqlinkd 0.1.0, pid 42, up 5 s, socket /run/x.sock\n"
                "\n"
                "NAME    STATE      URI                    QUEUED  INFLIGHT  SUBS  PUBLISHED  "
                "RECEIVED\n"
                "local   connected  mqtt://127.0.0.1:1883  0       1         2     10         5\n"
                "cloud\xc3\xa9  waiting    mqtts://example        -       -         -     -        "
                "  -\n"
                "last error of cloud\xc3\xa9: Connection refused\n"
                "\n"
                "local clients: 2\n");
        run_done(&r);

        /* Almost nothing known: dashes. */
        struct run r2 = { .args = ARGS("status"), .script = script_status, .data = "{}" };
        run(&r2);
        assert_int_equal(r2.status, 0);
        assert_string_equal(r2.out,
                            "mqlinkd -, pid -, up - s, socket -\n"
                            "\n"
                            "NAME  STATE  URI  QUEUED  INFLIGHT  SUBS  PUBLISHED  RECEIVED\n"
                            "\n"
                            "local clients: -\n");
        run_done(&r2);
}

static void test_status_json(void **state) {
        struct run r = { .args = ARGS("status", "--json"),
                         .script = script_status,
                         .data = (void *)status_doc };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.out_len, strlen(status_doc) + 1);
        assert_memory_equal(r.out, status_doc, strlen(status_doc));
        assert_int_equal(r.out[r.out_len - 1], '\n');
        run_done(&r);
}

static void test_status_malformed(void **state) {
        const char *docs[] = { "{\"a\":}",
                               "[1,2]",
                               "{\"a\":01}",
                               "{\"a\":\"\\ud800\"}",
                               "{\"a\":1} x",
                               "{\"a\":\"\x01\"}",
                               "{'a':1}",
                               "",
                               "{\"a\":\"\\udc00\\ud800\"}",
                               "{\"a\":\"\\x\"}",
                               "{\"a\":1.}",
                               "{\"a\":\"\xc0\xaf\"}",
                               "{\"a\":tru}",
                               "{\"a\" 1}",
                               "{\"a\":[1,]}" };
        for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                struct run r = { .args = ARGS("status"),
                                 .script = script_status,
                                 .data = (void *)docs[i] };
                run(&r);
                assert_int_equal(r.status, 4);
                assert_contains(r.err, "JSON");
                run_done(&r);
        }
}

static void test_ping(void **state) {
        struct run r = { .args = ARGS("ping"), .script = script_ok };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_received_str(&r, "PING\n");
        assert_contains(r.out, "PONG");
        run_done(&r);
}

static void test_help_and_version(void **state) {
        struct run r = { .args = ARGS("--help"), .no_daemon = true };
        run(&r);
        assert_int_equal(r.status, 0);
        assert_contains(r.out, "Exit status");
        run_done(&r);
        const char *const *cmds[] = { ARGS("pub", "--help"), ARGS("sub", "-h"),
                                      ARGS("status", "--help"), ARGS("ping", "--help") };
        for (size_t i = 0; i < 4; i++) {
                struct run r2 = { .args = cmds[i], .no_daemon = true };
                run(&r2);
                assert_int_equal(r2.status, 0);
                assert_contains(r2.out, "Usage: mqlink");
                run_done(&r2);
        }
        struct run r3 = { .args = ARGS("--version"), .no_daemon = true };
        run(&r3);
        assert_int_equal(r3.status, 0);
        assert_contains(r3.out, "mqlink ");
        run_done(&r3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pub_message),
                cmocka_unit_test(test_pub_file),
                cmocka_unit_test(test_pub_stdin),
                cmocka_unit_test(test_pub_lines),
                cmocka_unit_test(test_pub_lines_many),
                cmocka_unit_test(test_pub_null_and_options),
                cmocka_unit_test(test_pub_properties),
                cmocka_unit_test(test_pub_refused),
                cmocka_unit_test(test_pub_usage),
                cmocka_unit_test(test_no_daemon),
                cmocka_unit_test(test_daemon_closes),
                cmocka_unit_test(test_daemon_breaks_protocol),
                cmocka_unit_test(test_sub_count),
                cmocka_unit_test(test_sub_drops_bad_message),
                cmocka_unit_test(test_sub_verbose_and_no_newline),
                cmocka_unit_test(test_sub_options),
                cmocka_unit_test(test_sub_json),
                cmocka_unit_test(test_sub_timeout),
                cmocka_unit_test(test_sub_signal),
                cmocka_unit_test(test_sub_refused_and_lost),
                cmocka_unit_test(test_status_table),
                cmocka_unit_test(test_status_json),
                cmocka_unit_test(test_status_malformed),
                cmocka_unit_test(test_ping),
                cmocka_unit_test(test_help_and_version),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

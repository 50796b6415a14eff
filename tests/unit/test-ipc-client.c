/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* accept4 */
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mqlink/ipc.h"
#include "mqlink/loop.h"

/*
 * The client against a fake daemon in the same thread: a listener on an
 * abstract Unix socket, the accepted connection non-blocking. The test
 * moves bytes by hand (server_write(), server_read(), pump()), so every
 * interleaving is deterministic.
 */

/* ---- the fake daemon ---- */

struct fake {
        char name[64]; /* "@..." */
        int lfd;
        int fd;
        struct mql_ipc_parser parser;
        char scratch[MQL_IPC_LINE_MAX_DEFAULT];
        uint8_t *in;
        size_t in_len;
        size_t in_cap;
        uint8_t *out;
        size_t out_len;
        size_t out_cap;
        /* Commands seen, and how to answer them. */
        size_t n_cmds;
        size_t n_pub;
        bool auto_reply; /* +OK / PONG / "+OK <n>" for STATUS */
        char last_topic[256];
        char last_payload[256];
        size_t last_payload_len;
};

static void fake_listen(struct fake *f) {
        static unsigned seq;
        memset(f, 0, sizeof(*f));
        f->fd = -1;
        snprintf(f->name, sizeof(f->name), "@mqlink-test-ipc-client-%d-%u", (int)getpid(), seq++);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(f->name);
        memcpy(sa.sun_path, f->name, len);
        sa.sun_path[0] = '\0';
        f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(f->lfd >= 0);
        assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa,
                              (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
                         0);
        assert_int_equal(listen(f->lfd, 16), 0);
        assert_int_equal(mql_ipc_parser_init(&f->parser, 0, 1024 * 1024), 0);
        f->auto_reply = true;
}

static void fake_accept(struct fake *f) {
        f->fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        assert_true(f->fd >= 0);
}

static void fake_close(struct fake *f) {
        if (f->fd >= 0)
                close(f->fd);
        if (f->lfd >= 0)
                close(f->lfd);
        free(f->in);
        free(f->out);
        f->fd = f->lfd = -1;
        f->in = NULL;
        f->out = NULL;
}

/* Queues buf and writes what the socket takes: many small replies written
 * one by one would fill a Unix socket long before its byte count says so
 * (each write is one buffer of its own). flush() writes the rest. */
static void server_flush(struct fake *f) {
        while (f->out_len > 0 && f->fd >= 0) {
                ssize_t n = write(f->fd, f->out, f->out_len);
                if (n < 0 && errno == EAGAIN)
                        return;
                assert_true(n > 0);
                memmove(f->out, f->out + n, f->out_len - (size_t)n);
                f->out_len -= (size_t)n;
        }
}

static void server_write(struct fake *f, const void *buf, size_t len) {
        if (f->out_cap - f->out_len < len) {
                while (f->out_cap - f->out_len < len)
                        f->out_cap = f->out_cap ? f->out_cap * 2 : 65536;
                f->out = realloc(f->out, f->out_cap);
                assert_non_null(f->out);
        }
        memcpy(f->out + f->out_len, buf, len);
        f->out_len += len;
        server_flush(f);
}

static void server_puts(struct fake *f, const char *s) {
        server_write(f, s, strlen(s));
}

static void fake_answer(struct fake *f, const struct mql_ipc_frame *cmd) {
        f->n_cmds++;
        assert_null(cmd->error);
        if (cmd->kind == MQL_IPC_PUB) {
                f->n_pub++;
                size_t tl = cmd->topic.len < sizeof(f->last_topic) - 1 ? cmd->topic.len
                                                                       : sizeof(f->last_topic) - 1;
                memcpy(f->last_topic, cmd->topic.ptr, tl);
                f->last_topic[tl] = '\0';
                size_t pl = cmd->payload.len < sizeof(f->last_payload) ? cmd->payload.len
                                                                       : sizeof(f->last_payload);
                memcpy(f->last_payload, cmd->payload.ptr, pl);
                f->last_payload_len = pl;
        }
        if (!f->auto_reply)
                return;
        switch (cmd->kind) {
        case MQL_IPC_PING:
                server_puts(f, "PONG\n");
                break;
        case MQL_IPC_STATUS:
                server_puts(f, "+OK 2\n{}\n");
                break;
        default:
                server_puts(f, "+OK\n");
                break;
        }
}

/* Reads and answers every complete command the socket holds. */
static void server_read(struct fake *f) {
        server_flush(f);
        for (;;) {
                if (f->in_cap - f->in_len < 65536) {
                        f->in_cap = f->in_cap ? f->in_cap * 2 : 131072;
                        f->in = realloc(f->in, f->in_cap);
                        assert_non_null(f->in);
                }
                ssize_t n = read(f->fd, f->in + f->in_len, f->in_cap - f->in_len);
                if (n < 0 && errno == EAGAIN)
                        break;
                assert_true(n >= 0);
                if (n == 0)
                        break;
                f->in_len += (size_t)n;
        }
        size_t off = 0;
        for (;;) {
                struct mql_ipc_frame cmd;
                ssize_t n = mql_ipc_parse_command(&f->parser, f->in + off, f->in_len - off,
                                                  f->scratch, sizeof(f->scratch), &cmd);
                assert_true(n >= 0);
                if (n == 0)
                        break;
                off += (size_t)n;
                if (cmd.kind != MQL_IPC_NONE)
                        fake_answer(f, &cmd);
        }
        memmove(f->in, f->in + off, f->in_len - off);
        f->in_len -= off;
        server_flush(f);
}

/* ---- what the client's callbacks saw ---- */

enum ev_type {
        EV_REPLY,
        EV_MSG,
        EV_CLOSE
};

struct ev {
        enum ev_type type;
        enum mql_ipc_kind kind;
        int error;
        uintptr_t tag;  /* the reply's userdata */
        size_t len;     /* of the payload */
        bool same;      /* the payload equals rec.expect */
        char text[128]; /* ERR code+" "+text, MSG sid+" "+topic+" "+payload, STATUS payload */
};

#define MAX_EVENTS 64

static struct {
        struct ev ev[MAX_EVENTS];
        size_t n;
        size_t replies;     /* all replies, also past MAX_EVENTS */
        uintptr_t next_tag; /* the tag the next reply must carry (pipelining) */
        bool check_order;
        bool order_ok;
        /* Actions run from callbacks. */
        bool free_in_reply;
        bool free_in_msg;
        bool free_in_close;
        bool ping_in_reply;
        const char *expect; /* compared with each payload of its length */
} rec;

static struct mql_ipc_client *client;

static void rec_reset(void) {
        memset(&rec, 0, sizeof(rec));
        rec.order_ok = true;
}

static struct ev *rec_add(enum ev_type type) {
        if (rec.n >= MAX_EVENTS)
                return NULL;
        struct ev *e = &rec.ev[rec.n++];
        memset(e, 0, sizeof(*e));
        e->type = type;
        return e;
}

static void str_cat(char *dst, size_t size, struct mql_ipc_str s) {
        size_t len = strlen(dst);
        size_t n = s.len < size - 1 - len ? s.len : size - 1 - len;
        memcpy(dst + len, s.ptr, n);
        dst[len + n] = '\0';
}

static void on_reply(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                     void *userdata) {
        uintptr_t tag = (uintptr_t)userdata;

        assert_ptr_equal(c, client);
        assert_true((reply == NULL) == (error < 0));
        if (rec.check_order && tag != rec.next_tag)
                rec.order_ok = false;
        rec.next_tag = tag + 1;
        rec.replies++;
        struct ev *e = rec_add(EV_REPLY);
        if (e) {
                e->error = error;
                e->tag = tag;
                if (reply) {
                        e->kind = reply->kind;
                        if (reply->kind == MQL_IPC_ERR) {
                                str_cat(e->text, sizeof(e->text), reply->code);
                                str_cat(e->text, sizeof(e->text), (struct mql_ipc_str){ " ", 1 });
                                str_cat(e->text, sizeof(e->text), reply->text);
                        } else if (reply->has_payload)
                                str_cat(e->text, sizeof(e->text), reply->payload);
                }
        }
        if (rec.ping_in_reply && reply && reply->kind == MQL_IPC_OK) {
                rec.ping_in_reply = false;
                struct mql_ipc_frame ping = { .kind = MQL_IPC_PING };
                assert_int_equal(mql_ipc_client_send(c, &ping, on_reply, (void *)(uintptr_t)99), 0);
        }
        if (rec.free_in_reply) {
                rec.free_in_reply = false;
                assert_null(mql_ipc_client_free(c));
                client = NULL;
        }
}

static void on_message(struct mql_ipc_client *c, const struct mql_ipc_frame *msg, void *userdata) {
        assert_ptr_equal(c, client);
        assert_int_equal(msg->kind, MQL_IPC_MSG);
        struct ev *e = rec_add(EV_MSG);
        if (e) {
                e->kind = msg->kind;
                str_cat(e->text, sizeof(e->text), msg->sid);
                str_cat(e->text, sizeof(e->text), (struct mql_ipc_str){ " ", 1 });
                str_cat(e->text, sizeof(e->text), msg->topic);
                str_cat(e->text, sizeof(e->text), (struct mql_ipc_str){ " ", 1 });
                str_cat(e->text, sizeof(e->text), msg->payload);
                e->len = msg->payload.len;
                e->same = rec.expect && memcmp(msg->payload.ptr, rec.expect, e->len) == 0;
        }
        if (rec.free_in_msg) {
                rec.free_in_msg = false;
                assert_null(mql_ipc_client_free(c));
                client = NULL;
        }
}

static void on_close(struct mql_ipc_client *c, int error, void *userdata) {
        assert_ptr_equal(c, client);
        assert_int_equal(mql_ipc_client_get_fd(c), -1);
        struct ev *e = rec_add(EV_CLOSE);
        if (e)
                e->error = error;
        if (rec.free_in_close) {
                assert_null(mql_ipc_client_free(c));
                client = NULL;
        }
}

/* ---- helpers ---- */

static struct fake fake;

static void connect_client(size_t max_payload, size_t max_output) {
        struct mql_ipc_client_config cfg = {
                .socket_path = fake.name,
                .max_payload = max_payload,
                .max_output = max_output,
                .on_message = on_message,
                .on_close = on_close,
        };
        assert_int_equal(mql_ipc_client_new(&cfg, &client), 0);
        fake_accept(&fake);
}

static int setup(void **state) {
        rec_reset();
        fake_listen(&fake);
        connect_client(0, 0);
        return 0;
}

static int teardown(void **state) {
        client = mql_ipc_client_free(client);
        fake_close(&fake);
        return 0;
}

static void send_kind(enum mql_ipc_kind kind, uintptr_t tag) {
        struct mql_ipc_frame f = { .kind = kind };
        if (kind == MQL_IPC_PUB) {
                f.topic = (struct mql_ipc_str){ "a/b", 3 };
                f.payload = (struct mql_ipc_str){ "x", 1 };
        } else if (kind == MQL_IPC_SUB) {
                f.sid = (struct mql_ipc_str){ "1", 1 };
                f.topic = (struct mql_ipc_str){ "a/#", 3 };
        } else if (kind == MQL_IPC_UNSUB)
                f.sid = (struct mql_ipc_str){ "1", 1 };
        assert_int_equal(mql_ipc_client_send(client, &f, on_reply, (void *)tag), 0);
}

static int process(void) {
        return mql_ipc_client_process(client);
}

/* Moves bytes both ways until the client has no command waiting. */
static void pump(void) {
        for (int i = 0; i < 100000 && client && mql_ipc_client_get_pending(client) > 0; i++) {
                assert_int_equal(process(), 0);
                server_read(&fake);
        }
        if (client)
                assert_int_equal(mql_ipc_client_get_pending(client), 0);
}

static void assert_reply(size_t i, enum mql_ipc_kind kind, uintptr_t tag, const char *text) {
        assert_true(i < rec.n);
        assert_int_equal(rec.ev[i].type, EV_REPLY);
        assert_int_equal(rec.ev[i].error, 0);
        assert_int_equal(rec.ev[i].kind, kind);
        assert_int_equal(rec.ev[i].tag, tag);
        if (text)
                assert_string_equal(rec.ev[i].text, text);
}

static void assert_failed(size_t i, int error, uintptr_t tag) {
        assert_true(i < rec.n);
        assert_int_equal(rec.ev[i].type, EV_REPLY);
        assert_int_equal(rec.ev[i].error, error);
        assert_int_equal(rec.ev[i].tag, tag);
}

static void assert_msg(size_t i, const char *text) {
        assert_true(i < rec.n);
        assert_int_equal(rec.ev[i].type, EV_MSG);
        assert_string_equal(rec.ev[i].text, text);
}

static void assert_close(size_t i, int error) {
        assert_true(i < rec.n);
        assert_int_equal(rec.ev[i].type, EV_CLOSE);
        assert_int_equal(rec.ev[i].error, error);
}

/* ---- tests ---- */

static void test_new_errors(void **state) {
        struct mql_ipc_client *c = NULL;
        struct mql_ipc_client_config cfg = { .socket_path = "" };
        char path[256], dir[] = "/tmp/mqlink-test-XXXXXX";

        assert_int_equal(mql_ipc_client_new(NULL, NULL), -EINVAL);
        assert_int_equal(mql_ipc_client_new(&cfg, &c), -EINVAL);
        cfg.socket_path = "@";
        assert_int_equal(mql_ipc_client_new(&cfg, &c), -EINVAL);
        char long_path[200];
        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = '\0';
        cfg.socket_path = long_path;
        assert_int_equal(mql_ipc_client_new(&cfg, &c), -ENAMETOOLONG);
        cfg = (struct mql_ipc_client_config){ .socket_path = "@x", .max_line = 5 };
        assert_int_equal(mql_ipc_client_new(&cfg, &c), -EINVAL);

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/none.sock", dir);
        cfg = (struct mql_ipc_client_config){ .socket_path = path };
        assert_int_equal(mql_ipc_client_new(&cfg, &c), -ENOENT);

        /* A socket file nobody listens on. */
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dead.sock", dir);
        assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(s);
        cfg.socket_path = sa.sun_path;
        assert_int_equal(mql_ipc_client_new(&cfg, &c), -ECONNREFUSED);
        unlink(sa.sun_path);

        /* A regular file is no socket. */
        snprintf(path, sizeof(path), "%s/file", dir);
        int fd = open(path, O_CREAT | O_WRONLY, 0600);
        assert_true(fd >= 0);
        close(fd);
        cfg.socket_path = path;
        assert_int_equal(mql_ipc_client_new(&cfg, &c), -ECONNREFUSED);
        unlink(path);
        rmdir(dir);
        assert_null(c);
        assert_null(mql_ipc_client_free(NULL));
}

static void test_backlog_full(void **state) {
        struct fake f;
        struct mql_ipc_client *a = NULL, *b = NULL, *c = NULL;
        struct mql_ipc_client_config cfg = { 0 };

        /* A backlog of 0 holds one connection; with none accepted, the next
         * fails at once: there is no pending connect on a Unix socket. */
        fake_listen(&f);
        assert_int_equal(listen(f.lfd, 0), 0);
        cfg.socket_path = f.name;
        assert_int_equal(mql_ipc_client_new(&cfg, &a), 0);
        int r = mql_ipc_client_new(&cfg, &b);
        if (r == 0) /* some kernels hold one more */
                r = mql_ipc_client_new(&cfg, &c);
        assert_int_equal(r, -EAGAIN);
        mql_ipc_client_free(a);
        mql_ipc_client_free(b);
        mql_ipc_client_free(c);
        fake_close(&f);
}

static void test_socket_path_env(void **state) {
        struct fake f;
        struct mql_ipc_client *c = NULL;

        unsetenv(MQL_IPC_SOCKET_ENV);
        assert_string_equal(mql_ipc_client_socket_path(), MQL_IPC_SOCKET_DEFAULT);
        setenv(MQL_IPC_SOCKET_ENV, "", 1);
        assert_string_equal(mql_ipc_client_socket_path(), MQL_IPC_SOCKET_DEFAULT);

        fake_listen(&f);
        setenv(MQL_IPC_SOCKET_ENV, f.name, 1);
        assert_string_equal(mql_ipc_client_socket_path(), f.name);
        assert_int_equal(mql_ipc_client_new(NULL, &c), 0);
        assert_true(mql_ipc_client_get_fd(c) >= 0);
        assert_int_equal(mql_ipc_client_get_events(c), EPOLLIN);
        assert_null(mql_ipc_client_get_userdata(c));
        mql_ipc_client_free(c);
        unsetenv(MQL_IPC_SOCKET_ENV);
        fake_close(&f);
}

static void test_in_order_replies(void **state) {
        fake.auto_reply = false;
        send_kind(MQL_IPC_PING, 1);
        send_kind(MQL_IPC_PUB, 2);
        send_kind(MQL_IPC_SUB, 3);
        send_kind(MQL_IPC_UNSUB, 4);
        assert_int_equal(mql_ipc_client_get_pending(client), 4);
        assert_true(mql_ipc_client_get_output_bytes(client) > 0);
        assert_int_equal(mql_ipc_client_get_events(client), EPOLLIN | EPOLLOUT);
        assert_int_equal(process(), 0);
        assert_int_equal(mql_ipc_client_get_output_bytes(client), 0);
        assert_int_equal(mql_ipc_client_get_events(client), EPOLLIN);
        server_read(&fake);
        assert_int_equal(fake.n_cmds, 4);
        assert_string_equal(fake.last_topic, "a/b");

        server_puts(&fake, "PONG\n+OK\n");
        assert_int_equal(process(), 0);
        assert_int_equal(rec.n, 2);
        assert_int_equal(mql_ipc_client_get_pending(client), 2);
        server_puts(&fake, "+OK\n-ERR not-subscribed no such subscription\n");
        assert_int_equal(process(), 0);
        assert_int_equal(rec.n, 4);
        assert_reply(0, MQL_IPC_PONG, 1, "");
        assert_reply(1, MQL_IPC_OK, 2, "");
        assert_reply(2, MQL_IPC_OK, 3, "");
        assert_reply(3, MQL_IPC_ERR, 4, "not-subscribed no such subscription");
        assert_int_equal(mql_ipc_client_get_pending(client), 0);
        /* Nothing more to read: still fine. */
        assert_int_equal(process(), 0);
}

static void test_msg_between_replies(void **state) {
        fake.auto_reply = false;
        send_kind(MQL_IPC_SUB, 1);
        send_kind(MQL_IPC_PUB, 2);
        assert_int_equal(process(), 0);
        server_puts(&fake, "MSG 1 a/x 3 broker=home\nabc\n+OK\n"
                           "MSG 1 a/y 0\n\n\n"
                           "MSG 1 a%20b 4 qos=1 retain=1\nx\ny\n\n+OK\nMSG 1 z 1\nz\n");
        assert_int_equal(process(), 0);
        assert_int_equal(rec.n, 6);
        assert_msg(0, "1 a/x abc");
        assert_reply(1, MQL_IPC_OK, 1, "");
        assert_msg(2, "1 a/y ");
        assert_msg(3, "1 a b x\ny\n");
        assert_reply(4, MQL_IPC_OK, 2, "");
        /* A delivery while nothing waits. */
        assert_msg(5, "1 z z");
}

static void test_status_payload(void **state) {
        const char doc[] = "{\"version\":\"0.1.0\",\n\"brokers\":[]}";
        char line[64];

        fake.auto_reply = false;
        send_kind(MQL_IPC_STATUS, 7);
        assert_int_equal(process(), 0);
        server_read(&fake);
        assert_int_equal(fake.n_cmds, 1);
        snprintf(line, sizeof(line), "+OK %zu\n", sizeof(doc) - 1);
        server_puts(&fake, line);
        server_write(&fake, doc, sizeof(doc) - 1);
        server_puts(&fake, "\r\n");
        assert_int_equal(process(), 0);
        assert_reply(0, MQL_IPC_OK, 7, doc);
}

static void test_pipelining_10k(void **state) {
        enum {
                N = 10000
        };

        rec.check_order = true;
        for (uintptr_t i = 0; i < N; i++) {
                struct mql_ipc_frame f = {
                        .kind = MQL_IPC_PUB,
                        .topic = { "bulk/topic", 10 },
                        .payload = { "0123456789", 1 + i % 10 },
                        .qos = (uint8_t)(i % 3),
                };
                assert_int_equal(mql_ipc_client_send(client, &f, on_reply, (void *)i), 0);
        }
        assert_int_equal(mql_ipc_client_get_pending(client), N);
        pump();
        assert_int_equal(fake.n_pub, N);
        assert_int_equal(rec.replies, N);
        assert_true(rec.order_ok);
        assert_int_equal(rec.next_tag, N);
        assert_string_equal(fake.last_topic, "bulk/topic");
        assert_int_equal(fake.last_payload_len, 10);
}

static void test_err_reply(void **state) {
        fake.auto_reply = false;
        send_kind(MQL_IPC_PUB, 1);
        send_kind(MQL_IPC_PUB, 2);
        assert_int_equal(process(), 0);
        server_read(&fake);
        server_puts(&fake, "-ERR no-broker no broker named%20x\n-ERR queue-full\n");
        assert_int_equal(process(), 0);
        assert_reply(0, MQL_IPC_ERR, 1, "no-broker no broker named x");
        assert_reply(1, MQL_IPC_ERR, 2, "queue-full ");
        /* The connection goes on. */
        send_kind(MQL_IPC_PING, 3);
        fake.auto_reply = true;
        pump();
        assert_reply(2, MQL_IPC_PONG, 3, "");
}

static void test_byte_at_a_time(void **state) {
        const char stream[] = "MSG s1 t/1 5 broker=b qos=2\nhe\nlo\n+OK\n"
                              "-ERR bad-topic invalid\r\nPONG\n+OK 3\nabc\nMSG s2 t/2 0\n\n";

        fake.auto_reply = false;
        send_kind(MQL_IPC_PUB, 1);
        send_kind(MQL_IPC_PUB, 2);
        send_kind(MQL_IPC_PING, 3);
        send_kind(MQL_IPC_STATUS, 4);
        assert_int_equal(process(), 0);
        for (size_t i = 0; i < sizeof(stream) - 1; i++) {
                server_write(&fake, stream + i, 1);
                assert_int_equal(process(), 0);
        }
        assert_int_equal(rec.n, 6);
        assert_msg(0, "s1 t/1 he\nlo");
        assert_reply(1, MQL_IPC_OK, 1, "");
        assert_reply(2, MQL_IPC_ERR, 2, "bad-topic invalid");
        assert_reply(3, MQL_IPC_PONG, 3, "");
        assert_reply(4, MQL_IPC_OK, 4, "abc");
        assert_msg(5, "s2 t/2 ");
}

static void test_peer_closes_mid_payload(void **state) {
        fake.auto_reply = false;
        send_kind(MQL_IPC_PUB, 1);
        send_kind(MQL_IPC_PUB, 2);
        send_kind(MQL_IPC_PING, 3);
        assert_int_equal(process(), 0);
        /* Read first: closing with unread data would be a reset. */
        server_read(&fake);
        server_puts(&fake, "+OK\nMSG 1 a 10\nabc");
        close(fake.fd);
        fake.fd = -1;
        assert_int_equal(process(), -EPIPE);
        assert_int_equal(rec.n, 4);
        assert_reply(0, MQL_IPC_OK, 1, "");
        assert_failed(1, -EPIPE, 2);
        assert_failed(2, -EPIPE, 3);
        assert_close(3, -EPIPE);
        assert_int_equal(mql_ipc_client_get_fd(client), -1);
        assert_int_equal(mql_ipc_client_get_events(client), 0);
        assert_int_equal(mql_ipc_client_get_pending(client), 0);
        /* Once: later calls only say it is over. */
        assert_int_equal(process(), -ENOTCONN);
        assert_int_equal(rec.n, 4);
        struct mql_ipc_frame ping = { .kind = MQL_IPC_PING };
        assert_int_equal(mql_ipc_client_send(client, &ping, NULL, NULL), -ENOTCONN);
        struct mql_loop *loop;
        assert_int_equal(mql_loop_new(&loop), 0);
        assert_int_equal(mql_ipc_client_attach_loop(client, loop), -ENOTCONN);
        mql_loop_free(loop);
}

static void test_peer_stops_reading(void **state) {
        /* Writing to a peer that shut its read side gives EPIPE: with
         * MSG_NOSIGNAL an error, not a SIGPIPE that kills the test. */
        assert_int_equal(shutdown(fake.fd, SHUT_RD), 0);
        send_kind(MQL_IPC_PUB, 1);
        assert_int_equal(process(), -EPIPE);
        assert_failed(0, -EPIPE, 1);
        assert_close(1, -EPIPE);
}

static void test_enobufs(void **state) {
        struct mql_ipc_frame f = { .kind = MQL_IPC_PUB, .topic = { "t", 1 } };

        client = mql_ipc_client_free(client);
        close(fake.fd);
        connect_client(0, 100);
        /* "PUB t 40\n" + 40 + "\n": 50 bytes; two fit, a third does not. */
        f.payload = (struct mql_ipc_str){ "0123456789012345678901234567890123456789", 40 };
        assert_int_equal(mql_ipc_client_send(client, &f, on_reply, (void *)0), 0);
        assert_int_equal(mql_ipc_client_send(client, &f, on_reply, (void *)1), 0);
        assert_int_equal(mql_ipc_client_get_output_bytes(client), 100);
        assert_int_equal(mql_ipc_client_send(client, &f, on_reply, (void *)2), -ENOBUFS);
        assert_int_equal(mql_ipc_client_get_pending(client), 2);
        assert_int_equal(mql_ipc_client_get_output_bytes(client), 100);
        /* Written out: room again. */
        assert_int_equal(process(), 0);
        assert_int_equal(mql_ipc_client_get_output_bytes(client), 0);
        assert_int_equal(mql_ipc_client_send(client, &f, on_reply, (void *)2), 0);
        /* Larger than max_output: never. */
        char big[200] = { 0 };
        f.payload = (struct mql_ipc_str){ big, sizeof(big) };
        assert_int_equal(mql_ipc_client_send(client, &f, on_reply, (void *)3), -ENOBUFS);
        rec.check_order = true;
        pump();
        assert_int_equal(rec.replies, 3);
        assert_true(rec.order_ok);
}

static void test_bad_frames(void **state) {
        struct mql_ipc_frame f = { .kind = MQL_IPC_OK };

        assert_int_equal(mql_ipc_client_send(client, NULL, NULL, NULL), -EINVAL);
        assert_int_equal(mql_ipc_client_send(NULL, &f, NULL, NULL), -EINVAL);
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f.kind = MQL_IPC_MSG;
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f.kind = MQL_IPC_NONE;
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f = (struct mql_ipc_frame){ .kind = MQL_IPC_PUB, .topic = { "a/+", 3 } };
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f.topic = (struct mql_ipc_str){ NULL, 0 };
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f = (struct mql_ipc_frame){ .kind = MQL_IPC_PUB, .topic = { "a", 1 }, .qos = 3 };
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f = (struct mql_ipc_frame){ .kind = MQL_IPC_SUB, .sid = { "a b", 3 }, .topic = { "#", 1 } };
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f.sid = (struct mql_ipc_str){ "1", 1 };
        f.topic = (struct mql_ipc_str){ "a/#/b", 5 };
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        f = (struct mql_ipc_frame){ .kind = MQL_IPC_UNSUB };
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), -EINVAL);
        assert_int_equal(mql_ipc_client_get_pending(client), 0);
        assert_int_equal(mql_ipc_client_get_output_bytes(client), 0);

        /* A NULL callback: the reply is still awaited, then dropped. */
        f = (struct mql_ipc_frame){ .kind = MQL_IPC_PING };
        assert_int_equal(mql_ipc_client_send(client, &f, NULL, NULL), 0);
        assert_int_equal(mql_ipc_client_get_pending(client), 1);
        pump();
        assert_int_equal(rec.n, 0);
}

/* The daemon breaking the protocol closes with the error of the kind. */
static void protocol_error(const char *stream, enum mql_ipc_kind cmd, int want) {
        rec_reset();
        fake_listen(&fake);
        connect_client(0, 0);
        fake.auto_reply = false;
        if (cmd != MQL_IPC_NONE)
                send_kind(cmd, 1);
        assert_int_equal(process(), 0);
        server_puts(&fake, stream);
        assert_int_equal(process(), want);
        size_t i = 0;
        if (cmd != MQL_IPC_NONE)
                assert_failed(i++, want, 1);
        assert_close(i, want);
        teardown(NULL);
}

static void test_protocol_errors(void **state) {
        teardown(NULL);
        protocol_error("+OK\n", MQL_IPC_NONE, -EPROTO);
        protocol_error("PONG\n", MQL_IPC_NONE, -EPROTO);
        protocol_error("PONG\n", MQL_IPC_PUB, -EPROTO);
        protocol_error("+OK\n", MQL_IPC_PING, -EPROTO);
        protocol_error("HELLO\n", MQL_IPC_PUB, -EPROTO);
        protocol_error("-ERR\n", MQL_IPC_PUB, -EPROTO);
        protocol_error("MSG 1 a x\n", MQL_IPC_PUB, -EBADMSG);
        protocol_error("MSG 1 a 1\nxy\n", MQL_IPC_PUB, -EBADMSG);
        protocol_error("+OK 2\nabc\n", MQL_IPC_STATUS, -EBADMSG);
        char longline[MQL_IPC_LINE_MAX_DEFAULT + 10];
        memset(longline, 'x', sizeof(longline) - 1);
        longline[sizeof(longline) - 1] = '\0';
        protocol_error(longline, MQL_IPC_PING, -EMSGSIZE);
        setup(NULL);
}

static void test_too_large(void **state) {
        char big[100];

        client = mql_ipc_client_free(client);
        close(fake.fd);
        connect_client(16, 0);
        fake.auto_reply = false;
        memset(big, 'x', sizeof(big));
        send_kind(MQL_IPC_STATUS, 1);
        send_kind(MQL_IPC_PING, 2);
        assert_int_equal(process(), 0);
        /* A MSG and a STATUS answer over max_payload: dropped, in step. */
        server_puts(&fake, "MSG 1 a 100\n");
        server_write(&fake, big, sizeof(big));
        server_puts(&fake, "\nMSG 1 b 2\nok\n+OK 100\n");
        server_write(&fake, big, sizeof(big));
        server_puts(&fake, "\nPONG\n");
        assert_int_equal(process(), 0);
        assert_int_equal(rec.n, 3);
        assert_msg(0, "1 b ok");
        assert_failed(1, -EMSGSIZE, 1);
        assert_reply(2, MQL_IPC_PONG, 2, "");
}

static void test_large_payload(void **state) {
        enum {
                SIZE = 3 * 1024 * 1024 + 7
        };
        char line[64];
        char *big = malloc(SIZE);

        assert_non_null(big);
        for (size_t i = 0; i < SIZE; i++)
                big[i] = (char)('a' + i % 26);
        snprintf(line, sizeof(line), "MSG big t %d\n", SIZE);
        server_puts(&fake, line);
        server_write(&fake, big, SIZE);
        server_puts(&fake, "\nMSG 1 small 2\nok\n");
        rec.expect = big;
        for (int i = 0; i < 10000 && rec.n < 2; i++) {
                assert_int_equal(process(), 0);
                server_flush(&fake);
        }
        assert_int_equal(rec.n, 2);
        rec.expect = NULL;
        assert_int_equal(rec.ev[0].len, SIZE);
        assert_true(rec.ev[0].same);
        assert_msg(1, "1 small ok");
        free(big);
}

static void test_send_from_callback(void **state) {
        rec.ping_in_reply = true;
        send_kind(MQL_IPC_PUB, 1);
        pump();
        assert_int_equal(rec.n, 2);
        assert_reply(0, MQL_IPC_OK, 1, "");
        assert_reply(1, MQL_IPC_PONG, 99, "");
}

static void test_free_from_reply(void **state) {
        fake.auto_reply = false;
        send_kind(MQL_IPC_PUB, 1);
        send_kind(MQL_IPC_PUB, 2);
        assert_int_equal(process(), 0);
        rec.free_in_reply = true;
        server_puts(&fake, "+OK\nMSG 1 a 1\nx\n+OK\n");
        struct mql_ipc_client *c = client;
        assert_int_equal(mql_ipc_client_process(c), 0);
        assert_null(client);
        /* Neither the MSG nor the second reply, nor on_close. */
        assert_int_equal(rec.n, 1);
        assert_reply(0, MQL_IPC_OK, 1, "");
}

static void test_free_from_message(void **state) {
        send_kind(MQL_IPC_PUB, 1);
        assert_int_equal(process(), 0);
        rec.free_in_msg = true;
        server_puts(&fake, "MSG 1 a 1\nx\nMSG 1 a 1\ny\n");
        assert_int_equal(mql_ipc_client_process(client), 0);
        assert_null(client);
        assert_int_equal(rec.n, 1);
        assert_msg(0, "1 a x");
}

static void test_free_from_close(void **state) {
        rec.free_in_close = true;
        send_kind(MQL_IPC_PUB, 1);
        close(fake.fd);
        fake.fd = -1;
        assert_int_equal(mql_ipc_client_process(client), -EPIPE);
        assert_null(client);
        assert_int_equal(rec.n, 2);
        assert_failed(0, -EPIPE, 1);
        assert_close(1, -EPIPE);
}

/* ---- on an mql_loop, the fake daemon on the same loop ---- */

static int server_io(struct mql_loop_source *src, int fd, uint32_t revents, void *userdata) {
        if (revents & (EPOLLHUP | EPOLLERR)) {
                mql_loop_source_free(src);
                return 0;
        }
        server_read(&fake);
        /* Replies the socket did not take wait for EPOLLOUT. */
        assert_int_equal(
                mql_loop_source_set_io_events(src, fake.out_len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN),
                0);
        return 0;
}

static int on_deadline(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        fail_msg("the loop test took too long");
        return -ETIMEDOUT;
}

static struct mql_loop *test_loop;

static void loop_done(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                      void *userdata) {
        on_reply(c, reply, error, userdata);
        if (mql_ipc_client_get_pending(c) == 0)
                mql_loop_exit(test_loop, 42);
}

static void test_attach_loop(void **state) {
        struct mql_loop_source *srv, *deadline;

        assert_int_equal(mql_loop_new(&test_loop), 0);
        assert_int_equal(mql_loop_add_io(test_loop, &srv, fake.fd, EPOLLIN, server_io, NULL), 0);
        assert_int_equal(mql_loop_add_time(test_loop, &deadline,
                                           mql_loop_now(test_loop) + 10u * 1000000u, on_deadline,
                                           NULL),
                         0);
        assert_int_equal(mql_ipc_client_attach_loop(client, test_loop), 0);
        assert_int_equal(mql_ipc_client_attach_loop(client, test_loop), -EBUSY);

        rec.check_order = true;
        for (uintptr_t i = 0; i < 1000; i++) {
                struct mql_ipc_frame f = { .kind = i % 2 ? MQL_IPC_PING : MQL_IPC_STATUS };
                assert_int_equal(mql_ipc_client_send(client, &f, loop_done, (void *)i), 0);
        }
        assert_int_equal(mql_loop_run(test_loop), 42);
        assert_int_equal(rec.replies, 1000);
        assert_true(rec.order_ok);
        assert_reply(0, MQL_IPC_OK, 0, "{}");
        assert_reply(1, MQL_IPC_PONG, 1, "");

        /* The daemon goes away: on_close runs from the loop, which goes on
         * (the end of the connection is no failure of the loop). */
        mql_loop_source_free(srv);
        close(fake.fd);
        fake.fd = -1;
        rec_reset();
        assert_int_equal(mql_loop_run_once(test_loop, 1000000u), 1);
        assert_int_equal(rec.n, 1);
        assert_close(0, -EPIPE);
        /* Its io source is gone: only the deadline is left. */
        mql_ipc_client_detach(client);
        mql_loop_source_free(deadline);
        assert_int_equal(mql_loop_run(test_loop), 0);
        client = mql_ipc_client_free(client);
        test_loop = mql_loop_free(test_loop);
}

static void test_detach_and_free_attached(void **state) {
        assert_int_equal(mql_loop_new(&test_loop), 0);
        assert_int_equal(mql_ipc_client_attach_loop(client, test_loop), 0);
        mql_ipc_client_detach(client);
        mql_ipc_client_detach(client);
        assert_int_equal(mql_ipc_client_attach_loop(client, test_loop), 0);
        /* Freed while attached: its source goes with it. */
        client = mql_ipc_client_free(client);
        assert_int_equal(mql_loop_run(test_loop), 0);
        test_loop = mql_loop_free(test_loop);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_errors),
                cmocka_unit_test(test_backlog_full),
                cmocka_unit_test(test_socket_path_env),
                cmocka_unit_test_setup_teardown(test_in_order_replies, setup, teardown),
                cmocka_unit_test_setup_teardown(test_msg_between_replies, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_payload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pipelining_10k, setup, teardown),
                cmocka_unit_test_setup_teardown(test_err_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_byte_at_a_time, setup, teardown),
                cmocka_unit_test_setup_teardown(test_peer_closes_mid_payload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_peer_stops_reading, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enobufs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_frames, setup, teardown),
                cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
                cmocka_unit_test_setup_teardown(test_large_payload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_send_from_callback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_from_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_from_message, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_from_close, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_loop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detach_and_free_attached, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

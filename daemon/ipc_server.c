/* SPDX-License-Identifier: MIT */

#include "ipc_server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "ipc_conn.h"
#include "json.h"
#include "log.h"
#include "manager.h"
#include "router.h"

#define READ_CHUNK (64u * 1024u)

static const struct config *cfg(const struct ipc_server *s) {
        return manager_config(s->manager);
}

/* ---- replies ----------------------------------------------------------- */

static void reply_free(struct reply *r) {
        free(r->text);
        bytes_done(&r->doc);
        free(r);
}

struct reply *conn_reply_new(struct conn *c) {
        struct reply *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        r->conn = c;
        *c->replies_tail = r;
        c->replies_tail = &r->next;
        c->n_pending++;
        return r;
}

static void format_frame(struct conn *c, const struct mql_ipc_frame *f) {
        ssize_t n = mql_ipc_size(f);
        if (n < 0) {
                log_error_errno((int)n, "client %" PRIu64 ": cannot format a reply", c->id);
                return;
        }
        char *d = bytes_reserve(&c->out, (size_t)n);
        if (!d) {
                conn_close(c, "out of memory");
                return;
        }
        n = mql_ipc_format(f, d, (size_t)n);
        if (n > 0)
                bytes_commit(&c->out, (size_t)n);
}

static void write_reply(struct conn *c, struct reply *r) {
        struct mql_ipc_frame f = { 0 };
        switch (r->kind) {
        case REPLY_OK:
                f.kind = MQL_IPC_OK;
                break;
        case REPLY_PONG:
                f.kind = MQL_IPC_PONG;
                break;
        case REPLY_DOC:
                f.kind = MQL_IPC_OK;
                f.has_payload = true;
                f.payload = (struct mql_ipc_str){ bytes_head(&r->doc), r->doc.len };
                break;
        case REPLY_ERR:
                f.kind = MQL_IPC_ERR;
                f.code = (struct mql_ipc_str){ r->text, r->code_len };
                if (r->text[r->code_len] == ' ')
                        f.text = (struct mql_ipc_str){ r->text + r->code_len + 1,
                                                       strlen(r->text + r->code_len + 1) };
                break;
        }
        format_frame(c, &f);
}

/* Writes the replies at the head of the queue that are complete. */
static void replies_flush(struct conn *c) {
        bool any = false;
        while (c->replies && c->replies->done) {
                struct reply *r = c->replies;
                c->replies = r->next;
                if (!c->replies)
                        c->replies_tail = &c->replies;
                c->n_pending--;
                c->held_bytes -= r->held;
                if (!c->closing)
                        write_reply(c, r);
                reply_free(r);
                any = true;
        }
        if (any)
                conn_schedule_flush(c);
}

static void reply_complete(struct reply *r, enum reply_kind kind) {
        r->kind = kind;
        r->done = true;
        if (!r->conn) {
                reply_free(r); /* orphaned: nobody to tell */
                return;
        }
        struct conn *c = r->conn;
        /* Behind an unanswered command it waits in memory: counted, so that
         * reading pauses before such replies pile up (STATUS documents). */
        if (c->replies != r) {
                r->held = 16 + r->doc.len + (r->text ? strlen(r->text) : 0);
                c->held_bytes += r->held;
        }
        replies_flush(c);
}

void reply_ok(struct reply *r) {
        reply_complete(r, REPLY_OK);
}

void reply_pong(struct reply *r) {
        reply_complete(r, REPLY_PONG);
}

void reply_doc(struct reply *r) {
        reply_complete(r, REPLY_DOC);
}

void reply_err(struct reply *r, const char *code, const char *fmt, ...) {
        char text[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (asprintf(&r->text, "%s %s", code, text) < 0) {
                r->text = NULL;
                if (asprintf(&r->text, "%s", code) < 0)
                        r->text = NULL;
        }
        if (!r->text) {
                reply_complete(r, REPLY_OK); /* cannot say more without memory */
                return;
        }
        r->code_len = strlen(code);
        reply_complete(r, REPLY_ERR);
}

/* ---- connections -------------------------------------------------------- */

struct local_sub **conn_subs(struct conn *c) {
        return &c->subs;
}

size_t *conn_n_subs(struct conn *c) {
        return &c->n_subs;
}

uint64_t conn_id(const struct conn *c) {
        return c->id;
}

static void set_events(struct conn *c, uint32_t events) {
        if (c->events == events || c->closing)
                return;
        c->events = events;
        /* Stays enabled even with no events: epoll still reports a hang-up,
         * so a client that goes away while paused or waiting for a broker
         * frees its slot at once. */
        (void)sd_event_source_set_io_events(c->io, events);
}

static void update_events(struct conn *c) {
        uint32_t ev = 0;
        if (!c->paused && !c->eof)
                ev |= EPOLLIN;
        if (c->out.len > 0)
                ev |= EPOLLOUT;
        set_events(c, ev);
}

void conn_schedule_flush(struct conn *c) {
        if (c->in_flush || c->closing)
                return;
        c->in_flush = true;
        c->flush_next = c->server->flush_list;
        c->server->flush_list = c;
        (void)sd_event_source_set_enabled(c->server->flush, SD_EVENT_ONESHOT);
}

void conn_close(struct conn *c, const char *why) {
        struct ipc_server *s = c->server;
        if (c->closing)
                return;
        log_debug("client %" PRIu64 ": closing: %s", c->id, why);
        c->closing = true;
        (void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
        /* Off the live list now so nothing delivers to it; freed later
         * because the caller may be walking its subscriptions. */
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        c->next = s->dead;
        s->dead = c;
        (void)sd_event_source_set_enabled(s->reap, SD_EVENT_ONESHOT);
}

static void conn_free(struct conn *c) {
        struct ipc_server *s = c->server;
        /* Off the flush list, which reap may run before. */
        if (c->in_flush)
                for (struct conn **pp = &s->flush_list; *pp; pp = &(*pp)->flush_next)
                        if (*pp == c) {
                                *pp = c->flush_next;
                                break;
                        }
        router_conn_gone(c);
        /* Replies still waiting for a broker are orphaned: their callback
         * frees them. */
        while (c->replies) {
                struct reply *r = c->replies;
                c->replies = r->next;
                if (r->done)
                        reply_free(r);
                else
                        r->conn = NULL;
        }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->stall);
        if (c->fd >= 0)
                close(c->fd);
        bytes_done(&c->in);
        bytes_done(&c->out);
        free(c);
}

static int on_reap(sd_event_source *src, void *userdata) {
        struct ipc_server *s = userdata;
        while (s->dead) {
                struct conn *c = s->dead;
                s->dead = c->next;
                conn_free(c);
        }
        manager_kick(s->manager);
        return 0;
}

static int on_stall(sd_event_source *src, uint64_t usec, void *userdata) {
        struct conn *c = userdata;
        /* One-shot: dropped here so that stall_check() can arm it again. */
        c->stall = sd_event_source_disable_unref(c->stall);
        if (c->out.len >= cfg(c->server)->client_output_max) {
                log_notice("client %" PRIu64 " (pid %d): not reading its messages for %u ms "
                           "(%zu bytes queued, %" PRIu64 " dropped): disconnected",
                           c->id, (int)c->cred.pid, cfg(c->server)->client_stall_ms, c->out.len,
                           c->dropped);
                conn_close(c, "stalled");
        }
        return 0;
}

static void stall_check(struct conn *c) {
        size_t max = cfg(c->server)->client_output_max;
        bool full = c->out.len >= max;

        if (full && !c->stall) {
                uint64_t now;
                sd_event_now(manager_event(c->server->manager), CLOCK_MONOTONIC, &now);
                (void)sd_event_add_time(manager_event(c->server->manager), &c->stall,
                                        CLOCK_MONOTONIC,
                                        now + (uint64_t)cfg(c->server)->client_stall_ms * 1000,
                                        0, on_stall, c);
        } else if (!full && c->stall)
                c->stall = sd_event_source_disable_unref(c->stall);
}

static void process_input(struct conn *c);

/* Reading stays paused while too much waits, so memory stays bounded. */
static void check_pause(struct conn *c) {
        bool pause = c->n_pending >= CONN_MAX_PENDING ||
                     c->out.len + c->held_bytes >= cfg(c->server)->client_output_max;
        if (pause == c->paused)
                return;
        c->paused = pause;
        if (!pause && c->in.len > 0)
                process_input(c);
}

/* Moves bytes only: nothing that could run commands or change
 * subscriptions, so it is safe while the router walks them. */
void conn_send_now(struct conn *c) {
        while (c->out.len > 0 && !c->closing) {
                ssize_t n = send(c->fd, bytes_head(&c->out), c->out.len,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                conn_close(c, "write failed");
                        return;
                }
                bytes_consume(&c->out, (size_t)n);
        }
}

static void conn_write(struct conn *c) {
        conn_send_now(c);
        if (c->closing)
                return;
        bytes_trim(&c->out);
        stall_check(c);
        check_pause(c);
        if (c->closing)
                return;
        if (c->eof && c->n_pending == 0 && c->out.len == 0 && c->in.len == 0) {
                conn_close(c, "end of input");
                return;
        }
        update_events(c);
}

static int on_flush(sd_event_source *src, void *userdata) {
        struct ipc_server *s = userdata;
        while (s->flush_list) {
                struct conn *c = s->flush_list;
                s->flush_list = c->flush_next;
                c->in_flush = false;
                if (!c->closing)
                        conn_write(c);
        }
        return 0;
}

/* Parses and handles the commands in data[0..len) until one is incomplete,
 * the connection pauses or closes. Returns the bytes used. */
static size_t handle_bytes(struct conn *c, const char *data, size_t len) {
        struct ipc_server *s = c->server;
        size_t used = 0;

        while (!c->closing && !c->paused && used < len) {
                struct mql_ipc_frame f;
                ssize_t n = mql_ipc_parse_command(&c->parser, data + used, len - used, s->scratch,
                                                  s->scratch_size, &f);
                if (n == 0)
                        break;
                if (n < 0) {
                        /* Framing is lost: say why, then close. */
                        const char *why = n == -EMSGSIZE
                                                  ? "line too long; closing"
                                                  : "bad byte count or payload terminator; closing";
                        struct mql_ipc_frame e = {
                                .kind = MQL_IPC_ERR,
                                .code = { "bad-command", strlen("bad-command") },
                                .text = { why, strlen(why) },
                        };
                        format_frame(c, &e);
                        conn_write(c);
                        conn_close(c, n == -EMSGSIZE ? "line too long" : "framing lost");
                        return len;
                }
                conn_handle(c, &f);
                used += (size_t)n;
                check_pause(c);
        }
        return used;
}

static void process_input(struct conn *c) {
        bytes_consume(&c->in, handle_bytes(c, bytes_head(&c->in), c->in.len));
        /* Most of the time nothing is left over: give the memory back, so
         * that idle connections cost little. */
        if (c->in.len == 0)
                bytes_done(&c->in);
}

/* Reads once. Whole commands are handled straight from the server's read
 * buffer; only an incomplete one is copied into the connection's own. */
static void conn_read(struct conn *c) {
        struct ipc_server *s = c->server;
        bool direct = c->in.len == 0;
        char *d = direct ? s->rbuf : bytes_reserve(&c->in, READ_CHUNK);
        if (!d) {
                conn_close(c, "out of memory");
                return;
        }
        ssize_t n = recv(c->fd, d, READ_CHUNK, MSG_DONTWAIT);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        conn_close(c, "read failed");
                return;
        }
        if (n == 0)
                c->eof = true; /* half close: answer what came, then close */
        else if (direct) {
                size_t used = handle_bytes(c, d, (size_t)n);
                if (!c->closing && used < (size_t)n && bytes_append(&c->in, d + used, (size_t)n - used) < 0)
                        conn_close(c, "out of memory");
        } else {
                bytes_commit(&c->in, (size_t)n);
                process_input(c);
        }
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        struct conn *c = userdata;

        if (revents & EPOLLOUT)
                conn_write(c);
        if (c->closing)
                return 0;
        if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->paused && !c->eof) {
                conn_read(c);
                if (c->closing)
                        return 0;
                /* A command cut short by the close can never complete. */
                if (c->eof && c->in.len > 0 && !c->paused) {
                        conn_close(c, "closed in the middle of a command");
                        return 0;
                }
                conn_schedule_flush(c);
                update_events(c);
        } else if (revents & (EPOLLHUP | EPOLLERR))
                conn_close(c, "hang-up");
        return 0;
}

static int conn_new(struct ipc_server *s, int fd) {
        const struct config *conf = cfg(s);
        struct conn *c = calloc(1, sizeof *c);
        int r;

        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->fd = fd;
        c->id = ++s->next_id;
        c->replies_tail = &c->replies;
        socklen_t len = sizeof c->cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0)
                c->cred = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
        r = mql_ipc_parser_init(&c->parser, conf->max_line, conf->max_payload);
        /* One scratch buffer serves every connection: a parsed command is
         * handled before the next is parsed. A reload may raise max_line. */
        if (r >= 0 && s->scratch_size < c->parser.max_line) {
                char *p = realloc(s->scratch, c->parser.max_line);
                if (p) {
                        s->scratch = p;
                        s->scratch_size = c->parser.max_line;
                } else
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = sd_event_add_io(manager_event(s->manager), &c->io, fd, EPOLLIN, on_conn_io, c);
        if (r < 0) {
                sd_event_source_unref(c->io);
                free(c);
                close(fd);
                return r;
        }
        c->events = EPOLLIN;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        log_debug("client %" PRIu64 ": connected (pid %d, uid %d)", c->id, (int)c->cred.pid,
                  (int)c->cred.uid);
        return 0;
}

/* Out of file descriptors: the connection stays in the backlog and the
 * listener would fire again at once. Stop listening for a while instead. */
#define ACCEPT_BACKOFF_USEC (250u * 1000u)

static int on_accept_resume(sd_event_source *src, uint64_t usec, void *userdata) {
        struct ipc_server *s = userdata;
        s->accept_timer = sd_event_source_disable_unref(s->accept_timer);
        if (s->listen_io)
                (void)sd_event_source_set_enabled(s->listen_io, SD_EVENT_ON);
        return 0;
}

static void accept_backoff(struct ipc_server *s, int err) {
        uint64_t now;
        if (s->accept_timer)
                return;
        log_warning_errno(err, "cannot accept local connections for now");
        (void)sd_event_source_set_enabled(s->listen_io, SD_EVENT_OFF);
        sd_event_now(manager_event(s->manager), CLOCK_MONOTONIC, &now);
        if (sd_event_add_time(manager_event(s->manager), &s->accept_timer, CLOCK_MONOTONIC,
                              now + ACCEPT_BACKOFF_USEC, 0, on_accept_resume, s) < 0)
                (void)sd_event_source_set_enabled(s->listen_io, SD_EVENT_ON);
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        struct ipc_server *s = userdata;

        for (int i = 0; i < 64; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM)
                                accept_backoff(s, errno);
                        return 0;
                }
                if (s->n_conns >= cfg(s)->max_clients || manager_stopping(s->manager)) {
                        static const char busy[] = "-ERR busy too many clients\n";
                        (void)send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                        close(cfd);
                        continue;
                }
                int r = conn_new(s, cfd);
                if (r < 0)
                        log_warning_errno(r, "cannot set up a local connection");
        }
        return 0;
}

/* ---- the listener -------------------------------------------------------- */

int ipc_server_new(struct manager *m, struct ipc_server **ret) {
        struct ipc_server *s = calloc(1, sizeof *s);
        int r;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->fd = -1;
        s->rbuf = malloc(READ_CHUNK);
        if (!s->rbuf) {
                free(s);
                return -ENOMEM;
        }
        r = sd_event_add_defer(manager_event(m), &s->flush, on_flush, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->flush, SD_EVENT_OFF);
        /* The same priority as the brokers and the connections: sd-event
         * then takes pending sources of one priority in turn, so a burst from
         * a broker cannot keep deliveries from going out (lower priority
         * would starve the flush until the burst ends, and buffer all of
         * it). */
        if (r >= 0)
                r = sd_event_add_defer(manager_event(m), &s->reap, on_reap, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->reap, SD_EVENT_OFF);

        if (r < 0) {
                ipc_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

/* A socket file left by a daemon that died: nobody accepts on it. */
static bool socket_alive(const struct sockaddr_un *sa, socklen_t len) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        bool alive = connect(fd, (const struct sockaddr *)sa, len) == 0;
        close(fd);
        return alive;
}

static int bind_path(struct ipc_server *s) {
        const struct config *conf = cfg(s);
        const char *path = conf->socket_path;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (strlen(path) >= sizeof sa.sun_path)
                return log_error_errno(-ENAMETOOLONG, "socket path %s", path);
        strcpy(sa.sun_path, path);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);

        /* The parent directory: systemd's RuntimeDirectory= makes it; by
         * hand, make the last component. */
        char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        log_warning_errno(errno, "cannot create %s", dir);
        }
        free(dir);

        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(-EEXIST, "%s exists and is not a socket", path);
                if (socket_alive(&sa, len))
                        return log_error_errno(-EADDRINUSE, "%s: another daemon listens there",
                                               path);
                (void)unlink(path);
        }
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
                return log_error_errno(errno, "socket");
        /* The mode is set on the file right after bind; a umask that is
         * tight in between keeps others out meanwhile. */
        mode_t old = umask(0177);
        r = bind(s->fd, (struct sockaddr *)&sa, len);
        umask(old);
        if (r < 0)
                return log_error_errno(errno, "cannot bind %s", path);
        s->path = strdup(path);
        if (conf->socket_gid != (gid_t)-1) {
                if (chown(path, (uid_t)-1, conf->socket_gid) < 0)
                        return log_error_errno(errno, "cannot give %s to group %s", path,
                                               conf->socket_group);
        }
        if (chmod(path, conf->socket_mode) < 0)
                return log_error_errno(errno, "cannot chmod %s", path);
        if (listen(s->fd, 256) < 0)
                return log_error_errno(errno, "cannot listen on %s", path);
        return 0;
}

int ipc_server_listen(struct ipc_server *s, int fd) {
        int r;

        if (fd >= 0) {
                /* Ours to close, never to unlink: the socket unit owns the
                 * file. Accepting must not block. */
                s->fd = fd;
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                        return log_error_errno(errno, "cannot make the passed socket non-blocking");
                (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        } else {
                r = bind_path(s);
                if (r < 0)
                        return r;
        }
        r = sd_event_add_io(manager_event(s->manager), &s->listen_io, s->fd, EPOLLIN, on_accept, s);
        if (r < 0)
                return log_error_errno(r, "cannot watch the socket");
        log_info("listening on %s", fd >= 0 ? "the socket systemd passed" : s->path);
        return 0;
}

void ipc_server_stop_listening(struct ipc_server *s) {
        s->listen_io = sd_event_source_disable_unref(s->listen_io);
        s->accept_timer = sd_event_source_disable_unref(s->accept_timer);
}

struct ipc_server *ipc_server_free(struct ipc_server *s) {
        if (!s)
                return NULL;
        while (s->conns)
                conn_close(s->conns, "shutdown");
        while (s->dead) {
                struct conn *c = s->dead;
                s->dead = c->next;
                conn_free(c);
        }
        sd_event_source_disable_unref(s->listen_io);
        sd_event_source_disable_unref(s->accept_timer);
        sd_event_source_disable_unref(s->flush);
        sd_event_source_disable_unref(s->reap);
        if (s->fd >= 0)
                close(s->fd);
        free(s->scratch);
        free(s->rbuf);
        if (s->path) {
                (void)unlink(s->path);
                free(s->path);
        }
        free(s);
        return NULL;
}

size_t ipc_server_n_conns(const struct ipc_server *s) {
        return s->n_conns;
}

int ipc_server_status_json(const struct ipc_server *s, struct bytes *out) {
        int r = bytes_append(out, "[", 1);
        bool first = true;
        for (const struct conn *c = s->conns; c && r >= 0; c = c->next) {
                r = bytes_append(out, first ? "{" : ",{", first ? 1 : 2);
                first = false;
                if (r >= 0)
                        r = json_kv_u64(out, true, "id", c->id);
                if (r >= 0)
                        r = json_kv_u64(out, false, "pid", (uint64_t)c->cred.pid);
                if (r >= 0)
                        r = json_kv_u64(out, false, "uid", (uint64_t)c->cred.uid);
                if (r >= 0)
                        r = json_kv_u64(out, false, "subscriptions", c->n_subs);
                if (r >= 0)
                        r = json_kv_u64(out, false, "pending", c->n_pending);
                if (r >= 0)
                        r = json_kv_u64(out, false, "output_bytes", c->out.len);
                if (r >= 0)
                        r = json_kv_u64(out, false, "published", c->published);
                if (r >= 0)
                        r = json_kv_u64(out, false, "delivered", c->delivered);
                if (r >= 0)
                        r = json_kv_u64(out, false, "dropped", c->dropped);
                if (r >= 0)
                        r = bytes_append(out, "}", 1);
        }
        return r < 0 ? r : bytes_append(out, "]", 1);
}

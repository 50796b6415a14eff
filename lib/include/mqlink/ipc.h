/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The codec of mqlinkd's local Unix-socket text protocol (docs/protocol.md),
 * shared by the daemon and by local C programs. Sans-IO: no allocation, no
 * I/O, no clock.
 *
 * A frame is one "\n"-terminated line ("\r\n" is accepted), followed for PUB,
 * MSG and "+OK <nbytes>" by exactly nbytes of payload and another "\n" (or
 * "\r\n"). Payloads are counted, so they may hold any byte.
 *
 * Parsing works on the caller's buffer. Strings in a parsed frame are views:
 * into the input when the token needed no decoding, into the caller's scratch
 * buffer when it was percent-encoded (and for corr=, decoded from hex). A
 * frame is valid only while both buffers are unchanged.
 *
 * Three kinds of bad input are told apart:
 *   - a bad line whose framing is intact (unknown verb, bad topic, bad
 *     option...): the parser returns the bytes consumed (line and payload)
 *     and sets `error` in the frame to a code word ("bad-option"); the
 *     connection goes on and the daemon answers "-ERR <error> <error_text>";
 *   - lost framing (-EBADMSG): a byte count that is not a plain decimal
 *     number or overflows size_t, or a payload not followed by "\n";
 *   - a line longer than the parser's maximum without "\n" (-EMSGSIZE).
 * After a negative return the stream cannot be resynchronised: close it.
 *
 * Formatting is two-phase like the MQTT codec: mql_ipc_size() tells how many
 * bytes a frame takes, mql_ipc_format() writes them into a caller buffer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default longest line, terminator included. */
#define MQL_IPC_LINE_MAX_DEFAULT 65536u
/* Default largest payload; MQTT cannot carry more than 268,435,455 bytes. */
#define MQL_IPC_PAYLOAD_MAX_DEFAULT (1024u * 1024u)
/* Most u.KEY=VALUE user properties on one PUB or MSG; more is bad-option. */
#define MQL_IPC_USER_PROPS_MAX 32u
/* Longest subscription id. */
#define MQL_IPC_SID_MAX 64u

enum mql_ipc_kind {
        /* Nothing to act on: a blank line, or bytes of an oversized payload
         * being dropped (see mql_ipc_parse_command()). */
        MQL_IPC_NONE = 0,
        /* Client to daemon. */
        MQL_IPC_PUB,
        MQL_IPC_SUB,
        MQL_IPC_UNSUB,
        MQL_IPC_PING,
        MQL_IPC_STATUS,
        /* Daemon to client. */
        MQL_IPC_OK,
        MQL_IPC_ERR,
        MQL_IPC_PONG,
        MQL_IPC_MSG,
};

/* A byte string that need not be NUL-terminated. len 0 means "absent" for
 * every optional field of struct mql_ipc_frame (empty values are refused). */
struct mql_ipc_str {
        const char *ptr;
        size_t len;
};

struct mql_ipc_user_prop {
        struct mql_ipc_str key;   /* non-empty */
        struct mql_ipc_str value; /* may be empty */
};

/*
 * One frame in either direction. Which fields mean something depends on
 * `kind`; the rest are zero after parsing and ignored by the formatter.
 *
 *   PUB     topic, payload, broker, qos, retain, the MQTT 5 fields
 *   MSG     sid, topic, payload, broker, qos, retain, the MQTT 5 fields
 *   SUB     sid, topic (the filter), broker, qos, no_local,
 *           retain_as_published, retain_handling
 *   UNSUB   sid
 *   OK      has_payload, payload (STATUS answers "+OK <nbytes>"); the
 *           parser also sets has_payload for PUB and MSG, where the
 *           formatter ignores it (they always carry a payload)
 *   ERR     code (a word such as "no-broker"), text (may be empty)
 *   PING, PONG, STATUS, NONE: nothing
 *
 * The MQTT 5 fields: has_expiry/expiry, ctype, rtopic, corr (raw bytes; hex
 * on the wire), has_fmt/fmt (0 or 1), user[0..n_user).
 *
 * Defaults, so that a zeroed frame means "nothing given": qos 0, retain,
 * no_local and retain_as_published false, retain_handling 0. The formatter
 * leaves out an option holding its default, and the parser gives the same
 * fields whether "qos=0" was written or not.
 */
struct mql_ipc_frame {
        enum mql_ipc_kind kind;

        /*
         * Set by the parser when the frame was consumed but is bad: a static
         * code word ("bad-command", "bad-topic", "bad-option", "bad-sid",
         * "too-large") and a static human-readable text without control
         * bytes. NULL on a good frame. `kind` still says which verb it was
         * (MQL_IPC_NONE for an unknown one); other fields are unreliable.
         */
        const char *error;
        const char *error_text;

        struct mql_ipc_str sid;
        struct mql_ipc_str topic;
        struct mql_ipc_str payload;
        bool has_payload;
        struct mql_ipc_str broker;
        uint8_t qos;
        bool retain;
        bool no_local;
        bool retain_as_published;
        uint8_t retain_handling;

        bool has_expiry;
        uint32_t expiry;
        struct mql_ipc_str ctype;
        struct mql_ipc_str rtopic;
        struct mql_ipc_str corr;
        bool has_fmt;
        uint8_t fmt;
        size_t n_user;
        struct mql_ipc_user_prop user[MQL_IPC_USER_PROPS_MAX];

        struct mql_ipc_str code;
        struct mql_ipc_str text;
};

/*
 * Parser state: the limits and the state of dropping an oversized payload.
 * Caller-allocated; set up with mql_ipc_parser_init(). The fields starting
 * with an underscore are private.
 */
struct mql_ipc_parser {
        size_t max_line;
        size_t max_payload;
        size_t _skip;
        bool _skip_term;
};

/*
 * Sets up `p`. `max_line` is the longest line accepted, its "\n" included
 * (0 for MQL_IPC_LINE_MAX_DEFAULT); `max_payload` the largest payload
 * accepted (0 for MQL_IPC_PAYLOAD_MAX_DEFAULT; a payload of 0 bytes is always
 * accepted). Returns 0, or -EINVAL when p is NULL, max_line is below 16, or
 * max_line or max_payload is above SIZE_MAX / 4 (so that line + payload sums
 * cannot overflow).
 */
int mql_ipc_parser_init(struct mql_ipc_parser *p, size_t max_line, size_t max_payload);

/*
 * Parses one client-to-daemon frame (PUB, SUB, UNSUB, PING, STATUS) at the
 * start of buf[0..len).
 *
 * `scratch` receives percent-decoded tokens; it must hold at least
 * p->max_line bytes (decoding never grows a token, so that is always
 * enough). Its previous content is overwritten.
 *
 * Returns the bytes consumed (> 0) and fills *ret, 0 when buf does not hold
 * a whole frame yet (call again with more bytes, from the same start), or:
 *   -EBADMSG   lost framing: the byte count of PUB is not 1-20 decimal digits
 *              or overflows size_t, or the payload is not followed by "\n"
 *              or "\r\n"
 *   -EMSGSIZE  no "\n" within the first p->max_line bytes
 *   -EINVAL    scratch_size below p->max_line, or p, scratch or ret NULL
 *              (buf may be NULL only when len is 0)
 * *ret is written only when the return is positive.
 *
 * A payload larger than p->max_payload (with a valid byte count) gives a
 * frame with error "too-large" that consumed only the line, so that the
 * daemon can answer at once without buffering the payload. The parser then
 * drops the payload and its "\n" itself: the next calls consume those bytes
 * as they arrive and return frames of kind MQL_IPC_NONE (or -EBADMSG when the
 * "\n" after them is missing). Keep calling it as usual; framing is kept.
 *
 * A PUB line missing its topic or byte count is taken as a line without a
 * payload (error "bad-command"). Any other bad line with a valid byte count
 * is consumed with its payload before being reported.
 */
ssize_t mql_ipc_parse_command(struct mql_ipc_parser *p, const void *buf, size_t len, char *scratch,
                              size_t scratch_size, struct mql_ipc_frame *ret);

/*
 * Parses one daemon-to-client frame (+OK, +OK <nbytes>, -ERR, PONG, MSG);
 * otherwise exactly like mql_ipc_parse_command(), the byte counts of MSG and
 * "+OK <nbytes>" being the ones whose syntax keeps framing.
 */
ssize_t mql_ipc_parse_reply(struct mql_ipc_parser *p, const void *buf, size_t len, char *scratch,
                            size_t scratch_size, struct mql_ipc_frame *ret);

/*
 * Size in bytes of frame `f` formatted, "\n" terminators and payload
 * included. Topics, option values and user properties are percent-encoded
 * where they hold a space, '%', '=' or a control byte; in an ERR text only
 * '%' and control bytes are. Returns the size, or -EINVAL for a frame that a
 * parser would reject: kind NONE or unknown; a topic failing
 * mql_topic_name_check() (PUB, MSG, rtopic) or mql_topic_filter_check()
 * (SUB); a sid that is empty, longer than MQL_IPC_SID_MAX or holds a space
 * or a control byte; qos or retain_handling above 2; fmt above 1;
 * n_user above MQL_IPC_USER_PROPS_MAX, an empty user key; strings (broker,
 * ctype, user keys and values) that are not well-formed UTF-8 or longer than
 * 65,535 bytes, corr longer than 65,535 bytes; an ERR code that is empty or
 * holds a space or a control byte.
 */
ssize_t mql_ipc_size(const struct mql_ipc_frame *f);

/*
 * Formats `f` into buf[0..cap). Returns the bytes written, -ENOBUFS when cap
 * is below mql_ipc_size(f), or -EINVAL as mql_ipc_size(). Nothing useful is
 * written on error.
 */
ssize_t mql_ipc_format(const struct mql_ipc_frame *f, void *buf, size_t cap);

/* The verb of `kind` as written on the wire ("PUB", "+OK"...), or NULL. */
const char *mql_ipc_kind_str(enum mql_ipc_kind kind);

#ifdef __cplusplus
}
#endif

/*
 * ---------------------------------------------------------------------------
 * mql_ipc_client: a connection to mqlinkd for local C programs.
 *
 * Sends commands (PUB, SUB, UNSUB, PING, STATUS) and hands back each reply
 * to the callback given with its command, and deliveries (MSG) to
 * on_message. Commands may be pipelined: any number can be sent before the
 * first reply; the daemon answers them in order, so replies come in the
 * order the commands were sent.
 *
 * Like mql_client (mqlink/client.h), it owns no loop. A loop watches
 *   mql_ipc_client_get_fd()      the connected socket (-1 once closed)
 *   mql_ipc_client_get_events()  EPOLLIN, and EPOLLOUT while output waits
 * and calls mql_ipc_client_process() when the fd is ready; re-read both
 * after every call into the client (mql_ipc_client_send() queues output
 * without writing it, so that many commands go out in one write). There is
 * no timer. mql_ipc_client_attach_loop() does all that on an mql_loop.
 *
 * Nothing blocks: the socket is non-blocking, and what the daemon cannot
 * take yet waits in the client's output, up to max_output bytes.
 *
 * A client is used from one thread. Callbacks run only inside
 * mql_ipc_client_process(). They may call mql_ipc_client_send() and the
 * getters, and mql_ipc_client_free() (of their own client, too): no callback
 * of that client runs after it, and process() returns without touching the
 * freed client. A process() called from a callback of the same client
 * returns 0 and does nothing (the outer one carries on).
 * ---------------------------------------------------------------------------
 */

#include <mqlink/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where mqlinkd listens unless configured otherwise. */
#define MQL_IPC_SOCKET_DEFAULT "/run/mqlinkd/mqlinkd.sock"
/* The environment variable naming the socket when the config names none. */
#define MQL_IPC_SOCKET_ENV "MQLINK_SOCKET"
/* The client's default max_payload: MQTT's largest payload, since MSG
 * carries what brokers send. */
#define MQL_IPC_CLIENT_PAYLOAD_MAX_DEFAULT 268435455u
/* The client's default max_output. */
#define MQL_IPC_CLIENT_OUTPUT_MAX_DEFAULT (64u * 1024u * 1024u)

struct mql_ipc_client;

/*
 * The answer to one command.
 *   reply != NULL, error == 0: the frame answering it, valid during the call
 *     only: kind MQL_IPC_OK ("+OK"; for STATUS has_payload and payload hold
 *     the document), MQL_IPC_ERR (the command was refused: code and text;
 *     the connection goes on) or MQL_IPC_PONG (for PING).
 *   reply == NULL, error < 0: no answer will come.
 *     -EMSGSIZE  the answer's payload (a STATUS document) was larger than
 *                max_payload and was dropped; the connection goes on
 *     otherwise  the connection ended before the answer; error is the one
 *                on_close receives (see there)
 */
typedef void (*mql_ipc_reply_fn)(struct mql_ipc_client *c, const struct mql_ipc_frame *reply,
                                 int error, void *userdata);
/* A delivery: `msg` (kind MQL_IPC_MSG) is valid during the call only. */
typedef void (*mql_ipc_message_fn)(struct mql_ipc_client *c, const struct mql_ipc_frame *msg,
                                   void *userdata);
/*
 * The connection ended; called once, after the reply callbacks of every
 * command still waiting were called with the same error:
 *   -EPIPE               the daemon closed the connection (also in the
 *                        middle of a frame)
 *   -EBADMSG, -EMSGSIZE  the daemon broke the framing, or sent a line longer
 *                        than max_line (see mql_ipc_parse_reply())
 *   -EPROTO              the daemon sent a reply no command was waiting for,
 *                        a reply of the wrong kind (PONG to anything but
 *                        PING, +OK to PING), or a bad reply or unknown line
 *   -ENOMEM              out of memory while reading
 *   other                the errno of read() or send() (-ECONNRESET...)
 * The fd is closed when it runs (get_fd() returns -1). Not called by
 * mql_ipc_client_free().
 */
typedef void (*mql_ipc_close_fn)(struct mql_ipc_client *c, int error, void *userdata);

struct mql_ipc_client_config {
        /* The daemon's socket: a path, or "@name" for a name in the abstract
         * namespace. NULL: $MQLINK_SOCKET if set and not empty, else
         * MQL_IPC_SOCKET_DEFAULT (see mql_ipc_client_socket_path()). */
        const char *socket_path;
        /* Limits of the reply parser (see mql_ipc_parser_init()). 0: the
         * defaults, MQL_IPC_LINE_MAX_DEFAULT and
         * MQL_IPC_CLIENT_PAYLOAD_MAX_DEFAULT. A MSG with a larger payload is
         * dropped (logged); a larger STATUS answer gives -EMSGSIZE to its
         * reply callback. Input is buffered up to about
         * max_line + max_payload bytes. */
        size_t max_line;
        size_t max_payload;
        /* Most bytes of commands formatted but not yet written; a send()
         * that would go beyond is refused with -ENOBUFS (so a command larger
         * than this can never be sent). 0: MQL_IPC_CLIENT_OUTPUT_MAX_DEFAULT. */
        size_t max_output;
        mql_ipc_message_fn on_message; /* NULL: deliveries are dropped */
        mql_ipc_close_fn on_close;     /* may be NULL */
        void *userdata;                /* handed to on_message and on_close */
};

/*
 * The socket path used for socket_path NULL: $MQLINK_SOCKET when set and not
 * empty (ignored in set-uid programs: secure_getenv()), else
 * MQL_IPC_SOCKET_DEFAULT. The string is the environment's or static; it is
 * valid until the environment changes.
 */
const char *mql_ipc_client_socket_path(void);

/*
 * Connects to the daemon: socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
 * SOCK_CLOEXEC) and connect(), which on a Unix socket completes at once.
 * `cfg` is copied (socket_path is not kept); NULL means all defaults.
 * Returns 0 and the connected client in *ret, or:
 *   -EINVAL        ret NULL, an empty socket path, max_line below 16, or
 *                  max_line or max_payload above SIZE_MAX / 4
 *   -ENAMETOOLONG  the path does not fit in sockaddr_un (107 bytes)
 *   -ENOMEM
 *   the errno of socket() or connect(), among them
 *     -ENOENT        no such socket (is mqlinkd running?)
 *     -ECONNREFUSED  the socket file exists but nobody listens on it
 *     -EACCES        no permission to the socket or a directory above it
 *     -ENOTDIR, -ENOTSOCK, -EPROTOTYPE  the path is not a stream socket
 *     -EAGAIN        the daemon's listen backlog is full. A Unix socket,
 *                    unlike TCP, has no pending connect to wait for: the
 *                    attempt failed, try again a little later.
 */
int mql_ipc_client_new(const struct mql_ipc_client_config *cfg, struct mql_ipc_client **ret);

/*
 * Detaches from any loop, closes the connection, and frees the client,
 * dropping unsent output. Reply callbacks still pending and on_close are NOT
 * called. Allowed from the client's own callbacks (see the top). Accepts
 * NULL; returns NULL.
 */
struct mql_ipc_client *mql_ipc_client_free(struct mql_ipc_client *c);

/* The connected socket, or -1 once the connection has ended. Owned by the
 * client. */
int mql_ipc_client_get_fd(struct mql_ipc_client *c);
/* EPOLLIN, plus EPOLLOUT while output waits; 0 once the connection has
 * ended. */
uint32_t mql_ipc_client_get_events(struct mql_ipc_client *c);

/*
 * Reads what the socket holds (at most 16 reads per call, so that other
 * sources of a loop get their turn: the fd stays readable for the rest),
 * dispatches each complete frame to its callback
 * (replies in command order, MSG to on_message), then writes as much queued
 * output as the socket takes (send() with MSG_NOSIGNAL: a daemon gone never
 * raises SIGPIPE). Call it whenever the fd is ready; calling it when it is
 * not is harmless.
 * Returns 0 while the connection goes on, or the negative errno with which
 * it just ended (the reply callbacks and on_close have run by then; see
 * mql_ipc_close_fn for the values), or -ENOTCONN when it had already ended.
 */
int mql_ipc_client_process(struct mql_ipc_client *c);

/*
 * Queues command `cmd` (kind MQL_IPC_PUB, SUB, UNSUB, PING or STATUS),
 * formatted at once: the frame and its strings need not outlive the call.
 * cb(c, reply, error, userdata) runs once, with the reply or an error
 * (see mql_ipc_reply_fn); cb may be NULL when the answer does not matter
 * (the command still counts in get_pending() until it comes). Nothing is
 * written before the next process(): re-read get_events(). Returns 0, or:
 *   -EINVAL    c or cmd NULL, another kind, or a frame mql_ipc_size()
 *              refuses (a bad topic, sid, option...)
 *   -ENOTCONN  the connection has ended
 *   -ENOBUFS   the output would exceed max_output: wait for it to drain
 *              (get_output_bytes()), or raise max_output
 *   -ENOMEM
 * On error nothing is queued and cb is not called.
 */
int mql_ipc_client_send(struct mql_ipc_client *c, const struct mql_ipc_frame *cmd,
                        mql_ipc_reply_fn cb, void *userdata);

/* Commands sent whose reply has not come yet. */
size_t mql_ipc_client_get_pending(struct mql_ipc_client *c);
/* Bytes of commands formatted and not yet written to the socket. */
size_t mql_ipc_client_get_output_bytes(struct mql_ipc_client *c);
/* The config's userdata. */
void *mql_ipc_client_get_userdata(struct mql_ipc_client *c);

/*
 * Runs the client on an mql_loop: watches its fd with the right events and
 * calls mql_ipc_client_process() when it is ready. The end of the connection
 * does not stop the loop: call mql_loop_exit() from on_close if it should.
 * Returns 0, -EBUSY if already attached, -ENOTCONN if the connection has
 * ended, or an error of mql_loop_add_io() (-ENOMEM...).
 * mql_ipc_client_detach() (or mql_ipc_client_free()) undoes it; detaching a
 * client that is not attached does nothing.
 */
int mql_ipc_client_attach_loop(struct mql_ipc_client *c, struct mql_loop *loop);
void mql_ipc_client_detach(struct mql_ipc_client *c);

#ifdef __cplusplus
}
#endif

/* SPDX-License-Identifier: MIT */

/*
 * mqlink pub: one message (-m, -f, -n, -s) or one per line of stdin (-l).
 * Lines are pipelined, but at most IN_FLIGHT_MAX commands wait for their
 * reply and at most OUTPUT_HIGH bytes for the socket: beyond, stdin is not
 * read until replies come back, so memory stays bounded whatever is piped
 * in. The run ends once every command has its reply.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqlink/topic.h>

#include "cli.h"
#include "input.h"
#include "properties.h"

#define IN_FLIGHT_MAX 1000
#define OUTPUT_HIGH (4u * 1024u * 1024u)

enum mode {
        MODE_NONE,
        MODE_MESSAGE, /* -m */
        MODE_FILE,    /* -f */
        MODE_NULL,    /* -n */
        MODE_STDIN,   /* -s */
        MODE_LINES,   /* -l */
};

struct pub {
        struct cli *cli;
        struct mql_ipc_frame frame; /* the PUB; the payload is set per message */
        const char *topic;
        enum mode mode;
        const char *arg; /* -m's message or -f's file */
        char *file;      /* -f's content, owned */
        size_t file_len;
        struct input in;
        size_t scanned;  /* -l: input bytes known to hold no "\n" */
        bool input_over; /* every message has been sent */
        bool refused;    /* a -ERR came: exit 1 at the end */
};

static void help(void) {
        printf("Usage: mqlink pub -t TOPIC (-m MESSAGE | -f FILE | -s | -l | -n) [OPTIONS]\n"
               "\n"
               "Publishes through mqlinkd. Exits once the daemon has answered every message.\n"
               "\n"
               "  -t, --topic TOPIC       the topic name\n"
               "  -m, --message MESSAGE   send MESSAGE\n"
               "  -f, --file FILE         send the content of FILE (any bytes)\n"
               "  -s, --stdin-file        send all of stdin as one message\n"
               "  -l, --stdin-line        send each line of stdin as a message (without\n"
               "                          its \"\\n\"; an empty line is an empty message)\n"
               "  -n, --null-message      send an empty message\n"
               "  -q, --qos QOS           0, 1 or 2 (default 0)\n"
               "  -r, --retain            retain the message\n"
               "  -b, --broker NAME       the broker (config section) to publish to;\n"
               "                          default: the daemon's default broker\n"
               "  -D, --property publish NAME VALUE\n"
               "                          an MQTT 5 property: content-type,\n"
               "                          correlation-data, message-expiry-interval,\n"
               "                          payload-format-indicator, response-topic,\n"
               "                          user-property KEY VALUE (may repeat)\n"
               "  -S, --socket PATH       the daemon's socket\n"
               "  -h, --help              this help\n"
               "\n"
               "Exit status: 0 sent, 1 refused by the daemon, 2 usage error, 3 cannot\n"
               "connect, 4 connection lost (see 'mqlink --help').\n");
}

static void check_done(struct pub *p) {
        if (p->input_over && mql_ipc_client_get_pending(p->cli->client) == 0)
                cli_finish(p->cli, p->refused ? EXIT_REFUSED : EXIT_OK);
}

static void on_reply(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                     void *userdata);

static bool publish(struct pub *p, const char *payload, size_t len) {
        p->frame.payload = (struct mql_ipc_str){ payload, len };
        int r = mql_ipc_client_send(p->cli->client, &p->frame, on_reply, p);
        if (r < 0) {
                /* -ENOTCONN: on_close has told already. */
                if (r != -ENOTCONN)
                        cli_error("%s: cannot send: %s", p->topic, strerror(-r));
                cli_finish(p->cli, EXIT_LOST);
                return false;
        }
        return true;
}

static bool window_full(struct pub *p) {
        return mql_ipc_client_get_pending(p->cli->client) >= IN_FLIGHT_MAX ||
               mql_ipc_client_get_output_bytes(p->cli->client) >= OUTPUT_HIGH;
}

/* -l: sends the complete lines read so far, as many as the window takes. */
static void send_lines(struct pub *p) {
        struct input *in = &p->in;

        while (!p->cli->done) {
                const char *data = input_data(in);
                size_t size = input_size(in);
                /* p->scanned: where to look for "\n", so that a long line
                 * arriving in many reads is not searched again each time. */
                const char *nl = memchr(data + p->scanned, '\n', size - p->scanned);
                if (!nl) {
                        p->scanned = size;
                        if (in->eof) {
                                /* A last line without "\n" is a line too. */
                                if (size > 0 && !publish(p, data, size))
                                        return;
                                input_consume(in, size);
                                p->scanned = 0;
                                p->input_over = true;
                        }
                        break;
                }
                if (window_full(p)) {
                        p->scanned = (size_t)(nl - data);
                        break;
                }
                if (!publish(p, data, (size_t)(nl - data)))
                        return;
                input_consume(in, (size_t)(nl - data) + 1);
                p->scanned = 0;
        }
        /* Reading on with a full window would only pile lines up here. */
        input_pause(in, window_full(p));
}

static void on_input(struct input *in, void *userdata) {
        struct pub *p = userdata;

        if (in->error) {
                cli_error("cannot read stdin: %s", strerror(-in->error));
                cli_finish(p->cli, EXIT_USAGE);
                return;
        }
        if (p->mode == MODE_LINES)
                send_lines(p);
        else if (in->eof) { /* -s */
                if (publish(p, input_data(in), input_size(in)))
                        p->input_over = true;
        }
        check_done(p);
}

static void on_reply(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                     void *userdata) {
        struct pub *p = userdata;

        if (!cli_reply_ok(p->cli, p->topic, reply, error)) {
                if (!reply)
                        return; /* the run is over */
                p->refused = true;
        }
        if (p->mode == MODE_LINES && !p->input_over)
                send_lines(p);
        check_done(p);
}

static int read_file(struct pub *p) {
        int fd = open(p->arg, O_RDONLY | O_CLOEXEC);
        size_t cap = 0;

        if (fd < 0)
                goto fail;
        for (;;) {
                if (cap - p->file_len < 65536) {
                        cap = cap ? cap * 2 : 65536;
                        char *q = realloc(p->file, cap);
                        if (!q) {
                                errno = ENOMEM;
                                goto fail;
                        }
                        p->file = q;
                }
                ssize_t n = read(fd, p->file + p->file_len, cap - p->file_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        goto fail;
                if (n == 0)
                        break;
                p->file_len += (size_t)n;
        }
        close(fd);
        return 0;
fail:
        cli_error("%s: %s", p->arg, strerror(errno));
        if (fd >= 0)
                close(fd);
        return EXIT_USAGE;
}

static int set_mode(struct pub *p, enum mode mode, const char *arg) {
        if (p->mode != MODE_NONE)
                return cli_usage_error(p->cli, "only one of -m, -f, -s, -l, -n");
        p->mode = mode;
        p->arg = arg;
        return 0;
}

static int option(struct cli *cli, int c, int argc, char **argv) {
        struct pub *p = cli->data;

        switch (c) {
        case 't':
                if (p->topic)
                        return cli_usage_error(cli, "only one -t");
                p->topic = optarg;
                break;
        case 'm':
                return set_mode(p, MODE_MESSAGE, optarg);
        case 'f':
                return set_mode(p, MODE_FILE, optarg);
        case 's':
                return set_mode(p, MODE_STDIN, NULL);
        case 'l':
                return set_mode(p, MODE_LINES, NULL);
        case 'n':
                return set_mode(p, MODE_NULL, NULL);
        case 'q':
                return cli_option_qos(cli, optarg, &p->frame);
        case 'r':
                p->frame.retain = true;
                break;
        case 'b':
                return cli_option_broker(cli, optarg, &p->frame);
        case 'D':
                return pub_property(cli, &p->frame, optarg, argc, argv, &optind);
        }
        return 0;
}

static int parse_args(struct pub *p, int argc, char **argv) {
        static const struct option options[] = {
                { "topic", required_argument, NULL, 't' },
                { "message", required_argument, NULL, 'm' },
                { "file", required_argument, NULL, 'f' },
                { "stdin-file", no_argument, NULL, 's' },
                { "stdin-line", no_argument, NULL, 'l' },
                { "null-message", no_argument, NULL, 'n' },
                { "qos", required_argument, NULL, 'q' },
                { "retain", no_argument, NULL, 'r' },
                { "broker", required_argument, NULL, 'b' },
                { "property", required_argument, NULL, 'D' },
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct cli *cli = p->cli;

        /* "+": no reordering, so that -D can take the words after it. */
        int r = cli_parse(cli, argc, argv, "+t:m:f:slnq:rb:D:S:h", options, help, option);
        if (r != 0)
                return r;
        if (!p->topic)
                return cli_usage_error(cli, "no topic: -t TOPIC");
        if (p->mode == MODE_NONE)
                return cli_usage_error(cli, "no message: one of -m, -f, -s, -l, -n");
        if (mql_topic_name_check(p->topic, strlen(p->topic)) < 0)
                return cli_usage_error(cli, "invalid topic name '%s'", p->topic);
        p->frame.topic = (struct mql_ipc_str){ p->topic, strlen(p->topic) };
        /* What is left to refuse: a broker name or a property value that
         * is not UTF-8, or too long for MQTT. */
        if (mql_ipc_size(&p->frame) < 0)
                return cli_usage_error(cli, "invalid broker name or property value");
        return 0;
}

static int start(struct cli *cli) {
        struct pub *p = cli->data;
        bool ok;

        switch (p->mode) {
        case MODE_MESSAGE:
                ok = publish(p, p->arg, strlen(p->arg));
                break;
        case MODE_FILE:
                ok = publish(p, p->file, p->file_len);
                break;
        case MODE_NULL:
                ok = publish(p, "", 0);
                break;
        default: { /* -s, -l */
                int r = input_start(&p->in, p->cli->loop, on_input, p);
                if (r < 0) {
                        cli_error("cannot read stdin: %s", strerror(-r));
                        return EXIT_USAGE;
                }
                return 0;
        }
        }
        p->input_over = true;
        return ok ? 0 : p->cli->exit_code;
}

/* -s and -l read stdin on the loop: that ends before the loop does. */
static void stop(struct cli *cli) {
        struct pub *p = cli->data;

        input_done(&p->in);
}

int cli_pub(struct cli *cli, int argc, char **argv) {
        /* No limit of the library's: our own window bounds -l, and -f and
         * -s hold their one message in memory anyway. */
        static const struct cli_session session = {
                .max_output = SIZE_MAX,
                .start = start,
                .stop = stop,
        };
        struct pub p = { .cli = cli, .frame = { .kind = MQL_IPC_PUB } };
        int r;

        cli->data = &p;
        r = parse_args(&p, argc, argv);
        if (r != 0)
                return r == CLI_DONE ? EXIT_OK : r;
        if (p.mode == MODE_FILE) {
                r = read_file(&p);
                if (r != 0)
                        return r;
        }
        r = cli_exec(cli, &session);
        free(p.file);
        return r;
}

/* SPDX-License-Identifier: MIT */

/*
 * mqlink sub: subscribes to each -t FILTER (sids "1", "2"...) and prints
 * what arrives, until -C messages, -W seconds, SIGINT/SIGTERM, or the end
 * of the connection.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqlink/topic.h>

#include "cli-json.h"
#include "cli.h"

/* -W: at most about 49 days, so that the timer's µs cannot overflow. */
#define TIMEOUT_MAX 4294967u

struct sub {
        struct cli *cli;
        char **filters; /* into argv */
        size_t n_filters;
        char (*sids)[24];
        struct mql_ipc_frame frame; /* broker, qos, nl, rap, rh: shared by every SUB */
        uint64_t count;             /* -C; 0: no limit */
        uint64_t received;
        uint64_t timeout; /* -W seconds; 0: none */
        bool verbose;
        bool no_newline;
        bool json;
};

static void help(void) {
        printf("Usage: mqlink sub -t FILTER [-t FILTER]... [OPTIONS]\n"
               "\n"
               "Subscribes through mqlinkd and prints each message's payload.\n"
               "\n"
               "  -t, --topic FILTER      a topic filter (+ and # wildcards); may repeat\n"
               "  -q, --qos QOS           0, 1 or 2 (default 0)\n"
               "  -b, --broker NAME       the broker (config section); default: the\n"
               "                          daemon's default broker\n"
               "  -C, --count COUNT       exit after COUNT messages\n"
               "  -v, --verbose           print \"TOPIC PAYLOAD\"\n"
               "  -N                      no \"\\n\" after each message\n"
               "  -F, --format json       one JSON object per line: topic, payload (or\n"
               "                          payload_base64 when not UTF-8), qos, retain,\n"
               "                          broker, sid, and the MQTT 5 properties present\n"
               "  -W, --timeout SECONDS   exit with status 5 if not done within SECONDS\n"
               "      --nl                MQTT 5 No Local\n"
               "      --rap               MQTT 5 Retain As Published\n"
               "      --rh N              MQTT 5 Retain Handling: 0, 1 or 2\n"
               "  -S, --socket PATH       the daemon's socket\n"
               "  -h, --help              this help\n"
               "\n"
               "SIGINT and SIGTERM end it with status 0. Exit status: 0 done, 1 refused\n"
               "by the daemon, 2 usage error, 3 cannot connect, 4 connection lost,\n"
               "5 timeout (see 'mqlink --help').\n");
}

static void print_json_bytes(const char *key, struct mql_ipc_str v) {
        /* Text stays readable; anything else goes as base64 under a key
         * that says so. */
        bool text = utf8_valid(v.ptr, v.len);
        printf(",\"%s%s\":", key, text ? "" : "_base64");
        if (text)
                json_write_string(stdout, v.ptr, v.len);
        else
                json_write_base64(stdout, v.ptr, v.len);
}

static void print_json_str(const char *key, struct mql_ipc_str v) {
        printf(",\"%s\":", key);
        json_write_string(stdout, v.ptr, v.len);
}

static void print_json(const struct mql_ipc_frame *m) {
        fputs("{\"topic\":", stdout);
        json_write_string(stdout, m->topic.ptr, m->topic.len);
        print_json_bytes("payload", m->payload);
        printf(",\"qos\":%u,\"retain\":%s", m->qos, m->retain ? "true" : "false");
        if (m->broker.len)
                print_json_str("broker", m->broker);
        print_json_str("sid", m->sid);
        if (m->has_fmt)
                printf(",\"payload_format_indicator\":%u", m->fmt);
        if (m->has_expiry)
                printf(",\"message_expiry_interval\":%u", (unsigned)m->expiry);
        if (m->ctype.len)
                print_json_str("content_type", m->ctype);
        if (m->rtopic.len)
                print_json_str("response_topic", m->rtopic);
        if (m->corr.len)
                print_json_bytes("correlation_data", m->corr);
        if (m->n_user) {
                /* A list, not an object: keys may repeat and order counts. */
                fputs(",\"user_properties\":[", stdout);
                for (size_t i = 0; i < m->n_user; i++) {
                        fputs(i ? ",{\"key\":" : "{\"key\":", stdout);
                        json_write_string(stdout, m->user[i].key.ptr, m->user[i].key.len);
                        fputs(",\"value\":", stdout);
                        json_write_string(stdout, m->user[i].value.ptr, m->user[i].value.len);
                        fputc('}', stdout);
                }
                fputc(']', stdout);
        }
        fputs("}\n", stdout);
}

static void on_message(struct mql_ipc_client *c, const struct mql_ipc_frame *m, void *userdata) {
        struct cli *cli = userdata;
        struct sub *s = cli->data;

        /* Frames already read are still dispatched after the end (-C). */
        if (cli->done)
                return;
        if (s->json)
                print_json(m);
        else {
                if (s->verbose) {
                        fwrite(m->topic.ptr, 1, m->topic.len, stdout);
                        fputc(' ', stdout);
                }
                fwrite(m->payload.ptr, 1, m->payload.len, stdout);
                if (!s->no_newline)
                        fputc('\n', stdout);
        }
        /* At once: whoever reads the pipe should see each message as it
         * comes, not when a buffer fills. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                cli_error("cannot write to stdout");
                cli_finish(cli, EXIT_REFUSED);
                return;
        }
        if (s->count && ++s->received >= s->count)
                cli_finish(cli, EXIT_OK);
}

static void on_reply(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                     void *userdata) {
        const char *filter = userdata;

        cli_reply_ok_or_end(mql_ipc_client_get_userdata(c), filter, reply, error);
}

static int on_timeout(struct mql_loop_source *src, mql_usec usec, void *userdata) {
        struct cli *cli = userdata;
        struct sub *s = cli->data;

        if (!cli->done)
                cli_error("timed out after %llu s", (unsigned long long)s->timeout);
        cli_finish(cli, EXIT_TIMEOUT);
        return 0;
}

enum {
        OPT_NL = 0x100,
        OPT_RAP,
        OPT_RH
};

static int option(struct cli *cli, int c, int argc, char **argv) {
        struct sub *s = cli->data;
        uint64_t n;

        switch (c) {
        case 't':
                if (mql_topic_filter_check(optarg, strlen(optarg)) < 0)
                        return cli_usage_error(cli, "invalid topic filter '%s'", optarg);
                s->filters[s->n_filters++] = optarg;
                break;
        case 'q':
                return cli_option_qos(cli, optarg, &s->frame);
        case 'b':
                return cli_option_broker(cli, optarg, &s->frame);
        case 'C':
                if (cli_parse_u64(optarg, 1, UINT64_MAX, &s->count) < 0)
                        return cli_usage_error(cli, "-C: a count of 1 or more, not '%s'", optarg);
                break;
        case 'v':
                s->verbose = true;
                break;
        case 'N':
                s->no_newline = true;
                break;
        case 'F':
                if (strcmp(optarg, "json") != 0)
                        return cli_usage_error(cli, "-F: only 'json' is known, not '%s'", optarg);
                s->json = true;
                break;
        case 'W':
                if (cli_parse_u64(optarg, 1, TIMEOUT_MAX, &s->timeout) < 0)
                        return cli_usage_error(cli, "-W: seconds in 1..%u, not '%s'", TIMEOUT_MAX,
                                               optarg);
                break;
        case OPT_NL:
                s->frame.no_local = true;
                break;
        case OPT_RAP:
                s->frame.retain_as_published = true;
                break;
        case OPT_RH:
                if (cli_parse_u64(optarg, 0, 2, &n) < 0)
                        return cli_usage_error(cli, "--rh: 0, 1 or 2, not '%s'", optarg);
                s->frame.retain_handling = (uint8_t)n;
                break;
        }
        return 0;
}

static int parse_args(struct sub *s, int argc, char **argv) {
        static const struct option options[] = {
                { "topic", required_argument, NULL, 't' },
                { "qos", required_argument, NULL, 'q' },
                { "broker", required_argument, NULL, 'b' },
                { "count", required_argument, NULL, 'C' },
                { "verbose", no_argument, NULL, 'v' },
                { "format", required_argument, NULL, 'F' },
                { "timeout", required_argument, NULL, 'W' },
                { "nl", no_argument, NULL, OPT_NL },
                { "rap", no_argument, NULL, OPT_RAP },
                { "rh", required_argument, NULL, OPT_RH },
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct cli *cli = s->cli;

        s->filters = calloc((size_t)argc, sizeof(*s->filters));
        if (!s->filters) {
                cli_error("out of memory");
                return EXIT_USAGE;
        }
        int r = cli_parse(cli, argc, argv, "+t:q:b:C:vNF:W:S:h", options, help, option);
        if (r != 0)
                return r;
        if (s->n_filters == 0)
                return cli_usage_error(cli, "no topic filter: -t FILTER");
        return 0;
}

static int subscribe(struct cli *cli) {
        struct sub *s = cli->data;

        s->sids = calloc(s->n_filters, sizeof(*s->sids));
        if (!s->sids) {
                cli_error("out of memory");
                return EXIT_LOST;
        }
        for (size_t i = 0; i < s->n_filters; i++) {
                struct mql_ipc_frame f = s->frame;
                int len = snprintf(s->sids[i], sizeof(s->sids[i]), "%zu", i + 1);
                f.kind = MQL_IPC_SUB;
                f.sid = (struct mql_ipc_str){ s->sids[i], (size_t)len };
                f.topic = (struct mql_ipc_str){ s->filters[i], strlen(s->filters[i]) };
                int r = mql_ipc_client_send(s->cli->client, &f, on_reply, s->filters[i]);
                if (r == -EINVAL)
                        return cli_usage_error(s->cli, "invalid broker name");
                if (r < 0) {
                        cli_error("%s: cannot send: %s", s->filters[i], strerror(-r));
                        return EXIT_LOST;
                }
        }
        if (s->timeout) {
                mql_usec at = mql_loop_now(s->cli->loop) + s->timeout * 1000000u;
                int r = mql_loop_add_time(s->cli->loop, NULL, at, on_timeout, s->cli);
                if (r < 0) {
                        cli_error("cannot set the timer: %s", strerror(-r));
                        return EXIT_LOST;
                }
        }
        return 0;
}

int cli_sub(struct cli *cli, int argc, char **argv) {
        static const struct cli_session session = {
                .on_message = on_message,
                .signals = true,
                .start = subscribe,
        };
        struct sub s = { .cli = cli };
        int r;

        cli->data = &s;
        r = parse_args(&s, argc, argv);
        if (r == 0)
                r = cli_exec(cli, &session);
        free(s.filters);
        free(s.sids);
        return r == CLI_DONE ? EXIT_OK : r;
}

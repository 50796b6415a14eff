/* SPDX-License-Identifier: MIT */

/*
 * mqlink status: asks the daemon for its STATUS document (JSON) and prints
 * it as is (--json) or as a table. The table reads only the fields it
 * shows and prints "-" for any that is missing, so that a newer or older
 * daemon still gives a table.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-json.h"
#include "cli.h"

struct status {
        struct cli *cli;
        bool json;
};

static const struct {
        const char *title;
        const char *key;
} columns[] = {
        { "NAME", "name" },           { "STATE", "state" },       { "URI", "uri" },
        { "QUEUED", "queued" },       { "INFLIGHT", "inflight" }, { "SUBS", "subscriptions" },
        { "PUBLISHED", "published" }, { "RECEIVED", "received" },
};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

static void help(void) {
        printf("Usage: mqlink status [--json] [-S SOCKET]\n"
               "\n"
               "Shows the daemon's brokers and local clients.\n"
               "\n"
               "      --json             print the daemon's JSON document as it is\n"
               "  -S, --socket PATH      the daemon's socket\n"
               "  -h, --help             this help\n");
}

/* A scalar as table text; "-" for missing, null, or not a scalar. */
static const char *cell(const struct json *v) {
        if (!v)
                return "-";
        switch (v->type) {
        case JSON_STRING:
                return v->len ? v->str : "-";
        case JSON_NUMBER:
                return v->str;
        case JSON_TRUE:
                return "true";
        case JSON_FALSE:
                return "false";
        default:
                return "-";
        }
}

/* Width on screen, roughly: one column per UTF-8 sequence. */
static size_t width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                w += ((unsigned char)*s & 0xc0) != 0x80;
        return w;
}

static void print_cell(const char *s, size_t w, bool last) {
        cli_print_safe(stdout, s, strlen(s));
        if (!last)
                for (size_t i = width(s); i < w + 2; i++)
                        fputc(' ', stdout);
}

static void print_header(const struct json *doc) {
        fputs("mqlinkd ", stdout);
        print_cell(cell(json_get(doc, "version")), 0, true);
        fputs(", pid ", stdout);
        print_cell(cell(json_get(doc, "pid")), 0, true);
        fputs(", up ", stdout);
        print_cell(cell(json_get(doc, "uptime")), 0, true);
        fputs(" s, socket ", stdout);
        print_cell(cell(json_get(doc, "socket")), 0, true);
        fputs("\n\n", stdout);
}

static void print_brokers(const struct json *brokers) {
        size_t n = brokers && brokers->type == JSON_ARRAY ? brokers->n : 0;
        size_t w[N_COLUMNS];

        for (size_t c = 0; c < N_COLUMNS; c++) {
                w[c] = strlen(columns[c].title);
                for (size_t i = 0; i < n; i++) {
                        size_t x = width(cell(json_get(&brokers->items[i], columns[c].key)));
                        if (x > w[c])
                                w[c] = x;
                }
        }
        for (size_t c = 0; c < N_COLUMNS; c++)
                print_cell(columns[c].title, w[c], c == N_COLUMNS - 1);
        fputc('\n', stdout);
        for (size_t i = 0; i < n; i++) {
                for (size_t c = 0; c < N_COLUMNS; c++)
                        print_cell(cell(json_get(&brokers->items[i], columns[c].key)), w[c],
                                   c == N_COLUMNS - 1);
                fputc('\n', stdout);
        }
        /* Why a broker is down is the first thing one asks. */
        for (size_t i = 0; i < n; i++) {
                const struct json *err = json_get(&brokers->items[i], "last_error");
                if (err && err->type == JSON_STRING && err->len) {
                        fputs("last error of ", stdout);
                        print_cell(cell(json_get(&brokers->items[i], "name")), 0, true);
                        fputs(": ", stdout);
                        cli_print_safe(stdout, err->str, err->len);
                        fputc('\n', stdout);
                }
        }
}

static int print_table(const char *doc_text, size_t len) {
        struct json doc;
        size_t at = 0;

        int r = json_parse(doc_text, len, &doc, &at);
        if (r == -ENOMEM) {
                cli_error("status: out of memory");
                return EXIT_LOST;
        }
        if (r < 0 || doc.type != JSON_OBJECT) {
                cli_error("status: the daemon's document is not a JSON object (byte %zu)", at);
                if (r == 0)
                        json_done(&doc);
                return EXIT_LOST;
        }
        print_header(&doc);
        print_brokers(json_get(&doc, "brokers"));
        const struct json *clients = json_get(&doc, "clients");
        fputs("\nlocal clients: ", stdout);
        if (clients && clients->type == JSON_ARRAY)
                printf("%zu\n", clients->n);
        else
                fputs("-\n", stdout);
        json_done(&doc);
        return EXIT_OK;
}

static void on_reply(struct mql_ipc_client *c, const struct mql_ipc_frame *reply, int error,
                     void *userdata) {
        struct status *s = userdata;
        struct cli *cli = s->cli;

        if (!cli_reply_ok_or_end(cli, "status", reply, error))
                return;
        int code = EXIT_OK;
        if (s->json) {
                fwrite(reply->payload.ptr, 1, reply->payload.len, stdout);
                if (reply->payload.len == 0 || reply->payload.ptr[reply->payload.len - 1] != '\n')
                        fputc('\n', stdout);
        } else
                code = print_table(reply->payload.ptr, reply->payload.len);
        if (fflush(stdout) != 0 && code == EXIT_OK) {
                cli_error("cannot write to stdout");
                code = EXIT_REFUSED;
        }
        cli_finish(cli, code);
}

static int start(struct cli *cli) {
        struct mql_ipc_frame f = { .kind = MQL_IPC_STATUS };

        return cli_send(cli, "status", &f, on_reply, cli->data);
}

enum {
        OPT_JSON = 0x100
};

/* Its one option of its own: --json. */
static int option(struct cli *cli, int c, int argc, char **argv) {
        struct status *s = cli->data;

        s->json = true;
        return 0;
}

int cli_status(struct cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const struct cli_session session = { .start = start };
        struct status s = { .cli = cli };

        cli->data = &s;
        int r = cli_parse(cli, argc, argv, "+S:h", options, help, option);
        if (r != 0)
                return r == CLI_DONE ? EXIT_OK : r;
        return cli_exec(cli, &session);
}

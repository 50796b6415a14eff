/* SPDX-License-Identifier: MIT */

/* -D PUBLISH NAME VALUE: MQTT 5 properties of a publish, named as
 * mosquitto_pub names them. */

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <mqlink/topic.h>

#include "cli.h"
#include "properties.h"

enum prop {
        PROP_CONTENT_TYPE,
        PROP_CORRELATION_DATA,
        PROP_EXPIRY,
        PROP_FORMAT,
        PROP_RESPONSE_TOPIC,
        PROP_USER,
};

static const struct {
        const char *name;
        enum prop prop;
} props[] = {
        { "content-type", PROP_CONTENT_TYPE },      { "correlation-data", PROP_CORRELATION_DATA },
        { "message-expiry-interval", PROP_EXPIRY }, { "payload-format-indicator", PROP_FORMAT },
        { "response-topic", PROP_RESPONSE_TOPIC },  { "user-property", PROP_USER },
};

static struct mql_ipc_str str_of(const char *s) {
        return (struct mql_ipc_str){ s, strlen(s) };
}

/* Sets one property; the strings stay in argv, which outlives the frame. */
static int set_prop(const struct cli *cli, struct mql_ipc_frame *f, enum prop prop,
                    const char *name, char **values) {
        const char *v = values[0];
        uint64_t n;

        /* An empty value could not be told from "not given" on the wire. */
        if (!*v && prop != PROP_USER)
                return cli_usage_error(cli, "-D %s: empty value", name);
        switch (prop) {
        case PROP_CONTENT_TYPE:
                if (f->ctype.len)
                        break;
                f->ctype = str_of(v);
                return 0;
        case PROP_CORRELATION_DATA:
                if (f->corr.len)
                        break;
                f->corr = str_of(v);
                return 0;
        case PROP_EXPIRY:
                if (f->has_expiry)
                        break;
                if (cli_parse_u64(v, 0, UINT32_MAX, &n) < 0)
                        return cli_usage_error(cli, "-D %s: not a number of seconds: %s", name, v);
                f->has_expiry = true;
                f->expiry = (uint32_t)n;
                return 0;
        case PROP_FORMAT:
                if (f->has_fmt)
                        break;
                if (cli_parse_u64(v, 0, 1, &n) < 0)
                        return cli_usage_error(cli, "-D %s: must be 0 or 1: %s", name, v);
                f->has_fmt = true;
                f->fmt = (uint8_t)n;
                return 0;
        case PROP_RESPONSE_TOPIC:
                if (f->rtopic.len)
                        break;
                if (mql_topic_name_check(v, strlen(v)) < 0)
                        return cli_usage_error(cli, "-D %s: invalid topic name: %s", name, v);
                f->rtopic = str_of(v);
                return 0;
        case PROP_USER:
                if (f->n_user >= MQL_IPC_USER_PROPS_MAX)
                        return cli_usage_error(cli, "-D %s: at most %u", name,
                                               MQL_IPC_USER_PROPS_MAX);
                if (!*v)
                        return cli_usage_error(cli, "-D %s: empty key", name);
                f->user[f->n_user].key = str_of(v);
                f->user[f->n_user].value = str_of(values[1]);
                f->n_user++;
                return 0;
        }
        return cli_usage_error(cli, "-D %s: given twice", name);
}

int pub_property(const struct cli *cli, struct mql_ipc_frame *f, const char *command, int argc,
                 char **argv, int *optind) {
        if (strcasecmp(command, "publish") != 0)
                return cli_usage_error(cli, "-D %s: only PUBLISH properties can be set", command);
        if (*optind >= argc)
                return cli_usage_error(cli, "-D %s: property name missing", command);
        const char *name = argv[*optind];
        for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
                if (strcasecmp(name, props[i].name) != 0)
                        continue;
                int need = props[i].prop == PROP_USER ? 2 : 1;
                if (argc - *optind - 1 < need)
                        return cli_usage_error(cli, "-D %s %s: %s missing", command, name,
                                               need == 2 ? "key and value" : "value");
                int r = set_prop(cli, f, props[i].prop, props[i].name, argv + *optind + 1);
                if (r != 0)
                        return r;
                *optind += 1 + need;
                return 0;
        }
        return cli_usage_error(cli, "-D %s: unknown or unsupported property: %s", command, name);
}

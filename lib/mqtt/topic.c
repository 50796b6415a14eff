/* SPDX-License-Identifier: MIT */
#include "mqlink/topic.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "util/macro.h"
#include "util/utf8.h"

/*
 * Topic names and filters are byte strings split into levels by '/'. The
 * separators and wildcards are ASCII and can never occur inside a multi-byte
 * UTF-8 sequence (continuation bytes are 0x80..0xBF), so everything below
 * works on bytes once the UTF-8 is known to be well formed.
 */

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN (sizeof(SHARE_PREFIX) - 1)

/*
 * Splits `$share/{group}/{inner}` without validating either part. Returns 0
 * when `f` does not start with "$share/", -EINVAL when it does but has no
 * '/' after the group, 1 otherwise.
 */
static int share_split(const char *f, size_t len, const char **ret_group, size_t *ret_group_len,
                       const char **ret_inner, size_t *ret_inner_len) {
        if (len < SHARE_PREFIX_LEN || memcmp(f, SHARE_PREFIX, SHARE_PREFIX_LEN) != 0)
                return 0;

        const char *group = f + SHARE_PREFIX_LEN;
        size_t rest = len - SHARE_PREFIX_LEN;
        const char *slash = memchr(group, '/', rest);
        if (!slash)
                return -EINVAL; /* no filter after the share name, MQTT 5 §4.8.2 */

        *ret_group = group;
        *ret_group_len = (size_t)(slash - group);
        *ret_inner = slash + 1;
        *ret_inner_len = rest - *ret_group_len - 1;
        return 1;
}

/* Wildcard placement only; length and UTF-8 are the caller's business. */
static int filter_levels_check(const char *f, size_t len) {
        if (len == 0)
                return -EINVAL; /* MQTT-4.7.3-1 */

        for (size_t i = 0; i < len; i++) {
                bool level_start = i == 0 || f[i - 1] == '/';
                bool level_end = i + 1 == len || f[i + 1] == '/';

                switch (f[i]) {
                case '+':
                        /* MQTT-4.7.1-2: '+' occupies an entire level. */
                        if (!level_start || !level_end)
                                return -EINVAL;
                        break;
                case '#':
                        /* MQTT-4.7.1-1: '#' is alone in the last level. */
                        if (!level_start || i + 1 != len)
                                return -EINVAL;
                        break;
                default:
                        break;
                }
        }
        return 0;
}

MQL_EXPORT int mql_topic_name_check(const char *name, size_t len) {
        int r;

        if (!name || len == 0 || len > MQL_TOPIC_MAX)
                return -EINVAL; /* MQTT-4.7.3-1, MQTT-4.7.3-3 */

        r = mql__utf8_check((const uint8_t *)name, len);
        if (r < 0)
                return r;

        /* MQTT-3.3.2-2: a PUBLISH topic name carries no wildcard. */
        for (size_t i = 0; i < len; i++)
                if (name[i] == '+' || name[i] == '#')
                        return -EINVAL;
        return 0;
}

MQL_EXPORT int mql_topic_filter_check(const char *filter, size_t len) {
        int r;

        if (!filter || len == 0 || len > MQL_TOPIC_MAX)
                return -EINVAL; /* MQTT-4.7.3-1, MQTT-4.7.3-3 */

        /* Before the share parse, so that bad bytes anywhere are -EBADMSG. */
        r = mql__utf8_check((const uint8_t *)filter, len);
        if (r < 0)
                return r;

        /*
         * A filter that mql_topic_matches() would read as a shared
         * subscription must be a well-formed one, or the two would disagree.
         */
        r = mql_topic_share_parse(filter, len, NULL, NULL, NULL, NULL);
        if (r < 0)
                return r;
        if (r > 0)
                return 0;

        return filter_levels_check(filter, len);
}

MQL_EXPORT int mql_topic_share_parse(const char *filter, size_t len, const char **ret_group,
                                     size_t *ret_group_len, const char **ret_filter,
                                     size_t *ret_filter_len) {
        const char *group, *inner;
        size_t group_len, inner_len;
        int r;

        if (!filter)
                return 0;

        r = share_split(filter, len, &group, &group_len, &inner, &inner_len);
        if (r <= 0)
                return r;

        if (len > MQL_TOPIC_MAX)
                return -EINVAL; /* MQTT-4.7.3-3 */

        /* MQTT-4.8.2-1: at least one character. */
        if (group_len == 0)
                return -EINVAL;
        /* MQTT-4.8.2-2: no '/', '+' or '#' ('/' already ends the group). */
        if (memchr(group, '+', group_len) || memchr(group, '#', group_len))
                return -EINVAL;

        /* The header promises 1, 0 or -EINVAL, so bad bytes are -EINVAL here. */
        if (mql__utf8_check((const uint8_t *)filter, len) < 0)
                return -EINVAL;

        /*
         * A nested "$share/" inner filter is refused: it would be a plain
         * filter for this subscription but a shared one for anyone checking
         * the returned view with mql_topic_filter_check().
         */
        const char *g2, *i2;
        size_t g2_len, i2_len;
        if (share_split(inner, inner_len, &g2, &g2_len, &i2, &i2_len) != 0)
                return -EINVAL;

        r = filter_levels_check(inner, inner_len); /* empty inner is -EINVAL too */
        if (r < 0)
                return r;

        if (ret_group)
                *ret_group = group;
        if (ret_group_len)
                *ret_group_len = group_len;
        if (ret_filter)
                *ret_filter = inner;
        if (ret_filter_len)
                *ret_filter_len = inner_len;
        return 1;
}

/* Length of the level starting at s[0], up to the next '/' or the end. */
static size_t level_len(const char *s, size_t len) {
        const char *slash = memchr(s, '/', len);
        return slash ? (size_t)(slash - s) : len;
}

/*
 * Walks both strings one level at a time. Each byte is looked at a bounded
 * number of times (memchr for the level end, memcmp for the level), so the
 * cost is linear in filter_len + name_len, with no allocation and no
 * backtracking: '#' can only be last, so it ends the walk.
 */
MQL_EXPORT bool mql_topic_matches(const char *filter, size_t filter_len, const char *name,
                                  size_t name_len) {
        const char *group, *inner;
        size_t group_len, inner_len;

        /* MQTT 5 §4.8.2: a shared subscription matches as its inner filter. */
        if (share_split(filter, filter_len, &group, &group_len, &inner, &inner_len) > 0) {
                filter = inner;
                filter_len = inner_len;
        }

        if (filter_len == 0 || name_len == 0)
                return false;

        /* MQTT-4.7.2-1: a leading wildcard does not match a '$' topic. */
        if (name[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
                return false;

        size_t fi = 0, ni = 0;
        for (;;) {
                size_t fl = level_len(filter + fi, filter_len - fi);

                /* '#' matches this level and everything below it. */
                if (fl == 1 && filter[fi] == '#')
                        return true;

                size_t nl = level_len(name + ni, name_len - ni);

                /* '+' matches exactly one level, which may be empty. */
                if (!(fl == 1 && filter[fi] == '+') &&
                    (fl != nl || memcmp(filter + fi, name + ni, fl) != 0))
                        return false;

                bool filter_done = fi + fl == filter_len;
                bool name_done = ni + nl == name_len;

                if (filter_done)
                        return name_done;
                if (name_done)
                        /*
                         * MQTT 4.7.1.2: "sport/#" also matches "sport", the
                         * parent level, so a lone "#" may follow the end.
                         */
                        return filter_len - (fi + fl) == 2 && filter[filter_len - 1] == '#';

                fi += fl + 1;
                ni += nl + 1;
        }
}

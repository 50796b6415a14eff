/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * MQTT topic names and topic filters (MQTT 5 §4.7, 3.1.1 §4.7).
 *
 * All functions take length-counted strings: topics are not NUL-terminated
 * on the wire. None allocates.
 */

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest topic the wire format can carry (a two-byte length prefix). */
#define MQL_TOPIC_MAX 65535u

/*
 * Checks a topic name as used in PUBLISH: 1..65535 bytes of well-formed UTF-8
 * without U+0000 (MQTT-1.5.4-1/2, MQTT-4.7.3-1) and without the wildcards
 * '+' and '#' (MQTT-3.3.2-2). Returns 0, -EINVAL for an empty or too long
 * name or a wildcard, -EBADMSG for ill-formed UTF-8.
 */
int mql_topic_name_check(const char *name, size_t len);

/*
 * Checks a topic filter as used in SUBSCRIBE and UNSUBSCRIBE: like a name,
 * but '+' must fill a whole level (MQTT-4.7.1-2) and '#' must fill the last
 * level (MQTT-4.7.1-1). A filter starting with "$share/" must be a well
 * formed shared subscription (mql_topic_share_parse() returns 1; this applies
 * to MQTT 3.1.1 connections too, as brokers treat it so). Returns 0,
 * -EINVAL, or -EBADMSG for ill-formed UTF-8. Length is checked first, then
 * UTF-8, then the wildcard rules.
 */
int mql_topic_filter_check(const char *filter, size_t len);

/*
 * Whether topic name `name` matches topic filter `filter`. Both are assumed
 * valid (checked with the functions above). '+' matches exactly one level,
 * possibly empty; '#' matches the parent level and any number of levels
 * below it. A filter starting with a wildcard does not match a name starting
 * with '$' (MQTT-4.7.2-1). A shared subscription filter matches as its inner
 * filter.
 */
bool mql_topic_matches(const char *filter, size_t filter_len, const char *name, size_t name_len);

/*
 * Parses a shared subscription filter `$share/{ShareName}/{filter}`
 * (MQTT 5 §4.8.2). Returns 1 and fills the out parameters (views into
 * `filter`) when it is one and is well formed; 0 when `filter` is not a shared
 * subscription (does not start with "$share/"); -EINVAL when it starts so but
 * the share name is empty or holds '/', '+' or '#' (MQTT-4.8.2-1/2), or the
 * inner filter is missing, invalid or itself a shared subscription.
 * Ill-formed UTF-8 gives -EINVAL here too. Out parameters
 * may be NULL and are written only when 1 is returned.
 *
 * A topic *name* starting with "$share/" passes mql_topic_name_check() but
 * never matches itself used as a filter, since the filter is read as a
 * shared subscription.
 */
int mql_topic_share_parse(const char *filter, size_t len, const char **ret_group,
                          size_t *ret_group_len, const char **ret_filter, size_t *ret_filter_len);

#ifdef __cplusplus
}
#endif

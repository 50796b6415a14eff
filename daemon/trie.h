/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A topic trie: topic filters (one node per level, '+' and '#' as special
 * children) mapped to opaque values, matched against topic names in time
 * proportional to the topic's levels, not to the number of filters. Several
 * values may sit on one filter. Matching follows MQTT 4.7: '#' also matches
 * its parent level, and wildcards in the first level do not match topics
 * starting with '$' (MQTT-4.7.2-1).
 */

#include <stdbool.h>
#include <stddef.h>

struct trie_node;

struct trie {
        struct trie_node *root; /* owned; NULL when empty */
        size_t n_values;
};

typedef void (*trie_match_fn)(void *value, void *userdata);

/* Adds `value` under filter[0..len) (a valid filter, no $share prefix).
 * Returns 0 or -ENOMEM. */
int trie_add(struct trie *t, const char *filter, size_t len, void *value);
/* Removes one `value` from that filter, pruning empty nodes. Returns 0 or
 * -ENOENT. */
int trie_remove(struct trie *t, const char *filter, size_t len, void *value);
/* Calls fn for every value whose filter matches topic[0..len). fn must not
 * change the trie. */
void trie_match(const struct trie *t, const char *topic, size_t len, trie_match_fn fn,
                void *userdata);
void trie_done(struct trie *t);

/* SPDX-License-Identifier: MIT */

#include "trie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct trie_node {
        char *level; /* owned, not NUL-terminated */
        size_t level_len;
        /* Plain children sorted by level (length, then bytes), so that a
         * level with thousands of siblings is found by binary search. */
        struct trie_node **children; /* owned */
        size_t n_children;
        size_t cap_children;
        struct trie_node *plus; /* owned: the '+' child */
        struct trie_node *hash; /* owned: the '#' child */
        void **values;          /* owned array of borrowed values */
        size_t n_values;
        size_t cap_values;
};

static int level_cmp(const struct trie_node *n, const char *s, size_t len) {
        if (n->level_len != len)
                return n->level_len < len ? -1 : 1;
        return memcmp(n->level, s, len);
}

/* Index of the child named s, or where it would be inserted (with *found). */
static size_t child_index(const struct trie_node *n, const char *s, size_t len, bool *found) {
        size_t lo = 0, hi = n->n_children;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = level_cmp(n->children[mid], s, len);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static struct trie_node *node_new(const char *s, size_t len) {
        struct trie_node *n = calloc(1, sizeof *n);
        if (!n)
                return NULL;
        n->level = malloc(len ? len : 1);
        if (!n->level) {
                free(n);
                return NULL;
        }
        memcpy(n->level, s, len);
        n->level_len = len;
        return n;
}

static void node_free(struct trie_node *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n_children; i++)
                node_free(n->children[i]);
        node_free(n->plus);
        node_free(n->hash);
        free(n->children);
        free(n->values);
        free(n->level);
        free(n);
}

static bool node_empty(const struct trie_node *n) {
        return n->n_children == 0 && !n->plus && !n->hash && n->n_values == 0;
}

static struct trie_node *child_get(struct trie_node *n, const char *s, size_t len, bool create) {
        if (len == 1 && (s[0] == '+' || s[0] == '#')) {
                struct trie_node **slot = s[0] == '+' ? &n->plus : &n->hash;
                if (!*slot && create)
                        *slot = node_new(s, 1);
                return *slot;
        }
        bool found;
        size_t i = child_index(n, s, len, &found);
        if (found)
                return n->children[i];
        if (!create)
                return NULL;
        if (n->n_children == n->cap_children) {
                size_t cap = n->cap_children ? n->cap_children * 2 : 4;
                struct trie_node **c = realloc(n->children, cap * sizeof *c);
                if (!c)
                        return NULL;
                n->children = c;
                n->cap_children = cap;
        }
        struct trie_node *c = node_new(s, len);
        if (!c)
                return NULL;
        memmove(n->children + i + 1, n->children + i, (n->n_children - i) * sizeof *n->children);
        n->children[i] = c;
        n->n_children++;
        return c;
}

/* The level starting at p (up to '/' or end). */
static size_t level_len(const char *p, const char *end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        return (size_t)((slash ? slash : end) - p);
}

int trie_add(struct trie *t, const char *filter, size_t len, void *value) {
        if (!t->root) {
                t->root = node_new("", 0);
                if (!t->root)
                        return -ENOMEM;
        }
        struct trie_node *n = t->root;
        const char *p = filter, *end = filter + len;
        for (;;) {
                size_t l = level_len(p, end);
                n = child_get(n, p, l, true);
                if (!n)
                        return -ENOMEM; /* empty nodes left behind are pruned on removal */
                p += l;
                if (p == end)
                        break;
                p++; /* '/' */
        }
        if (n->n_values == n->cap_values) {
                size_t cap = n->cap_values ? n->cap_values * 2 : 2;
                void **v = realloc(n->values, cap * sizeof *v);
                if (!v)
                        return -ENOMEM;
                n->values = v;
                n->cap_values = cap;
        }
        n->values[n->n_values++] = value;
        t->n_values++;
        return 0;
}

static void child_unlink(struct trie_node *parent, struct trie_node *c) {
        if (parent->plus == c)
                parent->plus = NULL;
        else if (parent->hash == c)
                parent->hash = NULL;
        else {
                bool found;
                size_t i = child_index(parent, c->level, c->level_len, &found);
                if (!found)
                        return;
                memmove(parent->children + i, parent->children + i + 1,
                        (parent->n_children - i - 1) * sizeof *parent->children);
                parent->n_children--;
        }
        node_free(c);
}

static int remove_rec(struct trie_node *n, const char *p, const char *end, void *value) {
        size_t l = level_len(p, end);
        struct trie_node *c = child_get(n, p, l, false);
        int r;

        if (!c)
                return -ENOENT;
        if (p + l == end) {
                r = -ENOENT;
                for (size_t i = 0; i < c->n_values; i++)
                        if (c->values[i] == value) {
                                c->values[i] = c->values[--c->n_values];
                                r = 0;
                                break;
                        }
        } else
                r = remove_rec(c, p + l + 1, end, value);
        if (r == 0 && node_empty(c))
                child_unlink(n, c);
        return r;
}

int trie_remove(struct trie *t, const char *filter, size_t len, void *value) {
        if (!t->root)
                return -ENOENT;
        int r = remove_rec(t->root, filter, filter + len, value);
        if (r == 0) {
                t->n_values--;
                if (node_empty(t->root)) {
                        node_free(t->root);
                        t->root = NULL;
                }
        }
        return r;
}

static void emit(const struct trie_node *n, trie_match_fn fn, void *userdata) {
        for (size_t i = 0; i < n->n_values; i++)
                fn(n->values[i], userdata);
}

/* n has consumed the levels before p; `done` when no level is left (as
 * opposed to one empty level left, as in "a/"). */
static void match_rec(const struct trie_node *n, const char *p, const char *end, bool done,
                      bool dollar, trie_match_fn fn, void *userdata) {
        /* '#' matches the rest, including nothing (MQTT 4.7.1.2). */
        if (n->hash && !dollar)
                emit(n->hash, fn, userdata);
        if (done) {
                emit(n, fn, userdata);
                return;
        }
        size_t l = level_len(p, end);
        bool last = p + l == end;
        const char *next = last ? end : p + l + 1;
        const struct trie_node *c = child_get((struct trie_node *)n, p, l, false);
        if (c && !(l == 1 && (p[0] == '+' || p[0] == '#')))
                match_rec(c, next, end, last, false, fn, userdata);
        if (n->plus && !dollar)
                match_rec(n->plus, next, end, last, false, fn, userdata);
}

void trie_match(const struct trie *t, const char *topic, size_t len, trie_match_fn fn,
                void *userdata) {
        if (!t->root)
                return;
        match_rec(t->root, topic, topic + len, false, len > 0 && topic[0] == '$', fn, userdata);
}

void trie_done(struct trie *t) {
        node_free(t->root);
        t->root = NULL;
        t->n_values = 0;
}

/* SPDX-License-Identifier: MIT */

/*
 * inih glue. inih hands the handler neither the line number (Debian builds
 * it without INI_HANDLER_LINENO) nor sections without keys, cuts section
 * names at 49 bytes, and reads an indented line as the continuation of the
 * previous value. So lines reach inih through our own reader, which:
 *   - counts them: inih calls the handler for a line before it asks for the
 *     next, so the reader's count is the handler's line;
 *   - strips leading whitespace, so that an indented "key = value" is a key
 *     and never a continuation (continuations are not supported);
 *   - recognises section headers itself, whole, and opens the section even
 *     when no key follows;
 *   - refuses what inih would only flag after the fact (a line without "="
 *     or "]", a line too long for inih's buffer), so the first error is the
 *     one reported, with its text;
 *   - stops the parse at the first error by returning NULL.
 * inih still splits "key = value", strips inline " ;" comments and the
 * value's whitespace, and skips comment lines.
 */

#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <string.h>

#include "config-internal.h"
#include "config-parse.h"

#if INI_HANDLER_LINENO
#error "the handler below takes no line number, like Debian's build of libinih"
#endif

static bool is_space(char c) {
        /* isspace() in the C locale, as inih strips. */
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* inih's scan: the first of `chars`, or of an inline comment (";" after
 * whitespace), or the end. */
static const char *find_chars_or_comment(const char *s, const char *chars) {
        bool was_space = false;

        for (; *s; s++) {
                if (strchr(chars, *s) || (was_space && *s == ';'))
                        break;
                was_space = is_space(*s);
        }
        return s;
}

static int syntax_error(struct loader *l, const char *line, size_t len, const char *what) {
        char shown[CONFIG_VALUE_BUF];

        escape_value(line, len, shown);
        return loader_fail_here(l, -EINVAL, "syntax error: %s: \"%s\"", what, shown);
}

static int section_line(struct loader *l, const char *line, size_t len) {
        const char *close = find_chars_or_comment(line + 1, "]");

        if (*close != ']')
                return syntax_error(l, line, len, "no ']' closing the section name");
        const char *rest = close + 1;
        while (is_space(*rest))
                rest++;
        /* inih ignores what follows "]"; a stray word there is a typo. */
        if (*rest && *rest != ';' && *rest != '#')
                return syntax_error(l, line, len, "text after ']'");

        const char *name = line + 1;
        while (name < close && is_space(*name))
                name++;
        while (close > name && is_space(close[-1]))
                close--;
        return section_open(l, name, (size_t)(close - name));
}

static int classify_line(struct loader *l, const char *line, size_t len) {
        if (len == 0 || line[0] == ';' || line[0] == '#')
                return 0;
        if (line[0] == '[')
                return section_line(l, line, len);
        const char *sep = find_chars_or_comment(line, "=:");
        if (*sep != '=' && *sep != ':')
                return syntax_error(l, line, len, "expected \"key = value\" or \"[section]\"");
        return 0;
}

static char *reader(char *str, int num, void *stream) {
        struct loader *l = stream;

        if (l->error || l->pos >= l->len)
                return NULL;

        const char *s = l->text + l->pos;
        const char *nl = memchr(s, '\n', l->len - l->pos);
        size_t n = nl ? (size_t)(nl - s) : l->len - l->pos;
        l->pos += n + (nl ? 1 : 0);
        l->line++;

        if (l->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                s += 3; /* a UTF-8 byte order mark, as some editors write */
                n -= 3;
        }
        while (n > 0 && is_space(*s)) {
                s++;
                n--;
        }
        while (n > 0 && is_space(s[n - 1]))
                n--;

        /* Room for the line, "\n" and NUL: a line ending in "\n" tells inih
         * that it was not cut short. */
        if (num < 2 || n > (size_t)num - 2) {
                loader_fail_here(l, -EINVAL, "line longer than %d bytes", num < 2 ? 0 : num - 2);
                return NULL;
        }
        memcpy(str, s, n);
        str[n] = '\n';
        str[n + 1] = '\0';

        if (classify_line(l, str, n) < 0)
                return NULL;
        return str;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct loader *l = user;

        /* `section` is ignored: the reader tracks it, uncut. */
        if (l->error)
                return 0;
        return key_set(l, name, value) >= 0;
}

static unsigned line_of(const char *text, size_t pos) {
        unsigned line = 1;

        for (size_t i = 0; i < pos; i++)
                line += text[i] == '\n';
        return line;
}

int loader_parse(struct loader *l, const char *name, const char *text, size_t len) {
        char **files = realloc(l->files, (l->n_files + 1) * sizeof(*files));
        if (!files)
                return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
        l->files = files;
        l->files[l->n_files] = strdup(name);
        if (!l->files[l->n_files])
                return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
        l->n_files++;

        bool oom;
        free(l->dir);
        l->dir = path_dir(name, &oom);
        if (oom)
                return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");

        l->text = text;
        l->len = len;
        l->pos = 0;
        l->line = 0;
        /* Every file starts outside any section: a drop-in names its own. */
        l->section = SECTION_NONE;

        /* inih works on C strings: a NUL would silently end a line. */
        const char *nul = memchr(text, '\0', len);
        if (nul)
                return loader_fail(l, -EINVAL, l->files[l->n_files - 1],
                                   line_of(text, (size_t)(nul - text)),
                                   "a NUL byte: not a text file");

        int r = ini_parse_stream(reader, l, handler, l);
        if (l->error)
                return l->error;
        if (r == -2)
                return loader_fail(l, -ENOMEM, NULL, 0, "out of memory");
        if (r != 0)
                /* Not seen by the reader: a rule of a newer inih. */
                return loader_fail(l, -EINVAL, l->files[l->n_files - 1], (unsigned)(r > 0 ? r : 0),
                                   "syntax error");
        return 0;
}

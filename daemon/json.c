/* SPDX-License-Identifier: MIT */

#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if bad. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
        unsigned c = s[0];
        size_t len;
        unsigned min, cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                len = 2, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
                len = 3, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
                len = 4, min = 0x10000, cp = c & 0x07;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return len;
}

int json_string(struct bytes *b, const char *str, size_t len) {
        const unsigned char *s = (const unsigned char *)(str ? str : "");
        int r = bytes_append(b, "\"", 1);

        for (size_t i = 0; r >= 0 && i < len;) {
                unsigned char c = s[i];
                if (c == '"' || c == '\\') {
                        char esc[2] = { '\\', (char)c };
                        r = bytes_append(b, esc, 2);
                        i++;
                } else if (c < 0x20 || c == 0x7F) {
                        r = bytes_printf(b, "\\u%04x", c);
                        i++;
                } else {
                        size_t n = utf8_seq(s + i, len - i);
                        if (n == 0) {
                                r = bytes_append(b, "\\ufffd", 6);
                                i++;
                        } else {
                                r = bytes_append(b, s + i, n);
                                i += n;
                        }
                }
        }
        return r < 0 ? r : bytes_append(b, "\"", 1);
}

int json_key(struct bytes *b, bool first, const char *key) {
        int r = first ? 0 : bytes_append(b, ",", 1);
        if (r >= 0)
                r = json_string(b, key, strlen(key));
        return r < 0 ? r : bytes_append(b, ":", 1);
}

int json_kv_str(struct bytes *b, bool first, const char *key, const char *value) {
        int r = json_key(b, first, key);
        if (r < 0)
                return r;
        if (!value)
                return bytes_append(b, "null", 4);
        return json_string(b, value, strlen(value));
}

int json_kv_u64(struct bytes *b, bool first, const char *key, uint64_t value) {
        int r = json_key(b, first, key);
        return r < 0 ? r : bytes_printf(b, "%" PRIu64, value);
}

int json_kv_bool(struct bytes *b, bool first, const char *key, bool value) {
        int r = json_key(b, first, key);
        return r < 0 ? r : bytes_append(b, value ? "true" : "false", value ? 4 : 5);
}

/* SPDX-License-Identifier: MIT */

#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

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
                        uint32_t cp;
                        size_t n = utf8_decode(str + i, len - i, &cp);
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

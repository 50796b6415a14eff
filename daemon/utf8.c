/* SPDX-License-Identifier: MIT */

#include "utf8.h"

size_t utf8_decode(const char *s, size_t len, uint32_t *ret_cp) {
        const unsigned char *u = (const unsigned char *)s;
        size_t n;
        uint32_t cp, min;

        if (u[0] < 0x80) {
                *ret_cp = u[0];
                return 1;
        }
        if ((u[0] & 0xe0) == 0xc0) {
                n = 2;
                cp = u[0] & 0x1f;
                min = 0x80;
        } else if ((u[0] & 0xf0) == 0xe0) {
                n = 3;
                cp = u[0] & 0x0f;
                min = 0x800;
        } else if ((u[0] & 0xf8) == 0xf0) {
                n = 4;
                cp = u[0] & 0x07;
                min = 0x10000;
        } else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (u[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

bool utf8_valid(const char *s, size_t len) {
        size_t i = 0;
        uint32_t cp;

        while (i < len) {
                size_t n = utf8_decode(s + i, len - i, &cp);
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

size_t utf8_encode(uint32_t cp, char out[4]) {
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | cp >> 6);
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | cp >> 12);
                out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | cp >> 18);
        out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

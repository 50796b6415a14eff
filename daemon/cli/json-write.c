/* SPDX-License-Identifier: MIT */

/* JSON strings for `sub -F json`. */

#include "cli-json.h"

void json_write_string(FILE *f, const char *s, size_t len) {
        size_t i = 0;

        fputc('"', f);
        while (i < len) {
                unsigned char c = (unsigned char)s[i];
                uint32_t cp;
                size_t n = utf8_decode(s + i, len - i, &cp);

                if (n == 0) {
                        fputs("\xef\xbf\xbd", f); /* U+FFFD for one bad byte */
                        i++;
                        continue;
                }
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c == '\r')
                        fputs("\\r", f);
                else if (c == '\t')
                        fputs("\\t", f);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\u%04x", c);
                else
                        fwrite(s + i, 1, n, f);
                i += n;
        }
        fputc('"', f);
}

void json_write_base64(FILE *f, const void *p, size_t len) {
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *u = p;
        size_t i;

        fputc('"', f);
        for (i = 0; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
                fputc(alphabet[v >> 18], f);
                fputc(alphabet[v >> 12 & 63], f);
                fputc(alphabet[v >> 6 & 63], f);
                fputc(alphabet[v & 63], f);
        }
        if (len - i == 1) {
                uint32_t v = (uint32_t)u[i] << 16;
                fputc(alphabet[v >> 18], f);
                fputc(alphabet[v >> 12 & 63], f);
                fputs("==", f);
        } else if (len - i == 2) {
                uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8;
                fputc(alphabet[v >> 18], f);
                fputc(alphabet[v >> 12 & 63], f);
                fputc(alphabet[v >> 6 & 63], f);
                fputc('=', f);
        }
        fputc('"', f);
}

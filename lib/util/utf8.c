/* SPDX-License-Identifier: MIT */
#include "utf8.h"

#include <errno.h>

/*
 * Table-free validation following the well-formed byte sequences of Unicode
 * 15 §3.9 table 3-7: the second byte's range depends on the lead byte, which
 * excludes overlong forms, surrogates and code points above U+10FFFF at once.
 */
int mql__utf8_check(const uint8_t *s, size_t len) {
        size_t i = 0;

        while (i < len) {
                uint8_t c = s[i];

                if (c < 0x80) {
                        if (c == 0) /* MQTT-1.5.4-2 */
                                return -EBADMSG;
                        i++;
                        continue;
                }

                size_t n;
                uint8_t lo = 0x80, hi = 0xBF;
                if (c >= 0xC2 && c <= 0xDF)
                        n = 1;
                else if (c >= 0xE0 && c <= 0xEF) {
                        n = 2;
                        if (c == 0xE0)
                                lo = 0xA0; /* overlong */
                        else if (c == 0xED)
                                hi = 0x9F; /* surrogates, MQTT-1.5.4-1 */
                } else if (c >= 0xF0 && c <= 0xF4) {
                        n = 3;
                        if (c == 0xF0)
                                lo = 0x90; /* overlong */
                        else if (c == 0xF4)
                                hi = 0x8F; /* above U+10FFFF */
                } else
                        return -EBADMSG;

                if (len - i <= n)
                        return -EBADMSG;
                if (s[i + 1] < lo || s[i + 1] > hi)
                        return -EBADMSG;
                for (size_t k = 2; k <= n; k++)
                        if ((s[i + k] & 0xC0) != 0x80)
                                return -EBADMSG;
                i += n + 1;
        }
        return 0;
}

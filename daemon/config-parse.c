/* SPDX-License-Identifier: MIT */
#include "config-parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

int parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Reads leading decimal digits into *ret, saturating at UINT64_MAX so that an
 * overflow reads as "too large" rather than wrapping. Returns how many. */
static size_t read_digits(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        size_t n = 0;

        for (; s[n] >= '0' && s[n] <= '9'; n++) {
                unsigned d = (unsigned)(s[n] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        v = UINT64_MAX;
                else
                        v = v * 10 + d;
        }
        *ret = v;
        return n;
}

static int in_range(uint64_t v, uint64_t min, uint64_t max, uint64_t *ret) {
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v;
        size_t n = read_digits(s, &v);

        if (n == 0 || s[n] != '\0')
                return -EINVAL;
        return in_range(v, min, max, ret);
}

int parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *ret) {
        uint64_t whole, ms = 0;
        size_t n = read_digits(s, &whole);

        if (n == 0)
                return -EINVAL;
        s += n;
        if (*s == '.') {
                /* "1." and a fourth decimal are refused rather than rounded:
                 * the loader never guesses what was meant. */
                unsigned scale = 100;
                s++;
                if (!(*s >= '0' && *s <= '9'))
                        return -EINVAL;
                for (; *s >= '0' && *s <= '9'; s++, scale /= 10) {
                        if (scale == 0)
                                return -EINVAL;
                        ms += (uint64_t)(*s - '0') * scale;
                }
        }
        if (*s != '\0')
                return -EINVAL;
        if (whole > (UINT64_MAX - ms) / 1000)
                return -ERANGE;
        return in_range(whole * 1000 + ms, min_ms, max_ms, ret);
}

int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v;
        size_t n = read_digits(s, &v);
        unsigned shift = 0;

        if (n == 0)
                return -EINVAL;
        switch (s[n]) {
        case '\0':
                break;
        case 'K':
        case 'k':
                shift = 10;
                break;
        case 'M':
        case 'm':
                shift = 20;
                break;
        case 'G':
        case 'g':
                shift = 30;
                break;
        default:
                return -EINVAL;
        }
        if (shift && s[n + 1] != '\0')
                return -EINVAL;
        if (v > (UINT64_MAX >> shift))
                return -ERANGE;
        return in_range(v << shift, min, max, ret);
}

int parse_mode(const char *s, mode_t *ret) {
        size_t n = strspn(s, "01234567");
        unsigned long v = 0;

        if (n == 0 || n > 4 || s[n] != '\0')
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                v = v * 8 + (unsigned long)(s[i] - '0');
        if (v > 0777)
                return -ERANGE;
        *ret = (mode_t)v;
        return 0;
}

int parse_log_level(const char *s, int *ret) {
        static const struct {
                const char *name;
                int level;
        } names[] = {
                { "emerg", LOG_EMERG },  { "alert", LOG_ALERT },   { "crit", LOG_CRIT },
                { "err", LOG_ERR },      { "error", LOG_ERR },     { "warning", LOG_WARNING },
                { "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
                { "debug", LOG_DEBUG },
        };
        uint64_t v;

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcasecmp(s, names[i].name) == 0) {
                        *ret = names[i].level;
                        return 0;
                }
        int r = parse_uint(s, LOG_EMERG, LOG_DEBUG, &v);
        if (r < 0)
                return r;
        *ret = (int)v;
        return 0;
}

int parse_protocol(const char *s, uint8_t *ret) {
        if (strcmp(s, "5") == 0 || strcmp(s, "5.0") == 0) {
                *ret = 5;
                return 0;
        }
        /* Level 4 is what the CONNECT packet of 3.1.1 carries (MQTT 3.1.1
         * §3.1.2.2), hence "4" for people who think in levels. */
        if (strcmp(s, "3.1.1") == 0 || strcmp(s, "311") == 0 || strcmp(s, "4") == 0) {
                *ret = 4;
                return 0;
        }
        return -EINVAL;
}

void escape_value(const char *s, size_t len, char buf[static CONFIG_VALUE_BUF]) {
        const unsigned char *p = (const unsigned char *)s;
        size_t shown = len < CONFIG_VALUE_SHOWN ? len : CONFIG_VALUE_SHOWN, o = 0, i = 0;

        while (i < shown) {
                uint32_t cp;
                size_t n = utf8_decode(s + i, len - i, &cp);

                if (n > 1 && i + n <= shown) {
                        memcpy(buf + o, p + i, n);
                        o += n;
                        i += n;
                        continue;
                }
                if (n > 1)
                        break; /* a character the cut would split */
                if (p[i] == '"' || p[i] == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char)p[i];
                } else if (p[i] >= 0x20 && p[i] < 0x7f)
                        buf[o++] = (char)p[i];
                else
                        o += (size_t)snprintf(buf + o, 5, "\\x%02x", p[i]);
                i++;
        }
        if (i < len) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
}

void format_size(uint64_t n, char *buf, size_t size) {
        static const char suffix[] = "KMG";
        int i = -1;

        while (i < 2 && n >= 1024 && n % 1024 == 0) {
                n /= 1024;
                i++;
        }
        if (i < 0)
                snprintf(buf, size, "%llu", (unsigned long long)n);
        else
                snprintf(buf, size, "%llu%c", (unsigned long long)n, suffix[i]);
}

void format_seconds(uint64_t ms, char *buf, size_t size) {
        unsigned long long s = ms / 1000, frac = ms % 1000;

        if (frac == 0)
                snprintf(buf, size, "%llu", s);
        else if (frac % 100 == 0)
                snprintf(buf, size, "%llu.%llu", s, frac / 100);
        else if (frac % 10 == 0)
                snprintf(buf, size, "%llu.%02llu", s, frac / 10);
        else
                snprintf(buf, size, "%llu.%03llu", s, frac);
}

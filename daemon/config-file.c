/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE 1 /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"

int file_open_regular(const char *path, struct stat *ret_st) {
        struct stat before, st;

        /* stat() first: open() alone would already act on a device (a
         * watchdog starts ticking when opened) or wait for a FIFO's writer. */
        if (stat(path, &before) < 0)
                return -errno;
        if (S_ISDIR(before.st_mode))
                return -EISDIR;
        if (!S_ISREG(before.st_mode))
                return -EINVAL;

        /* O_NONBLOCK: should the path be swapped for a FIFO after the check,
         * open() still does not wait for a writer. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_dev != before.st_dev || st.st_ino != before.st_ino)
                return -EINVAL;

        *ret_st = st;
        int r = fd;
        fd = -1;
        return r;
}

int file_read_all(int fd, size_t max, char **ret_data, size_t *ret_len) {
        size_t len = 0, cap = 4096;
        _cleanup_free_ char *data = NULL;

        for (;;) {
                if (cap - len < 2) {
                        /* Grows up to max + 2: one byte to see that there
                         * is more than max, one for the NUL. */
                        if (cap >= max + 2)
                                return -EFBIG;
                        size_t bigger = cap * 2 < max + 2 ? cap * 2 : max + 2;
                        char *p = realloc(data, bigger);
                        if (!p)
                                return -ENOMEM;
                        data = p;
                        cap = bigger;
                } else if (!data) {
                        cap = cap < max + 2 ? cap : max + 2;
                        data = malloc(cap);
                        if (!data)
                                return -ENOMEM;
                }
                ssize_t n = read(fd, data + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }

        data[len] = '\0';
        *ret_data = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

const char *file_error_str(int err) {
        switch (err) {
        case -EINVAL:
                return "not a regular file";
        case -EFBIG:
                return "file too large";
        default:
                return strerror(-err);
        }
}

char *path_resolve(const char *dir, const char *path) {
        char *r;

        if (path[0] == '/' || !dir)
                return strdup(path);
        if (asprintf(&r, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path) < 0)
                return NULL;
        return r;
}

char *path_dir(const char *file, bool *ret_oom) {
        const char *slash = strrchr(file, '/');

        *ret_oom = false;
        if (!slash)
                return NULL;
        /* "/x.conf" lives in "/", not in "". */
        char *d = strndup(file, slash == file ? 1 : (size_t)(slash - file));
        if (!d)
                *ret_oom = true;
        return d;
}

static bool is_dropin_name(const char *name) {
        size_t n = strlen(name);

        /* Dotfiles are editors' and package managers' leftovers
         * (".10-a.conf.swp", ".#x.conf"), as systemd treats them. */
        return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **list, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(list[i]);
        free(list);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

int dropins_list(const char *dir, char ***ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        char **list = NULL;
        size_t n = 0;

        if (!d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        goto done;
                return -errno;
        }

        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                int r = -errno;
                                free_list(list, n);
                                return r;
                        }
                        break;
                }
                if (!is_dropin_name(de->d_name))
                        continue;

                char **bigger = realloc(list, (n + 1) * sizeof(*list));
                if (!bigger) {
                        free_list(list, n);
                        return -ENOMEM;
                }
                list = bigger;
                list[n] = path_resolve(dir, de->d_name);
                if (!list[n]) {
                        free_list(list, n);
                        return -ENOMEM;
                }
                n++;
        }
        /* strcmp, not the locale's collation: the order must not change
         * with LANG. */
        if (n > 1)
                qsort(list, n, sizeof(*list), cmp_str);
done:
        *ret = list;
        *ret_n = n;
        return 0;
}

/* SPDX-License-Identifier: MIT */

/*
 * Replays fuzz inputs without libFuzzer, so every corpus is also an ordinary
 * test: `fuzz-X-replay FILE|DIR...` feeds each file (and each file directly
 * inside each DIR, dotfiles skipped) to LLVMFuzzerTestOneInput() once. A
 * harness reports a finding by crashing or aborting, as under libFuzzer.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reads the whole file into a malloc'd buffer (never NULL on success). */
static int read_file(const char *path, uint8_t **ret_data, size_t *ret_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;

        size_t size = 0, cap = 4096;
        uint8_t *data = malloc(cap);
        if (!data) {
                close(fd);
                return -ENOMEM;
        }

        for (;;) {
                if (size == cap) {
                        uint8_t *bigger = realloc(data, cap * 2);
                        if (!bigger) {
                                free(data);
                                close(fd);
                                return -ENOMEM;
                        }
                        data = bigger;
                        cap *= 2;
                }
                ssize_t n = read(fd, data + size, cap - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        free(data);
                        close(fd);
                        return r;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        close(fd);

        *ret_data = data;
        *ret_size = size;
        return 0;
}

static int replay_file(const char *path) {
        uint8_t *data = NULL;
        size_t size = 0;
        int r = read_file(path, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }

        /* Named first, so that a crash can be traced to its input. */
        fprintf(stderr, "replaying %s (%zu bytes)\n", path, size);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        return 0;
}

static int skip_dotfiles(const struct dirent *de) {
        return de->d_name[0] != '.';
}

/* Replays the regular files directly inside `dir`, in name order. */
static int replay_dir(const char *dir, size_t *count) {
        struct dirent **entries;
        int n = scandir(dir, &entries, skip_dotfiles, alphasort);
        if (n < 0) {
                int r = -errno;
                fprintf(stderr, "%s: %s\n", dir, strerror(-r));
                return r;
        }

        int r = 0;
        for (int i = 0; i < n && r >= 0; i++) {
                size_t len = strlen(dir) + 1 + strlen(entries[i]->d_name) + 1;
                char *path = malloc(len);
                struct stat st;

                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                snprintf(path, len, "%s/%s", dir, entries[i]->d_name);
                if (stat(path, &st) < 0) {
                        r = -errno;
                        fprintf(stderr, "%s: %s\n", path, strerror(-r));
                } else if (S_ISREG(st.st_mode)) {
                        /* One level only: subdirectories are not inputs. */
                        r = replay_file(path);
                        if (r >= 0)
                                (*count)++;
                }
                free(path);
        }

        for (int i = 0; i < n; i++)
                free(entries[i]);
        free(entries);
        return r;
}

int main(int argc, char **argv) {
        size_t count = 0;

        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);

        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (S_ISDIR(st.st_mode))
                        r = replay_dir(argv[i], &count);
                else {
                        r = replay_file(argv[i]);
                        if (r >= 0)
                                count++;
                }
                if (r < 0)
                        return 1;
        }

        if (count == 0) {
                fprintf(stderr, "%s: no inputs found\n", argc > 0 ? argv[0] : "fuzz-main");
                return 1;
        }
        printf("replayed %zu inputs\n", count);
        return 0;
}

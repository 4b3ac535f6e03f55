/* SPDX-License-Identifier: MIT */
/* replay_main.c - a fuzz target without libFuzzer: feed it each file named on the command line
 * (or every file of each folder named), once. The seed corpora run this way in every build,
 * under AddressSanitizer in the asan-ubsan preset. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            unsigned char *nb = realloc(b, cap *= 2);
            if (nb == NULL)
                break;
            b = nb;
        }
    }
    fclose(f);
    if (b == NULL)
        return 1;
    LLVMFuzzerTestOneInput(b, n);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0;
    size_t runs = 0;
    for (int i = 1; i < argc; ++i) {
        struct stat sb;
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
                bad |= replay(p);
                ++runs;
            }
            if (d)
                closedir(d);
        } else {
            bad |= replay(argv[i]);
            ++runs;
        }
    }
    printf("replayed %zu inputs\n", runs);
    return bad || runs == 0;
}

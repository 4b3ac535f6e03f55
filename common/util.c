/* SPDX-License-Identifier: MIT */
/* util.c - aligned memory, atomic file writes, directories and the wall clock. */
#define _GNU_SOURCE /* madvise, MADV_HUGEPAGE */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bx/common.h"

void *bx_alloc_aligned(size_t size)
{
    void *p = NULL;
    size_t rounded = (size + 63) / 64 * 64;
    /* Large blocks (galleries) are 2 MiB aligned and offered to transparent huge pages: a 1:N
     * scan streams them, and 4 KiB pages would cost a TLB miss every two templates. */
    size_t align = rounded >= ((size_t)8 << 20) ? ((size_t)2 << 20) : 64;
    if (rounded < size || posix_memalign(&p, align, rounded ? rounded : 64) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (align > 64)
        madvise(p, rounded, MADV_HUGEPAGE);
#endif
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

void bx_free_aligned(void *p)
{
    free(p);
}

bool bx_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

void bx_fork_join(unsigned n, void *(*fn)(void *), void *items, size_t item_size)
{
    char *it = items;
    pthread_t *th = n > 1 ? calloc(n, sizeof *th) : NULL;
    unsigned started = 0; /* threads 1..started are running */
    for (unsigned t = 1; th && t < n; ++t, ++started)
        if (pthread_create(&th[t], NULL, fn, it + t * item_size) != 0)
            break;
    if (n > 0)
        fn(it);
    for (unsigned t = 1; t <= started; ++t)
        pthread_join(th[t], NULL);
    for (unsigned t = started + 1; t < n; ++t)
        fn(it + t * item_size);
    free(th);
}

enum bx_status bx_file_write_atomic(const char *path, const void *data, size_t len,
                                    struct bx_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (tmp == NULL)
        return BX_FAIL(err, BX_ENOMEM, "cannot write '%s': out of memory", path);
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());

    enum bx_status st = BX_OK;
    int slot = bx_temp_register(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        st = BX_FAIL(err, BX_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        goto done;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            st = BX_FAIL(err, BX_EIO, "cannot write '%s': %s", tmp, strerror(errno));
            goto fail_close;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        st = BX_FAIL(err, BX_EIO, "cannot flush '%s': %s", tmp, strerror(errno));
        goto fail_close;
    }
    if (close(fd) != 0) {
        st = BX_FAIL(err, BX_EIO, "cannot close '%s': %s", tmp, strerror(errno));
        goto fail_unlink;
    }
    if (rename(tmp, path) != 0) {
        st = BX_FAIL(err, BX_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        goto fail_unlink;
    }
    goto done;

fail_close:
    close(fd);
fail_unlink:
    unlink(tmp);
done:
    bx_temp_unregister(slot);
    free(tmp);
    return st;
}

enum bx_status bx_file_commit(const char *tmp, const char *path, struct bx_error *err)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    enum bx_status st = BX_OK;
    if (fd < 0 || fsync(fd) != 0)
        st = BX_FAIL(err, BX_EIO, "%s: cannot flush '%s': %s", path, tmp, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (st == BX_OK && rename(tmp, path) != 0)
        st = BX_FAIL(err, BX_EIO, "%s: cannot rename '%s': %s", path, tmp, strerror(errno));
    if (st != BX_OK)
        unlink(tmp);
    return st;
}

enum bx_status bx_mkdir_p(const char *path, struct bx_error *err)
{
    char *buf = strdup(path);
    if (buf == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    enum bx_status st = BX_OK;
    for (char *p = buf + 1;; ++p) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            st = BX_FAIL(err, BX_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    if (st == BX_OK) {
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = BX_FAIL(err, BX_EIO, "'%s' is not a directory", path);
    }
    free(buf);
    return st;
}

double bx_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bx_topk_init(struct bx_topk *t, double *storage, size_t k)
{
    t->v = storage;
    t->k = k;
    t->n = 0;
}

void bx_topk_push(struct bx_topk *t, double x)
{
    double *h = t->v;
    if (t->n < t->k) { /* sift up */
        size_t c = t->n++;
        while (c > 0 && h[(c - 1) / 2] > x) {
            h[c] = h[(c - 1) / 2];
            c = (c - 1) / 2;
        }
        h[c] = x;
    } else if (t->k > 0 && x > h[0]) { /* replace the smallest, sift down */
        size_t c = 0;
        for (;;) {
            size_t l = 2 * c + 1;
            if (l >= t->k)
                break;
            if (l + 1 < t->k && h[l + 1] < h[l])
                ++l;
            if (h[l] >= x)
                break;
            h[c] = h[l];
            c = l;
        }
        h[c] = x;
    }
}

double bx_topk_min(const struct bx_topk *t)
{
    return t->n == t->k && t->k > 0 ? t->v[0] : -BX_INF;
}

/* Hinnant's days_from_civil. */
bool bx_date_parse(const char *s, long *days)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    for (int i = 0; i < 10; ++i)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return false;
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return true;
}

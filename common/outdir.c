/* SPDX-License-Identifier: MIT */
/* outdir.c - all of a command's outputs or none: an output folder is written through a staging
 * folder inside it (DIR/.bxsim-stage.XXXXXX) and its entries are moved into place together at
 * the end; output paths are checked before any work starts; temporary files and folders are
 * removed when SIGINT or SIGTERM stops the process. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bx/common.h"

/* ---------------------------------------------------------------- cleanup on a signal */

/* Paths being written; a slot is in use while its flag is set (set after the path is copied,
 * cleared before it is reused), so that the handler reads only whole paths. */
#define N_TEMPS 16
static char temp_path[N_TEMPS][4096];
static volatile sig_atomic_t temp_used[N_TEMPS];

int bx_temp_register(const char *path)
{
    for (int i = 0; i < N_TEMPS; ++i) {
        sig_atomic_t free_slot = 0;
        if (__atomic_compare_exchange_n(&temp_used[i], &free_slot, -1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            snprintf(temp_path[i], sizeof temp_path[i], "%s", path);
            __atomic_store_n(&temp_used[i], 1, __ATOMIC_RELEASE);
            return i;
        }
    }
    return -1; /* more than N_TEMPS at once: still written safely, only not cleaned on a signal */
}

void bx_temp_unregister(int slot)
{
    if (slot >= 0 && slot < N_TEMPS)
        __atomic_store_n(&temp_used[slot], 0, __ATOMIC_RELEASE);
}

/* Remove @p name under @p dirfd and what it holds, with async-signal-safe calls only (openat,
 * getdents64, unlinkat), at most @p depth folders deep. */
static void rm_at(int dirfd, const char *name, int depth)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    for (int pass = 0; pass < 4; ++pass) { /* again from the start while entries go */
        lseek(fd, 0, SEEK_SET);
        bool removed = false;
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct dirent64 *e = (struct dirent64 *)(void *)(buf + off);
                off += e->d_reclen;
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                if (unlinkat(fd, e->d_name, 0) == 0) {
                    removed = true;
                } else if (depth > 0 && (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)) {
                    rm_at(fd, e->d_name, depth - 1);
                    removed = true;
                }
            }
        }
        if (!removed)
            break;
    }
    close(fd);
    unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void on_signal(int sig)
{
    int saved = errno;
    for (int i = 0; i < N_TEMPS; ++i)
        if (temp_used[i] == 1)
            rm_at(AT_FDCWD, temp_path[i], 8);
    errno = saved;
    signal(sig, SIG_DFL);
    raise(sig);
}

void bx_temp_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; ++i) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue; /* ignored by whoever started us (nohup): leave it so */
        sigaction(sigs[i], &sa, NULL);
    }
}

void bx_rm_tree(const char *path)
{
    rm_at(AT_FDCWD, path, 16);
}

/* ---------------------------------------------------------------- output paths */

enum bx_status bx_out_file_check(const char *path, const char *option, struct bx_error *err)
{
    if (path == NULL || *path == '\0')
        return BX_FAIL(err, BX_EINVAL, "%s: an output file name is needed", option);
    if (strlen(path) > 3900)
        return BX_FAIL(err, BX_EINVAL, "%s %s: path too long", option, path);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return BX_FAIL(err, BX_EINVAL, "%s %s: is a directory, a file name is needed", option,
                       path);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return BX_FAIL(err, BX_EINVAL, "%s %s: the folder '%s' does not exist", option, path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return BX_FAIL(err, BX_EINVAL, "%s %s: cannot write in '%s': %s", option, path, dir,
                       strerror(errno));
    return BX_OK;
}

enum bx_status bx_outdir_open(struct bx_outdir *o, const char *dir, const char *option,
                              struct bx_error *err)
{
    memset(o, 0, sizeof *o);
    o->slot = -1;
    if (dir == NULL || *dir == '\0')
        return BX_FAIL(err, BX_EINVAL, "%s: an output folder is needed", option);
    if (strlen(dir) > 3000)
        return BX_FAIL(err, BX_EINVAL, "%s %s: path too long", option, dir);
    struct stat sb;
    if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return BX_FAIL(err, BX_EINVAL, "%s %s: exists and is not a folder", option, dir);
    struct bx_error e = {0};
    o->created = stat(dir, &sb) != 0;
    if (bx_mkdir_p(dir, &e) != BX_OK)
        return BX_FAIL(err, BX_EINVAL, "%s %s: %s", option, dir, e.msg);
    if (access(dir, W_OK | X_OK) != 0)
        return BX_FAIL(err, BX_EINVAL, "%s %s: cannot write in it: %s", option, dir,
                       strerror(errno));
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    snprintf(o->stage, sizeof o->stage, "%s/.bxsim-stage.XXXXXX", dir);
    if (mkdtemp(o->stage) == NULL) {
        enum bx_status st =
            BX_FAIL(err, errno == ENOSPC ? BX_EIO : BX_EINVAL,
                    "%s %s: cannot create a folder in it: %s", option, dir, strerror(errno));
        o->stage[0] = '\0';
        if (o->created)
            rmdir(dir);
        return st;
    }
    chmod(o->stage, 0755); /* mkdtemp makes it 0700; the published folders keep their mode */
    o->slot = bx_temp_register(o->stage);
    return BX_OK;
}

enum bx_status bx_outdir_path(const struct bx_outdir *o, const char *name, char *buf, size_t len,
                              struct bx_error *err)
{
    if (snprintf(buf, len, "%s/%s", o->stage, name) >= (int)len)
        return BX_FAIL(err, BX_EINVAL, "%s/%s: path too long", o->dir, name);
    return BX_OK;
}

/* Flush every regular file under @p path (and the folders) to disk. */
static enum bx_status sync_tree(const char *path, int depth, struct bx_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    enum bx_status st = BX_OK;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode) && depth > 0) {
        DIR *d = fdopendir(dup(fd));
        struct dirent *e;
        while (st == BX_OK && d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[4096];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub)
                st = BX_FAIL(err, BX_EINVAL, "%s: path too long", path);
            else
                st = sync_tree(sub, depth - 1, err);
        }
        if (d)
            closedir(d);
    }
    if (st == BX_OK && fsync(fd) != 0 && errno != EINVAL)
        st = BX_FAIL(err, BX_EIO, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    return st;
}

struct entry {
    char name[256];
    int rank; /* folders first, then pages and data, JSON summaries last */
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->rank != y->rank ? x->rank - y->rank : strcmp(x->name, y->name);
}

enum bx_status bx_outdir_commit(struct bx_outdir *o, struct bx_error *err)
{
    if (o->stage[0] == '\0')
        return BX_FAIL(err, BX_EINVAL, "no output folder open");
    enum bx_status st = sync_tree(o->stage, 3, err);
    struct entry *v = NULL;
    size_t n = 0, cap = 0;
    DIR *d = st == BX_OK ? opendir(o->stage) : NULL;
    if (st == BX_OK && d == NULL)
        st = BX_FAIL(err, BX_EIO, "%s: %s", o->stage, strerror(errno));
    struct dirent *e;
    while (st == BX_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t c = cap ? 2 * cap : 16;
            struct entry *w = realloc(v, c * sizeof *w);
            if (w == NULL) {
                st = BX_FAIL(err, BX_ENOMEM, "out of memory");
                break;
            }
            v = w;
            cap = c;
        }
        snprintf(v[n].name, sizeof v[n].name, "%s", e->d_name);
        size_t len = strlen(e->d_name);
        bool json = len > 5 && strcmp(e->d_name + len - 5, ".json") == 0;
        char src[8192];
        struct stat sb;
        bool folder = snprintf(src, sizeof src, "%s/%s", o->stage, e->d_name) < (int)sizeof src &&
                      lstat(src, &sb) == 0 && S_ISDIR(sb.st_mode);
        v[n].rank = folder ? 0 : json ? 2 : 1;
        ++n;
    }
    if (d)
        closedir(d);
    if (st == BX_OK && n > 1)
        qsort(v, n, sizeof *v, cmp_entry);
    /* Everything is on disk: move each entry into place (a folder is exchanged whole with the
     * one it replaces, which then goes with the staging folder). An interrupt waits until the
     * moves are done, so that it cannot leave half the new set beside half the old one. */
    sigset_t block, saved;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &saved);
    for (size_t i = 0; st == BX_OK && i < n; ++i) {
        char src[8192], dst[8192];
        if (snprintf(src, sizeof src, "%s/%s", o->stage, v[i].name) >= (int)sizeof src ||
            snprintf(dst, sizeof dst, "%s/%s", o->dir, v[i].name) >= (int)sizeof dst) {
            st = BX_FAIL(err, BX_EINVAL, "%s: path too long", o->dir);
            break;
        }
        struct stat sb;
        if (v[i].rank == 0 && lstat(dst, &sb) == 0) {
            if (!S_ISDIR(sb.st_mode)) {
                st = BX_FAIL(err, BX_EIO, "%s: exists and is not a folder", dst);
                break;
            }
            if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_EXCHANGE) == 0)
                continue;
            /* No exchange on this file system: move the old one aside, then the new in. */
            char old[8192];
            if (snprintf(old, sizeof old, "%s/%s.old", o->stage, v[i].name) >= (int)sizeof old ||
                rename(dst, old) != 0) {
                st = BX_FAIL(err, BX_EIO, "cannot replace %s: %s", dst, strerror(errno));
                break;
            }
        }
        if (rename(src, dst) != 0)
            st = BX_FAIL(err, BX_EIO, "cannot move %s into place: %s", dst, strerror(errno));
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    free(v);
    if (st == BX_OK) {
        o->created = false; /* published: the folder stays */
        int fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    bx_outdir_abort(o);
    return st;
}

void bx_outdir_abort(struct bx_outdir *o)
{
    if (o == NULL)
        return;
    if (o->stage[0]) {
        bx_rm_tree(o->stage);
        if (o->created)
            rmdir(o->dir); /* only when empty: nothing was published */
    }
    bx_temp_unregister(o->slot);
    o->slot = -1;
    o->stage[0] = '\0';
}

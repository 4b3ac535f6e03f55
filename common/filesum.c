/* SPDX-License-Identifier: MIT */
/* filesum.c - a whole-file checksum in the first BX_FILESUM_BLOCK bytes of the HDF5 files bxsim
 * writes (HDF5's "user block", which HDF5 itself never reads): a damaged results.h5 or template
 * file is refused before libhdf5 parses any of it (libhdf5 trusts lengths it reads: a corrupted
 * file can crash it).
 *
 * The block is text, readable with `head -c 128 FILE`:
 *     bxsim file checksum 1\nlength 1120571\nhash 0123456789abcdef\n
 * then zeros. The hash covers every byte after the block; length is the whole file's size.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bx/common.h"

static const char magic[] = "bxsim file checksum 1\n";
static const unsigned char hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* ---------------------------------------------------------------- the hash */

/* A 64-bit hash of 32-byte stripes in four independent lanes (multiply-rotate rounds, fast and
 * well mixed for detecting damage; not cryptographic), bytes read little-endian. */
#define P1 0x9e3779b185ebca87ULL
#define P2 0xc2b2ae3d27d4eb4fULL
#define P3 0x165667b19e3779f9ULL

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t w)
{
    return rotl(acc + w * P2, 31) * P1;
}

struct hasher {
    uint64_t v[4];
    unsigned char tail[32];
    size_t n_tail;
    uint64_t total;
};

static void hash_init(struct hasher *h)
{
    h->v[0] = P1 + P2;
    h->v[1] = P2;
    h->v[2] = 0;
    h->v[3] = -P1;
    h->n_tail = 0;
    h->total = 0;
}

static void hash_stripe(struct hasher *h, const unsigned char *p)
{
    for (int k = 0; k < 4; ++k)
        h->v[k] = round64(h->v[k], le64(p + 8 * k));
}

static void hash_update(struct hasher *h, const unsigned char *p, size_t n)
{
    h->total += n;
    if (h->n_tail) {
        size_t take = 32 - h->n_tail < n ? 32 - h->n_tail : n;
        memcpy(h->tail + h->n_tail, p, take);
        h->n_tail += take;
        p += take;
        n -= take;
        if (h->n_tail < 32)
            return;
        hash_stripe(h, h->tail);
        h->n_tail = 0;
    }
    for (; n >= 32; p += 32, n -= 32)
        hash_stripe(h, p);
    memcpy(h->tail, p, n);
    h->n_tail = n;
}

static uint64_t hash_final(struct hasher *h)
{
    uint64_t x = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) + rotl(h->v[3], 18);
    for (int k = 0; k < 4; ++k)
        x = (x ^ round64(0, h->v[k])) * P1 + P3;
    x += h->total;
    for (size_t i = 0; i < h->n_tail; ++i)
        x = rotl(x ^ (h->tail[i] * P3), 11) * P1;
    x ^= x >> 33;
    x *= P2;
    x ^= x >> 29;
    x *= P3;
    x ^= x >> 32;
    return x;
}

/* The hash of @p fd's bytes from BX_FILESUM_BLOCK to its end (@p size bytes in all). */
static bool hash_file(int fd, uint64_t size, uint64_t *out)
{
    struct hasher h;
    hash_init(&h);
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    if (buf == NULL)
        return false;
    uint64_t off = BX_FILESUM_BLOCK;
    bool ok = true;
    while (ok && off < size) {
        size_t want = size - off < cap ? (size_t)(size - off) : cap;
        ssize_t r = pread(fd, buf, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            ok = false;
            break;
        }
        hash_update(&h, buf, (size_t)r);
        off += (uint64_t)r;
    }
    free(buf);
    *out = hash_final(&h);
    return ok;
}

double bx_file_read_limit(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? 1100.0 * (double)sb.st_size + 4096 : 0;
}

/* ---------------------------------------------------------------- stamp and verify */

enum bx_status bx_file_stamp(const char *path, struct bx_error *err)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    enum bx_status st = BX_OK;
    unsigned char head[BX_FILESUM_BLOCK];
    uint64_t h = 0;
    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size < BX_FILESUM_BLOCK + 8) {
        st = BX_FAIL(err, BX_EIO, "%s: too short to hold a checksum block", path);
    } else if (pread(fd, head, BX_FILESUM_BLOCK, 0) != BX_FILESUM_BLOCK) {
        st = BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    } else if (memcmp(head + BX_FILESUM_BLOCK - 8, "\0\0\0\0\0\0\0\0", 8) != 0) {
        st = BX_FAIL(err, BX_EIO, "%s: its first %d bytes are not a free block", path,
                     BX_FILESUM_BLOCK);
    } else if (!hash_file(fd, (uint64_t)sb.st_size, &h)) {
        st = BX_FAIL(err, BX_EIO, "%s: cannot read it back: %s", path, strerror(errno));
    } else {
        memset(head, 0, sizeof head);
        int len = snprintf((char *)head, sizeof head, "%slength %" PRIu64 "\nhash %016" PRIx64 "\n",
                           magic, (uint64_t)sb.st_size, h);
        if (len <= 0 || pwrite(fd, head, BX_FILESUM_BLOCK, 0) != BX_FILESUM_BLOCK)
            st = BX_FAIL(err, BX_EIO, "%s: cannot write its checksum: %s", path, strerror(errno));
    }
    if (close(fd) != 0 && st == BX_OK)
        st = BX_FAIL(err, BX_EIO, "%s: %s", path, strerror(errno));
    return st;
}

enum bx_status bx_file_verify(const char *path, bool *stamped, struct bx_error *err)
{
    if (stamped)
        *stamped = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return BX_FAIL(err, BX_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    unsigned char head[BX_FILESUM_BLOCK] = {0};
    enum bx_status st = BX_OK;
    ssize_t got = fstat(fd, &sb) == 0 ? pread(fd, head, sizeof head, 0) : -1;
    if (got < 8 || !S_ISREG(sb.st_mode)) {
        st =
            BX_FAIL(err, BX_EFORMAT, "%s: not an HDF5 file (empty, too short or not a file)", path);
    } else if (memcmp(head, hdf5_sig, 8) == 0) {
        /* HDF5 with no block of ours (h5py, other tools): read with structural checks only. */
    } else if (memcmp(head, magic, sizeof magic - 1) != 0) {
        st = BX_FAIL(err, BX_EFORMAT,
                     "%s: not an HDF5 file (nor one written by bxsim: damaged or another "
                     "format)",
                     path);
    } else {
        uint64_t len = 0, want = 0, h = 0;
        char text[BX_FILESUM_BLOCK + 1];
        memcpy(text, head, BX_FILESUM_BLOCK);
        text[BX_FILESUM_BLOCK] = '\0';
        if (got != BX_FILESUM_BLOCK ||
            sscanf(text + sizeof magic - 1, "length %" SCNu64 "\nhash %" SCNx64, &len, &want) !=
                2) {
            st = BX_FAIL(err, BX_EFORMAT, "%s: its checksum block is damaged", path);
        } else if (len != (uint64_t)sb.st_size) {
            st = BX_FAIL(err, BX_EFORMAT,
                         "%s: damaged: %" PRIu64 " bytes, its checksum block says %" PRIu64
                         " (truncated or appended to)",
                         path, (uint64_t)sb.st_size, len);
        } else if (!hash_file(fd, len, &h)) {
            st = BX_FAIL(err, BX_EIO, "%s: read error: %s", path, strerror(errno));
        } else if (h != want) {
            st = BX_FAIL(err, BX_EFORMAT,
                         "%s: damaged: its content does not match its checksum (%016" PRIx64
                         " instead of %016" PRIx64 ")",
                         path, h, want);
        } else if (stamped) {
            *stamped = true;
        }
    }
    close(fd);
    return st;
}

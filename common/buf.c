/* SPDX-License-Identifier: MIT */
/* buf.c - byte buffers for passing results between processes (bx/common.h). */
#include <stdlib.h>
#include <string.h>

#include "bx/common.h"

void bx_buf_fini(struct bx_buf *b)
{
    free(b->data);
    *b = (struct bx_buf){0};
}

void bx_buf_put(struct bx_buf *b, const void *p, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bx_buf_put_u64(struct bx_buf *b, uint64_t v)
{
    bx_buf_put(b, &v, sizeof v);
}

void bx_buf_put_f64(struct bx_buf *b, double v)
{
    bx_buf_put(b, &v, sizeof v);
}

void bx_buf_put_str(struct bx_buf *b, const char *s)
{
    /* length + 1, so that 0 stands for NULL */
    size_t n = s ? strlen(s) : 0;
    bx_buf_put_u64(b, s ? (uint64_t)n + 1 : 0);
    bx_buf_put(b, s, n);
}

bool bx_reader_get(struct bx_reader *r, void *p, size_t n)
{
    if (r->failed || n > r->len - r->pos) {
        r->failed = true;
        memset(p, 0, n);
        return false;
    }
    memcpy(p, r->p + r->pos, n);
    r->pos += n;
    return true;
}

uint64_t bx_reader_u64(struct bx_reader *r)
{
    uint64_t v;
    bx_reader_get(r, &v, sizeof v);
    return v;
}

double bx_reader_f64(struct bx_reader *r)
{
    double v;
    bx_reader_get(r, &v, sizeof v);
    return v;
}

char *bx_reader_str(struct bx_reader *r)
{
    uint64_t n = bx_reader_u64(r);
    if (n == 0 || r->failed)
        return NULL;
    if (n - 1 > r->len - r->pos) {
        r->failed = true;
        return NULL;
    }
    char *s = malloc((size_t)n);
    if (s == NULL) {
        r->failed = true;
        return NULL;
    }
    bx_reader_get(r, s, (size_t)(n - 1));
    s[n - 1] = '\0';
    return s;
}

void *bx_reader_array(struct bx_reader *r, size_t n, size_t size)
{
    size_t bytes;
    if (n == 0 || r->failed)
        return NULL;
    if (!bx_size_mul(n, size, &bytes) || bytes > r->len - r->pos) {
        r->failed = true;
        return NULL;
    }
    void *p = malloc(bytes);
    if (p == NULL) {
        r->failed = true;
        return NULL;
    }
    bx_reader_get(r, p, bytes);
    return p;
}

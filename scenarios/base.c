/* SPDX-License-Identifier: MIT */
/* base.c - `base: other.yaml` in a scenario: the variant is the base file with the variant's
 * fields laid over it (docs/scenarios.md, "Variants"). Mappings merge key by key, lists of named
 * items (ports, classes, stations) merge item by item by `name` (new names are appended), any
 * other value replaces the base's. The merged document keeps every node's position and the file
 * it came from, so that an error names FILE:LINE:COL of the file that holds the fault. */
#define _POSIX_C_SOURCE 200809L
#include "scn_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct merge {
    yaml_document_t *out;
    uint8_t *origin; /* per node of out (1-based index - 1): which file */
    size_t cap;
    bool failed;
};

static int note(struct merge *m, int idx, const yaml_node_t *src, uint8_t file)
{
    if (idx == 0) {
        m->failed = true;
        return 0;
    }
    yaml_node_t *n = yaml_document_get_node(m->out, idx);
    n->start_mark = src->start_mark;
    n->end_mark = src->end_mark;
    if ((size_t)idx > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        while (cap < (size_t)idx)
            cap *= 2;
        uint8_t *o = realloc(m->origin, cap);
        if (o == NULL) {
            m->failed = true;
            return 0;
        }
        m->origin = o;
        m->cap = cap;
    }
    m->origin[idx - 1] = file;
    return idx;
}

/* Copy node @p i of @p doc (file @p file) into the merged document; its index there, 0 on
 * failure. */
static int copy(struct merge *m, yaml_document_t *doc, int i, uint8_t file)
{
    yaml_node_t *n = yaml_document_get_node(doc, i);
    if (n == NULL || m->failed)
        return 0;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return note(m,
                    yaml_document_add_scalar(m->out, n->tag, n->data.scalar.value,
                                             (int)n->data.scalar.length, n->data.scalar.style),
                    n, file);
    case YAML_SEQUENCE_NODE: {
        int s =
            note(m, yaml_document_add_sequence(m->out, n->tag, n->data.sequence.style), n, file);
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             s && it < n->data.sequence.items.top && !m->failed; ++it) {
            int c = copy(m, doc, *it, file);
            if (!c || !yaml_document_append_sequence_item(m->out, s, c))
                m->failed = true;
        }
        return m->failed ? 0 : s;
    }
    case YAML_MAPPING_NODE: {
        int s = note(m, yaml_document_add_mapping(m->out, n->tag, n->data.mapping.style), n, file);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             s && p < n->data.mapping.pairs.top && !m->failed; ++p) {
            int k = copy(m, doc, p->key, file), v = copy(m, doc, p->value, file);
            if (!k || !v || !yaml_document_append_mapping_pair(m->out, s, k, v))
                m->failed = true;
        }
        return m->failed ? 0 : s;
    }
    default:
        m->failed = true;
        return 0;
    }
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of @p key in mapping @p map of @p doc (0: none). */
static int value_of(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         ++p) {
        const char *k = scalar(yaml_document_get_node(doc, p->key));
        if (k && strcmp(k, key) == 0)
            return p->value;
    }
    return 0;
}

/* A list whose every item is a mapping with a scalar `name`. */
static bool named_list(yaml_document_t *doc, yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SEQUENCE_NODE)
        return false;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         ++it) {
        yaml_node_t *item = yaml_document_get_node(doc, *it);
        if (!scalar(yaml_document_get_node(doc, value_of(doc, item, "name"))))
            return false;
    }
    return true;
}

static int merge(struct merge *m, yaml_document_t *bd, int bi, uint8_t bf, yaml_document_t *vd,
                 int vi, uint8_t vf, bool top);

static const char *item_name(yaml_document_t *doc, int i)
{
    return scalar(
        yaml_document_get_node(doc, value_of(doc, yaml_document_get_node(doc, i), "name")));
}

static int merge_lists(struct merge *m, yaml_document_t *bd, yaml_node_t *b, uint8_t bf,
                       yaml_document_t *vd, yaml_node_t *v, uint8_t vf)
{
    int s = note(m, yaml_document_add_sequence(m->out, v->tag, v->data.sequence.style), v, vf);
    for (yaml_node_item_t *it = b->data.sequence.items.start;
         s && it < b->data.sequence.items.top && !m->failed; ++it) {
        const char *name = item_name(bd, *it);
        int over = 0;
        for (yaml_node_item_t *jt = v->data.sequence.items.start;
             jt < v->data.sequence.items.top && !over; ++jt)
            if (strcmp(item_name(vd, *jt), name) == 0)
                over = *jt;
        int c = over ? merge(m, bd, *it, bf, vd, over, vf, false) : copy(m, bd, *it, bf);
        if (!c || !yaml_document_append_sequence_item(m->out, s, c))
            m->failed = true;
    }
    for (yaml_node_item_t *jt = v->data.sequence.items.start;
         s && jt < v->data.sequence.items.top && !m->failed; ++jt) {
        const char *name = item_name(vd, *jt);
        bool in_base = false;
        for (yaml_node_item_t *it = b->data.sequence.items.start;
             it < b->data.sequence.items.top && !in_base; ++it)
            in_base = strcmp(item_name(bd, *it), name) == 0;
        if (in_base)
            continue;
        int c = copy(m, vd, *jt, vf);
        if (!c || !yaml_document_append_sequence_item(m->out, s, c))
            m->failed = true;
    }
    return m->failed ? 0 : s;
}

/* Base node @p bi laid under variant node @p vi (either 0: the other alone). At the top, the
 * variant's `base` key is left out. */
static int merge(struct merge *m, yaml_document_t *bd, int bi, uint8_t bf, yaml_document_t *vd,
                 int vi, uint8_t vf, bool top)
{
    yaml_node_t *b = bi ? yaml_document_get_node(bd, bi) : NULL;
    yaml_node_t *v = vi ? yaml_document_get_node(vd, vi) : NULL;
    if (v == NULL)
        return copy(m, bd, bi, bf);
    if (b == NULL || b->type != v->type ||
        (v->type == YAML_SEQUENCE_NODE && !(named_list(bd, b) && named_list(vd, v))) ||
        v->type == YAML_SCALAR_NODE)
        return copy(m, vd, vi, vf);
    if (v->type == YAML_SEQUENCE_NODE)
        return merge_lists(m, bd, b, bf, vd, v, vf);
    int s = note(m, yaml_document_add_mapping(m->out, v->tag, v->data.mapping.style), v, vf);
    for (yaml_node_pair_t *p = b->data.mapping.pairs.start;
         s && p < b->data.mapping.pairs.top && !m->failed; ++p) {
        const char *key = scalar(yaml_document_get_node(bd, p->key));
        int over = key ? value_of(vd, v, key) : 0;
        int k = copy(m, bd, p->key, bf);
        int c = merge(m, bd, p->value, bf, vd, over, vf, false);
        if (!k || !c || !yaml_document_append_mapping_pair(m->out, s, k, c))
            m->failed = true;
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
         s && p < v->data.mapping.pairs.top && !m->failed; ++p) {
        const char *key = scalar(yaml_document_get_node(vd, p->key));
        if (key == NULL || (top && strcmp(key, "base") == 0) || value_of(bd, b, key))
            continue;
        int k = copy(m, vd, p->key, vf), c = copy(m, vd, p->value, vf);
        if (!k || !c || !yaml_document_append_mapping_pair(m->out, s, k, c))
            m->failed = true;
    }
    return m->failed ? 0 : s;
}

enum bx_status bx_scn__resolve_base(struct ctx *cx, yaml_document_t *doc,
                                    struct bx_scn_files *files)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    int bi = value_of(doc, root, "base");
    if (bi == 0)
        return BX_OK;
    yaml_node_t *bn = yaml_document_get_node(doc, bi);
    if (bx_scn__expect(cx, bn, YAML_SCALAR_NODE, "base") != BX_OK)
        return BX_ESCHEMA;
    /* relative to the file that names it */
    const char *me = files->labels[0], *slash = strrchr(me, '/');
    const char *want = scalar(bn);
    char path[4096];
    if (want[0] == '/' || slash == NULL)
        snprintf(path, sizeof path, "%s", want);
    else
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - me), me, want);
    if (strcmp(path, me) == 0)
        return FAIL_AT(cx, bn, "base: '%s' is this file", want);
    char *text;
    size_t len;
    struct bx_error e = {0};
    if (bx_scn__slurp(path, &text, &len, &e) != BX_OK)
        return FAIL_AT(cx, bn, "base: %s", e.msg);
    yaml_document_t bdoc;
    enum bx_status st = bx_scn__parse(text ? text : "", len, path, &bdoc, cx->err);
    free(text);
    if (st != BX_OK)
        return st;
    if ((files->owned = strdup(path)) == NULL) {
        yaml_document_delete(&bdoc);
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    }
    files->labels[1] = files->owned;
    files->n = 2;
    struct ctx bcx = {files->labels[1], &bdoc, cx->err, NULL};
    yaml_node_t *broot = yaml_document_get_root_node(&bdoc);
    if (broot == NULL || broot->type != YAML_MAPPING_NODE) {
        yaml_document_delete(&bdoc);
        return FAIL_AT(cx, bn, "base: %s holds no scenario", path);
    }
    int bb = value_of(&bdoc, broot, "base");
    if (bb) {
        st = FAIL_AT(&bcx, yaml_document_get_node(&bdoc, bb),
                     "a base cannot have a base of its own (one level of variants)");
        yaml_document_delete(&bdoc);
        return st;
    }
    yaml_document_t out;
    if (!yaml_document_initialize(&out, NULL, NULL, NULL, 1, 1)) {
        yaml_document_delete(&bdoc);
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory");
    }
    struct merge m = {.out = &out};
    merge(&m, &bdoc, 1, 1, doc, 1, 0, true);
    yaml_document_delete(&bdoc);
    if (m.failed) {
        free(m.origin);
        yaml_document_delete(&out);
        return BX_FAIL(cx->err, BX_ENOMEM, "out of memory merging %s", path);
    }
    yaml_document_delete(doc);
    *doc = out;
    free(files->origin);
    files->origin = m.origin;
    return BX_OK;
}

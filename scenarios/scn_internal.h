/* SPDX-License-Identifier: MIT */
/* scn_internal.h - shared by scenarios/'s files, never installed: YAML tree helpers. */
#ifndef BX_SCN_INTERNAL_H
#define BX_SCN_INTERNAL_H

#include <stdbool.h>

#include <yaml.h>

#include "bx/scn.h"

/* Limits on a scenario or profile file, checked before its tree is built (docs/scenarios.md,
 * "Limits"): size, nesting depth, values (scalars, lists, mappings) and aliases. */
#define BX_SCN_MAX_BYTES (4 << 20)
#define BX_SCN_MAX_DEPTH 64
#define BX_SCN_MAX_NODES 1000000
#define BX_SCN_MAX_ALIASES 1000

/* The files a scenario is read from: itself and, with `base:`, its base (base.c); `origin`
 * says for each node of the merged document (index - 1) which file it came from. */
struct bx_scn_files {
    const char *labels[2];
    size_t n;
    uint8_t *origin;
    char *owned; /* labels[1], allocated */
};

struct ctx {
    const char *label;
    yaml_document_t *doc;
    struct bx_error *err;
    const struct bx_scn_files *files; /* NULL: every node is from `label` */
};

#define FAIL_AT(cx, node, ...) bx_scn__fail_at((cx), (node), __FILE__, __LINE__, __VA_ARGS__)

enum bx_status bx_scn__fail_at(struct ctx *cx, const yaml_node_t *node, const char *file, int line,
                               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
yaml_node_t *bx_scn__node_at(struct ctx *cx, yaml_node_item_t item);
const char *bx_scn__scalar(const yaml_node_t *n);
const char *bx_scn__type_name(const yaml_node_t *n);
enum bx_status bx_scn__expect(struct ctx *cx, const yaml_node_t *n, yaml_node_type_t type,
                              const char *what);
enum bx_status bx_scn__check_keys(struct ctx *cx, yaml_node_t *map, const char *what,
                                  const char *const *allowed);
yaml_node_t *bx_scn__get(struct ctx *cx, yaml_node_t *map, const char *key);
enum bx_status bx_scn__require(struct ctx *cx, yaml_node_t *map, const char *key, const char *what,
                               yaml_node_t **out);
bool bx_scn__quoted(const yaml_node_t *n);
enum bx_status bx_scn__as_double(struct ctx *cx, yaml_node_t *n, const char *what, double *out);
enum bx_status bx_scn__as_range(struct ctx *cx, yaml_node_t *n, const char *what, double lo,
                                double hi, bool lo_open, double *out);
enum bx_status bx_scn__as_int(struct ctx *cx, yaml_node_t *n, const char *what, long long lo,
                              long long hi, long long *out);
enum bx_status bx_scn__as_bool(struct ctx *cx, yaml_node_t *n, const char *what, bool *out);
enum bx_status bx_scn__as_name(struct ctx *cx, yaml_node_t *n, const char *what, char *out);
enum bx_status bx_scn__pick_pair(struct ctx *cx, yaml_node_t *map, const char *what, const char *a1,
                                 const char *a2, const char *b1, const char *b2, bool *use_a);
/* A distribution whose fields carry the unit @p unit ("s": mean_s, ...; "days": mean_days). */
enum bx_status bx_scn__load_dist_unit(struct ctx *cx, yaml_node_t *map, const char *what,
                                      const char *unit, struct bx_dist *d);
enum bx_status bx_scn__load_dist(struct ctx *cx, yaml_node_t *map, const char *what,
                                 struct bx_dist *d);
/* The `kind: ports` part of a scenario (ports.c). */
/* Days since 1970-01-01 of a YYYY-MM-DD date node. */
enum bx_status bx_scn__as_date(struct ctx *cx, yaml_node_t *n, const char *what, long *days);
/* Optional fields of @p map: left as they are when absent. */
enum bx_status bx_scn__opt_range(struct ctx *cx, yaml_node_t *map, const char *key, double lo,
                                 double hi, bool lo_open, double *out);
enum bx_status bx_scn__opt_uint(struct ctx *cx, yaml_node_t *map, const char *key, long long lo,
                                long long hi, unsigned *out);
enum bx_status bx_scn__load_capture(struct ctx *cx, yaml_node_t *n, enum bx_device device,
                                    struct bx_capture_config *c);
/* `base: FILE`: replace @p doc by the base laid under it (files->labels[0] is this file). */
enum bx_status bx_scn__resolve_base(struct ctx *cx, yaml_document_t *doc,
                                    struct bx_scn_files *files);
enum bx_status bx_scn__load_common(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn,
                                   uint32_t reps, long long max_reps);
enum bx_status bx_scn__load_lifecycle(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn);
enum bx_status bx_scn__load_ports(struct ctx *cx, yaml_node_t *root, struct bx_scn *scn);

/* Parse a YAML text into a document within the limits above, every mapping with unique keys;
 * FILE:LINE:COL on syntax and encoding errors, a second document or a limit passed. */
enum bx_status bx_scn__parse(const char *text, size_t len, const char *label, yaml_document_t *doc,
                             struct bx_error *err);
/* Read a whole file (at most twice BX_SCN_MAX_BYTES: larger ones are refused unread). */
enum bx_status bx_scn__slurp(const char *path, char **buf, size_t *len, struct bx_error *err);

#endif /* BX_SCN_INTERNAL_H */

/* SPDX-License-Identifier: MIT */
/* scn.h - scenario files: YAML in, validated configuration structs out.
 *
 * Usage:
 *     struct bx_scn scn;
 *     if (bx_scn_load_file("scenarios/mmc-example.yaml", &scn, &err) != BX_OK)
 *         fprintf(stderr, "%s\n", err.msg);   // "FILE:LINE:COL: message"
 *     ... bx_net_run(&scn.net, scn.seed, rep, &result, &err) ...
 *     bx_scn_fini(&scn);
 *
 * Every problem (bad YAML, an unknown field, a wrong type, a value out of range, a reference to
 * an unknown station) fails with BX_EPARSE or BX_ESCHEMA and a message that starts with the file
 * name, line and column of the offending node; err->src_line and err->src_col hold the position
 * too. The whole file is validated before anything is returned. The format is documented in
 * docs/scenarios.md. Thread safety: none needed; the loader keeps no state between calls.
 */
#ifndef BX_SCN_H
#define BX_SCN_H

#include <stddef.h>
#include <stdint.h>

#include "bx/common.h"
#include "bx/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Scenario kinds; append only. */
enum bx_scn_kind {
    BX_SCN_NETWORK, /**< the generic station network (sources, stations, routing) */
};

/** A loaded scenario. Owns everything it points to; release with bx_scn_fini(). */
struct bx_scn {
    enum bx_scn_kind kind;
    char name[BX_NAME_MAX];
    char *description; /**< may be NULL */
    uint64_t seed;
    uint32_t replications;
    struct bx_net_config net;
};

/** Load and validate @p path. On failure @p out is left empty (nothing to free). */
enum bx_status bx_scn_load_file(const char *path, struct bx_scn *out, struct bx_error *err);

/** Same, from memory; @p label names the input in messages. */
enum bx_status bx_scn_load_string(const char *text, size_t len, const char *label,
                                  struct bx_scn *out, struct bx_error *err);

void bx_scn_fini(struct bx_scn *scn);

#ifdef __cplusplus
}
#endif
#endif /* BX_SCN_H */

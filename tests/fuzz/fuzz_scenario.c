/* SPDX-License-Identifier: MIT */
/* fuzz_scenario.c - the scenario and algorithm-profile YAML loaders on arbitrary bytes: refused
 * or loaded, never a crash, a leak or a hang (docs/scenarios.md, "Limits and strictness"). */
#include <stdlib.h>
#include <string.h>

#include "bx/scn.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bx_error err = {0};
    struct bx_scn scn;
    if (bx_scn_load_string((const char *)data, size, "fuzz.yaml", &scn, &err) == BX_OK)
        bx_scn_fini(&scn);
    else if (err.msg[0] == '\0')
        abort(); /* every refusal says why */
    memset(&err, 0, sizeof err);
    struct bx_profile p;
    if (bx_scn_load_profile_string((const char *)data, size, "fuzz.yaml", &p, &err) == BX_OK)
        bx_scn_profile_fini(&p);
    else if (err.msg[0] == '\0')
        abort();
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* fuzz_templates.c - the HDF5 template-file loader on arbitrary bytes (mutations of files
 * bxsim wrote): a damaged file is refused, never a crash or a leak. */
#include <stdlib.h>

#include "bx/matcher.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = bx_fuzz_file("t.h5", data, size);
    if (path == NULL)
        return 0;
    struct bx_error err = {0};
    struct bx_store *g = bx_store_load_h5(path, &err);
    if (g == NULL && err.msg[0] == '\0')
        abort();
    bx_store_free(g);
    return 0;
}

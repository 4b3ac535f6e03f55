/* SPDX-License-Identifier: MIT */
/* fuzz.h - shared by the fuzz targets: libFuzzer's entry point, and a scratch file the loaders
 * that take a path read the input from. */
#ifndef BX_FUZZ_H
#define BX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write @p size bytes to a per-process scratch file named @p name (in a private folder under
 * $TMPDIR or /tmp, made once); its path, or NULL when it cannot be written. */
const char *bx_fuzz_file(const char *name, const uint8_t *data, size_t size);
/* The private folder itself. */
const char *bx_fuzz_dir(void);

#endif /* BX_FUZZ_H */

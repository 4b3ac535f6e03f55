# SPDX-License-Identifier: MIT
# Warning flags shared by every bxsim target (STYLE.md section 10); -Werror only when BX_WERROR.
set(BX_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wdouble-promotion -Wstrict-prototypes
  -Wmissing-prototypes -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wvla -fno-common)
if(BX_WERROR)
  list(APPEND BX_WARNINGS -Werror)
endif()

# bx_target_defaults(TARGET): warnings and no value-changing floating-point contraction.
function(bx_target_defaults tgt)
  target_compile_options(${tgt} PRIVATE ${BX_WARNINGS} -ffp-contract=off)
endfunction()

# SPDX-License-Identifier: MIT
# The git revision compiled into bxsim (`bxsim --version`, summary.json, bench records), taken at
# every build rather than at configure time: an incremental build after a commit must not report
# the revision the build folder was configured at. cmake/BxRevision.cmake rewrites the header
# only when the revision changed, so an unchanged tree recompiles nothing.
find_package(Git QUIET)
set(BX_REVISION_DIR ${CMAKE_BINARY_DIR}/generated)
add_custom_target(bx_revision
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DGIT=${GIT_EXECUTABLE}
          -DOUT=${BX_REVISION_DIR}/bx_revision.h -P ${CMAKE_SOURCE_DIR}/cmake/BxRevision.cmake
  BYPRODUCTS ${BX_REVISION_DIR}/bx_revision.h
  VERBATIM)

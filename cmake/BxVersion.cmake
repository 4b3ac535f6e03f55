# SPDX-License-Identifier: MIT
# The git revision compiled into bxsim (`bxsim --version`, summary.json).
find_package(Git QUIET)
set(BX_GIT_REVISION "unknown")
if(GIT_FOUND AND EXISTS "${CMAKE_SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --tags
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                  OUTPUT_VARIABLE BX_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET)
  if(NOT BX_GIT_REVISION)
    set(BX_GIT_REVISION "unknown")
  endif()
endif()

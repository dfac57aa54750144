# The layers of pxt, each a static library (doc/ARCHITECTURE.md): cli -> serve -> export -> store
# -> util. A layer links only the layers below it; scripts/check-layers (run by the lint test)
# refuses an #include that points up or across, so the rule is checked, not only written down.
#
# pxt_layer(NAME SOURCES...): a static library of the sources given (listed explicitly, no glob:
# a file added or removed shows in the diff of its layer's CMakeLists.txt), with the settings
# every layer shares.
# Build time (figures in bench/RESULTS.md, "Build time"). A cold build of the binary and the unit
# tests took ~545 CPU-seconds, most of it instantiating and emitting the same templates (CLI11,
# cpp-httplib, RapidJSON, fmt) in every file and tracking variable locations for -g:
# - PXT_UNITY compiles a target's files in batches, so each batch parses and instantiates them once
#   (the cli layer: 85 -> 22 CPU-seconds). A change recompiles its batch, not only its file.
# - PXT_PCH precompiles the third-party headers most of a target's files include (-20% a file).
# - -fno-var-tracking: variable locations in optimised code cost ~30% of a file's compile time;
#   line tables and backtraces stay. Configure with CMAKE_BUILD_TYPE=Debug to step through values.
option(PXT_UNITY "Compile each target's files in batches (unity build)" ON)
option(PXT_PCH "Precompile each target's third-party headers" ON)
set(PXT_UNITY_BATCH 8 CACHE STRING "Files per unity batch")
# The unit tests' files are compiled at -O0 (CMakeLists.txt), where parsing and instantiating the
# headers is a larger share of a batch: their objects took 97, 84, 70 and 58 CPU-s in batches of
# 4, 8, 16 and 28 files (cold, no ccache, one run). 16 keeps the rebuild after editing one test
# file at ~15 s. -DPXT_UNIT_UNITY_BATCH=0 compiles them all in one batch: the check that no two
# test files' file-local names collide, whatever the batches.
set(PXT_UNIT_UNITY_BATCH 16 CACHE STRING "Files per unity batch of the unit tests (pxt_unit)")

function(pxt_build_speed target)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ${PXT_UNITY} UNITY_BUILD_BATCH_SIZE ${PXT_UNITY_BATCH})
  # gcc's option (clang, used by the fuzz build, has no such pass and warns about the flag).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    target_compile_options(${target} PRIVATE -fno-var-tracking)
  endif()
endfunction()

# pxt_precompile(TARGET HEADERS...): the heavy headers most of a target's files include, parsed
# once per target instead of once per file. Project headers never go in: a change to one would
# rebuild the whole target.
function(pxt_precompile target)
  if(PXT_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()

function(pxt_layer name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  pxt_warnings(${name})
  pxt_build_speed(${name})
  if(PXT_FUZZ)
    # Coverage instrumentation for libFuzzer; only the fuzz targets link its main (cmake/fuzz.cmake).
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

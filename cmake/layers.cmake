# The layers of pxt, each a static library (doc/ARCHITECTURE.md): cli -> serve -> export -> store
# -> util. A layer links only the layers below it; scripts/check-layers (run by the lint test)
# refuses an #include that points up or across, so the rule is checked, not only written down.
#
# pxt_layer(NAME SOURCES...): a static library of the sources given (listed explicitly, no glob:
# a file added or removed shows in the diff of its layer's CMakeLists.txt), with the settings
# every layer shares.
function(pxt_layer name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  pxt_warnings(${name})
  if(PXT_FUZZ)
    # Coverage instrumentation for libFuzzer; only the fuzz targets link its main (cmake/fuzz.cmake).
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

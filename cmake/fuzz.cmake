# libFuzzer targets, one per tests/fuzz/fuzz_*.cpp (built with -DPXT_FUZZ=ON, clang only; run by
# scripts/fuzz, which also turns on PXT_SANITIZE so every target runs under ASan+UBSan). The
# layers are instrumented for coverage (fuzzer-no-link, cmake/layers.cmake); only the targets link
# libFuzzer's main.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "PXT_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++-14 "
                      "(scripts/fuzz does this)")
endif()
file(GLOB PXT_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.cpp)
set(PXT_FUZZ_TARGETS "")
foreach(src ${PXT_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} EXCLUDE_FROM_ALL ${src})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE pxt_cli)
  list(APPEND PXT_FUZZ_TARGETS ${name})
endforeach()
add_custom_target(fuzz_targets DEPENDS ${PXT_FUZZ_TARGETS})

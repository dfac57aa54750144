#pragma once
// What this binary is: its version, the git commit it was built from ("abc123def456", with
// "-dirty" when tracked files differed from it, "unknown" outside a git checkout) and the CMake
// build type. Generated at build time by cmake/build_info.cmake. Thread-safe.
namespace pxt {

struct BuildInfo {
  const char* version;
  const char* commit;
  const char* build_type;
};

const BuildInfo& build_info();

}  // namespace pxt

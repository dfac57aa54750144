#pragma once
// The versions of the media libraries (store/media/libs.hpp), for `pxt version`, without their
// headers. Each call loads its library if it is not loaded yet. Thread-safe.
#include <string>

#include "util/result.hpp"

namespace pxt::medialib {

// "8.14.1"; the loading error (naming the package to install) when the library cannot be loaded.
Result<std::string> vips_version();
Result<std::string> poppler_version();
// "" once loaded: TurboJPEG's API has no version call.
Result<std::string> turbojpeg_version();

}  // namespace pxt::medialib

#pragma once
// libpq's version (export/pg_api.hpp), for `pxt version`, without libpq's header. Loads libpq if
// it is not loaded yet. Thread-safe.
#include <string>

#include "util/result.hpp"

namespace pxt {

// "15.18"; the loading error (naming the package to install) when libpq cannot be loaded.
Result<std::string> libpq_version();

}  // namespace pxt

#!/usr/bin/env bash
# scripts/check-layers: the real tree passes; a fixture tree with an include that points up a
# layer (store -> serve), one that reaches into a backend's folder from serve, and one that
# breaks no rule shows exactly the two offending lines, with file:line.
source "$(dirname "$0")/lib.sh"

expect_status 0 "$PXT_SRC/scripts/check-layers" "$PXT_SRC/src"
pass "the source tree keeps its layering"

fx=$TMP/src
mkdir -p "$fx/store/media" "$fx/serve/app" "$fx/store/sqlite" "$fx/util"
printf '#include "util/strings.hpp"\n#include "serve/http/server.hpp"\n' >"$fx/store/media/bad.cpp"
printf '#include "store/store.hpp"\n\n#include "store/sqlite/db.hpp"\n' >"$fx/serve/app/peek.cpp"
printf '#include "store/sqlite/db.hpp"\n#include "util/result.hpp"\n' >"$fx/store/sqlite/fine.cpp"
printf '#include <vector>\n#include "generated.hpp"\n' >"$fx/util/ok.hpp"
expect_status 1 "$PXT_SRC/scripts/check-layers" "$fx"
expect_eq "$(sort <<<"$OUT")" "src/serve/app/peek.cpp:3: store/sqlite/db.hpp belongs to the sqlite backend: use store/store.hpp
src/store/media/bad.cpp:2: store may not include serve/http/server.hpp (serve is a layer above store)" "the forbidden includes, each with file:line"
pass "an include up a layer or into a backend's folder fails with file:line"

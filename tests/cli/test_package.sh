#!/usr/bin/env bash
# scripts/package: the .deb of the binary that was built, unpacked with dpkg -x into a scratch
# root: pxt runs from it, is stripped, brings its man pages and completions, and its Depends:
# names exactly the Debian packages of the libraries pxt links (readelf's NEEDED) or loads on
# first use (`pxt --json version`), each found here independently with dpkg.
source "$(dirname "$0")/lib.sh"
build=$(cd "$(dirname "$PXT")" && pwd)
[ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build"
[ -f "$build/completions/pxt" ] || fail "linking pxt did not write the completions ($build/completions)"

PXT_BUILD_DIR=$build "$PXT_SRC/scripts/package" --no-build "$TMP/pkg" >"$TMP/package.log" 2>&1 ||
  fail "scripts/package failed: $(cat "$TMP/package.log")"
deb=$(ls "$TMP"/pkg/pxt_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb produced: $(cat "$TMP/package.log")"
expect_eq "$(dpkg-deb -f "$deb" Package)" "pxt" "package name"
pass "scripts/package built $(basename "$deb")"

root=$TMP/root
dpkg -x "$deb" "$root"
version=$("$root/usr/bin/pxt" --version) || fail "pxt from the package does not run"
expect_contains "$version" "pxt 0.1.0 (commit " "pxt --version from the package"
[ "$(readelf -S "$root/usr/bin/pxt" | grep -c '\.debug_')" = 0 ] || fail "the packaged binary is not stripped"
size=$(stat -c %s "$root/usr/bin/pxt")
# The bound is the release build's: ASan+UBSan instrumentation (CI's build-asan/ runs this test
# too) triples the code, so there only "stripped" is checked.
if grep -q '^PXT_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "note: a sanitizer build ($size bytes stripped): its size is not the release bound"
else
  [ "$size" -lt $((30 << 20)) ] || fail "the packaged binary is $size bytes (the bound is 30 MiB)"
fi
for f in usr/share/man/man1/pxt.1 usr/share/man/man1/pxt-serve.1 usr/share/bash-completion/completions/pxt \
  usr/share/zsh/vendor-completions/_pxt usr/share/fish/vendor_completions.d/pxt.fish usr/share/doc/pxt/copyright; do
  [ -s "$root/$f" ] || fail "the package lacks /$f"
done
expect_contains "$(cat "$root/usr/share/doc/pxt/copyright")" "Apache License" "license"
# The packaged bash completion works as installed.
out=$(bash -c 'source "$1"; COMP_WORDS=(pxt comp); COMP_CWORD=1; _pxt; echo "${COMPREPLY[*]}"' _ "$root/usr/share/bash-completion/completions/pxt")
expect_eq "$out" "completion" "the packaged bash completion completes commands"
pass "dpkg -x: pxt runs, stripped ($size bytes), man pages, completions, license"

# Depends: exactly the packages of the libraries linked (NEEDED) and loaded with dlopen.
package_of() {  # library file -> package name
  local p
  p=$(dpkg-query -S "$1" 2>/dev/null || dpkg-query -S "${1#/usr}" 2>/dev/null) || fail "no package ships $1"
  echo "${p%%:*}"
}
want=()
for lib in $(readelf -d "$PXT" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  file=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|AArch64/ && !found { print $NF; found = 1 }')
  [ -n "$file" ] || fail "cannot find $lib"
  want+=("$(package_of "$(readlink -f "$file")")")
done
while read -r file; do
  want+=("$(package_of "$file")")
done < <("$PXT" --json version | jq -r '.libraries[] | select(.loading == "dlopen") | .file')
want_sorted=$(printf '%s\n' "${want[@]}" | sort -u)
got_sorted=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort -u)
expect_eq "$got_sorted" "$want_sorted" "Depends: names exactly the linked and dlopen'ed libraries' packages"
for p in libvips42 libpoppler-glib8 libturbojpeg0 libpq5 libsqlite3-0; do
  expect_contains "$got_sorted" "$p" "Depends: $p"
done
expect_not_contains "$got_sorted" "-dev" "no -dev package"
pass "Depends: $(dpkg-deb -f "$deb" Depends)"

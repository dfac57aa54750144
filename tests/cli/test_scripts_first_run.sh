#!/usr/bin/env bash
# The scripts a newcomer runs first, in a scratch copy of the repository (nothing is built or
# fetched: npm and the build are stand-ins): scripts/demo says what it does before anything slow,
# builds only the pxt binary and finds a busy port before building; a failed npm fetch in
# scripts/setup says what failed and what to do.
source "$(dirname "$0")/lib.sh"

repo=$TMP/repo
mkdir -p "$repo/scripts" "$repo/bin"
cp "$PXT_SRC/scripts/setup" "$PXT_SRC/scripts/demo" "$PXT_SRC/scripts/model-standin" "$repo/scripts/"

# A failed npm fetch: npm's words, what it was fetching, what to do; exit 1.
cat >"$repo/bin/npm" <<'SH'
#!/usr/bin/env bash
echo "npm ERR! code ENOTFOUND" >&2
echo "npm ERR! network request to https://registry.example/swagger-ui-dist failed" >&2
exit 1
SH
chmod +x "$repo/bin/npm"
expect_status 1 env PATH="$repo/bin:$PATH" "$repo/scripts/setup" --web-assets
expect_contains "$ERR" "setup: error: could not fetch swagger-ui-dist@" "names what failed"
expect_contains "$ERR" "npm ERR! code ENOTFOUND" "shows npm's own words"
expect_contains "$ERR" "npm config set proxy" "says what to do"
expect_contains "$ERR" "run scripts/setup again" "says how to retry"
expect_contains "$OUT" "setup: fetching swagger-ui-dist@" "says what it fetches before the wait"
[ ! -e "$repo/third_party/swagger-ui-dist" ] || fail "a failed fetch left a half asset folder"
pass "a failed npm fetch explains itself"

# scripts/demo with a stand-in build (it makes a stand-in build/pxt, as a real build makes the
# binary): its first line says model calls go to a stand-in model server, the next comes before
# the build; the build asked for the pxt target only; then it serves, with the stand-in's URL.
cat >"$repo/scripts/build" <<'SH'
#!/usr/bin/env bash
echo "build: targets=[${PXT_BUILD_TARGETS:-all}]"
mkdir -p build
printf '#!/usr/bin/env bash\necho "pxt $*"\n' >build/pxt
chmod +x build/pxt
SH
chmod +x "$repo/scripts/build"
port=$(free_port)
out=$(PORT=$port PXT_HOME=$TMP/demo-home "$repo/scripts/demo" 2>&1) || fail "scripts/demo failed: $out"
expect_contains "$(head -1 <<<"$out")" "demo: model calls go to a stand-in OpenAI-compatible server on 127.0.0.1" \
  "first line: the stand-in model server"
expect_eq "$(sed -n 2p <<<"$out")" "demo: building pxt (first run: a few minutes)..." "before building"
expect_eq "$(sed -n 3p <<<"$out")" "build: targets=[pxt]" "builds the pxt binary only"
expect_contains "$(sed -n 4p <<<"$out")" "models at http://127.0.0.1:" "names the stand-in's URL"
expect_eq "$(tail -1 <<<"$out")" "pxt serve ai --config demo/ai_service.toml --port $port" "serves the demo on PORT"
out=$(PORT=$port PXT_HOME=$TMP/demo-home "$repo/scripts/demo" 2>&1) || fail "scripts/demo failed: $out"
expect_eq "$(sed -n 2p <<<"$out")" "demo: building pxt (up to date: seconds)..." "a later run says it is quick"
pass "scripts/demo talks first and builds only pxt"

# A busy port: found before building, with the PORT= to use instead.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$TMP/port" &
SERVER_PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$TMP/port" ] && break; sleep 0.05; done
busy=$(cat "$TMP/port")
expect_status 1 env PORT="$busy" "$repo/scripts/demo"
expect_contains "$ERR" "demo: port $busy is already in use" "names the port"
expect_contains "$ERR" "PORT=$((busy + 1)) scripts/demo" "suggests PORT="
expect_not_contains "$OUT" "build:" "did not build first"
pass "scripts/demo: a busy port is found before the build"

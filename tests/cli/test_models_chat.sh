#!/usr/bin/env bash
# chat() and chat_completion() in computed columns, against the OpenAI-compatible stand-in
# (scripts/model-standin) on 127.0.0.1: providers from config.toml and the service file, the key
# sent and never shown, deterministic answers through the CLI and HTTP, concurrency and rate caps,
# retries, each failure's Pixeltable error body with nothing stored, /metrics, `pxt models check`.
source "$(dirname "$0")/lib.sh"

start_standin
export STUB_KEY="sk-test-$RANDOM$RANDOM-secret"
mkdir -p "$PXT_HOME"
cat >"$PXT_HOME/config.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
api_key = "\${STUB_KEY}"
timeout_s = 5
max_retries = 2
EOF
standin_control "{\"api_key\": \"$STUB_KEY\"}"

# ---- pxt models list / check ----
out=$("$PXT" models list)
expect_contains "$out" "stub: $STANDIN_URL (api_key set" "models list"
expect_not_contains "$out" "$STUB_KEY" "models list shows no key"
out=$("$PXT" models check stub)
expect_contains "$out" "stub: ok" "models check"
expect_contains "$out" "stub-chat" "models check lists the models"
expect_status 1 "$PXT" models check nosuch
expect_contains "$ERR" "no model provider named 'nosuch'" "models check unknown name"
pass "models list and check"

# ---- a table with chat columns, through the CLI ----
cat >"$TMP/schema.toml" <<'EOF'
dirs = ["app"]
[[tables]]
path = "app.gen"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "prompt", type = "String" },
  { name = "result", computed = "chat(prompt, 'stub/stub-chat')" },
  { name = "brief", computed = "chat(prompt, 'stub/stub-chat', json_object('system', 'be brief', 'max_tokens', 3))" },
  { name = "full", computed = "chat_completion(json_array(json_object('role', 'user', 'content', prompt)), 'stub/m2')" },
]
EOF
# Function names are the engine's (doc/catalog.md): SQLite's json_object is PostgreSQL's json_build_object.
if [ "$TEST_BACKEND" = postgres ]; then
  sed -i 's/json_object(/json_build_object(/g; s/json_array(/json_build_array(/g' "$TMP/schema.toml"
fi
"$PXT" schema update "$TMP/schema.toml" >/dev/null
out=$("$PXT" --json insert app.gen '{"id": 1, "prompt": "hello there"}')
expect_contains "$out" '"result":"[stub-chat] hello there"' "chat answer"
expect_contains "$out" '"brief":"[stub-chat] (be brief)"' "options: system message and max_tokens"
expect_contains "$out" '"choices":[{"index":0' "chat_completion gives the whole answer"
expect_eq "$(standin_stat with_bearer | tr -d '\n')" "4" "every call sent the bearer key (3 calls + models check)"
# A NULL prompt: chat() makes no call (chat_completion still sends its one message, content null).
before=$(standin_stat chat)
out=$("$PXT" --json insert app.gen '{"id": 2, "prompt": null}')
expect_contains "$out" '"result":null' "chat(NULL) is NULL"
expect_eq "$(standin_stat chat)" "$((before + 1))" "a NULL prompt makes no chat() call"
pass "chat in computed columns (CLI)"

# ---- served ----
cat >"$TMP/service.toml" <<EOF
[service]
name = "gen"
[models.stub]  # the service's declaration wins over config.toml's
base_url = "$STANDIN_URL"
api_key = "\${STUB_KEY}"
timeout_s = 1
max_retries = 1
max_concurrency = 2
[[routes]]
type = "insert"
path = "/generate"
table = "app.gen"
inputs = ["id", "prompt"]
outputs = ["id", "result"]
[[routes]]
type = "insert"
path = "/generate_bg"
table = "app.gen"
inputs = ["id", "prompt"]
outputs = ["id", "result"]
background = true
EOF
out=$("$PXT" serve --config "$TMP/service.toml" --dry-run)
expect_contains "$out" "chat(stub/stub-chat)" "dry-run lists the models"
expect_contains "$out" "provider stub: $STANDIN_URL (api_key set" "dry-run names the provider"
expect_not_contains "$out" "$STUB_KEY" "dry-run shows no key"
out=$("$PXT" --json serve --config "$TMP/service.toml" --dry-run)
expect_contains "$out" '"api_key_set": true' "dry-run --json"
expect_not_contains "$out" "$STUB_KEY" "dry-run --json shows no key"

start_server --config "$TMP/service.toml"
http POST /generate '{"id": 10, "prompt": "served"}'
expect_eq "$STATUS" "200" "insert with chat: $BODY"
expect_eq "$BODY" '{"id":10,"result":"[stub-chat] served"}' "served answer"
curl -fs "http://127.0.0.1:$PORT/openapi.json" >"$TMP/openapi.json"
expect_not_contains "$(cat "$TMP/openapi.json")" "$STUB_KEY" "OpenAPI shows no key"

# max_concurrency = 2: six slow calls at once, never more than two upstream.
standin_reset
standin_control '{"delay_ms": 300}'
curls=()
for i in 1 2 3 4 5 6; do
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data "{\"id\": $((100 + i)), \"prompt\": \"p$i\"}" "http://127.0.0.1:$PORT/generate" &
  curls+=($!)
done
wait "${curls[@]}"  # not a bare wait: the stand-in and the server are children too
expect_eq "$(standin_stat chat)" "18" "six inserts, three model columns each: 18 calls"
expect_eq "$(standin_stat max_in_flight)" "2" "at most max_concurrency in flight"
standin_control '{"delay_ms": 0}'
pass "served chat within max_concurrency"

count() { "$PXT" count app.gen | tr -d '\n'; }
# ---- failures: each answers Pixeltable's error body, stores nothing, never shows the key ----
check_failure() {  # control-json id expected-status expected-code what
  local n; n=$(count)
  standin_control "$1"
  http POST /generate "{\"id\": $2, \"prompt\": \"fails\"}"
  expect_eq "$STATUS" "$3" "$5: status ($BODY)"
  expect_contains "$BODY" "\"error_code\":\"$4\"" "$5: error_code"
  expect_contains "$BODY" "model provider 'stub' (model 'stub-chat')" "$5: names provider and model"
  expect_not_contains "$BODY" "$STUB_KEY" "$5: no key in the body"
  expect_eq "$(count)" "$n" "$5: nothing stored"
}
check_failure '{"fail": [{"status": 401, "times": 1, "body": "Incorrect API key provided: '"$STUB_KEY"'"}]}' 20 401 PROVIDER_AUTH_ERROR "401"
expect_contains "$BODY" "upstream answered 401" "401 names the upstream status"
expect_contains "$BODY" '"retryable":false' "401 not retryable"
check_failure '{"fail": [{"status": 400, "times": 1}]}' 21 400 PROVIDER_BAD_REQUEST "400"
check_failure '{"fail": [{"status": 500, "times": 2}]}' 22 502 PROVIDER_ERROR "500 after retries"
expect_contains "$BODY" "after 2 attempts" "500: retried once (max_retries = 1)"
check_failure '{"fail": [{"status": 503, "times": 2, "retry_after_ms": 10}]}' 23 503 PROVIDER_OVERLOADED "503"
# A retry-after past 30 s is not slept: the client gets it at once.
check_failure '{"fail": [{"status": 429, "times": 1, "retry_after": 40}]}' 24 429 RATE_LIMITED "429"
expect_contains "$BODY" '"retry_after":40' "429 carries retry_after"
check_failure '{"malformed": 1}' 25 502 PROVIDER_ERROR "malformed JSON"
check_failure '{"hang": 2}' 26 504 PROVIDER_TIMEOUT "no answer within timeout_s"
# A retry that succeeds: 429 with retry-after-ms, then 200.
standin_control '{"fail": [{"status": 429, "times": 1, "retry_after_ms": 20}]}'
http POST /generate '{"id": 27, "prompt": "after a retry"}'
expect_eq "$STATUS" "200" "a 429 then success: $BODY"
grep -q "$STUB_KEY" "$TMP/server.log" && fail "the server log shows the key"
pass "provider failures: status, error_code, nothing stored, no key"

# Background routes carry the error into the job.
standin_control '{"fail": [{"status": 401, "times": 1}]}'
http POST /generate_bg '{"id": 30, "prompt": "bg"}'
job_url=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["job_url"])' "$BODY")
for _ in $(seq 1 200); do
  job=$(curl -s "$job_url")
  [[ "$job" == *'"status":"pending"'* || "$job" == *'"status":"running"'* ]] || break
  sleep 0.05
done
expect_contains "$job" '"status":"error"' "background job failed"
expect_contains "$job" "PROVIDER_AUTH_ERROR" "the job carries the provider error"

# /metrics: calls, tokens, retries, latency per provider and model.
metrics=$(curl -fs "http://127.0.0.1:$PORT/metrics")
expect_contains "$metrics" 'pxt_model_calls_total{provider="stub",model="stub-chat",outcome="ok"}' "calls metric"
expect_contains "$metrics" 'pxt_model_calls_total{provider="stub",model="stub-chat",outcome="error"}' "failed calls metric"
expect_contains "$metrics" 'pxt_model_tokens_total{provider="stub",model="stub-chat",kind="completion"}' "tokens metric"
expect_contains "$metrics" 'pxt_model_retries_total{provider="stub",model="stub-chat"}' "retries metric"
expect_contains "$metrics" 'pxt_model_request_duration_seconds_bucket{provider="stub",model="stub-chat",le="0.005"}' "latency histogram"
retries=$(echo "$metrics" | grep '^pxt_model_retries_total{provider="stub",model="stub-chat"}' | awk '{print $2}')
# Retried: the 500 once, the 503 once, the hang once (a timeout), the 429 with retry-after-ms once.
[ "$retries" -ge 4 ] || fail "retries counted: $retries"
stop_server
pass "background errors and /metrics"

# ---- an unknown provider is refused before serving ----
sed 's/stub\/stub-chat/stbu\/stub-chat/' "$TMP/schema.toml" | sed 's/app.gen/app.typo/' >"$TMP/typo.toml"
"$PXT" schema update "$TMP/typo.toml" >/dev/null
expect_status 1 "$PXT" serve insert --table app.typo --path /t --dry-run
expect_contains "$ERR" "unknown model provider 'stbu' in 'stbu/stub-chat', did you mean 'stub'?" "typo in provider"

# ---- rpm: requests spaced 60/rpm s apart (max_concurrency 1: no burst) ----
cat >"$TMP/rpm.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
api_key = "\${STUB_KEY}"
rpm = 240
max_concurrency = 1
EOF
cp "$TMP/rpm.toml" "$PXT_HOME/config.toml"
start=$(date +%s.%N)
"$PXT" insert app.gen '[{"id": 43, "prompt": "a"}, {"id": 44, "prompt": "b"}]' >/dev/null
elapsed=$(python3 -c "import time; print(time.time() - $start)")
# 2 rows x 3 calls = 6 requests at 4 per second: at least 1.25 s after the first.
python3 -c "import sys; sys.exit(0 if $elapsed >= 1.2 else 1)" || fail "rpm not obeyed: 6 calls in $elapsed s"

# ---- x-ratelimit headers: remaining 0 with a 1 s reset holds the next request back ----
cat >"$PXT_HOME/config.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
api_key = "\${STUB_KEY}"
EOF
standin_control '{"ratelimit": {"limit": 100, "remaining": 0, "reset": "1s"}}'
start=$(date +%s.%N)
"$PXT" insert app.gen '{"id": 50, "prompt": "one"}' >/dev/null
elapsed=$(python3 -c "import time; print(time.time() - $start)")
# 3 calls (one row): after the first answer says "none left until 1 s", the others wait for it.
python3 -c "import sys; sys.exit(0 if $elapsed >= 0.9 else 1)" || fail "x-ratelimit headers not obeyed ($elapsed s)"
standin_control '{"ratelimit": null}'
pass "rpm and x-ratelimit headers"

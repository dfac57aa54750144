#!/usr/bin/env bash
# Background jobs end to end: pending then done, the result equals the synchronous answer, errors,
# unknown ids, 422 before any job, queue full (503 + Retry-After), restart with a job in flight
# (kill -9), graceful shutdown waiting for a running job, and TTL expiry.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
export PXT_TEST_FUNCTIONS=1  # registers pxt_sleep_ms(ms) and pxt_gate(path, v): a job held until the test opens the gate

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.slow"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "ms", type = "Int" },
  { name = "gate", type = "String" },
  { name = "waited", type = "Int", computed = "pxt_sleep_ms(pxt_gate(gate, coalesce(ms, 0)))" },
]

[[queries]]
name = "lookup"
table = "app.slow"
match = ["id"]

# A slow read: unlike a slow insert, it does not hold the store's write lock while it sleeps.
[[queries]]
name = "pause"
params = [ { name = "ms", type = "Int" }, { name = "gate", type = "String" } ]
sql = """SELECT pxt_sleep_ms(pxt_gate(:gate, :ms)) AS waited"""
TOML

service() {  # extra [service] lines
  cat >service.toml <<TOML
[[service]]
name = "api"
prefix = "/v1"
modules = ["schema"]
$1

[[service.routes]]
type = "insert"
table = "app.slow"
path = "/slow"
background = true

[[service.routes]]
type = "insert"
table = "app.slow"
path = "/slow-sync"

[[service.routes]]
type = "update"
table = "app.slow"
path = "/slow/update"
background = true

[[service.routes]]
type = "delete"
table = "app.slow"
path = "/slow/delete"
background = true

[[service.routes]]
type = "query"
path = "/slow/lookup"
query = "schema.lookup"
background = true

[[service.routes]]
type = "query"
path = "/pause"
query = "schema.pause"
one_row = true
background = true
TOML
}

# Polls a job until it is no longer pending; leaves the job's JSON in $BODY.
job_finished() {
  BODY=$(curl -s "$1")
  [ "$(jq -r .status <<<"$BODY")" != "pending" ]
}
wait_job() { wait_until "job $1 to finish" job_finished "$1"; }  # job_url

# Waits until /metrics shows N jobs running: a fixed sleep is not enough on a loaded CI machine,
# where a worker may take longer to pick a job up.
wait_running() { wait_until "$1 running job(s)" metric_is pxt_jobs_running "$1"; }  # N

service ""
start_server api --config service.toml

# ---- pending, then done; the handle's URL is built from the Host header and the prefix ----
# The job waits at a gate: it is certainly still pending when asked, however busy the machine.
G=$TMP/g1
http POST /v1/slow "{\"id\": 1, \"ms\": 7, \"gate\": \"$G\"}"
expect_eq "$STATUS" 200 "background insert status"
ID=$(jq -r .id <<<"$BODY")
URL=$(jq -r .job_url <<<"$BODY")
[[ "$ID" =~ ^[A-Za-z0-9_-]{22}$ ]] || fail "job id is not 22 URL-safe characters: $ID"
expect_eq "$URL" "http://127.0.0.1:$PORT/v1/jobs/$ID" "job_url"
expect_eq "$(curl -s "$URL")" '{"status":"pending","result":null,"error":null}' "a slow job is pending"
gate_open "$G"
wait_job "$URL"
expect_eq "$BODY" "{\"status\":\"done\",\"result\":{\"id\":1,\"ms\":7,\"gate\":\"$G\",\"waited\":7},\"error\":null}" \
  "done with the row"
pass "pending then done"

# Host and X-Forwarded-Proto come from the client: believed only from forwarded_allow_ips.
SPOOF=(-H 'Host: evil.example:8443' -H 'X-Forwarded-Proto: https' -H 'Content-Type: application/json')
BEHIND=$(curl -s "${SPOOF[@]}" -d '{"id": 2}' "http://127.0.0.1:$PORT/v1/slow")
expect_eq "$(jq -r .job_url <<<"$BEHIND")" "http://127.0.0.1:$PORT/v1/jobs/$(jq -r .id <<<"$BEHIND")" \
  "job_url ignores Host and X-Forwarded-Proto from a client that is not a trusted proxy"
PROXIED_PORT=$(free_port)
"$PXT" serve api --config service.toml --host 127.0.0.1 --port "$PROXIED_PORT" --forwarded-allow-ips 10.0.0.0/8,127.0.0.1 \
  >"$TMP/proxied.log" 2>&1 &
SERVER_PIDS+=($!)
wait_healthz "${SERVER_PIDS[-1]}" "$PROXIED_PORT" "$TMP/proxied.log"
BEHIND=$(curl -s "${SPOOF[@]}" -d '{"id": 5000}' "http://127.0.0.1:$PROXIED_PORT/v1/slow")
expect_eq "$(jq -r .job_url <<<"$BEHIND")" "https://evil.example:8443/v1/jobs/$(jq -r .id <<<"$BEHIND")" \
  "job_url behind a trusted proxy (--forwarded-allow-ips)"
kill "${SERVER_PIDS[-1]}"
pass "job_url: Host and X-Forwarded-Proto believed only from forwarded_allow_ips"

# ---- the result is exactly the synchronous answer, for every route kind ----
http POST /v1/slow-sync '{"id": 3, "ms": 1}'
SYNC=$BODY
http POST /v1/slow '{"id": 4, "ms": 1}'
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -c '.result | .id = 3' <<<"$BODY")" "$SYNC" "insert job result = synchronous body"
http POST /v1/slow/update '{"id": 3, "ms": 5}'
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -c .result <<<"$BODY")" '{"id":3,"ms":5,"gate":null,"waited":5}' "update job result"
http POST /v1/slow/lookup '{"id": 3}'
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -c .result <<<"$BODY")" '{"rows":[{"id":3,"ms":5,"gate":null,"waited":5}]}' "query job result"
http POST /v1/slow/delete '{"id": 3}'
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -c .result <<<"$BODY")" '{"num_rows":1}' "delete job result"
pass "job results equal the synchronous answers"

# ---- errors: the message the synchronous route would put in detail ----
http POST /v1/slow-sync '{"id": 1}'
expect_eq "$STATUS" 409 "sync duplicate key"
SYNC_DETAIL=$(jq -r .detail <<<"$BODY")
http POST /v1/slow '{"id": 1}'
expect_eq "$STATUS" 200 "a failing job is still accepted"
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -r .status <<<"$BODY")" error "duplicate key job status"
expect_eq "$(jq -r .error <<<"$BODY")" "$SYNC_DETAIL" "job error = synchronous detail"
expect_eq "$(jq -c .result <<<"$BODY")" null "no result on error"
http POST /v1/slow/update '{"id": 999, "ms": 1}'
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -c '[.status, .error]' <<<"$BODY")" '["error","row not found"]' "update of a missing row"
pass "errors"

# ---- validation happens before a job exists ----
http POST /v1/slow '{"ms": "x"}'
expect_eq "$STATUS" 422 "bad request is refused at once"
expect_eq "$(jq -c '[.detail[].loc]' <<<"$BODY")" '[["body","id"],["body","ms"]]' "422 details"
pass "422 before any job"

# ---- unknown ids ----
for bad in AAAAAAAAAAAAAAAAAAAAAA nope "$(printf 'x%.0s' $(seq 1 100))" '..%2F..%2Fetc'; do
  http GET "/v1/jobs/$bad"
  expect_eq "$STATUS" 404 "unknown job $bad"
  expect_eq "$BODY" '{"detail":"unknown job id"}' "unknown job body"
done
http GET "/jobs/$ID"
expect_eq "$STATUS" 404 "jobs live under the prefix"
pass "unknown ids"

# ---- OpenAPI documents the handle and /jobs ----
OPENAPI=$(curl -s "http://127.0.0.1:$PORT/openapi.json")
expect_eq "$(jq -r '.paths["/v1/slow"].post.responses["200"].content["application/json"].schema["$ref"]' <<<"$OPENAPI")" \
  "#/components/schemas/BackgroundJobResponse" "background route answers a job handle (Pixeltable's BackgroundJobResponse)"
expect_eq "$(jq -r '.paths["/v1/jobs/{job_id}"].get.responses["200"].content["application/json"].schema["$ref"]' <<<"$OPENAPI")" \
  "#/components/schemas/JobStatusResponse" "/jobs documented (Pixeltable's JobStatusResponse)"
pass "openapi"

# ---- graceful shutdown waits for a running job ----
# The job is held at a gate until the server says it waits for it; then it may finish.
G=$TMP/g10
http POST /v1/slow "{\"id\": 10, \"gate\": \"$G\"}"
URL=$(jq -r .job_url <<<"$BODY")
wait_running 1
gate_wait "$G" 1
kill -TERM "$SERVER_PID"
wait_until "the shutdown note: $(cat "$TMP/server.log")" log_has "$TMP/server.log" "waiting up to 10s for 1 running job"
gate_open "$G"
wait "$SERVER_PID" || fail "exit status after SIGTERM with a running job: $?"
start_server api --config service.toml
expect_eq "$(curl -s "http://127.0.0.1:$PORT/v1/jobs/${URL##*/}" | jq -r .status)" done "job finished during shutdown"
pass "graceful shutdown finishes running jobs"

# ---- restart with a job in flight: error, never run twice ----
G=$TMP/g20  # never opened: the job is inside its write when the server is killed
http POST /v1/slow "{\"id\": 20, \"gate\": \"$G\"}"
URL=$(jq -r .job_url <<<"$BODY")
wait_running 1
gate_wait "$G" 1
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
start_server api --config service.toml
http GET "/v1/jobs/${URL##*/}"
expect_eq "$BODY" '{"status":"error","result":null,"error":"interrupted by shutdown"}' "in-flight job after kill -9"
# Not run again: nothing is queued or running after the restart, and the job is still an error.
expect_eq "$(metric pxt_jobs_queued) $(metric pxt_jobs_running)" "0 0" "no job queued or running after the restart"
http GET "/v1/jobs/${URL##*/}"
expect_eq "$(jq -r .status <<<"$BODY")" error "still error later (not run again)"
expect_eq "$(wc -l <"$G.started")" 1 "the interrupted job's write never started again"
expect_eq "$("$PXT" count app.slow --where 'id = 20')" 0 "the interrupted insert left no row"
pass "restart with a job in flight"
stop_server

# ---- queue full: one worker busy, one job waiting, the next is refused ----
service $'job_workers = 1\njob_queue_max = 1\njob_shutdown_s = 0'
start_server api --config service.toml
G=$TMP/g30  # holds the only worker until the server stops
http POST /v1/pause "{\"ms\": 1, \"gate\": \"$G\"}"
expect_eq "$STATUS" 200 "first job runs"
wait_running 1
http POST /v1/slow '{"id": 31, "ms": 1}'
expect_eq "$STATUS" 200 "second job waits in the queue"
WAITING=$(jq -r .id <<<"$BODY")
HDRS=$(curl -s -D - -o "$TMP/body" -H 'Content-Type: application/json' -d "{\"ms\": 1, \"gate\": \"$G\"}" \
  "http://127.0.0.1:$PORT/v1/pause")
expect_contains "$HDRS" "HTTP/1.1 503" "third job refused"
expect_contains "$(tr -d '\r' <<<"$HDRS")" "Retry-After: 1" "Retry-After"
expect_contains "$(cat "$TMP/body")" "job queue is full" "queue full detail"
# Shutdown with job_shutdown_s = 0: the queued job never starts and is marked interrupted (SQLite).
stop_server
start_server api --config service.toml
if [ "$TEST_BACKEND" = sqlite ]; then
  http GET "/v1/jobs/$WAITING"
  expect_eq "$(jq -c '[.status, .error]' <<<"$BODY")" '["error","interrupted by shutdown"]' "queued job interrupted at shutdown"
else
  # A PostgreSQL store keeps a stopped process's pending jobs for any process to claim: the
  # restarted service runs it (doc/catalog.md, "Many processes").
  wait_until "the queued job to be claimed and run after the restart" \
    sh -c "curl -s 'http://127.0.0.1:$PORT/v1/jobs/$WAITING' | grep -q '\"status\":\"done\"'"
  expect_eq "$("$PXT" count app.slow --where 'id = 31')" 1 "the claimed job ran once"
fi
[ "$TEST_BACKEND" = postgres ] || expect_eq "$("$PXT" count app.slow --where 'id = 31')" 0 "the queued job never ran"
pass "queue full and shutdown"
stop_server

# ---- TTL: finished jobs disappear ----
service 'job_ttl_s = 1'
start_server api --config service.toml
# Held at a gate, the job is certainly seen before it could expire; once let go, it must finish
# done (counted on /metrics) and then disappear. Polling for "done" instead could miss it on a
# loaded machine, where a second passes easily between two polls.
G=$TMP/g40
http POST /v1/slow "{\"id\": 40, \"gate\": \"$G\"}"
URL=$(jq -r .job_url <<<"$BODY")
expect_eq "$(curl -s "$URL" | jq -r .status)" pending "job there before it finished"
done_before=$(metric 'pxt_jobs_finished_total{status="done"}')
gate_open "$G"
wait_until "the job to finish" metric_is 'pxt_jobs_finished_total{status="done"}' $((done_before + 1))
expect_eq "$("$PXT" count app.slow --where 'id = 40')" 1 "job done before expiry: its row"
job_gone() { http GET "/v1/jobs/${URL##*/}" && [ "$STATUS" = 404 ]; }
wait_until "the finished job to expire (job_ttl_s = 1)" job_gone
expect_eq "$STATUS" 404 "expired job"
pass "ttl"
stop_server

# ---- uploads are stored before the job is queued; export_sql runs inside the job ----
/usr/bin/python3 -c 'from PIL import Image; Image.new("RGB", (8, 8), "red").save("red.png")'
sqlite3 "$TMP/target.db" 'CREATE TABLE pics (id INTEGER PRIMARY KEY, image TEXT)'
cat >pics.toml <<'TOML'
dirs = ["app"]
[[tables]]
path = "app.pics"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "image", type = "Image" } ]
TOML
cat >media.toml <<TOML
[[service]]
name = "media"
prefix = "/v1"
modules = ["pics"]

[[service.routes]]
type = "insert"
table = "app.pics"
path = "/pics"
uploadfile_inputs = ["image"]
background = true
[service.routes.export_sql]
db_connect = "sqlite:///$TMP/target.db"
table = "pics"
TOML
start_server media --config media.toml
BODY=$(curl -s -F id=1 -F image=@red.png "http://127.0.0.1:$PORT/v1/pics")
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -r .status <<<"$BODY")" done "upload job: $BODY"
IMG=$(jq -r .result.image <<<"$BODY")
[[ "$IMG" == http* ]] || IMG="http://127.0.0.1:$PORT$IMG"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$IMG")" 200 "the uploaded file is served"
expect_eq "$(sqlite3 "$TMP/target.db" 'SELECT count(*) FROM pics WHERE id = 1')" 1 "exported by the job"
FILES=$(find "$PXT_HOME/media" -type f | wc -l)
BODY=$(curl -s -F id=1 -F image=@red.png "http://127.0.0.1:$PORT/v1/pics")
wait_job "$(jq -r .job_url <<<"$BODY")"
expect_eq "$(jq -r .status <<<"$BODY")" error "a failed upload job"
expect_eq "$(find "$PXT_HOME/media" -type f | wc -l)" "$FILES" "the failed job's upload was removed"
pass "uploads and export_sql in jobs"
stop_server

# ---- refused at registration ----
cat >bad.toml <<'TOML'
[[service]]
name = "bad"
modules = ["schema"]
job_queue_max = 0

[[service.routes]]
type = "insert"
table = "app.slow"
path = "/x"
background = true
return_fileresponse = true
TOML
expect_status 1 "$PXT" serve bad --config bad.toml --dry-run
expect_contains "$ERR" "bad.toml:4: job_queue_max: must be at least 1, got 0" "queue size checked"
expect_contains "$ERR" "bad.toml:11: return_fileresponse: cannot be combined with background = true" "no file jobs"
expect_status 0 "$PXT" serve insert --table app.slow --path /x --background --dry-run
expect_contains "$OUT" "(background)" "CLI --background"
pass "configuration"

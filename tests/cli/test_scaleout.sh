#!/usr/bin/env bash
# backends: postgres
# Scale-out (issue 15): one PostgreSQL, three `pxt serve` processes on loopback ports sharing it
# and one media folder, and nginx (its own config and pid file) balancing them. Inserts and
# background jobs go through nginx while one process is killed with SIGKILL; then every
# acknowledged insert is stored exactly once, no row is half-stored, every job is readable from
# every survivor and the dead process's jobs end done or interrupted (never run twice); the killed
# process comes back and serves. Then PostgreSQL itself restarts under load: requests in flight
# answer 503 (retryable), nothing acknowledged is lost, and the pools reconnect by themselves.
# The cluster is private to this test (it is restarted); every wait is bounded by a state it
# waits for, not by a sleep.
unset PXT_TEST_PG_URL PXT_TEST_PG_DIR
export PXT_TEST_BACKEND=postgres PXT_TEST_FUNCTIONS=1
source "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null || skip "nginx is not installed (scripts/setup)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cd "$TMP"
export PXT_MEDIA_DIR=$TMP/media
cat >schema.toml <<'EOF'
dirs = ["scale"]
[[tables]]
path = "scale.events"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String" },
  { name = "up", type = "String", computed = "upper(name)" },
]
[[tables]]
path = "scale.work"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "ms", type = "Int" },
  { name = "slept", type = "Int", computed = "pxt_sleep_ms(ms)" },
]
EOF
cat >service.toml <<'EOF'
[service]
name = "scale"
modules = ["schema"]
job_workers = 2
job_lease_s = 3
job_shutdown_s = 2
[[routes]]
type = "insert"
table = "scale.events"
path = "/events"
[[routes]]
type = "insert"
table = "scale.work"
path = "/jobs-in"
background = true
EOF

# Three processes, each with a home of its own (as on three machines) and the shared media folder.
PORTS=() PIDS=()
start_node() {  # index
  local i=$1 port=${PORTS[$1]:-$(free_port)}
  PORTS[$i]=$port
  mkdir -p "$TMP/h$i"
  PXT_HOME=$TMP/h$i "$PXT" serve --config service.toml --host 127.0.0.1 --port "$port" >>"$TMP/node$i.log" 2>&1 &
  PIDS[$i]=$!
  SERVER_PIDS+=("${PIDS[$i]}")
}
wait_node() {  # index
  for _ in $(seq 1 400); do
    curl -fs "http://127.0.0.1:${PORTS[$1]}/healthz" >/dev/null 2>&1 && return 0
    kill -0 "${PIDS[$1]}" 2>/dev/null || fail "node $1 exited: $(cat "$TMP/node$1.log")"
    sleep 0.05
  done
  fail "node $1 did not start: $(cat "$TMP/node$1.log")"
}
for i in 0 1 2; do start_node $i; done
for i in 0 1 2; do wait_node $i; done
pass "three pxt serve processes share one PostgreSQL store"

NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
$([ "$(id -u)" -eq 0 ] && echo "user root;")
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream pxt {
    server 127.0.0.1:${PORTS[0]} max_fails=1 fail_timeout=2s;
    server 127.0.0.1:${PORTS[1]} max_fails=1 fail_timeout=2s;
    server 127.0.0.1:${PORTS[2]} max_fails=1 fail_timeout=2s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://pxt;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host:\$server_port;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }
  }
}
EOF
"$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2>"$TMP/nginx/start.log" || fail "nginx: $(cat "$TMP/nginx/start.log")"
EXIT_HOOKS=("kill -QUIT \$(cat '$TMP/nginx/nginx.pid') 2>/dev/null" "${EXIT_HOOKS[@]}")
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fs "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null || fail "nginx does not answer: $(cat "$TMP/nginx/error.log")"
pass "nginx balances the three"

# ---- kill -9 one process mid-load ----
: >sent; : >acked; : >jobs; : >sent2; : >acked2; : >jobs2
python3 "$PXT_SRC/tests/cli/scaleout_client.py" --port "$NGINX_PORT" --clients 4 --count 300 --job-every 6 \
  --job-ms 300 --seconds 120 --sent sent --acked acked --jobs jobs >load1.json &
CLIENT=$!
victim=1
vpid=${PIDS[$victim]}
# Kill it while it runs jobs (a state read from the store), after some inserts went through.
for _ in $(seq 1 600); do
  running=$(store_sql "SELECT count(*) FROM pxt.jobs WHERE status = 'running' AND runner LIKE '%:$vpid:%'")
  acked=$(wc -l <acked)
  [ "$running" -gt 0 ] && [ "$acked" -ge 100 ] && break
  kill -0 "$CLIENT" 2>/dev/null || break
  sleep 0.05
done
[ "${running:-0}" -gt 0 ] || fail "node $victim never ran a job (acked $(wc -l <acked))"
kill -9 "$vpid"
wait "$vpid" 2>/dev/null || true
pass "killed node $victim (pid $vpid) with $running job(s) running"
wait "$CLIENT" || fail "the load client failed"
echo "load: $(cat load1.json)"

# Every acknowledged insert is stored exactly once; every stored row is whole.
store_sql 'SELECT id FROM "scale.events" ORDER BY id' >stored
missing=$(sort acked | comm -23 - <(sort stored) | head -5)
[ -z "$missing" ] || fail "acknowledged inserts missing from the store: $missing"
dups=$(store_sql 'SELECT count(*) FROM (SELECT id FROM "scale.events" GROUP BY id HAVING count(*) > 1) d')
expect_eq "$dups" 0 "rows stored twice"
half=$(store_sql "SELECT count(*) FROM \"scale.events\" WHERE name IS DISTINCT FROM 'n' || id OR up IS DISTINCT FROM upper(name)")
expect_eq "$half" 0 "half-stored rows"
unsent=$(sort stored | comm -23 - <(sort sent) | head -3)
[ -z "$unsent" ] || fail "rows that were never sent: $unsent"
pass "$(wc -l <acked) acknowledged inserts stored exactly once, $(wc -l <stored) rows whole"

# Every job ends: the dead node's running ones interrupted after its lease (3 s), its pending
# ones claimed and run by the survivors.
for _ in $(seq 1 900); do
  open=$(store_sql "SELECT count(*) FROM pxt.jobs WHERE finished_ms IS NULL")
  [ "$open" = 0 ] && break
  sleep 0.1
done
expect_eq "$open" 0 "jobs still unfinished 90 s after the load"
bad=$(store_sql "SELECT id || ' ' || status || ' ' || coalesce(error, '') FROM pxt.jobs WHERE status <> 'done' AND NOT (runner LIKE '%:$vpid:%' AND error = 'interrupted by shutdown')")
[ -z "$bad" ] || fail "jobs that failed other than by the kill: $bad"
interrupted=$(store_sql "SELECT count(*) FROM pxt.jobs WHERE status = 'error'")
# A job runs at most once: a done job's row exists once, with its computed value.
wrong=$(store_sql "SELECT count(*) FROM pxt.jobs j WHERE j.status = 'done' AND (SELECT count(*) FROM \"scale.work\" w WHERE w.id = (j.result::jsonb->>'id')::bigint AND w.slept = w.ms) <> 1")
expect_eq "$wrong" 0 "done jobs without exactly one stored row"
claimed=$(store_sql "SELECT count(*) FROM pxt.jobs WHERE owner <> runner AND status = 'done'")
# Every job is readable from every survivor.
for i in 0 2; do
  while read -r _ id; do
    st=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORTS[$i]}/jobs/$id")
    [ "$st" = 200 ] || fail "job $id: $st from node $i"
  done <jobs
done
pass "$(wc -l <jobs) jobs readable from both survivors; $interrupted interrupted by the kill, $claimed run by another process than the one that queued them"

# The killed process comes back on its port and serves.
start_node $victim
wait_node $victim
http_at() { curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$1/events"; }
expect_eq "$(http_at "${PORTS[$victim]}" '{"id": 9000001, "name": "back"}')" 200 "insert on the restarted node"
expect_contains "$(cat "$TMP/body")" '"up":"BACK"' "restarted node's answer"
pass "the killed process restarted and serves"

# ---- PostgreSQL restarted under load ----
python3 "$PXT_SRC/tests/cli/scaleout_client.py" --port "$NGINX_PORT" --clients 4 --count 5000 --job-every 0 \
  --id-base 1000000 --seconds 120 --stop-file stop --sent sent2 --acked acked2 --jobs jobs2 >load2.json &
CLIENT=$!
for _ in $(seq 1 400); do [ "$(wc -l <acked2)" -ge 100 ] && break; sleep 0.05; done
before=$(wc -l <acked2)
"$PXT_SRC/scripts/pg-cluster" restart "$STORE_PG_DIR"
after_restart=$(wc -l <acked2)
# The pools reconnect by themselves: inserts are acknowledged again.
for _ in $(seq 1 600); do [ "$(wc -l <acked2)" -ge $((after_restart + 100)) ] && break; sleep 0.05; done
[ "$(wc -l <acked2)" -ge $((after_restart + 100)) ] || fail "no inserts acknowledged after PostgreSQL restarted: $(tail -3 "$TMP"/node*.log)"
touch stop
wait "$CLIENT" || fail "the load client failed"
echo "load during the restart: $(cat load2.json)"
python3 - load2.json <<'PY' || fail "unexpected answers while PostgreSQL restarted: $(cat load2.json)"
import json, sys
r = json.load(open(sys.argv[1]))
codes = set(r["status"]) - {"200", "503"}
sys.exit(1 if codes or r["bad_503"] or r["errors"] else 0)
PY
store_sql 'SELECT id FROM "scale.events" WHERE id >= 1000000 ORDER BY id' >stored2
missing=$(sort acked2 | comm -23 - <(sort stored2) | head -5)
[ -z "$missing" ] || fail "acknowledged inserts lost across the restart: $missing"
pass "PostgreSQL restarted under load: $before acked before, $(wc -l <acked2) in all, 503s retryable, none lost"

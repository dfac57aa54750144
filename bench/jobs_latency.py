"""Submit-to-done latency of background jobs (bench/jobs.sh).

C client threads, each on its own keep-alive connection, loop for D seconds: submit one job
(POST /insert with a fresh id), then poll its job_url every P ms until it is done, and record the
time from sending the submission to reading "done". Prints one JSON object: jobs completed, jobs
per second, and latency percentiles in ms. Errors (non-200, status "error") are counted, not timed.

Usage: python3 bench/jobs_latency.py --port N [--connections 64] [--duration 5] [--poll-ms 2]
       [--base 1]   (ids: base + thread * 10**7 + counter)
"""

import argparse
import http.client
import json
import threading
import time
import urllib.parse


def client(port, base, poll_s, deadline, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    n = 0
    while time.monotonic() < deadline:
        jid = base + n
        n += 1
        start = time.monotonic()
        conn.request("POST", "/insert", json.dumps({"id": jid, "prompt": "a photo number %d" % jid}), headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            out["errors"] += 1
            time.sleep(poll_s)
            continue
        path = urllib.parse.urlsplit(json.loads(body)["job_url"]).path
        while True:
            conn.request("GET", path)
            r = conn.getresponse()
            status = json.loads(r.read())["status"] if r.status == 200 else "error"
            if status != "pending":
                break
            time.sleep(poll_s)
        if status == "done":
            out["lat"].append((time.monotonic() - start) * 1000)
        else:
            out["errors"] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--poll-ms", type=float, default=2)
    ap.add_argument("--base", type=int, default=1)
    a = ap.parse_args()
    deadline = time.monotonic() + a.duration
    outs = [{"lat": [], "errors": 0} for _ in range(a.connections)]
    threads = [threading.Thread(target=client, args=(a.port, a.base + i * 10**7, a.poll_ms / 1000, deadline, outs[i]))
               for i in range(a.connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    lat = sorted(x for o in outs for x in o["lat"])
    pct = lambda p: round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1) if lat else None
    print(json.dumps({"done": len(lat), "errors": sum(o["errors"] for o in outs),
                      "jobs_per_s": round(len(lat) / elapsed), "p50_ms": pct(50), "p90_ms": pct(90),
                      "p99_ms": pct(99)}))


if __name__ == "__main__":
    main()

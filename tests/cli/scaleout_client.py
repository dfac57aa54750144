#!/usr/bin/env python3
"""Load driver of the scale-out test (tests/cli/test_scaleout.sh): keep-alive clients in threads
sending inserts and background jobs through one address (nginx in front of several pxt serve).

Each client sends, in turn, a synchronous insert {"id": N, "name": "n<N>"} to --insert-path and,
every --job-every requests, a background insert {"id": N, "ms": --job-ms} to --job-path. Ids are
unique across clients. Every id is appended to --sent before its request goes out; an id answered
2xx is appended to --acked (inserts) or "ID JOB_ID" to --jobs (background) once the answer
arrived, so the files list exactly what was sent and what was acknowledged. Other answers are
counted by status; a 503 must carry "retryable": true or Retry-After (counted otherwise in
"bad_503"). A client stops after --count requests, or when --stop-file exists, or at --seconds.
A connection error (a killed server behind the proxy) is counted, and the client reconnects.

Prints one JSON line: {"status": {code: count}, "errors": n, "bad_503": n, "sent": n}.
"""
import argparse
import http.client
import json
import os
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--insert-path", default="/events")
    ap.add_argument("--job-path", default="/jobs-in")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--count", type=int, default=500, help="requests per client")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--id-base", type=int, default=0)
    ap.add_argument("--job-every", type=int, default=10)
    ap.add_argument("--job-ms", type=int, default=200)
    ap.add_argument("--sent", required=True)
    ap.add_argument("--acked", required=True)
    ap.add_argument("--jobs", required=True)
    ap.add_argument("--stop-file", default="")
    args = ap.parse_args()

    lock = threading.Lock()
    status, totals = {}, {"errors": 0, "bad_503": 0, "sent": 0}
    files = {k: open(getattr(args, k), "a", buffering=1) for k in ("sent", "acked", "jobs")}
    deadline = time.time() + args.seconds

    def client(k):
        conn = None
        for i in range(args.count):
            if time.time() > deadline or (args.stop_file and os.path.exists(args.stop_file)):
                break
            ident = args.id_base + k * args.count + i
            job = args.job_every > 0 and i % args.job_every == args.job_every - 1
            path = args.job_path if job else args.insert_path
            body = {"id": ident, "ms": args.job_ms} if job else {"id": ident, "name": "n%d" % ident}
            with lock:
                files["sent"].write("%d\n" % ident)
                totals["sent"] += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    totals["errors"] += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
                continue
            with lock:
                status[resp.status] = status.get(resp.status, 0) + 1
                if resp.status == 200 and job:
                    files["jobs"].write("%d %s\n" % (ident, json.loads(data)["id"]))
                elif resp.status == 200:
                    files["acked"].write("%d\n" % ident)
                elif resp.status == 503:
                    retryable = resp.getheader("Retry-After") is not None
                    try:
                        detail = json.loads(data).get("detail")
                        retryable = retryable or (isinstance(detail, dict) and detail.get("retryable") is True)
                    except ValueError:
                        pass
                    if not retryable:
                        totals["bad_503"] += 1
            if resp.status >= 500 or resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in files.values():
        f.close()
    print(json.dumps({"status": {str(k): v for k, v in sorted(status.items())}, **totals}))


if __name__ == "__main__":
    main()

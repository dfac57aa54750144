#!/usr/bin/env python3
"""Load driver for the durability and concurrency tests: keep-alive HTTP clients in threads.

insert mode: each client POSTs {"id": N, "payload": ...} with ids unique across clients and
runs, and appends every id answered 2xx to --acked (one line per id, written after the answer
arrived, so the file lists exactly the acknowledged writes). A client stops at its first
connection failure (the server was killed) or when --seconds have passed.

mixed mode: half the clients insert, half read (POST --read-path with {"tag": ...}); nothing
is recorded but the statuses.

Prints one JSON line: {"status": {code: count}, "retry_after_missing": n, "errors": n, "bad": [...]}.
"""
import argparse
import http.client
import json
import os
import random
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/items")
    ap.add_argument("--read-path", default="/by-tag")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--id-base", type=int, default=0)
    ap.add_argument("--acked", default="")
    ap.add_argument("--mode", choices=["insert", "mixed"], default="insert")
    args = ap.parse_args()

    lock = threading.Lock()
    status = {}
    bad = []
    counters = {"retry_after_missing": 0, "errors": 0}
    acked_fd = os.open(args.acked, os.O_WRONLY | os.O_APPEND | os.O_CREAT) if args.acked else None
    deadline = time.monotonic() + args.seconds

    def record(code, body, headers):
        with lock:
            status[code] = status.get(code, 0) + 1
            if code == 503 and headers.get("Retry-After") is None:
                counters["retry_after_missing"] += 1
            if code >= 500 and code != 503 and len(bad) < 5:
                bad.append({"status": code, "body": body[:300]})

    def client(k, reader):
        rnd = random.Random(args.id_base * 1000 + k)
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        i = 0
        while time.monotonic() < deadline:
            i += 1
            if reader:
                path = args.read_path
                body = {"tag": "t%d" % rnd.randrange(8)}
            else:
                path = args.path
                ident = args.id_base + k * 10_000_000 + i
                # Varied lengths and non-ASCII text, so a torn row would show in the computed columns.
                payload = "".join(rnd.choice("abcxyzé€😀 ") for _ in range(rnd.randrange(0, 200)))
                body = {"id": ident, "payload": payload, "tag": "t%d" % (ident % 8)}
            try:
                conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                with lock:
                    counters["errors"] += 1
                return  # the server is gone (killed): stop, as a real client would see an error
            record(resp.status, data, resp.headers)
            if not reader and 200 <= resp.status < 300 and acked_fd is not None:
                os.write(acked_fd, b"%d\n" % ident)

    threads = []
    for k in range(args.clients):
        reader = args.mode == "mixed" and k % 2 == 1
        threads.append(threading.Thread(target=client, args=(k, reader), daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {"status": {str(k): v for k, v in sorted(status.items())}, "bad": bad}
    out.update(counters)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Load driver for the durability and concurrency tests: keep-alive HTTP clients in threads.

insert mode: each client POSTs {"id": N, "payload": ...} with ids unique across clients and
runs, and appends every id answered 2xx to --acked (one line per id, written after the answer
arrived, so the file lists exactly the acknowledged writes). A client stops at its first
connection failure (the server was killed) or when --seconds have passed.

mixed mode: half the clients insert, half read (POST --read-path with {"tag": ...}); nothing
is recorded but the statuses.

upload mode: each client POSTs multipart/form-data with the form field id=N and a random PNG
(noise, --image-kb in size) as the file part "img"; before sending it appends "N SHA256" to
--sent (so every row that may be stored has its expected file hash), and appends N to --acked
once answered 2xx.

Prints one JSON line: {"status": {code: count}, "retry_after_missing": n, "errors": n, "bad": [...]}.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import threading
import struct
import time
import zlib


def noise_png(rnd, side):
    """A valid RGB PNG of random pixels (stored uncompressed, so it is about side*side*3 bytes)."""
    raw = b"".join(b"\x00" + rnd.randbytes(side * 3) for _ in range(side))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


def multipart(ident, png):
    boundary = "pxtload%016x" % random.getrandbits(64)
    body = ("--%s\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n%d\r\n" % (boundary, ident)).encode()
    body += ("--%s\r\nContent-Disposition: form-data; name=\"img\"; filename=\"p.png\"\r\n"
             "Content-Type: image/png\r\n\r\n" % boundary).encode()
    body += png + ("\r\n--%s--\r\n" % boundary).encode()
    return body, "multipart/form-data; boundary=" + boundary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/items")
    ap.add_argument("--read-path", default="/by-tag")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--id-base", type=int, default=0)
    ap.add_argument("--acked", default="")
    ap.add_argument("--sent", default="")
    ap.add_argument("--image-kb", type=int, default=64)
    ap.add_argument("--mode", choices=["insert", "mixed", "upload"], default="insert")
    args = ap.parse_args()

    lock = threading.Lock()
    status = {}
    bad = []
    counters = {"retry_after_missing": 0, "errors": 0}
    acked_fd = os.open(args.acked, os.O_WRONLY | os.O_APPEND | os.O_CREAT) if args.acked else None
    sent_fd = os.open(args.sent, os.O_WRONLY | os.O_APPEND | os.O_CREAT) if args.sent else None
    side = max(8, int((args.image_kb * 1024 / 3) ** 0.5))
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
            ctype = "application/json"
            if reader:
                path = args.read_path
                body = {"tag": "t%d" % rnd.randrange(8)}
            elif args.mode == "upload":
                path = args.path
                ident = args.id_base + k * 10_000_000 + i
                png = noise_png(rnd, side)
                body, ctype = multipart(ident, png)
                if sent_fd is not None:
                    os.write(sent_fd, b"%d %s\n" % (ident, hashlib.sha256(png).hexdigest().encode()))
            else:
                path = args.path
                ident = args.id_base + k * 10_000_000 + i
                # Varied lengths and non-ASCII text, so a torn row would show in the computed columns.
                payload = "".join(rnd.choice("abcxyzé€😀 ") for _ in range(rnd.randrange(0, 200)))
                body = {"id": ident, "payload": payload, "tag": "t%d" % (ident % 8)}
            try:
                data = body if isinstance(body, bytes) else json.dumps(body)
                conn.request("POST", path, data, {"Content-Type": ctype})
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

"""Time from process start to first answered request, and idle RSS, of a server command.

Usage: startup_probe.py [--runs N] [--path /lookup?id=1] [--status 200] -- CMD ARG...
Every "{port}" in CMD is replaced by a free loopback port, a new one each run. Per run: spawn,
then connect and send GET PATH in a tight loop (200 us apart) until a response with the
expected status arrives; that is the start time. Then, 200 ms later, VmRSS from
/proc/PID/status is the idle RSS. The server is stopped with SIGTERM (SIGKILL after 5 s).
Prints one JSON object: medians and every sample.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(port: int, path: str) -> int:
    """Returns the HTTP status of GET path, or 0 when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
    except OSError:
        return 0
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stop(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def one_run(cmd: list, path: str, status: int, deadline_s: float) -> tuple:
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in cmd]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            got = ask(port, path)
            if got == status:
                start_ms = (time.perf_counter() - t0) * 1000
                break
            if p.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {p.returncode} before answering")
            if got != 0:
                raise RuntimeError(f"GET {path} answered {got}, expected {status}")
            if time.perf_counter() - t0 > deadline_s:
                raise RuntimeError(f"no answer within {deadline_s} s")
            time.sleep(0.0002)
        time.sleep(0.2)
        return start_ms, rss_kb(p.pid)
    finally:
        stop(p)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--path", default="/lookup?id=1")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--deadline", type=float, default=20.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("give the server command after --")
    starts, rss = [], []
    for _ in range(args.runs):
        s, r = one_run(cmd, args.path, args.status, args.deadline)
        starts.append(round(s, 2))
        rss.append(r)
    print(json.dumps({"start_ms_median": round(statistics.median(starts), 2), "start_ms": starts,
                      "rss_kb_median": int(statistics.median(rss)), "rss_kb": rss}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"startup_probe: {e}", file=sys.stderr)
        sys.exit(1)

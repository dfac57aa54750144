#!/usr/bin/env python3
"""Runs README.md's shell blocks as a newcomer would, and checks the answers it shows.

The rules (README.md repeats them in a comment at its top):

* Every ```sh block runs, in the order of the file, in ONE bash session (variables, `cd` and
  functions carry over), in a fresh home ($PXT_HOME empty) and a scratch folder holding a copy
  of demo/ (other top-level folders of the repository are linked, read-only in spirit). `pxt` is
  the binary under test, first on PATH. Blocks of any other kind (```bash, ```text, ```toml,
  ```json ...) are shown only: put there what needs the network, a real model provider, root,
  a file the repository does not have, or minutes (building, installing, `scripts/test`).
* A command is a line (with `\\` continuations and here-documents). Each must exit 0, unless
  the answer shown starts with `pxt: error:` (then it must fail, and that is its stderr).
* The answer a command prints is shown at the end of its (last) line as `# -> TEXT`, or on the
  line right below it as `# -> TEXT`, or, for several lines, in an ```output block right after
  its ```sh block (it then belongs to the block's last command). It is compared with what the command printed on stdout: `...` stands
  for any text (also several lines); a run of spaces matches any run of spaces, and spaces next
  to punctuation are optional (so `{"id": 1}` matches `{"id":1}`). A command without a shown
  answer is checked for its exit status only.
* `pxt serve ...` (not --dry-run) is started in the background on 127.0.0.1 and waited for
  (/healthz); it is stopped at the end of its ```sh block. Port numbers written in the README
  (`localhost:8000`, `--port 8001`; 8000 when none is given) are mapped to free ports, in the
  commands and in the answers, so a port in use on the machine cannot fail the tour.
* `curl` runs with -sS and --fail-with-body (an HTTP error fails the step) unless the command
  prints the status itself with -w/--write-out.

Usage: readme_tour.py README.md  (environment: PXT = the binary, PXT_SRC = the repository,
PXT_HOME = a fresh home, TOUR_WORK = an empty scratch folder). Exit 1 on the first failure,
naming README.md:LINE, the command, what was expected and what came.
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request

STEP_TIMEOUT_S = 120
SERVER_START_TIMEOUT_S = 60


class Command:
    def __init__(self, text, line):
        self.text = text  # as written (continuations kept), without the `# ->` comment
        self.line = line  # README line of its first line
        self.expected = None  # str, or None


def parse_blocks(readme):
    """[(kind, first_line_number, [lines])] of every fenced block."""
    blocks, cur, kind, start = [], None, None, 0
    for n, line in enumerate(readme.splitlines(), 1):
        fence = re.match(r"^\s*```(\S*)", line)
        if fence and cur is None:
            cur, kind, start = [], fence.group(1), n + 1
        elif fence and cur is not None and line.strip() == "```":
            blocks.append((kind, start, cur))
            cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


ARROW = re.compile(r"\s+# -> (.*)$")


def split_commands(lines, first_line):
    """Logical commands of a ```sh block: continuation lines joined, here-documents kept whole."""
    cmds, i, just_ended = [], 0, False
    while i < len(lines):
        line, n = lines[i], first_line + i
        i += 1
        if line.lstrip().startswith("# -> "):
            # An answer on its own line belongs to the command just above it.
            if not just_ended or cmds[-1].expected is not None:
                raise SystemExit(f"FAIL: README line {n}: `# ->` must follow a command (or end its line)")
            cmds[-1].expected = line.lstrip()[len("# -> "):]
            continue
        just_ended = False
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [line]
        while parts[-1].rstrip().endswith("\\") and i < len(lines):
            parts.append(lines[i])
            i += 1
        heredoc = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", parts[0])
        if heredoc:
            word = heredoc.group(1)
            while i < len(lines):
                parts.append(lines[i])
                i += 1
                if parts[-1].strip() == word:
                    break
        cmd = Command("", n)
        last = parts[-1] if not heredoc else parts[0]
        m = ARROW.search(last)
        if m:
            cmd.expected = m.group(1)
            if heredoc:
                parts[0] = parts[0][: m.start()]
            else:
                parts[-1] = parts[-1][: m.start()]
        cmd.text = "\n".join(parts)
        cmds.append(cmd)
        just_ended = True
    return cmds


def wordish(c):
    return c.isalnum() or c in "_'\""


def pattern(expected):
    """The regex an expected answer stands for (see the rules above)."""
    text, out, i = expected.strip(), [], 0
    while i < len(text):
        if text.startswith("...", i):
            out.append(r".*?")
            i += 3
            continue
        c = text[i]
        if c.isspace():
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
            before = text[i - 1] if i > 0 else ""
            after = text[j] if j < len(text) else ""
            out.append(r"\s+" if wordish(before) and wordish(after) else r"\s*")
            i = j
            continue
        # Spaces next to punctuation are optional on both sides (`{"id":1}` for `{"id": 1}`).
        out.append(r"\s*" + re.escape(c) + r"\s*" if c in "{}[],:" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def matches(expected, actual):
    return pattern(expected).fullmatch(actual.strip()) is not None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Tour:
    def __init__(self, readme_path):
        self.readme_path = readme_path
        self.work = os.environ["TOUR_WORK"]
        self.ctl = os.path.join(self.work, ".tour")
        os.makedirs(self.ctl, exist_ok=True)
        self.ports = {}
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(os.path.abspath(os.environ["PXT"])) + os.pathsep + env["PATH"]
        env.pop("PXT_PATH", None)
        self.bash = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd=self.work, env=env, text=True, start_new_session=True)
        self.send(r'''
curl() {
  local a
  for a in "$@"; do
    case $a in -w|--write-out|--write-out=*) command curl -sS --max-time 60 "$@"; return;; esac
  done
  command curl -sS --fail-with-body --max-time 60 "$@"
}
echo "__TOUR_DONE 0"
''')
        self.wait_done("start", 10)

    def send(self, text):
        self.bash.stdin.write(text + "\n")
        self.bash.stdin.flush()

    def wait_done(self, what, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail_now(f"{what}: no answer within {timeout} s")
            ready, _, _ = select.select([self.bash.stdout], [], [], left)
            if not ready:
                continue
            line = self.bash.stdout.readline()
            if not line:
                self.fail_now(f"{what}: the shell exited")
            if line.startswith("__TOUR_DONE "):
                return int(line.split()[1])

    def port_for(self, number):
        if number not in self.ports:
            self.ports[number] = str(free_port())
        return self.ports[number]

    def map_ports(self, text):
        text = re.sub(r"\b(localhost|127\.0\.0\.1):(\d{4,5})\b",
                      lambda m: m.group(1) + ":" + self.port_for(m.group(2)), text)
        return re.sub(r"(--port[ =])(\d{2,5})\b", lambda m: m.group(1) + self.port_for(m.group(2)), text)

    def where(self, cmd):
        return f"{os.path.basename(self.readme_path)}:{cmd.line}: {cmd.text.strip()}"

    def fail_now(self, message):
        print("FAIL: " + message, file=sys.stderr)
        self.stop_all()
        sys.exit(1)

    def run(self, cmd, servers):
        path = os.path.join(self.ctl, "cmd")
        if is_server(cmd.text):
            text = cmd.text.rstrip()
            if "--port" not in text:
                text += " --port 8000"
            if "--host" not in text:
                text += " --host 127.0.0.1"
            # `exec` after any leading VAR=value words, so the job's pid is the server's.
            m = re.match(r"((?:[A-Za-z_]\w*=\S*\s+)*)(.*)", self.map_ports(text), re.DOTALL)
            with open(path, "w") as f:
                f.write(m.group(1) + "exec " + m.group(2))
            port = re.search(r"--port[ =](\d+)", self.map_ports(text)).group(1)
            log = os.path.join(self.ctl, f"server.{cmd.line}.log")
            self.send(f'eval "$(cat {path})" >{log} 2>&1 </dev/null & echo "__TOUR_DONE $!"')
            pid = self.wait_done(self.where(cmd), 10)
            servers.append(pid)
            self.wait_healthy(cmd, pid, port, log)
            print(f"ok: README.md:{cmd.line}: started {cmd.text.strip()} (port {port})")
            return
        with open(path, "w") as f:
            f.write(self.map_ports(cmd.text))
        out, err = os.path.join(self.ctl, "out"), os.path.join(self.ctl, "err")
        self.send(f'{{ eval "$(cat {path})"; }} >{out} 2>{err} </dev/null; echo "__TOUR_DONE $?"')
        status = self.wait_done(self.where(cmd), STEP_TIMEOUT_S)
        stdout, stderr = read(out), read(err)
        expected = self.map_ports(cmd.expected) if cmd.expected is not None else None
        if expected is not None and expected.strip().startswith("pxt: error:"):
            if status == 0:
                self.fail_now(f"{self.where(cmd)}\n  should fail with: {expected}\n  but exited 0; stdout:\n{stdout}")
            if not matches(expected, stderr):
                self.fail_now(f"{self.where(cmd)}\n  expected on stderr: {expected}\n  got:\n{stderr}")
        elif status != 0:
            self.fail_now(f"{self.where(cmd)}\n  exited {status}\n  stdout:\n{stdout}\n  stderr:\n{stderr}")
        elif expected is not None and not matches(expected, stdout):
            self.fail_now(f"{self.where(cmd)}\n  expected:\n{expected}\n  got:\n{stdout}")
        print(f"ok: README.md:{cmd.line}: {cmd.text.strip().splitlines()[0]}")

    def wait_healthy(self, cmd, pid, port, log):
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if not alive(pid):
                self.fail_now(f"{self.where(cmd)}\n  the server exited:\n{read(log)}")
            time.sleep(0.05)
        self.fail_now(f"{self.where(cmd)}\n  the server did not answer /healthz within {SERVER_START_TIMEOUT_S} s:\n{read(log)}")

    def stop_servers(self, servers):
        for pid in servers:
            self.send(f'kill -TERM {pid} 2>/dev/null; wait {pid} 2>/dev/null; echo "__TOUR_DONE $?"')
            self.wait_done(f"stopping server {pid}", 30)
        servers.clear()

    def stop_all(self):
        try:
            os.killpg(self.bash.pid, signal.SIGTERM)
        except OSError:
            pass


def is_server(text):
    words = text.split()
    while words and re.match(r"^\w+=", words[0]):  # leading VAR=value assignments
        words = words[1:]
    return (len(words) >= 2 and words[0] == "pxt" and words[1] == "serve" and
            not {"--dry-run", "--help", "-h"} & set(words))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def main():
    readme_path = sys.argv[1]
    with open(readme_path) as f:
        blocks = parse_blocks(f.read())
    tour = Tour(readme_path)
    steps = 0
    for i, (kind, start, lines) in enumerate(blocks):
        if kind != "sh":
            continue
        cmds = split_commands(lines, start)
        if i + 1 < len(blocks) and blocks[i + 1][0] == "output" and cmds:
            if cmds[-1].expected is not None:
                tour.fail_now(f"{tour.where(cmds[-1])}: an answer both in `# ->` and in an ```output block")
            cmds[-1].expected = "\n".join(blocks[i + 1][2])
        servers = []
        for cmd in cmds:
            tour.run(cmd, servers)
            steps += 1
        tour.stop_servers(servers)
    tour.send('exit 0')
    tour.bash.wait(timeout=10)
    if steps == 0:
        print("FAIL: no ```sh block found in " + readme_path, file=sys.stderr)
        sys.exit(1)
    print(f"ok: the README tour: {steps} commands")


if __name__ == "__main__":
    main()

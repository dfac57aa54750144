"""Raw-socket HTTP/1.1 helpers for the end-to-end tests (tests/cli/test_serve_http*.sh): write
bytes exactly as given, read answers one by one (Content-Length framing, as pxt answers), and tell
whether the server closed the connection after them."""
import socket


class Conn:
    def __init__(self, port, timeout=10.0):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        try:
            d = self.s.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def answer(self):
        """The next answer as (status, {lower-case name: value}, raw head, body), or None when the
        server closed the connection first. Raises socket.timeout when nothing comes."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                return None
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        n = 0 if status in (100, 204, 304) else int(headers.get("content-length", "0"))
        self.buf = rest
        while len(self.buf) < n:
            if not self._fill():
                return None
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, head.decode("latin1"), body

    def answers(self, n):
        """Up to n answers (skipping interim 100s); stops early when the server closes."""
        out = []
        while len(out) < n:
            a = self.answer()
            if a is None:
                break
            if a[0] != 100:
                out.append(a)
        return out

    def closed(self):
        """True when the server closes without sending anything more (within the timeout)."""
        if self.buf:
            return False
        try:
            return not self._fill()
        except socket.timeout:
            return False

    def close(self):
        self.s.close()

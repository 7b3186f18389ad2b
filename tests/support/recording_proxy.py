"""A reverse proxy in front of Keycloak that counts the requests it forwards: how the tests
hold the sidecar to a number of Keycloak requests, from outside the sidecar's own code."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from idpack.processes import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length",
              "content-encoding", "host"}


@dataclass
class Recorded:
    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, *, path_contains: str = "") -> int:
        with self.lock:
            return sum(1 for _, path in self.requests if path_contains in path)

    def since(self, mark: int) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.requests[mark:])


@contextmanager
def recording_proxy(upstream: str, port: int | None = None) -> Iterator[Recorded]:
    port = port or free_port()
    recorded = Recorded(f"http://127.0.0.1:{port}")
    session = requests.Session()

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # An answer leaves in one write (buffered, flushed at its end), without Nagle:
        # headers and body written apart waited out the client's delayed ACK (40 ms on
        # Linux), and the benchmark measured that instead of the sidecar.
        disable_nagle_algorithm = True
        wbufsize = 1 << 16

        def _forward(self) -> None:
            with recorded.lock:
                recorded.requests.append((self.command, self.path))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            answer = session.request(self.command, upstream + self.path, data=body,
                                     headers=headers, allow_redirects=False, timeout=60)
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Forward)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()

"""Flask apps under gunicorn, the way idpack's web services run in production (gthread
workers: their requests wait on Keycloak, not on the CPU).

gunicorn's threaded worker gives a connection a thread as soon as its first bytes
arrive, and the thread then waits, blocked, for the rest of the request's head: a few
dozen clients sending their heads a byte at a time hold every thread, and nobody else
is answered (slowloris). `make run` serves the sidecar and the portal without a
buffering proxy in front, so idpack's worker buffers instead: each request's head (and
a body of known, small length) is read in the worker's poller, where a waiting
connection costs a socket and no thread, and only a complete request goes to a thread.
A request not complete within `head_seconds` of its first byte (or of the end of the
one before, on a kept-alive connection) is closed.

A thread that has answered on a kept-alive connection waits there a moment
(`LINGER_SECONDS`) for the next request before it hands the connection back to the
poller, unless another connection's request waits for a thread: a service calling again
at once is answered without the round through the poller (a third of a lookup's p99 at
8 callers, README "Scale"). Only a whole request is taken so; part of one goes to the
poller like any other."""

from __future__ import annotations

import errno
import re
import select
import selectors
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_SECONDS = 10.0  # a browser or a service sends a whole head in milliseconds
MAX_BUFFERED_BODY = 1024 * 1024  # larger bodies (or chunked ones) are read by the thread
MAX_HEAD = 64 * 1024  # past this the parser answers (431/400), not the poller
LINGER_SECONDS = 0.005  # a service's next call on its connection comes within 1-2 ms
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)


def request_complete(buffered: bytes) -> bool:
    """A whole head is there, and the body too when its length is known and small."""
    end = buffered.find(b"\r\n\r\n")
    if end < 0:
        return len(buffered) > MAX_HEAD
    head = buffered[:end + 2]
    lengths = CONTENT_LENGTH.findall(head)
    if len(lengths) != 1 or b"transfer-encoding" in head.lower():
        return True  # no body, or one the parser must judge (chunked, two lengths)
    length = int(lengths[0])
    return length > MAX_BUFFERED_BODY or len(buffered) - (end + 4) >= length


class BufferedConn(TConn):  # type: ignore[misc]
    """A connection with the bytes the poller read for it, handed to the parser first."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.buffered = bytearray()

    def init(self) -> None:
        super().init()
        self.hand_over()

    def hand_over(self) -> None:
        if self.buffered and self.parser is not None:
            self.parser.unreader.unread(bytes(self.buffered))
            self.buffered.clear()


class HeadBufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, with every request read whole in its poller first."""

    head_seconds = HEAD_SECONDS

    def init_process(self) -> None:
        self._queued = 0  # requests submitted to the pool that no thread has taken yet
        self._queued_lock = threading.Lock()
        super().init_process()

    def handle(self, conn: BufferedConn) -> Any:
        """Answer the connection's request, then the next ones that come whole within
        LINGER_SECONDS of an answer while no other request waits for a thread."""
        with self._queued_lock:
            self._queued -= 1
        keep = super().handle(conn)
        while keep is True and self.alive and not conn.is_http2 and self._nobody_waits():
            if conn.parser.unreader.buf.getvalue():
                break  # read ahead with the last request: finish_request sees to it
            ready, _, _ = select.select([conn.sock], [], [], LINGER_SECONDS)
            if not ready:
                break
            try:
                data = conn.sock.recv(65536)
            except OSError:
                return False
            if not data:
                return False  # the client closed it
            conn.parser.unreader.unread(data)
            if not request_complete(data) or not self._nobody_waits():
                break  # to the poller (part of a request) or behind those waiting
            keep = super().handle(conn)
        return keep

    def _nobody_waits(self) -> bool:
        return self._queued == 0

    def _submit(self, conn: BufferedConn) -> None:
        with self._queued_lock:
            self._queued += 1
        super().enqueue_req(conn)

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_request(BufferedConn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: BufferedConn, client: Any) -> None:
        """A kept-alive connection sends its next request: buffer that one too, starting
        with the bytes that woke the poller (a service's whole request, as a rule: then
        it goes to a thread at once, without a second round through the poller)."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_request(conn, readable=True)

    def enqueue_req(self, conn: BufferedConn) -> None:
        """Bytes of a next request read ahead with the last one (pipelining) may be only
        part of it: those wait in the poller like any other."""
        if conn.initialized and not request_complete(conn.parser.unreader.buf.getvalue()):
            conn.buffered[:0] = conn.parser.unreader.take_buffered()
            self._await_request(conn)
            return
        self._submit(conn)

    def _await_request(self, conn: BufferedConn, *, readable: bool = False) -> None:
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.head_seconds
        self.pending_conns.append(conn)  # murder_pending closes it at conn.timeout
        if readable:
            data = self._receive(conn)
            if data is not None and (not data or request_complete(bytes(conn.buffered))):
                self._stop_waiting(conn, data)
                return
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self._on_request_bytes, conn))

    def _on_request_bytes(self, conn: BufferedConn, client: Any) -> None:
        data = self._receive(conn)
        if data is None or (data and not request_complete(bytes(conn.buffered))):
            return
        self.poller.unregister(client)
        self._stop_waiting(conn, data)

    @staticmethod
    def _receive(conn: BufferedConn) -> bytes | None:
        """What the client sent, added to the buffer; None when nothing has come yet, b""
        when it went away."""
        try:
            data: bytes = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return b""
        conn.buffered += data
        return data

    def _stop_waiting(self, conn: BufferedConn, data: bytes) -> None:
        """A whole request goes to a thread; a client gone before one is closed."""
        self.pending_conns.remove(conn)
        if not data:
            self.nr_conns -= 1
            conn.close()
            return
        conn.data_ready = True
        if conn.initialized:
            conn.hand_over()
        self._submit(conn)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app_factory: Callable[[], Flask], *, name: str, host: str, port: int,
                 workers: int, threads: int, head_seconds: float = HEAD_SECONDS) -> None:
        self.app_factory = app_factory
        bind_host = f"[{host}]" if ":" in host else host  # an IPv6 address
        # The workers are forked from this process: they see the class attribute.
        HeadBufferingWorker.head_seconds = head_seconds
        self.options = {
            "bind": f"{bind_host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": HeadBufferingWorker,
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": name,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app_factory()


def serve(app_factory: Callable[[], Flask], **options: Any) -> Any:
    """Run until SIGINT or SIGTERM; `options` as GunicornServer takes them."""
    return GunicornServer(app_factory, **options).run()

"""Security 2-7 (slow clients): clients that send a request's head a byte at a time
no longer stop the sidecar or the portal from answering everyone else.

gunicorn's threaded workers gave each connection a thread as soon as its first bytes
came, and the thread then waited for the rest of the head: 64 slow clients stopped the
sidecar (short links included) and 12 the portal, as `make run` serves them without a
buffering proxy in front. idpack's worker now reads each request's head (and a small
body) in its poller, where a waiting connection costs no thread, and closes what is not
complete within the deadline."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from idpack.processes import ChildService, free_port, http_ready
from tests.support.realm import REPO

pytestmark = pytest.mark.peers
SLOW_CLIENTS = 64


@contextmanager
def serving(command: str, env: dict[str, str], health: str, log: Path) -> Iterator[None]:
    service = ChildService(command, [sys.executable, "-m", "idpack", command],
                           {**os.environ, **env}, log, http_ready(health), cwd=REPO)
    service.start(timeout=30)
    try:
        yield
    finally:
        service.stop(timeout=30)


@contextmanager
def slow_clients(port: int, count: int) -> Iterator[list[socket.socket]]:
    """`count` clients that each start a request and add a byte of its head every 0.5 s,
    never finishing it."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
    for client in sockets:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for client in sockets:
                with contextlib.suppress(OSError):  # closed by the server's deadline
                    client.sendall(b"X")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield sockets
    finally:
        stop.set()
        thread.join(timeout=5)
        for client in sockets:
            client.close()


def answers_everyone_else(urls: list[str], seconds: float = 3.0) -> list[float]:
    """How long each of a few ordinary requests took, made while the slow clients hold
    their connections open (a request that gets no answer fails the test)."""
    took = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for url in urls:
            started = time.monotonic()
            assert requests.get(url, timeout=5).status_code in (200, 404), url
            took.append(time.monotonic() - started)
        time.sleep(0.2)
    return took


def test_the_sidecar_answers_while_64_clients_send_their_heads_slowly(tmp_path: Path) -> None:
    port = free_port()
    env = {"IDPACK_HOME": str(tmp_path), "KEYCLOAK_URL": "http://127.0.0.1:9",
           "IDPACK_REALM": "mikrocloud", "IDPACK_SIDECAR_CLIENT_SECRET": "unused",
           "IDPACK_SIDECAR_INDEX_USERS": "false", "IDPACK_SIDECAR_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    with serving("sidecar", env, f"{base}/healthz", tmp_path / "sidecar.log"), \
            slow_clients(port, SLOW_CLIENTS):
        took = answers_everyone_else([f"{base}/healthz", f"{base}/s/{'A' * 16}"])

    assert max(took) < 2.0, took


def test_the_portal_answers_while_64_clients_send_their_heads_slowly(tmp_path: Path) -> None:
    port = free_port()
    env = {"IDPACK_HOME": str(tmp_path), "KEYCLOAK_URL": "http://127.0.0.1:9",
           "IDPACK_REALM": "mikrocloud", "IDPACK_PORTAL_URL": f"http://127.0.0.1:{port}",
           "IDPACK_SIDECAR_URL": "http://127.0.0.1:9", "IDPACK_PORTAL_SECRET_KEY": "x" * 32}
    base = f"http://127.0.0.1:{port}"
    with serving("portal", env, f"{base}/healthz", tmp_path / "portal.log"), \
            slow_clients(port, SLOW_CLIENTS):
        took = answers_everyone_else([f"{base}/healthz", f"{base}/"])

    assert max(took) < 2.0, took


SERVER = textwrap.dedent("""
    import sys
    from flask import Flask
    from idpack import wsgi_server
    app = Flask("slow")
    app.add_url_rule("/", "home", lambda: "ok")
    wsgi_server.serve(lambda: app, name="slow", host="127.0.0.1", port=int(sys.argv[1]),
                      workers=1, threads=int(sys.argv[2]), head_seconds=1.0)
""")


@pytest.fixture(params=[2])
def small_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[int]:
    """A one-worker server of "ok" with a head deadline of 1 s and two threads (or as
    many as the test's parameter says): its port."""
    port = free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = ChildService("server", [sys.executable, str(script), str(port), str(request.param)],
                          os.environ, tmp_path / "server.log",
                          http_ready(f"http://127.0.0.1:{port}/"), cwd=REPO)
    server.start(timeout=30)
    try:
        yield port
    finally:
        server.stop(timeout=30)


def test_a_head_not_complete_within_the_deadline_is_closed(small_server: int) -> None:
    with socket.create_connection(("127.0.0.1", small_server), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = client.recv(1024)  # blocks until the server gives up on the head
        waited = time.monotonic() - started

    assert closed == b""
    assert 0.8 < waited < 3.5, waited


REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def answers(client: socket.socket, count: int) -> bytes:
    """What the server sends until `count` whole answers of "ok" have come."""
    received = b""
    while received.count(b"\r\n\r\nok") < count:
        chunk = client.recv(65536)
        assert chunk, received  # closed before answering
        received += chunk
    return received


def test_a_kept_alive_connection_is_answered_however_its_next_request_comes(
        small_server: int) -> None:
    """The next request on a kept-alive connection is read as soon as it wakes the poller:
    whole, a byte at a time, or two at once (pipelined), each is answered, and a half
    one is closed at the deadline like any other."""
    with socket.create_connection(("127.0.0.1", small_server), timeout=5) as client:
        client.sendall(REQUEST)
        answers(client, 1)
        client.sendall(REQUEST)  # whole
        answers(client, 1)
        for byte in REQUEST:  # a byte at a time, over about 0.3 s
            client.sendall(bytes([byte]))
            time.sleep(0.01)
        answers(client, 1)
        client.sendall(REQUEST + REQUEST)  # pipelined
        assert answers(client, 2).count(b"HTTP/1.1 200") == 2
        client.sendall(REQUEST[:10])  # half a head, and nothing more
        started = time.monotonic()
        assert client.recv(1024) == b""
        assert 0.8 < time.monotonic() - started < 3.5

    for _ in range(3):  # the worker still serves, after a client that went away too
        with socket.create_connection(("127.0.0.1", small_server), timeout=5) as client:
            client.sendall(REQUEST)
            answers(client, 1)
            client.sendall(REQUEST)
            answers(client, 1)
    assert requests.get(f"http://127.0.0.1:{small_server}/", timeout=5).text == "ok"


@pytest.mark.parametrize("small_server", [1], indirect=True)
def test_a_busy_kept_alive_client_does_not_keep_the_thread_from_others(
        small_server: int) -> None:
    """A thread waits a moment on the connection it answered for the next request (a
    service's next call comes within a millisecond or two), but not while another
    connection's request waits for a thread: with one thread, a client that asks again
    the moment it is answered must not keep everyone else waiting."""
    stop = threading.Event()

    def busy() -> None:
        with socket.create_connection(("127.0.0.1", small_server), timeout=5) as client:
            while not stop.is_set():
                client.sendall(REQUEST)
                answers(client, 1)

    hog = threading.Thread(target=busy, daemon=True)
    hog.start()
    try:
        time.sleep(0.3)
        took = []
        for _ in range(5):
            started = time.monotonic()
            assert requests.get(f"http://127.0.0.1:{small_server}/", timeout=5).text == "ok"
            took.append(time.monotonic() - started)
        assert hog.is_alive()  # the busy client was answered all along
    finally:
        stop.set()
        hog.join(timeout=10)

    assert max(took) < 0.5, took

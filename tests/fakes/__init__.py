"""Local stand-ins for the outside identity providers the realm federates with (GitHub,
a further OpenID Connect provider), for tests only: real HTTP servers on loopback ports,
so a real Keycloak and a real browser can talk to them.

Each fake is a Flask app run by Werkzeug's threaded server in a daemon thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from idpack.processes import free_port

HOST = "127.0.0.1"


@contextmanager
def serving(app: Flask, port: int | None = None) -> Iterator[str]:
    """The app on a real HTTP port until the block ends; its base URL."""
    port = port or free_port(HOST)
    server = make_server(HOST, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"{app.name}:{port}",
                              daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

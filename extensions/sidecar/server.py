"""`idpack sidecar`: the app under gunicorn, the way it runs in production."""

from __future__ import annotations

from typing import Any

from extensions.sidecar.app import create_app
from extensions.sidecar.settings import SidecarSettings
from idpack import wsgi_server


def serve(settings: SidecarSettings) -> Any:
    return wsgi_server.serve(lambda: create_app(settings), name="idpack-sidecar",
                             host=settings.host, port=settings.port,
                             workers=settings.workers, threads=8)

"""`idpack portal`: the app under gunicorn, the way it runs in production."""

from __future__ import annotations

from typing import Any

from extensions.portal.app import create_app
from extensions.portal.settings import PortalSettings
from idpack import wsgi_server


def serve(settings: PortalSettings) -> Any:
    return wsgi_server.serve(lambda: create_app(settings), name="idpack-portal",
                             host=settings.host, port=settings.port,
                             workers=settings.workers, threads=4)

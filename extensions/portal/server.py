"""`idpack portal`: the app under gunicorn, the way it runs in production."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from extensions.portal.app import create_app
from extensions.portal.settings import PortalSettings


class PortalServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        for key, value in {
            "bind": f"{host}:{self.settings.port}",
            "workers": self.settings.workers,
            "threads": 4,  # pages wait on Keycloak and the sidecar, not on the CPU
            "worker_class": "gthread",
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "idpack-portal",
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app(self.settings)


def serve(settings: PortalSettings) -> Any:
    return PortalServer(settings).run()

"""`idpack sidecar`: the app under gunicorn, the way it runs in production."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from extensions.sidecar.app import create_app
from extensions.sidecar.settings import SidecarSettings


class SidecarServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: SidecarSettings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": self.settings.workers,
            "threads": 8,  # lookups wait on Keycloak, not on the CPU
            "worker_class": "gthread",
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "idpack-sidecar",
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app(self.settings)


def serve(settings: SidecarSettings) -> Any:
    return SidecarServer(settings).run()

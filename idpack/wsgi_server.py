"""Flask apps under gunicorn, the way idpack's web services run in production (gthread
workers: their requests wait on Keycloak, not on the CPU)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app_factory: Callable[[], Flask], *, name: str, host: str, port: int,
                 workers: int, threads: int) -> None:
        self.app_factory = app_factory
        bind_host = f"[{host}]" if ":" in host else host  # an IPv6 address
        self.options = {
            "bind": f"{bind_host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
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

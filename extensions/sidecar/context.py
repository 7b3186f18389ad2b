"""What a request handler reaches through the running app: the settings, the user
directory (Keycloak) and the store. `create_app` puts them there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from extensions.sidecar.directory import Directory
    from extensions.sidecar.settings import SidecarSettings
    from idpack.store.base import Store

SETTINGS, DIRECTORY, STORE, TOKENS, ACTIVE_TOKENS = (
    "idpack.settings", "idpack.directory", "idpack.store", "idpack.tokens",
    "idpack.active-tokens")


def settings() -> SidecarSettings:
    found: SidecarSettings = current_app.extensions[SETTINGS]
    return found


def directory() -> Directory:
    found: Directory = current_app.extensions[DIRECTORY]
    return found


def store() -> Store:
    found: Store = current_app.extensions[STORE]
    return found

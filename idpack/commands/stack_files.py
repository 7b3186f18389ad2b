"""The local stack of `idpack up` (`make run`): its settings, and what it keeps under its
state folder (the database, the generated admin password and client secrets, the mail,
stack.json)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idpack.keycloak.settings import DEFAULT_REALM
from idpack.settings import DEFAULT_HOME, CommaList, IdpackSettings, setting

# The client secrets the realm file reads; `idpack up` generates each once.
GENERATED_SECRETS = ("IDPACK_SIDECAR_CLIENT_SECRET", "IDPACK_PASSWORD_CHECK_CLIENT_SECRET",
                     "EXAMPLE_SERVICE_CLIENT_SECRET")


class StackSettings(IdpackSettings):
    """`idpack up`'s own settings: where it keeps its state, its ports, its realm."""

    service = "local stack (idpack up)"
    home: Path = setting(DEFAULT_HOME, "IDPACK_HOME", "State of `make run`: database, "
                         "admin password, generated secrets, mail, stack.json")
    host: str = setting("127.0.0.1", "IDPACK_HOST", "The address every part listens on")
    keycloak_port: int = setting(8080, "IDPACK_KEYCLOAK_PORT", "Keycloak's HTTP port")
    management_port: int = setting(9000, "IDPACK_KEYCLOAK_MANAGEMENT_PORT",
                                   "Keycloak's health port")
    realm: str = setting(DEFAULT_REALM, "IDPACK_REALM", "The realm's name")
    realm_file: Path = setting(Path("realm-config/mikrocloud.yaml"), "IDPACK_REALM_FILE",
                               "The realm it applies")
    realm_overlays: CommaList = setting(["dev"], "IDPACK_REALM_ENV", "Overlays merged over "
                                        "it, in order: names in environments/ or YAML "
                                        "paths, comma-separated (empty: none)")
    sidecar_port: int = setting(8000, "IDPACK_SIDECAR_PORT", "The sidecar's port")
    relay_port: int = setting(2525, "IDPACK_RELAY_PORT", "The relay's SMTP port")
    relay_metrics_port: int = setting(9025, "IDPACK_RELAY_METRICS_PORT",
                                      "The relay's metrics port")
    portal_port: int = setting(3000, "IDPACK_PORTAL_PORT", "The portal's port")

    @property
    def state_dir(self) -> Path:
        return self.home.resolve()

    def realm_files(self) -> list[Path]:
        """The realm file and its overlays (names in environments/ beside the file, or
        YAML paths)."""
        paths = [self.realm_file]
        for overlay in self.realm_overlays:
            named = self.realm_file.parent / "environments" / f"{overlay}.yaml"
            paths.append(Path(overlay) if overlay.endswith((".yaml", ".yml")) else named)
        return paths


@dataclass(frozen=True)
class StackFiles:
    """What `idpack up` keeps under the state folder."""

    state_dir: Path

    @property
    def stack_json(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def admin_password(self) -> Path:
        return self.state_dir / "admin-password"

    @property
    def keycloak_dir(self) -> Path:
        return self.state_dir / "keycloak"

    @property
    def secrets_dir(self) -> Path:
        return self.state_dir / "secrets"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    @property
    def dkim_dir(self) -> Path:
        return self.state_dir / "dkim"


def generated_secret(path: Path) -> str:
    """A random secret kept in a file of mode 0600, made on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def local_secrets(files: StackFiles, env: Mapping[str, str]) -> dict[str, str]:
    """The client secrets `idpack up` generated, for those the environment leaves unset
    (none are made here)."""
    found = {}
    for name in GENERATED_SECRETS:
        path = files.secrets_dir / name.lower()
        if not env.get(name) and path.is_file():
            found[name] = path.read_text(encoding="utf-8").strip()
    return found


def realm_environment(files: StackFiles, env: Mapping[str, str]) -> dict[str, str]:
    """The environment the realm file is read with: the caller's, plus a generated
    secret for each client secret the caller does not set."""
    return {name: generated_secret(files.secrets_dir / name.lower())
            for name in GENERATED_SECRETS if not env.get(name)} | dict(env)


def write_json_atomically(path: Path, document: Mapping[str, Any], mode: int = 0o600) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    temporary.replace(path)

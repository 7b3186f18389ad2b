"""Settings of the Keycloak harness and of the local stack, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from idpack.errors import IdpackError

# The newest Keycloak 26 that Maven Central serves (checked 2026-11-23); it runs on JDK 17,
# 21 and 25. Change it here and nowhere else.
KEYCLOAK_VERSION = "26.7.3"
DEFAULT_REALM = "mikrocloud"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise IdpackError(f"{name}={raw!r} is not a whole number") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise IdpackError(f"{name}={raw!r} is not a number") from None


def _default_cache_dir(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "idpack"


@dataclass(frozen=True)
class HarnessSettings:
    """Where the Keycloak distribution comes from and how long a start may take."""

    keycloak_version: str
    cache_dir: Path
    jvm_dirs: tuple[Path, ...]
    start_timeout: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        jvm_dirs = env.get("IDPACK_JVM_DIRS", "/usr/lib/jvm")
        return cls(
            keycloak_version=env.get("IDPACK_KEYCLOAK_VERSION") or KEYCLOAK_VERSION,
            cache_dir=Path(env["IDPACK_CACHE_DIR"]) if env.get("IDPACK_CACHE_DIR")
            else _default_cache_dir(env),
            jvm_dirs=tuple(Path(p) for p in jvm_dirs.split(os.pathsep) if p),
            start_timeout=_float(env, "IDPACK_KEYCLOAK_START_TIMEOUT", 240.0),
        )


@dataclass(frozen=True)
class StackSettings:
    """The local stack of `idpack up` (`make run`)."""

    state_dir: Path
    host: str
    keycloak_port: int
    management_port: int
    realm: str
    realm_file: Path
    realm_overlays: tuple[str, ...]  # environment names or YAML paths, merged in order
    sidecar_port: int
    relay_port: int
    relay_metrics_port: int
    portal_port: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        return cls(
            state_dir=Path(env.get("IDPACK_HOME") or ".idpack").resolve(),
            host=env.get("IDPACK_HOST") or "127.0.0.1",
            keycloak_port=_int(env, "IDPACK_KEYCLOAK_PORT", 8080),
            management_port=_int(env, "IDPACK_KEYCLOAK_MANAGEMENT_PORT", 9000),
            realm=env.get("IDPACK_REALM") or DEFAULT_REALM,
            realm_file=Path(env.get("IDPACK_REALM_FILE") or "realm-config/mikrocloud.yaml"),
            realm_overlays=tuple(o.strip() for o in env.get("IDPACK_REALM_ENV", "dev").split(",")
                                 if o.strip()),
            sidecar_port=_int(env, "IDPACK_SIDECAR_PORT", 8000),
            relay_port=_int(env, "IDPACK_RELAY_PORT", 2525),
            relay_metrics_port=_int(env, "IDPACK_RELAY_METRICS_PORT", 9025),
            portal_port=_int(env, "IDPACK_PORTAL_PORT", 3000),
        )

"""The relay's settings, from the environment."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from idpack.errors import IdpackError

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None


@dataclass(frozen=True)
class RelaySettings:
    host: str
    port: int
    hostname: str  # how the relay announces itself
    domains: frozenset[str]
    networks: tuple[IpNetwork, ...]
    max_size: int
    dkim_selector: str
    dkim_keys_dir: Path
    short_link_base: str
    short_link_hosts: frozenset[str]
    store: str  # an SQLite file path or a redis:// URL (idpack.store.open_store)
    spool_dir: Path
    upstream: str  # "maildir:<path>" or "smtp://host:port"
    upstream_starttls: bool = True
    upstream_verify: bool = True
    upstream_user: str | None = None
    upstream_password: str | None = field(default=None, repr=False)
    verify_limit: int = 5  # verification mails a minute per recipient
    tls_cert: Path | None = None  # STARTTLS for clients; needed for SMTP AUTH
    tls_key: Path | None = None
    users_file: Path | None = None  # SMTP AUTH users (mail.auth) for remote clients
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0  # Prometheus metrics; 0: off
    # Deferred delivery, Postfix-like: first retry after backoff_first seconds, doubling
    # up to backoff_max; a message still undelivered after max_age is dead-lettered.
    backoff_first: float = 300.0
    backoff_max: float = 4000.0
    max_age: float = 5 * 24 * 3600.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        home = Path(env.get("IDPACK_HOME") or ".idpack")
        try:
            networks = tuple(ipaddress.ip_network(n) for n in _list(
                env.get("IDPACK_RELAY_NETWORKS") or "127.0.0.0/8,::1/128"))
            port = int(env.get("IDPACK_RELAY_PORT") or 2525)
            max_size = int(env.get("IDPACK_RELAY_MAX_SIZE") or 10 * 1024 * 1024)
            metrics_port = int(env.get("IDPACK_RELAY_METRICS_PORT") or 9025)
            backoff_first = float(env.get("IDPACK_RELAY_BACKOFF_FIRST") or 300)
            backoff_max = float(env.get("IDPACK_RELAY_BACKOFF_MAX") or 4000)
            max_age = float(env.get("IDPACK_RELAY_MAX_AGE") or 5 * 24 * 3600)
        except ValueError as exc:
            raise IdpackError(f"relay settings: {exc}") from None
        return cls(
            host=env.get("IDPACK_RELAY_HOST") or "127.0.0.1",
            port=port,
            hostname=env.get("IDPACK_RELAY_HOSTNAME") or "mailman.mikrocloud.com",
            domains=frozenset(d.lower() for d in _list(
                env.get("IDPACK_RELAY_DOMAINS") or "mikrocloud.com")),
            networks=networks,
            max_size=max_size,
            dkim_selector=env.get("IDPACK_DKIM_SELECTOR") or "idpack",
            dkim_keys_dir=Path(env.get("IDPACK_DKIM_KEYS_DIR") or home / "dkim"),
            short_link_base=env.get("IDPACK_SHORT_LINK_BASE") or "https://mkcld.link",
            short_link_hosts=frozenset(_list(
                env.get("IDPACK_SHORT_LINK_HOSTS") or "127.0.0.1,localhost")),
            store=env.get("IDPACK_STORE") or str(home / "store.sqlite"),
            spool_dir=Path(env.get("IDPACK_SPOOL_DIR") or home / "spool"),
            upstream=env.get("IDPACK_RELAY_UPSTREAM") or f"maildir:{home / 'mail'}",
            upstream_starttls=(env.get("IDPACK_RELAY_UPSTREAM_STARTTLS") or "true") != "false",
            upstream_verify=(env.get("IDPACK_RELAY_UPSTREAM_VERIFY") or "true") != "false",
            upstream_user=env.get("IDPACK_RELAY_UPSTREAM_USER") or None,
            upstream_password=env.get("IDPACK_RELAY_UPSTREAM_PASSWORD") or None,
            tls_cert=_path(env.get("IDPACK_RELAY_TLS_CERT")),
            tls_key=_path(env.get("IDPACK_RELAY_TLS_KEY")),
            users_file=_path(env.get("IDPACK_RELAY_USERS")) or _existing(home / "relay-users"),
            metrics_host=env.get("IDPACK_RELAY_METRICS_HOST") or "127.0.0.1",
            metrics_port=metrics_port,
            backoff_first=backoff_first,
            backoff_max=backoff_max,
            max_age=max_age,
        )

"""The relay's settings (idpack.settings): where it listens and whom it serves, how it
signs, where it spools and delivers, and how it retries."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_settings import NoDecode

from idpack.settings import (
    DEFAULT_HOME,
    LOOPBACK_HOSTS,
    CommaSet,
    IdpackSettings,
    StoreLocation,
    setting,
)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(ipaddress.ip_network(n.strip()) for n in value.split(",") if n.strip())
    return value


def _lower(value: frozenset[str]) -> frozenset[str]:
    return frozenset(v.lower() for v in value)


Networks = Annotated[tuple[IpNetwork, ...], NoDecode, BeforeValidator(_networks)]


class RelaySettings(IdpackSettings):
    service = "mail relay"
    home: Path = setting(DEFAULT_HOME, "IDPACK_HOME", "The local stack's state folder "
                         "(the defaults of the keys, store, spool and Maildir below)")
    host: str = setting("127.0.0.1", "IDPACK_RELAY_HOST", "The address to listen on")
    port: int = setting(2525, "IDPACK_RELAY_PORT", "The SMTP port")
    hostname: str = setting("mailman.mikrocloud.com", "IDPACK_RELAY_HOSTNAME",
                            "How the relay names itself (EHLO, greeting)")
    domains: Annotated[CommaSet, AfterValidator(_lower)] = setting(
        frozenset({"mikrocloud.com"}), "IDPACK_RELAY_DOMAINS",
        "The domains it signs for, comma-separated: senders must be in one")
    networks: Networks = setting(
        (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")),
        "IDPACK_RELAY_NETWORKS", "Clients that may send without logging in")
    max_size: int = setting(10 * 1024 * 1024, "IDPACK_RELAY_MAX_SIZE",
                            "The largest message, in bytes")
    dkim_selector: str = setting("idpack", "IDPACK_DKIM_SELECTOR",
                                 "Selectors <this>-rsa and <this>-ed25519 sign")
    dkim_keys_dir: Path = setting(..., "IDPACK_DKIM_KEYS_DIR", "The DKIM keys "
                                  "(default IDPACK_HOME/dkim)",
                                  derived=lambda s: s["home"] / "dkim")
    short_link_base: str = setting("https://mkcld.link", "IDPACK_SHORT_LINK_BASE",
                                   "Short links are <this>/s/<code>")
    short_link_hosts: CommaSet = setting(LOOPBACK_HOSTS, "IDPACK_SHORT_LINK_HOSTS",
                                         "Hosts whose action links are shortened")
    store: StoreLocation = setting(
        ..., "IDPACK_STORE", "An SQLite file or a redis:// URL (default "
        "IDPACK_HOME/store.sqlite); shared with the sidecar",
        derived=lambda s: str(s["home"] / "store.sqlite"))
    spool_dir: Path = setting(..., "IDPACK_SPOOL_DIR", "The durable queue (default "
                              "IDPACK_HOME/spool)", derived=lambda s: s["home"] / "spool")
    upstream: str = setting(..., "IDPACK_RELAY_UPSTREAM", "smtp://host:port, or "
                            "maildir:PATH (default maildir:IDPACK_HOME/mail)",
                            derived=lambda s: f"maildir:{s['home'] / 'mail'}")
    upstream_starttls: bool = setting(True, "IDPACK_RELAY_UPSTREAM_STARTTLS",
                                      "STARTTLS to the upstream")
    upstream_verify: bool = setting(True, "IDPACK_RELAY_UPSTREAM_VERIFY",
                                    "Check the upstream's certificate")
    upstream_user: str | None = setting(None, "IDPACK_RELAY_UPSTREAM_USER",
                                        "AUTH to the upstream as")
    upstream_password: str | None = setting(None, "IDPACK_RELAY_UPSTREAM_PASSWORD",
                                            "and with this password", secret=True)
    minute_limit: int = setting(5, "IDPACK_RELAY_MINUTE_LIMIT",
                                "Mails a minute to one address (every kind of mail)")
    hour_limit: int = setting(10, "IDPACK_RELAY_HOUR_LIMIT",
                              "Mails an hour to one address (every kind of mail)")
    tls_cert: Path | None = setting(None, "IDPACK_RELAY_TLS_CERT",
                                    "STARTTLS for clients: the certificate")
    tls_key: Path | None = setting(None, "IDPACK_RELAY_TLS_KEY", "and its key")
    users_file: Path | None = setting(
        ..., "IDPACK_RELAY_USERS", "SMTP AUTH users for clients outside the networks "
        "(default IDPACK_HOME/relay-users, if there)",
        derived=lambda s: p if (p := s["home"] / "relay-users").exists() else None)
    metrics_host: str = setting("127.0.0.1", "IDPACK_RELAY_METRICS_HOST",
                                "Prometheus metrics: address")
    metrics_port: int = setting(9025, "IDPACK_RELAY_METRICS_PORT", "and port (0: off)")
    # Deferred delivery, Postfix-like: first retry after backoff_first seconds, doubling
    # up to backoff_max; a message still undelivered after max_age is dead-lettered.
    backoff_first: float = setting(300.0, "IDPACK_RELAY_BACKOFF_FIRST",
                                   "Seconds before the first retry")
    backoff_max: float = setting(4000.0, "IDPACK_RELAY_BACKOFF_MAX",
                                 "The longest wait between retries")
    max_age: float = setting(5 * 24 * 3600.0, "IDPACK_RELAY_MAX_AGE",
                             "Seconds after which an undelivered message is given up")

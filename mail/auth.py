"""SMTP AUTH for clients outside the relay networks, only ever over STARTTLS.

Users live in a file (IDPACK_RELAY_USERS, default .idpack/relay-users), one per line,
`name:scrypt$<salt>$<hash>`, written by `idpack relay user add NAME`; passwords are
never stored. A client on a relay network needs no login; any other client must log in
(PLAIN or LOGIN, after STARTTLS) before MAIL FROM is accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

from idpack.errors import IdpackError

log = logging.getLogger("idpack.relay.auth")
# Interactive cost: about 50 ms a check here, slow for anyone guessing at a stolen file.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + "$".join(base64.b64encode(p).decode() for p in (salt, digest))


def password_matches(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 3 or parts[0] != "scrypt":
        return False
    try:
        salt = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return False
    return hmac.compare_digest(hash_password(password, salt), stored)


@dataclass(frozen=True)
class Users:
    hashes: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Users:
        hashes: dict[str, str] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise IdpackError(f"relay users file {path}: {exc.strerror}") from None
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            name, _, stored = line.partition(":")
            if not name or not stored.startswith("scrypt$"):
                raise IdpackError(f"{path}:{number}: expected `name:scrypt$...`, as written "
                                  "by `idpack relay user add NAME`")
            hashes[name] = stored
        return cls(hashes)

    def check(self, name: str, password: str) -> bool:
        stored = self.hashes.get(name)
        if stored is None:
            hash_password(password)  # the same time for unknown names
            return False
        return password_matches(password, stored)


def add_user(path: Path, name: str, password: str) -> None:
    """Add or replace NAME in the users file (created with mode 0600)."""
    if not name or ":" in name or any(c.isspace() for c in name):
        raise IdpackError(f"user name {name!r}: no colons or spaces")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = [line for line in lines if line.partition(":")[0] != name]
    lines.append(f"{name}:{hash_password(password)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


class Authenticator:
    """aiosmtpd's authenticator hook: PLAIN and LOGIN against the users file."""

    def __init__(self, users: Users) -> None:
        self.users = users

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        name = auth_data.login.decode(errors="replace")
        if self.users.check(name, auth_data.password.decode(errors="replace")):
            log.info("client %s logged in as %s", session.peer, name)
            return AuthResult(success=True, auth_data=name)
        log.warning("client %s failed to log in as %s", session.peer, name)
        return AuthResult(success=False, handled=False)


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise IdpackError(f"relay TLS certificate {cert} / key {key}: {exc}") from None
    return context

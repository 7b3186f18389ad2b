"""`${env:NAME}` and `${file:PATH}` references.

Secrets (client secrets, the SMTP password) must be references: a literal secret in
YAML would end up in git. Other strings may use them too, for values that differ per
environment (a portal URL). `${env:NAME:-default}` gives a default. A Secret never
shows its value in repr, logs or plans; what a plan may show is whether it changed,
judged by a salted fingerprint kept in Keycloak beside the object."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = re.compile(r"\$\{(env|file):([^}]*?)(?::-([^}]*))?\}")
WHOLE_REFERENCE = re.compile(rf"^{REFERENCE.pattern}$")

# scrypt at this cost takes a few milliseconds: a plan over fifty secrets stays fast,
# while a stolen fingerprint of a weak secret is still slow to guess at.
_SCRYPT = {"n": 2**12, "r": 8, "p": 1, "dklen": 24}


class UnresolvedReference(Exception):
    pass


def resolve_text(text: str, env: Mapping[str, str], base_dir: Path) -> str:
    """Every reference in `text` replaced by its value."""
    return REFERENCE.sub(lambda m: _resolve(m, env, base_dir), text)


def unresolved(text: str, env: Mapping[str, str], base_dir: Path) -> list[str]:
    """What each reference in `text` that cannot be resolved names: an environment
    variable's name, or `file <path>`. Empty when every reference resolves."""
    missing = []
    for match in REFERENCE.finditer(text):
        try:
            _resolve(match, env, base_dir)
        except UnresolvedReference:
            name = match.group(2).strip()
            missing.append(name if match.group(1) == "env" else f"file {name}")
    return missing


def _resolve(match: re.Match[str], env: Mapping[str, str], base_dir: Path) -> str:
    kind, name, default = match.group(1), match.group(2).strip(), match.group(3)
    if not name:
        raise UnresolvedReference(f"{match.group(0)} names nothing")
    if kind == "env":
        value = env.get(name)
        if value is None or value == "":
            if default is not None:
                return default
            raise UnresolvedReference(f"environment variable {name} is not set")
        return value
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        if default is not None:
            return default
        raise UnresolvedReference(f"file {path} cannot be read: {exc.strerror}") from None


@dataclass(frozen=True)
class Secret:
    """A secret named by a reference; `value` is None when it could not be resolved
    (allowed only on a disabled object)."""

    reference: str
    value: str | None = field(repr=False, compare=False)
    problem: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"Secret({self.reference})"

    __str__ = __repr__

    @classmethod
    def parse(cls, text: str, env: Mapping[str, str], base_dir: Path) -> Secret:
        if not WHOLE_REFERENCE.match(text.strip()):
            raise ValueError(
                "a secret must be a reference such as ${env:NAME} or ${file:PATH}, "
                "never the secret itself")
        try:
            return cls(reference=text.strip(), value=resolve_text(text.strip(), env, base_dir))
        except UnresolvedReference as exc:
            return cls(reference=text.strip(), value=None, problem=str(exc))

    def fingerprint(self, salt: bytes | None = None) -> str:
        """`scrypt$<salt>$<hash>`: lets the next plan tell whether the value changed
        without Keycloak or the plan ever holding the value."""
        if self.value is None:
            raise ValueError(f"{self.reference} is unresolved")
        salt = salt if salt is not None else os.urandom(12)
        digest = hashlib.scrypt(self.value.encode(), salt=salt, **_SCRYPT)
        return "scrypt$" + "$".join(base64.b64encode(p).decode() for p in (salt, digest))

    def matches(self, fingerprint: str | None) -> bool:
        """Whether this value is the one the fingerprint was taken of."""
        if self.value is None or not fingerprint or fingerprint.count("$") != 2:
            return False
        scheme, salt_b64, _ = fingerprint.split("$")
        if scheme != "scrypt":
            return False
        try:
            salt = base64.b64decode(salt_b64, validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(self.fingerprint(salt), fingerprint)

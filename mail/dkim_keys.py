"""DKIM keys: an RSA-2048 and an Ed25519 key per selector name, their files (mode 0600)
and the DNS TXT records that publish them.

`idpack dkim keygen --selector mc2026` writes `mc2026-rsa.pem` and `mc2026-ed25519.key`;
the signatures use the selectors `mc2026-rsa` and `mc2026-ed25519`."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from idpack.errors import IdpackError


@dataclass(frozen=True)
class DkimKeys:
    selector: str
    rsa: rsa.RSAPrivateKey
    ed25519: ed25519.Ed25519PrivateKey

    @property
    def rsa_selector(self) -> str:
        return f"{self.selector}-rsa"

    @property
    def ed25519_selector(self) -> str:
        return f"{self.selector}-ed25519"

    def rsa_pem(self) -> bytes:
        return self.rsa.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())

    def ed25519_seed_b64(self) -> bytes:
        """The form dkimpy (PyNaCl) takes an Ed25519 signing key in."""
        seed = self.ed25519.private_bytes(serialization.Encoding.Raw,
                                          serialization.PrivateFormat.Raw,
                                          serialization.NoEncryption())
        return base64.b64encode(seed)

    def txt_records(self, domain: str) -> dict[str, str]:
        """DNS name -> TXT value, for both selectors."""
        rsa_public = self.rsa.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ed_public = self.ed25519.public_key().public_bytes(serialization.Encoding.Raw,
                                                           serialization.PublicFormat.Raw)
        return {
            f"{self.rsa_selector}._domainkey.{domain}":
                f"v=DKIM1; k=rsa; p={base64.b64encode(rsa_public).decode()}",
            f"{self.ed25519_selector}._domainkey.{domain}":
                f"v=DKIM1; k=ed25519; p={base64.b64encode(ed_public).decode()}",
        }


def key_paths(directory: Path, selector: str) -> tuple[Path, Path]:
    return directory / f"{selector}-rsa.pem", directory / f"{selector}-ed25519.key"


def selectors(directory: Path) -> list[str]:
    """The selectors with keys in the folder (both keys present)."""
    if not directory.is_dir():
        return []
    found = (p.name.removesuffix("-rsa.pem") for p in directory.glob("*-rsa.pem"))
    return sorted(s for s in found if key_paths(directory, s)[1].exists())


def chosen_selector(directory: Path, configured: str) -> str:
    """The selector the relay is configured with when its keys are there, else the only
    one in the folder; an IdpackError that says what to do otherwise."""
    present = selectors(directory)
    if configured in present:
        return configured
    if len(present) == 1:
        return present[0]
    if not present:
        raise IdpackError(f"No DKIM keys in {directory}: create them with "
                          f"`idpack dkim keygen --selector {configured}`")
    raise IdpackError(f"{directory} holds keys of several selectors ({', '.join(present)}) "
                      f"and none is the configured {configured!r}: name one with --selector")


def generate(directory: Path, selector: str, overwrite: bool = False) -> DkimKeys:
    rsa_path, ed_path = key_paths(directory, selector)
    existing = [p for p in (rsa_path, ed_path) if p.exists()]
    if existing and not overwrite:
        raise IdpackError(f"{existing[0]} exists; keys are not replaced unless you pass "
                          "--overwrite (and publish the new DNS records first)")
    keys = DkimKeys(selector, rsa.generate_private_key(public_exponent=65537, key_size=2048),
                    ed25519.Ed25519PrivateKey.generate())
    directory.mkdir(parents=True, exist_ok=True)
    _write_private(rsa_path, keys.rsa_pem())
    _write_private(ed_path, keys.ed25519_seed_b64() + b"\n")
    return keys


def load(directory: Path, selector: str) -> DkimKeys:
    """The selector's keys, or an IdpackError that names the file and the fix."""
    rsa_path, ed_path = key_paths(directory, selector)
    hint = f"create them with `idpack dkim keygen --selector {selector}`"
    try:
        rsa_key = serialization.load_pem_private_key(rsa_path.read_bytes(), password=None)
        seed = base64.b64decode(ed_path.read_bytes().strip(), validate=True)
        ed_key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    except FileNotFoundError as exc:
        raise IdpackError(f"DKIM key {exc.filename} is missing: {hint}") from None
    except PermissionError as exc:
        raise IdpackError(f"DKIM key {exc.filename} cannot be read: {exc.strerror}") from None
    except ValueError as exc:
        raise IdpackError(f"DKIM keys of selector {selector} in {directory} are not valid "
                          f"({exc}): {hint}") from None
    if not isinstance(rsa_key, rsa.RSAPrivateKey) or rsa_key.key_size < 2048:
        raise IdpackError(f"{rsa_path} is not an RSA key of at least 2048 bits")
    return DkimKeys(selector, rsa_key, ed_key)


def _write_private(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    temporary.replace(path)

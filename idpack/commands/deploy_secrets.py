"""The secrets a deployment's compose file reads, one value a file: generated once,
never replaced (delete a file to make a new one), in a folder only its owner can enter.
The files themselves are readable (0644), because the containers run as users of their
own and read them as compose secrets; the folder's mode keeps others out."""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idpack.errors import IdpackError
from mail.dkim_keys import generate as generate_dkim_keys
from mail.dkim_keys import key_paths
from provisioning.references import WHOLE_REFERENCE

# The file names docker-compose.yml's `secrets:` section reads.
RANDOM_SECRETS = ("postgres_password", "keycloak_admin_password", "sidecar_client_secret",
                  "password_check_client_secret", "example_service_client_secret",
                  "portal_secret_key")
DKIM_SELECTOR = "idpack"
TLS_CERTIFICATE, TLS_KEY = "tls.crt", "tls.key"
# The folder docker-compose.yml mounts into the realm job, one file a variable.
IDENTITY_PROVIDERS = "identity-providers"
# `--idp NAME`: the provider's alias in realm-config/mikrocloud.yaml.
PROVIDERS = {"google": "google", "github": "github", "microsoft": "microsoft",
             "oidc": "example-oidc"}


def write_secrets(directory: Path, public_host: str) -> list[tuple[Path, bool]]:
    """Every secret file, made where missing: (path, made now) for each."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    # Readable inside the containers, which run as users of their own; the folder
    # above keeps everyone else out.
    (directory / IDENTITY_PROVIDERS).mkdir(exist_ok=True)
    (directory / IDENTITY_PROVIDERS).chmod(0o755)
    written: list[tuple[Path, bool]] = []
    for name in RANDOM_SECRETS:
        path = directory / name
        made = not path.exists()
        if made:
            _write(path, secrets.token_urlsafe(24).encode() + b"\n")
        written.append((path, made))
    dkim = key_paths(directory, DKIM_SELECTOR)
    made = not all(path.exists() for path in dkim)
    if made:
        generate_dkim_keys(directory, DKIM_SELECTOR, overwrite=True)
    for path in dkim:
        path.chmod(0o644)
        written.append((path, made))
    certificate, key = directory / TLS_CERTIFICATE, directory / TLS_KEY
    made = not (certificate.exists() and key.exists())
    if made:
        pem_certificate, pem_key = self_signed(public_host)
        _write(key, pem_key)
        _write(certificate, pem_certificate)
    written += [(certificate, made), (key, made)]
    return written


def self_signed(host: str, days: int = 365) -> tuple[bytes, bytes]:
    """A certificate for `host` (and localhost) signed by its own P-256 key: for local
    use until a real one (ACME, your CA) replaces tls.crt and tls.key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    alternative: list[x509.GeneralName] = [x509.DNSName(host), x509.DNSName("localhost"),
                                           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def _write(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(content)


def provider_variables(realm_file: Path, idp: str) -> dict[str, str]:
    """The variables the realm file reads a provider's credentials from: what
    (client_id, client_secret, issuer) -> variable name, as its references spell them."""
    import yaml

    alias = PROVIDERS[idp]
    document = yaml.safe_load(realm_file.read_text(encoding="utf-8")) or {}
    provider = (document.get("identityProviders") or {}).get(alias)
    if not isinstance(provider, dict):
        raise IdpackError(f"{realm_file}: declares no identity provider {alias!r}")
    config = provider.get("config") or {}
    found = {}
    for what, text in (("client_id", config.get("clientId")),
                       ("client_secret", provider.get("clientSecret")),
                       ("issuer", config.get("issuer"))):
        match = WHOLE_REFERENCE.match(str(text or "").strip())
        if match and match.group(1) == "env":
            found[what] = match.group(2).strip()
    if "client_id" not in found or "client_secret" not in found:
        raise IdpackError(f"{realm_file}: identityProviders.{alias} does not read its "
                          "clientId and clientSecret from ${env:...} references")
    return found


def write_provider(directory: Path, variables: dict[str, str],
                   values: dict[str, str]) -> list[tuple[Path, bool]]:
    """One file per credential, named after the variable it becomes, replaced whole (a
    rotation); (path, made rather than replaced) for each."""
    folder = directory / IDENTITY_PROVIDERS
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for what, value in values.items():
        path = folder / variables[what]
        made = not path.exists()
        temporary = folder / f".{path.name}.tmp"
        temporary.unlink(missing_ok=True)
        _write(temporary, value.strip().encode() + b"\n")
        temporary.replace(path)
        written.append((path, made))
    return written


def remove_provider(directory: Path, variables: dict[str, str]) -> list[Path]:
    removed = []
    for name in variables.values():
        path = directory / IDENTITY_PROVIDERS / name
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed

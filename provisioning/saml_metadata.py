"""SAML metadata a realm imports: read from a file or fetched from a federation's URL,
and, where the file pins who signs it, believed only once its XML signature verifies.

A federation such as WAYF publishes its hub's metadata at a URL and signs it with a
metadata-signing key whose certificate it publishes apart (with its fingerprint), so
that a service provider can check what it fetched, as Shibboleth's SignatureValidation
filter and SimpleSAMLphp's metarefresh `validateFingerprint` do. Keycloak's own fetch
(import-config `fromUrl`, and the SAML provider's metadata-descriptor-URL key refresh)
reads whatever the URL serves: it checks no signature. So idpack fetches, verifies, and
hands Keycloak only what was signed:

- the document's root carries a ds:Signature (enveloped, one reference) that verifies
  with a pinned certificate, given as a PEM file or as a fingerprint of a certificate
  the signature carries (the pinned certificate's own dates do not matter: it is the
  trust anchor, and federations keep signing with keys whose certificates expired);
- the signed root's `validUntil`, if it has one, is in the future;
- only the signed element is used (never the bytes around it), and, when `entityId`
  names one entity of an aggregate, only that entity's EntityDescriptor.

Anything else is refused with the reason, before any change is planned."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration, XMLVerifier

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.identity_providers import IDENTITY_PROVIDERS
from provisioning.schema import RealmConfig
from provisioning.source import ConfigError

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
MAX_BYTES = 64 * 1024 * 1024  # eduGAIN's aggregate is about 80 MB; a hub's is kilobytes
FINGERPRINT = re.compile(r"^(sha1|sha256):((?:[0-9a-f]{2}:?)+)$", re.IGNORECASE)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=False)


class MetadataRefused(Exception):
    """The metadata is not believed; the message says why."""


@dataclass(frozen=True)
class PinnedSigner:
    """A certificate the metadata's signature must verify with: a PEM file's
    certificates, or a fingerprint of one the signature carries in its KeyInfo."""

    text: str
    certificates: tuple[x509.Certificate, ...] = ()
    algorithm: str | None = None
    digest: bytes | None = None

    @classmethod
    def parse(cls, text: str, base_dir: Path) -> PinnedSigner:
        """`sha256:AB:CD:...` or `sha1:...` (as federations publish them), else the path
        of a PEM file (relative to the realm file's folder)."""
        found = FINGERPRINT.match(text.strip())
        if found:
            digest = bytes.fromhex(found.group(2).replace(":", ""))
            algorithm = found.group(1).lower()
            if len(digest) != {"sha1": 20, "sha256": 32}[algorithm]:
                raise ValueError(f"{text}: a {algorithm} fingerprint has "
                                 f"{ {'sha1': 20, 'sha256': 32}[algorithm]} bytes")
            return cls(text.strip(), algorithm=algorithm, digest=digest)
        path = Path(text) if Path(text).is_absolute() else base_dir / text
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{text}: neither a fingerprint (sha256:..., sha1:...) nor a "
                             f"readable PEM file ({exc.strerror})") from None
        try:
            certificates = tuple(x509.load_pem_x509_certificates(pem))
        except ValueError:
            raise ValueError(f"{path}: holds no PEM certificate") from None
        return cls(text.strip(), certificates=certificates)

    def trusted_among(self, carried: Sequence[x509.Certificate]) -> list[x509.Certificate]:
        """The certificates to try: the pinned ones, or those carried that match."""
        if self.digest is None:
            return list(self.certificates)
        return [c for c in carried if _fingerprint(c, self.algorithm or "sha256") == self.digest]


def _fingerprint(certificate: x509.Certificate, algorithm: str) -> bytes:
    return hashlib.new(algorithm, certificate.public_bytes(serialization.Encoding.DER)).digest()


def fetch(url: str, timeout: float = 30.0) -> bytes:
    """The document at `url`, at most MAX_BYTES."""
    try:
        with requests.get(url, timeout=timeout, stream=True,
                          headers={"Accept": "application/samlmetadata+xml, application/xml"}
                          ) as response:
            response.raise_for_status()
            body = b""
            for chunk in response.iter_content(1 << 16):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise MetadataRefused(f"{url}: larger than {MAX_BYTES >> 20} MB")
            return body
    except requests.RequestException as exc:
        raise MetadataRefused(f"{url} could not be fetched: {exc}") from None


def verified(document: bytes, signers: Sequence[PinnedSigner], *, entity_id: str | None = None,
             now: datetime.datetime | None = None) -> bytes:
    """What of `document` was signed by a pinned signer (or, with no signer pinned, the
    document itself), narrowed to `entity_id`'s EntityDescriptor when given."""
    try:
        root = etree.fromstring(document, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MetadataRefused(f"not well-formed XML: {exc}") from None
    if root.tag not in (f"{{{MD}}}EntityDescriptor", f"{{{MD}}}EntitiesDescriptor"):
        raise MetadataRefused(f"the root element is {root.tag}, not SAML metadata")
    signed = _signed_root(root, signers) if signers else root
    _check_validity(signed, now or datetime.datetime.now(datetime.UTC))
    if entity_id is not None:
        signed = _entity(signed, entity_id)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def _signed_root(root: etree._Element, signers: Sequence[PinnedSigner]) -> etree._Element:
    signature = root.find(f"{{{DS}}}Signature")
    if signature is None:
        raise MetadataRefused("it is not signed (no ds:Signature on the root element)")
    carried = []
    for element in signature.iterfind(f".//{{{DS}}}X509Certificate"):
        try:
            carried.append(x509.load_der_x509_certificate(
                base64.b64decode("".join((element.text or "").split()), validate=True)))
        except ValueError:
            continue
    candidates = [c for signer in signers for c in signer.trusted_among(carried)]
    if not candidates:
        raise MetadataRefused(
            "its signature carries no certificate pinned in the realm file ("
            + ", ".join(s.text for s in signers) + ")")
    problems = []
    for certificate in candidates:
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        # Only a signature that is a child of the root and covers the root is accepted,
        # so no signed fragment can vouch for unsigned content around it. The pinned
        # certificate is the trust anchor: it is checked as of a moment it was valid.
        valid = certificate.not_valid_before_utc + (
            certificate.not_valid_after_utc - certificate.not_valid_before_utc) / 2
        config = SignatureConfiguration(location="./", expect_references=1,
                                        verification_time=valid)
        try:
            result = XMLVerifier().verify(root, x509_cert=pem, expect_config=config)
        except (SignXMLException, ValueError) as exc:
            problems.append(str(exc) or type(exc).__name__)
            continue
        signed = result.signed_xml  # type: ignore[union-attr]
        if signed is None or signed.tag != root.tag or signed.get("ID") != root.get("ID"):
            problems.append("the signature does not cover the whole document")
            continue
        return signed
    raise MetadataRefused("its signature does not verify with the pinned certificate: "
                          + "; ".join(dict.fromkeys(problems)))


def _check_validity(root: etree._Element, now: datetime.datetime) -> None:
    valid_until = root.get("validUntil")
    if valid_until is None:
        return
    try:
        until = datetime.datetime.fromisoformat(valid_until.replace("Z", "+00:00"))
    except ValueError:
        raise MetadataRefused(f"validUntil {valid_until!r} is not a date and time") from None
    if until.tzinfo is None:
        until = until.replace(tzinfo=datetime.UTC)
    if until <= now:
        raise MetadataRefused(f"it expired at {valid_until} (validUntil)")


def _entity(root: etree._Element, entity_id: str) -> etree._Element:
    if root.tag == f"{{{MD}}}EntityDescriptor":
        found = root if root.get("entityID") == entity_id else None
    else:
        found = next((e for e in root.iter(f"{{{MD}}}EntityDescriptor")
                      if e.get("entityID") == entity_id), None)
    if found is None:
        raise MetadataRefused(f"it describes no entity {entity_id}")
    return found


def read_saml_metadata(api: RealmAdmin, config: RealmConfig,
                       base_dir: Path) -> dict[str, dict[str, str]]:
    """Keycloak's own reading (one request each) of each provider's declared metadata,
    once it is believed: provider alias -> the config map Keycloak makes of it."""
    imported = {}
    for alias, idp in IDENTITY_PROVIDERS.of(config).items():
        metadata = idp.metadata
        if metadata is None:
            continue
        where = f"identityProviders.{alias}.metadata"
        source = metadata.url or str(metadata.file)
        try:
            signers = [PinnedSigner.parse(text, base_dir) for text in metadata.signedBy]
            if metadata.url is not None:
                document = fetch(metadata.url)
            else:
                assert metadata.file is not None
                path = metadata.file if metadata.file.is_absolute() else base_dir / metadata.file
                document = path.read_bytes()
            believed = verified(document, signers, entity_id=metadata.entityId)
        except (MetadataRefused, ValueError, OSError) as exc:
            raise ConfigError([f"{where}: {source}: refused, nothing was changed: {exc}"]
                              ) from None
        imported[alias] = api.import_identity_provider_metadata(
            idp.providerId, f"{alias}-metadata.xml", believed)
    return {alias: {k: str(v) for k, v in found.items()} for alias, found in imported.items()}

"""A federation's signed metadata, believed only as signed: signatures by a pinned
certificate (by PEM or by fingerprint), and each way of getting around one refused."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from provisioning.saml_metadata import MD, MetadataRefused, PinnedSigner, verified
from tests.fakes.saml_idp import _signing_key, sign_metadata

SSO = "https://wayf.example.dk/saml2/idp/SSOService.php"
METADATA = f"""<md:EntityDescriptor xmlns:md="{MD}" entityID="https://wayf.example.dk">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
                            Location="{SSO}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The federation's metadata-signing key and certificate (expired, as they are)."""
    return _signing_key(tmp_path_factory.mktemp("federation"), "metadata signing",
                        prefix="metadata", valid_days=-1)


@pytest.fixture(scope="module")
def attacker(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _signing_key(tmp_path_factory.mktemp("attacker"), "metadata signing",
                        prefix="attacker")


def fingerprint(cert_file: Path, algorithm: str) -> str:
    der = x509.load_pem_x509_certificate(cert_file.read_bytes()).public_bytes(
        serialization.Encoding.DER)
    return f"{algorithm}:" + hashlib.new(algorithm, der).digest().hex(":")


def pinned(*texts: str) -> list[PinnedSigner]:
    return [PinnedSigner.parse(text, Path("/")) for text in texts]


def sso_location(document: bytes) -> str:
    root = etree.fromstring(document)
    return str(root.find(f".//{{{MD}}}SingleSignOnService").get("Location"))  # type: ignore[union-attr]


def test_signed_metadata_is_believed_pinned_by_pem_sha256_or_sha1(
        federation: tuple[Path, Path]) -> None:
    document = sign_metadata(METADATA, *federation)

    for pin in (str(federation[1]), fingerprint(federation[1], "sha256"),
                fingerprint(federation[1], "sha1").upper()):
        assert sso_location(verified(document, pinned(pin))) == SSO


def test_unsigned_metadata_is_refused_where_a_signer_is_pinned(
        federation: tuple[Path, Path]) -> None:
    with pytest.raises(MetadataRefused, match="not signed"):
        verified(METADATA.encode(), pinned(fingerprint(federation[1], "sha256")))


def test_a_changed_endpoint_breaks_the_signature(federation: tuple[Path, Path]) -> None:
    document = sign_metadata(METADATA, *federation).replace(
        SSO.encode(), b"https://evil.example.com/sso")

    with pytest.raises(MetadataRefused, match="does not verify"):
        verified(document, pinned(fingerprint(federation[1], "sha256")))


def test_metadata_signed_by_another_key_is_refused(federation: tuple[Path, Path],
                                                   attacker: tuple[Path, Path]) -> None:
    document = sign_metadata(METADATA, *attacker)

    with pytest.raises(MetadataRefused, match="no certificate pinned"):
        verified(document, pinned(fingerprint(federation[1], "sha256")))
    with pytest.raises(MetadataRefused, match="does not verify"):
        verified(document, pinned(str(federation[1])))


def test_carrying_the_pinned_certificate_does_not_make_another_keys_signature_good(
        federation: tuple[Path, Path], attacker: tuple[Path, Path], tmp_path: Path) -> None:
    """The attacker signs with their key but puts the federation's certificate in KeyInfo."""
    chimera = tmp_path / "chimera-cert.pem"
    chimera.write_bytes(federation[1].read_bytes())
    document = sign_metadata(METADATA, attacker[0], chimera)

    with pytest.raises(MetadataRefused, match="does not verify"):
        verified(document, pinned(fingerprint(federation[1], "sha256")))


def test_a_signed_document_wrapped_in_an_unsigned_aggregate_is_refused(
        federation: tuple[Path, Path]) -> None:
    signed = sign_metadata(METADATA, *federation).split(b"?>", 1)[1]
    evil = METADATA.replace(SSO, "https://evil.example.com/sso").replace(
        ' xmlns:md="' + MD + '"', "")
    wrapped = (f'<md:EntitiesDescriptor xmlns:md="{MD}">{evil}'.encode() + signed
               + b"</md:EntitiesDescriptor>")

    with pytest.raises(MetadataRefused, match="not signed"):
        verified(wrapped, pinned(fingerprint(federation[1], "sha256")),
                 entity_id="https://wayf.example.dk")


def test_expired_metadata_is_refused(federation: tuple[Path, Path]) -> None:
    document = sign_metadata(METADATA, *federation, valid_for=datetime.timedelta(hours=-1))

    with pytest.raises(MetadataRefused, match="expired"):
        verified(document, pinned(fingerprint(federation[1], "sha256")))


def test_one_entity_is_taken_from_an_aggregate(federation: tuple[Path, Path]) -> None:
    other = METADATA.replace("https://wayf.example.dk", "https://other.example.org").replace(
        ' xmlns:md="' + MD + '"', "")
    aggregate = f'<md:EntitiesDescriptor xmlns:md="{MD}">{other}{METADATA}</md:EntitiesDescriptor>'
    document = sign_metadata(aggregate, *federation)

    entity = verified(document, pinned(fingerprint(federation[1], "sha256")),
                      entity_id="https://wayf.example.dk")

    assert etree.fromstring(entity).get("entityID") == "https://wayf.example.dk"
    with pytest.raises(MetadataRefused, match="no entity https://nobody"):
        verified(document, pinned(fingerprint(federation[1], "sha256")),
                 entity_id="https://nobody")


def test_a_pin_that_is_neither_a_fingerprint_nor_a_pem_file_is_an_error() -> None:
    with pytest.raises(ValueError, match="sha256 fingerprint has 32 bytes"):
        PinnedSigner.parse("sha256:AB:CD", Path("/"))
    with pytest.raises(ValueError, match="neither a fingerprint"):
        PinnedSigner.parse("metadata/missing.pem", Path("/nowhere"))

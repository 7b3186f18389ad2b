"""DKIM signing: two signatures per message, RSA-SHA256 and Ed25519-SHA256, for the
configured domain; every signed header signed once more than it occurs (so none can be
added later); never `l=` (which would let anyone append to the body).

dkimpy parses the message, canonicalizes (relaxed/relaxed), selects and hashes the
headers, folds the header, signs Ed25519 (through PyNaCl), and verifies everything in
the tests, as OpenDKIM does independently. dkimpy's RSA is pure Python (about 6 ms a
signature here, plus 0.4 ms parsing the PEM key on every call); for RSA this module
lists the tags itself, exactly as dkimpy 1.1's `sign` does, and has OpenSSL (through
`cryptography`) make the RSASSA-PKCS1-v1_5 signature over the digest dkimpy computed,
with the key parsed once at start. `gen_header` below is dkimpy 1.1's own with that
one call changed; pyproject pins dkimpy to 1.1.x so that a change there is noticed."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from mail.dkim_keys import DkimKeys

# Every header signed is a singleton (mail.checks refuses a message carrying one twice),
# and each is listed twice, once more than it can occur: a verifier then fails any copy
# of it added after signing, above or below, and the absence of the ones a message
# lacks (Reply-To, Cc, ...) is signed too.
SIGNED_HEADERS = tuple(name for header in (
    b"from", b"sender", b"reply-to", b"to", b"cc", b"subject", b"date", b"message-id",
    b"in-reply-to", b"references", b"mime-version", b"content-type",
    b"content-transfer-encoding") for name in (header, header))
RELAXED = (b"relaxed", b"relaxed")


class OpenSslRsaDKIM(dkim.DKIM):  # type: ignore[misc]
    """dkimpy's DKIM with an RSA path through OpenSSL. One instance parses the message
    once and signs it twice: `sign_rsa`, then dkimpy's own `sign` for Ed25519."""

    def __init__(self, message: bytes, rsa_key: rsa.RSAPrivateKey) -> None:
        super().__init__(message, signature_algorithm=b"rsa-sha256", linesep=b"\r\n")
        self._rsa_key = rsa_key

    def sign_rsa(self, selector: bytes, domain: bytes) -> bytes:
        """The RSA-SHA256 DKIM-Signature header: dkimpy's `sign` without its key parse."""
        canon_policy = dkim.CanonicalizationPolicy.from_c_value(b"/".join(RELAXED))
        self.signature_algorithm = b"rsa-sha256"
        self.hasher = hashlib.sha256
        self.include_headers = SIGNED_HEADERS
        body_hash = base64.b64encode(
            hashlib.sha256(canon_policy.canonicalize_body(self.body)).digest())
        fields = [
            (b"v", b"1"), (b"a", b"rsa-sha256"), (b"c", canon_policy.to_c_value()),
            (b"d", domain), (b"i", b"@" + domain), (b"q", b"dns/txt"), (b"s", selector),
            (b"t", str(int(time.time())).encode("ascii")),
            (b"h", b" : ".join(SIGNED_HEADERS)), (b"bh", body_hash),
            (b"b", b"0" * 60),  # as dkimpy: b= folds onto a line of its own
        ]
        header = self.gen_header(fields, SIGNED_HEADERS, canon_policy, b"DKIM-Signature", None)
        return b"DKIM-Signature: " + header

    def gen_header(self, fields: Any, include_headers: Any, canon_policy: Any,
                   header_name: bytes, pk: Any, standardize: bool = False) -> bytes:
        if self.signature_algorithm != b"rsa-sha256":
            ed25519: bytes = super().gen_header(fields, include_headers, canon_policy,
                                                header_name, pk, standardize)
            return ed25519
        header_value = b"; ".join(b"=".join(x) for x in fields)
        header_value = dkim.fold(header_value, namelen=len(header_name), linesep=b"\r\n")
        header_value = dkim.RE_BTAG.sub(b"\\1", header_value)
        header = (header_name, b" " + header_value)
        hasher = dkim.HashThrough(self.hasher(), self.debug_content)
        headers = canon_policy.canonicalize_headers(self.headers)
        self.signed_headers = dkim.hash_headers(hasher, canon_policy, headers, include_headers,
                                                header, dict(fields))
        signature = self._rsa_key.sign(hasher.digest(), padding.PKCS1v15(),
                                       utils.Prehashed(hashes.SHA256()))
        index = next(i for i, field in enumerate(fields) if field[0] == b"b")
        fields[index] = (b"b", base64.b64encode(signature))
        value = b"; ".join(b"=".join(x) for x in fields) + self.linesep
        folded: bytes = dkim.fold(value, namelen=len(header_name), linesep=self.linesep)
        return folded


class Signer:
    def __init__(self, keys: DkimKeys, domain: str) -> None:
        self.keys, self.domain = keys, domain.encode()
        self._ed25519_seed = keys.ed25519_seed_b64()

    def sign(self, message: bytes) -> bytes:
        """The message with its two DKIM-Signature headers prepended (CRLF lines)."""
        signer = OpenSslRsaDKIM(message, self.keys.rsa)
        rsa_header = signer.sign_rsa(self.keys.rsa_selector.encode(), self.domain)
        ed_header = signer.sign(
            self.keys.ed25519_selector.encode(), self.domain, self._ed25519_seed,
            signature_algorithm=b"ed25519-sha256", include_headers=list(SIGNED_HEADERS),
            canonicalize=RELAXED)
        return rsa_header + bytes(ed_header) + message


def stock_dkimpy_sign(keys: DkimKeys, domain: str, message: bytes) -> bytes:
    """The same two signatures made entirely by dkimpy (its pure-Python RSA): the
    baseline the benchmark compares with."""
    rsa_header = dkim.sign(message, keys.rsa_selector.encode(), domain.encode(), keys.rsa_pem(),
                           include_headers=list(SIGNED_HEADERS), canonicalize=RELAXED,
                           linesep=b"\r\n")
    ed_header = dkim.sign(message, keys.ed25519_selector.encode(), domain.encode(),
                          keys.ed25519_seed_b64(), include_headers=list(SIGNED_HEADERS),
                          canonicalize=RELAXED, signature_algorithm=b"ed25519-sha256",
                          linesep=b"\r\n")
    return bytes(rsa_header) + bytes(ed_header) + message

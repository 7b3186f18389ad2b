"""DKIM signing: two signatures per message, RSA-SHA256 and Ed25519-SHA256, for the
configured domain; From signed once more than it occurs (so no From can be added
later); never `l=` (which would let anyone append to the body).

dkimpy builds the signatures (canonicalization, header selection and hashing, the
header itself) and verifies them in the tests. Its RSA arithmetic is pure Python,
about 6 ms a signature; here only that last step, the RSASSA-PKCS1-v1_5 signature over
the digest dkimpy computed, is done by OpenSSL through `cryptography`, about 20 times
faster. The subclass below is dkimpy 1.1's own `gen_header` with that one call
changed; pyproject pins dkimpy to 1.1.x so a change there is noticed."""

from __future__ import annotations

import base64
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from mail.dkim_keys import DkimKeys

# Oversigned: each name listed once more than a message normally carries it.
SIGNED_HEADERS = (b"from", b"from", b"to", b"cc", b"subject", b"date", b"message-id",
                  b"reply-to", b"mime-version", b"content-type", b"content-transfer-encoding",
                  b"subject")


class OpenSslRsaDKIM(dkim.DKIM):  # type: ignore[misc]
    """dkimpy's DKIM, with RSA signing done by OpenSSL."""

    def __init__(self, message: bytes, rsa_key: rsa.RSAPrivateKey) -> None:
        super().__init__(message, signature_algorithm=b"rsa-sha256", linesep=b"\r\n")
        self._rsa_key = rsa_key

    def gen_header(self, fields: Any, include_headers: Any, canon_policy: Any,
                   header_name: bytes, pk: Any, standardize: bool = False) -> bytes:
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
        self._rsa_pem = keys.rsa_pem()  # dkimpy parses it before handing over to OpenSSL

    def sign(self, message: bytes) -> bytes:
        """The message with its two DKIM-Signature headers prepended (CRLF lines)."""
        rsa_header = OpenSslRsaDKIM(message, self.keys.rsa).sign(
            self.keys.rsa_selector.encode(), self.domain, self._rsa_pem,
            include_headers=list(SIGNED_HEADERS), canonicalize=(b"relaxed", b"relaxed"))
        ed_header = dkim.DKIM(message, signature_algorithm=b"ed25519-sha256",
                              linesep=b"\r\n").sign(
            self.keys.ed25519_selector.encode(), self.domain, self._ed25519_seed,
            include_headers=list(SIGNED_HEADERS), canonicalize=(b"relaxed", b"relaxed"))
        return bytes(rsa_header) + bytes(ed_header) + message


def stock_dkimpy_sign(keys: DkimKeys, domain: str, message: bytes) -> bytes:
    """The same two signatures made entirely by dkimpy (its pure-Python RSA): the
    baseline the benchmark compares with."""
    rsa_header = dkim.sign(message, keys.rsa_selector.encode(), domain.encode(), keys.rsa_pem(),
                           include_headers=list(SIGNED_HEADERS),
                           canonicalize=(b"relaxed", b"relaxed"), linesep=b"\r\n")
    ed_header = dkim.sign(message, keys.ed25519_selector.encode(), domain.encode(),
                          keys.ed25519_seed_b64(), include_headers=list(SIGNED_HEADERS),
                          canonicalize=(b"relaxed", b"relaxed"),
                          signature_algorithm=b"ed25519-sha256", linesep=b"\r\n")
    return bytes(rsa_header) + bytes(ed_header) + message

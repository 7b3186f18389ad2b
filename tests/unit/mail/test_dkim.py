"""DKIM keys and signatures, verified against the generated DNS records by dkimpy and,
independently, by OpenDKIM."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import dkim
import pytest

from idpack.errors import IdpackError
from mail.dkim_keys import DkimKeys, generate, load
from mail.signing import Signer, stock_dkimpy_sign
from tests.support.dkim_check import opendkim_results, verifies

DOMAIN = "mikrocloud.com"
MESSAGE = (b"From: MikroCloud <no-reply@mikrocloud.com>\r\n"
           b"To: new.user@example.org\r\n"
           b"Subject: Verify Email Address\r\n"
           b"Date: Mon, 23 Nov 2026 01:00:00 +0000\r\n"
           b"Message-ID: <verify-1@mikrocloud.com>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"\r\n"
           b"Verify your address: https://mkcld.link/s/k3yZq9aB2cD\r\n")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DkimKeys:
    return generate(tmp_path_factory.mktemp("dkim"), "mc2026")


def test_keygen_writes_private_keys_and_loads_them_back(tmp_path: Path) -> None:
    made = generate(tmp_path, "s1")

    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load(tmp_path, "s1")
    assert loaded.txt_records(DOMAIN) == made.txt_records(DOMAIN)
    assert set(made.txt_records(DOMAIN)) == {"s1-rsa._domainkey.mikrocloud.com",
                                             "s1-ed25519._domainkey.mikrocloud.com"}
    with pytest.raises(IdpackError, match="--overwrite"):
        generate(tmp_path, "s1")


def test_missing_or_broken_keys_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IdpackError, match=r"s2-rsa\.pem is missing: create them with "
                                          r"`idpack dkim keygen --selector s2`"):
        load(tmp_path, "s2")
    generate(tmp_path, "s3")
    (tmp_path / "s3-ed25519.key").write_text("not base64!\n")
    with pytest.raises(IdpackError, match="are not valid"):
        load(tmp_path, "s3")


def test_both_signatures_verify(keys: DkimKeys) -> None:
    signed = Signer(keys, DOMAIN).sign(MESSAGE)

    assert signed.endswith(MESSAGE)
    headers = signed.split(b"\r\n\r\n")[0].decode()
    assert headers.count("DKIM-Signature:") == 2
    assert "a=rsa-sha256" in headers
    assert "a=ed25519-sha256" in headers
    assert verifies(signed, keys) == [True, True]


def test_opendkim_verifies_both_and_sees_a_change(keys: DkimKeys) -> None:
    signed = Signer(keys, DOMAIN).sign(MESSAGE)

    assert opendkim_results(signed, keys) == {"rsa-sha256": "pass", "ed25519-sha256": "pass"}
    tampered = signed.replace(b"k3yZq9aB2cD", b"evil")
    assert opendkim_results(tampered, keys) == {"rsa-sha256": "fail", "ed25519-sha256": "fail"}


def test_signatures_have_no_length_tag_and_sign_from_once_more_than_it_occurs(
        keys: DkimKeys) -> None:
    signed = Signer(keys, DOMAIN).sign(MESSAGE)
    header = signed.split(b"\r\nDKIM-Signature:")[0].decode().replace("\r\n ", " ")

    assert not re.search(r"[;\s]l=", header)
    tags = re.search(r"h=([^;]+);", header)
    assert tags is not None
    assert [t.strip() for t in tags.group(1).split(":")].count("from") == 2
    assert verifies(b"From: someone@evil.example\r\n" + signed, keys) == [False, False]


def test_any_change_to_the_body_or_subject_breaks_both(keys: DkimKeys) -> None:
    signed = Signer(keys, DOMAIN).sign(MESSAGE)

    assert verifies(signed.replace(b"k3yZq9aB2cD", b"evil-link00"), keys) == [False, False]
    assert verifies(signed.replace(b"Verify Email Address", b"Urgent: pay now"),
                    keys) == [False, False]
    assert verifies(signed + b"appended line\r\n", keys) == [False, False]


def test_the_openssl_path_signs_what_stock_dkimpy_signs(
        keys: DkimKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dkim.time, "time", lambda: 1795398593.0)  # the same t= in both
    fast = Signer(keys, DOMAIN).sign(MESSAGE)
    stock = stock_dkimpy_sign(keys, DOMAIN, MESSAGE)

    def b_tag(message: bytes) -> bytes:
        first = message.split(b"\r\nDKIM-Signature:")[0].replace(b"\r\n ", b"")
        match = re.search(rb"b=([A-Za-z0-9+/=]+)", first.split(b"bh=")[1].split(b";", 1)[1])
        assert match is not None
        return match.group(1)

    assert verifies(stock, keys) == [True, True]
    # RSASSA-PKCS1-v1_5 is deterministic: the same input and key give the same bytes,
    # so OpenSSL computed exactly what dkimpy's own arithmetic does.
    assert b_tag(fast) == b_tag(stock)
    # and the tags idpack lists for RSA are dkimpy's, byte for byte (Ed25519 is too)
    assert fast == stock


def test_dns_records_default_to_the_relays_selector_or_the_only_one(tmp_path: Path) -> None:
    from mail.dkim_keys import chosen_selector

    with pytest.raises(IdpackError, match=r"No DKIM keys .* dkim keygen --selector idpack"):
        chosen_selector(tmp_path, "idpack")
    generate(tmp_path, "mc2026")
    assert chosen_selector(tmp_path, "idpack") == "mc2026"  # the only one there
    generate(tmp_path, "idpack")
    assert chosen_selector(tmp_path, "idpack") == "idpack"  # the configured one
    generate(tmp_path, "mc2027")
    assert chosen_selector(tmp_path, "mc2027") == "mc2027"
    with pytest.raises(IdpackError, match=r"several selectors \(idpack, mc2026, mc2027\)"):
        chosen_selector(tmp_path, "old")

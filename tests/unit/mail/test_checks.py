from __future__ import annotations

from mail.checks import check_message, check_sender

DOMAINS = frozenset({"mikrocloud.com"})
GOOD = (b"From: MikroCloud <no-reply@mikrocloud.com>\r\nTo: a@example.org\r\n"
        b"Subject: Verify Email Address\r\n\r\nbody\r\n")


def test_a_proper_message_passes() -> None:
    assert check_sender("no-reply@mikrocloud.com", DOMAINS) is None
    assert check_message(GOOD, DOMAINS) is None


def test_foreign_senders_are_refused_so_the_relay_is_never_open() -> None:
    refusal = check_sender("someone@evil.example", DOMAINS)

    assert refusal is not None
    assert refusal.code == 550
    assert "evil.example" in refusal.text
    assert check_sender("", DOMAINS) is not None
    foreign_from = GOOD.replace(b"no-reply@mikrocloud.com", b"ceo@mikrocloud.com.evil.example")
    assert check_message(foreign_from, DOMAINS).code == 550  # type: ignore[union-attr]


def test_exactly_one_from_with_one_address() -> None:
    two_headers = b"From: a@mikrocloud.com\r\n" + GOOD
    two_addresses = GOOD.replace(b"MikroCloud <no-reply@mikrocloud.com>",
                                 b"a@mikrocloud.com, b@evil.example")
    none = GOOD.replace(b"From: MikroCloud <no-reply@mikrocloud.com>\r\n", b"")

    assert "2 From headers" in check_message(two_headers, DOMAINS).text  # type: ignore[union-attr]
    assert "exactly one address" in check_message(two_addresses, DOMAINS).text  # type: ignore[union-attr]
    assert "0 From headers" in check_message(none, DOMAINS).text  # type: ignore[union-attr]


def test_bare_cr_and_bare_lf_are_refused() -> None:
    smuggled_lf = GOOD.replace(b"body\r\n", b"body\n.\nMAIL FROM:<x@evil.example>\r\n")
    smuggled_cr = GOOD.replace(b"body\r\n", b"body\r.\rMAIL FROM:<x@evil.example>\r\n")

    for message in (smuggled_lf, smuggled_cr):
        refusal = check_message(message, DOMAINS)
        assert refusal is not None
        assert refusal.reply().startswith("550 5.6.0 Bare CR or LF")

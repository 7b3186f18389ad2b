"""Security 1: the relay signs only headers it received, byte for byte.

Rewriting an action link used to re-serialize the whole message with CPython's email
package, which refolds long headers; before CPython 3.11.10 and 3.12.5 (CVE-2024-6923)
that turned an encoded line break in a long Subject into a real one, and the relay
DKIM-signed the forged From that appeared."""

from __future__ import annotations

import base64
import json
import re
import secrets
import smtplib
import time
from email import policy
from email.header import Header
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.delivery import deliver_due
from mail.dkim_keys import load
from mail.links import LinkRewriter
from mail.relay import Relay
from tests.support.dkim_check import maildir_messages, opendkim_results, verifies
from tests.support.relay import SELECTOR, relay_settings, running_relay

pytestmark = pytest.mark.peers

SENDER = "no-reply@mikrocloud.com"
FORGED_SUBJECT = ("Please verify your MikroCloud account: it takes one minute, no more "
                  "=?utf-8?q?x=0D=0AFrom:_CEO_<ceo@evil.example>?=")


def action_link() -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 86400}).encode())
    return ("http://127.0.0.1:8080/realms/mikrocloud/login-actions/action-token?key=eyJh."
            f"{claims.rstrip(b'=').decode()}.c2ln&client_id=account")


def mail(subject: str, body: str, *, extra_headers: str = "",
         encoding: str = "quoted-printable") -> bytes:
    if encoding == "base64":
        encoded = base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
    else:
        encoded = body.replace("=", "=3D") if encoding == "quoted-printable" else body
    return (f"From: MikroCloud <{SENDER}>\r\n"
            "To: victim@example.org\r\n"
            f"Subject: {subject}\r\n"
            "Date: Mon, 23 Nov 2026 01:00:00 +0000\r\n"
            "Message-ID: <attack-1@mikrocloud.com>\r\n"
            f"{extra_headers}"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n"
            "\r\n"
            f"{encoded}").encode()


def header_block(content: bytes) -> bytes:
    return content.split(b"\r\n\r\n", 1)[0]


def unsigned(signed: bytes) -> bytes:
    """The message without the relay's two DKIM-Signature headers (they come first)."""
    return re.sub(rb"\A(?:DKIM-Signature:.*?\r\n(?![ \t]))+", b"", signed, flags=re.DOTALL)


def test_rewriting_a_link_leaves_the_forged_subject_as_it_came(tmp_path: Path) -> None:
    received = mail(FORGED_SUBJECT, f"Verify your address:\r\n\r\n{action_link()}\r\n")
    relay = Relay.build(relay_settings(tmp_path))
    rewriter: LinkRewriter = relay.pipeline.links

    rewritten, links = rewriter.rewrite(received)

    assert len(links) == 1
    assert header_block(rewritten) == header_block(received)
    headers = BytesHeaderParser(policy=compat32).parsebytes(rewritten)
    assert headers.get_all("From") == [f"MikroCloud <{SENDER}>"]
    assert links[0].url.encode() in rewritten
    assert b"action-token" not in rewritten


def test_the_forged_subject_is_refused_and_nothing_is_signed(tmp_path: Path) -> None:
    with running_relay(tmp_path) as relay, \
            smtplib.SMTP("127.0.0.1", relay.settings.port, timeout=10) as client:
        client.ehlo("app.test")
        client.mail(SENDER)
        client.rcpt("victim@example.org")
        code, reply = client.data(mail(FORGED_SUBJECT, f"Verify: {action_link()}\r\n"))

    assert code == 550, reply
    assert b"encodes a line break" in reply
    assert relay.spool.depth() == 0
    assert relay.metrics.registry.get_sample_value(
        "idpack_relay_refused_total", {"reason": "header-injection"}) == 1


def test_a_long_encoded_subject_is_signed_unchanged_with_every_header_oversigned(
        tmp_path: Path) -> None:
    subject = FORGED_SUBJECT.replace("=0D=0A", "=20")  # the same shape, no line break
    received = mail(subject, f"Verify your address:\r\n\r\n{action_link()}\r\n")
    with running_relay(tmp_path) as relay, \
            smtplib.SMTP("127.0.0.1", relay.settings.port, timeout=10) as client:
        client.sendmail(SENDER, ["victim@example.org"], received)
        deliver_due(relay.spool, relay.upstream, relay.backoff)
        [delivered] = maildir_messages(Path(relay.settings.upstream.removeprefix("maildir:")))

    assert header_block(unsigned(delivered)) == header_block(received)
    keys = load(tmp_path / "dkim", SELECTOR)
    assert verifies(delivered, keys) == [True, True]
    assert opendkim_results(delivered, keys) == {"rsa-sha256": "pass",
                                                 "ed25519-sha256": "pass"}
    for signature in re.findall(rb"DKIM-Signature:.*?(?=\r\n(?![ \t]))", delivered, re.DOTALL):
        tags = re.sub(rb"\s+", b"", signature)
        signed = re.search(rb";h=([^;]*)", tags)
        assert signed is not None
        names = signed.group(1).lower().split(b":")
        for name in (b"from", b"subject", b"to", b"reply-to", b"content-type"):
            assert names.count(name) == 2, (name, names)


def test_a_second_subject_or_content_type_is_refused(tmp_path: Path) -> None:
    relay = Relay.build(relay_settings(tmp_path))
    for extra in ("Subject: a second one\r\n", "Content-Type: text/html\r\n",
                  "Reply-To: a@evil.example\r\nReply-To: b@evil.example\r\n"):
        reply = relay.pipeline.accept(SENDER, ["victim@example.org"],
                                      mail("Verify", f"{action_link()}\r\n", extra_headers=extra))
        assert reply.startswith("550 5.7.1"), (extra, reply)
        assert "headers; at most one" in reply
    assert relay.spool.depth() == 0


# Header values as a client could send them: words in any script, long enough to be
# folded by a serializer, some as RFC 2047 encoded words (never hiding a line break).
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
                min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def header_values(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORDS, min_size=1, max_size=12))
    text = " ".join(words)
    if draw(st.booleans()):
        return Header(text, "utf-8", maxlinelen=998).encode(linesep="\r\n")
    return text.encode("ascii", "ignore").decode() or "x"


@pytest.fixture(scope="module")
def idle_relay(tmp_path_factory: pytest.TempPathFactory) -> Relay:
    """A relay whose pipeline the tests call directly (no SMTP, no delivery)."""
    return Relay.build(relay_settings(tmp_path_factory.mktemp("relay")))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=header_values(), reply_name=header_values(),
       encoding=st.sampled_from(["quoted-printable", "base64", "7bit"]))
def test_the_signed_header_block_is_the_received_one(
        idle_relay: Relay, subject: str, reply_name: str, encoding: str) -> None:
    relay = idle_relay
    reply_to = f"Reply-To: {reply_name} <help@mikrocloud.com>\r\n"
    received = mail(subject, f"Verify your address:\r\n\r\n{action_link()}\r\n",
                    extra_headers=reply_to, encoding=encoding)

    # A recipient per example: the relay allows 5 verification mails a minute to one.
    recipient = f"victim-{secrets.token_hex(4)}@example.org"
    reply = relay.pipeline.accept(SENDER, [recipient], received)

    assert reply.startswith("250"), reply
    [entry] = relay.spool.queued()
    signed = relay.spool.content(entry)
    relay.spool.done(entry)
    assert header_block(unsigned(signed)) == header_block(received)
    body = BytesParser(policy=policy.default).parsebytes(signed).get_content()
    assert "/s/" in body
    assert "action-token" not in body

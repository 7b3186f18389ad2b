"""Security 2-7 (mail): at most 5 mails a minute and 10 an hour reach one address,
whatever kind of mail, and a user asking for more is told so with a 4xx.

The relay counted only mails with action links (verification, reset) and only per
minute: the sidecar's email-change mails went out without a cap (8 to a stranger in a
second), and a reset or verification mail every 12 seconds made 300 an hour."""

from __future__ import annotations

import secrets
import smtplib
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from extensions.sidecar.app import create_app
from mail.pipeline import AddressLimit
from mail.relay import Relay
from tests.support.relay import relay_settings
from tests.support.sidecar import SidecarRealm, bearer

SENDER = "no-reply@mikrocloud.com"


def plain_mail(to: str) -> bytes:
    return (f"From: MikroCloud <{SENDER}>\r\nTo: {to}\r\nSubject: Hello\r\n"
            f"Message-ID: <{secrets.token_hex(6)}@mikrocloud.com>\r\n\r\nNo link here.\r\n"
            ).encode()


@pytest.mark.peers
def test_every_kind_of_mail_counts_five_a_minute_and_ten_an_hour(tmp_path: Path) -> None:
    relay = Relay.build(relay_settings(tmp_path))
    assert relay.pipeline.limits == (AddressLimit(5, 60.0), AddressLimit(10, 3600.0))
    # The same two windows, the first one second long, so that the hour's fills fast.
    relay.pipeline.limits = (AddressLimit(5, 1.0), AddressLimit(10, 3600.0))
    to = f"stranger-{secrets.token_hex(3)}@example.org"

    replies = [relay.pipeline.accept(SENDER, [to], plain_mail(to)) for _ in range(6)]
    time.sleep(1.1)
    replies += [relay.pipeline.accept(SENDER, [to], plain_mail(to)) for _ in range(5)]
    time.sleep(1.1)
    replies.append(relay.pipeline.accept(SENDER, [to], plain_mail(to)))
    other = relay.pipeline.accept(SENDER, ["someone@example.org"],
                                  plain_mail("someone@example.org"))

    codes = [reply[:3] for reply in replies]
    assert codes == ["250"] * 5 + ["450"] + ["250"] * 5 + ["450"], replies
    assert "at most 5 in 1 s" in replies[5]
    assert "10 an hour" in replies[11]
    assert other.startswith("250")
    assert relay.spool.depth() == 11


@pytest.mark.integration
def test_the_sixth_email_change_to_one_address_in_a_minute_is_a_429(
        sidecar_realm: SidecarRealm, relay: Relay, tmp_path: Path) -> None:
    client: FlaskClient = create_app(sidecar_realm.settings(
        store=str(tmp_path / "store.sqlite"), index_users=False,
        smtp_port=relay.settings.port, public_url="http://sidecar.test")).test_client()
    name = f"ivar-{secrets.token_hex(3)}"
    sidecar_realm.user(name)
    me = bearer(sidecar_realm.token(name))
    stranger = f"stranger-{secrets.token_hex(3)}@example.org"

    answers = [client.post("/auth/users/updateUserInfo", headers=me,
                           json={"email": stranger}) for _ in range(6)]

    assert [a.status_code for a in answers] == [204] * 5 + [429]
    assert "5 emails a minute" in answers[5].json["why"]
    assert int(answers[5].headers["Retry-After"]) >= 1
    assert relay.spool.depth() == 5


@pytest.mark.peers
def test_the_relay_says_which_cap_over_smtp(relay: Relay) -> None:
    to = f"often-{secrets.token_hex(3)}@example.org"
    with smtplib.SMTP("127.0.0.1", relay.settings.port, timeout=10) as client:
        for _ in range(5):
            client.sendmail(SENDER, [to], plain_mail(to))
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail(SENDER, [to], plain_mail(to))

    assert refused.value.smtp_code == 450
    assert b"at most 5 a minute to one address" in refused.value.smtp_error

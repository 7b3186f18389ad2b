"""Clients outside the relay networks: only after STARTTLS and AUTH."""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from idpack.commands import cli
from idpack.errors import IdpackError
from idpack.processes import free_port
from mail.delivery import Backoff
from mail.dkim_keys import generate
from mail.relay import Relay
from mail.settings import RelaySettings
from tests.peers.mail.test_relay import verification_mail
from tests.support.tls_certificates import self_signed

PASSWORD = "correct horse battery staple"


@pytest.fixture
def remote_only_relay(tmp_path: Path) -> Iterator[Relay]:
    """A relay whose only network is one the tests are not on: loopback is 'remote'."""
    generate(tmp_path / "dkim", "test")
    cert, key = self_signed(tmp_path)
    users = tmp_path / "relay-users"
    added = CliRunner().invoke(cli, ["relay", "user", "add", "keycloak", "--password-stdin"],
                               input=PASSWORD + "\n", env={"IDPACK_RELAY_USERS": str(users)})
    assert added.exit_code == 0, added.output
    assert PASSWORD not in users.read_text()
    settings = RelaySettings.from_env({"IDPACK_HOME": str(tmp_path)}, stack_file=False,
                       port=free_port(), dkim_selector="test", metrics_port=0,
                       networks=(ipaddress.ip_network("10.255.0.0/16"),),
                       tls_cert=cert, tls_key=key, users_file=users)
    relay = Relay.build(settings, Backoff(first=1, maximum=2))
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()


def client_tls(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def test_a_remote_client_must_log_in_over_starttls(remote_only_relay: Relay) -> None:
    relay = remote_only_relay
    port = relay.settings.port
    mail = verification_mail("remote@example.org")
    assert relay.settings.tls_cert is not None

    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # no login at all
        client.ehlo()
        code, text = client.mail("no-reply@mikrocloud.com")
        assert code == 530, text
        assert b"Authentication required" in text
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # AUTH is not offered in clear
        client.ehlo()
        assert not client.has_extn("auth")
        code, _ = client.docmd("AUTH", "PLAIN AGtleWNsb2FrAHg=")
        assert code == 538  # encryption required
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # wrong password
        client.starttls(context=client_tls(relay.settings.tls_cert))
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("keycloak", "not the password")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.starttls(context=client_tls(relay.settings.tls_cert))
        client.login("keycloak", PASSWORD)
        refused = client.sendmail("no-reply@mikrocloud.com", ["remote@example.org"], mail)
        assert refused == {}

    assert len(relay.spool.queued()) == 1
    assert relay.metrics.refused.labels("auth")._value.get() == 1
    assert relay.metrics.accepted._value.get() == 1


def test_auth_without_tls_is_refused_at_start(tmp_path: Path) -> None:
    generate(tmp_path / "dkim", "test")
    users = tmp_path / "relay-users"
    users.write_text("")
    settings = RelaySettings.from_env({"IDPACK_HOME": str(tmp_path)}, stack_file=False,
                       dkim_selector="test", users_file=users)

    with pytest.raises(IdpackError, match="only offered over STARTTLS"):
        Relay.build(settings)

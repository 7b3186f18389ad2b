"""Mail into the deployed relays, as Keycloak and the sidecars send it."""

from __future__ import annotations

import base64
import json
import smtplib
import time
from email import policy
from email.message import EmailMessage

from tests.deploy.stack import PUBLIC_URL, REALM

SENDER = "no-reply@mikrocloud.com"


def action_link() -> str:
    """An action-token link of the deployed Keycloak (the relay shortens those)."""
    claims = base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 86400}).encode())
    return (f"{PUBLIC_URL}/realms/{REALM}/login-actions/action-token?key=eyJh."
            f"{claims.rstrip(b'=').decode()}.c2ln&client_id=account")


def mail(to: str, subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"MikroCloud <{SENDER}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Sun, 29 Nov 2026 12:00:00 +0000"
    message.set_content(text)
    return message.as_bytes(policy=policy.SMTP)


def verification_mail(to: str) -> bytes:
    return mail(to, "Verify Email Address",
                f"Verify your address:\n\n{action_link()}\n\nIt expires in 24 hours.\n")


def send(port: int, to: str, content: bytes) -> tuple[int, str]:
    """The relay's answer to DATA (or to the first command it refuses)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=15) as client:
        client.ehlo("keycloak.test")
        code, text = client.mail(SENDER)
        if code != 250:
            return code, text.decode()
        code, text = client.rcpt(to)
        if code != 250:
            return code, text.decode()
        code, text = client.data(content)
        return code, text.decode()

"""A changed email address takes effect only once its owner follows a single-use link
mailed to it. The link's token is kept hashed, for 24 hours."""

from __future__ import annotations

import hashlib
import secrets
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

from extensions.sidecar.settings import SidecarSettings
from idpack.store.base import Store

NAMESPACE = "email-change"
LIFETIME = 24 * 3600


class MailUnavailable(Exception):
    pass


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(store: Store, settings: SidecarSettings, user_id: str, new_email: str) -> None:
    token = secrets.token_urlsafe(32)
    store.put(NAMESPACE, _key(token), {"user_id": user_id, "email": new_email,
                                       "created": time.time()}, LIFETIME)
    try:
        send(settings, new_email, f"{settings.public_url}/auth/users/verifyUserInfo?id={token}")
    except (OSError, smtplib.SMTPException) as exc:
        store.take(NAMESPACE, _key(token))
        raise MailUnavailable(str(exc)) from exc


def finish(store: Store, token: str) -> dict[str, str] | None:
    """The pending change the token proves (once), or None."""
    pending = store.take(NAMESPACE, _key(token))
    if pending is None or time.time() - float(pending["created"]) > LIFETIME:
        return None
    return {"user_id": str(pending["user_id"]), "email": str(pending["email"])}


def send(settings: SidecarSettings, to: str, link: str) -> None:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = "Confirm your new email address"
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rsplit("@", 1)[-1].strip(">"))
    message.set_content(
        "Someone, hopefully you, asked to use this address for a MikroCloud account.\n\n"
        f"Confirm it by opening this link:\n\n{link}\n\n"
        "The link works once and expires after 24 hours. If you did not ask for this, "
        "ignore this mail and nothing changes.\n")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)

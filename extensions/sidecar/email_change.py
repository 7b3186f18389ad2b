"""A changed email address takes effect only once its owner follows a single-use link
mailed to it, and confirms on the page it opens (fetching the link changes nothing:
mail scanners fetch links). The link's token is kept hashed, for 24 hours."""

from __future__ import annotations

import hashlib
import re
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


class MailCapped(Exception):
    """The relay takes no more mail to this address for now (its per-address limit)."""

    def __init__(self, reply: str, retry_after: int) -> None:
        super().__init__(reply)
        self.retry_after = retry_after


RETRY = re.compile(r"try again in (\d+) s")


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(store: Store, settings: SidecarSettings, user_id: str, new_email: str) -> None:
    token = secrets.token_urlsafe(32)
    store.put(NAMESPACE, _key(token), {"user_id": user_id, "email": new_email,
                                       "created": time.time()}, LIFETIME)
    try:
        send(settings, new_email, f"{settings.public_url}/auth/users/verifyUserInfo?id={token}")
    except smtplib.SMTPResponseException as exc:
        store.take(NAMESPACE, _key(token))
        reply = exc.smtp_error.decode(errors="replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        if exc.smtp_code == 450 and "4.7.1" in reply:
            wait = RETRY.search(reply)
            raise MailCapped(reply, int(wait.group(1)) if wait else 60) from exc
        raise MailUnavailable(str(exc)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        store.take(NAMESPACE, _key(token))
        raise MailUnavailable(str(exc)) from exc


def pending(store: Store, token: str) -> dict[str, str] | None:
    """The change the token proves, still pending (the link's page shows it), or None."""
    found = store.get(NAMESPACE, _key(token)) if token else None
    return _valid(found)


def finish(store: Store, token: str) -> dict[str, str] | None:
    """The pending change the token proves (once), or None."""
    return _valid(store.take(NAMESPACE, _key(token)) if token else None)


def _valid(found: dict[str, object] | None) -> dict[str, str] | None:
    if found is None or time.time() - float(str(found["created"])) > LIFETIME:
        return None
    return {"user_id": str(found["user_id"]), "email": str(found["email"])}


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

"""The delivery worker: sends queued messages to the upstream and settles each
recipient. A 4xx or no connection defers with exponential backoff (Postfix-like: 5
minutes doubling to about an hour, dead after 5 days, all configurable); a 5xx
dead-letters that recipient with the reason; a message past the maximum age is
dead-lettered whole. Embedded default: a local Maildir instead of an upstream."""

from __future__ import annotations

import json
import logging
import mailbox
import os
import smtplib
import ssl
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from mail.spool import Entry, Spool

log = logging.getLogger("idpack.relay.delivery")


@dataclass
class DeliveryStats:
    """Recipient outcomes since the spool was made, kept in `spool/delivery-stats.json`
    by the delivery worker, and read from there by the metrics endpoint, which lives in
    the SMTP process. Written after each pass that changed them (replaced atomically;
    a crash may lose the last pass's counts, never the mail)."""

    delivered: int = 0
    deferred: int = 0
    dead_lettered: int = 0

    @classmethod
    def load(cls, path: Path) -> DeliveryStats:
        try:
            return cls(**json.loads(path.read_bytes()))
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(asdict(self)))
        temporary.replace(path)


@dataclass(frozen=True)
class Backoff:
    first: float = 300.0
    maximum: float = 4000.0
    max_age: float = 5 * 24 * 3600.0

    def delay(self, attempts: int) -> float:
        return float(min(self.maximum, self.first * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Outcome:
    """Per recipient: delivered, deferred (temporary) or refused (permanent)."""

    delivered: list[str]
    deferred: dict[str, str]
    refused: dict[str, str]


class Sender(Protocol):
    def send(self, mail_from: str, recipients: list[str], content: bytes) -> Outcome: ...


class Upstream(Protocol):
    def connect(self) -> AbstractContextManager[Sender]:
        """One session for a whole delivery pass: one connection, many messages."""


class _Unreachable:
    def __init__(self, reason: str) -> None:
        self.reason = reason

    def send(self, mail_from: str, recipients: list[str], content: bytes) -> Outcome:
        return Outcome([], dict.fromkeys(recipients, f"no connection: {self.reason}"), {})


@dataclass(frozen=True)
class SmtpUpstream:
    host: str
    port: int
    starttls: bool = True
    verify_certificates: bool = True
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    helo_name: str | None = None  # how the relay greets: its configured host name

    @contextmanager
    def connect(self) -> Iterator[Sender]:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout,
                                local_hostname=self.helo_name)
            if self.starttls:
                context = ssl.create_default_context()
                if not self.verify_certificates:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                smtp.starttls(context=context)
            if self.username is not None:
                smtp.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            yield _Unreachable(str(exc))
            return
        try:
            yield _SmtpSession(smtp)
        finally:
            with suppress(OSError, smtplib.SMTPException):
                smtp.quit()


class _SmtpSession:
    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        self.broken: str | None = None

    def send(self, mail_from: str, recipients: list[str], content: bytes) -> Outcome:
        if self.broken is not None:
            return _Unreachable(self.broken).send(mail_from, recipients, content)
        try:
            refused = self.smtp.sendmail(mail_from, recipients, content)
        except smtplib.SMTPRecipientsRefused as exc:
            return _split(recipients, {r: (code, text) for r, (code, text)
                                       in exc.recipients.items()})
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
            reason = f"{exc.smtp_code} {text}"
            if 500 <= exc.smtp_code < 600:
                return Outcome([], {}, dict.fromkeys(recipients, reason))
            return Outcome([], dict.fromkeys(recipients, reason), {})
        except (OSError, smtplib.SMTPException) as exc:
            self.broken = str(exc)  # the connection is gone: the rest of the pass waits
            return Outcome([], dict.fromkeys(recipients, f"no connection: {exc}"), {})
        return _split(recipients, refused)


def _split(recipients: list[str], refused: dict[str, tuple[int, bytes]]) -> Outcome:
    deferred: dict[str, str] = {}
    permanent: dict[str, str] = {}
    for recipient, (code, text) in refused.items():
        reason = f"{code} {text.decode(errors='replace')}"
        (permanent if 500 <= code < 600 else deferred)[recipient] = reason
    delivered = [r for r in recipients if r not in refused]
    return Outcome(delivered, deferred, permanent)


@dataclass(frozen=True)
class MaildirUpstream:
    """`make run`'s upstream: every message lands in a local Maildir."""

    path: Path

    @contextmanager
    def connect(self) -> Iterator[Sender]:
        yield self

    def send(self, mail_from: str, recipients: list[str], content: bytes) -> Outcome:
        mailbox.Maildir(self.path, create=True).add(content)
        return Outcome(list(recipients), {}, {})


def deliver_due(spool: Spool, upstream: Upstream, backoff: Backoff,
                now: float | None = None, stats: DeliveryStats | None = None) -> int:
    """One pass over the due messages, over one upstream session; how many were
    settled (left the queue). The queue directory is fsynced once for them all."""
    entries = list(spool.due(now))
    if not entries:
        return 0
    settled = 0
    with upstream.connect() as sender:
        for entry in entries:
            if _deliver(spool, sender, backoff, entry, stats or DeliveryStats()):
                settled += 1
    spool.sync()
    return settled


def _deliver(spool: Spool, sender: Sender, backoff: Backoff, entry: Entry,
             stats: DeliveryStats) -> bool:
    outcome = sender.send(entry.mail_from, entry.recipients, spool.content(entry))
    stats.delivered += len(outcome.delivered)
    stats.dead_lettered += len(outcome.refused)
    for recipient in outcome.delivered:
        log.info("%s delivered to %s", entry.id, recipient)
    for recipient, reason in outcome.refused.items():
        log.warning("%s dead-lettered for %s: %s", entry.id, recipient, reason)
    entry.failed.update(outcome.refused)
    entry.recipients = list(outcome.deferred)
    entry.attempts += 1
    if not entry.recipients:
        spool.done(entry, sync=False)
        return True
    if time.time() - entry.created > backoff.max_age:
        entry.failed.update({r: f"gave up after {entry.attempts} attempts: {why}"
                             for r, why in outcome.deferred.items()})
        entry.recipients = []
        stats.dead_lettered += len(outcome.deferred)
        log.warning("%s dead-lettered: too old", entry.id)
        spool.done(entry, sync=False)
        return True
    stats.deferred += len(outcome.deferred)
    entry.last_error = "; ".join(f"{r}: {why}" for r, why in outcome.deferred.items())
    entry.next_try = time.time() + backoff.delay(entry.attempts)
    log.info("%s deferred (attempt %d, next in %.0f s): %s", entry.id, entry.attempts,
             entry.next_try - time.time(), entry.last_error)
    spool.update(entry)
    return False

"""Checking what the relay sends: DKIM verification against a selector's generated DNS
records (no DNS needed), and the messages a Maildir upstream received."""

from __future__ import annotations

import mailbox
from pathlib import Path

import dkim

from mail.dkim_keys import DkimKeys


def verifies(message: bytes, keys: DkimKeys, domain: str = "mikrocloud.com") -> list[bool]:
    """For each of the two signatures (RSA, Ed25519): does it verify?"""
    records = keys.txt_records(domain)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return records.get(name.decode().rstrip("."), "").encode()

    def one(index: int) -> bool:
        try:
            return bool(dkim.DKIM(message).verify(idx=index, dnsfunc=dns))
        except dkim.DKIMException:  # e.g. "body hash mismatch": a failed verification
            return False

    return [one(0), one(1)]


def maildir_messages(path: Path) -> list[bytes]:
    """The messages in a Maildir, with the CRLF line ends they were signed with."""
    if not path.exists():
        return []
    return [m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            for m in mailbox.Maildir(path)]

"""Checking what the relay sends: DKIM verification against a selector's generated DNS
records (no DNS needed), by dkimpy and, independently, by OpenDKIM's C library (Debian's
opendkim, in its test mode); and the messages a Maildir upstream received."""

from __future__ import annotations

import mailbox
import re
import shutil
import subprocess
import tempfile
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


OPENDKIM_RESULT = re.compile(r"dkim=(\w+)\b[^;]*?header\.a=([\w-]+)")


def opendkim_results(message: bytes, keys: DkimKeys,
                     domain: str = "mikrocloud.com") -> dict[str, str]:
    """OpenDKIM's verdict on each signature, by algorithm: {"rsa-sha256": "pass", ...}.
    Its TestDNSData setting answers the key lookups from the generated records."""
    opendkim = shutil.which("opendkim") or "/usr/sbin/opendkim"
    with tempfile.TemporaryDirectory(prefix="opendkim-") as scratch:
        folder = Path(scratch)
        records = folder / "records"
        records.write_text("".join(f"{name} {value}\n"
                                   for name, value in keys.txt_records(domain).items()))
        config = folder / "opendkim.conf"
        config.write_text(f"Mode v\nSyslog no\nAlwaysAddARHeader yes\n"
                          f"TestDNSData file:{records}\n")
        (folder / "message").write_bytes(message)
        result = subprocess.run([opendkim, "-x", str(config), "-vv", "-t", str(folder / "message")],
                                capture_output=True, text=True, timeout=30, check=True)
    return {algorithm: verdict
            for verdict, algorithm in OPENDKIM_RESULT.findall(result.stdout + result.stderr)}


def maildir_messages(path: Path) -> list[bytes]:
    """The messages in a Maildir, byte for byte as delivered (never re-serialized, which
    would refold headers), with the CRLF line ends they were signed with."""
    if not path.exists():
        return []
    box = mailbox.Maildir(path)
    return [box.get_bytes(key).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            for key in sorted(box.keys())]

"""What the relay refuses, decided on the envelope and the raw bytes before anything
is parsed, rewritten or signed. A refusal is an SMTP reply with a reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses


@dataclass(frozen=True)
class Refusal:
    code: int
    text: str
    reason: str  # a short label for logs and metrics (mail.metrics.REASONS)

    def reply(self) -> str:
        return f"{self.code} {self.text}"


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().rstrip(">").lower() if "@" in address else ""


def check_sender(mail_from: str, allowed_domains: frozenset[str]) -> Refusal | None:
    if domain_of(mail_from) not in allowed_domains:
        return Refusal(550, f"5.7.1 Sender <{mail_from}> is not in a domain this relay "
                            "signs for; it relays for "
                            + ", ".join(sorted(allowed_domains)), "sender-domain")
    return None


BARE_CR = re.compile(rb"\r(?!\n)")
BARE_LF = re.compile(rb"(?<!\r)\n")
FOLDING = re.compile(r"\r?\n(?=[ \t])")
# Headers a message carries at most once (RFC 5322 3.6, RFC 2045): a second Subject or
# Content-Type is how a forged header hides above or below the real one.
SINGLETON_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Date",
                     "Message-ID", "In-Reply-To", "References", "MIME-Version",
                     "Content-Type", "Content-Transfer-Encoding")


def check_message(content: bytes, allowed_domains: frozenset[str]) -> Refusal | None:
    """Smuggling attempts (bare CR or LF); exactly one From with one address in an
    allowed domain; no singleton header twice; no header whose encoded words hide a
    line break. The pipeline runs this on what it received and again on what it signs."""
    if BARE_CR.search(content) or BARE_LF.search(content):
        return Refusal(550, "5.6.0 Bare CR or LF in the message: lines must end in CRLF",
                       "smuggling")
    # compat32 and getaddresses: the same parse as the modern policy's header objects,
    # at a fifth of the cost, which counts at hundreds of messages a second.
    headers = BytesHeaderParser(policy=compat32).parsebytes(content)
    froms = headers.get_all("From") or []
    if len(froms) != 1:
        return Refusal(550, f"5.7.1 The message has {len(froms)} From headers; exactly one "
                            "is required", "from-count")
    addresses = [a for a in getaddresses([str(froms[0])]) if any(a)]
    if len(addresses) != 1 or "@" not in addresses[0][1]:
        return Refusal(550, "5.7.1 The From header must hold exactly one address",
                       "from-address")
    address = addresses[0][1]
    if domain_of(address) not in allowed_domains:
        return Refusal(550, f"5.7.1 From <{address}> is not in a domain this relay signs for",
                       "from-domain")
    return _check_headers(headers)


def _check_headers(headers: Message) -> Refusal | None:
    for name in SINGLETON_HEADERS:
        count = len(headers.get_all(name) or [])
        if count > 1:
            return Refusal(550, f"5.7.1 The message has {count} {name} headers; at most one "
                                "is allowed", "duplicate-header")
    for name, value in headers.items():
        if "=?" in value and _decodes_to_line_break(value):
            return Refusal(550, f"5.7.1 The {name} header encodes a line break; headers "
                                "must not", "header-injection")
    return None


def _decodes_to_line_break(value: str) -> bool:
    try:
        parts = decode_header(FOLDING.sub(" ", value))
    except (HeaderParseError, ValueError):
        return False  # not valid encoded words: shown as the literal text they are
    return any(isinstance(chunk, bytes) and (b"\r" in chunk or b"\n" in chunk)
               for chunk, _ in parts)


def header_block(content: bytes) -> bytes:
    """The message's header block, up to the empty line that ends it."""
    end = content.find(b"\r\n\r\n")
    return content if end < 0 else content[:end + 2]

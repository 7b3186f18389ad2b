"""Rewrite the text of a message's body parts and nothing else.

The message is never parsed into objects and serialized again: a serializer refolds
headers, and CPython's (before 3.11.10 and 3.12.5, CVE-2024-6923) turns an encoded
line break in a long header into a real one, so a crafted Subject would become a
second From that the relay then signs. Instead this module walks the raw bytes: the
header block of the message and of every MIME part is kept byte for byte, multipart
delimiters, preambles and epilogues too; only the content of `text/*` leaves is
decoded (transfer encoding, then charset), handed to `replace`, and encoded back the
same way when it changed."""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from collections.abc import Callable
from email import quoprimime
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

# replace(text, is_html) -> the new text (the same object when nothing changed)
Replace = Callable[[str, bool], str]
MAX_DEPTH = 20  # nested multiparts; deeper ones are left as they are
CRLF = b"\r\n"


def split_head(entity: bytes) -> tuple[bytes, bytes]:
    """(header block with its final CRLF, body) of a message or a MIME part. A part
    that starts with an empty line has no headers."""
    if entity.startswith(CRLF):
        return b"", entity[2:]
    end = entity.find(b"\r\n\r\n")
    if end < 0:
        return entity, b""
    return entity[:end + 2], entity[end + 4:]


def join_head(head: bytes, body: bytes) -> bytes:
    return head + CRLF + body


def rewrite_bodies(content: bytes, replace: Replace) -> bytes:
    """The message with the text of its text parts passed through `replace`; its header
    block is returned unchanged, byte for byte."""
    head, body = split_head(content)
    if not head and not content.startswith(CRLF):
        return content
    new_body = _entity_body(head, body, replace, depth=0)
    return content if new_body is body else join_head(head, new_body)


def _headers(head: bytes) -> Message:
    return BytesHeaderParser(policy=compat32).parsebytes(head + CRLF)


def _entity_body(head: bytes, body: bytes, replace: Replace, depth: int) -> bytes:
    headers = _headers(head)
    if headers.get_content_maintype() == "multipart":
        boundary = headers.get_param("boundary")
        if isinstance(boundary, str) and boundary and depth < MAX_DEPTH:
            return _multipart(body, boundary, replace, depth)
        return body
    if headers.get_content_maintype() != "text":
        return body
    return _text(headers, body, replace)


def _multipart(body: bytes, boundary: str, replace: Replace, depth: int) -> bytes:
    # RFC 2046 5.1.1: a delimiter is CRLF "--" boundary, optional transport padding,
    # CRLF; the CRLF before it belongs to the delimiter, not to the part.
    delimiter = re.compile(rb"(?:\A|\r\n)--" + re.escape(boundary.encode("ascii", "replace"))
                           + rb"(--)?[ \t]*(?=\r\n|\Z)")
    pieces: list[bytes] = []
    position, inside, changed = 0, False, False
    for match in delimiter.finditer(body):
        segment = body[position:match.start()]
        if inside:
            part_head, part_body = split_head(segment[2:] if segment.startswith(CRLF)
                                              else segment)
            new_body = _entity_body(part_head, part_body, replace, depth + 1)
            if new_body is not part_body:
                lead = CRLF if segment.startswith(CRLF) else b""
                segment = lead + join_head(part_head, new_body)
                changed = True
        pieces += [segment, match.group(0)]
        position = match.end()
        inside = match.group(1) is None  # after the closing delimiter: the epilogue
        if not inside:
            break
    if not changed:
        return body
    return b"".join(pieces) + body[position:]


def _text(headers: Message, body: bytes, replace: Replace) -> bytes:
    encoding = str(headers.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    charset = _codec(headers.get_content_charset())
    try:
        raw = _decode_transfer(body, encoding)
    except (ValueError, binascii.Error):
        return body  # not what it claims to be: left alone, signed as it came
    if raw is None:
        return body
    text = raw.decode(charset, "surrogateescape")
    new = replace(text, headers.get_content_subtype() == "html")
    if new == text:
        return body
    return _encode_transfer(new.encode(charset, "surrogateescape"), encoding, body)


def _codec(charset: str | None) -> str:
    if not charset:
        return "ascii"
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "latin-1"  # bytes through unchanged


def _decode_transfer(body: bytes, encoding: str) -> bytes | None:
    if encoding in ("7bit", "8bit", "binary"):
        return body
    if encoding == "quoted-printable":
        return quopri.decodestring(body)
    if encoding == "base64":
        return base64.b64decode(body, validate=False)
    return None  # an encoding we do not know: never touched


def _encode_transfer(raw: bytes, encoding: str, original: bytes) -> bytes:
    if encoding == "quoted-printable":
        # Hard line breaks stay where they were; a final one only if the text had it.
        return quoprimime.body_encode(raw.decode("latin-1"), maxlinelen=76,
                                      eol="\r\n").encode("ascii")
    if encoding == "base64":
        lines = base64.encodebytes(raw).replace(b"\n", CRLF)
        return lines if original.endswith(CRLF) else lines.removesuffix(CRLF)
    return raw

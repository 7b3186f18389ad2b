"""Rewrite Keycloak's action-token links into short links, `<public base>/s/<code>`.

Only the text of body parts changes (mail/body_rewrite.py): every text part is decoded,
its matching URLs replaced, and the part encoded again the way it was; every header
block stays byte for byte as received. A short link expires
with the token it carries (its JWT `exp`), or after a configured time; codes come from
`secrets` (96 bits). Only URLs on configured hosts are ever stored."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from idpack.store.base import Store
from idpack.store.short_links import ShortLinkStore
from mail.body_rewrite import rewrite_bodies

# Keycloak's e-mailed action links: verify email, reset credentials, execute actions.
DEFAULT_PATTERN = r"https?://[^\s\"'<>]+/login-actions/action-token\?[^\s\"'<>]+"


@dataclass(frozen=True)
class ShortLink:
    code: str
    url: str
    target: str
    expires: float


@dataclass
class LinkRewriter:
    store: Store
    public_base: str
    allowed_hosts: frozenset[str]
    patterns: tuple[re.Pattern[str], ...] = (re.compile(DEFAULT_PATTERN),)
    default_ttl: float = 24 * 3600
    short_links: ShortLinkStore = field(init=False)

    def __post_init__(self) -> None:
        self.short_links = ShortLinkStore(self.store)

    def rewrite(self, content: bytes) -> tuple[bytes, list[ShortLink]]:
        if not self._may_have_links(content):
            return content, []
        links: dict[str, ShortLink] = {}
        rewritten = rewrite_bodies(
            content, lambda text, html_part: self._replace(text, links, html_part))
        if not links:
            return content, []
        return rewritten, list(links.values())

    def _may_have_links(self, content: bytes) -> bool:
        """A cheap look before the MIME parse: the raw bytes (quoted-printable soft line
        breaks joined) mention an action link, or a part is base64 and could hide one."""
        joined = content.replace(b"=\r\n", b"").replace(b"=3D", b"=")
        return (b"/login-actions/" in joined or b"base64" in content.lower()
                or any(p.pattern != DEFAULT_PATTERN for p in self.patterns))

    def _replace(self, text: str, links: dict[str, ShortLink], html_part: bool) -> str:
        """The text with every action link on an allowed host shortened."""
        def shorten(match: re.Match[str]) -> str:
            raw = match.group(0)
            target = html.unescape(raw) if html_part else raw
            if urlsplit(target).hostname not in self.allowed_hosts:
                return raw
            if target not in links:
                links[target] = self._store(target)
            return links[target].url

        for pattern in self.patterns:
            text = pattern.sub(shorten, text)
        return text

    def _store(self, target: str) -> ShortLink:
        expires = token_expiry(target) or time.time() + self.default_ttl
        record = self.short_links.create(target, expires)
        return ShortLink(record.code, f"{self.public_base.rstrip('/')}/s/{record.code}",
                         target, expires)


def token_expiry(url: str) -> float | None:
    """The `exp` of the action token (a JWT in `key=`), if the link carries one."""
    token = (parse_qs(urlsplit(url).query).get("key") or [""])[0]
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None

"""Short links, as the relay writes them and the sidecar follows them: a random code
(96 bits) for a target URL that expires with the token it carries. The record is kept
a week past its expiry, so that following it says "expired, ask for a new mail" (410)
rather than "no such link" (404)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from idpack.store.base import Store

NAMESPACE = "short-links"
KEPT_AFTER_EXPIRY = 7 * 24 * 3600.0


@dataclass(frozen=True)
class ShortLinkRecord:
    code: str
    target: str
    expires: float  # epoch seconds

    @property
    def expired(self) -> bool:
        return self.expires <= time.time()


class ShortLinkStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, target: str, expires: float) -> ShortLinkRecord:
        record = ShortLinkRecord(secrets.token_urlsafe(12), target, expires)
        self.save(record)
        return record

    def save(self, record: ShortLinkRecord) -> None:
        ttl = max(1.0, record.expires - time.time()) + KEPT_AFTER_EXPIRY
        self.store.put(NAMESPACE, record.code, {"target": record.target,
                                                "expires": record.expires}, ttl)

    def get(self, code: str) -> ShortLinkRecord | None:
        found = self.store.get(NAMESPACE, code)
        if found is None:
            return None
        return ShortLinkRecord(code, str(found.get("target", "")),
                               float(found.get("expires", 0)))

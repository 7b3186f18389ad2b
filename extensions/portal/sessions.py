"""Signed-in sessions, kept on the server: the browser's cookie holds only a random
session id, and the tokens live in the store under it. Signing out deletes the entry,
so a copy of the cookie taken before (a stolen one, a shared machine's) opens nothing
afterwards; a cookie-only session would stay valid until its token expired.

Each session also holds a CSRF token, which every state-changing form (signing out)
must send back."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from idpack.store.base import Store

NAMESPACE = "portal-sessions"
GRACE = 60.0  # seconds a session outlives its access token (to say "sign in again")


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    access_token: str
    id_token: str | None
    expires_at: float
    csrf_token: str
    profile_seen: bool = False

    @property
    def expired(self) -> bool:
        return self.expires_at <= time.time()

    def accepts(self, csrf_token: str) -> bool:
        return hmac.compare_digest(self.csrf_token.encode(), csrf_token.encode())


class SessionStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, access_token: str, id_token: str | None, expires_at: float) -> SignedIn:
        session = SignedIn(secrets.token_urlsafe(32), access_token, id_token, expires_at,
                           secrets.token_urlsafe(32))
        self._save(session)
        return session

    def get(self, session_id: str | None) -> SignedIn | None:
        if not session_id:
            return None
        found = self.store.get(NAMESPACE, session_id)
        if found is None:
            return None
        return SignedIn(session_id=session_id, **_fields(found))

    def mark_profile_seen(self, session: SignedIn) -> None:
        if not session.profile_seen:
            self._save(SignedIn(**{**session.__dict__, "profile_seen": True}))

    def end(self, session_id: str | None) -> SignedIn | None:
        if not session_id:
            return None
        found = self.store.take(NAMESPACE, session_id)
        return None if found is None else SignedIn(session_id=session_id, **_fields(found))

    def _save(self, session: SignedIn) -> None:
        value = {k: v for k, v in session.__dict__.items() if k != "session_id"}
        ttl = max(1.0, session.expires_at - time.time()) + GRACE
        self.store.put(NAMESPACE, session.session_id, value, ttl)


def _fields(found: dict[str, Any]) -> dict[str, Any]:
    return {k: found[k] for k in ("access_token", "id_token", "expires_at", "csrf_token",
                                  "profile_seen") if k in found}

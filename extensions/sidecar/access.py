"""Who may call: UCloud's roles, from the caller's realm roles, and the check every RPC
makes before it runs. As in UCloud, a missing or bad token and a wrong role both
answer 401."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from extensions.sidecar.context import ACTIVE_TOKENS, TOKENS
from extensions.sidecar.errors import RpcError
from extensions.sidecar.roles import Role, ucloud_role
from extensions.sidecar.tokens import (
    ActiveTokens,
    InvalidToken,
    KeySetUnavailable,
    TokenVerifier,
    VerifiedToken,
)

log = logging.getLogger("idpack.sidecar.access")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    token: VerifiedToken
    role: Role

    @property
    def user_id(self) -> str:
        return self.token.subject


def caller() -> Caller:
    return cast(Caller, g.caller)


def requires(*allowed: Role) -> Callable[[F], F]:
    """The decorated RPC runs only for a verified caller holding one of the roles."""
    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            g.caller = authenticate(allowed)
            return view(*args, **kwargs)

        guarded.allowed_roles = allowed  # type: ignore[attr-defined]  # read by openapi
        return cast(F, guarded)
    return decorate


def authenticate(allowed: Iterable[Role]) -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise RpcError(401, "Unauthorized: a Bearer token is required", "UNAUTHORIZED")
    verifier: TokenVerifier = current_app.extensions[TOKENS]
    active: ActiveTokens = current_app.extensions[ACTIVE_TOKENS]
    try:
        verified = verifier.verify(token.strip())
        active.check(token.strip(), verified)  # not disabled, signed out or replaced
    except InvalidToken as exc:
        log.info("refused a token: %s", exc)
        raise RpcError(401, "Unauthorized: invalid token", "UNAUTHORIZED") from None
    except KeySetUnavailable as exc:
        log.warning("cannot check tokens: %s", exc)
        raise RpcError(503, "Identity store unavailable", "IDENTITY_STORE_UNAVAILABLE") from None
    role = ucloud_role(verified.realm_roles)
    if role not in set(allowed):
        raise RpcError(401, "Permission denied", "PERMISSION_DENIED")
    if not verified.is_service_account and not verified.email_verified:
        raise RpcError(401, "Email address is not verified: verify it with the link we "
                            "mailed you, then sign in again", "EMAIL_NOT_VERIFIED")
    return Caller(verified, role)

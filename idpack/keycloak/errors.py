"""What goes wrong talking to Keycloak, in words a user can act on."""

from __future__ import annotations

import json

from idpack.errors import IdpackError


class KeycloakUnavailable(IdpackError):
    """Keycloak did not answer, or refused our admin credentials."""


class KeycloakRequestError(IdpackError):
    """Keycloak answered an Admin API request with an error."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.method, self.path, self.status = method, path, status
        try:
            detail = json.loads(body)
            reason = (detail.get("errorMessage") or detail.get("error_description")
                      or detail.get("error") or body) if isinstance(detail, dict) else body
        except ValueError:
            reason = body
        self.reason = str(reason).strip()[:500]
        super().__init__(f"Keycloak refused {method} {path}: HTTP {status} {self.reason}")

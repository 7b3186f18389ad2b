"""The portal's calls to the sidecar's UCloud RPCs, each with the signed-in user's own
access token (never a token of the portal's: what a user may change is the sidecar's
rule, for the portal as for any client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class SidecarAnswer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str:
        return str(self.body.get("errorCode") or "")

    @property
    def why(self) -> str:
        return str(self.body.get("why") or "The profile service did not answer.")


@dataclass(frozen=True)
class SidecarClient:
    base_url: str
    timeout: float

    def user_info(self, token: str) -> SidecarAnswer:
        return self._call("GET", "/auth/users/userInfo", token)

    def optional_info(self, token: str) -> SidecarAnswer:
        return self._call("GET", "/auth/users/retrieveOptionalInfo", token)

    def update_user_info(self, token: str, body: dict[str, Any]) -> SidecarAnswer:
        return self._call("POST", "/auth/users/updateUserInfo", token, body)

    def update_optional_info(self, token: str, body: dict[str, Any]) -> SidecarAnswer:
        return self._call("POST", "/auth/users/optionalInfo", token, body)

    def _call(self, method: str, path: str, token: str,
              body: dict[str, Any] | None = None) -> SidecarAnswer:
        try:
            response = requests.request(method, f"{self.base_url}{path}", json=body,
                                        headers={"Authorization": f"Bearer {token}"},
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            return SidecarAnswer(502, {"why": f"The profile service is not answering ({exc})"})
        if not response.content:
            return SidecarAnswer(response.status_code, {})
        try:
            answer = response.json()
        except ValueError:
            return SidecarAnswer(502, {"why": "The profile service answered oddly."})
        return SidecarAnswer(response.status_code, answer if isinstance(answer, dict) else {})

"""Which Keycloak to talk to and as whom: KEYCLOAK_URL, KEYCLOAK_ADMIN and
KEYCLOAK_ADMIN_PASSWORD from the environment, else the running local stack's
`.idpack/stack.json`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from idpack.errors import IdpackError


@dataclass(frozen=True)
class KeycloakTarget:
    url: str
    admin_user: str
    admin_password: str

    def __repr__(self) -> str:  # never show the password in logs or tracebacks
        return f"KeycloakTarget(url={self.url!r}, admin_user={self.admin_user!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self | None:
        """The server named by KEYCLOAK_URL, or None when it is unset."""
        url = env.get("KEYCLOAK_URL", "").strip()
        if not url:
            return None
        missing = [n for n in ("KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD") if not env.get(n)]
        if missing:
            raise IdpackError(f"KEYCLOAK_URL is set to {url} but {' and '.join(missing)} "
                              f"{'is' if len(missing) == 1 else 'are'} not: set the admin "
                              "user name and password of that server too.")
        return cls(url=url.rstrip("/"), admin_user=env["KEYCLOAK_ADMIN"],
                   admin_password=env["KEYCLOAK_ADMIN_PASSWORD"])

    @classmethod
    def from_env_or_stack(cls, env: Mapping[str, str], stack_file: Path) -> Self:
        """The environment's server, else the one `idpack up` is running."""
        target = cls.from_env(env)
        if target is not None:
            return target
        try:
            stack = json.loads(stack_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IdpackError(f"No Keycloak to talk to: KEYCLOAK_URL is unset and {stack_file} "
                              "does not exist. Start the local stack with `make run`, or set "
                              "KEYCLOAK_URL, KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD.") from None
        except ValueError as exc:
            raise IdpackError(f"{stack_file} is not valid JSON: {exc}") from None
        try:
            return cls(url=str(stack["keycloak_url"]).rstrip("/"),
                       admin_user=str(stack["admin_user"]),
                       admin_password=str(stack["admin_password"]))
        except KeyError as exc:
            raise IdpackError(f"{stack_file} lacks the key {exc.args[0]!r}") from None

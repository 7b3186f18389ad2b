"""Which Keycloak to talk to and as whom (idpack.keycloak.settings reads it from
KEYCLOAK_URL, KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD, else the local stack's
`.idpack/stack.json`)."""

from __future__ import annotations

from dataclasses import dataclass
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
    def of(cls, url: str, admin_user: str | None, admin_password: str | None) -> Self:
        """The server at `url` with its admin's credentials; an error naming what is
        missing when they are not all there."""
        missing = [name for name, value in (("KEYCLOAK_ADMIN", admin_user),
                                            ("KEYCLOAK_ADMIN_PASSWORD", admin_password))
                   if not value]
        if missing:
            raise IdpackError(f"KEYCLOAK_URL is set to {url} but {' and '.join(missing)} "
                              f"{'is' if len(missing) == 1 else 'are'} not: set the admin "
                              "user name and password of that server too.")
        assert admin_user is not None
        assert admin_password is not None
        return cls(url=url.rstrip("/"), admin_user=admin_user, admin_password=admin_password)

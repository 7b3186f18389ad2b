"""UCloud's service licence agreement on Keycloak: the version each user accepted, and
who must accept the newest one.

Keycloak's terms-and-conditions required action (TERMS_AND_CONDITIONS) shows the terms
and, on acceptance, records the moment on the user (attribute `terms_and_conditions`,
epoch seconds); it knows no versions. So the realm declares its versions, and since
when each holds, in one realm attribute that realm-config sets:

    serviceLicenseAgreement.versions: "1@2024-03-01T00:00:00Z 2@2026-12-01T00:00:00Z"

The version a user accepted is the newest one dated no later than their acceptance, or
the one UCloud recorded (the user attribute `serviceLicenseAgreement`, written by `idpack
migrate ucloud`), whichever is newer. A user whose version is older than the newest is
given the required action, so Keycloak asks at their next sign-in: new users through the
realm's default actions; the others when they next come to getUserInfo (the portal's
first call after a sign-in), which refuses them until they accept (the portal sends them
through Keycloak again, which shows the terms), and, for those who do not come, through
the sidecar's background check of every user, at its bounded pace (README, "The
sidecar")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

VERSIONS = "serviceLicenseAgreement.versions"  # the realm's attribute
RECORDED = "serviceLicenseAgreement"  # the user's: the version UCloud recorded
ACCEPTED_AT = "terms_and_conditions"  # the user's: when they accepted, Keycloak's record
REQUIRED_ACTION = "TERMS_AND_CONDITIONS"


@dataclass(frozen=True)
class Licence:
    versions: tuple[tuple[int, float], ...]  # (version, since: epoch seconds), oldest first

    @classmethod
    def of_realm(cls, realm: dict[str, Any]) -> Licence | None:
        """The realm's declared versions; None where it declares none (no terms asked)."""
        text = str((realm.get("attributes") or {}).get(VERSIONS) or "").strip()
        return cls.parse(text) if text else None

    @classmethod
    def parse(cls, text: str) -> Licence:
        versions = []
        for item in text.split():
            number, at, since = item.partition("@")
            if not at or not number.isdigit():
                raise ValueError(f"{VERSIONS}: {item!r} is not VERSION@DATE")
            moment = datetime.datetime.fromisoformat(since.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.UTC)
            versions.append((int(number), moment.timestamp()))
        if not versions:
            raise ValueError(f"{VERSIONS} names no version")
        return cls(tuple(sorted(versions, key=lambda v: v[1])))

    @property
    def current(self) -> int:
        return max(version for version, _ in self.versions)

    def accepted(self, user: dict[str, Any]) -> int:
        """The newest version the user accepted; 0 for none."""
        attributes = user.get("attributes") or {}
        found = 0
        for at in _numbers(attributes.get(ACCEPTED_AT)):
            found = max([found, *(v for v, since in self.versions if since <= at)])
        return max([found, *map(int, _numbers(attributes.get(RECORDED)))])

    def outdated(self, user: dict[str, Any]) -> bool:
        """Whether the user (a person, not a service's account) has yet to accept the
        newest version."""
        return (self.accepted(user) < self.current
                and not str(user.get("username", "")).startswith("service-account-"))

    def needs_acceptance(self, user: dict[str, Any]) -> bool:
        """Whether Keycloak must ask this user at the next sign-in, and does not yet."""
        return (self.outdated(user)
                and REQUIRED_ACTION not in (user.get("requiredActions") or []))


def recorded_version(user: dict[str, Any], licence: Licence | None) -> int:
    """What retrievePrincipal answers: the accepted version, by the realm's versions where
    it declares them, else as UCloud recorded it."""
    if licence is not None:
        return licence.accepted(user)
    return max([0, *map(int, _numbers((user.get("attributes") or {}).get(RECORDED)))])


def _numbers(values: Any) -> list[float]:
    found = []
    for value in values or []:
        try:
            found.append(float(value))
        except (TypeError, ValueError):
            continue
    return found

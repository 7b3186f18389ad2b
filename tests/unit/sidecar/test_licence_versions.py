"""Which version of the service licence a user accepted, from the realm's dated
versions and Keycloak's record of the moment (or UCloud's record of the version)."""

from __future__ import annotations

import pytest

from extensions.sidecar.licence import Licence, recorded_version

VERSIONS = "1@2024-03-01T00:00:00Z 2@2026-12-01T00:00:00Z"
BEFORE_2 = 1_780_000_000  # 2026-05-28
AFTER_2 = 1_800_000_000  # 2027-01-15


def user(**attributes: list[str]) -> dict[str, object]:
    return {"username": "ada", "attributes": attributes, "requiredActions": []}


def test_the_version_accepted_is_the_newest_dated_no_later_than_the_acceptance() -> None:
    licence = Licence.parse(VERSIONS)

    assert licence.current == 2
    assert licence.accepted(user()) == 0
    assert licence.accepted(user(terms_and_conditions=[str(BEFORE_2)])) == 1
    assert licence.accepted(user(terms_and_conditions=[str(AFTER_2)])) == 2
    assert licence.accepted(user(serviceLicenseAgreement=["2"],
                                 terms_and_conditions=[str(BEFORE_2)])) == 2


def test_who_must_accept_again() -> None:
    licence = Licence.parse(VERSIONS)

    assert licence.needs_acceptance(user(terms_and_conditions=[str(BEFORE_2)]))
    assert not licence.needs_acceptance(user(terms_and_conditions=[str(AFTER_2)]))
    assert not licence.needs_acceptance({**user(), "requiredActions": ["TERMS_AND_CONDITIONS"]})
    assert not licence.needs_acceptance({**user(), "username": "service-account-x"})
    # getUserInfo refuses whoever is outdated, asked already or not; never a service.
    assert licence.outdated({**user(), "requiredActions": ["TERMS_AND_CONDITIONS"]})
    assert not licence.outdated(user(terms_and_conditions=[str(AFTER_2)]))
    assert not licence.outdated({**user(), "username": "service-account-x"})


def test_without_declared_versions_ucloud_s_record_is_the_answer() -> None:
    assert Licence.of_realm({"attributes": {}}) is None
    assert recorded_version(user(serviceLicenseAgreement=["3"]), None) == 3
    assert recorded_version(user(), None) == 0


@pytest.mark.parametrize("text", ["1", "one@2024-01-01T00:00:00Z", "1@yesterday"])
def test_versions_that_do_not_read_are_an_error(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message differs per case)
        Licence.parse(text)

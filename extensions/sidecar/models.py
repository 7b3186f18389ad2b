"""UCloud's request and response types (shared/seeds/ucloud-user-creation.txt), with the
checks the sidecar makes on input. Unknown fields are refused, as are wrong types."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel

from extensions.sidecar import usernames
from extensions.sidecar.roles import Role
from idpack.places import is_country, is_time_zone

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Characters that change how text reads without being seen: direction overrides and
# isolates, and the marks around them. Refused in every text field.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
SERVICE_ACCOUNT_PREFIX = "service-account-"  # Keycloak's names for clients' own users
# Lengths, as Keycloak's user profile bounds them (an email address: RFC 5321).
NAME_MAX, EMAIL_MAX, PASSWORD_MAX, ID_MAX = 255, 254, 1024, 255


# Unicode's control characters (category Cc: C0, DEL and C1), and the direction marks: a
# character class each, checked by the regex engine (a lookup of 100 names checks 100).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
NOT_PLAIN = re.compile(f"{CONTROL.pattern}|{BIDI.pattern}")  # one search for the usual name


def _single_line(value: str | None) -> str | None:
    if value is None or not NOT_PLAIN.search(value):
        return value
    if CONTROL.search(value):
        raise ValueError("must be a single line without control characters")
    if BIDI.search(value):
        raise ValueError("must not hold characters that change the text's direction")
    return value


def _email(value: str | None) -> str | None:
    if value is not None and not EMAIL.match(value):
        raise ValueError("is not an email address")
    return value


def _country(value: str | None) -> str | None:
    if value and not is_country(value):
        raise ValueError("is not an ISO 3166-1 alpha-2 country code, such as DK")
    return value


def _time_zone(value: str | None) -> str | None:
    if value and not is_time_zone(value):
        raise ValueError("is not an IANA time zone name, such as Europe/Copenhagen")
    return value


def _username(value: str) -> str:
    """What a UCloud username may be: visible characters only (no control, format or
    separator characters such as U+200B or U+202E), outside Keycloak's namespace for
    service-account users."""
    if not value.strip():
        raise ValueError("must not be blank")
    if any(unicodedata.category(c)[0] in "CZ" and c != " " for c in value):
        raise ValueError("must not hold control, invisible or direction-changing characters")
    if value.lower().startswith(SERVICE_ACCOUNT_PREFIX):
        raise ValueError(f"must not start with {SERVICE_ACCOUNT_PREFIX} (the names of "
                         "clients' service accounts)")
    if not usernames.admissible(value):
        raise ValueError("may hold letters (no look-alike ones such as \u0131, \ufb01 or "
                         "full-width letters), digits and . _ - + @ only")
    return value


SingleLine = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_single_line)]
Email = Annotated[str, Field(max_length=EMAIL_MAX), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]
Username = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_username)]
# A user, as UCloud names one (the username) or as Keycloak does (its id).
UserRef = Annotated[str, Field(min_length=1, max_length=ID_MAX), AfterValidator(_single_line)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSingleUserRequest(Model):
    username: Username
    password: Password | None = None
    email: Email | None = None
    role: Role | None = None
    firstnames: SingleLine | None = None
    lastname: SingleLine | None = None
    orgId: SingleLine | None = None


class CreateNewUserRequest(RootModel[list[CreateSingleUserRequest]]):
    pass


class CreatedUser(Model):
    username: str
    userId: str


class CreateNewUserResponse(RootModel[list[CreatedUser]]):
    pass


class GetUserInfoResponse(Model):
    email: str | None
    firstNames: str | None
    lastName: str | None
    organization: str | None
    # idpack's additions to UCloud's response: inferred at registration, user-editable
    country: str | None = None  # ISO 3166-1 alpha-2
    timezone: str | None = None  # IANA name


class UpdateUserInfoRequest(Model):
    email: Email | None = None
    firstNames: SingleLine | None = None
    lastName: SingleLine | None = None
    # idpack's additions: the user's own country and time zone ("" clears one).
    country: Annotated[str, Field(max_length=2), AfterValidator(_country)] | None = None
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_time_zone)] | None = None


class OptionalUserInformation(Model):
    organizationFullName: SingleLine | None = None
    department: SingleLine | None = None
    researchField: SingleLine | None = None
    position: SingleLine | None = None


class ChangePasswordRequest(Model):
    currentPassword: Password
    newPassword: Password


class ChangePasswordWithResetRequest(Model):
    userId: UserRef
    newPassword: Password


class LookupUsersRequest(Model):
    users: list[UserRef]


class UserLookup(Model):
    subject: str
    role: Role
    uid: int | None = None  # UCloud marks it deprecated; its services still read it


class LookupUsersResponse(Model):
    results: dict[str, UserLookup | None]


class LookupEmailRequest(Model):
    userId: UserRef


class LookupEmailResponse(Model):
    email: str


class LookupUserWithEmailRequest(Model):
    email: Annotated[str, Field(max_length=EMAIL_MAX)]


class LookupUserWithEmailResponse(Model):
    userId: str
    firstNames: str
    lastName: str


class RetrievePrincipalRequest(Model):
    username: UserRef


class Principal(Model):
    """UCloud's principals: Person.ByPassword (type "password"), Person.ByWAYF ("wayf"),
    ServicePrincipal ("service"); the fields a type lacks are left out."""

    model_config = ConfigDict(extra="forbid")
    type: str
    id: str
    role: Role
    uid: int | None = None
    title: str | None = None
    firstNames: str | None = None
    lastName: str | None = None
    phoneNumber: str | None = None
    orcId: str | None = None
    email: str | None = None
    twoFactorAuthentication: bool | None = None
    serviceLicenseAgreement: int | None = None
    organizationId: str | None = None
    wayfId: str | None = None
    displayName: str | None = None


class LookupUidRequest(Model):
    uids: list[Annotated[int, Field(ge=0, le=2**63 - 1)]] = Field(max_length=500)


class LookupUidResponse(Model):
    users: dict[str, UserLookup | None]  # by uid


class FindByStringId(Model):
    id: Annotated[str, Field(min_length=1, max_length=64)]


class PrincipalPage(RootModel[list[Principal]]):
    pass


class Empty(Model):
    pass


class ErrorBody(Model):
    why: str
    errorCode: str | None = None


def first_attribute(user: dict[str, Any], name: str) -> str | None:
    values = (user.get("attributes") or {}).get(name) or []
    return str(values[0]) if values else None

"""UCloud's request and response types (shared/seeds/ucloud-user-creation.txt), with the
checks the sidecar makes on input. Unknown fields are refused, as are wrong types."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel

from extensions.sidecar.access import Role

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _single_line(value: str | None) -> str | None:
    if value is not None and ("\n" in value or "\r" in value):
        raise ValueError("must be a single line")
    return value


def _email(value: str | None) -> str | None:
    if value is not None and not EMAIL.match(value):
        raise ValueError("is not an email address")
    return value


def _username(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    _single_line(value)
    return value


SingleLine = Annotated[str, AfterValidator(_single_line)]
Email = Annotated[str, AfterValidator(_email)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSingleUserRequest(Model):
    username: Annotated[str, Field(max_length=250), AfterValidator(_username)]
    password: str | None = None
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


class OptionalUserInformation(Model):
    organizationFullName: SingleLine | None = None
    department: SingleLine | None = None
    researchField: SingleLine | None = None
    position: SingleLine | None = None


class ChangePasswordRequest(Model):
    currentPassword: str
    newPassword: str


class ChangePasswordWithResetRequest(Model):
    userId: str
    newPassword: str


class LookupUsersRequest(Model):
    users: list[str]


class UserLookup(Model):
    subject: str
    role: Role


class LookupUsersResponse(Model):
    results: dict[str, UserLookup | None]


class LookupEmailRequest(Model):
    userId: str


class LookupEmailResponse(Model):
    email: str


class LookupUserWithEmailRequest(Model):
    email: str


class LookupUserWithEmailResponse(Model):
    userId: str
    firstNames: str
    lastName: str


class ErrorBody(Model):
    why: str
    errorCode: str | None = None


def first_attribute(user: dict[str, Any], name: str) -> str | None:
    values = (user.get("attributes") or {}).get(name) or []
    return str(values[0]) if values else None

"""UCloud's principals, as an export of them reads, turned into Keycloak users that keep
everything a user signs in with.

The export (JSON lines, one principal a line; docs/ucloud-export.md shows one of each):

    {"type": "password", "id": "alice", "role": "ADMIN", "firstNames": "Alice",
     "lastName": "Ng", "email": "alice@example.org", "uid": 17, "title": null,
     "phoneNumber": null, "orcId": null, "organizationId": null,
     "serviceLicenseAgreement": 2, "passwordHash": "<base64>", "salt": "<base64>",
     "hashIterations": 10000, "totpSecret": "<base32>"}
    {"type": "wayf", "id": "Bo#4721", "role": "USER", "wayfId": "bo@sdu.dk",
     "organizationId": "sdu.dk", ...}

- A PASSWORD user keeps the password: UCloud's PBKDF2WithHmacSHA512 hash (16-byte salt,
  10,000 iterations, 256-bit key) goes in as Keycloak's `pbkdf2-sha512` credential, which
  Keycloak verifies at the key's own length (checked against Keycloak 26.7: its provider
  takes the key size from the stored hash). At the first sign-in Keycloak re-hashes the
  password with the realm's algorithm.
- A TOTP secret stays the secret the authenticator app holds (base32, as apps take it;
  Keycloak's credential says `secretEncoding: BASE32`). A PASSWORD user without one is
  asked to set one up at the next sign-in (UCloud's rule).
- A WAYF user is linked to the `wayf` identity provider by the WAYF id (the
  eduPersonTargetedID the provider takes as the principal), so the next WAYF sign-in
  finds the account instead of making another.
- uid, role, title, phone number, ORCID, organization and the accepted terms version
  become attributes and roles (see the realm's user profile)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]
WAYF_PROVIDER = "wayf"
ROLES = {"USER", "ADMIN", "SERVICE", "PROVIDER", "THIRD_PARTY_APP"}
DEFAULT_ITERATIONS = 10_000  # UCloud's


class PrincipalError(ValueError):
    """A principal the export holds that cannot become a Keycloak user, and why."""


@dataclass(frozen=True)
class Migrated:
    user: Json  # Keycloak's UserRepresentation
    summary: str  # what the import does with it, in words


def keycloak_user(principal: Json) -> Migrated:
    kind = principal.get("type")
    username = principal.get("id")
    if not isinstance(username, str) or not username.strip():
        raise PrincipalError("id: missing (the username)")
    if kind not in ("password", "wayf"):
        raise PrincipalError(f"type: {kind!r} is not a person (password or wayf); services "
                             "are clients in Keycloak, not users")
    role = str(principal.get("role") or "USER")
    if role not in ROLES:
        raise PrincipalError(f"role: {role!r} is none of {', '.join(sorted(ROLES))}")
    attributes: dict[str, list[str]] = {"principalType": [kind], "ucloudRole": [role]}
    for field, attribute in (("uid", "uid"), ("title", "title"), ("phoneNumber", "phoneNumber"),
                             ("orcId", "orcId"), ("organizationId", "orgId"),
                             ("serviceLicenseAgreement", "serviceLicenseAgreement")):
        value = principal.get(field)
        if value is not None and value != "":
            attributes[attribute] = [str(value)]
    if "uid" in attributes and not attributes["uid"][0].isdigit():
        raise PrincipalError(f"uid: {principal.get('uid')!r} is not a whole number")
    user: Json = {
        "username": username, "enabled": True, "email": principal.get("email") or None,
        # UCloud had the address verified (WAYF sends it, admins typed it in)
        "emailVerified": bool(principal.get("email")),
        "firstName": principal.get("firstNames"), "lastName": principal.get("lastName"),
        "attributes": attributes,
        "realmRoles": [role] if role != "USER" else [],
    }
    said = [f"{kind.upper()} user", f"role {role}"]
    if "uid" in attributes:
        said.append(f"uid {attributes['uid'][0]}")
    if kind == "wayf":
        wayf_id = principal.get("wayfId")
        if not isinstance(wayf_id, str) or not wayf_id:
            raise PrincipalError("wayfId: missing (a WAYF user is found by it at sign-in)")
        attributes["wayfTargetedId"] = [wayf_id]
        user["federatedIdentities"] = [{"identityProvider": WAYF_PROVIDER, "userId": wayf_id,
                                        "userName": wayf_id}]
        said.append(f"linked to WAYF as {wayf_id}")
    credentials: list[Json] = []
    if kind == "password":
        credentials.append(_password(principal))
        said.append("password kept (PBKDF2-SHA512)")
    secret = principal.get("totpSecret")
    if secret:
        credentials.append(_totp(str(secret)))
        said.append("TOTP kept")
    elif kind == "password":
        user["requiredActions"] = ["CONFIGURE_TOTP"]
        said.append("sets up TOTP at the next sign-in")
    if credentials:
        user["credentials"] = credentials
    return Migrated({k: v for k, v in user.items() if v is not None}, ", ".join(said))


def _password(principal: Json) -> Json:
    try:
        digest = base64.b64decode(str(principal.get("passwordHash") or ""), validate=True)
        salt = base64.b64decode(str(principal.get("salt") or ""), validate=True)
    except binascii.Error:
        raise PrincipalError("passwordHash, salt: not base64") from None
    if not digest or not salt:
        raise PrincipalError("passwordHash, salt: a PASSWORD user needs both")
    iterations = principal.get("hashIterations") or DEFAULT_ITERATIONS
    if not isinstance(iterations, int) or iterations < 1:
        raise PrincipalError(f"hashIterations: {iterations!r} is not a positive number")
    return {"type": "password",
            "secretData": json.dumps({"value": base64.b64encode(digest).decode(),
                                      "salt": base64.b64encode(salt).decode(),
                                      "additionalParameters": {}}),
            "credentialData": json.dumps({"hashIterations": iterations,
                                          "algorithm": "pbkdf2-sha512",
                                          "additionalParameters": {}})}


def _totp(secret: str) -> Json:
    cleaned = secret.replace(" ", "").upper()
    try:
        base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error:
        raise PrincipalError("totpSecret: not base32 (as authenticator apps take it)") from None
    return {"type": "otp", "userLabel": "Authenticator app (from UCloud)",
            "secretData": json.dumps({"value": cleaned}),
            "credentialData": json.dumps({"subType": "totp", "digits": 6, "counter": 0,
                                          "period": 30, "algorithm": "HmacSHA1",
                                          "secretEncoding": "BASE32"})}

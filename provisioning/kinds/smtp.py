"""The realm's SMTP server. Keycloak stores it as one map and replaces it whole, so
the declared map is compared whole too; the password by fingerprint only."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import same
from provisioning.kinds.base import FINGERPRINT_PREFIX, MASKED, Kind, PlanContext, Section
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Bool, Int, SecretRef, Strict, Text

PASSWORD_FINGERPRINT = FINGERPRINT_PREFIX + "smtp.password"
PASSWORD_REFERENCE = "${env:SMTP_PASSWORD}"  # noqa: S105 (what export writes: no value)


class Smtp(Strict):
    host: Text
    port: Int = Field(default=25, ge=1, le=65535)
    from_: Text = Field(alias="from")
    fromDisplayName: Text | None = None
    replyTo: Text | None = None
    envelopeFrom: Text | None = None
    ssl: Bool = False
    starttls: Bool = False
    auth: Bool = False
    user: Text | None = None
    password: SecretRef | None = None
    timeout: Int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _auth_needs_credentials(self) -> Smtp:
        if self.auth and (not self.user or self.password is None):
            raise ValueError("auth: true needs user and password")
        return self


def smtp_map(smtp: Smtp) -> dict[str, str]:
    """Keycloak's smtpServer map (all strings) without the password."""
    values: dict[str, Any] = {
        "host": smtp.host, "port": smtp.port, "from": smtp.from_,
        "fromDisplayName": smtp.fromDisplayName, "replyTo": smtp.replyTo,
        "envelopeFrom": smtp.envelopeFrom, "ssl": smtp.ssl, "starttls": smtp.starttls,
        "auth": smtp.auth, "user": smtp.user, "timeout": smtp.timeout,
    }
    return {k: (str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in values.items() if v is not None and v != ""}


SMTP = Section[Smtp | None]("smtp", default=None)


class SmtpKind(Kind):
    """The server is declared whole or left alone, never removed."""

    name = "smtp"
    sections = (SMTP,)
    representation: ClassVar = {"smtpServer": dict[str, Any] | None}

    def plan(self, ctx: PlanContext) -> list[Change]:
        smtp = SMTP.of(ctx.config)
        if smtp is None:
            return []
        want = smtp_map(smtp)
        have = {k: v for k, v in (ctx.live.export.get("smtpServer") or {}).items()
                if k != "password"}
        fields = [FieldChange(k, have.get(k), want.get(k))
                  for k in sorted(set(want) | set(have)) if not same(want.get(k), have.get(k))]
        attributes: dict[str, str] = {}
        password = MASKED
        if smtp.password is not None:
            if not smtp.password.matches(ctx.live.attributes.get(PASSWORD_FINGERPRINT)):
                fields.append(FieldChange("password", secret=True))
                assert smtp.password.value is not None
                password = smtp.password.value
                attributes[PASSWORD_FINGERPRINT] = smtp.password.fingerprint()
        elif (ctx.live.export.get("smtpServer") or {}).get("password"):
            fields.append(FieldChange("password", secret=True))
            password = ""
        if not fields:
            return []
        server = {**want, **({"password": password} if password else {})}
        payload: dict[str, Any] = {"smtpServer": server}
        if attributes:
            payload["attributes"] = attributes
        return [Change(self.name, ctx.config.realm, ctx.action, tuple(fields), payload=payload)]

    def apply(self, api: RealmAdmin, change: Change) -> None:
        api.update(change.payload)

    def export(self, live: LiveRealm) -> Json | None:
        """The server as the file declares it (typed values); the password as a
        reference, and only where idpack set it."""
        server = {k: v for k, v in (live.export.get("smtpServer") or {}).items()
                  if v is not None}
        if not server:
            return None  # no server: mail is off
        smtp: Json = {}
        for key, value in server.items():
            if key == "password":
                continue
            if key in ("ssl", "starttls", "auth") and value in (True, False, "true", "false"):
                smtp[key] = value in (True, "true")
            elif key in ("port", "timeout") and str(value).isdigit():
                smtp[key] = int(value)
            else:
                smtp[key] = value  # the schema says what is wrong with it, if anything
        if server.get("password") and live.attributes.get(PASSWORD_FINGERPRINT):
            smtp["password"] = PASSWORD_REFERENCE
        return {"smtp": smtp}

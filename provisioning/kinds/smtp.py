"""The realm's SMTP server. Keycloak stores it as one map and replaces it whole, so
the declared map is compared whole too; the password by fingerprint only."""

from __future__ import annotations

from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import same
from provisioning.kinds.base import FINGERPRINT_PREFIX, MASKED, PlanContext
from provisioning.plan import Change, FieldChange
from provisioning.schema import Smtp

PASSWORD_FINGERPRINT = FINGERPRINT_PREFIX + "smtp.password"


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


class SmtpKind:
    name = "smtp"

    def plan(self, ctx: PlanContext) -> list[Change]:
        smtp = ctx.config.smtp
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

"""The realm's own texts per locale (RealmRepresentation's `localizationTexts`: locale
-> message key -> text), which override the theme's messages. Read from the partial
export. A declared locale's texts are the whole map (keys the file drops go); a locale
the file does not declare is left unless pruned."""

from __future__ import annotations

from typing import ClassVar

from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.kinds.base import Kind, PlanContext, Section
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Text

# locale -> message key -> text: the realm's overrides of its themes' messages.
LOCALIZATION_TEXTS = Section[dict[str, dict[str, Text]] | None](
    "localizationTexts", default=None)


def live_texts(live: LiveRealm) -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = live.export.get("localizationTexts") or {}
    return texts


class LocalizationKind(Kind):
    name = "localization"
    sections = (LOCALIZATION_TEXTS,)
    representation: ClassVar = {"localizationTexts": dict[str, dict[str, str]] | None}
    prune_key = "localizationTexts"

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        have = live_texts(ctx.live)
        pruning = self.prune_key in ctx.prune
        declared = LOCALIZATION_TEXTS.of(ctx.config) or {}
        for locale, texts in declared.items():
            current = have.get(locale, {})
            fields = [FieldChange(key, current.get(key), text)
                      for key, text in sorted(texts.items()) if current.get(key) != text]
            gone = sorted(set(current) - set(texts))
            fields += [FieldChange(key, current[key], None) for key in gone]
            if fields:
                changes.append(Change(self.name, locale, "update" if current else "create",
                                      tuple(fields), payload={
                                          "set": {k: v for k, v in texts.items()
                                                  if current.get(k) != v},
                                          "delete": gone}))
        if pruning:
            changes += [Change(self.name, locale, "delete",
                               (FieldChange("locale", locale, None),), payload={})
                        for locale in sorted(have) if locale not in declared]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "delete":
            api.delete_localization(change.name)
            return
        if change.payload["set"]:
            api.set_localization_texts(change.name, change.payload["set"])
        for key in change.payload["delete"]:
            api.delete_localization_text(change.name, key)

    def export(self, live: LiveRealm) -> Json | None:
        texts = {locale: dict(sorted(t.items())) for locale, t in live_texts(live).items()
                 if live.written(t)}
        return {"localizationTexts": texts} if texts else None

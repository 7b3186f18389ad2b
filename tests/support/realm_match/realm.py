"""Read-back rules for the realm itself: its settings and attributes, SMTP, events,
required actions, localization texts, client profiles and policies, components and
the user profile."""

from __future__ import annotations

import json
from typing import Any

from idpack.keycloak.realm_admin import RealmAdmin
from tests.support.realm_match.rules import (
    BUILT_IN_COMPONENTS,
    COLLECTIONS,
    SECRET_CONFIG,
    USER_PROFILE,
    Check,
    Json,
    by,
)


def settings(document: Json, live: Json, check: Check) -> None:
    for key, want in document.items():
        if key not in COLLECTIONS and not isinstance(want, dict):
            check(key, want, live.get(key))
    for key, want in (document.get("attributes") or {}).items():
        check(f"attributes.{key}", want, (live.get("attributes") or {}).get(key))
    if "smtpServer" in document:
        server = {k: str(v).lower() if isinstance(v, bool) else str(v)
                  for k, v in document["smtpServer"].items() if k != "password"}
        check("smtpServer", server, {k: v for k, v in (live.get("smtpServer") or {}).items()
                                     if k != "password"})
    actions = by(live.get("requiredActions"), "alias")
    for action in document.get("requiredActions") or []:
        have = actions.get(action["alias"]) or {}
        for key, want in action.items():
            if key == "config":
                for name, value in want.items():
                    check(f"requiredActions {action['alias']} config.{name}", value,
                          (have.get("config") or {}).get(name))
            elif key not in ("alias", "name", "providerId"):
                check(f"requiredActions {action['alias']}.{key}", want, have.get(key))


def localization(document: Json, live: Json, check: Check, pruned: bool) -> None:
    texts = live.get("localizationTexts") or {}
    for locale, want in (document.get("localizationTexts") or {}).items():
        check(f"localizationTexts.{locale}", want, texts.get(locale) or {})
    if pruned and "localizationTexts" in document:
        check("undeclared locales (pruned)", [],
              sorted(k for k, v in texts.items() if v and k not in document["localizationTexts"]))


def client_policies(document: Json, live: Json, check: Check, pruned: bool) -> None:
    for field, which in (("clientProfiles", "profiles"), ("clientPolicies", "policies")):
        if field not in document and not pruned:
            continue
        declared = (document.get(field) or {}).get(which) or []
        held = by((live.get(field) or {}).get(which), "name")
        check(f"{field} (whole)", sorted(d["name"] for d in declared), sorted(held))
        for entry in declared:
            have = held.get(entry["name"]) or {}
            for key, want in entry.items():
                if key != "name":
                    check(f"{field} {entry['name']}.{key}", want, have.get(key))


def components(document: Json, live: Json, check: Check, pruned: bool) -> None:
    def walk(declared: Any, held: Any, where: str) -> None:
        for kind, items in (declared or {}).items():
            if kind == USER_PROFILE:
                continue
            have = by([i for i in (held or {}).get(kind) or [] if i.get("name")], "name")
            for item in items:
                got = have.get(item["name"])
                name = f"{where}{kind.rsplit('.', 1)[-1]}/{item['name']}"
                if got is None:
                    check(f"component {name}", "present", None)
                    continue
                check(f"component {name}.providerId", item["providerId"], got.get("providerId"))
                for key, value in (item.get("config") or {}).items():
                    if key not in SECRET_CONFIG:
                        check(f"component {name}.config.{key}", value,
                              (got.get("config") or {}).get(key))
                walk(item.get("subComponents"), got.get("subComponents"), f"{name}/")
            if pruned:
                declared_names = {i["name"] for i in items}
                check(f"undeclared components {where}{kind} (pruned)", [],
                      sorted(set(have) - declared_names - BUILT_IN_COMPONENTS))

    walk(document.get("components"), live.get("components"), "")


def profile_document(document: Json) -> Json | None:
    for provider in (document.get("components") or {}).get(USER_PROFILE) or []:
        raw = (provider.get("config") or {}).get("kc.user.profile.config") or []
        if raw:
            profile: Json = json.loads(raw[0])
            return profile
    return None


def user_profile(api: RealmAdmin, document: Json, check: Check) -> None:
    declared = profile_document(document) or {}
    live = api.user_profile()
    if "unmanagedAttributePolicy" in declared:
        check("userProfile.unmanagedAttributePolicy", declared["unmanagedAttributePolicy"],
              live.get("unmanagedAttributePolicy"))
    held = by(live.get("attributes"), "name")
    for attribute in declared.get("attributes") or []:
        have = held.get(attribute["name"])
        if have is None:
            check(f"user profile attribute {attribute['name']}", "present", None)
            continue
        for key, want in attribute.items():
            if key != "name":
                check(f"user profile attribute {attribute['name']}.{key}", want,
                      have.get(key))

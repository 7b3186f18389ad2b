"""Organizations (Keycloak 26), by name, as OrganizationRepresentation: alias, enabled,
description, redirectUrl, attributes, domains, and the identity providers linked to
them (by alias). A declared organization's fields are exact, its attributes, domains
and linked providers as whole maps and lists. The realm needs
`settings.organizationsEnabled: true`. Read only when the file declares organizations
(or prunes them): one list, and the linked providers of each declared organization."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, ClassVar, Required

from pydantic import AfterValidator, BeforeValidator
from typing_extensions import TypedDict

from idpack.keycloak.errors import KeycloakRequestError
from idpack.keycloak.realm_admin import RealmAdmin
from provisioning.diff import field_changes
from provisioning.kinds.base import Kind, PlanContext, ReadScope, Section, pick, unique
from provisioning.live import Json, LiveRealm
from provisioning.plan import Change, FieldChange
from provisioning.schema_types import Bool, Strict, Text, json_shape

FIELDS = ("alias", "enabled", "description", "redirectUrl", "attributes")


class Domain(Strict):
    name: Text
    verified: Bool = False


class Organization(Strict):
    alias: Text | None = None
    enabled: Bool | None = None
    description: Text | None = None
    redirectUrl: Text | None = None
    attributes: dict[str, list[Text]] | None = None
    domains: list[Domain] | None = None
    identityProviders: list[Text] | None = None  # aliases


ORGANIZATIONS = Section[dict[str, Organization]]("organizations", default_factory=dict)


@json_shape
class DomainJson(TypedDict, total=False):
    name: Required[str]
    verified: bool | None


def _alias(value: Any) -> Any:
    """A linked provider by its alias, or as a full export writes it (an
    IdentityProviderRepresentation, whose alias names it)."""
    return value.get("alias") if isinstance(value, dict) else value


@json_shape
class OrganizationJson(TypedDict, total=False):
    name: Required[str]
    attributes: dict[str, list[str]] | None
    domains: list[DomainJson] | None
    identityProviders: list[Annotated[str, BeforeValidator(_alias)]] | None


def read_organizations(api: RealmAdmin, live: LiveRealm,
                       linked_of: Iterable[str] | None = None) -> None:
    """Add the realm's organizations, and the linked providers of those named (of every
    one when None: export)."""
    try:
        organizations = api.organizations()
    except KeycloakRequestError as exc:
        if exc.status in (400, 403, 404):  # organizations are off in this realm
            return
        raise
    by_name = {o["name"]: o for o in organizations}

    def linked(name: str) -> tuple[str, list[str]]:
        providers = api.organization_identity_providers(by_name[name]["id"])
        return name, sorted(p["alias"] for p in providers)

    with ThreadPoolExecutor(max_workers=4) as pool:
        names = by_name if linked_of is None else [n for n in linked_of if n in by_name]
        links = dict(pool.map(linked, names))
    live.organizations = {name: {**org, "identityProviders": links.get(name)}
                          for name, org in by_name.items()}


def _declared(organization: Organization) -> Json:
    """The fields the file sets, as plain data (domains as dicts)."""
    dumped = organization.model_dump()
    return {k: dumped[k] for k in organization.model_fields_set}


def _domains(value: Any) -> list[tuple[str, bool]]:
    return sorted((d["name"], bool(d.get("verified"))) for d in value or [])


class OrganizationsKind(Kind):
    name = "organization"
    sections = (ORGANIZATIONS,)
    representation: ClassVar = {
        "organizations": Annotated[list[OrganizationJson], AfterValidator(unique("name"))]
        | None}
    prune_key = "organizations"

    def read(self, api: RealmAdmin, live: LiveRealm, scope: ReadScope) -> None:
        if scope.config is None:
            if live.export.get("organizationsEnabled"):
                read_organizations(api, live)
        elif ORGANIZATIONS.of(scope.config) or self.prune_key in scope.prune:
            read_organizations(api, live, ORGANIZATIONS.of(scope.config))

    def plan(self, ctx: PlanContext) -> list[Change]:
        changes = []
        have = ctx.live.organizations
        declared_organizations = ORGANIZATIONS.of(ctx.config)
        for name, organization in declared_organizations.items():
            declared = _declared(organization)
            domains = declared.pop("domains", None)
            providers = declared.pop("identityProviders", None)
            live = have.get(name)
            fields = field_changes(declared, live or {}, exact=("attributes",))
            if domains is not None and _domains(domains) != _domains((live or {}).get(
                    "domains")):
                fields.append(FieldChange("domains", [d for d, _ in _domains(
                    (live or {}).get("domains"))] or None, [d["name"] for d in domains]))
            if providers is not None and sorted(providers) != ((live or {}).get(
                    "identityProviders") or []):
                fields.append(FieldChange("identityProviders",
                                          (live or {}).get("identityProviders") or None,
                                          sorted(providers)))
            if live is None or fields:
                changes.append(Change(self.name, name, "update" if live else "create",
                                      tuple(fields), payload={
                                          "organization": organization, "live": live}))
        if self.prune_key in ctx.prune:
            changes += [Change(self.name, name, "delete", (FieldChange("name", name, None),),
                               payload={"id": live["id"]})
                        for name, live in have.items() if name not in declared_organizations]
        return changes

    def apply(self, api: RealmAdmin, change: Change) -> None:
        if change.action == "delete":
            api.delete_organization(change.payload["id"])
            return
        organization: Organization = change.payload["organization"]
        live: Json | None = change.payload["live"]
        declared = _declared(organization)
        providers = declared.pop("identityProviders", None)
        representation = {**pick(live or {}, ["alias", "enabled", "description",
                                              "redirectUrl", "attributes", "domains"]),
                          "name": change.name, **declared}
        if live is None:
            organization_id = api.create_organization(representation)
            held: list[str] = []
        else:
            organization_id = live["id"]
            api.update_organization(organization_id, {"id": organization_id,
                                                      **representation})
            held = live.get("identityProviders") or []
        if providers is not None:
            for alias in sorted(set(providers) - set(held)):
                api.link_organization_identity_provider(organization_id, alias, True)
            for alias in sorted(set(held) - set(providers)):
                api.link_organization_identity_provider(organization_id, alias, False)

    def export(self, live: LiveRealm) -> Json | None:
        exported = {}
        for name, org in live.organizations.items():
            entry = {k: v for k, v in pick(org, FIELDS).items() if live.written(v)}
            if live.written(org.get("domains")):
                entry["domains"] = [{"name": d, "verified": v}
                                    for d, v in _domains(org["domains"])]
            if live.written(org.get("identityProviders")):
                entry["identityProviders"] = org["identityProviders"]
            exported[name] = entry
        return {"organizations": exported} if exported else None

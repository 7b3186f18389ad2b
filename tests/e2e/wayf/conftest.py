"""Fixtures of the WAYF sign-in: a local SAML identity provider standing in for WAYF's
hub (tests/fakes/saml_idp.py), publishing signed metadata as WAYF does, and the stack of
`make run` with the dev overlay plus one of ours that declares `wayf` as
environments/production.yaml does: on, from the metadata URL, believed only when signed
by the pinned metadata-signing certificate. Everything else (mappers, NameID policy,
principal) is realm-config/mikrocloud.yaml's own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from idpack.keycloak.target import KeycloakTarget
from tests.e2e.stack import REPO, Stack, running_stack
from tests.fakes.saml_idp import SamlIdentityProvider, saml_identity_provider


@dataclass(frozen=True)
class WayfStack:
    stack: Stack
    idp: SamlIdentityProvider
    files: list[Path]  # the realm files the stack applied

    @property
    def sp_descriptor_url(self) -> str:
        realm = f"{self.stack.keycloak_url}/realms/{self.stack.realm}"
        return f"{realm}/broker/wayf/endpoint/descriptor"


def wayf_overlay(folder: Path, idp: SamlIdentityProvider) -> Path:
    """The overlay merged over mikrocloud.yaml and dev.yaml: production.yaml's `wayf`,
    with the stand-in's URL, entity and metadata-signing certificate."""
    overlay = folder / "wayf-overlay.yaml"
    overlay.write_text(yaml.safe_dump({"identityProviders": {"wayf": {
        "enabled": True,
        "metadata": {"file": None, "url": idp.signed_metadata_url,
                     "entityId": idp.entity_id, "signedBy": [idp.metadata_signer_fingerprint]},
    }}}))
    return overlay


@pytest.fixture(scope="package")
def wayf(keycloak: KeycloakTarget,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[WayfStack]:
    folder = tmp_path_factory.mktemp("wayf")
    with saml_identity_provider(folder / "idp") as idp:
        overlay = wayf_overlay(folder, idp)
        with running_stack(keycloak, folder, overlays=["dev", str(overlay)]) as stack:
            realm_config = REPO / "realm-config"
            running = WayfStack(stack, idp, [realm_config / "mikrocloud.yaml",
                                             realm_config / "environments" / "dev.yaml",
                                             overlay])
            descriptor = requests.get(running.sp_descriptor_url, timeout=10)
            descriptor.raise_for_status()
            (folder / "keycloak-sp-metadata.xml").write_text(descriptor.text)  # for a look
            idp.trust_service_provider(descriptor.text)  # as WAYF registers its SPs
            yield running

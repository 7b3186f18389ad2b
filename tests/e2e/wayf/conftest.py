"""Fixtures of the WAYF sign-in: a local SAML identity provider standing in for WAYF's
hub (tests/fakes/saml_idp.py), its metadata written to a file, and the stack of `make
run` with the dev overlay plus one of ours that switches `wayf` on and points its
`metadata.file` at that file (an absolute path: a relative one is read from the realm
file's folder, realm-config/)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from idpack.keycloak.target import KeycloakTarget
from tests.e2e.stack import Stack, running_stack
from tests.fakes.saml_idp import SamlIdentityProvider, saml_identity_provider


@dataclass(frozen=True)
class WayfStack:
    stack: Stack
    idp: SamlIdentityProvider
    metadata_file: Path  # the IdP metadata the realm imported

    @property
    def sp_descriptor_url(self) -> str:
        realm = f"{self.stack.keycloak_url}/realms/{self.stack.realm}"
        return f"{realm}/broker/wayf/endpoint/descriptor"


# Until realm-config/mikrocloud.yaml says so itself: each mapper's attribute is requested
# in Keycloak's SP metadata (RequestedAttribute) with the uri NameFormat of urn:oid names,
# as WAYF sends them. Keycloak's default, basic, requests names the IdP never sends, and
# an IdP releasing what the SP requests (as this one does, and WAYF by registration)
# releases nothing, not even the principal attribute.
URI_NAME_FORMAT = {"config": {"attribute.name.format": "ATTRIBUTE_FORMAT_URI"}}
WAYF_MAPPERS = ("eduPersonTargetedID", "mail", "gn", "sn", "schacHomeOrganization")


def wayf_overlay(folder: Path, metadata_file: Path) -> Path:
    """The overlay merged over mikrocloud.yaml and dev.yaml: WAYF on, from our metadata."""
    overlay = folder / "wayf-overlay.yaml"
    overlay.write_text(yaml.safe_dump({"identityProviders": {"wayf": {
        "enabled": True,
        "metadata": {"file": str(metadata_file.resolve())},
        "mappers": {name: URI_NAME_FORMAT for name in WAYF_MAPPERS},
    }}}))
    return overlay


@pytest.fixture(scope="package")
def wayf(keycloak: KeycloakTarget,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[WayfStack]:
    folder = tmp_path_factory.mktemp("wayf")
    with saml_identity_provider(folder / "idp") as idp:
        metadata_file = folder / "metadata" / "wayf-test-idp.xml"
        metadata_file.parent.mkdir()
        metadata_file.write_text(idp.metadata_xml())
        overlay = wayf_overlay(folder, metadata_file)
        with running_stack(keycloak, folder, overlays=["dev", str(overlay)]) as stack:
            running = WayfStack(stack, idp, metadata_file)
            descriptor = requests.get(running.sp_descriptor_url, timeout=10)
            descriptor.raise_for_status()
            (folder / "keycloak-sp-metadata.xml").write_text(descriptor.text)  # for a look
            idp.trust_service_provider(descriptor.text)  # as WAYF registers its SPs
            yield running

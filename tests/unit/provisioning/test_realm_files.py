"""Validation of realm files: every error names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.config import load_config
from provisioning.kinds.clients import CLIENTS
from provisioning.kinds.identity_providers import IDENTITY_PROVIDERS
from provisioning.kinds.realm_settings import SETTINGS
from provisioning.kinds.required_actions import REQUIRED_ACTIONS
from provisioning.kinds.smtp import SMTP
from provisioning.source import ConfigError

REPO = Path(__file__).resolve().parents[3]
MIKROCLOUD = REPO / "realm-config" / "mikrocloud.yaml"
SECRETS = {name: f"test-{name.lower()}" for name in (
    "IDPACK_SIDECAR_CLIENT_SECRET", "IDPACK_PASSWORD_CHECK_CLIENT_SECRET",
    "EXAMPLE_SERVICE_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_SECRET",
    "MICROSOFT_CLIENT_SECRET")} | {"GOOGLE_CLIENT_ID": "g", "GITHUB_CLIENT_ID": "h",
                                   "MICROSOFT_CLIENT_ID": "m"}


def write(tmp_path: Path, text: str, name: str = "realm.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems(paths: list[Path], env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env or {})
    return caught.value.problems


def test_the_mikrocloud_realm_file_is_valid() -> None:
    config = load_config([MIKROCLOUD], SECRETS).config

    assert config.realm == "mikrocloud"
    assert SETTINGS.of(config).verifyEmail is True
    providers = IDENTITY_PROVIDERS.of(config)
    assert providers["google"].config["defaultScope"] == "openid profile email"
    assert providers["github"].config["defaultScope"] == "openid user email"
    assert REQUIRED_ACTIONS.of(config)["VERIFY_EMAIL"].config == {
        "emailResendCooldownSeconds": "1"}


def test_an_unknown_field_names_file_line_path_and_the_likely_intent(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nsettings:\n  verifyEmail: true\n  registrationAlowed: true\n")

    assert problems([path]) == [
        f"{path}:4: settings.registrationAlowed: unknown field 'registrationAlowed' "
        "(did you mean 'registrationAllowed'?)"]


def test_a_wrong_type_deep_in_a_mapping_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nclients:\n  portal:\n    publicClient: true\n"
                           "    redirectUris: https://not-a-list\n")

    [problem] = problems([path])
    assert problem.startswith(f"{path}:5: clients.portal.redirectUris: ")
    assert "list" in problem


def test_bad_references_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nroles:\n  USER: {}\ndefaultRoles: [USER, ADMN]\n"
                           "clients:\n  svc:\n    serviceAccountsEnabled: true\n"
                           "    serviceAccountRoles:\n      realm: [SERVICE]\n"
                           "      clients: {realm-management: [view-user]}\n")

    assert problems([path]) == [
        f"{path}:4: defaultRoles[1]: role 'ADMN' is not declared under roles",
        f"{path}:9: clients.svc.serviceAccountRoles.realm[0]: role 'SERVICE' is not "
        "declared under roles",
        f"{path}:10: clients.svc.serviceAccountRoles.clients.realm-management[0]: "
        "realm-management has no role 'view-user'",
    ]


def test_a_literal_secret_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nclients:\n  svc:\n    secret: hunter2\n")

    [problem] = problems([path])
    assert problem.startswith(f"{path}:4: clients.svc.secret: a secret must be a reference")
    assert "hunter2" not in problem


def test_a_missing_secret_is_an_error_unless_its_object_is_disabled(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nidentityProviders:\n"
                           "  on: {providerId: oidc, clientSecret: '${env:ON_SECRET}'}\n"
                           "  off: {providerId: oidc, enabled: false,"
                           " clientSecret: '${env:OFF_SECRET}'}\n")

    assert problems([path]) == [
        f"{path}:3: identityProviders.on.clientSecret: secret ${{env:ON_SECRET}}: "
        "environment variable ON_SECRET is not set"]


def test_secrets_come_from_files_and_never_show(tmp_path: Path) -> None:
    write(tmp_path, "s3cr3t-from-file\n", "secrets/svc")
    path = write(tmp_path, "realm: r\nclients:\n  svc: {secret: '${file:secrets/svc}'}\n")

    secret = CLIENTS.of(load_config([path], {}).config)["svc"].secret

    assert secret is not None
    assert secret.value == "s3cr3t-from-file"
    assert "s3cr3t" not in repr(secret)
    assert "s3cr3t" not in str(secret)


def test_an_overlay_merges_over_the_base_and_keeps_its_own_lines(tmp_path: Path) -> None:
    base = write(tmp_path, "realm: r\nsettings:\n  verifyEmail: true\n  displayName: Base\n")
    overlay = write(tmp_path, "settings:\n  displayName: Dev\n  rememberMe: maybe\n",
                    "environments/dev.yaml")

    [problem] = problems([base, overlay])
    assert problem.startswith(f"{overlay}:3: settings.rememberMe: ")
    config = load_config([base, write(tmp_path, "settings: {displayName: Dev}\n", "d.yaml")],
                         {}).config
    settings = SETTINGS.of(config)
    assert (settings.displayName, settings.verifyEmail) == ("Dev", True)


def test_env_references_fill_plain_values_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nsmtp:\n  host: ${env:SMTP_HOST:-127.0.0.1}\n"
                           "  port: ${env:SMTP_PORT}\n  from: a@b.c\n")

    smtp = SMTP.of(load_config([path], {"SMTP_PORT": "2525"}).config)

    assert smtp is not None
    assert (smtp.host, smtp.port) == ("127.0.0.1", 2525)
    assert problems([path]) == [f"{path}:4: smtp.port: environment variable SMTP_PORT is not set"]


def test_unknown_password_policies_and_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nsettings:\n  passwordPolicy: length(8) and upperCse(1)\n"
                           "  verifyEmail: true\n  verifyEmail: false\n")

    found = problems([path])
    assert found == [f"{path}:5: settings.verifyEmail: appears twice in the same mapping"]
    fixed = write(tmp_path, "realm: r\nsettings:\n  passwordPolicy: length(8) and upperCse(1)\n")
    [problem] = problems([fixed])
    assert problem.startswith(f"{fixed}:3: settings.passwordPolicy: unknown password policy "
                              "'upperCse'")


def test_broken_yaml_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "realm: r\nsettings:\n  displayName: [unclosed\n")

    [problem] = problems([path])
    assert problem.startswith(f"{path}:4: not valid YAML")


def test_production_takes_no_laptop_default_and_names_each_variable() -> None:
    production = MIKROCLOUD.parent / "environments" / "production.yaml"

    found = problems([MIKROCLOUD, production])

    for field, variable in (("clients.portal.rootUrl", "IDPACK_PORTAL_URL"),
                            ("clients.portal.redirectUris[0]", "IDPACK_PORTAL_URL"),
                            ("smtp.host", "IDPACK_SMTP_HOST"),
                            ("smtp.port", "IDPACK_SMTP_PORT")):
        assert any("production.yaml:" in p and f"{field}: environment variable {variable} "
                   "is not set" in p for p in found), (field, found)
    config = load_config([MIKROCLOUD, production], {
        **SECRETS, "IDPACK_PORTAL_URL": "https://id.example.org",
        "IDPACK_SMTP_HOST": "proxy", "IDPACK_SMTP_PORT": "2525"}).config
    assert CLIENTS.of(config)["portal"].rootUrl == "https://id.example.org"
    wayf = IDENTITY_PROVIDERS.of(config)["wayf"]
    assert wayf.enabled is True
    assert wayf.metadata is not None
    assert wayf.metadata.url == "https://metadata.wayf.dk/wayf-metadata.xml"
    assert wayf.metadata.entityId == "https://wayf.wayf.dk"
    assert wayf.metadata.signedBy == [
        "sha1:3D:61:09:30:52:74:C6:95:3A:DE:46:D0:EC:7B:36:00:81:6D:97:54"]


def test_every_environment_declares_whether_each_provider_is_on() -> None:
    """Applying one environment over a realm another one made leaves no provider as
    the other one set it: `enabled` is declared for each, in the base or the overlay."""
    import yaml

    base = yaml.safe_load(MIKROCLOUD.read_text())["identityProviders"]
    assert all("enabled" in provider for provider in base.values()), base

"""The security settings of realm-config/mikrocloud.yaml that only hold together:
read from the file as `idpack realm apply` reads it, without a server."""

from __future__ import annotations

from provisioning.kinds.authentication_flows import FLOWS
from provisioning.kinds.clients import CLIENTS
from provisioning.kinds.default_roles import DEFAULT_ROLES
from provisioning.kinds.flow_steps import FlowExecution
from provisioning.kinds.identity_providers import IDENTITY_PROVIDERS
from provisioning.kinds.realm_settings import SETTINGS
from provisioning.schema import RealmConfig
from tests.support.realm import load

FIRST_LOGIN = "mikrocloud first broker login"


def config() -> RealmConfig:
    return load("mikrocloud").config


def steps(executions: list[FlowExecution]) -> list[str]:
    """Every authenticator of a flow, its sub-flows' included."""
    found: list[str] = []
    for step in executions:
        found += steps(step.executions) if step.flowAlias else [str(step.authenticator)]
    return found


def test_a_provider_is_trusted_only_through_the_flow_that_proves_its_address() -> None:
    realm = config()
    first_login = FLOWS.of(realm)[FIRST_LOGIN]

    assert "idp-email-verification" in steps(first_login.executions)
    assert "idp-auto-link" not in steps(first_login.executions)
    for alias, provider in IDENTITY_PROVIDERS.of(realm).items():
        if provider.trustEmail:
            assert provider.firstBrokerLoginFlowAlias == FIRST_LOGIN, alias


def test_the_realm_binds_its_own_flows() -> None:
    settings = SETTINGS.of(config())

    assert (settings.browserFlow, settings.resetCredentialsFlow, settings.directGrantFlow) == (
        "mikrocloud browser", "mikrocloud reset credentials", "mikrocloud direct grant")


def test_the_reset_flow_asks_a_second_factor_and_adds_none_beside_it() -> None:
    reset = FLOWS.of(config())["mikrocloud reset credentials"].executions
    names = [step.flowAlias or step.authenticator for step in reset]

    assert names.index("mikrocloud reset second factor") < names.index("reset-password")
    assert "reset-otp" not in steps(reset)


def test_no_client_takes_a_password_for_a_token() -> None:
    clients, flows = CLIENTS.of(config()), FLOWS.of(config())
    direct = {name for name, client in clients.items() if client.directAccessGrantsEnabled}

    assert direct == {"idpack-password-check"}
    check = clients["idpack-password-check"].authenticationFlowBindingOverrides or {}
    assert "reset-password" in steps(flows[check["direct_grant"]].executions)
    assert "direct-grant-validate-otp" in steps(flows["mikrocloud direct grant"].executions)
    assert clients["admin-cli"].enabled is False


def test_new_users_get_no_offline_access() -> None:
    assert DEFAULT_ROLES.of(config()) == ["USER"]

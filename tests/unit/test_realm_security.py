"""The security settings of realm-config/mikrocloud.yaml that only hold together:
read from the file as `idpack realm apply` reads it, without a server."""

from __future__ import annotations

from provisioning.kinds.flow_steps import FlowExecution
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
    first_login = realm.authenticationFlows[FIRST_LOGIN]

    assert "idp-email-verification" in steps(first_login.executions)
    assert "idp-auto-link" not in steps(first_login.executions)
    for alias, provider in realm.identityProviders.items():
        if provider.trustEmail:
            assert provider.firstBrokerLoginFlowAlias == FIRST_LOGIN, alias


def test_the_realm_binds_its_own_flows() -> None:
    settings = config().settings

    assert (settings.browserFlow, settings.resetCredentialsFlow, settings.directGrantFlow) == (
        "mikrocloud browser", "mikrocloud reset credentials", "mikrocloud direct grant")


def test_the_reset_flow_asks_a_second_factor_and_adds_none_beside_it() -> None:
    reset = config().authenticationFlows["mikrocloud reset credentials"].executions
    names = [step.flowAlias or step.authenticator for step in reset]

    assert names.index("mikrocloud reset second factor") < names.index("reset-password")
    assert "reset-otp" not in steps(reset)


def test_no_client_takes_a_password_for_a_token() -> None:
    realm = config()
    direct = {name for name, client in realm.clients.items() if client.directAccessGrantsEnabled}

    assert direct == {"idpack-password-check"}
    check = realm.clients["idpack-password-check"].authenticationFlowBindingOverrides or {}
    assert "reset-password" in steps(realm.authenticationFlows[check["direct_grant"]].executions)
    assert "direct-grant-validate-otp" in steps(
        realm.authenticationFlows["mikrocloud direct grant"].executions)
    assert realm.clients["admin-cli"].enabled is False


def test_new_users_get_no_offline_access() -> None:
    assert config().defaultRoles == ["USER"]

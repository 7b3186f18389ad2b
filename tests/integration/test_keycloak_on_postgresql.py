"""The harness runs Keycloak on PostgreSQL when IDPACK_KEYCLOAK_DB_URL names one (the
production stack's database, without the rest of the stack)."""

from __future__ import annotations

from pathlib import Path

from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.harness import start_ephemeral_keycloak
from tests.integration.conftest import Postgres
from tests.support.keycloak import harness_settings


def test_the_harness_runs_keycloak_on_postgresql(postgres: Postgres, tmp_path: Path) -> None:
    settings = harness_settings().model_copy(update={
        "database_url": f"jdbc:postgresql://127.0.0.1:{postgres.port}/{postgres.database}",
        "database_user": postgres.user, "database_password": postgres.password})
    assert settings.database_vendor == "postgres"
    server = start_ephemeral_keycloak(tmp_path / "keycloak", settings)
    try:
        assert server.dist.home.name.endswith("-postgres")  # a build of its own
        admin = KeycloakAdminClient.connect(server.target)
        admin.create_realm({"realm": "on-postgresql", "enabled": True})
        assert "on-postgresql" in admin.realm_names()
    finally:
        server.stop()
    # What Keycloak stored is in PostgreSQL, not in an H2 file of the instance.
    assert sorted(postgres.psql("select name from realm").split()) == ["master", "on-postgresql"]
    assert not list((tmp_path / "keycloak").rglob("*.mv.db"))

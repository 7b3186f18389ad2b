"""The geo worker's settings: the sidecar's way to Keycloak, and the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extensions.geo.settings import GeoSettings, packaged_database
from idpack.errors import IdpackError

SECRET = {"IDPACK_SIDECAR_CLIENT_SECRET": "s3cret"}


def test_defaults_use_the_packaged_geolite2_database_and_half_a_second(tmp_path: Path) -> None:
    settings = GeoSettings.from_env({**SECRET, "KEYCLOAK_URL": "http://kc.test/",
                                     "IDPACK_HOME": str(tmp_path)})

    assert settings.keycloak_url == "http://kc.test"
    assert (settings.realm, settings.client_id) == ("mikrocloud", "idpack-sidecar")
    assert settings.client_secret == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.database == packaged_database()
    assert settings.database.name == "GeoLite2-City.mmdb"
    assert settings.poll_seconds == 0.5
    assert settings.store == str(tmp_path / "store.sqlite")


def test_keycloak_comes_from_stack_json_and_the_rest_from_the_environment(
        tmp_path: Path) -> None:
    stack = tmp_path / "stack.json"
    stack.write_text(json.dumps({"keycloak_url": "http://127.0.0.1:8080", "realm": "mc"}))
    database = tmp_path / "city.mmdb"
    database.write_bytes(b"")

    settings = GeoSettings.from_env({**SECRET, "GEOIP_DB": str(database),
                                     "IDPACK_STORE": "redis://127.0.0.1:6379/0",
                                     "IDPACK_GEO_POLL_SECONDS": "2",
                                     "IDPACK_HOME": str(tmp_path)})

    assert (settings.keycloak_url, settings.realm) == ("http://127.0.0.1:8080", "mc")
    assert settings.database == database
    assert settings.store == "redis://127.0.0.1:6379/0"
    assert settings.poll_seconds == 2.0


@pytest.mark.parametrize(("env", "message"), [
    ({"KEYCLOAK_URL": "http://kc.test"}, "IDPACK_SIDECAR_CLIENT_SECRET"),
    ({**SECRET, "KEYCLOAK_URL": "http://kc.test", "GEOIP_DB": "/nowhere/city.mmdb"},
     "GEOIP_DB='/nowhere/city.mmdb' is not a file"),
    ({**SECRET, "KEYCLOAK_URL": "http://kc.test", "IDPACK_GEO_POLL_SECONDS": "soon"},
     "IDPACK_GEO_POLL_SECONDS='soon': Input should be a valid number"),
    ({**SECRET, "KEYCLOAK_URL": "http://kc.test", "IDPACK_GEO_POLL_SECONDS": "0"},
     "must be above 0"),
])
def test_bad_settings_are_named(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(IdpackError, match=message):
        GeoSettings.from_env({**env, "IDPACK_HOME": str(tmp_path)})

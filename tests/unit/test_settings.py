from __future__ import annotations

from pathlib import Path

import pytest

from idpack.commands.stack_files import StackSettings
from idpack.errors import IdpackError
from idpack.keycloak.settings import KEYCLOAK_VERSION, HarnessSettings
from idpack.settings import IdpackSettings


def test_harness_defaults_pin_keycloak_and_cache_outside_the_repo() -> None:
    settings = HarnessSettings.from_env({"XDG_CACHE_HOME": "/var/cache/u"})

    assert settings.keycloak_version == KEYCLOAK_VERSION
    assert KEYCLOAK_VERSION.startswith("26.")
    assert settings.cache_dir == Path("/var/cache/u/idpack")
    assert settings.jvm_dirs == (Path("/usr/lib/jvm"),)


def test_harness_settings_come_from_the_environment() -> None:
    settings = HarnessSettings.from_env({
        "IDPACK_CACHE_DIR": "/c", "IDPACK_JVM_DIRS": "/a:/b",
        "IDPACK_KEYCLOAK_START_TIMEOUT": "90", "IDPACK_KEYCLOAK_VERSION": "26.5.6",
    })

    assert settings.cache_dir == Path("/c")
    assert settings.jvm_dirs == (Path("/a"), Path("/b"))
    assert settings.start_timeout == 90.0
    assert settings.keycloak_version == "26.5.6"


def test_stack_defaults_are_the_fixed_local_ports() -> None:
    settings = StackSettings.from_env({})

    assert (settings.host, settings.keycloak_port, settings.management_port) == (
        "127.0.0.1", 8080, 9000)
    assert settings.realm == "mikrocloud"
    assert settings.state_dir == Path(".idpack").resolve()


def test_a_port_that_is_not_a_number_is_named() -> None:
    with pytest.raises(IdpackError, match="IDPACK_KEYCLOAK_PORT='http': Input should be a "
                                          "valid integer"):
        StackSettings.from_env({"IDPACK_KEYCLOAK_PORT": "http"})


BASE_ENV = {"KEYCLOAK_URL": "http://127.0.0.1:8080", "IDPACK_SIDECAR_CLIENT_SECRET": "s",
            "IDPACK_GEO_CLIENT_SECRET": "s", "IDPACK_PORTAL_CLIENT_SECRET": "s",
            "IDPACK_PORTAL_SECRET_KEY": "k" * 32, "IDPACK_HOME": "/var/lib/idpack"}


def every_store_setting() -> list[tuple[type[IdpackSettings], str]]:
    from extensions.geo.settings import GeoSettings
    from extensions.portal.settings import PortalSettings
    from extensions.sidecar.settings import SidecarSettings
    from mail.settings import RelaySettings

    return [(SidecarSettings, "IDPACK_STORE"), (SidecarSettings, "IDPACK_SIDECAR_INDEX"),
            (RelaySettings, "IDPACK_STORE"), (GeoSettings, "IDPACK_STORE"),
            (PortalSettings, "IDPACK_STORE")]


@pytest.mark.parametrize(("settings", "variable"), every_store_setting())
def test_a_store_url_of_another_kind_is_named_not_taken_for_a_file_name(
        settings: type[IdpackSettings], variable: str) -> None:
    """`postgres://db/idpack` once became an SQLite file `postgres:/db/idpack` in the
    working folder, silently."""
    with pytest.raises(IdpackError, match=f"{variable}='postgres://db/idpack': not a "
                                          "redis://, rediss:// or unix:// URL"):
        settings.from_env({**BASE_ENV, variable: "postgres://db/idpack"})


@pytest.mark.parametrize(("settings", "variable"), every_store_setting())
@pytest.mark.parametrize("location", ["redis://127.0.0.1:6379/0", "rediss://r.example:6380/1",
                                      "unix:///run/redis.sock", "/var/lib/idpack/s.sqlite",
                                      "data/s.sqlite"])
def test_a_redis_url_or_a_file_is_a_store(settings: type[IdpackSettings], variable: str,
                                          location: str) -> None:
    field = {"IDPACK_STORE": "store", "IDPACK_SIDECAR_INDEX": "user_index"}[variable]
    assert getattr(settings.from_env({**BASE_ENV, variable: location}), field) == location

from __future__ import annotations

from pathlib import Path

import pytest

from idpack.commands.stack_files import StackSettings
from idpack.errors import IdpackError
from idpack.keycloak.settings import KEYCLOAK_VERSION, HarnessSettings


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

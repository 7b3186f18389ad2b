"""Which Keycloak idpack talks to, and how its harness gets and starts one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator
from pydantic_settings import NoDecode

from idpack.errors import IdpackError
from idpack.keycloak.target import KeycloakTarget
from idpack.settings import IdpackSettings, setting, state_dir

# The newest Keycloak 26 that Maven Central serves (checked 2026-11-23); it runs on JDK 17,
# 21 and 25. Change it here and nowhere else.
KEYCLOAK_VERSION = "26.7.3"
DEFAULT_REALM = "mikrocloud"


def _path_list(value: Any) -> Any:
    if isinstance(value, str):
        return [Path(p) for p in value.split(os.pathsep) if p]
    return value


class KeycloakTargetSettings(IdpackSettings):
    """An existing Keycloak, as every command that talks to one takes it (DESIGN.md):
    KEYCLOAK_URL with the admin's name and password, else the running local stack's."""

    service = "Keycloak target"
    url: str | None = setting(None, "KEYCLOAK_URL", "An existing Keycloak's base URL; "
                              "unset: the local stack's (or a new one, for tests)",
                              stack_key="keycloak_url")
    admin_user: str | None = setting(None, "KEYCLOAK_ADMIN", "Its admin user (master "
                                     "realm, through admin-cli)", stack_key="admin_user")
    admin_password: str | None = setting(None, "KEYCLOAK_ADMIN_PASSWORD",
                                         "That admin's password", secret=True,
                                         stack_key="admin_password")

    def target(self) -> KeycloakTarget | None:
        """The server these settings name, or None when none is named."""
        if not self.url:
            return None
        return KeycloakTarget.of(self.url, self.admin_user, self.admin_password)


def existing_keycloak(env: Mapping[str, str] | None = None) -> KeycloakTarget | None:
    """The server KEYCLOAK_URL names, or None: tests, benchmarks and `idpack up` then
    start one of their own (never the local stack's: `idpack up` is what writes it)."""
    return KeycloakTargetSettings.from_env(env, stack_file=False).target()


def keycloak_to_talk_to(env: Mapping[str, str] | None = None) -> KeycloakTarget:
    """KEYCLOAK_URL's server, else the running local stack's (every command that talks
    to Keycloak)."""
    settings = KeycloakTargetSettings.from_env(env)
    target = settings.target()
    if target is None:
        raise IdpackError(
            f"No Keycloak to talk to: KEYCLOAK_URL is unset and no local stack runs "
            f"({state_dir(os.environ if env is None else env) / 'stack.json'} does not "
            "exist). Start the local stack with `make run`, or set KEYCLOAK_URL, "
            "KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD.")
    return target


class HarnessSettings(IdpackSettings):
    """Where the Keycloak distribution comes from, and how a server of idpack's starts."""

    service = "Keycloak harness"
    keycloak_version: str = setting(KEYCLOAK_VERSION, "IDPACK_KEYCLOAK_VERSION",
                                    "The Keycloak 26.x to fetch and run")
    cache_dir: Path | None = setting(None, "IDPACK_CACHE_DIR", "Where the distribution "
                                     "is fetched and built (default ~/.cache/idpack)")
    xdg_cache_home: Path | None = setting(None, "XDG_CACHE_HOME", "The user's cache "
                                          "folder, for the default of IDPACK_CACHE_DIR")
    jvm_dirs: Annotated[tuple[Path, ...], NoDecode, BeforeValidator(_path_list)] = setting(
        (Path("/usr/lib/jvm"),), "IDPACK_JVM_DIRS",
        "Folders searched for a JDK 17+, `:`-separated", separator=os.pathsep)
    java_home: Path | None = setting(None, "JAVA_HOME", "The JDK to use, over any other")
    start_timeout: float = setting(240.0, "IDPACK_KEYCLOAK_START_TIMEOUT",
                                   "Seconds to wait for /health/ready")
    themes_dir: Path | None = setting(None, "IDPACK_THEMES_DIR", "Themes to link into "
                                      "every server's instance (make run: idpack's own)")
    database_url: str | None = setting(None, "IDPACK_KEYCLOAK_DB_URL", "A PostgreSQL "
                                       "JDBC URL (jdbc:postgresql://HOST:PORT/DB) for the "
                                       "servers it starts; unset: each its own H2 file")
    database_user: str | None = setting(None, "IDPACK_KEYCLOAK_DB_USER",
                                        "That database's user")
    database_password: str | None = setting(None, "IDPACK_KEYCLOAK_DB_PASSWORD",
                                            "and password", secret=True)

    @model_validator(mode="after")
    def _cache_default(self) -> HarnessSettings:
        if self.cache_dir is None:
            base = self.xdg_cache_home or Path.home() / ".cache"
            self.cache_dir = base / "idpack"
        return self

    @property
    def cache(self) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir

    @property
    def database_vendor(self) -> str:
        """What `kc.sh build --db` the servers need: dev-file (H2) or postgres."""
        if not self.database_url:
            return "dev-file"
        if not self.database_url.startswith("jdbc:postgresql://"):
            raise IdpackError(f"IDPACK_KEYCLOAK_DB_URL={self.database_url!r}: only "
                              "PostgreSQL is supported (jdbc:postgresql://HOST:PORT/DB)")
        return "postgres"

    def database_options(self) -> tuple[list[str], dict[str, str]]:
        """The start options and environment that point a server at the database."""
        if not self.database_url:
            return [], {}
        options = [f"--db-url={self.database_url}"]
        if self.database_user:
            options.append(f"--db-username={self.database_user}")
        # The password goes through the environment, never a command line `ps` shows.
        return options, ({"KC_DB_PASSWORD": self.database_password}
                         if self.database_password else {})

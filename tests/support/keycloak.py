"""The Keycloak tests and benchmarks run against: KEYCLOAK_URL's, or a throwaway one of
the pinned distribution with idpack's themes, as `make run` starts it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from idpack.keycloak.harness import keycloak_from_env_or_ephemeral
from idpack.keycloak.settings import HarnessSettings
from idpack.keycloak.target import KeycloakTarget

THEMES = Path(__file__).resolve().parents[2] / "extensions" / "themes"


def harness_settings() -> HarnessSettings:
    return HarnessSettings.from_env(stack_file=False, themes_dir=THEMES)


@contextmanager
def keycloak_for_tests(instance_dir: Path) -> Iterator[KeycloakTarget]:
    with keycloak_from_env_or_ephemeral(instance_dir, settings=harness_settings()) as target:
        yield target

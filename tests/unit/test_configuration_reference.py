"""One source of truth for configuration: the README's tables are the settings classes'
own, and each class reads and writes its variables the same way."""

from __future__ import annotations

import re
from pathlib import Path

from idpack.commands.config import services
from idpack.settings import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_tables() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- settings:start[^>]*-->\n(.*?)<!-- settings:end -->", text, re.S)
    assert found, "README.md lacks the settings tables between their markers"
    return found.group(1)


def test_the_readme_lists_exactly_the_variables_of_the_settings_classes() -> None:
    listed = set(re.findall(r"^\| `([A-Z_]+)` \|", readme_tables(), re.M))
    declared = {variable for cls in services().values() for variable in cls.variables()}

    assert listed == declared
    assert readme_tables() == markdown_table(services().values()), (
        "regenerate the README's tables: idpack config --markdown")


def test_every_variable_belongs_to_one_name_and_settings_survive_their_environment(
        tmp_path: Path) -> None:
    for cls in services().values():
        for variable, (_, field) in cls.variables().items():
            assert re.fullmatch(r"(IDPACK|KEYCLOAK)_[A-Z_]+|GEOIP_DB|JAVA_HOME|"
                                r"XDG_CACHE_HOME", variable), variable
            assert field.description, f"{cls.__name__}: {variable} has no description"
    environment = {"IDPACK_HOME": str(tmp_path), "KEYCLOAK_URL": "http://kc.test",
                   "KEYCLOAK_ADMIN": "admin", "KEYCLOAK_ADMIN_PASSWORD": "pw",
                   "IDPACK_SIDECAR_CLIENT_SECRET": "s", "IDPACK_RELAY_NETWORKS": "10.0.0.0/8"}
    for cls in services().values():
        settings = cls.from_env(environment, stack_file=False)
        assert cls.from_env(settings.to_env(), stack_file=False) == settings, cls.__name__

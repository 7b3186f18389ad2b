from __future__ import annotations

import stat
from pathlib import Path

import pytest

from idpack.errors import IdpackError
from idpack.keycloak.java import find_jdk, installed_jdks


def fake_jdk(root: Path, name: str, version: str) -> Path:
    """A JDK folder as Debian and Temurin lay them out, known by its `release` file."""
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\nexit 1\n")
    (home / "release").write_text(f'IMPLEMENTOR="Test"\nJAVA_VERSION="{version}"\n')
    return home


def fake_java_on_path(folder: Path, home: Path, version: str) -> Path:
    """A `java` that answers -XshowSettings:properties like a real one."""
    folder.mkdir(parents=True, exist_ok=True)
    java = folder / "java"
    java.write_text(
        "#!/bin/sh\n"
        f"echo 'Property settings:' >&2\necho '    java.home = {home}' >&2\n"
        f"echo '    java.version = {version}' >&2\n"
    )
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return java


def test_prefers_the_newest_jdk_21_or_later_under_the_jvm_folder(tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    fake_jdk(jvm, "java-17-openjdk-amd64", "17.0.15")
    fake_jdk(jvm, "temurin-25-jdk-amd64", "25.0.3")
    fake_jdk(jvm, "java-21-openjdk-amd64", "21.0.8")
    on_path = fake_java_on_path(tmp_path / "bin", tmp_path / "other", "17.0.2")

    jdk = find_jdk([jvm], search_path=str(on_path.parent))

    assert jdk.major == 25
    assert jdk.home == (jvm / "temurin-25-jdk-amd64").resolve()


def test_links_to_the_same_jdk_count_once(tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    home = fake_jdk(jvm, "java-17-openjdk-amd64", "17.0.15")
    (jvm / "java-1.17.0-openjdk-amd64").symlink_to(home)

    assert [j.version for j in installed_jdks([jvm])] == ["17.0.15"]


def test_java_home_wins_when_set(tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    fake_jdk(jvm, "temurin-25-jdk-amd64", "25.0.3")
    chosen = tmp_path / "chosen"
    fake_java_on_path(chosen / "bin", chosen, "21.0.1")

    jdk = find_jdk([jvm], java_home=chosen)

    assert (jdk.home, jdk.major) == (chosen, 21)


def test_java_17_on_path_is_used_when_nothing_newer_is_installed(tmp_path: Path) -> None:
    java = fake_java_on_path(tmp_path / "bin", tmp_path / "jdk17", "17.0.15")

    jdk = find_jdk([tmp_path / "no-jvm-here"], search_path=str(java.parent))

    assert jdk.version == "17.0.15"


def test_too_old_java_names_the_version_needed(tmp_path: Path) -> None:
    java = fake_java_on_path(tmp_path / "bin", tmp_path / "jdk11", "11.0.22")

    with pytest.raises(IdpackError, match=r"Java 11\.0\.22; Keycloak 26 needs Java 17"):
        find_jdk([], search_path=str(java.parent))


def test_no_java_anywhere_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(IdpackError) as caught:
        find_jdk([tmp_path / "jvm"], search_path=str(tmp_path))

    assert "No Java found" in str(caught.value)
    assert "apt-get install openjdk-17-jdk-headless" in str(caught.value)


def test_java_home_without_a_jdk_is_named(tmp_path: Path) -> None:
    with pytest.raises(IdpackError, match=f"JAVA_HOME={tmp_path} does not hold a working JDK"):
        find_jdk([], java_home=tmp_path)

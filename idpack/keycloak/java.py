"""Find a JDK that runs Keycloak 26: JAVA_HOME if set, else the newest JDK 21+ installed
under the JVM folders (/usr/lib/jvm), else `java` on PATH."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from idpack.errors import IdpackError

MINIMUM_MAJOR = 17  # Keycloak 26 still runs on 17, but deprecates it
PREFERRED_MAJOR = 21

INSTALL_HINT = (
    "Install a JDK 21 or newer (Debian: apt-get install openjdk-17-jdk-headless works too, "
    "but 17 is deprecated by Keycloak) or set JAVA_HOME to one."
)


@dataclass(frozen=True)
class Jdk:
    home: Path
    major: int
    version: str

    @property
    def java(self) -> Path:
        return self.home / "bin" / "java"


def _major(version: str) -> int:
    first = version.split(".")[0]
    # "1.8.0_392" is Java 8
    return int(version.split(".")[1]) if first == "1" else int(re.sub(r"\D.*", "", first))


def _release_version(home: Path) -> str | None:
    """The JAVA_VERSION line of a JDK's `release` file, without running it."""
    try:
        text = (home / "release").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="([^"]+)"', text, re.MULTILINE)
    return match.group(1) if match else None


def probe(java: Path) -> Jdk | None:
    """Ask a `java` binary for its home and version; None if it does not run."""
    try:
        result = subprocess.run(
            [str(java), "-XshowSettings:properties", "-version"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    props = dict(re.findall(r"^\s*(java\.home|java\.version) = (.*)$", result.stderr, re.M))
    if result.returncode != 0 or "java.home" not in props or "java.version" not in props:
        return None
    version = props["java.version"].strip()
    return Jdk(home=Path(props["java.home"].strip()), major=_major(version), version=version)


def installed_jdks(jvm_dirs: Iterable[Path]) -> list[Jdk]:
    """JDKs found under the given folders, newest first, each real home once."""
    seen: set[Path] = set()
    found: list[Jdk] = []
    for root in jvm_dirs:
        if not root.is_dir():
            continue
        for home in sorted(root.iterdir()):
            real = home.resolve()
            if real in seen or not (real / "bin" / "java").is_file():
                continue
            seen.add(real)
            version = _release_version(real)
            if version:
                found.append(Jdk(home=real, major=_major(version), version=version))
            elif jdk := probe(real / "bin" / "java"):
                found.append(jdk)
    return sorted(found, key=lambda j: j.major, reverse=True)


def find_jdk(jvm_dirs: Iterable[Path], java_home: Path | None = None,
             search_path: str | None = None) -> Jdk:
    """The JDK to run Keycloak with, or an IdpackError that says what to install.
    `search_path`: where to look for `java` (the process's PATH by default)."""
    jvm_dirs = tuple(jvm_dirs)
    if java_home:
        jdk = probe(Path(java_home) / "bin" / "java")
        if jdk is None:
            raise IdpackError(f"JAVA_HOME={java_home} does not hold a working JDK. {INSTALL_HINT}")
        return _checked(jdk, f"JAVA_HOME={java_home}")

    candidates = installed_jdks(jvm_dirs)
    preferred = [j for j in candidates if j.major >= PREFERRED_MAJOR]
    if preferred:
        return preferred[0]

    on_path = shutil.which("java", path=search_path)
    if on_path:
        jdk = probe(Path(on_path))
        if jdk is not None:
            return _checked(jdk, f"java on PATH ({on_path})")
    if candidates:
        return _checked(candidates[0], str(candidates[0].home))
    raise IdpackError(f"No Java found: neither JAVA_HOME, nor java on PATH, nor a JDK "
                      f"under {', '.join(map(str, jvm_dirs)) or '(no JVM folders)'}. "
                      f"{INSTALL_HINT}")


def _checked(jdk: Jdk, source: str) -> Jdk:
    if jdk.major < MINIMUM_MAJOR:
        raise IdpackError(f"{source} is Java {jdk.version}; Keycloak 26 needs Java "
                          f"{MINIMUM_MAJOR} or newer. {INSTALL_HINT}")
    return jdk

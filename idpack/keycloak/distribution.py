"""The Keycloak server distribution: fetched once with Maven, unpacked once and built
once into a cache outside the repository, then shared by every server we start."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from idpack.errors import IdpackError
from idpack.keycloak.java import Jdk, find_jdk
from idpack.keycloak.settings import HarnessSettings
from idpack.processes import log_tail
from idpack.progress import ProgressLine, say

ARTIFACT = "org.keycloak:keycloak-quarkus-dist"

# Build-time options, fixed once by `kc.sh build` so every start can be `--optimized`:
# an embedded H2 database (each server keeps its own under its instance folder), a local
# cache (no clustering between the servers of one machine), health on the management port.
# A server on PostgreSQL (IDPACK_KEYCLOAK_DB_URL) needs another build, kept in a folder
# of its own so the two never rebuild each other.
BUILD_OPTIONS = ("--db=dev-file", "--cache=local", "--health-enabled=true")
DATABASE_BUILD_OPTIONS = {"dev-file": BUILD_OPTIONS,
                          "postgres": ("--db=postgres", "--cache=local", "--health-enabled=true")}
BUILD_STAMP = ".idpack-build.json"


@dataclass(frozen=True)
class KeycloakDistribution:
    version: str
    home: Path
    jdk: Jdk
    build_options: tuple[str, ...] = BUILD_OPTIONS

    @property
    def kc_sh(self) -> Path:
        return self.home / "bin" / "kc.sh"


def prepare_distribution(
    settings: HarnessSettings, env: Mapping[str, str] = os.environ
) -> KeycloakDistribution:
    """Fetch, unpack and build Keycloak if the cache lacks it; cheap when it has it."""
    jdk = find_jdk(settings.jvm_dirs, settings.java_home)
    version = settings.keycloak_version
    cache = settings.cache
    cache.mkdir(parents=True, exist_ok=True)
    database = settings.database_vendor
    home = cache / (f"keycloak-{version}" if database == "dev-file"
                    else f"keycloak-{version}-{database}")
    with _exclusive(cache / ".lock"):
        if not (home / "bin" / "kc.sh").is_file():
            archive = _fetch(version, cache / "downloads", jdk, env)
            _unpack(archive, version, home, cache)
            archive.unlink()
        dist = KeycloakDistribution(version=version, home=home, jdk=jdk,
                                    build_options=DATABASE_BUILD_OPTIONS[database])
        _build_if_needed(dist, env)
    return dist


def fetch_archive(settings: HarnessSettings, directory: Path,
                  env: Mapping[str, str] = os.environ) -> Path:
    """The pristine distribution archive in `directory`, fetched with Maven as the
    harness fetches it (Maven's local repository makes the second fetch a copy): what
    the Keycloak image is built from."""
    jdk = find_jdk(settings.jvm_dirs, settings.java_home)
    return _fetch(settings.keycloak_version, directory, jdk, env)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One process at a time prepares the cache; the others wait and then reuse it."""
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"Waiting for another idpack process to finish preparing {lock_path.parent} ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fetch(version: str, downloads: Path, jdk: Jdk, env: Mapping[str, str]) -> Path:
    mvn = shutil.which("mvn", path=env.get("PATH", os.defpath))
    if mvn is None:
        raise IdpackError(
            f"Maven (mvn) is needed once, to fetch Keycloak {version}, and is not on PATH. "
            "Install it (Debian: apt-get install maven) and run again."
        )
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / f"keycloak-quarkus-dist-{version}.tar.gz"
    archive.unlink(missing_ok=True)
    command = [
        mvn, "dependency:copy", "-Dstyle.color=never", "-Dmdep.overWriteReleases=true",
        f"-Dartifact={ARTIFACT}:{version}:tar.gz", f"-DoutputDirectory={downloads}",
    ]
    child_env = {**env, "JAVA_HOME": str(jdk.home)}
    progress = ProgressLine()
    started = time.monotonic()
    say(f"Fetching Keycloak {version} with Maven (once; about 175 MB) ...")
    tail: deque[str] = deque(maxlen=40)
    # Not batch mode: Maven then reports transfer progress, which we redraw as one line.
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=child_env) as proc:
        assert proc.stdout is not None
        for piece in _pieces(proc.stdout):
            match = re.match(r"Progress \(\d+\): (.*)", piece)
            elapsed = time.monotonic() - started
            if match:
                progress.update(f"  downloading {match.group(1).strip()}  ({elapsed:.0f} s)")
            elif piece.strip():
                tail.append(piece)
        code = proc.wait()
    if code != 0 or not archive.is_file():
        raise IdpackError(f"Maven could not fetch {ARTIFACT}:{version}:tar.gz (exit {code}).\n"
                          + "\n".join(tail))
    size_mb = archive.stat().st_size / 1e6
    progress.done(f"  fetched {size_mb:.0f} MB in {time.monotonic() - started:.1f} s")
    return archive


def _pieces(stream: object) -> Iterator[str]:
    """Maven's output split on both newlines and the carriage returns of progress lines."""
    buffer = b""
    fd = stream.fileno()  # type: ignore[attr-defined]
    while chunk := os.read(fd, 65536):
        buffer += chunk
        parts = re.split(rb"[\r\n]", buffer)
        buffer = parts.pop()
        for part in parts:
            yield part.decode("utf-8", "replace")
    if buffer:
        yield buffer.decode("utf-8", "replace")


def _unpack(archive: Path, version: str, home: Path, cache: Path) -> None:
    """Unpack beside the final folder and rename, so a cut-off unpack leaves no half tree."""
    staging = cache / f".unpack-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    progress = ProgressLine()
    started = time.monotonic()
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for index, member in enumerate(members, 1):
            tar.extract(member, staging, filter="data")
            if index % 50 == 0:
                progress.update(f"  unpacking {index}/{len(members)} files")
    unpacked = staging / f"keycloak-{version}"
    if not (unpacked / "bin" / "kc.sh").is_file():
        raise IdpackError(f"{archive} does not hold {unpacked.name}/bin/kc.sh")
    shutil.rmtree(home, ignore_errors=True)
    unpacked.rename(home)
    shutil.rmtree(staging, ignore_errors=True)
    progress.done(f"  unpacked {len(members)} files in {time.monotonic() - started:.1f} s "
                  f"into {home}")


def _build_if_needed(dist: KeycloakDistribution, env: Mapping[str, str]) -> None:
    stamp = dist.home / BUILD_STAMP
    wanted = {"options": list(dist.build_options)}
    try:
        if json.loads(stamp.read_text()) == wanted:
            return
    except (OSError, ValueError):
        pass
    log = dist.home / "build.log"
    say(f"Building Keycloak {dist.version} once for fast starts "
        f"({' '.join(dist.build_options)}) ...")
    progress = ProgressLine()
    started = time.monotonic()
    child_env = {**env, "JAVA_HOME": str(dist.jdk.home)}
    with log.open("wb") as out, subprocess.Popen(
        [str(dist.kc_sh), "build", *dist.build_options], stdin=subprocess.DEVNULL,
        stdout=out, stderr=subprocess.STDOUT, env=child_env,
    ) as proc:
        while proc.poll() is None:
            progress.update(f"  building ({time.monotonic() - started:.0f} s)")
            time.sleep(0.5)
    if proc.returncode != 0:
        raise IdpackError(f"kc.sh build failed (exit {proc.returncode}); the end of {log}:\n"
                          + log_tail(log))
    stamp.write_text(json.dumps(wanted))
    progress.done(f"  built in {time.monotonic() - started:.1f} s")

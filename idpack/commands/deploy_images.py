"""Building the production images (deploy/images/*/Containerfile) with podman or
Docker: the Keycloak distribution fetched with Maven as the harness fetches it, idpack's
wheels made by pip on this machine, and a Debian base, either the usual public image or
one made here with mmdebstrap from Debian's archive (for machines that reach no image
registry)."""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from idpack.errors import IdpackError
from idpack.keycloak.distribution import fetch_archive
from idpack.keycloak.settings import HarnessSettings
from idpack.processes import log_tail

PUBLIC_BASE = "debian:bookworm-slim"
LOCAL_BASE = "localhost/idpack-base:bookworm"
SUITE = "bookworm"
# The images, in build order: name suffix, recipe folder.
IMAGES = ("keycloak", "idpack", "postgres", "redis", "proxy")


@dataclass(frozen=True)
class ImageBuild:
    root: Path                       # the repository: the build context
    engine: str                      # podman or docker
    prefix: str = "localhost/idpack"
    tag: str = "latest"
    base: str = PUBLIC_BASE

    def name(self, image: str) -> str:
        """localhost/idpack:TAG for the services' image, localhost/idpack-X:TAG else."""
        suffix = "" if image == "idpack" else f"-{image}"
        return f"{self.prefix}{suffix}:{self.tag}"

    @property
    def context(self) -> Path:
        return self.root / "build" / "deploy"


def container_engine(env: Mapping[str, str] = os.environ, wanted: str | None = None) -> str:
    """podman if it is installed, else docker (or the one asked for)."""
    for engine in ([wanted] if wanted else ["podman", "docker"]):
        if shutil.which(engine, path=env.get("PATH", os.defpath)):
            return engine
    raise IdpackError("Neither podman nor docker is installed: the images need one of them "
                      "(Debian: apt-get install podman).")


def debian_mirror(sources: Sequence[Path] = (Path("/etc/apt/sources.list"),
                                             Path("/etc/apt/sources.list.d"))) -> str:
    """The Debian archive this machine's apt uses (so mmdebstrap fetches from there)."""
    for source in sources:
        files = sorted(source.glob("*")) if source.is_dir() else [source]
        for file in files:
            if not file.is_file() or file.suffix not in ("", ".list", ".sources"):
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            for pattern in (r"^\s*URIs:\s*(\S+)", r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)"):
                for uri in re.findall(pattern, text, flags=re.MULTILINE):
                    if "security" not in uri:
                        return str(uri)
    raise IdpackError("No Debian archive found in /etc/apt/sources.list*: the local base "
                      "image is made from the archive this machine's apt uses.")


def image_exists(engine: str, name: str) -> bool:
    return subprocess.run([engine, "image", "inspect", name], capture_output=True,
                          check=False).returncode == 0


def make_local_base(engine: str, say: Callable[[str], None]) -> float:
    """localhost/idpack-base:bookworm from Debian's packages (mmdebstrap, then import);
    the seconds it took, 0 when the image was there."""
    if image_exists(engine, LOCAL_BASE):
        return 0.0
    if shutil.which("mmdebstrap") is None:
        raise IdpackError("--base local makes the base image with mmdebstrap, which is not "
                          "installed (Debian: apt-get install mmdebstrap).")
    started = time.monotonic()
    mirror = debian_mirror()
    say(f"Making {LOCAL_BASE} with mmdebstrap from {mirror} ...")
    with tempfile.TemporaryDirectory(prefix="idpack-base-") as scratch:
        tarball = Path(scratch) / "base.tar"
        _run(["mmdebstrap", "--variant=minbase", "--mode=root", SUITE, str(tarball), mirror],
             Path(scratch) / "mmdebstrap.log")
        _run([engine, "import", "--change", 'CMD ["/bin/bash"]', str(tarball), LOCAL_BASE],
             Path(scratch) / "import.log")
    return time.monotonic() - started


def prepare_context(build: ImageBuild, images: Sequence[str], say: Callable[[str], None],
                    env: Mapping[str, str] = os.environ) -> str:
    """build/deploy/: Keycloak's archive (Maven) and the wheels of idpack and its
    dependencies (pip on this machine), as far as `images` need them. The Keycloak
    version."""
    settings = HarnessSettings.from_env(env, stack_file=False)
    version = settings.keycloak_version
    build.context.mkdir(parents=True, exist_ok=True)
    archive = build.context / f"keycloak-quarkus-dist-{version}.tar.gz"
    if "keycloak" in images and not archive.is_file():
        fetch_archive(settings, build.context, env)
    if "idpack" not in images:
        return version
    wheels = build.context / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    say("Making idpack's wheel with pip ...")
    # A fixed timestamp in the zip makes the same sources the same wheel, so the image
    # layers after it stay cached until the code changes.
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
          str(wheels), str(build.root)], build.context / "pip-wheel.log",
         env={**env, "SOURCE_DATE_EPOCH": "315532800"})
    return version


def build_image(build: ImageBuild, image: str, keycloak_version: str) -> float:
    """One image; the seconds it took. Build steps use the host's network (Debian's
    archive), as every container here does."""
    started = time.monotonic()
    log = build.context / f"build-{image}.log"
    _run([build.engine, "build", "--network=host",
          "--secret", f"id=ca-bundle,src={ca_bundle()}",
          "--file", str(build.root / "deploy" / "images" / image / "Containerfile"),
          "--build-arg", f"BASE={build.base}",
          "--build-arg", f"KEYCLOAK_VERSION={keycloak_version}",
          "--tag", build.name(image), str(build.root)], log)
    return time.monotonic() - started


def ca_bundle() -> str:
    """The certificates this machine trusts (OpenSSL's, SSL_CERT_FILE where set), which
    pip inside the build trusts too."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return candidate
    raise IdpackError("No CA bundle found for pip in the image build: set SSL_CERT_FILE.")


def _run(command: list[str], log: Path, env: Mapping[str, str] | None = None) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        code = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, check=False,
                              env=None if env is None else dict(env)).returncode
    if code != 0:
        raise IdpackError(f"`{' '.join(command[:3])} ...` failed (exit {code}); the end of "
                          f"{log}:\n{log_tail(log)}")

"""Containers for the tests: podman set up as this kind of machine needs it (runc,
cgroupfs, file events, open-file limits no higher than the machine's, host networking
everywhere), and idpack's images built in the run with `idpack deploy build`."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TAG = "test"
# No image registry can be reached from our machines: the images are built on a Debian
# base made here from Debian's archive. IDPACK_TEST_IMAGE_BASE=public uses the public one.
BASE = os.environ.get("IDPACK_TEST_IMAGE_BASE", "local")


def containers_conf(directory: Path) -> Path:
    """A containers.conf for podman as root on this machine, which CONTAINERS_CONF names."""
    hard_files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    files = 20000 if hard_files == resource.RLIM_INFINITY else min(hard_files, 65536)
    hard_procs = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    procs = 32768 if hard_procs == resource.RLIM_INFINITY else min(hard_procs, 32768)
    path = directory / "containers.conf"
    path.write_text(
        "[containers]\n"
        'netns = "host"\n'
        f'default_ulimits = ["nofile={files}:{files}", "nproc={procs}:{procs}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n', encoding="utf-8")
    return path


@contextmanager
def podman_environment(directory: Path) -> Iterator[dict[str, str]]:
    """os.environ with CONTAINERS_CONF set for the session (podman reads it from there,
    and so do podman-compose and the children of idpack deploy build)."""
    if shutil.which("podman") is None:
        raise RuntimeError("podman is not installed: the deploy tests need it "
                           "(.ci/run installs it from Debian)")
    before = os.environ.get("CONTAINERS_CONF")
    os.environ["CONTAINERS_CONF"] = str(containers_conf(directory))
    try:
        yield dict(os.environ)
    finally:
        if before is None:
            os.environ.pop("CONTAINERS_CONF", None)
        else:
            os.environ["CONTAINERS_CONF"] = before


def build_images(only: Sequence[str] = ()) -> float:
    """idpack's images, tagged :test, built as a user builds them; the seconds it took."""
    started = time.monotonic()
    command = [sys.executable, "-m", "idpack", "deploy", "build", "--base", BASE,
               "--tag", TAG, *[arg for image in only for arg in ("--only", image)]]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"idpack deploy build failed:\n{done.stdout}\n{done.stderr}")
    print(done.stderr, file=sys.stderr)
    return time.monotonic() - started


def image(name: str) -> str:
    return f"localhost/idpack-{name}:{TAG}" if name != "idpack" else f"localhost/idpack:{TAG}"


@contextmanager
def podman_socket(directory: Path) -> Iterator[str]:
    """podman's Docker-compatible API on a socket of the test's own (testcontainers)."""
    socket = directory / "podman.sock"
    process = subprocess.Popen(["podman", "system", "service", "--time=0",
                                f"unix://{socket}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not socket.exists():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("podman system service did not open its socket")
            time.sleep(0.1)
        yield f"unix://{socket}"
    finally:
        process.terminate()
        process.wait(timeout=20)

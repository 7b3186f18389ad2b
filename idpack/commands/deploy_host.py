"""What podman needs on this host, made by `idpack deploy` itself rather than guessed by
an operator: a containers.conf where podman's defaults fail here, handed to every
podman command idpack runs (CONTAINERS_CONF) and named so an operator's own commands
can use it too.

Podman's defaults that fail on some hosts (found on Debian 12 machines as root):
- open files: containers get 1048576, and a host whose hard limit is lower refuses to
  start any of them ("error setting rlimit type 7"): the host's hard limit is used;
- crun on cgroups v1 or hybrid ("cgroups in hybrid mode not supported"): runc;
- the systemd cgroup manager and journald events without systemd: cgroupfs and a file.
An existing CONTAINERS_CONF is the operator's, and is used as it is."""

from __future__ import annotations

import os
import resource
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PODMAN_DEFAULT_FILES = 1048576


@dataclass(frozen=True)
class HostConfig:
    path: Path | None  # the containers.conf written, None when podman's defaults do
    reasons: tuple[str, ...]

    def env(self) -> dict[str, str]:
        return {"CONTAINERS_CONF": str(self.path)} if self.path else {}


def podman_host_config(state_dir: Path, env: Mapping[str, str] = os.environ) -> HostConfig:
    if env.get("CONTAINERS_CONF"):
        return HostConfig(Path(env["CONTAINERS_CONF"]), ("CONTAINERS_CONF is set",))
    containers, engine, reasons = [], [], []
    hard_files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard_files != resource.RLIM_INFINITY and hard_files < PODMAN_DEFAULT_FILES:
        hard_procs = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        procs = 32768 if hard_procs == resource.RLIM_INFINITY else min(hard_procs, 32768)
        containers.append(f'default_ulimits = ["nofile={hard_files}:{hard_files}", '
                          f'"nproc={procs}:{procs}"]')
        reasons.append(f"open files {hard_files}: the host's hard limit is below podman's "
                       f"default {PODMAN_DEFAULT_FILES}")
    cgroups_v2_only = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    if not cgroups_v2_only and shutil.which("runc"):
        engine.append('runtime = "runc"')
        reasons.append("runc: crun cannot run on cgroups v1 or hybrid")
    if not Path("/run/systemd/system").is_dir():
        engine += ['cgroup_manager = "cgroupfs"', 'events_logger = "file"']
        reasons.append("cgroupfs and file events: systemd is not running")
    if not reasons:
        return HostConfig(None, ())
    path = state_dir / "deploy" / "containers.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by `idpack deploy` for this host (idpack/commands/deploy_host.py)"
                    "\n[containers]\n" + "".join(f"{line}\n" for line in containers)
                    + "[engine]\n" + "".join(f"{line}\n" for line in engine), encoding="utf-8")
    return HostConfig(path, tuple(reasons))

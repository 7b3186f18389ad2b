"""`idpack up` (`make run`): the whole local stack in the foreground until Ctrl-C.

In order: Keycloak (embedded H2 database under `.idpack/`, idpack's themes), the DKIM
relay (delivering into `.idpack/mail/`), the realm from realm-config, the sidecar (with
the short links), the geo worker and the portal, each a child process with its log in
`.idpack/`. Once all answer, `.idpack/stack.json` tells scripts and people where
everything is; the file is removed again when the stack stops, so it never points at a
stack that is gone. A part that stops by itself stops the whole."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from idpack.child_process import ChildService, http_ready, log_ready, tcp_ready
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.distribution import log_tail, prepare_distribution
from idpack.keycloak.server import KeycloakServer, ensure_port_free
from idpack.keycloak.target import KeycloakTarget
from idpack.progress import say
from idpack.settings import HarnessSettings, StackSettings

ADMIN_USER = "admin"
# The client secrets the realm file reads; `idpack up` generates each once.
GENERATED_SECRETS = ("IDPACK_SIDECAR_CLIENT_SECRET", "IDPACK_PASSWORD_CHECK_CLIENT_SECRET",
                     "EXAMPLE_SERVICE_CLIENT_SECRET")


@dataclass(frozen=True)
class StackFiles:
    """What `idpack up` keeps under the state folder."""

    state_dir: Path

    @property
    def stack_json(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def admin_password(self) -> Path:
        return self.state_dir / "admin-password"

    @property
    def keycloak_dir(self) -> Path:
        return self.state_dir / "keycloak"

    @property
    def secrets_dir(self) -> Path:
        return self.state_dir / "secrets"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"


def generated_secret(path: Path) -> str:
    """A random secret kept in a file of mode 0600, made on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def admin_password(files: StackFiles) -> str:
    """Generated on the first run and kept: the H2 database remembers the bootstrap
    admin, so later runs must log in with the same password."""
    return generated_secret(files.admin_password)


def local_secrets(files: StackFiles, env: Mapping[str, str]) -> dict[str, str]:
    """The client secrets `idpack up` generated, for those the environment leaves unset
    (none are made here)."""
    found = {}
    for name in GENERATED_SECRETS:
        path = files.secrets_dir / name.lower()
        if not env.get(name) and path.is_file():
            found[name] = path.read_text(encoding="utf-8").strip()
    return found


def realm_files(stack: StackSettings) -> list[Path]:
    """The realm file and the overlays `idpack up` merges over it (IDPACK_REALM_ENV:
    names in environments/ beside the file, or YAML paths)."""
    paths = [stack.realm_file]
    for overlay in stack.realm_overlays:
        named = stack.realm_file.parent / "environments" / f"{overlay}.yaml"
        paths.append(Path(overlay) if overlay.endswith((".yaml", ".yml")) else named)
    return paths


def realm_environment(files: StackFiles, env: Mapping[str, str]) -> dict[str, str]:
    """The environment the realm file is read with: the caller's, plus a generated
    secret for each client secret the caller does not set."""
    return {name: generated_secret(files.secrets_dir / name.lower())
            for name in GENERATED_SECRETS if not env.get(name)} | dict(env)


def write_json_atomically(path: Path, document: Mapping[str, Any], mode: int = 0o600) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    temporary.replace(path)


def stack_document(target: KeycloakTarget, files: StackFiles, realm: str | None,
                   sidecar_url: str | None = None, relay: tuple[str, int] | None = None,
                   portal_url: str | None = None) -> dict[str, Any]:
    """The keys DESIGN.md fixes. Parts of the stack that are not built yet are null."""
    return {
        "keycloak_url": target.url,
        "realm": realm,
        "admin_user": target.admin_user,
        "admin_password": target.admin_password,
        "sidecar_url": sidecar_url,
        "portal_url": portal_url,
        "smtp_host": relay[0] if relay else None,
        "smtp_port": relay[1] if relay else None,
        "mail_dir": str(files.mail_dir) if relay else None,
    }


@contextmanager
def _stop_signals_as_interrupt() -> Iterator[None]:
    """Ctrl-C, `kill` and a closed terminal all stop the stack the same clean way.

    SIGINT is set explicitly because a shell without job control starts background
    commands with SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, interrupt) for s in stop_signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_stack(env: Mapping[str, str] = os.environ) -> int:
    stack = StackSettings.from_env(env)
    harness = HarnessSettings.from_env(env)
    files = StackFiles(stack.state_dir)
    files.state_dir.mkdir(parents=True, exist_ok=True)
    server: KeycloakServer | None = None
    children: list[ChildService] = []
    with _stop_signals_as_interrupt():
        try:
            existing = KeycloakTarget.from_env(env)
            if existing is not None:
                say(f"Using the existing Keycloak at {existing.url} (KEYCLOAK_URL).")
                target = existing
            else:
                server = _start_keycloak(stack, harness, files, env)
                target = server.target
            sidecar_url: str | None = f"http://{stack.host}:{stack.sidecar_port}"
            portal_url: str | None = f"http://{stack.host}:{stack.portal_port}"
            children.append(_start_relay(stack, files, target, str(sidecar_url), env))
            relay = (stack.host, stack.relay_port)
            # What the realm file, the sidecar and the portal read: where the relay and
            # the portal are (the portal client's redirect URIs follow its URL).
            stack_env = {**env, "IDPACK_SMTP_HOST": stack.host,
                         "IDPACK_SMTP_PORT": str(stack.relay_port),
                         "IDPACK_PORTAL_URL": str(portal_url),
                         "IDPACK_SIDECAR_URL": str(sidecar_url),
                         "IDPACK_SHORT_LINK_HOSTS": short_link_hosts(target)}
            realm = _provision_realm(stack, KeycloakAdminClient.connect(target), files, stack_env)
            if realm is None:
                sidecar_url = portal_url = None
            else:
                children.append(_start_sidecar(stack, files, target, realm, stack_env))
                children.append(_start_geo_worker(files, target, realm, stack_env))
                children.append(_start_portal(stack, files, target, realm, stack_env))
            write_json_atomically(files.stack_json, stack_document(
                target, files, realm, sidecar_url, relay, portal_url))
            _print_banner(target, files, server, realm, sidecar_url, relay, portal_url)
            return _watch(server, children)
        except KeyboardInterrupt:
            say("\nStopping the stack ...")
            return 0
        finally:
            files.stack_json.unlink(missing_ok=True)
            for child in reversed(children):
                child.stop()
                say(f"{child.name.capitalize()} stopped.")
            if server is not None:
                server.stop()
                say("Keycloak stopped.")


def _watch(server: KeycloakServer | None, children: list[ChildService]) -> int:
    """Until Ctrl-C; a part of the stack that stops by itself stops the whole."""
    while True:
        if server is not None and not server.is_running():
            say(f"Keycloak stopped by itself. The end of {server.log_path}:\n"
                + log_tail(server.log_path))
            return 1
        for child in children:
            if child.exit_code() is not None:
                say(f"{child.name.capitalize()} stopped by itself (exit {child.exit_code()}). "
                    f"The end of {child.log_path}:\n" + log_tail(child.log_path))
                return 1
        time.sleep(1)


DKIM_SELECTOR = "idpack"


def _start_relay(stack: StackSettings, files: StackFiles, target: KeycloakTarget,
                 short_link_base: str, env: Mapping[str, str]) -> ChildService:
    """The relay, delivering into .idpack/mail; DKIM keys made on the first run."""
    from mail.dkim_keys import generate, key_paths

    ensure_port_free(stack.host, stack.relay_port, "IDPACK_RELAY_PORT")
    ensure_port_free(stack.host, stack.relay_metrics_port, "IDPACK_RELAY_METRICS_PORT")
    keys_dir = files.state_dir / "dkim"
    if not all(p.exists() for p in key_paths(keys_dir, DKIM_SELECTOR)):
        generate(keys_dir, DKIM_SELECTOR)
        say(f"Made DKIM keys for selector {DKIM_SELECTOR} in {keys_dir}.")
    child_env = {**env, "IDPACK_HOME": str(files.state_dir), "IDPACK_RELAY_HOST": stack.host,
                 "IDPACK_RELAY_PORT": str(stack.relay_port),
                 "IDPACK_RELAY_METRICS_HOST": stack.host,
                 "IDPACK_RELAY_METRICS_PORT": str(stack.relay_metrics_port),
                 "IDPACK_DKIM_SELECTOR": DKIM_SELECTOR, "IDPACK_DKIM_KEYS_DIR": str(keys_dir),
                 "IDPACK_SHORT_LINK_BASE": short_link_base,
                 "IDPACK_SHORT_LINK_HOSTS": short_link_hosts(target),
                 # the embedded upstream, unless the environment names a real one
                 "IDPACK_RELAY_UPSTREAM": env.get("IDPACK_RELAY_UPSTREAM")
                 or f"maildir:{files.mail_dir}"}
    relay = ChildService("the relay", [sys.executable, "-m", "idpack", "relay"], child_env,
                         files.state_dir / "relay.log", tcp_ready(stack.host, stack.relay_port))
    seconds = relay.start()
    say(f"Relay ready on {stack.host}:{stack.relay_port} in {seconds:.1f} s "
        f"(mail lands in {files.mail_dir}; metrics on "
        f"http://{stack.host}:{stack.relay_metrics_port}/metrics).")
    return relay


def _start_sidecar(stack: StackSettings, files: StackFiles, target: KeycloakTarget, realm: str,
                   env: Mapping[str, str]) -> ChildService:
    ensure_port_free(stack.host, stack.sidecar_port, "IDPACK_SIDECAR_PORT")
    url = f"http://{stack.host}:{stack.sidecar_port}"
    child_env = {**realm_environment(files, env), "KEYCLOAK_URL": target.url,
                 "IDPACK_REALM": realm, "IDPACK_HOME": str(files.state_dir),
                 "IDPACK_SIDECAR_HOST": stack.host,
                 "IDPACK_SIDECAR_PORT": str(stack.sidecar_port)}
    sidecar = ChildService("the sidecar", [sys.executable, "-m", "idpack", "sidecar"],
                           child_env, files.state_dir / "sidecar.log", http_ready(f"{url}/readyz"))
    seconds = sidecar.start()
    say(f"Sidecar ready on {url} in {seconds:.1f} s.")
    return sidecar


def _start_geo_worker(files: StackFiles, target: KeycloakTarget, realm: str,
                      env: Mapping[str, str]) -> ChildService:
    child_env = {**realm_environment(files, env), "KEYCLOAK_URL": target.url,
                 "IDPACK_REALM": realm, "IDPACK_HOME": str(files.state_dir)}
    log_path = files.state_dir / "geo-worker.log"
    worker = ChildService("the geo worker", [sys.executable, "-m", "idpack", "geo-worker"],
                          child_env, log_path, log_ready(log_path, "polling every"))
    seconds = worker.start()
    say(f"Geo worker following REGISTER events ({seconds:.1f} s).")
    return worker


def _start_portal(stack: StackSettings, files: StackFiles, target: KeycloakTarget, realm: str,
                  env: Mapping[str, str]) -> ChildService:
    ensure_port_free(stack.host, stack.portal_port, "IDPACK_PORTAL_PORT")
    url = f"http://{stack.host}:{stack.portal_port}"
    child_env = {**env, "KEYCLOAK_URL": target.url, "IDPACK_REALM": realm,
                 "IDPACK_HOME": str(files.state_dir), "IDPACK_PORTAL_URL": url}
    portal = ChildService("the portal", [sys.executable, "-m", "idpack", "portal"], child_env,
                          files.state_dir / "portal.log", http_ready(f"{url}/healthz"))
    seconds = portal.start()
    say(f"Portal ready on {url} in {seconds:.1f} s.")
    return portal


def short_link_hosts(target: KeycloakTarget) -> str:
    """Short links lead to Keycloak's action links only."""
    keycloak_host = target.url.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
    return ",".join(dict.fromkeys((keycloak_host, "127.0.0.1", "localhost")))


def _start_keycloak(stack: StackSettings, harness: HarnessSettings, files: StackFiles,
                    env: Mapping[str, str]) -> KeycloakServer:
    dist = prepare_distribution(harness, env)
    server = KeycloakServer(
        dist, files.keycloak_dir, host=stack.host, http_port=stack.keycloak_port,
        management_port=stack.management_port, admin_user=ADMIN_USER,
        admin_password=admin_password(files), env=env,
    )
    server.start(timeout=harness.start_timeout)
    return server


def _provision_realm(stack: StackSettings, admin: KeycloakAdminClient, files: StackFiles,
                     env: Mapping[str, str]) -> str | None:
    """Make the realm match realm-config with the stack's overlay; its name."""
    from provisioning.config import load_config
    from provisioning.engine import apply_plan, plan_realm

    if not stack.realm_file.is_file():
        say(f"No realm file at {stack.realm_file}: Keycloak runs without a realm of ours.")
        return None
    paths = realm_files(stack)
    config = load_config(paths, realm_environment(files, env), realm=stack.realm).config
    api = admin.realm(config.realm)
    plan = plan_realm(api, config, base_dir=stack.realm_file.parent)
    if plan.empty:
        say(f"Realm {config.realm} matches {stack.realm_file}.")
    else:
        seconds = apply_plan(api, plan, lambda line: None)
        say(f"Realm {config.realm}: applied {len(plan.changes)} changes from "
            f"{' + '.join(map(str, paths))} in {seconds:.1f} s.")
    return config.realm


def _print_banner(target: KeycloakTarget, files: StackFiles, server: KeycloakServer | None,
                  realm: str | None, sidecar_url: str | None,
                  relay: tuple[str, int] | None, portal_url: str | None = None) -> None:
    cwd = Path.cwd()

    def shown(path: Path) -> str:
        return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)

    lines = ["", "idpack stack is up"]
    if server is not None:
        lines.append(f"  Keycloak {server.dist.version} ready in {server.startup_seconds:.1f} s "
                     f"(Java {server.dist.jdk.version})")
    if portal_url:
        lines += [f"  Register here:   {portal_url}/register  (Keycloak's hosted page)",
                  f"  Portal:          {portal_url}"]
    lines += [
        f"  Admin console:   {target.url}/admin/",
        f"  Realm:           {target.url}/admin/master/console/#/{realm}" if realm else
        "  Realm:           (none)",
        f"  Sidecar:         {sidecar_url} (API docs at {sidecar_url}/docs)" if sidecar_url
        else "  Sidecar:         (not running)",
        f"  Mail relay:      smtp://{relay[0]}:{relay[1]} -> {files.mail_dir}" if relay
        else "  Mail relay:      (not running)",
        f"  Admin user:      {target.admin_user}",
        "  Admin password:  " + (f"in {shown(files.admin_password)}" if server is not None
                                 else "from KEYCLOAK_ADMIN_PASSWORD"),
        f"  Stack file:      {shown(files.stack_json)}",
    ]
    if server is not None:
        lines.append(f"  Keycloak log:    {shown(server.log_path)}")
    lines += ["Press Ctrl-C to stop.", ""]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()

"""`idpack up` (`make run`): the whole local stack in the foreground until Ctrl-C.

In order: Keycloak (embedded H2 database under `.idpack/`, idpack's themes), the DKIM
relay (delivering into `.idpack/mail/`), the realm from realm-config, the sidecar (with
the short links), the geo worker and the portal, each a child process with its log in
`.idpack/`. Each child gets its settings as an environment made by its own settings
class (`to_env()`), and runs with `python -P`, so a module in the working folder never
stands in for one of idpack's. Once all answer, `.idpack/stack.json` tells scripts and
people where everything is; the file is removed again when the stack stops, so it never
points at a stack that is gone. A part that stops by itself stops the whole."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

import extensions
from extensions.geo.settings import GeoSettings
from extensions.portal.settings import PortalSettings
from extensions.sidecar.settings import SidecarSettings
from idpack.commands.banner import print_banner
from idpack.commands.stack_files import (
    StackFiles,
    StackSettings,
    generated_secret,
    realm_environment,
    write_json_atomically,
)
from idpack.keycloak.admin import KeycloakAdminClient
from idpack.keycloak.distribution import prepare_distribution
from idpack.keycloak.server import KeycloakServer, ensure_port_free
from idpack.keycloak.settings import HarnessSettings, existing_keycloak
from idpack.keycloak.target import KeycloakTarget
from idpack.processes import ChildService, http_ready, log_ready, log_tail, tcp_ready
from idpack.progress import say
from idpack.settings import IdpackSettings
from mail.settings import RelaySettings

ADMIN_USER = "admin"
DKIM_SELECTOR = "idpack"
THEMES = Path(extensions.__file__).parent / "themes"  # idpack's own, live from the checkout


@click.command(epilog="\b\nSettings: `idpack config stack` lists them with their values.")
def up() -> None:
    """Run the local stack until Ctrl-C.

    \b
    Keycloak listens on http://127.0.0.1:8080, health on 127.0.0.1:9000. State lives
    in .idpack/: the H2 database, the generated admin password and client secrets,
    the mail, and, while the stack runs, stack.json with every URL and credential
    scripts need. With KEYCLOAK_URL, KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD set, no
    server is started: the stack uses that Keycloak instead.
    """
    sys.exit(run_stack(os.environ))


def run_stack(env: Mapping[str, str] = os.environ) -> int:
    stack = StackSettings.from_env(env, stack_file=False)
    files = StackFiles(stack.state_dir)
    files.state_dir.mkdir(parents=True, exist_ok=True)
    server: KeycloakServer | None = None
    children: list[ChildService] = []
    with _stop_signals_as_interrupt():
        try:
            existing = existing_keycloak(env)
            if existing is not None:
                say(f"Using the existing Keycloak at {existing.url} (KEYCLOAK_URL).")
                target = existing
            else:
                server = _start_keycloak(stack, files, env)
                target = server.target
            sidecar_url: str | None = f"http://{stack.host}:{stack.sidecar_port}"
            portal_url: str | None = f"http://{stack.host}:{stack.portal_port}"
            relay = _relay_settings(stack, files, target, str(sidecar_url), env)
            children.append(_start_relay(relay, files))
            sidecar = _sidecar_settings(stack, files, target, relay, str(portal_url), env)
            # The realm file reads what the sidecar is configured with: the client
            # secrets, where the relay and the portal are.
            realm = _provision_realm(stack, KeycloakAdminClient.connect(target), files,
                                     {**env, **sidecar.to_env()})
            if realm is None:
                sidecar_url = portal_url = None
            else:
                children.append(_start_sidecar(sidecar, files))
                children.append(_start_geo_worker(sidecar, files, env))
                children.append(_start_portal(stack, sidecar, files, str(portal_url), env))
            write_json_atomically(files.stack_json, stack_document(
                target, files, realm, sidecar_url, (relay.host, relay.port), portal_url))
            print_banner(target, files, server, realm, sidecar_url, (relay.host, relay.port),
                         portal_url)
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


def child_command(command: str) -> list[str]:
    """`idpack COMMAND` in a child interpreter that never imports from its working
    folder (-P): a user's own mail.py there cannot stand in for idpack's."""
    return [sys.executable, "-P", "-m", "idpack", command]


def child_env(settings: IdpackSettings, env: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment (PATH, locale, ...) with the service's settings over it."""
    return {**env, **settings.to_env()}


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


def _start_keycloak(stack: StackSettings, files: StackFiles,
                    env: Mapping[str, str]) -> KeycloakServer:
    harness = HarnessSettings.from_env(env, stack_file=False)
    dist = prepare_distribution(harness, env)
    server = KeycloakServer(
        dist, files.keycloak_dir, host=stack.host, http_port=stack.keycloak_port,
        management_port=stack.management_port, admin_user=ADMIN_USER,
        # Generated on the first run and kept: the H2 database remembers the bootstrap
        # admin, so later runs must log in with the same password.
        admin_password=generated_secret(files.admin_password), env=env,
        themes_dir=harness.themes_dir or THEMES,
    )
    server.start(timeout=harness.start_timeout)
    return server


def short_link_hosts(target: KeycloakTarget) -> list[str]:
    """Short links lead to Keycloak's action links only."""
    keycloak_host = target.url.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
    return list(dict.fromkeys((keycloak_host, "127.0.0.1", "localhost")))


def _relay_settings(stack: StackSettings, files: StackFiles, target: KeycloakTarget,
                    short_link_base: str, env: Mapping[str, str]) -> RelaySettings:
    """Delivering into .idpack/mail unless the environment names an upstream."""
    return RelaySettings.from_env(
        env, stack_file=False, home=files.state_dir, host=stack.host, port=stack.relay_port,
        metrics_host=stack.host, metrics_port=stack.relay_metrics_port,
        dkim_selector=DKIM_SELECTOR, dkim_keys_dir=files.dkim_dir,
        short_link_base=short_link_base, short_link_hosts=short_link_hosts(target))


def _start_relay(relay: RelaySettings, files: StackFiles) -> ChildService:
    """The relay; its DKIM keys made on the first run."""
    from mail.dkim_keys import generate, key_paths

    ensure_port_free(relay.host, relay.port, "IDPACK_RELAY_PORT", "the relay")
    ensure_port_free(relay.metrics_host, relay.metrics_port, "IDPACK_RELAY_METRICS_PORT",
                     "the relay's metrics")
    if not all(p.exists() for p in key_paths(relay.dkim_keys_dir, relay.dkim_selector)):
        generate(relay.dkim_keys_dir, relay.dkim_selector)
        say(f"Made DKIM keys for selector {relay.dkim_selector} in {relay.dkim_keys_dir}.")
    child = ChildService("the relay", child_command("relay"), child_env(relay, os.environ),
                         files.state_dir / "relay.log", tcp_ready(relay.host, relay.port))
    seconds = child.start()
    say(f"Relay ready on {relay.host}:{relay.port} in {seconds:.1f} s "
        f"(mail lands in {relay.upstream.removeprefix('maildir:')}; metrics on "
        f"http://{relay.metrics_host}:{relay.metrics_port}/metrics).")
    return child


def _sidecar_settings(stack: StackSettings, files: StackFiles, target: KeycloakTarget,
                      relay: RelaySettings, portal_url: str,
                      env: Mapping[str, str]) -> SidecarSettings:
    secrets = realm_environment(files, env)
    return SidecarSettings.from_env(
        env, stack_file=False, home=files.state_dir, keycloak_url=target.url,
        realm=stack.realm, host=stack.host, port=stack.sidecar_port,
        client_secret=secrets["IDPACK_SIDECAR_CLIENT_SECRET"],
        password_check_client_secret=secrets["IDPACK_PASSWORD_CHECK_CLIENT_SECRET"],
        portal_url=portal_url, smtp_host=relay.host, smtp_port=relay.port,
        short_link_hosts=relay.short_link_hosts)


def _start_sidecar(sidecar: SidecarSettings, files: StackFiles) -> ChildService:
    ensure_port_free(sidecar.host, sidecar.port, "IDPACK_SIDECAR_PORT", "the sidecar")
    url = f"http://{sidecar.host}:{sidecar.port}"
    child = ChildService("the sidecar", child_command("sidecar"),
                         child_env(sidecar, os.environ), files.state_dir / "sidecar.log",
                         http_ready(f"{url}/readyz"))
    seconds = child.start()
    say(f"Sidecar ready on {url} in {seconds:.1f} s.")
    return child


def _start_geo_worker(sidecar: SidecarSettings, files: StackFiles,
                      env: Mapping[str, str]) -> ChildService:
    geo = GeoSettings.from_env(
        env, stack_file=False, home=files.state_dir, keycloak_url=sidecar.keycloak_url,
        realm=sidecar.realm, client_id=sidecar.client_id, client_secret=sidecar.client_secret,
        store=sidecar.store)
    log_path = files.state_dir / "geo-worker.log"
    child = ChildService("the geo worker", child_command("geo-worker"),
                         child_env(geo, os.environ), log_path,
                         log_ready(log_path, "polling every"))
    seconds = child.start()
    say(f"Geo worker following REGISTER events ({seconds:.1f} s).")
    return child


def _start_portal(stack: StackSettings, sidecar: SidecarSettings, files: StackFiles,
                  portal_url: str, env: Mapping[str, str]) -> ChildService:
    portal = PortalSettings.from_env(
        env, stack_file=False, home=files.state_dir, portal_url=portal_url,
        keycloak_url=sidecar.keycloak_url, realm=sidecar.realm,
        sidecar_url=f"http://{sidecar.host}:{sidecar.port}", store=sidecar.store,
        host=stack.host, port=stack.portal_port)
    ensure_port_free(portal.host, portal.port, "IDPACK_PORTAL_PORT", "the portal")
    child = ChildService("the portal", child_command("portal"), child_env(portal, os.environ),
                         files.state_dir / "portal.log",
                         http_ready(f"{portal.portal_url}/healthz"))
    seconds = child.start()
    say(f"Portal ready on {portal.portal_url} in {seconds:.1f} s.")
    return child


def _provision_realm(stack: StackSettings, admin: KeycloakAdminClient, files: StackFiles,
                     env: Mapping[str, str]) -> str | None:
    """Make the realm match realm-config with the stack's overlay; its name."""
    from provisioning.config import load_config
    from provisioning.engine import apply_plan, plan_realm

    if not stack.realm_file.is_file():
        say(f"No realm file at {stack.realm_file}: Keycloak runs without a realm of ours.")
        return None
    paths = stack.realm_files()
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

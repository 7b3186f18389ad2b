"""What `idpack up` prints once the stack answers: where everything is."""

from __future__ import annotations

import sys
from pathlib import Path

from idpack.commands.stack_files import StackFiles
from idpack.keycloak.server import KeycloakServer
from idpack.keycloak.target import KeycloakTarget


def print_banner(target: KeycloakTarget, files: StackFiles, server: KeycloakServer | None,
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

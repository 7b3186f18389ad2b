"""`idpack` run inside the test's own process, as `python -m idpack` runs it: the same
argument parsing, error handling and exit codes, without an interpreter start per run
(the realm JSON conformance corpus runs the CLI some two hundred times). An exception
the CLI does not turn into an error message propagates out of `run_idpack`, so a test
sees the traceback a user would."""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from unittest import mock

from idpack.commands import main
from idpack.keycloak.target import KeycloakTarget
from tests.support.realm import SECRETS


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_idpack(keycloak: KeycloakTarget, *args: str,
               env: dict[str, str] | None = None) -> Ran:
    environment = {**SECRETS, **(env or {}), "KEYCLOAK_URL": keycloak.url,
                   "KEYCLOAK_ADMIN": keycloak.admin_user,
                   "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password}
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, environment), \
            mock.patch.object(sys, "argv", ["idpack", *args]), \
            redirect_stdout(out), redirect_stderr(err):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return Ran(code, out.getvalue(), err.getvalue())

"""`idpack deploy secrets --idp NAME`: an identity provider's credentials become the two
files (three for OIDC) the realm job reads, named after the variables realm-config
reads them from; the secret is taken from a flag, the terminal or standard input and
never printed."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from tests.support.realm import REPO


def deploy_secrets(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "idpack", "deploy", "secrets", *args],
                          cwd=REPO, input=stdin, capture_output=True, text=True, timeout=60,
                          check=False)


def test_a_provider_is_two_files_named_as_the_realm_file_reads_them(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secret = "gh-secret-5b7d-never-printed"

    made = deploy_secrets(str(secrets), "--idp", "github", "--client-id", "Iv1.abc",
                          stdin=secret + "\n")
    rotated = deploy_secrets(str(secrets), "--idp", "github", "--client-id", "Iv1.abc",
                             "--client-secret", "rotated-secret-61f0")

    assert made.returncode == 0, made.stderr
    folder = secrets / "identity-providers"
    assert sorted(p.name for p in folder.iterdir()) == ["GITHUB_CLIENT_ID",
                                                        "GITHUB_CLIENT_SECRET"]
    assert (folder / "GITHUB_CLIENT_ID").read_text() == "Iv1.abc\n"
    assert rotated.returncode == 0, rotated.stderr
    assert (folder / "GITHUB_CLIENT_SECRET").read_text() == "rotated-secret-61f0\n"
    assert "replaced" in rotated.stdout
    for result in (made, rotated):
        assert secret not in result.stdout + result.stderr
        assert "rotated-secret-61f0" not in result.stdout + result.stderr
    # the containers' users read them; the secrets folder keeps everyone else out
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert (secrets / "keycloak_admin_password").is_file()  # the rest made too


def test_oidc_needs_its_issuer_and_a_provider_can_be_removed(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    without = deploy_secrets(str(secrets), "--idp", "oidc", "--client-id", "idpack",
                             "--client-secret", "s")
    made = deploy_secrets(str(secrets), "--idp", "oidc", "--client-id", "idpack",
                          "--client-secret", "s", "--issuer", "https://login.example.org/")
    removed = deploy_secrets(str(secrets), "--idp", "oidc", "--remove")

    assert without.returncode == 1
    assert "needs --issuer" in without.stderr
    assert made.returncode == 0, made.stderr
    assert removed.returncode == 0, removed.stderr
    assert "EXAMPLE_OIDC_ISSUER" in removed.stdout
    assert list((secrets / "identity-providers").iterdir()) == []


def test_no_secret_on_standard_input_is_an_error_that_writes_nothing(tmp_path: Path) -> None:
    done = deploy_secrets(str(tmp_path / "s"), "--idp", "google", "--client-id", "g")

    assert done.returncode == 1
    assert "no google client secret given" in done.stderr
    assert not (tmp_path / "s" / "identity-providers" / "GOOGLE_CLIENT_ID").exists()

"""The README's deploy steps, as the deploy tests run them: every shell block under
"Deploying" marked `<!-- deploy:run -->`, in order, exactly as printed, except for the
values an installation chooses for itself (its mail server, its OAuth apps' issuer,
the stand-ins of the providers), which the tests give as an operator would: in `.env`,
and as the one placeholder URL of an OIDC issuer."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MARK = "<!-- deploy:run -->"
BLOCK = re.compile(r"^[ \t]*" + re.escape(MARK) + r"\n[ \t]*```sh\n(.*?)\n[ \t]*```",
                   re.MULTILINE | re.DOTALL)
ENV_FILE = re.compile(r"(cat > \.env <<'EOF'\n)(.*?)(\nEOF)(\n|$)", re.DOTALL)


@dataclass(frozen=True)
class Step:
    script: str
    line: int  # where the block starts in README.md

    def commands(self) -> list[str]:
        """The block's commands: lines joined where they end in a backslash, a here-doc
        kept whole with the line that opens it."""
        commands: list[str] = []
        lines = iter(self.script.splitlines())
        for line in lines:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            while text.endswith("\\"):
                text = text[:-1].rstrip() + " " + next(lines).strip()
            if "<<'EOF'" in text:
                body = []
                for inner in lines:
                    body.append(inner)
                    if inner.strip() == "EOF":
                        break
                text = "\n".join([text, *body])
            commands.append(text)
        return commands


def steps(readme: Path) -> list[Step]:
    text = readme.read_text(encoding="utf-8")
    start = text.index("\n## Deploying")
    end = text.index("\n## ", start + 1)
    section = text[start:end]
    found = [Step(re.sub(r"^  ", "", m.group(1), flags=re.MULTILINE),
                  text[:start + m.start()].count("\n") + 1) for m in BLOCK.finditer(section)]
    assert found, "README.md's Deploying section marks no block deploy:run"
    return found


def with_installation(command: str, env_values: Mapping[str, str],
                      replace: Mapping[str, str]) -> str:
    """`command` with this installation's values: in a `.env` it writes, each key of
    `env_values` set (replaced where the README gives one, added otherwise), and each
    text of `replace` replaced."""
    for old, new in replace.items():
        command = command.replace(old, new)
    found = ENV_FILE.search(command)
    if found is None:
        return command
    lines = found.group(2).splitlines()
    given = dict(env_values)
    kept = []
    for line in lines:
        key = line.split("=", 1)[0]
        kept.append(f"{key}={given.pop(key)}" if key in given else line)
    kept += [f"{key}={value}" for key, value in given.items()]
    return command[:found.start(2)] + "\n".join(kept) + command[found.end(2):]


def run(command: str, cwd: Path, env: Mapping[str, str], log: Path,
        timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """One command with bash, as an operator's shell runs it; its output kept in `log`."""
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=dict(env),
                          capture_output=True, text=True, timeout=timeout, check=False)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {command}\n{done.stdout}{done.stderr}(exit {done.returncode})\n\n")
    return done

"""A service's sign of life for its health check, where it serves no HTTP: a file whose
content is the time of its last good round of work (the geo worker's last poll),
replaced atomically, at most every few seconds so a fast loop does not wear the disk."""

from __future__ import annotations

import time
from pathlib import Path


class Heartbeat:
    def __init__(self, path: Path, every: float = 5.0) -> None:
        self.path = path
        self.every = every
        self._last = 0.0

    def beat(self) -> None:
        now = time.time()
        if now - self._last < self.every:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        temporary.write_text(f"{now:.3f}\n", encoding="utf-8")
        temporary.replace(self.path)
        self._last = now


def seconds_since(path: Path) -> float | None:
    """How long ago the last beat was; None if there was none."""
    try:
        return time.time() - float(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None

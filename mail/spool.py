"""The durable queue. A message is accepted (and only then answered 250) once its file
is on disk: written to tmp/, fsynced, renamed into queue/, and the directory fsynced.
Delivery state (which recipients remain, attempts, when to try next) lives in a small
JSON file beside it, replaced atomically. Dead letters move to dead/ and stay there.

    spool/tmp/      half-written files; removed at start-up
    spool/queue/    <id>.eml (the exact bytes to send) and <id>.json (its state)
    spool/dead/     messages, or recipients, that could not be delivered, with reasons
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Entry:
    id: str
    mail_from: str
    recipients: list[str]
    created: float
    attempts: int = 0
    next_try: float = 0.0
    last_error: str | None = None
    failed: dict[str, str] = field(default_factory=dict)  # recipient -> permanent reason


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(directory: Path, tmp: Path, name: str, content: bytes) -> None:
    temporary = tmp / f"{name}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    temporary.replace(directory / name)
    _fsync_directory(directory)


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp, self.queue, self.dead = root / "tmp", root / "queue", root / "dead"
        for directory in (self.tmp, self.queue, self.dead):
            directory.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp.iterdir():  # never acknowledged, so never promised
            leftover.unlink()

    def accept(self, mail_from: str, recipients: list[str], content: bytes) -> str:
        """Store the message durably; its queue id. Raises OSError when it could not."""
        queue_id = f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(6)}"
        entry = Entry(queue_id, mail_from, list(recipients), time.time())
        # The state goes first: a message file without state would be stranded.
        _write_durably(self.queue, self.tmp, f"{queue_id}.json", _encode(entry))
        _write_durably(self.queue, self.tmp, f"{queue_id}.eml", content)
        return queue_id

    def due(self, now: float | None = None) -> Iterator[Entry]:
        now = time.time() if now is None else now
        for state in sorted(self.queue.glob("*.json")):
            if not state.with_suffix(".eml").exists():
                continue  # accept() was cut off between the two files: never answered 250
            entry = _decode(state.read_bytes())
            if entry.next_try <= now:
                yield entry

    def content(self, entry: Entry) -> bytes:
        return (self.queue / f"{entry.id}.eml").read_bytes()

    def update(self, entry: Entry) -> None:
        _write_durably(self.queue, self.tmp, f"{entry.id}.json", _encode(entry))

    def done(self, entry: Entry) -> None:
        """Every recipient delivered or dead-lettered: the message leaves the queue."""
        if entry.failed:
            self._to_dead(entry)
            return
        (self.queue / f"{entry.id}.eml").unlink(missing_ok=True)
        (self.queue / f"{entry.id}.json").unlink(missing_ok=True)
        _fsync_directory(self.queue)

    def _to_dead(self, entry: Entry) -> None:
        _write_durably(self.dead, self.tmp, f"{entry.id}.json", _encode(entry))
        (self.queue / f"{entry.id}.eml").replace(self.dead / f"{entry.id}.eml")
        (self.queue / f"{entry.id}.json").unlink(missing_ok=True)
        _fsync_directory(self.dead)
        _fsync_directory(self.queue)

    def dead_letters(self) -> list[Entry]:
        return [_decode(p.read_bytes()) for p in sorted(self.dead.glob("*.json"))]

    def queued(self) -> list[Entry]:
        return [_decode(p.read_bytes()) for p in sorted(self.queue.glob("*.json"))
                if p.with_suffix(".eml").exists()]


def _encode(entry: Entry) -> bytes:
    return json.dumps(asdict(entry), sort_keys=True).encode()


def _decode(raw: bytes) -> Entry:
    return Entry(**json.loads(raw))

"""The durable queue. A message is accepted (and only then answered 250) once its file
is on disk: written to tmp/, fsynced, renamed into queue/, and the directory fsynced.
Delivery state (which recipients remain, attempts, when to try next) lives in a small
JSON file beside it, replaced atomically. Dead letters move to dead/ and stay there.

    spool/tmp/      half-written files; removed at start-up
    spool/queue/    <id>.msg: a JSON line (envelope and state at acceptance), then the
                    exact bytes to send; <id>.json: its later state, once there is one
    spool/dead/     messages, or recipients, that could not be delivered, with reasons
    spool/store-journal.jsonl
                    short links made while the shared store (Redis) was away, until
                    they are written into it (idpack.store.fallback)

One file per accepted message keeps acceptance at one file fsync and one directory
fsync, the cost that bounds how many messages a second the relay can take."""

from __future__ import annotations

import json
import os
import secrets
import threading
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


class GroupSync:
    """fsync of one directory, shared by the threads that need it at once (group
    commit): a caller returns once an fsync that began after its call has finished, so
    its rename is durable, and N concurrent acceptances cost about one fsync, not N."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._changed = threading.Condition()
        self._started = 0  # fsyncs begun
        self._finished = 0  # the latest fsync finished
        self._running = False

    def sync(self) -> None:
        with self._changed:
            needed = self._started + 1  # only an fsync beginning from now on covers us
            while self._finished < needed:
                if not self._running:
                    self._running = True
                    self._started += 1
                    generation = self._started
                    break
                self._changed.wait()
            else:
                return
        try:
            _fsync_directory(self.path)
        finally:
            with self._changed:
                self._running = False
                self._finished = generation
                self._changed.notify_all()


def _write_durably(directory: Path, tmp: Path, name: str, content: bytes,
                   sync: GroupSync | None = None) -> None:
    temporary = tmp / f"{name}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    temporary.replace(directory / name)
    if sync is not None:
        sync.sync()
    else:
        _fsync_directory(directory)


class Spool:
    def __init__(self, root: Path, clean: bool = True) -> None:
        """`clean`: remove half-written files, which only the SMTP side may do, before it
        accepts (the delivery worker opens the same spool with clean=False)."""
        self.root = root
        self.tmp, self.queue, self.dead = root / "tmp", root / "queue", root / "dead"
        self.stats_file = root / "delivery-stats.json"
        self.store_journal = root / "store-journal.jsonl"
        self._queue_sync = GroupSync(self.queue)
        for directory in (self.tmp, self.queue, self.dead):
            directory.mkdir(parents=True, exist_ok=True)
        if clean:
            for leftover in self.tmp.iterdir():  # never acknowledged, so never promised
                leftover.unlink()

    def accept(self, mail_from: str, recipients: list[str], content: bytes) -> str:
        """Store the message durably; its queue id. Raises OSError when it could not."""
        queue_id = f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(6)}"
        entry = Entry(queue_id, mail_from, list(recipients), time.time())
        _write_durably(self.queue, self.tmp, f"{queue_id}.msg", _encode(entry) + b"\n" + content,
                       self._queue_sync)
        return queue_id

    def _entry(self, message_file: Path) -> Entry:
        state = message_file.with_suffix(".json")
        if state.exists():
            return _decode(state.read_bytes())
        with message_file.open("rb") as f:
            return _decode(f.readline())

    def due(self, now: float | None = None) -> Iterator[Entry]:
        now = time.time() if now is None else now
        for message_file in sorted(self.queue.glob("*.msg")):
            entry = self._entry(message_file)
            if entry.next_try <= now:
                yield entry

    def content(self, entry: Entry) -> bytes:
        return (self.queue / f"{entry.id}.msg").read_bytes().split(b"\n", 1)[1]

    def update(self, entry: Entry) -> None:
        _write_durably(self.queue, self.tmp, f"{entry.id}.json", _encode(entry))

    def done(self, entry: Entry, sync: bool = True) -> None:
        """Every recipient delivered or dead-lettered: the message leaves the queue.
        With sync=False the caller fsyncs the queue directory once for many (sync())."""
        if entry.failed:
            self._to_dead(entry)
            return
        (self.queue / f"{entry.id}.msg").unlink(missing_ok=True)
        (self.queue / f"{entry.id}.json").unlink(missing_ok=True)
        if sync:
            self.sync()

    def sync(self) -> None:
        _fsync_directory(self.queue)

    def _to_dead(self, entry: Entry) -> None:
        _write_durably(self.dead, self.tmp, f"{entry.id}.json", _encode(entry))
        (self.queue / f"{entry.id}.msg").replace(self.dead / f"{entry.id}.msg")
        (self.queue / f"{entry.id}.json").unlink(missing_ok=True)
        _fsync_directory(self.dead)
        _fsync_directory(self.queue)

    def dead_letters(self) -> list[Entry]:
        return [_decode(p.read_bytes()) for p in sorted(self.dead.glob("*.json"))]

    def dead_content(self, entry: Entry) -> bytes:
        return (self.dead / f"{entry.id}.msg").read_bytes().split(b"\n", 1)[1]

    def depth(self) -> int:
        """How many messages wait, without reading them."""
        return sum(1 for _ in self.queue.glob("*.msg"))

    def queued(self) -> list[Entry]:
        return [self._entry(p) for p in sorted(self.queue.glob("*.msg"))]


def _encode(entry: Entry) -> bytes:
    return json.dumps(asdict(entry), sort_keys=True).encode()


def _decode(raw: bytes) -> Entry:
    return Entry(**json.loads(raw))

"""A store that degrades, never loses, while its backend (Redis) is away.

- Rate-limit windows are counted in this process until the backend answers again: a
  limit holds per process rather than across replicas for that while, and nothing is
  refused for want of a counter.
- With a journal (the relay's, in its spool volume), what is written while the backend
  is away is appended to the journal and fsynced before the caller goes on, and
  written to the backend, with what is left of its time to live, once it answers:
  the relay keeps accepting verification mail, and the short links in it resolve as
  soon as Redis is back. The journal's layout, one JSON object a line:

      {"namespace": "short-links", "key": "<code>", "value": {...}, "expires": <epoch s>}

- Reads (`get`, `take`) have nothing to fall back on and raise StoreUnavailable, which
  the services answer with a 503 page that says to retry.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from idpack.store.base import Store, StoreUnavailable, Verdict

log = logging.getLogger("idpack.store")


class LocalWindows:
    """Sliding windows in this process's memory, as the backends count them."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: float, limit: int) -> Verdict:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) < limit:
                hits.append(now)
                return Verdict(True, 0.0)
            return Verdict(False, max(0.0, hits[0] + window - now))

    def forget(self) -> None:
        with self._lock:
            self._hits.clear()


class Journal:
    """Writes the backend could not take, kept on disk until it can."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, namespace: str, key: str, value: dict[str, Any], ttl: float) -> None:
        line = json.dumps({"namespace": namespace, "key": key, "value": value,
                           "expires": time.time() + ttl}) + "\n"
        with self._lock:
            new = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                size = os.fstat(fd).st_size
                # A crash mid-append leaves a torn line: end it, so this one stands.
                torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
                os.write(fd, (b"\n" if torn else b"") + line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            if new:  # the file's name must survive a crash too
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)

    def pending(self) -> int:
        with self._lock:
            return self._count()

    def _count(self) -> int:
        try:
            with self.path.open("rb") as f:
                return sum(1 for line in f if line.strip())
        except FileNotFoundError:
            return 0

    def replay(self, into: Store) -> int:
        """Write every entry still alive into `into`; the number written. What `into`
        refuses stays for the next replay (a torn line, from a crash mid-append, was
        never acknowledged and is dropped)."""
        with self._lock:
            try:
                lines = self.path.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                return 0
            written, left = 0, []
            for index, line in enumerate(lines):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                ttl = float(entry["expires"]) - time.time()
                if ttl <= 0:
                    continue
                try:
                    into.put(entry["namespace"], entry["key"], entry["value"], ttl)
                except StoreUnavailable:
                    left = lines[index:]
                    break
                written += 1
            if left:
                temporary = self.path.with_suffix(".tmp")
                temporary.write_text("\n".join(left) + "\n", encoding="utf-8")
                with temporary.open("rb") as f:
                    os.fsync(f.fileno())
                temporary.replace(self.path)
            else:
                self.path.unlink(missing_ok=True)
            return written


class FallbackStore:
    def __init__(self, backend: Store, journal: Path | None = None) -> None:
        self.backend = backend
        self.journal = Journal(journal) if journal is not None else None
        self.local = LocalWindows()
        self.unavailable_since: float | None = None
        self._state = threading.Lock()

    def _down(self, exc: StoreUnavailable) -> None:
        with self._state:
            if self.unavailable_since is None:
                self.unavailable_since = time.time()
                log.warning("%s; counting limits in this process%s until it is back", exc,
                            " and journaling writes" if self.journal else "")

    def _up(self) -> None:
        if self.unavailable_since is None:
            return
        with self._state:  # of several threads finding it back, one says so
            since, self.unavailable_since = self.unavailable_since, None
        if since is not None:
            self.local.forget()
            log.warning("the store is back after %.0f s", time.time() - since)

    def put(self, namespace: str, key: str, value: dict[str, Any], ttl: float) -> None:
        try:
            self.backend.put(namespace, key, value, ttl)
        except StoreUnavailable as exc:
            if self.journal is None:
                raise
            self._down(exc)
            self.journal.append(namespace, key, value, ttl)
            return
        self._up()

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        return self.backend.get(namespace, key)

    def take(self, namespace: str, key: str) -> dict[str, Any] | None:
        return self.backend.take(namespace, key)

    def hit(self, key: str, window: float, limit: int) -> Verdict:
        try:
            verdict = self.backend.hit(key, window, limit)
        except StoreUnavailable as exc:
            self._down(exc)
            return self.local.hit(key, window, limit)
        self._up()
        return verdict

    def ping(self) -> None:
        self.backend.ping()

    def catch_up(self) -> int:
        """If the backend answers: the journal written into it; the entries written."""
        if self.journal is None:
            return 0
        try:
            self.backend.ping()
        except StoreUnavailable as exc:
            self._down(exc)
            return 0
        self._up()
        written = self.journal.replay(self.backend)
        if written:
            log.warning("wrote %d journaled entr%s into the store", written,
                        "y" if written == 1 else "ies")
        return written

    def catch_up_forever(self, stopping: threading.Event, interval: float = 2.0) -> None:
        while not stopping.wait(interval):
            try:
                self.catch_up()
            except Exception:  # never let the catching-up thread die
                log.exception("catching up with the store failed; trying again")

    def status(self) -> dict[str, Any]:
        """For health checks and metrics: whether the backend is away, since when, and
        how many writes wait in the journal."""
        return {"available": self.unavailable_since is None,
                "unavailable_since": self.unavailable_since,
                "journaled": self.journal.pending() if self.journal else 0}

"""The embedded store: one SQLite file in WAL mode, safe across the threads and worker
processes of one machine. Each operation is one short transaction. Expired entries and
hits that left their window are swept every few hundred writes, so the file does not
grow with every link, lease and rate-limited request ever made."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from idpack.store.base import Verdict

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (namespace, key));
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL,
                                 expires REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS hits_by_key ON hits (key, at);
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires);
CREATE INDEX IF NOT EXISTS hits_by_expiry ON hits (expires);
"""
SWEEP_EVERY = 256  # writes of one process between sweeps


def connect_wal(path: Path, *, timeout: float, check_same_thread: bool = True,
                ) -> sqlite3.Connection:
    """A connection to the SQLite file at `path` in WAL mode, waiting up to `timeout` for
    locks. Switching a new file to WAL takes a lock SQLite does not wait for (no busy
    handler): processes opening one new file at once, such as a replica's workers at
    their first start, try again until `timeout` rather than fail."""
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None,
                         check_same_thread=check_same_thread)
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                db.close()
                raise
            time.sleep(0.01)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._writes = 0
        db = self._connection()
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(hits)")}
        if "expires" not in columns:  # a store from before hits kept their expiry
            db.execute("ALTER TABLE hits ADD COLUMN expires REAL NOT NULL DEFAULT 0")
        db.executescript(INDEXES)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = connect_wal(self.path, timeout=10)
            self._local.db = db
        return db

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self) -> None:
        """Delete what no read can see any more."""
        now = time.time()
        db = self._connection()
        db.execute("DELETE FROM entries WHERE expires <= ?", (now,))
        db.execute("DELETE FROM hits WHERE expires <= ?", (now,))

    def put(self, namespace: str, key: str, value: dict[str, Any], ttl: float) -> None:
        self._connection().execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
            (namespace, key, json.dumps(value), time.time() + ttl))
        self._wrote()

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        row = self._connection().execute(
            "SELECT value FROM entries WHERE namespace = ? AND key = ? AND expires > ?",
            (namespace, key, time.time())).fetchone()
        return json.loads(row[0]) if row else None

    def take(self, namespace: str, key: str) -> dict[str, Any] | None:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT value FROM entries WHERE namespace = ? AND key = ? AND expires > ?",
                (namespace, key, time.time())).fetchone()
            db.execute("DELETE FROM entries WHERE namespace = ? AND key = ?", (namespace, key))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return json.loads(row[0]) if row else None

    def ping(self) -> None:
        self._connection().execute("SELECT 1").fetchone()

    def hit(self, key: str, window: float, limit: int) -> Verdict:
        db = self._connection()
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM hits WHERE key = ? AND at <= ?", (key, now - window))
            count, oldest = db.execute("SELECT count(*), min(at) FROM hits WHERE key = ?",
                                       (key,)).fetchone()
            allowed = count < limit
            if allowed:
                db.execute("INSERT INTO hits VALUES (?, ?, ?)", (key, now, now + window))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if allowed:
            self._wrote()
        retry_after = 0.0 if allowed else max(0.0, oldest + window - now)
        return Verdict(allowed, retry_after)

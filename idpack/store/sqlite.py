"""The embedded store: one SQLite file in WAL mode, safe across the threads and worker
processes of one machine. Each operation is one short transaction."""

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
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_by_key ON hits (key, at);
"""


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connection() as db:
            db.executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def put(self, namespace: str, key: str, value: dict[str, Any], ttl: float) -> None:
        self._connection().execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
            (namespace, key, json.dumps(value), time.time() + ttl))

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
                db.execute("INSERT INTO hits VALUES (?, ?)", (key, now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        retry_after = 0.0 if allowed else max(0.0, oldest + window - now)
        return Verdict(allowed, retry_after)

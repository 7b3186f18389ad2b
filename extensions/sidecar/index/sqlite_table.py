"""The index in one SQLite file (WAL mode) that the workers of one replica share: readers
never wait for the follower's writes, and a lookup of 100 names is one indexed query.
Per million users the file holds 128 MB (measured), in the page cache rather than in each
worker's memory."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from extensions.sidecar.index.table import Entry, IndexState
from extensions.sidecar.roles import BY_VALUE
from idpack.store.sqlite import connect_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, user_id TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    uid INTEGER, cycle INTEGER NOT NULL DEFAULT 0, changed INTEGER NOT NULL DEFAULT 0)
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS users_by_uid ON users (uid) WHERE uid IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
COLUMNS = "username, user_id, role, uid, changed"
MAX_VARIABLES = 500  # SQLite allows 999 (older builds) to 32766 per statement


class SqliteIndexTable:
    def __init__(self, path: Path, realm: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.cycle = 0
        db = self._db()
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
        for column in ("cycle", "changed"):  # a table from before they were kept
            if column not in columns:
                db.execute(f"ALTER TABLE users ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'realm'").fetchone()
            if row is None or json.loads(row[0]) != realm:
                db.execute("DELETE FROM users")
                db.execute("DELETE FROM meta")
                db.execute("INSERT INTO meta VALUES ('realm', ?)", (json.dumps(realm),))

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = connect_wal(self.path, timeout=30, check_same_thread=False)
            self._local.db = db
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def get_many(self, usernames: Iterable[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        names = list(dict.fromkeys(usernames))
        for first in range(0, len(names), MAX_VARIABLES):
            chunk = names[first:first + MAX_VARIABLES]
            marks = ",".join("?" * len(chunk))
            for row in self._db().execute(
                    f"SELECT {COLUMNS} FROM users WHERE username IN ({marks})",  # noqa: S608
                    chunk):
                found[row[0]] = _entry(row)
        return found

    def name_of(self, user_id: str) -> str | None:
        row = self._db().execute("SELECT username FROM users WHERE user_id = ?",
                                 (user_id,)).fetchone()
        return str(row[0]) if row else None

    def by_uid(self, uids: Iterable[int]) -> dict[int, Entry]:
        found: dict[int, Entry] = {}
        wanted = list(dict.fromkeys(uids))
        for first in range(0, len(wanted), MAX_VARIABLES):
            chunk = wanted[first:first + MAX_VARIABLES]
            marks = ",".join("?" * len(chunk))
            for row in self._db().execute(
                    f"SELECT {COLUMNS} FROM users WHERE uid IN ({marks})",  # noqa: S608
                    chunk):
                found[int(row[3])] = _entry(row)
        return found

    def put_many(self, entries: Iterable[Entry]) -> None:
        rows = [(e.username, e.user_id, e.role.value, e.uid, self.cycle, e.changed_ms)
                for e in entries]
        if not rows:
            return
        with self._write() as db:
            # A user renamed (or a name given to another id) drops the old row first.
            db.executemany("DELETE FROM users WHERE user_id = ? AND username != ?",
                           [(r[1], r[0]) for r in rows])
            db.executemany("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?)", rows)

    def forget(self, user_ids: Iterable[str]) -> None:
        ids = [(i,) for i in user_ids]
        if ids:
            with self._write() as db:
                db.executemany("DELETE FROM users WHERE user_id = ?", ids)

    def stamp(self, usernames: Iterable[str], cycle: int) -> None:
        rows = [(cycle, name) for name in usernames]
        if rows:
            with self._write() as db:
                db.executemany("UPDATE users SET cycle = ? WHERE username = ?", rows)

    def unstamped(self, cycle: int) -> list[Entry]:
        return [_entry(row) for row in self._db().execute(
            f"SELECT {COLUMNS} FROM users WHERE cycle < ?", (cycle,))]  # noqa: S608

    def count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM users").fetchone()[0])

    def state(self) -> IndexState:
        row = self._db().execute("SELECT value FROM meta WHERE key = 'state'").fetchone()
        return IndexState.from_json(json.loads(row[0]) if row else None)

    def save_state(self, state: IndexState) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('state', ?)",
                       (json.dumps(state.to_json()),))

    def clear(self) -> None:
        with self._write() as db:  # the uid counter stays: uids are never handed out twice
            db.execute("DELETE FROM users")
            db.execute("DELETE FROM meta WHERE key = 'state'")

    def next_uids(self, count: int, at_least: int = 1) -> list[int]:
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'uid_counter'").fetchone()
            held = db.execute("SELECT max(uid) FROM users").fetchone()[0] or 0
            last = max(int(json.loads(row[0])) if row else 0, int(held), at_least - 1)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('uid_counter', ?)",
                       (json.dumps(last + count),))
        return list(range(last + 1, last + count + 1))

    def lease(self, holder: str, seconds: float) -> bool:
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'lease'").fetchone()
            current = json.loads(row[0]) if row else None
            if current and current["holder"] != holder and current["until"] > now:
                return False
            db.execute("INSERT OR REPLACE INTO meta VALUES ('lease', ?)",
                       (json.dumps({"holder": holder, "until": now + seconds}),))
        return True

    def release(self, holder: str) -> None:
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'lease'").fetchone()
            if row and json.loads(row[0])["holder"] == holder:
                db.execute("DELETE FROM meta WHERE key = 'lease'")


def _entry(row: tuple[str, str, str, int | None, int]) -> Entry:
    return Entry(row[0], row[1], BY_VALUE[row[2]], row[3], row[4])

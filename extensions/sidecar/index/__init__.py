"""The sidecar's user index: every username of the realm with its Keycloak id, UCloud role
and uid, kept in a table its workers (SQLite, one a replica) or all replicas (Redis)
share, and kept current from Keycloak's events by one follower (see user_index.py)."""

from __future__ import annotations

from pathlib import Path

from extensions.sidecar.index.table import Entry, IndexState, IndexTable, uid_of
from idpack.store import REDIS_SCHEMES

__all__ = ["Entry", "IndexState", "IndexTable", "open_index_table", "uid_of"]

def open_index_table(location: str, realm: str) -> IndexTable:
    """The index of `realm` at `location`: a redis:// URL or an SQLite file path."""
    if location.startswith(REDIS_SCHEMES):
        from extensions.sidecar.index.redis_table import RedisIndexTable

        return RedisIndexTable.from_url(location, realm)
    from extensions.sidecar.index.sqlite_table import SqliteIndexTable

    return SqliteIndexTable(Path(location), realm)

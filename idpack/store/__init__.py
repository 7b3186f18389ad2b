"""State idpack owns (short links, pending email changes, rate-limit windows): one small
interface, `Store`, with two backends: SQLite for one machine (the default) and Redis
when the sidecar and the relay run on several.

    IDPACK_STORE=.idpack/store.sqlite          a file path: SQLite
    IDPACK_STORE=redis://127.0.0.1:6379/0      a redis:// (or rediss://, unix://) URL
"""

from __future__ import annotations

from pathlib import Path

from idpack.store.base import Store, StoreUnavailable, Verdict
from idpack.store.fallback import FallbackStore

__all__ = ["REDIS_SCHEMES", "FallbackStore", "Store", "StoreUnavailable", "Verdict",
           "check_location", "open_store"]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def check_location(location: str) -> str:
    """`location` if it names a store: a Redis URL, or an SQLite file path. A URL of
    another kind (postgres://, a mistyped scheme) is a ValueError, rather than the name
    of an SQLite file to make."""
    if "://" in location and not location.startswith(REDIS_SCHEMES):
        raise ValueError("not a redis://, rediss:// or unix:// URL, nor an SQLite file path "
                         "(a path has no scheme)")
    return location


def open_store(location: str, journal: Path | None = None) -> FallbackStore:
    """The store at `location`: a Redis URL or an SQLite file path, degrading while it
    is away (idpack.store.fallback); writes it cannot take go to `journal` if given."""
    backend: Store
    if location.startswith(REDIS_SCHEMES):
        from idpack.store.redis import RedisStore  # only Redis users pay for the import

        backend = RedisStore.from_url(location)
    else:
        from idpack.store.sqlite import SqliteStore

        backend = SqliteStore(Path(location))
    return FallbackStore(backend, journal)

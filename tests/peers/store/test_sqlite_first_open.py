"""Processes that open one new SQLite file at once (a replica's gunicorn workers at their
first start, two geo workers on one store) all get it. Switching a new file to WAL takes
a lock SQLite does not wait for: one worker in three or so died with "database is
locked" at boot (seen as a thread's error in test_geo_worker.py)."""

from __future__ import annotations

import multiprocessing
import traceback
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

OPENERS = 6
TRIES = 15


def open_at_once(kind: str, path: str, barrier: Barrier, errors: Any) -> None:
    from extensions.sidecar.index.sqlite_table import SqliteIndexTable
    from idpack.store.sqlite import SqliteStore

    barrier.wait()
    try:
        if kind == "store":
            SqliteStore(Path(path)).put("n", "k", {"v": 1}, ttl=60)
        else:
            SqliteIndexTable(Path(path), "realm").count()
        errors.put("")
    except Exception:  # reported to the test
        errors.put(traceback.format_exc())


@pytest.mark.parametrize("kind", ["store", "index"])
def test_processes_opening_a_new_file_at_once_all_get_it(kind: str, tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    for attempt in range(TRIES):
        barrier, errors = context.Barrier(OPENERS), context.Queue()
        path = tmp_path / f"{kind}-{attempt}.sqlite"
        openers = [context.Process(target=open_at_once, args=(kind, str(path), barrier, errors))
                   for _ in range(OPENERS)]
        for opener in openers:
            opener.start()
        failed = [error for error in (errors.get(timeout=60) for _ in openers) if error]
        for opener in openers:
            opener.join(timeout=30)

        assert not failed, f"attempt {attempt}: {failed[0]}"

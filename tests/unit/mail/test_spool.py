from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest

from mail import spool as spool_module
from mail.spool import GroupSync, Spool

MESSAGE = b"From: no-reply@mikrocloud.com\r\n\r\nhello\r\n"


def test_an_accepted_message_is_on_disk_with_its_state(tmp_path: Path) -> None:
    spool = Spool(tmp_path)

    queue_id = spool.accept("no-reply@mikrocloud.com", ["a@example.org"], MESSAGE)

    [entry] = list(spool.due())
    assert (entry.id, entry.recipients) == (queue_id, ["a@example.org"])
    assert spool.content(entry) == MESSAGE
    stored = tmp_path / "queue" / f"{queue_id}.msg"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_restart_finds_the_queue_and_drops_half_written_files(tmp_path: Path) -> None:
    Spool(tmp_path).accept("no-reply@mikrocloud.com", ["a@example.org"], MESSAGE)
    (tmp_path / "tmp" / "x.eml.1234").write_bytes(b"half")
    (tmp_path / "queue" / "orphan.json").write_text("{}")  # state of nothing: ignored

    spool = Spool(tmp_path)

    assert len(spool.queued()) == 1
    assert list((tmp_path / "tmp").iterdir()) == []


def test_deferred_entries_wait_and_dead_letters_stay(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.accept("no-reply@mikrocloud.com", ["a@example.org", "b@example.org"], MESSAGE)
    [entry] = list(spool.due())
    entry.next_try = entry.created + 300
    entry.attempts = 1
    spool.update(entry)

    assert list(spool.due(now=entry.created + 10)) == []
    [again] = list(spool.due(now=entry.created + 301))
    assert again.attempts == 1

    again.failed = {"b@example.org": "550 5.1.1 no such user"}
    again.recipients = []
    spool.done(again)
    assert spool.queued() == []
    [dead] = spool.dead_letters()
    assert dead.failed == {"b@example.org": "550 5.1.1 no such user"}
    assert spool.dead_content(dead) == MESSAGE


def test_group_sync_covers_every_caller_with_an_fsync_begun_after_its_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs: list[tuple[float, float]] = []

    def slow_fsync(path: Path) -> None:
        began = time.monotonic()
        time.sleep(0.01)
        fsyncs.append((began, time.monotonic()))

    monkeypatch.setattr(spool_module, "_fsync_directory", slow_fsync)
    group = GroupSync(tmp_path)
    calls: list[tuple[float, float]] = []
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(5):
            called = time.monotonic()
            group.sync()
            with lock:
                calls.append((called, time.monotonic()))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(calls) == 40
    assert len(fsyncs) < 40  # shared
    for called, returned in calls:
        assert any(called <= began and ended <= returned for began, ended in fsyncs)

"""How lookups share reads of Keycloak's events (extensions/sidecar/user_index.py:
SharedRead): strict callers never get a read begun before they called; callers that
accept a second of staleness get the last read at once and keep the next one coming in
the background, so under load nobody waits and Keycloak sees a bounded rate."""

from __future__ import annotations

import threading
import time

import pytest

from extensions.sidecar.user_index import Recent, SharedRead


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reads:
    """A read that counts itself and says which one it was (in highest_uid)."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.count = 0
        self.gate = gate

    def __call__(self) -> Recent:
        self.count += 1
        number = self.count
        if self.gate is not None:
            assert self.gate.wait(5)
        return Recent({}, set(), set(), number)


def which(recent: Recent | None) -> int:
    """The number of the read an answer came from."""
    assert recent is not None
    return recent.highest_uid


def settle(shared: SharedRead) -> None:
    deadline = time.monotonic() + 5
    while shared._running:  # a read started in the background
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_a_strict_caller_always_gets_a_read_begun_after_it_called() -> None:
    reads, clock = Reads(), Clock()
    shared = SharedRead(reads, clock)
    assert which(shared.get()) == 1
    assert which(shared.get()) == 2  # not the first read's answer


def test_within_the_window_a_caller_gets_the_last_read_without_keycloak() -> None:
    reads, clock = Reads(), Clock()
    shared = SharedRead(reads, clock)
    shared.get(1.0)
    clock.now += 0.4
    assert which(shared.get(1.0)) == 1
    assert reads.count == 1


def test_past_half_the_window_the_next_read_starts_in_the_background() -> None:
    gate = threading.Event()
    reads, clock = Reads(gate), Clock()
    shared = SharedRead(reads, clock)
    gate.set()
    shared.get(1.0)
    gate.clear()
    clock.now += 0.7

    got = shared.get(1.0)  # answered from the last read while the next one runs

    assert which(got) == 1
    assert shared._running
    gate.set()
    settle(shared)
    assert which(shared.get(1.0)) == 2
    assert reads.count == 2


def test_past_the_window_a_caller_waits_for_a_fresh_read() -> None:
    reads, clock = Reads(), Clock()
    shared = SharedRead(reads, clock)
    shared.get(1.0)
    clock.now += 1.5
    assert which(shared.get(1.0)) == 2


def test_a_failed_read_is_never_served_from_the_window() -> None:
    clock = Clock()
    outcomes: list[Recent | Exception] = [RuntimeError("Keycloak away"),
                                          Recent({}, set(), set(), 7)]

    def read() -> Recent:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    shared = SharedRead(read, clock)
    with pytest.raises(RuntimeError):
        shared.get(1.0)
    assert which(shared.get(1.0)) == 7  # reads again at once


def test_callers_arriving_together_share_one_read() -> None:
    gate = threading.Event()
    reads = Reads(gate)
    shared = SharedRead(reads)
    first = threading.Thread(target=shared.get)
    first.start()
    while not shared._running:
        time.sleep(0.001)
    waiting = [threading.Thread(target=shared.get) for _ in range(8)]
    for thread in waiting:
        thread.start()
    time.sleep(0.05)
    gate.set()
    for thread in [first, *waiting]:
        thread.join(5)
    assert reads.count == 2  # the running one, and one more for all who came during it

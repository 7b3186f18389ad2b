"""Waiting for what the sidecar learns from Keycloak's events: a user made, or given a
role, elsewhere than through the sidecar (the Admin API, the hosted page) shows in its
lookups within about a second (a lookup may share a read of the events begun up to a
second before it: extensions/sidecar/user_index.py); the issue allows three."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
CHANGE_SHOWS_WITHIN = 3.0


def eventually(read: Callable[[], T], done: Callable[[T], bool],
               within: float = CHANGE_SHOWS_WITHIN) -> T:
    """read() until done(its value) or `within` seconds pass; the last value either way,
    for the test's own assertion to judge (and show)."""
    deadline = time.monotonic() + within
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)

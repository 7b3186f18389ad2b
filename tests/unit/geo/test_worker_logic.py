"""The geo worker's pure parts: which attributes it fills, and how it pages through
Keycloak's events."""

from __future__ import annotations

from typing import Any

from extensions.geo.lookup import Place
from extensions.geo.worker import Applied, missing_attributes, read_events

Json = dict[str, Any]
DK = Place("DK", "Europe/Copenhagen")


def test_only_empty_attributes_are_filled() -> None:
    assert missing_attributes(None, DK) == {"country": ["DK"],
                                            "timezone": ["Europe/Copenhagen"]}
    assert missing_attributes({"country": ["SE"]}, DK) == {"timezone": ["Europe/Copenhagen"]}
    assert missing_attributes({"country": [" "], "timezone": []}, DK) == {
        "country": ["DK"], "timezone": ["Europe/Copenhagen"]}
    assert missing_attributes({"country": ["SE"], "timezone": ["Europe/Oslo"]}, DK) == {}
    assert missing_attributes({}, Place("US", None)) == {"country": ["US"]}


class FakeEventLog:
    """Keycloak's event query as the worker sees it: time order only, ties in an order
    that changes from one request to the next."""

    def __init__(self, times: list[int]) -> None:
        self.events: list[Json] = [{"id": f"e{n}", "time": t} for n, t in enumerate(times)]
        self.requests = 0

    def fetch(self, since_ms: int, until_ms: int | None, limit: int) -> list[Json]:
        self.requests += 1
        found = [e for e in self.events if e["time"] >= since_ms
                 and (until_ms is None or e["time"] <= until_ms)]
        tie_order = 1 if self.requests % 2 else -1
        found.sort(key=lambda e: (e["time"], tie_order * int(e["id"][1:])))
        return found[:limit]


def test_paging_by_time_misses_no_event_of_a_millisecond_split_between_pages() -> None:
    times = [100, 101, 102, 102, 102, 102, 103, 104, 104, 105]
    log = FakeEventLog(times)

    seen = {e["id"] for e in read_events(log.fetch, 0, page=4)}

    assert seen == {f"e{n}" for n in range(len(times))}


def test_a_page_full_of_one_millisecond_is_read_whole() -> None:
    times = [7] * 9 + [8, 9]
    log = FakeEventLog(times)

    seen = [e["id"] for e in read_events(log.fetch, 0, page=3)]

    assert set(seen) == {f"e{n}" for n in range(len(times))}
    assert log.requests < 10  # and the reading ends


def test_the_log_line_names_user_values_and_address() -> None:
    applied = Applied("u-1", "DK", "Europe/Copenhagen", "198.51.100.7", 0, 0.0)

    assert applied.describe() == \
        "user u-1: country DK, timezone Europe/Copenhagen from 198.51.100.7"
    assert Applied("u-2", None, "Asia/Tokyo", "203.0.113.9", 0, 0.0).describe() == \
        "user u-2: timezone Asia/Tokyo from 203.0.113.9"

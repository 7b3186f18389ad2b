"""A small MaxMind DB for the geo tests, written with mmdb-writer in the GeoIP2 City
layout, over documentation networks (RFC 5737, RFC 3849) so no real address is used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def city(country: str | None, timezone: str | None, **more: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict(more)
    if country:
        record["country"] = {"iso_code": country, "names": {"en": country}}
    if timezone:
        record["location"] = {"time_zone": timezone}
    return record


DENMARK = "198.51.100.7"  # in 198.51.100.0/24
JAPAN = "203.0.113.9"  # in 203.0.113.0/24
GERMANY_V6 = "2001:db8::42"  # in 2001:db8::/32
NETWORKS: dict[str, dict[str, Any]] = {
    "198.51.100.0/24": city("DK", "Europe/Copenhagen"),
    "203.0.113.0/24": city("JP", "Asia/Tokyo"),
    "2001:db8::/32": city("DE", "Europe/Berlin"),
    # Only the country its network is registered in, no location.
    "192.0.2.0/25": {"registered_country": {"iso_code": "US"}},
    # A country but no time zone (MaxMind's country-level records).
    "192.0.2.128/25": city("NO", None),
    # Private and shared space that a database may list all the same.
    "10.0.0.0/8": city("SE", "Europe/Stockholm"),
    "100.64.0.0/10": city("FI", "Europe/Helsinki"),
    # Values the realm's user profile would refuse.
    "198.18.0.0/15": city("dk", "Europe/" + "X" * 80),
}


def write_database(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="idpack-test-City",
                        languages=["en"], description="idpack geo tests")
    for network, record in NETWORKS.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path

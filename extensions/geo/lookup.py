"""Where an IP address is: its country (ISO 3166-1 alpha-2) and time zone (IANA name),
from a MaxMind DB (GeoLite2 / GeoIP2 City layout)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import maxminddb

from idpack.errors import IdpackError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Addresses that say nothing about where a person is: networks of a home, an office or
# a carrier (RFC 1918, shared address space of RFC 6598, IPv6 unique local), and the
# special ones below. A database may still list them (some map 10/8 to the owner's
# country), so they are refused before the lookup.
LOCAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))
COUNTRY = re.compile(r"[A-Z]{2}")  # what the realm's user profile accepts for `country`
TIME_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")  # IANA names
TIME_ZONE_MAX = 64  # the realm's length limit for `timezone`


class Place(NamedTuple):
    country: str | None  # "DK"
    timezone: str | None  # "Europe/Copenhagen"


def parse_address(text: str) -> IPAddress | None:
    """The address Keycloak recorded (IPv4-mapped IPv6 taken as the IPv4 address), or
    None if it is no address."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_local(address: IPAddress) -> bool:
    """Private, loopback, link-local and other addresses no one is reached at from the
    internet."""
    if (address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_unspecified or address.is_reserved):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return True
    return any(address in network for network in LOCAL_NETWORKS)


def place_of(record: Mapping[str, Any] | None) -> Place | None:
    """Country and time zone of one database record; None when it has neither. The
    country is where the address is used, else where its network is registered."""
    if not isinstance(record, Mapping):
        return None
    country = _country(record.get("country")) or _country(record.get("registered_country"))
    location = record.get("location")
    zone = location.get("time_zone") if isinstance(location, Mapping) else None
    timezone = zone if isinstance(zone, str) and len(zone) <= TIME_ZONE_MAX \
        and TIME_ZONE.fullmatch(zone) else None
    if country is None and timezone is None:
        return None
    return Place(country, timezone)


def _country(entry: object) -> str | None:
    code = entry.get("iso_code") if isinstance(entry, Mapping) else None
    return code if isinstance(code, str) and COUNTRY.fullmatch(code) else None


class GeoDatabase:
    """One open MaxMind DB file; lookups are safe from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._reader = maxminddb.open_database(str(path))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise IdpackError(f"{path} is not a readable MaxMind DB: {exc}") from None

    def place(self, text: str) -> Place | None:
        """Where the address is; None for local, malformed and unknown addresses."""
        address = parse_address(text)
        if address is None or is_local(address):
            return None
        try:
            record = self._reader.get(address)
        except (ValueError, maxminddb.InvalidDatabaseError):
            return None  # e.g. an IPv6 address in an IPv4-only database
        return place_of(record if isinstance(record, Mapping) else None)

    def describe(self) -> str:
        """E.g. "GeoLite2-City built 2018-07-03"."""
        metadata = self._reader.metadata()
        built = datetime.fromtimestamp(metadata.build_epoch, UTC).date()
        return f"{metadata.database_type} built {built.isoformat()}"

    def close(self) -> None:
        self._reader.close()

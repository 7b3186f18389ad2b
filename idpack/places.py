"""Countries and time zones, as a profile holds them: ISO 3166-1 alpha-2 codes (from
pycountry, which carries the ISO data) and IANA time zone names (from the tz database
Python's zoneinfo reads, shipped as the tzdata package where the system has none)."""

from __future__ import annotations

import zoneinfo
from functools import cache

import pycountry

# The tz database's regions; names outside them are old aliases (US/Eastern, Japan,
# GMT+0, ...) that a list of choices leaves out, though a profile may still hold one.
REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
           "Europe", "Indian", "Pacific")


@cache
def countries() -> dict[str, str]:
    """Code -> common name (Taiwan, Bolivia, ...; the official name where there is no
    common one), sorted by name."""
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    return dict(sorted(names.items(), key=lambda item: item[1]))


def is_country(code: str) -> bool:
    return code in countries()


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    return name in _time_zones()


@cache
def time_zones_by_region() -> dict[str, list[str]]:
    """Region -> its zones, sorted; UTC on its own at the end."""
    grouped: dict[str, list[str]] = {region: [] for region in REGIONS}
    for name in sorted(_time_zones()):
        region = name.split("/", 1)[0]
        if region in grouped and "/" in name:
            grouped[region].append(name)
    return {**{r: zones for r, zones in grouped.items() if zones}, "UTC": ["UTC"]}

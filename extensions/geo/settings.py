"""The geo worker's settings, from the environment. It signs in to Keycloak as the
sidecar's service account, so where Keycloak is and that client's secret are read the
sidecar's way (with the local stack's stack.json as the fallback)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Self

from extensions.sidecar.settings import SidecarSettings
from idpack.errors import IdpackError
from idpack.settings import _float

# The GeoLite2 City database the PyPI package maxminddb-geolite2 ships (built 2018-07-03).
PACKAGED_DATABASE = ("_maxminddb_geolite2", "GeoLite2-City.mmdb")


def packaged_database() -> Path:
    try:
        path = Path(str(resources.files(PACKAGED_DATABASE[0]) / PACKAGED_DATABASE[1]))
    except ModuleNotFoundError:
        raise IdpackError("no GeoIP database: install maxminddb-geolite2, or set GEOIP_DB "
                          "to a MaxMind City database (.mmdb)") from None
    return path


@dataclass(frozen=True)
class GeoSettings:
    keycloak_url: str
    realm: str
    client_id: str
    client_secret: str = field(repr=False)
    database: Path
    store: str = ".idpack/store.sqlite"  # an SQLite file path or a redis:// URL
    poll_seconds: float = 0.5
    # Events are re-read this far behind the newest one seen: an event carries the time
    # it happened, but becomes readable only when Keycloak commits the request that made
    # it, which can be seconds later (a registration also sends the verification mail).
    overlap_seconds: float = 60.0
    # How long a worker holds an event it is applying before another may take it over
    # (after a crash).
    lease_seconds: float = 30.0
    keycloak_timeout: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ,
                 stack_file: Path | None = None) -> Self:
        try:
            sidecar = SidecarSettings.from_env(env, stack_file)
        except IdpackError as exc:
            raise IdpackError(f"the geo worker signs in as the sidecar's client, and {exc}"
                              ) from None
        database = Path(env["GEOIP_DB"]) if env.get("GEOIP_DB") else packaged_database()
        if not database.is_file():
            raise IdpackError(f"GEOIP_DB={str(database)!r} is not a file: point it at a "
                              "MaxMind City database (.mmdb)")
        poll_seconds = _float(env, "IDPACK_GEO_POLL_SECONDS", 0.5)
        overlap_seconds = _float(env, "IDPACK_GEO_OVERLAP_SECONDS", 60.0)
        lease_seconds = _float(env, "IDPACK_GEO_LEASE_SECONDS", 30.0)
        if poll_seconds <= 0 or lease_seconds <= 0 or overlap_seconds < 0:
            raise IdpackError("IDPACK_GEO_POLL_SECONDS and IDPACK_GEO_LEASE_SECONDS must "
                              "be above 0, IDPACK_GEO_OVERLAP_SECONDS at least 0")
        return cls(
            keycloak_url=sidecar.keycloak_url,
            realm=sidecar.realm,
            client_id=sidecar.client_id,
            client_secret=sidecar.client_secret,
            database=database,
            store=sidecar.store,
            poll_seconds=poll_seconds,
            overlap_seconds=overlap_seconds,
            lease_seconds=lease_seconds,
            keycloak_timeout=sidecar.keycloak_timeout,
        )

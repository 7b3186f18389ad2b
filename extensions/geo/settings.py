"""The geo worker's settings (idpack.settings). It signs in to Keycloak as the sidecar's
client (IDPACK_SIDECAR_CLIENT_ID and _SECRET: one client, one secret, for both), and
keeps its cursor and claims in the store the sidecar and relay share."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import model_validator

from idpack.errors import IdpackError
from idpack.settings import RealmServiceSettings, StoreLocation, setting

# The GeoLite2 City database the PyPI package maxminddb-geolite2 ships (built 2018-07-03).
PACKAGED_DATABASE = ("_maxminddb_geolite2", "GeoLite2-City.mmdb")


def packaged_database() -> Path:
    try:
        path = Path(str(resources.files(PACKAGED_DATABASE[0]) / PACKAGED_DATABASE[1]))
    except ModuleNotFoundError:
        raise IdpackError("no GeoIP database: install maxminddb-geolite2, or set GEOIP_DB "
                          "to a MaxMind City database (.mmdb)") from None
    return path


class GeoSettings(RealmServiceSettings):
    service = "geo worker"
    client_id: str = setting("idpack-sidecar", "IDPACK_SIDECAR_CLIENT_ID",
                             "The client it signs in as (the sidecar's)")
    client_secret: str = setting(..., "IDPACK_SIDECAR_CLIENT_SECRET",
                                 "That client's secret", secret=True)
    database: Path = setting(..., "GEOIP_DB", "A MaxMind GeoIP2/GeoLite2 City database "
                             "(default: the 2018 GeoLite2 City of maxminddb-geolite2)",
                             derived=lambda _: packaged_database())
    store: StoreLocation = setting(
        ..., "IDPACK_STORE", "Where the cursor and claims live: an SQLite file or a "
        "redis:// URL (default IDPACK_HOME/store.sqlite)",
        derived=lambda s: str(s["home"] / "store.sqlite"))
    poll_seconds: float = setting(0.5, "IDPACK_GEO_POLL_SECONDS",
                                  "Seconds between two reads of the events")

    @property
    def heartbeat_file(self) -> Path:
        """The time of the last poll that reached Keycloak (`idpack health geo-worker`)."""
        return self.home / "geo-worker.heartbeat"
    # Events are re-read this far behind the newest one seen: an event carries the time
    # it happened, but becomes readable only when Keycloak commits the request that made
    # it, which can be seconds later (a registration also sends the verification mail).
    overlap_seconds: float = setting(60.0, "IDPACK_GEO_OVERLAP_SECONDS",
                                     "How far back each read looks again")
    # How long a worker holds an event it is applying before another may take it over
    # (after a crash).
    lease_seconds: float = setting(30.0, "IDPACK_GEO_LEASE_SECONDS",
                                   "How long a worker holds an event it applies")
    keycloak_timeout: float = setting(5.0, "IDPACK_KEYCLOAK_TIMEOUT",
                                      "Seconds a call to Keycloak may take")

    @model_validator(mode="after")
    def _checked(self) -> GeoSettings:
        if not self.database.is_file():
            raise ValueError(f"GEOIP_DB={str(self.database)!r} is not a file: point it at "
                             "a MaxMind City database (.mmdb)")
        if self.poll_seconds <= 0 or self.lease_seconds <= 0 or self.overlap_seconds < 0:
            raise ValueError("IDPACK_GEO_POLL_SECONDS and IDPACK_GEO_LEASE_SECONDS must be "
                             "above 0, IDPACK_GEO_OVERLAP_SECONDS at least 0")
        return self

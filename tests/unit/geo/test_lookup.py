"""Country and time zone of an address, from a database the test writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from extensions.geo.lookup import GeoDatabase, Place, is_local, parse_address, place_of
from extensions.geo.settings import packaged_database
from idpack.errors import IdpackError
from tests.support.geo_database import DENMARK, GERMANY_V6, JAPAN, write_database


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> GeoDatabase:
    return GeoDatabase(write_database(tmp_path_factory.mktemp("geo") / "test.mmdb"))


@pytest.mark.parametrize(("address", "place"), [
    (DENMARK, Place("DK", "Europe/Copenhagen")),
    (JAPAN, Place("JP", "Asia/Tokyo")),
    (GERMANY_V6, Place("DE", "Europe/Berlin")),
    (f"::ffff:{DENMARK}", Place("DK", "Europe/Copenhagen")),  # IPv4-mapped IPv6
    (" 198.51.100.200 ", Place("DK", "Europe/Copenhagen")),
])
def test_public_addresses_give_country_and_timezone(database: GeoDatabase, address: str,
                                                    place: Place) -> None:
    assert database.place(address) == place


def test_registered_country_stands_in_and_a_missing_timezone_stays_missing(
        database: GeoDatabase) -> None:
    assert database.place("192.0.2.1") == Place("US", None)
    assert database.place("192.0.2.200") == Place("NO", None)


@pytest.mark.parametrize("address", [
    "10.1.2.3",  # private, although the database lists 10/8
    "100.64.1.1",  # carrier-grade NAT, listed too
    "192.168.1.10", "172.16.5.4", "fd00::1",
    "127.0.0.1", "::1",  # loopback
    "169.254.10.1", "fe80::1",  # link-local
    "0.0.0.0", "::", "224.0.0.1", "240.0.0.1",  # noqa: S104 (unspecified, multicast, reserved)
])
def test_private_loopback_and_link_local_addresses_give_nothing(database: GeoDatabase,
                                                                address: str) -> None:
    assert database.place(address) is None


@pytest.mark.parametrize("address", ["8.8.8.8", "2a00:1450::1", "not-an-ip", "", "1.2.3"])
def test_unknown_and_malformed_addresses_give_nothing(database: GeoDatabase,
                                                      address: str) -> None:
    assert database.place(address) is None


def test_values_the_user_profile_would_refuse_are_dropped(database: GeoDatabase) -> None:
    # 198.18.0.0/15 holds a lower-case country and an over-long zone name.
    assert database.place("198.18.0.1") is None
    assert place_of({"country": {"iso_code": "DK"}, "location": {"time_zone": "../etc"}}) \
        == Place("DK", None)
    assert place_of({"country": {"iso_code": "DNK"}}) is None
    assert place_of(None) is None


def test_address_parsing_and_locality() -> None:
    mapped = parse_address("::ffff:10.0.0.1")
    assert mapped is not None
    assert str(mapped) == "10.0.0.1"
    assert is_local(mapped)
    public = parse_address(DENMARK)
    assert public is not None
    assert not is_local(public)


def test_database_description_names_type_and_build_date(database: GeoDatabase) -> None:
    assert database.describe().startswith("idpack-test-City built 20")


def test_the_packaged_geolite2_database_is_the_default_and_readable() -> None:
    packaged = GeoDatabase(packaged_database())
    try:
        assert packaged.describe() == "GeoLite2-City built 2018-07-03"
        assert packaged.place("10.1.2.3") is None
    finally:
        packaged.close()


def test_a_file_that_is_no_database_is_refused_with_its_name(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mmdb"
    bogus.write_bytes(b"not a maxmind database")

    with pytest.raises(IdpackError, match=r"bogus\.mmdb"):
        GeoDatabase(bogus)

"""The user index's two tables, SQLite (one a replica) and Redis (one for all), through one
contract: what a lookup, the follower and the background check rely on."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from extensions.sidecar.index import Entry, IndexState, IndexTable, open_index_table
from extensions.sidecar.roles import Role


@pytest.fixture(params=["sqlite", "redis"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexTable]:
    realm = f"r-{secrets.token_hex(3)}"
    if request.param == "redis":
        yield open_index_table(request.getfixturevalue("redis_url"), realm)
    else:
        yield open_index_table(str(tmp_path / "index.sqlite"), realm)


def test_entries_are_found_by_name_id_and_uid(table: IndexTable) -> None:
    table.put_many([Entry("ada", "id-1", Role.USER, 1), Entry("bo", "id-2", Role.ADMIN, None)])
    assert table.get_many(["ada", "bo", "nobody"]) == {
        "ada": Entry("ada", "id-1", Role.USER, 1), "bo": Entry("bo", "id-2", Role.ADMIN)}
    assert table.name_of("id-2") == "bo"
    assert table.by_uid([1, 99]) == {1: Entry("ada", "id-1", Role.USER, 1)}
    assert table.count() == 2


def test_a_rename_drops_the_old_name_and_a_deletion_everything(table: IndexTable) -> None:
    table.put_many([Entry("ada", "id-1", Role.USER, 7)])
    table.put_many([Entry("ada-lovelace", "id-1", Role.ADMIN, 7)])
    assert table.get_many(["ada"]) == {}
    assert table.get_many(["ada-lovelace"])["ada-lovelace"].role == Role.ADMIN
    assert table.by_uid([7])[7].username == "ada-lovelace"
    table.forget(["id-1", "never-there"])
    assert table.get_many(["ada-lovelace"]) == {}
    assert table.by_uid([7]) == {}
    assert table.name_of("id-1") is None
    assert table.count() == 0


def test_the_background_check_finds_what_its_round_did_not_see(table: IndexTable) -> None:
    table.cycle = 1
    table.put_many(Entry(f"user{n}", f"id-{n}", Role.USER) for n in range(5))
    table.stamp(["user0", "user1", "user2"], 2)  # round 2 saw these in Keycloak
    table.cycle = 2
    table.put_many([Entry("newcomer", "id-9", Role.USER)])  # an event during round 2
    assert sorted(e.username for e in table.unstamped(2)) == ["user3", "user4"]
    table.forget(["id-3"])
    assert [e.username for e in table.unstamped(2)] == ["user4"]


def test_state_is_kept_and_clear_forgets_it_with_the_entries(table: IndexTable) -> None:
    assert table.state() == IndexState()
    table.put_many([Entry("ada", "id-1", Role.USER)])
    table.save_state(IndexState(realm_id="r", complete=True, admin_cursor=5, seen=["e1"]))
    assert table.state().complete
    assert table.state().seen == ["e1"]
    table.clear()
    assert table.state() == IndexState()
    assert table.count() == 0


def test_one_holder_at_a_time_has_the_lease(table: IndexTable) -> None:
    assert table.lease("worker-1", 30)
    assert table.lease("worker-1", 30)  # renewed
    assert not table.lease("worker-2", 30)
    table.release("worker-1")
    assert table.lease("worker-2", 0.05)
    time.sleep(0.1)  # worker-2 stopped renewing: the lease ran out
    assert table.lease("worker-1", 30)


def test_a_table_of_another_realm_starts_empty(tmp_path: Path) -> None:
    first = open_index_table(str(tmp_path / "index.sqlite"), "one")
    first.put_many([Entry("ada", "id-1", Role.USER)])
    assert open_index_table(str(tmp_path / "index.sqlite"), "one").count() == 1
    assert open_index_table(str(tmp_path / "index.sqlite"), "two").count() == 0


def test_uids_are_never_handed_out_twice_even_when_the_counter_is_lost(
        table: IndexTable) -> None:
    assert table.next_uids(3) == [1, 2, 3]
    table.put_many([Entry("migrated", "id-1", Role.USER, 500)])  # a uid from elsewhere
    assert table.next_uids(1) == [501]
    assert table.next_uids(2, at_least=1000) == [1000, 1001]
    forget_the_counter(table)  # Redis restarted without its last writes, say
    assert table.next_uids(1) == [501]  # above every uid a user holds, whatever happened
    table.clear()  # a rebuild of the index keeps the counter
    assert table.next_uids(1) == [502]


def forget_the_counter(table: IndexTable) -> None:
    from extensions.sidecar.index.redis_table import RedisIndexTable
    from extensions.sidecar.index.sqlite_table import SqliteIndexTable

    if isinstance(table, RedisIndexTable):
        table.client.delete(table._counter)
    else:
        assert isinstance(table, SqliteIndexTable)
        table._db().execute("DELETE FROM meta WHERE key = 'uid_counter'")

"""The index in Redis, shared by every replica: built once for the deployment, followed by
one replica at a time (the lease), read by all with one HMGET a lookup. Per million
users it takes about 320 MiB of Redis memory (31.6 MiB measured at 100,000: README
"Scale"), none in the replicas.

Keys, under idpack:index:<realm>: `users` (hash: username -> {"i": id, "r": role,
"u": uid}), `ids` (hash: id -> username), `uids` (hash: uid -> username), `cycles`
(hash: username -> the background check's round that last saw it), `state`, `lease`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Self

import redis

from extensions.sidecar.index.table import Entry, IndexState
from idpack.errors import IdpackError

CHUNK = 1000

# KEYS: users, ids, uids, cycles. ARGV[1]: the cycle; then name, id, value, uid ('' when
# none), repeated.
PUT = """
for i = 2, #ARGV, 4 do
  local name, id, value, uid = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local old_name = redis.call('HGET', KEYS[2], id)
  if old_name and old_name ~= name then
    redis.call('HDEL', KEYS[1], old_name)
    redis.call('HDEL', KEYS[4], old_name)
  end
  local old = redis.call('HGET', KEYS[1], name)
  if old then
    local before = cjson.decode(old)
    if before['i'] ~= id then redis.call('HDEL', KEYS[2], before['i']) end
    if type(before['u']) == 'number' then
      redis.call('HDEL', KEYS[3], string.format('%d', before['u']))
    end
  end
  redis.call('HSET', KEYS[1], name, value)
  redis.call('HSET', KEYS[2], id, name)
  redis.call('HSET', KEYS[4], name, ARGV[1])
  if uid ~= '' then
    redis.call('HSET', KEYS[3], uid, name)
    if tonumber(uid) > tonumber(redis.call('GET', KEYS[5]) or '0') then
      redis.call('SET', KEYS[5], uid)
    end
  end
end
"""
# KEYS: counter, highest uid held. ARGV: count, at least. The first of `count` new uids.
NEXT_UIDS = """
local last = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'),
                      tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(ARGV[2]) - 1)
redis.call('SET', KEYS[1], last + tonumber(ARGV[1]))
return last + 1
"""
# KEYS: users, ids, uids, cycles. ARGV: ids.
FORGET = """
for i = 1, #ARGV do
  local name = redis.call('HGET', KEYS[2], ARGV[i])
  if name then
    local old = redis.call('HGET', KEYS[1], name)
    if old then
      local before = cjson.decode(old)
      if type(before['u']) == 'number' then
        redis.call('HDEL', KEYS[3], string.format('%d', before['u']))
      end
    end
    redis.call('HDEL', KEYS[1], name)
    redis.call('HDEL', KEYS[4], name)
  end
  redis.call('HDEL', KEYS[2], ARGV[i])
end
"""
# KEYS: lease. ARGV: holder, milliseconds. 1 when the holder has it now.
LEASE = """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""


class RedisIndexTable:
    def __init__(self, client: redis.Redis, realm: str) -> None:
        self.client = client
        prefix = f"idpack:index:{realm}:"
        self._users, self._ids, self._uids, self._cycles = (
            prefix + "users", prefix + "ids", prefix + "uids", prefix + "cycles")
        self.cycle = 0
        self._state, self._lease = prefix + "state", prefix + "lease"
        self._counter, self._highest = prefix + "uid-counter", prefix + "uid-highest"
        self._put = client.register_script(PUT)
        self._forget = client.register_script(FORGET)
        self._take_lease = client.register_script(LEASE)
        self._release = client.register_script(RELEASE)
        self._next_uids = client.register_script(NEXT_UIDS)

    @classmethod
    def from_url(cls, url: str, realm: str) -> Self:
        try:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                          health_check_interval=30)
        except ValueError as exc:
            raise IdpackError(f"user index {url}: {exc}") from None
        return cls(client, realm)

    @property
    def _data_keys(self) -> list[str]:
        return [self._users, self._ids, self._uids, self._cycles]

    def get_many(self, usernames: Iterable[str]) -> dict[str, Entry]:
        names = list(dict.fromkeys(usernames))
        if not names:
            return {}
        values = self.client.hmget(self._users, names)
        return {name: Entry.from_json(name, json.loads(value))
                for name, value in zip(names, values, strict=True) if value is not None}

    def name_of(self, user_id: str) -> str | None:
        name = self.client.hget(self._ids, user_id)
        return _text(name) if name is not None else None

    def by_uid(self, uids: Iterable[int]) -> dict[int, Entry]:
        wanted = list(dict.fromkeys(uids))
        if not wanted:
            return {}
        names = self.client.hmget(self._uids, [str(u) for u in wanted])
        entries = self.get_many(_text(n) for n in names if n is not None)
        return {e.uid: e for e in entries.values() if e.uid is not None}

    def put_many(self, entries: Iterable[Entry]) -> None:
        batch: list[Any] = []
        for entry in entries:
            batch += [entry.username, entry.user_id, json.dumps(entry.to_json()),
                      "" if entry.uid is None else str(entry.uid)]
            if len(batch) >= 4 * CHUNK:
                self._put(keys=[*self._data_keys, self._highest], args=[self.cycle, *batch])
                batch = []
        if batch:
            self._put(keys=[*self._data_keys, self._highest], args=[self.cycle, *batch])

    def forget(self, user_ids: Iterable[str]) -> None:
        ids = list(user_ids)
        for first in range(0, len(ids), CHUNK):
            self._forget(keys=self._data_keys, args=ids[first:first + CHUNK])

    def stamp(self, usernames: Iterable[str], cycle: int) -> None:
        names = list(usernames)
        if names:
            self.client.hset(self._cycles, mapping=dict.fromkeys(names, cycle))

    def unstamped(self, cycle: int) -> list[Entry]:
        names = [_text(name) for name, seen in self.client.hscan_iter(self._cycles, count=5000)
                 if int(seen) < cycle]
        return list(self.get_many(names).values())

    def count(self) -> int:
        return int(self.client.hlen(self._users))

    def state(self) -> IndexState:
        raw = self.client.get(self._state)
        return IndexState.from_json(json.loads(raw) if raw is not None else None)

    def save_state(self, state: IndexState) -> None:
        self.client.set(self._state, json.dumps(state.to_json()))

    def clear(self) -> None:
        # The uid counter and the highest uid stay: uids are never handed out twice.
        self.client.delete(*self._data_keys, self._state)

    def next_uids(self, count: int, at_least: int = 1) -> list[int]:
        first = int(self._next_uids(keys=[self._counter, self._highest],
                                    args=[count, at_least]))
        return list(range(first, first + count))

    def lease(self, holder: str, seconds: float) -> bool:
        return bool(self._take_lease(keys=[self._lease], args=[holder, int(seconds * 1000)]))

    def release(self, holder: str) -> None:
        self._release(keys=[self._lease], args=[holder])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

"""The shared store on Redis, for a sidecar and relay on several machines. Entries are
strings with Redis's own expiry; `take` is GETDEL (atomic); the rate-limit window is a
sorted set of hit times trimmed and counted in one Lua script, timed by the server's
clock so that clients with skewed clocks still share one window."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Self, TypeVar

import redis

from idpack.errors import IdpackError
from idpack.store.base import StoreUnavailable, Verdict

T = TypeVar("T")
# What a Redis that is down, restarting or still loading its append-only file raises.
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)

PREFIX = "idpack:"

# KEYS[1]: the window's sorted set. ARGV: window (s), limit, a unique member suffix.
# Returns {allowed (0/1), retry_after in ms}.
SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = math.floor(tonumber(ARGV[1]) * 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(0, tonumber(oldest[2]) + window - now)}
"""


class RedisStore:
    def __init__(self, client: redis.Redis, where: str = "Redis") -> None:
        self.client = client
        self.where = where
        self._hit = client.register_script(SLIDING_WINDOW)

    @classmethod
    def from_url(cls, url: str) -> Self:
        try:
            # Short timeouts: while Redis is away, a request waits a second, not five,
            # before the caller degrades.
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1,
                                          health_check_interval=30)
        except ValueError as exc:
            raise IdpackError(f"store {url}: {exc}") from None
        parts = client.connection_pool.connection_kwargs
        return cls(client, f"Redis at {parts.get('host', parts.get('path'))}:"
                           f"{parts.get('port', '')}".rstrip(":"))

    @contextmanager
    def _reached(self) -> Iterator[None]:
        try:
            yield
        except UNAVAILABLE as exc:
            raise StoreUnavailable(f"the store ({self.where}) is unavailable: {exc}") from None

    def _call(self, operation: Callable[[], T]) -> T:
        with self._reached():
            return operation()

    def ping(self) -> None:
        self._call(self.client.ping)

    @staticmethod
    def _key(namespace: str, key: str) -> str:
        return f"{PREFIX}{namespace}:{key}"

    def put(self, namespace: str, key: str, value: dict[str, Any], ttl: float) -> None:
        self._call(lambda: self.client.set(self._key(namespace, key), json.dumps(value),
                                           px=max(1, int(ttl * 1000))))

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        raw = self._call(lambda: self.client.get(self._key(namespace, key)))
        return json.loads(raw) if raw is not None else None

    def take(self, namespace: str, key: str) -> dict[str, Any] | None:
        raw = self._call(lambda: self.client.getdel(self._key(namespace, key)))
        return json.loads(raw) if raw is not None else None

    def hit(self, key: str, window: float, limit: int) -> Verdict:
        allowed, retry_ms = self._call(lambda: self._hit(
            keys=[f"{PREFIX}window:{key}"], args=[window, limit, secrets.token_hex(6)]))
        return Verdict(bool(allowed), int(retry_ms) / 1000)

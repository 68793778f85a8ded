"""The sampling store in Redis: several backends sharing one Redis agree on throughput, probabilities and the leader.

Throughput and probability snapshots are sorted sets scored by time in
microseconds (exact in a double); each member is JSON carrying the exact
nanosecond time, so window bounds are applied exactly after the range read.
The leader lease is one key taken and renewed by a Lua script, atomically,
against the caller's clock (as every store here, for deterministic tests).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from backend.storage.redis.calls import guarded
from backend.storage.redis.client import Client, script
from backend.storage.sampling_store import ServiceOperationValues, Throughput

# KEYS[1] lease key; ARGV holder, now_ns, ttl_ns.  Value is "<expires_ns> <holder>".
_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current then
  local space = string.find(current, ' ')
  local expires = tonumber(string.sub(current, 1, space - 1))
  local holder = string.sub(current, space + 1)
  if holder ~= ARGV[1] and expires > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], string.format('%.0f', tonumber(ARGV[2]) + tonumber(ARGV[3])) .. ' ' .. ARGV[1])
return 1
"""
_FORFEIT = """
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, string.find(current, ' ') + 1) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RedisSamplingStore:
    def __init__(self, client: Client, prefix: str) -> None:
        self._client = client
        self._throughput = f"{prefix}:sampling:throughput"
        self._probabilities = f"{prefix}:sampling:probabilities"
        self._lease_prefix = f"{prefix}:sampling:lease:"
        self._acquire = script(client, _ACQUIRE)
        self._forfeit = script(client, _FORFEIT)

    def insert_throughput(self, throughput: list[Throughput], at_ns: int) -> None:
        if not throughput:
            return
        members = {
            json.dumps(
                {
                    "at": at_ns,
                    "id": uuid.uuid4().hex,
                    "service": t.service,
                    "operation": t.operation,
                    "count": t.count,
                    "probabilities": sorted(t.probabilities),
                    "requests": t.requests,
                }
            ): at_ns // 1000
            for t in throughput
        }
        self._call(self._client.zadd, self._throughput, members)

    def get_throughput(self, start_ns: int, end_ns: int) -> list[Throughput]:
        found = []
        for entry in self._between(self._throughput, start_ns, end_ns):
            found.append(
                Throughput(
                    entry["service"], entry["operation"], entry["count"], set(entry["probabilities"]), entry["requests"]
                )
            )
        return found

    def insert_probabilities_and_qps(
        self, hostname: str, probabilities: ServiceOperationValues, qps: ServiceOperationValues, at_ns: int
    ) -> None:
        member = json.dumps(
            {"at": at_ns, "id": uuid.uuid4().hex, "hostname": hostname, "probabilities": probabilities, "qps": qps}
        )
        self._call(self._client.zadd, self._probabilities, {member: at_ns // 1000})

    def get_latest_probabilities(self) -> ServiceOperationValues:
        newest = self._call(self._client.zrevrange, self._probabilities, 0, 0, withscores=True)
        if not newest:
            return {}
        score = newest[0][1]
        same_time = self._call(self._client.zrangebyscore, self._probabilities, score, score)
        latest = max((json.loads(member) for member in same_time), key=lambda entry: entry["at"])
        probabilities: ServiceOperationValues = latest["probabilities"]
        return probabilities

    def acquire_lease(self, name: str, holder: str, ttl_ns: int, now_ns: int) -> bool:
        return bool(self._call(self._acquire, keys=[self._lease_prefix + name], args=[holder, now_ns, ttl_ns]))

    def forfeit_lease(self, name: str, holder: str) -> bool:
        return bool(self._call(self._forfeit, keys=[self._lease_prefix + name], args=[holder]))

    def purge(self, before_ns: int) -> None:
        latest = self._call(self._client.zrevrange, self._probabilities, 0, 0)
        for key in (self._throughput, self._probabilities):
            self._call(self._client.zremrangebyscore, key, "-inf", f"({before_ns // 1000}")
            edge = self._call(self._client.zrangebyscore, key, before_ns // 1000, before_ns // 1000)
            stale = [m for m in edge if json.loads(m)["at"] < before_ns and m not in latest]
            if stale:
                self._call(self._client.zrem, key, *stale)
        if latest:  # the newest snapshot is kept whatever its age, as the other stores do
            self._call(self._client.zadd, self._probabilities, {latest[0]: json.loads(latest[0])["at"] // 1000})

    def _between(self, key: str, start_ns: int, end_ns: int) -> list[dict[str, Any]]:
        members = self._call(self._client.zrangebyscore, key, start_ns // 1000, end_ns // 1000)
        entries = (json.loads(member) for member in members)
        return [entry for entry in entries if start_ns <= entry["at"] < end_ns]

    def _call(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return guarded("the Redis sampling store failed", operation, *args, **kwargs)

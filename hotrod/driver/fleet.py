"""Drivers on HotROD's 1000 x 1000 city grid, kept in Redis as a GEO set plus one hash per driver.

``find_nearest`` asks Redis for the 10 closest drivers (GEOSEARCH) and then fetches each one,
as HotROD does. Within each search, every 1/``driver_error_rate``-th fetch times out for real
(counted per search, not process-wide, so concurrent searches cannot make one driver's retries
fail again and again): it issues a blocking
Redis call on a client whose socket timeout is shorter than the block, so the redis client span
carries a genuine ``TimeoutError``; the fetch is retried up to three times.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass

import redis
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from hotrod import delay
from hotrod.knobs import Knobs

log = logging.getLogger(__name__)

FLEET_SIZE = 100
NEAREST = 10
MAX_ATTEMPTS = 3
FIND_DELAY_S, FIND_STDDEV_S = 0.020, 0.005
GET_DELAY_S, GET_STDDEV_S = 0.010, 0.0025
# the grid's origin and cell size in degrees: a city-sized square around San Francisco
ORIGIN_LON, ORIGIN_LAT, CELL_DEG = -122.52, 37.70, 0.0001


@dataclass(frozen=True)
class Driver:
    driver_id: str
    location: str


class DriverUnavailable(Exception):
    """Every attempt to fetch a driver failed."""


def grid_to_lonlat(location: str) -> tuple[float, float]:
    """HotROD's "x,y" grid position as (longitude, latitude); ValueError when malformed."""
    x_text, _, y_text = location.partition(",")
    x, y = float(x_text), float(y_text)
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= 1000 and 0 <= y <= 1000):
        raise ValueError(f"location must be 'x,y' with 0 <= x, y <= 1000, got {location!r}")
    return ORIGIN_LON + x * CELL_DEG, ORIGIN_LAT + y * CELL_DEG


class TimeoutSchedule:
    """Decides which fetches time out: the n-th does when floor(n * rate) steps up (rate 0.2: every 5th)."""

    def __init__(self, rate: float) -> None:
        self._count = 0
        self._rate = rate

    def next_fails(self) -> bool:
        self._count += 1
        return math.floor(self._count * self._rate + 1e-9) > math.floor((self._count - 1) * self._rate + 1e-9)


class Fleet:
    def __init__(self, url: str, key_prefix: str, knobs: Knobs, tracer: trace.Tracer, delay_scale: float = 1.0) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        stall_timeout = max(0.005, 2 * GET_DELAY_S * delay_scale)
        self._stalling = redis.Redis.from_url(url, socket_timeout=stall_timeout, retry=None)
        self._geo_key = f"{key_prefix}drivers:geo"
        self._prefix = key_prefix
        self._knobs = knobs
        self._tracer = tracer
        self._scale = delay_scale

    def seed(self, size: int = FLEET_SIZE, seed: int = 7) -> None:
        """Place ``size`` drivers at reproducible spots unless the fleet already exists."""
        if self._redis.exists(self._geo_key):
            return
        rng = random.Random(seed)
        pipe = self._redis.pipeline()
        for _ in range(size):
            driver_id = f"T7{rng.randrange(100000):05d}C"
            location = f"{rng.randrange(1000)},{rng.randrange(1000)}"
            lon, lat = grid_to_lonlat(location)
            pipe.geoadd(self._geo_key, (lon, lat, driver_id))
            pipe.hset(f"{self._prefix}driver:{driver_id}", mapping={"id": driver_id, "location": location})
        pipe.execute()

    def find_nearest(self, location: str) -> list[Driver]:
        lon, lat = grid_to_lonlat(location)
        with self._tracer.start_as_current_span("FindDriverIDs") as span:
            span.set_attribute("param.location", location)
            delay.sleep(FIND_DELAY_S, FIND_STDDEV_S, self._scale)
            ids = self._redis.geosearch(
                self._geo_key, longitude=lon, latitude=lat, radius=1000, unit="km", sort="ASC", count=NEAREST
            )
        schedule = TimeoutSchedule(self._knobs.values.driver_error_rate)
        drivers = [self._fetch_with_retries(driver_id, schedule) for driver_id in ids]
        log.info("Search successful", extra={"driver_count": len(drivers)})
        return drivers

    def _fetch_with_retries(self, driver_id: str, schedule: TimeoutSchedule) -> Driver:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._fetch(driver_id, schedule.next_fails())
            except redis.TimeoutError as exc:
                log.error("Retrying GetDriver after error", extra={"retry_no": attempt, "error": str(exc)})
        raise DriverUnavailable(f"driver {driver_id}: redis timed out {MAX_ATTEMPTS} times")

    def _fetch(self, driver_id: str, times_out: bool) -> Driver:
        with self._tracer.start_as_current_span(
            "GetDriver", record_exception=False, set_status_on_exception=False
        ) as span:
            span.set_attribute("param.driverID", driver_id)
            delay.sleep(GET_DELAY_S, GET_STDDEV_S, self._scale)
            try:
                if times_out:
                    self._stalling.blpop([f"{self._prefix}stall:{driver_id}"], timeout=1)
                fields = self._redis.hgetall(f"{self._prefix}driver:{driver_id}")
            except redis.TimeoutError as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, "redis timeout"))
                log.error("redis timeout", extra={"driver_id": driver_id})
                raise
            return Driver(driver_id, fields.get("location", "0,0"))

    def close(self) -> None:
        self._redis.close()
        self._stalling.close()
        self._redis.connection_pool.disconnect()
        self._stalling.connection_pool.disconnect()

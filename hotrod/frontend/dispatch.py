"""Finding the best car: customer → nearest drivers → a route per driver → the smallest ETA.

The routes are computed through one worker pool shared by every request the frontend serves,
three workers by default: HotROD's second bug. Under load, route calls queue behind other
customers' calls, which shows in the trace as gaps between the route spans. The pool size is a
runtime knob; a changed size takes effect on the next dispatch.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from opentelemetry import baggage, context

from hotrod.customer.client import CustomerClient
from hotrod.customer.database import Customer
from hotrod.driver.client import DriverClient
from hotrod.httpclient import ServiceError
from hotrod.knobs import Knobs
from hotrod.route.client import RouteClient
from hotrod.route.eta import Route

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Dispatch:
    customer: Customer
    driver_id: str
    eta_seconds: float


class RoutePool:
    """The shared worker pool, rebuilt when the ``route_worker_pool_size`` knob changes."""

    def __init__(self, knobs: Knobs) -> None:
        self._knobs = knobs
        self._lock = threading.Lock()
        self._size = 0
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        """Run ``fn`` on a worker, in a copy of the caller's context (trace, baggage, service)."""
        size = self._knobs.values.route_worker_pool_size
        with self._lock:
            if self._executor is None or size != self._size:
                if self._executor is not None:
                    self._executor.shutdown(wait=False)  # work already queued still runs
                self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="route-worker")
                self._size = size
            return self._executor.submit(contextvars.copy_context().run, fn, *args)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None


class BestETA:
    def __init__(self, customers: CustomerClient, drivers: DriverClient, routes: RouteClient, pool: RoutePool) -> None:
        self._customers = customers
        self._drivers = drivers
        self._routes = routes
        self._pool = pool

    def get(self, customer_id: int) -> Dispatch:
        customer = self._customers.get(customer_id)
        log.info("Found customer", extra={"customer_id": customer.id, "customer_name": customer.name})
        token = context.attach(baggage.set_baggage("customer", customer.name))
        try:
            drivers = self._drivers.find_nearest(customer.location)
            log.info("Found drivers", extra={"driver_count": len(drivers)})
            if not drivers:
                raise ServiceError("driver", 503, "no drivers near the customer")
            futures: list[tuple[str, Future[Route]]] = [
                (d.driver_id, self._pool.submit(self._routes.find_route, d.location, customer.location))
                for d in drivers
            ]
            etas = [(future.result().eta_seconds, driver_id) for driver_id, future in futures]
        finally:
            context.detach(token)
        eta, driver_id = min(etas)
        log.info("Dispatch successful", extra={"driver": driver_id, "eta_seconds": eta})
        return Dispatch(customer, driver_id, eta)

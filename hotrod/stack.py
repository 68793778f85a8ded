"""The services of one process: start any subset of the four, wired to each other, and stop them cleanly.

``hotrod all`` and ``hotrod frontend|customer|driver|route`` (``hotrod.cli``) and the tests all start
services through ``start``.

Services start in dependency order (customer, driver, route, then frontend) so that, with
ephemeral ports, the frontend learns the ports its peers actually got.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hotrod.knobs import Knobs
from hotrod.service_app import RunningServer, serve
from hotrod.settings import SERVICES, Settings
from hotrod.telemetry import Telemetry

log = logging.getLogger(__name__)


@dataclass
class Stack:
    """Running services; ``close`` stops listening first, then releases pools, databases and Redis."""

    servers: dict[str, RunningServer] = field(default_factory=dict)
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    def url(self, service: str) -> str:
        return self.servers[service].url

    def close(self) -> None:
        for server in reversed(self.servers.values()):
            server.close()
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception:
                log.exception("cleanup failed")
        self.servers.clear()
        self._cleanups.clear()


def _start_customer(settings: Settings, knobs: Knobs, telemetry: Telemetry, stack: Stack) -> RunningServer:
    from hotrod.customer.app import build
    from hotrod.customer.database import CustomerDatabase

    tracer = telemetry.tracer("customer", "hotrod.customer")
    database = CustomerDatabase(
        settings.resolved_database_url(), settings.db_pool_size, knobs, tracer, settings.delay_scale
    )
    stack._cleanups.append(database.close)
    return serve(
        "customer",
        build(database, knobs, telemetry),
        settings.bind,
        settings.ports["customer"],
        settings.threads,
        limits=settings.http_limits(),
    )


def _start_driver(settings: Settings, knobs: Knobs, telemetry: Telemetry, stack: Stack) -> RunningServer:
    from hotrod.driver.app import build
    from hotrod.driver.fleet import Fleet

    url = settings.redis_url
    if not url:
        from embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(settings.data_dir / "redis" / "drivers.rdb")
        stack._cleanups.append(embedded.close)
        url = embedded.url
    fleet = Fleet(
        url, settings.redis_key_prefix, knobs, telemetry.tracer("driver", "hotrod.driver"), settings.delay_scale
    )
    stack._cleanups.append(fleet.close)
    fleet.seed()
    app = build(fleet, knobs, telemetry)
    limits = settings.http_limits()
    return serve("driver", app, settings.bind, settings.ports["driver"], settings.threads, limits=limits)


def _start_route(settings: Settings, knobs: Knobs, telemetry: Telemetry, stack: Stack) -> RunningServer:
    from hotrod.route.app import build

    app = build(knobs, telemetry, settings.delay_scale)
    return serve("route", app, settings.bind, settings.ports["route"], settings.threads, limits=settings.http_limits())


def _start_frontend(settings: Settings, knobs: Knobs, telemetry: Telemetry, stack: Stack) -> RunningServer:
    from hotrod.customer.client import CustomerClient
    from hotrod.driver.client import DriverClient
    from hotrod.frontend.app import build
    from hotrod.frontend.dispatch import BestETA, RoutePool
    from hotrod.httpclient import make_session
    from hotrod.route.client import RouteClient

    peers = {name: stack.url(name) if name in stack.servers else settings.url_of(name) for name in SERVICES[1:]}
    session = make_session(pool_size=max(32, settings.threads * 2))
    pool = RoutePool(knobs)
    stack._cleanups.extend([session.close, pool.close])
    best_eta = BestETA(
        CustomerClient(peers["customer"], session),
        DriverClient(peers["driver"], session),
        RouteClient(peers["route"], session),
        pool,
    )
    app = build(best_eta, knobs, telemetry, settings.trace_ui_url, peers)
    limits = settings.http_limits()
    return serve("frontend", app, settings.bind, settings.ports["frontend"], settings.threads, limits=limits)


_STARTERS = {"customer": _start_customer, "driver": _start_driver, "route": _start_route, "frontend": _start_frontend}


def start(services: Iterable[str], settings: Settings, knobs: Knobs, telemetry: Telemetry) -> Stack:
    """Start ``services``; on any failure stop what already started and re-raise."""
    wanted = set(services)
    stack = Stack()
    try:
        for name in ("customer", "driver", "route", "frontend"):
            if name in wanted:
                server = _STARTERS[name](settings, knobs, telemetry, stack)
                stack.servers[name] = server
                log.info("service started", extra={"component": name, "url": server.url})
    except BaseException:
        stack.close()
        raise
    return stack

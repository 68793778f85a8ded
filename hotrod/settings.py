"""Where every HotROD service gets its configuration: CLI flag > environment variable > default.

Click does the precedence for us (each option names its ``HOTROD_*`` variable), so a compose
file can configure a service with environment variables alone and a person can override any
of them on the command line. The values that a workshop wants to change while the demo runs
(fix flags and fault knobs) only seed a ``Knobs`` object here; ``hotrod.knobs`` owns them at
runtime.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from httpd.limits import Limits

SERVICES = ("frontend", "customer", "driver", "route")
DEFAULT_PORTS = {"frontend": 8080, "customer": 8081, "driver": 8082, "route": 8083}
DEFAULT_TRACE_UI = "http://127.0.0.1:16686"
ADMIN_TOKEN_ENV = "HOTROD_ADMIN_TOKEN"
_LIMITS = Limits()
# the server limits a person sets per service port (``--http-<name>``), each kept as ``Settings.http_<name>``
_HTTP_LIMITS = ("read_header_timeout", "read_timeout", "write_timeout", "idle_timeout", "max_connections")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|us|µs)?\s*$")
_UNIT_SECONDS = {None: 1e-3, "ms": 1e-3, "s": 1.0, "us": 1e-6, "µs": 1e-6}


def parse_delay(text: str) -> float:
    """Seconds from "300ms", "0.3s" or a bare number of milliseconds (HotROD's flags take durations)."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 300ms or 0.3s)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class DelayType(click.ParamType):
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_delay(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@dataclass
class Settings:
    """Everything a service (or ``hotrod all``) needs to start; built from the CLI by ``settings_options``."""

    bind: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    customer_url: str | None = None
    driver_url: str | None = None
    route_url: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "hotrod:"
    data_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "hotrod-py")
    trace_ui_url: str = DEFAULT_TRACE_UI
    threads: int = 16
    db_pool_size: int = 10
    delay_scale: float = 1.0
    # seeds of the runtime knobs
    fix_db_query_delay: float = 0.300
    fix_disable_db_conn_mutex: bool = False
    fix_route_worker_pool_size: int = 3
    driver_error_rate: float = 0.2
    dispatch_failure_rate: float = 0.0
    # each service port's limits on its clients (httpd.limits), from the --http-* flags
    http_read_header_timeout: float = _LIMITS.read_header_timeout
    http_read_timeout: float = _LIMITS.read_timeout
    http_write_timeout: float = _LIMITS.write_timeout
    http_idle_timeout: float = _LIMITS.idle_timeout
    http_max_connections: int = _LIMITS.max_connections

    def http_limits(self) -> Limits:
        """The server limits of every service port; a value out of range is a usage error naming its flag."""
        try:
            return Limits(**{name: getattr(self, f"http_{name}") for name in _HTTP_LIMITS})
        except ValueError as exc:
            key, _, message = str(exc).partition(": ")
            raise click.BadParameter(message, param_hint=f"--http-{key.replace('_', '-')}") from exc

    def url_of(self, service: str) -> str:
        """The base URL a caller uses for ``service`` (explicit URL, else the local port)."""
        explicit = {"customer": self.customer_url, "driver": self.driver_url, "route": self.route_url}.get(service)
        if explicit:
            return explicit.rstrip("/")
        host = "127.0.0.1" if self.bind in ("0.0.0.0", "::", "") else self.bind
        return f"http://{host}:{self.ports[service]}"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'customers.db'}"


_DEFAULTS = Settings()


def _option(flag: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--some-flag`` reads ``HOTROD_SOME_FLAG``, and defaults to ``Settings.some_flag`` unless told otherwise.

    Deriving both keeps the flag, its variable and its default from drifting apart: each is written once.
    """
    name = flag.removeprefix("--").replace("-", "_")
    if "default" not in kwargs and not kwargs.get("is_flag"):
        kwargs["default"] = getattr(_DEFAULTS, name, None)
    return click.option(flag, envvar=f"HOTROD_{name.upper()}", show_envvar=True, show_default=True, **kwargs)


_OPTIONS = [
    _option("--bind", help="Address the services listen on."),
    *(_option(f"--{service}-port", type=int, default=port) for service, port in DEFAULT_PORTS.items()),
    _option("--customer-url", help="Customer service base URL [default: local port]."),
    _option("--driver-url", help="Driver service base URL [default: local port]."),
    _option("--route-url", help="Route service base URL [default: local port]."),
    _option("--database-url", help="SQLAlchemy URL of the customer database [default: SQLite file in --data-dir]."),
    _option("--redis-url", help="Redis for driver positions [default: an embedded server in --data-dir]."),
    _option("--redis-key-prefix"),
    _option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where the embedded SQLite file and Redis live.",
    ),
    _option("--trace-ui-url", help="Trace UI the page links to."),
    _option("--threads", type=click.IntRange(1, 512), help="Worker threads/service."),
    *(
        _option(f"--http-{name}", type=DelayType(), default=f"{getattr(_LIMITS, name.replace('-', '_')):g}s", help=what)
        for name, what in (
            ("read-header-timeout", "Longest a request's headers may take to arrive (slow clients are cut off)."),
            ("read-timeout", "Longest a whole request may take to arrive."),
            ("write-timeout", "Longest an answer may wait for a client that does not read it."),
            ("idle-timeout", "How long a kept-alive connection may wait for its next request."),
        )
    ),
    _option(
        "--http-max-connections",
        type=click.IntRange(1, 1_000_000),
        help="Open connections per service port; past it the longest-idle one is closed or a newcomer gets 503.",
    ),
    _option("--db-pool-size", type=click.IntRange(1, 200)),
    _option(
        "--delay-scale", type=click.FloatRange(0.0, 100.0), help="Multiplies every simulated delay (tests shrink them)."
    ),
    _option("--fix-db-query-delay", type=DelayType(), default="300ms", help="Mean customer DB query time."),
    _option("--fix-disable-db-conn-mutex", is_flag=True, help="Stop serialising DB access through one connection."),
    _option("--fix-route-worker-pool-size", type=click.IntRange(1, 256), help="Concurrent route calls per dispatch."),
    _option(
        "--driver-error-rate",
        type=click.FloatRange(0.0, 1.0),
        help="Share of driver fetches that time out (0.2 = every 5th).",
    ),
    _option(
        "--dispatch-failure-rate",
        type=click.FloatRange(0.0, 1.0),
        help="Share of dispatches failing in the route service.",
    ),
]


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add every settings flag to a click command; the command receives ``settings=Settings(...)``."""

    def wrapper(**kwargs: Any) -> Any:
        ports = {name: kwargs.pop(f"{name}_port") for name in SERVICES}
        settings = Settings(ports=ports, **{k: kwargs.pop(k) for k in list(kwargs) if k in Settings.__annotations__})
        settings.http_limits()  # a limit out of range stops here, naming its flag
        return command(settings=settings, **kwargs)

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper

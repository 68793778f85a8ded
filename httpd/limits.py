"""How long and how much one HTTP server grants each client: what keeps slow, idle or greedy clients in bounds.

The names follow Go's ``http.Server`` and the OpenTelemetry Collector's
``confighttp`` (``read_header_timeout``, ``read_timeout``, ``write_timeout``,
``idle_timeout``), plus ``max_connections`` per port.  Every timeout counts
from a fixed moment, never from the last byte received, so a client that
trickles one byte a second is cut off like one that sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class Limits:
    #: from a request's first byte (or the connection's accept) until its headers are complete
    read_header_timeout: float = 10.0
    #: from a request's first byte until its body is complete
    read_timeout: float = 30.0
    #: how long an answer may sit unsent because the client does not read it
    write_timeout: float = 30.0
    #: how long a kept-alive connection may wait for its next request
    idle_timeout: float = 15.0
    #: open connections on this port; past it the longest-idle one (idle a sweep interval or more) is closed,
    #: or the newcomer gets a 503
    max_connections: int = 2048
    max_request_header_size: int = 64 * KIB
    max_request_body_size: int = 20 * MIB

    def __post_init__(self) -> None:
        for name in ("read_header_timeout", "read_timeout", "write_timeout", "idle_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive duration, got {getattr(self, name)}")
        for name in ("max_connections", "max_request_header_size", "max_request_body_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected at least 1, got {getattr(self, name)}")

    @property
    def sweep_interval(self) -> float:
        """How often deadlines are checked: a quarter of the shortest timeout, within [0.05, 1] s."""
        shortest = min(self.read_header_timeout, self.read_timeout, self.write_timeout, self.idle_timeout)
        return min(max(shortest / 4, 0.05), 1.0)

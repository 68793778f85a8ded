"""Listen addresses as configs write them, parsed below the component registry so every component can use it."""

from __future__ import annotations

from typing import Any

from backend.core.binding import ConfigError


def parse_endpoint(text: Any, where: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` (all interfaces) → (host, port); port 0 picks a free one."""
    if not isinstance(text, str):
        raise ConfigError(where, f"expected host:port, got {text!r}")
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(where, f"expected host:port with a port from 0 to 65535, got {text!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port_text)

"""How services call each other: JSON over HTTP with ``requests`` (instrumented, so context and baggage travel)."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

DEFAULT_TIMEOUT_S = 30.0


class ServiceError(Exception):
    """A call to another service failed; ``status`` is the HTTP status to pass on (502 when it was unreachable)."""

    def __init__(self, service: str, status: int, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status = status
        self.message = message


def make_session(pool_size: int = 32) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def get_json(
    session: requests.Session, service: str, url: str, params: dict[str, Any], timeout: float = DEFAULT_TIMEOUT_S
) -> Any:
    try:
        reply = session.get(url, params=params, timeout=timeout)
    except requests.RequestException as exc:
        raise ServiceError(service, 502, f"unreachable at {url}: {exc}") from exc
    if not reply.ok:
        try:
            message = reply.json().get("error", reply.text)
        except ValueError:
            message = reply.text[:300]
        raise ServiceError(service, reply.status_code, message)
    return reply.json()

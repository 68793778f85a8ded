"""The servers one receiver listens with, by endpoint name: what ``endpoints()`` reports and ``shutdown()`` stops."""

from __future__ import annotations

from typing import Protocol


class Listening(Protocol):
    @property
    def address(self) -> str: ...

    def stop(self) -> None:
        """Stop listening; what is in progress finishes (and is answered) first."""


class Servers:
    def __init__(self, component_id: str) -> None:
        self._id = component_id
        self._by_name: dict[str, Listening] = {}

    def add(self, name: str, server: Listening) -> None:
        """``name`` becomes ``<component id>/<name>`` in ``endpoints()``; "" names the component alone."""
        self._by_name[name] = server

    def endpoints(self) -> dict[str, str]:
        return {f"{self._id}/{name}" if name else self._id: server.address for name, server in self._by_name.items()}

    def stop_all(self) -> None:
        """Last started, first stopped; each server stops at most once."""
        while self._by_name:
            _, server = self._by_name.popitem()
            server.stop()

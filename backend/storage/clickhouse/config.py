"""Options of the ``clickhouse`` plug-in, bound from ``extensions.jaeger_storage.backends.<name>.clickhouse``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.core.binding import Duration

INSTALL_HINT = "the clickhouse storage needs its optional engine: pip install 'hotrod-py[clickhouse]'"
_HOUR_NS = 3_600_000_000_000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ClickHouseOptions:
    path: str = "data/clickhouse"  # the embedded engine's data folder (when no url is given)
    url: str = ""  # a ClickHouse server over HTTP instead, e.g. http://default:secret@127.0.0.1:8123
    database: str = "jaeger"
    cluster: str = ""  # server only: create Replicated tables ON CLUSTER behind Distributed ones
    retention: Duration = Duration(72 * _HOUR_NS)  # 0 keeps spans forever
    # A text index on the attribute texts: attribute search reads the index instead of scanning the
    # columns (ms instead of a scan of every span in the window), for ~36 more bytes a span on disk.
    tag_index: bool = False
    # Where adaptive sampling keeps its state (ClickHouse has no atomic lease): a SQL database URL;
    # empty means a SQLite file in ``path``; give a PostgreSQL URL when several collectors share a server.
    sampling_url: str = ""

    def __post_init__(self) -> None:
        if self.retention < 0:
            raise ValueError(f"retention must not be negative, got {self.retention}ns")
        if not _NAME.fullmatch(self.database):
            raise ValueError(f"database must be a plain identifier, got {self.database!r}")
        if self.cluster and not _NAME.fullmatch(self.cluster):
            raise ValueError(f"cluster must be a plain identifier, got {self.cluster!r}")
        if self.cluster and not self.url:
            raise ValueError("cluster needs a server url; the embedded engine is one node")
        if not self.url and not self.path:
            raise ValueError("give the embedded engine a data folder (path) or a server url")

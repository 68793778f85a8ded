"""The ``clickhouse`` kind as the storage factory sees it: its options, and a build that needs the optional extra.

Only this module is imported to bind and check the options, so a config that
names ``clickhouse`` is validated, and refused with the install command,
on a machine without chDB or pyarrow.
"""

from __future__ import annotations

from backend.core.binding import ConfigError
from backend.storage.api import Storage
from backend.storage.clickhouse.config import INSTALL_HINT, ClickHouseOptions
from backend.storage.factory import StoragePlugin


def build(options: ClickHouseOptions, where: str) -> Storage:
    try:
        from backend.storage.clickhouse.store import ClickHouseStorage  # noqa: PLC0415 - needs the extra
    except ImportError as exc:
        raise ConfigError(where, f"{INSTALL_HINT} ({exc})") from exc
    return ClickHouseStorage(options, where)


PLUGIN = StoragePlugin(ClickHouseOptions, build)

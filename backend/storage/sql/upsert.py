"""INSERT … ON CONFLICT DO UPDATE for the two dialects the sql plug-in runs on, found by the engine's dialect name."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

Upsert = postgresql.Insert | sqlite.Insert
_INSERTS: dict[str, Callable[[Table], Upsert]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def upsert_for(dialect: str, where: str) -> Callable[[Table], Upsert]:
    """The dialect's insert that can take ``on_conflict_do_update``; ``where`` names the caller in the error."""
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise ValueError(f"{where}: {dialect} is not supported (sqlite, postgresql)")
    return insert

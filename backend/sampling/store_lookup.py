"""The sampling store that goes with a trace storage, so adaptive sampling can share its database.

A storage that offers ``sampling_store()`` is asked directly.  Until the
plug-ins do, the known kinds are recognised here: a memory storage gets one
in-memory sampling store (the same one for every caller), a SQL storage gets
sampling tables in its own database and schema, on its own engine.
"""

from __future__ import annotations

import weakref

from backend.config_binding import ConfigError
from backend.storage.api import Storage
from backend.storage.sampling_memory import MemorySamplingStore
from backend.storage.sampling_store import SamplingStore

_memory_stores: weakref.WeakKeyDictionary[Storage, MemorySamplingStore] = weakref.WeakKeyDictionary()


def sampling_store_for(storage: Storage, where: str) -> SamplingStore:
    offered = getattr(storage, "sampling_store", None)
    if callable(offered):
        return offered()
    from backend.storage.memory import MemoryStorage
    from backend.storage.sql import SqlStorage

    if isinstance(storage, MemoryStorage):
        store = _memory_stores.get(storage)
        if store is None:
            store = _memory_stores[storage] = MemorySamplingStore()
        return store
    if isinstance(storage, SqlStorage):
        from backend.storage.sampling_sql import SqlSamplingStore

        return SqlSamplingStore(storage._engine, schema=storage._tables.metadata.schema)
    raise ConfigError(where, f"storage kind {type(storage).__name__} offers no sampling store for adaptive sampling")

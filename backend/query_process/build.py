"""``build_service``: the backend a config tree describes, its query API in a process of its own or not."""

from __future__ import annotations

from typing import Any

from backend.config import from_mapping
from backend.query_process.plan import QUERY_ID, plan
from backend.query_process.supervisor import QueryProcess
from backend.service import BackendService


def build_service(tree: dict[str, Any], query_process: str, source: str) -> BackendService:
    """``query_process``: ``auto`` (own process when its storages can be shared), ``on`` or ``off``.

    Both configs are checked before anything starts, so a mistake in either
    stops start-up with the file and key, as a single-process config does.
    """
    split = plan(tree, query_process, source)
    if split is None:
        return BackendService(from_mapping(tree, source))
    from_mapping(split.child, source)
    service = BackendService(from_mapping(split.parent, source))
    service.add_extension(QUERY_ID, QueryProcess(split, source, service.metrics))
    return service

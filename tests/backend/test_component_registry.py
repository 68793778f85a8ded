"""The component registry: every listed type loads the factory it names, and only what a config names is loaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backend.components import FACTORIES


@pytest.mark.parametrize(
    ("kind", "type_name"), [(kind, type_name) for kind, registry in FACTORIES.items() for type_name in registry]
)
def test_each_listed_type_loads_a_factory_of_that_kind_and_type(kind: str, type_name: str) -> None:
    factory = FACTORIES[kind][type_name]  # type: ignore[index]
    assert (factory.kind, factory.type) == (kind, type_name)


def test_an_unknown_type_is_not_found() -> None:
    assert FACTORIES["receiver"].get("kafka") is None


def test_a_query_only_config_does_not_load_receivers_or_processors() -> None:
    program = (
        "import sys\n"
        "from backend.config import from_mapping\n"
        "from_mapping({'extensions': {'jaeger_storage': {'backends': {'main': {'memory': {}}}},"
        " 'jaeger_query': {'storage': {'traces': 'main'}}},"
        " 'service': {'extensions': ['jaeger_storage', 'jaeger_query']}}, 'test')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('backend.receivers', 'backend.processors.batch',"
        " 'grpc'))))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"

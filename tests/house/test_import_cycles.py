"""No import cycle among the project's modules: the layout is a hierarchy, registry on top, contracts below."""

from __future__ import annotations

from tests.house.imports import cycles, import_graph, imported_names


def test_the_project_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (break them by moving the shared piece below both):\n" + "\n".join(
        " -> ".join(cycle) for cycle in found
    )


def test_a_cycle_through_a_function_local_import_is_found() -> None:
    graph = {"a.config": {"a.registry"}, "a.registry": {"a.receiver"}, "a.receiver": {"a.config"}, "a.other": set()}
    assert cycles(graph) == [["a.config", "a.receiver", "a.registry"]]


def test_imports_inside_functions_count_and_type_checking_ones_do_not() -> None:
    import ast

    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from backend.model import Span\n"
        "def build():\n    from backend.components import FACTORIES\n"
    )
    names = imported_names(ast.parse(source), "backend.config", is_package=False)
    assert "backend.components" in names
    assert "backend.model" not in names


def test_relative_imports_resolve_against_the_package() -> None:
    import ast

    names = imported_names(ast.parse("from . import store\nfrom ..api import Trace\n"), "backend.storage.sql", True)
    assert {"backend.storage.sql.store", "backend.storage.api"} <= names


def test_a_module_imported_by_name_counts_as_imported_by_the_registry_that_names_it() -> None:
    import ast

    source = 'from importlib import import_module\nMODULES = {"otlp": "backend.receivers.otlp.receiver"}\n'
    names = imported_names(ast.parse(source), "backend.components", is_package=False)
    assert "backend.receivers.otlp.receiver" in names


def test_the_component_registry_reaches_every_component_module() -> None:
    graph = import_graph()
    assert "backend.receivers.otlp.receiver" in graph["backend.components"]
    assert "backend.extensions.query.extension" in graph["backend.components"]

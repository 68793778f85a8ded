"""README.md's compatibility table says only what is so: its ports are the built-in config's, its proofs exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.config import read
from backend.core.ports import ENDPOINTS
from tests.ui.test_real_jaeger_ui import TESTED_VERSIONS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
NOT_FOR_CLIENTS = {"health", "metrics"}  # the backend's own ports, in the README's other sections


def rows() -> list[list[str]]:
    table = README.split("<!-- compatibility:start -->", 1)[1].split("<!-- compatibility:end -->", 1)[0]
    lines = [line for line in table.strip().splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def ports(cell: str) -> list[tuple[str, int]]:
    return [(name, int(number)) for name, number in re.findall(r"([a-z-]+) (\d+)", cell)]


def at(tree: dict, dotted: str):  # noqa: ANN201 - any YAML value
    for part in dotted.split("."):
        tree = tree[part]
    return tree


ROWS = rows()


def test_the_table_is_there():
    assert len(ROWS) >= 10


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row[0] + " / " + row[1])
def test_each_port_is_the_one_the_built_in_config_binds(row: list[str]):
    config = read(None)
    for name, number in ports(row[2]):
        path, default, _ = ENDPOINTS[name]
        assert default == number
        assert at(config, path) == f"127.0.0.1:{number}"


def test_every_client_port_of_the_built_in_config_is_in_the_table():
    listed = {name for row in ROWS for name, _ in ports(row[2])}

    assert listed == set(ENDPOINTS) - NOT_FOR_CLIENTS


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row[0] + " / " + row[1])
def test_each_row_is_proved_by_a_test_file_that_exists(row: list[str]):
    path = ROOT / row[3].strip("`")

    assert path.is_file(), row
    assert "def test_" in path.read_text()


def test_the_jaeger_ui_versions_are_the_ones_the_real_ui_test_accepts():
    [ui_row] = [row for row in ROWS if row[0].startswith("Jaeger UI")]

    assert tuple(re.findall(r"v(\d+\.\d+\.\d+)", ui_row[0])) == TESTED_VERSIONS

"""constraints.txt pins every dependency, and ./run installed exactly those versions (run ./run lock after a change)."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    return {canonical(n): v for n, _, v in (line.partition("==") for line in lines if "==" in line)}


def test_every_dependency_is_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *(requirement for extra in extras.values() for requirement in extra)]
    # an extra that names the project itself (``hotrod-py[clickhouse]``) pulls in another extra, pinned there
    names = {canonical(match.group(1)) for match in map(NAME.match, wanted) if match} - {canonical(project["name"])}
    assert sorted(names - set(pins())) == [], "not in constraints.txt: run ./run lock"


def test_the_installed_versions_are_the_pinned_ones() -> None:
    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    # a pin not installed at all is one this Python does not need (pins are made on Python 3.11)
    differ = {
        name: (pinned, installed(name)) for name, pinned in pins().items() if installed(name) not in (None, pinned)
    }
    assert differ == {}, "(pinned, installed): set up the venv again with ./run"

"""read_skill serves the built-in playbooks and an operator's own under custom/, as Jaeger does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.config import load
from backend.core.binding import ConfigError
from tests.mcp.client import error_text, result
from tests.mcp.conftest import Backend, start_backend


def test_the_root_skill_links_each_built_in_skill_and_each_link_reads(backend: Backend):
    root = result(backend.mcp, "read_skill", path="SKILL.md")["instructions"]

    links = re.findall(r"\]\(([^)]+)\)", root)
    assert links == [
        "detect-n-plus-one/SKILL.md",
        "error-root-cause/SKILL.md",
        "hotrod-bugs/SKILL.md",
        "custom/SKILL.md",
    ]
    for link in links[:-1]:
        assert result(backend.mcp, "read_skill", path=link)["instructions"].startswith("---\nname: ")


def test_an_operators_skills_dir_is_served_under_custom_and_cannot_be_escaped(tmp_path: Path):
    skills = tmp_path / "skills"
    (skills / "deploys").mkdir(parents=True)
    (skills / "SKILL.md").write_text("# Ours\n- [deploys](custom/deploys/SKILL.md)\n")
    (skills / "deploys" / "SKILL.md").write_text("x" * 3000)
    (skills / "escape.md").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "secret.txt").write_text("secret")
    process = start_backend(tmp_path / "run", "--set", f"extensions.jaeger_query.ai.mcp.skills_dir={skills}",
                            "--set", "extensions.jaeger_query.ai.mcp.max_read_file_size=1000")  # fmt: skip
    try:
        url = process.url("query", "/api/ai/mcp")
        assert result(url, "read_skill", path="custom/SKILL.md")["instructions"].startswith("# Ours")
        long = result(url, "read_skill", path="custom/deploys/SKILL.md")["instructions"]
        assert long == "x" * 1000 + "\n\nfile content truncated after 1000 bytes\n"
        assert "no such skill file" in error_text(url, "read_skill", path="custom/escape.md")
    finally:
        assert process.stop() == 0


def test_a_skills_dir_without_its_entry_point_stops_start_up(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"jaeger_query\.ai\.mcp\.skills_dir: cannot read .*SKILL\.md"):
        load(None, [f"extensions.jaeger_query.ai.mcp.skills_dir={tmp_path}"])

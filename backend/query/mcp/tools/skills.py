"""``read_skill``: the markdown playbooks an agent reads, built in (``backend/query/mcp/skills``) or the operator's.

Paths are relative to the skills root; ``custom/...`` reads from the
configured ``skills_dir``, everything else from the built-in tree.  A path
must be plain (no ``..``, no leading ``/``, no empty or ``.`` parts), and a
custom path must stay inside ``skills_dir`` once symlinks are resolved.
Files longer than ``max_read_file_size`` are cut, and the answer says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from backend.query.mcp.tools.context import ToolContext

BUILT_IN = Path(__file__).resolve().parent.parent / "skills"
CUSTOM = "custom/"


class ReadSkillOutput(BaseModel):
    instructions: str


def _valid(path: str) -> bool:
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _open(path: str, skills_dir: str) -> Path:
    if not _valid(path):
        raise ToolError(f"cannot read {path[:100]!r}: not a valid relative path")
    root = BUILT_IN
    if path.startswith(CUSTOM):
        if not skills_dir:
            raise ToolError(f"cannot read {path[:100]!r}: this server has no custom skills")
        root, path = Path(skills_dir).resolve(), path[len(CUSTOM) :]
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise ToolError(f"cannot read {path[:100]!r}: no such skill file")
    return target


def register(server: MCPServer, context: ToolContext) -> None:
    options = context.options

    @server.tool(
        name="read_skill",
        description=(
            "Read a skill: a markdown playbook for a trace analysis. Start with "
            "SKILL.md; it links the more specific ones."
        ),
    )
    def read_skill(
        path: Annotated[
            str, Field(description=("Path under the skills root, e.g. SKILL.md or detect-n-plus-one/SKILL.md"))
        ],
    ) -> ReadSkillOutput:
        target = _open(path, options.skills_dir)
        limit = options.max_read_file_size
        try:
            with target.open("rb") as file:
                data = file.read(limit + 1)
        except OSError as exc:
            raise ToolError(f"cannot read {path[:100]!r}: {exc.strerror or exc}") from None
        text = data[:limit].decode("utf-8", errors="replace")
        if len(data) > limit:
            text += f"\n\nfile content truncated after {limit} bytes\n"
        return ReadSkillOutput(instructions=text)

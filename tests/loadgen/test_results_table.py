"""The README's benchmark table is the report's: one source (loadgen/results/report.md), so they cannot drift."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEADER = "| target | best accepted spans/s |"


def summary_table(text: str) -> list[str]:
    """The lines of the first Markdown table whose header starts with HEADER."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(HEADER))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_the_readme_shows_the_reports_summary_table() -> None:
    report = summary_table((REPO / "loadgen" / "results" / "report.md").read_text())
    readme = summary_table((REPO / "README.md").read_text())
    assert readme == report

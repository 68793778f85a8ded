"""Completeness is a claim about accepted spans: with nothing accepted there is no percentage to report."""

from __future__ import annotations

from loadgen.bench.verify import verify


def test_nothing_accepted_reports_no_percentage() -> None:
    assert verify("http://127.0.0.1:9", {}).percent is None

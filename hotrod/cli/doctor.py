"""``hotrod doctor``: "I see no traces", checked against any running deployment (see ``hotrod.doctor``)."""

from __future__ import annotations

import click

from hotrod.doctor import CheckFailed, check


@click.command()
@click.option(
    "--frontend", "frontend_url", default="http://127.0.0.1:8080", show_default=True, envvar="HOTROD_FRONTEND_URL"
)
@click.option("--query", "query_url", default="http://127.0.0.1:16686", show_default=True, envvar="HOTROD_QUERY_URL")
@click.option("--customer", type=int, default=123, show_default=True)
@click.option("--timeout", "timeout_s", type=click.FloatRange(1, 600), default=30.0, show_default=True)
def doctor(frontend_url: str, query_url: str, customer: int, timeout_s: float) -> None:
    """Check that a dispatch's trace reaches the backend; explain what is wrong if it does not."""
    try:
        result = check(frontend_url, query_url, customer, timeout_s)
    except CheckFailed as exc:
        click.echo(f"PROBLEM: {exc}", err=True)
        raise SystemExit(1) from None
    services = ", ".join(result.services)
    click.echo(f"OK: trace {result.trace_id} has {result.span_count} spans from {services}: {result.trace_url}")

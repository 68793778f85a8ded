"""``hotrod load`` (``hotrod bench`` is loadgen.bench.cli).

``hotrod load`` is a thin wrapper: it picks the locustfile for a scenario, fills in sensible
defaults and replaces itself with ``python -m locust``, so Locust (and its gevent patching) runs
in its own process and plain ``locust -f loadgen/<file>.py`` stays equivalent.  Everything after
``--`` goes to Locust unchanged; the locustfiles' own options are also read from LOADGEN_*
environment variables.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

LOCUSTFILES = {
    "demo": ["hotrod_users.py"],
    "otlp": ["otlp_users.py"],
    "query": ["query_users.py"],
    "firehose": ["otlp_users.py", "query_users.py"],
}
DEFAULT_HOSTS = {
    "demo": "http://127.0.0.1:8080",
    "otlp": "http://127.0.0.1:4318",
    "query": "http://127.0.0.1:16686",
    "firehose": "http://127.0.0.1:4318",
}


def locust_command(
    scenario: str,
    host: str | None,
    users: int,
    spawn_rate: float,
    run_time: str | None,
    headless: bool,
    web_host: str,
    web_port: int,
    csv: str | None,
    html: str | None,
    transport: str,
    query_url: str,
    role: str,
    master_host: str,
    expect_workers: int,
    extra: tuple[str, ...],
) -> list[str]:
    """The Locust command line for these settings (``hotrod load --dry-run`` prints it)."""
    folder = Path(__file__).parent
    files = ",".join(str(folder / name) for name in LOCUSTFILES[scenario])
    command = [sys.executable, "-m", "locust", "-f", files]
    if role == "worker":
        return [*command, "--worker", "--master-host", master_host, *extra]
    command += ["--host", host or DEFAULT_HOSTS[scenario], "--users", str(users), "--spawn-rate", f"{spawn_rate:g}"]
    if headless:
        command.append("--headless")
        if run_time:
            command += ["--run-time", run_time]
    else:
        command += ["--web-host", web_host, "--web-port", str(web_port)]
    if csv:
        command += ["--csv", csv, "--csv-full-history"]
    if html:
        command += ["--html", html]
    if role == "master":
        command += ["--master", "--expect-workers", str(expect_workers)]
    if scenario in ("otlp", "firehose"):
        command.append("OtlpGrpcUser" if transport == "grpc" else "OtlpHttpUser")
        if scenario == "firehose":
            command += ["JaegerQueryUser", "--query-endpoint", query_url]
    return [*command, *extra]


@click.command(context_settings={"ignore_unknown_options": True, "show_default": True})
@click.argument("scenario", type=click.Choice(sorted(LOCUSTFILES)), default="demo", envvar="LOADGEN_SCENARIO")
@click.option("--host", envvar="LOADGEN_HOST", help="Target base URL (default per scenario: frontend, OTLP or query).")
@click.option("-u", "--users", type=click.IntRange(min=1), default=10, envvar="LOADGEN_USERS", help="Peak users.")
@click.option("-r", "--spawn-rate", type=click.FloatRange(min=0.1), default=2.0, envvar="LOADGEN_SPAWN_RATE")
@click.option("-t", "--run-time", default="1m", envvar="LOADGEN_RUN_TIME", help="Headless run length (e.g. 30s, 5m).")
@click.option(
    "--shape",
    type=click.Choice(["steady", "ramp", "spike", "step"]),
    default="steady",
    envvar="LOADGEN_SHAPE",
    help="How the user count moves (demo scenario).",
)
@click.option(
    "--headless/--web-ui", default=True, envvar="LOADGEN_HEADLESS", help="Run without the web UI, or serve Locust's UI."
)
@click.option("--web-host", default="127.0.0.1", envvar="LOADGEN_WEB_HOST")
@click.option("--web-port", type=int, default=8089, envvar="LOADGEN_WEB_PORT")
@click.option("--csv", "csv", envvar="LOADGEN_CSV", help="Write CSV stats with this prefix.")
@click.option("--html", envvar="LOADGEN_HTML", help="Write an HTML report to this file.")
@click.option(
    "--transport",
    type=click.Choice(["http", "grpc"]),
    default="http",
    envvar="LOADGEN_OTLP_TRANSPORT",
    help="OTLP transport (otlp and firehose scenarios).",
)
@click.option(
    "--query-url",
    default="http://127.0.0.1:16686",
    envvar="LOADGEN_QUERY_ENDPOINT",
    help="Jaeger query API base URL (firehose scenario).",
)
@click.option(
    "--role",
    type=click.Choice(["standalone", "master", "worker"]),
    default="standalone",
    envvar="LOADGEN_ROLE",
    help="Distributed runs: one master and any number of workers.",
)
@click.option("--master-host", default="127.0.0.1", envvar="LOADGEN_MASTER_HOST")
@click.option("--expect-workers", type=click.IntRange(min=1), default=1, envvar="LOADGEN_EXPECT_WORKERS")
@click.option("--dry-run", is_flag=True, help="Print the Locust command instead of running it.")
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def load(scenario: str, shape: str, dry_run: bool, locust_args: tuple[str, ...], **settings) -> None:
    """Run a Locust scenario: demo (HotROD users), otlp (synthetic firehose), query (Jaeger API), firehose (both).

    \b
    Examples:
      hotrod load demo -u 20 -t 5m --shape spike
      hotrod load demo --web-ui                      # Locust UI on http://127.0.0.1:8089
      hotrod load otlp --transport grpc --host 127.0.0.1:4317 -- --otlp-spans-per-trace 50
      hotrod load demo -- --faults "30s: driver_error_rate=0.8; 90s: driver_error_rate=0.2"
      LOADGEN_USERS=50 hotrod load demo --role master --expect-workers 2   (and workers: --role worker)
    Settings: flag > LOADGEN_* env > default; the locustfiles' own options (--faults, --seed, ...) go
    after -- or in their LOADGEN_* variables.  Exit status is Locust's (1 when any request failed).
    """
    command = locust_command(scenario=scenario, extra=locust_args, **settings)
    environment = {**os.environ, "LOADGEN_SHAPE": shape}
    if dry_run:
        click.echo(shlex.join(command))
        return
    sys.stdout.flush()
    os.execve(command[0], command, environment)

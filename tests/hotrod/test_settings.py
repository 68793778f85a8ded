"""Configuration precedence: a CLI flag beats its HOTROD_* variable, which beats the default."""

from __future__ import annotations

import click
from click.testing import CliRunner

from hotrod.settings import Settings, parse_delay, settings_options

seen: list[Settings] = []


@click.command()
@settings_options
def show(settings: Settings) -> None:
    seen.append(settings)


def settings_from(args: list[str], env: dict[str, str]) -> Settings:
    seen.clear()
    result = CliRunner().invoke(show, args, env=env)
    assert result.exit_code == 0, result.output
    return seen[0]


def test_defaults_are_hotrods_ports_and_delays() -> None:
    settings = settings_from([], {})
    assert settings.ports == {"frontend": 8080, "customer": 8081, "driver": 8082, "route": 8083}
    assert settings.fix_db_query_delay == 0.3 and settings.fix_route_worker_pool_size == 3
    assert settings.bind == "127.0.0.1"


def test_environment_beats_default_and_flag_beats_environment() -> None:
    env = {"HOTROD_CUSTOMER_PORT": "9001", "HOTROD_FIX_DB_QUERY_DELAY": "100ms"}
    assert settings_from([], env).ports["customer"] == 9001
    assert settings_from([], env).fix_db_query_delay == 0.1
    assert settings_from(["--customer-port", "9002"], env).ports["customer"] == 9002


def test_peer_urls_default_to_local_ports_unless_given() -> None:
    settings = settings_from(["--route-port", "9003", "--driver-url", "http://driver:8082/"], {})
    assert settings.url_of("route") == "http://127.0.0.1:9003"
    assert settings.url_of("driver") == "http://driver:8082"


def test_bad_values_are_refused_with_the_flag_named() -> None:
    result = CliRunner().invoke(show, ["--fix-db-query-delay", "soon"])
    assert result.exit_code == 2 and "--fix-db-query-delay" in result.output
    result = CliRunner().invoke(show, ["--driver-error-rate", "1.5"])
    assert result.exit_code == 2 and "--driver-error-rate" in result.output


def test_delays_read_like_hotrods_flags() -> None:
    assert parse_delay("300ms") == 0.3
    assert parse_delay("1.5s") == 1.5
    assert parse_delay("40") == 0.04

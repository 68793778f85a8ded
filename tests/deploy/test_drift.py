"""The deployment files and the code agree: every variable, command and README command is one that works.

Demos drift: a flag gets renamed, a variable loses its meaning, the README names a profile that
is gone.  These tests read the variables and commands the code declares (the click commands'
parameters and ``envvar``s, the OpenTelemetry SDK's own variable names) and hold compose.yaml,
the Dockerfile, the Kubernetes manifests and the README to them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from functools import cache

import click
import opentelemetry.environment_variables as otel_api_env
import opentelemetry.sdk.environment_variables as otel_sdk_env
import pytest

from hotrod.cli import COMMANDS, main
from hotrod.settings import ADMIN_TOKEN_ENV
from tests.deploy.manifests import (
    COMPOSE_FILE,
    K8S_CLUSTER_DIR,
    README,
    REPO,
    compose_commands,
    compose_profiles,
    compose_services,
    dockerfile_env,
    interpolated_names,
    k8s_containers,
)

OUR_PREFIXES = ("HOTROD_", "OTEL_", "LOADGEN_", "LOCUST_")
OTEL_NAMES = {
    value
    for module in (otel_sdk_env, otel_api_env)
    for name, value in vars(module).items()
    if name.startswith("OTEL_") and isinstance(value, str)
}
# compose subcommands whose positional words are all service names, and those with one service first
ALL_SERVICES = {"up", "down", "start", "stop", "restart", "logs", "ps", "pull", "build", "create", "rm", "kill"}
ONE_SERVICE = {"exec", "run"}
LIST_LOCUST_ENV = (
    "from locust.argument_parser import get_parser\n"
    "print(*sorted({a.env_var for a in get_parser()._actions if getattr(a, 'env_var', None)}))"
)
VALUE_FLAGS = {"--profile", "-f", "--file", "-p", "--project-name", "--env-file", "--scale", "-t", "--timeout"}


def subcommand(name: str) -> click.Command:
    command = main.get_command(click.Context(main), name)
    assert command is not None, f"`hotrod {name}` is not a subcommand (known: {', '.join(sorted(COMMANDS))})"
    return command


def command_envvars(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        envvar = param.envvar
        names.update([envvar] if isinstance(envvar, str) else envvar or [])
    return names


@cache
def locust_envvars() -> frozenset[str]:
    """Locust's own LOCUST_* options, read in a child process: importing Locust here would patch this one."""
    listing = subprocess.run(
        [sys.executable, "-c", LIST_LOCUST_ENV],
        env={**os.environ, "LOCUST_SKIP_MONKEY_PATCH": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return frozenset(listing.stdout.split())


def accepted(command: click.Command) -> set[str]:
    """Variables ``command``'s process reads: its own options' and the SDK's; the admin token for services,
    Locust's options for ``hotrod load`` (which becomes Locust)."""
    extra = locust_envvars() if command.name == "load" else frozenset({ADMIN_TOKEN_ENV})
    return command_envvars(command) | OTEL_NAMES | extra


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No HOTROD_/OTEL_/LOADGEN_ variables from the test run leak into what is being checked."""
    for name in list(os.environ):
        if name.startswith(OUR_PREFIXES):
            monkeypatch.delenv(name)
    yield monkeypatch


def parse(args: list[str], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> click.Context:
    """Parse ``hotrod ARGS`` as the process would with ``environment`` set: bad names or values raise."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    command = subcommand(args[0])
    return command.make_context(args[0], list(args[1:]), resilient_parsing=False)


def our_compose_services() -> list[str]:
    return sorted(name for name, service in compose_services().items() if service.is_ours)


@pytest.mark.parametrize("name", our_compose_services())
def test_compose_sets_only_variables_its_command_reads(name: str) -> None:
    service = compose_services()[name]
    command = subcommand(service.command[0])
    ours = {key for key in service.environment if key.startswith(OUR_PREFIXES)}
    assert ours, f"{name} sets none of our variables"
    assert ours - accepted(command) == set()
    assert set(service.environment) - ours == set(), "a hotrod process reads no other variables"


@pytest.mark.parametrize("name", our_compose_services())
def test_compose_commands_parse_with_their_environment(name: str, clean_env: pytest.MonkeyPatch) -> None:
    service = compose_services()[name]
    context = parse(service.command, {**dockerfile_env(), **service.environment}, clean_env)
    assert context.command.name == service.command[0]


def test_third_party_services_get_none_of_our_variables() -> None:
    for name, service in compose_services().items():
        if not service.is_ours:
            assert not [key for key in service.environment if key.startswith(OUR_PREFIXES)], name


def test_the_image_sets_only_variables_some_command_reads() -> None:
    every = set().union(*(accepted(subcommand(name)) for name in COMMANDS))
    ours = {key for key in dockerfile_env() if key.startswith(OUR_PREFIXES)}
    assert ours >= {"HOTROD_BIND", "HOTROD_BACKEND_BIND"}, "containers must listen on all interfaces"
    assert ours - every == set()


def test_the_services_listen_on_all_interfaces_in_compose() -> None:
    services = compose_services()
    for name in ("frontend", "customer", "driver", "route"):
        context_env = services[name].environment
        assert context_env["HOTROD_BIND"] == "0.0.0.0", name
    assert services["backend"].environment["HOTROD_BACKEND_BIND"] == "0.0.0.0"


def test_the_hotrod_services_find_each_other_and_the_backend_by_service_name() -> None:
    services = compose_services()
    for name in ("frontend", "customer", "driver", "route"):
        environment = services[name].environment
        for peer in ("customer", "driver", "route"):
            port = environment[f"HOTROD_{peer.upper()}_PORT"]
            assert environment[f"HOTROD_{peer.upper()}_URL"] == f"http://{peer}:{port}"
        backend_http = services["backend"].environment["HOTROD_BACKEND_OTLP_HTTP_PORT"]
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://backend:{backend_http}"


K8S_CONTAINERS = k8s_containers() + k8s_containers(K8S_CLUSTER_DIR)


@pytest.mark.parametrize("workload", sorted({name for name, _ in K8S_CONTAINERS}))
def test_k8s_containers_set_only_variables_their_command_reads_and_parse(
    workload: str, clean_env: pytest.MonkeyPatch
) -> None:
    for _, container in [(w, c) for w, c in K8S_CONTAINERS if w == workload]:
        if not container["image"].startswith("hotrod-py"):
            continue
        environment = {item["name"]: str(item["value"]) for item in container.get("env", [])}
        args = container["args"]
        assert set(environment) - accepted(subcommand(args[0])) == set(), workload
        parse(args, {**dockerfile_env(), **environment}, clean_env)


def shown_commands() -> list[list[str]]:
    """The compose commands a reader copies: the README's and compose.yaml's own header."""
    return compose_commands(README) + compose_commands(COMPOSE_FILE)


def split_command(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """``VAR=value ... docker compose ARGS`` → (variables, ARGS)."""
    variables = {}
    while words and "=" in words[0] and words[0] != "docker":
        name, _, value = words.pop(0).partition("=")
        variables[name] = value
    assert words[:2] == ["docker", "compose"], words
    return variables, words[2:]


def named_services(args: list[str]) -> tuple[list[str], list[str]]:
    """(profiles, services) that compose ``args`` name."""
    profiles, services, positional = [], [], []
    words = iter(args)
    for word in words:
        if word in VALUE_FLAGS:
            value = next(words)
            if word == "--profile":
                profiles.append(value)
            elif word == "--scale":
                services.append(value.partition("=")[0])
        elif not word.startswith("-"):
            positional.append(word)
    if positional and positional[0] in ALL_SERVICES:
        services += positional[1:]
    elif positional and positional[0] in ONE_SERVICE:
        services += positional[1:2]
    return profiles, services


def test_the_readme_shows_compose_commands() -> None:
    assert len(compose_commands(README)) >= 4


@pytest.mark.parametrize("words", shown_commands(), ids=lambda words: " ".join(words))
def test_shown_compose_commands_name_real_profiles_services_and_variables(words: list[str]) -> None:
    variables, args = split_command(list(words))
    profiles, services = named_services(args)
    assert set(profiles) <= compose_profiles()
    assert set(services) <= set(compose_services())
    assert set(variables) <= interpolated_names(COMPOSE_FILE.read_text())
    storage = variables.get("BACKEND_STORAGE")
    if storage is not None:
        assert (REPO / "deploy" / "backend" / f"{storage}.yaml").is_file()
    if storage == "postgres-jaeger":
        assert "jaeger" in profiles, "forwarding to Jaeger needs the jaeger profile running"


def test_the_readme_command_check_catches_a_renamed_profile() -> None:
    profiles, services = named_services(["--profile", "locust", "up", "frontned"])
    assert not set(profiles) <= compose_profiles()
    assert not set(services) <= set(compose_services())

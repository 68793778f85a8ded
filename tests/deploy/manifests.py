"""Read the deployment files as the tools would: compose.yaml (with its ``${VAR:-default}``
interpolation), the Dockerfile's runtime ENV, the Kubernetes manifests, the README's commands.

The tests compare what these files say with what the code accepts, so this module only reads
and never judges.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
K8S_DIR = REPO / "deploy" / "k8s"
K8S_CLUSTER_DIR = K8S_DIR / "cluster"
README = REPO / "README.md"
OUR_IMAGE = "hotrod-py"

# ${VAR}, ${VAR:-default}, ${VAR-default} (Compose's forms that this project uses)
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's substitution: ``:-`` uses the default when unset or empty, ``-`` only when unset."""

    def value(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3) or ""
        current = variables.get(name)
        if operator == ":-" and not current:
            return default
        if operator == "-" and current is None:
            return default
        return current or ""

    return _INTERPOLATION.sub(value, text)


def interpolated_names(text: str) -> set[str]:
    return {match.group(1) for match in _INTERPOLATION.finditer(text)}


def _substitute(node: Any, variables: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_substitute(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: _substitute(value, variables) for key, value in node.items()}
    return node


def compose_document() -> dict[str, Any]:
    """compose.yaml as YAML (anchors and merge keys resolved), before interpolation."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    command: list[str]
    environment: dict[str, str]
    depends_on: dict[str, str]  # service → condition
    healthcheck: list[str]  # the test, without its CMD / CMD-SHELL marker
    profiles: list[str] = field(default_factory=list)
    replicas: int = 1
    restart: str = ""

    @property
    def is_ours(self) -> bool:
        return self.image.split(":")[0] == OUR_IMAGE


def compose_services(variables: dict[str, str] | None = None) -> dict[str, Service]:
    """Every service, interpolated with ``variables`` (an empty environment by default)."""
    document = _substitute(compose_document(), variables or {})
    services = {}
    for name, spec in document["services"].items():
        depends = spec.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {dep: {"condition": "service_started"} for dep in depends}
        test = (spec.get("healthcheck") or {}).get("test") or []
        services[name] = Service(
            name=name,
            image=spec.get("image", ""),
            command=list(spec.get("command") or []),
            environment={key: str(value) for key, value in (spec.get("environment") or {}).items()},
            depends_on={dep: options.get("condition", "service_started") for dep, options in depends.items()},
            healthcheck=list(test[1:]) if test and test[0] in ("CMD", "CMD-SHELL") else list(test),
            profiles=list(spec.get("profiles") or []),
            replicas=int((spec.get("deploy") or {}).get("replicas", 1)),
            restart=str(spec.get("restart", "")),
        )
    return services


def compose_profiles() -> set[str]:
    return {profile for service in compose_services().values() for profile in service.profiles}


@cache
def dockerfile_env() -> dict[str, str]:
    """The ENV of the Dockerfile's last stage (the image the services run), ``$VAR`` references kept."""
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    last_stage = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    env: dict[str, str] = {}
    for line in lines[last_stage:]:
        if line.upper().startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def k8s_documents(directory: Path = K8S_DIR) -> list[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes object in deploy/k8s, or its ``cluster`` overlay (a kustomization file is not one)."""
    found: list[Any] = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found.extend((path, document) for document in yaml.safe_load_all(path.read_text()) if document)
    return found


def k8s_containers(directory: Path = K8S_DIR) -> list[tuple[str, dict[str, Any]]]:
    """(workload name, container spec) of every container in every workload."""
    found = []
    for _, document in k8s_documents(directory):
        template = (document.get("spec") or {}).get("template")
        if template:
            for container in template["spec"]["containers"]:
                found.append((document["metadata"]["name"], container))
    return found


def compose_commands(path: Path) -> list[list[str]]:
    """Each ``docker compose ...`` command shown in ``path`` as shell words (``VAR=value`` prefixes kept).

    In Markdown: the lines of fenced code blocks and inline code spans; in YAML: the comments.
    """
    snippets: list[str] = []
    in_block = False
    for line in path.read_text().splitlines():
        if path.suffix == ".md":
            if line.lstrip().startswith("```"):
                in_block = not in_block
                continue
            snippets.extend([line] if in_block else re.findall(r"`([^`]+)`", line))
        elif line.lstrip().startswith("#"):
            snippets.append(line.lstrip().lstrip("#"))
    commands = []
    for snippet in snippets:
        code = snippet.split(" #", 1)[0].strip().removeprefix("$").strip()
        words = shlex.split(code) if "docker compose" in code else []
        if words and (words[0] == "docker" or "=" in words[0]):
            commands.append(words)
    return commands

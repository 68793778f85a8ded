"""The old clients' receivers that the container configs turn on are reachable from outside the container."""

from __future__ import annotations

import pytest

from backend.config import load
from tests.deploy.manifests import REPO, compose_document, k8s_documents


def receiver_ports(config_name: str) -> set[tuple[int, str]]:
    """(port, protocol) of every Jaeger and Zipkin receiver endpoint in deploy/backend/<config_name>.yaml."""
    config = load(str(REPO / "deploy" / "backend" / f"{config_name}.yaml"))
    jaeger, zipkin = config.receivers["jaeger"].options, config.receivers["zipkin"].options
    endpoints = [(udp.endpoint, "udp") for udp in jaeger.udp.values()]
    endpoints += [(jaeger.http.endpoint, "tcp"), (jaeger.grpc.endpoint, "tcp"), (zipkin.endpoint, "tcp")]
    found = {(int(endpoint.rpartition(":")[2]), protocol) for endpoint, protocol in endpoints}
    assert len(found) == 5, found  # compact and binary UDP, Thrift HTTP, gRPC, Zipkin
    return found


def test_compose_publishes_every_legacy_receiver_port_with_its_protocol() -> None:
    published = set()
    for mapping in compose_document()["services"]["backend"]["ports"]:
        text, _, protocol = str(mapping).partition("/")
        published.add((int(text.rpartition(":")[2]), protocol or "tcp"))
    assert receiver_ports("postgres") <= published


@pytest.mark.parametrize("kind", ["Service", "Deployment"])
def test_the_kubernetes_backend_exposes_every_legacy_receiver_port_with_its_protocol(kind: str) -> None:
    [document] = [d for _, d in k8s_documents() if d["kind"] == kind and d["metadata"]["name"] == "backend"]
    if kind == "Service":
        ports = document["spec"]["ports"]
        exposed = {(p["port"], p.get("protocol", "TCP").lower()) for p in ports}
    else:
        [container] = document["spec"]["template"]["spec"]["containers"]
        exposed = {(p["containerPort"], p.get("protocol", "TCP").lower()) for p in container["ports"]}
    assert receiver_ports("postgres") <= exposed

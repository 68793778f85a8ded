"""Every port the built-in configuration binds, by flag name: the one list the CLIs and tests share.

``hotrod backend`` and ``hotrod all`` offer a ``--NAME-port`` flag for each;
tests set them all to 0.  Kept free of imports so that the ``hotrod`` CLI can
build its options without loading the backend.
"""

from __future__ import annotations

_JAEGER = "receivers.jaeger.protocols"
# flag name → (config path, default port, what must be configured for it to apply):
# what --bind and the per-port flags change
ENDPOINTS: dict[str, tuple[str, int, str]] = {
    "otlp-grpc": ("receivers.otlp.protocols.grpc.endpoint", 4317, "receivers.otlp.protocols.grpc"),
    "otlp-http": ("receivers.otlp.protocols.http.endpoint", 4318, "receivers.otlp.protocols.http"),
    "query": ("extensions.jaeger_query.http.endpoint", 16686, "extensions.jaeger_query"),
    "health": ("extensions.healthcheckv2.http.endpoint", 13133, "extensions.healthcheckv2"),
    "metrics": ("service.telemetry.metrics.address", 8888, ""),
    "sampling": ("extensions.remote_sampling.http.endpoint", 5778, "extensions.remote_sampling"),
    "sampling-grpc": ("extensions.remote_sampling.grpc.endpoint", 5779, "extensions.remote_sampling.grpc"),
    "jaeger-compact": (f"{_JAEGER}.thrift_compact.endpoint", 6831, f"{_JAEGER}.thrift_compact"),
    "jaeger-binary": (f"{_JAEGER}.thrift_binary.endpoint", 6832, f"{_JAEGER}.thrift_binary"),
    "jaeger-http": (f"{_JAEGER}.thrift_http.endpoint", 14268, f"{_JAEGER}.thrift_http"),
    "jaeger-grpc": (f"{_JAEGER}.grpc.endpoint", 14250, f"{_JAEGER}.grpc"),
    "zipkin": ("receivers.zipkin.endpoint", 9411, "receivers.zipkin"),
}
# what each port flag serves, for --help
PORT_HELP = {
    "otlp-grpc": "OTLP/gRPC receiver port (0: any free port).",
    "otlp-http": "OTLP/HTTP receiver port.",
    "query": "Query API and UI port.",
    "health": "Health check port.",
    "metrics": "Self-metrics (/metrics) port.",
    "sampling": "Remote sampling strategies (/api/sampling) port.",
    "sampling-grpc": "Remote sampling over gRPC (jaeger.api_v2.SamplingManager) port.",
    "jaeger-compact": "Jaeger Thrift compact (UDP) receiver port.",
    "jaeger-binary": "Jaeger Thrift binary (UDP) receiver port.",
    "jaeger-http": "Jaeger Thrift over HTTP receiver port.",
    "jaeger-grpc": "Jaeger gRPC (api_v2) receiver port.",
    "zipkin": "Zipkin receiver port (/api/v1/spans, /api/v2/spans).",
}

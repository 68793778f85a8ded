"""Configuration: Jaeger v2's shape, the built-in default, overrides, and errors that say where."""

from __future__ import annotations

import pytest

from backend.cli import apply_flags
from backend.config import DEFAULT_SOURCE, load, read
from backend.core.binding import ConfigError
from tests.backend.conftest import ANY_PORTS, run_backend


def test_the_default_config_is_the_all_in_one_backend():
    config = load(None)
    pipeline = config.pipelines["traces"]
    assert pipeline.receivers == ["otlp", "jaeger", "zipkin"]  # as in Jaeger v2's all-in-one
    assert "batch" not in pipeline.processors  # the exporter's sending queue batches, on disk
    assert pipeline.exporters == ["jaeger_storage_exporter"]
    assert config.exporters["jaeger_storage_exporter"].options.sending_queue.storage == "file_storage"
    assert config.service_extensions == [
        "file_storage", "jaeger_storage", "jaeger_query", "healthcheckv2", "remote_sampling"
    ]  # fmt: skip
    otlp = config.receivers["otlp"].options
    assert (otlp.grpc.endpoint, otlp.http.endpoint) == ("127.0.0.1:4317", "127.0.0.1:4318")
    assert config.extensions["jaeger_query"].options.http.endpoint == "127.0.0.1:16686"
    assert config.telemetry.metrics.address == "127.0.0.1:8888"


def test_set_overrides_any_value_with_yaml():
    config = load(
        None, ["exporters.jaeger_storage_exporter.sending_queue.queue_size=500", "receivers.otlp.protocols={http: }"]
    )
    assert config.exporters["jaeger_storage_exporter"].options.sending_queue.queue_size == 500
    assert config.receivers["otlp"].options.grpc is None
    assert config.receivers["otlp"].options.http.endpoint == "127.0.0.1:4318"


def test_named_components_are_type_slash_name(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "receivers: {otlp/a: {protocols: {http: {endpoint: '127.0.0.1:0'}}}}\n"
        "processors: {batch/fast: {timeout: 1ms}}\n"
        "exporters: {jaeger_storage_exporter: {trace_storage: s}}\n"
        "extensions: {jaeger_storage: {backends: {s: {memory: {max_traces: 10}}}}}\n"
        "service: {extensions: [jaeger_storage], pipelines: {traces/x: {receivers: [otlp/a],"
        " processors: [batch/fast], exporters: [jaeger_storage_exporter]}}}\n"
    )
    config = load(str(path))
    assert config.processors["batch/fast"].options.timeout == 1_000_000
    assert list(config.pipelines) == ["traces/x"]


@pytest.mark.parametrize(
    ("override", "where", "expected"),
    [
        ("receivers.otlp.protocols.http.endpoint=nope", "receivers.otlp.protocols.http.endpoint", "host:port"),
        ("receivers.pigeon={}", "receivers.pigeon", "unknown receiver type 'pigeon'"),
        ("service.pipelines.traces.exporters=[nothing]", "service.pipelines.traces.exporters[0]", "'nothing'"),
        ("processors.batch.queue_size=lots", "processors.batch.queue_size", "expected an integer"),
        ("processors.batch.colour=red", "processors.batch.colour", "unknown option"),
        ("receivers.otlp.protocols.http.threads=-1", "receivers.otlp.protocols.http.threads", "0 (serve on the event"),
        (
            "extensions.jaeger_storage.metric_backends={m: {prometheus: {endpoint: 'prom:9090'}}}",
            "jaeger_storage.metric_backends.m.prometheus.endpoint",
            "http://",
        ),
        (
            "extensions.jaeger_storage.metric_backends={m: {influx: {}}}",
            "jaeger_storage.metric_backends.m",
            "prometheus",
        ),
        (
            "extensions.jaeger_storage.metric_backends={main: {prometheus: {endpoint: 'http://p:9090'}}}",
            "jaeger_storage.metric_backends.main",
            "already names one of the backends",
        ),
        ("extensions.jaeger_storage.backends.main={cassandra: {}}", "backends.main.cassandra", "unknown storage kind"),
        ("extensions.jaeger_query.max_upload_bytes=0", "jaeger_query.max_upload_bytes", "expected at least 1, got 0"),
        ("service.extensions=[jaeger_query, expvar]", "service.extensions[1]", "'expvar' is not defined"),
        ("exporters.jaeger_storage_exporter.retry_on_failure.initial_interval=soon", "initial_interval", "duration"),
    ],
)
def test_mistakes_are_reported_with_the_file_and_key(override, where, expected):
    with pytest.raises(ConfigError) as caught:
        load(None, [override])
    message = str(caught.value)
    assert message.startswith(f"{DEFAULT_SOURCE}: ")
    assert where in message
    assert expected in message


def test_a_bad_config_file_exits_2_naming_file_and_key_without_a_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "receivers: {otlp: {protocols: {http: {endpoint: 'localhost'}}}}\n"
        "exporters: {debug: {}}\n"
        "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n"
    )
    result = run_backend("--config", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}: receivers.otlp.protocols.http.endpoint: expected host:port" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_config_file_exits_2(tmp_path):
    result = run_backend("--config", str(tmp_path / "absent.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "absent.yaml: cannot read the config file" in result.stderr


def test_a_storage_name_nobody_defines_exits_2(tmp_path):
    result = run_backend(
        *ANY_PORTS, "--storage", "memory", "--set", "exporters.jaeger_storage_exporter.trace_storage=elsewhere",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "exporters.jaeger_storage_exporter.trace_storage: storage 'elsewhere'" in result.stderr


def test_a_port_in_use_exits_1_with_a_message(tmp_path, start_backend):
    running = start_backend("--storage", "memory")
    result = run_backend(
        *ANY_PORTS, "--storage", "memory", "--otlp-http-port", str(running.ports["otlp-http"]), cwd=tmp_path
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_the_environment_variables(tmp_path):
    result = run_backend("--help", cwd=tmp_path)
    assert result.returncode == 0
    for name in ("HOTROD_BACKEND_STORAGE_URL", "HOTROD_BACKEND_CONFIG", "HOTROD_BACKEND_BIND"):
        assert name in result.stdout


def test_environment_variables_configure_like_flags(tmp_path):
    env = {"HOTROD_BACKEND_STORAGE": "sqlite", "HOTROD_BACKEND_STORAGE_URL": "not a url"}
    result = run_backend(*ANY_PORTS, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "extensions.jaeger_storage.backends.main.sql.url: not a database URL: 'not a url'" in result.stderr


def test_bind_and_port_flags_rewrite_every_endpoint():
    tree = read(None)
    apply_flags(tree, "memory", None, "0.0.0.0", {"otlp_http_port": 14318, "query_port": None})
    assert tree["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:14318"
    assert tree["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert tree["extensions"]["jaeger_query"]["http"]["endpoint"] == "0.0.0.0:16686"
    assert tree["extensions"]["healthcheckv2"]["http"]["endpoint"] == "0.0.0.0:13133"
    assert tree["service"]["telemetry"]["metrics"]["address"] == "0.0.0.0:8888"
    assert tree["extensions"]["jaeger_storage"]["backends"] == {"main": {"memory": {}}}


@pytest.mark.parametrize(
    ("storage", "url", "expected"),
    [
        ("sqlite", None, {"sql": {"url": "sqlite:///data/traces.db"}}),
        ("postgres", "postgresql+psycopg://u@db/t", {"sql": {"url": "postgresql+psycopg://u@db/t"}}),
        ("redis", None, {"redis": {}}),
        ("redis", "redis://cache:6379/2", {"redis": {"url": "redis://cache:6379/2"}}),
        (None, "sqlite:///elsewhere.db", {"sql": {"url": "sqlite:///elsewhere.db"}}),
    ],
)
def test_storage_flags_replace_the_storage_backends(storage, url, expected):
    tree = read(None)
    apply_flags(tree, storage, url, None, {})
    assert tree["extensions"]["jaeger_storage"]["backends"] == {"main": expected}


def test_postgres_gives_storage_exporters_and_batch_processors_parallel_writers_unless_configured():
    tree = read(None)
    tree["processors"]["batch/slow"] = {"workers": 2}
    tree["exporters"]["jaeger_storage_exporter/slow"] = {"trace_storage": "main", "sending_queue": {"num_consumers": 2}}
    apply_flags(tree, "postgres", None, None, {})
    assert tree["processors"]["batch/slow"] == {"workers": 2}
    assert tree["exporters"]["jaeger_storage_exporter"]["sending_queue"] == {
        "num_consumers": 4,
        "storage": "file_storage",
    }
    assert tree["exporters"]["jaeger_storage_exporter/slow"]["sending_queue"] == {"num_consumers": 2}


def test_clickhouse_gives_storage_exporters_larger_deliveries_unless_configured():
    tree = read(None)
    tree["exporters"]["jaeger_storage_exporter/small"] = {"sending_queue": {"batch": {"max_size": 100}}}
    apply_flags(tree, "clickhouse", None, None, {})
    assert tree["exporters"]["jaeger_storage_exporter"]["sending_queue"] == {
        "storage": "file_storage",
        "batch": {"max_size": 65_536},
    }
    assert tree["exporters"]["jaeger_storage_exporter/small"]["sending_queue"] == {"batch": {"max_size": 100}}


def test_bind_reaches_endpoints_of_other_receivers_and_extensions_but_not_exporters():
    tree = read(None)
    tree["receivers"]["custom"] = {"protocols": {"udp": {"endpoint": "127.0.0.1:6831"}}}
    tree["exporters"]["forward"] = {"endpoint": "http://collector:4318"}
    apply_flags(tree, None, None, "0.0.0.0", {})
    assert tree["receivers"]["custom"]["protocols"]["udp"]["endpoint"] == "0.0.0.0:6831"
    assert tree["exporters"]["forward"]["endpoint"] == "http://collector:4318"


def test_a_port_flag_for_a_component_the_config_lacks_is_an_error():
    tree = read(None)
    del tree["extensions"]["jaeger_query"]
    with pytest.raises(ConfigError, match="--query-port: the config has no extensions.jaeger_query"):
        apply_flags(tree, None, None, None, {"query_port": 1234})

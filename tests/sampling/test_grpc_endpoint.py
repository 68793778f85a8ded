"""Remote sampling over gRPC on the built-in config: ``jaeger.api_v2.SamplingManager/GetSamplingStrategy``.

The client's messages come from a .proto compiled here by grpcio-tools' protoc,
written from jaeger-idl's ``proto/api_v2/sampling.proto`` (names, numbers,
types), not from the backend's own tables: the two agree only if the wire does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import requests

from backend.service import BackendService
from tests.spm.conftest import build_config
from tests.support import compile_proto

SAMPLING_PROTO = """
syntax = "proto3";
package jaeger.api_v2;

enum SamplingStrategyType { PROBABILISTIC = 0; RATE_LIMITING = 1; }
message ProbabilisticSamplingStrategy { double samplingRate = 1; }
message RateLimitingSamplingStrategy { int32 maxTracesPerSecond = 1; }
message OperationSamplingStrategy {
  string operation = 1;
  ProbabilisticSamplingStrategy probabilisticSampling = 2;
}
message PerOperationSamplingStrategies {
  double defaultSamplingProbability = 1;
  double defaultLowerBoundTracesPerSecond = 2;
  repeated OperationSamplingStrategy perOperationStrategies = 3;
  double defaultUpperBoundTracesPerSecond = 4;
}
message SamplingStrategyResponse {
  SamplingStrategyType strategyType = 1;
  ProbabilisticSamplingStrategy probabilisticSampling = 2;
  RateLimitingSamplingStrategy rateLimitingSampling = 3;
  PerOperationSamplingStrategies operationSampling = 4;
}
message SamplingStrategyParameters { string serviceName = 1; }
service SamplingManager {
  rpc GetSamplingStrategy(SamplingStrategyParameters) returns (SamplingStrategyResponse) {}
}
"""
STRATEGIES = """{
  "default_strategy": {"type": "probabilistic", "param": 0.5},
  "service_strategies": [
    {"service": "driver", "type": "ratelimiting", "param": 5},
    {"service": "frontend", "type": "probabilistic", "param": 0.8,
     "operation_strategies": [{"operation": "HTTP GET /dispatch", "type": "probabilistic", "param": 0.25}]}
  ]
}"""


@pytest.fixture(scope="module")
def pb2(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return compile_proto(SAMPLING_PROTO, "sampling", tmp_path_factory.mktemp("proto"))


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendService]:
    """The built-in config with file strategies in place of adaptive ones (and so no adaptive_sampling processor)."""
    path = tmp_path_factory.mktemp("strategies") / "strategies.json"
    path.write_text(STRATEGIES)
    sampling = {
        "file": {"path": str(path)},
        "http": {"endpoint": "127.0.0.1:0"},
        "grpc": {"endpoint": "127.0.0.1:0"},
    }
    extra = {"extensions.remote_sampling": sampling, "service.pipelines.traces.processors": []}
    service = BackendService(build_config("memory", None, extra))
    service.start()
    yield service
    service.shutdown()


def ask(backend: BackendService, pb2: Any, service: str) -> Any:
    with grpc.insecure_channel(backend.endpoints["remote_sampling/grpc"]) as channel:
        call = channel.unary_unary(
            "/jaeger.api_v2.SamplingManager/GetSamplingStrategy",
            request_serializer=pb2.SamplingStrategyParameters.SerializeToString,
            response_deserializer=pb2.SamplingStrategyResponse.FromString,
        )
        return call(pb2.SamplingStrategyParameters(serviceName=service), timeout=5)


def test_a_rate_limiting_strategy_arrives_as_jaegers_message(backend, pb2):
    response = ask(backend, pb2, "driver")

    assert response.strategyType == pb2.RATE_LIMITING
    assert response.rateLimitingSampling.maxTracesPerSecond == 5


def test_per_operation_probabilities_arrive_with_their_bounds(backend, pb2):
    response = ask(backend, pb2, "frontend")

    assert response.strategyType == pb2.PROBABILISTIC
    operations = response.operationSampling
    assert operations.defaultSamplingProbability == 0.8
    [operation] = operations.perOperationStrategies
    assert (operation.operation, operation.probabilisticSampling.samplingRate) == ("HTTP GET /dispatch", 0.25)


def test_grpc_and_http_answer_the_same_strategy(backend, pb2):
    from google.protobuf.json_format import MessageToDict

    over_grpc = MessageToDict(ask(backend, pb2, "frontend"), always_print_fields_with_no_presence=True)
    http = f"http://{backend.endpoints['remote_sampling']}/api/sampling"
    over_http = requests.get(http, params={"service": "frontend"}, timeout=5).json()

    assert over_grpc == over_http


def test_a_missing_service_name_is_invalid_argument(backend, pb2):
    with pytest.raises(grpc.RpcError) as raised:
        ask(backend, pb2, "")

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT

"""Remote sampling over gRPC (port 5779 by convention): ``jaeger.api_v2.SamplingManager/GetSamplingStrategy``.

The messages are those of jaeger-idl's ``proto/api_v2/sampling.proto``,
declared field by field with its numbers (``backend.spans.proto_tables``), so
the same strategies the HTTP endpoint renders as JSON go out as protobuf.  A
missing service name is INVALID_ARGUMENT; a provider failure is INTERNAL.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from backend.receivers.shared.grpc_server import GrpcServer
from backend.sampling.strategies import STRATEGY_TYPES, SamplingStrategy, StrategyProvider
from backend.spans.proto_tables import OPTIONAL, REPEATED, Field, file_of

log = logging.getLogger(__name__)
PACKAGE = "jaeger.api_v2"
SERVICE = f"{PACKAGE}.SamplingManager"
_F = descriptor_pb2.FieldDescriptorProto
_P = f".{PACKAGE}."
_MESSAGES: dict[str, list[Field]] = {
    "ProbabilisticSamplingStrategy": [("samplingRate", 1, _F.TYPE_DOUBLE, OPTIONAL, "")],
    "RateLimitingSamplingStrategy": [("maxTracesPerSecond", 1, _F.TYPE_INT32, OPTIONAL, "")],
    "OperationSamplingStrategy": [
        ("operation", 1, _F.TYPE_STRING, OPTIONAL, ""),
        ("probabilisticSampling", 2, _F.TYPE_MESSAGE, OPTIONAL, _P + "ProbabilisticSamplingStrategy"),
    ],
    "PerOperationSamplingStrategies": [
        ("defaultSamplingProbability", 1, _F.TYPE_DOUBLE, OPTIONAL, ""),
        ("defaultLowerBoundTracesPerSecond", 2, _F.TYPE_DOUBLE, OPTIONAL, ""),
        ("perOperationStrategies", 3, _F.TYPE_MESSAGE, REPEATED, _P + "OperationSamplingStrategy"),
        ("defaultUpperBoundTracesPerSecond", 4, _F.TYPE_DOUBLE, OPTIONAL, ""),
    ],
    "SamplingStrategyResponse": [
        ("strategyType", 1, _F.TYPE_ENUM, OPTIONAL, _P + "SamplingStrategyType"),
        ("probabilisticSampling", 2, _F.TYPE_MESSAGE, OPTIONAL, _P + "ProbabilisticSamplingStrategy"),
        ("rateLimitingSampling", 3, _F.TYPE_MESSAGE, OPTIONAL, _P + "RateLimitingSamplingStrategy"),
        ("operationSampling", 4, _F.TYPE_MESSAGE, OPTIONAL, _P + "PerOperationSamplingStrategies"),
    ],
    "SamplingStrategyParameters": [("serviceName", 1, _F.TYPE_STRING, OPTIONAL, "")],
}


@cache
def messages() -> dict[str, type]:
    """Message classes by short name (``SamplingStrategyResponse``, ...), in a pool of their own."""
    file = file_of("hotrod/jaeger_sampling.proto", PACKAGE, _MESSAGES)
    enum = file.enum_type.add(name="SamplingStrategyType")
    for number, name in enumerate(STRATEGY_TYPES):
        enum.value.add(name=name, number=number)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}")) for name in _MESSAGES
    }


def to_proto(strategy: SamplingStrategy) -> Any:
    """The strategy as ``SamplingStrategyResponse``; the JSON and this carry the same fields."""
    response = messages()["SamplingStrategyResponse"]()
    response.strategyType = STRATEGY_TYPES.index(strategy.strategy_type)
    if strategy.probability is not None:
        response.probabilisticSampling.samplingRate = strategy.probability
    if strategy.max_traces_per_second is not None:
        response.rateLimitingSampling.maxTracesPerSecond = strategy.max_traces_per_second
    operations = strategy.operation_sampling
    if operations is not None:
        target = response.operationSampling
        target.defaultSamplingProbability = operations.default_probability
        target.defaultLowerBoundTracesPerSecond = operations.default_lower_bound_per_second
        target.defaultUpperBoundTracesPerSecond = operations.default_upper_bound_per_second
        for name, rate in operations.per_operation.items():
            target.perOperationStrategies.add(operation=name).probabilisticSampling.samplingRate = rate
    return response


class SamplingGrpcServer(GrpcServer):
    label = "remote sampling gRPC"

    def __init__(self, provider: StrategyProvider, host: str, port: int) -> None:
        super().__init__(host, port, max_message_bytes=64 * 1024, workers=4)
        self._provider = provider

    def handler(self) -> grpc.GenericRpcHandler:
        parameters: Any = messages()["SamplingStrategyParameters"]
        method = grpc.unary_unary_rpc_method_handler(
            self._get_strategy,
            request_deserializer=parameters.FromString,
            response_serializer=lambda response: response.SerializeToString(),
        )
        return grpc.method_handlers_generic_handler(SERVICE, {"GetSamplingStrategy": method})

    def _get_strategy(self, request: Any, context: grpc.ServicerContext) -> Any:
        if not request.serviceName:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "serviceName must be given")
        try:
            strategy = self._provider.get_strategy(request.serviceName)
        except Exception:  # noqa: BLE001 - a provider failure is an INTERNAL answer, never a dropped call
            log.exception("sampling strategy for %r could not be computed", request.serviceName)
            context.abort(grpc.StatusCode.INTERNAL, "sampling strategy unavailable")
        return to_proto(strategy)

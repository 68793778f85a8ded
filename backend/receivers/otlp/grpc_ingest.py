"""OTLP/gRPC: ``opentelemetry.proto.collector.trace.v1.TraceService/Export`` on grpcio.

The method is registered with raw bytes in (no deserializer), so that a body
that is not protobuf is answered INVALID_ARGUMENT (grpcio's own deserializer
failure would be INTERNAL) and each request is parsed exactly once.  A
refusal is RESOURCE_EXHAUSTED (queue full) or UNAVAILABLE (storage failing),
with a ``google.rpc.RetryInfo`` detail that OTLP exporters honour.
"""

from __future__ import annotations

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from backend.core.component import Refused
from backend.receivers.shared.grpc_server import GrpcIngestServer, abort_refused
from backend.spans.otlp import InvalidRequest, drop_undecodable, parse_protobuf

SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name


class OtlpGrpcServer(GrpcIngestServer):
    label = "OTLP/gRPC"

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    self._export,
                    request_deserializer=None,
                    response_serializer=ExportTraceServiceResponse.SerializeToString,
                )
            },
        )

    def _export(self, body: bytes, context: grpc.ServicerContext) -> ExportTraceServiceResponse:
        try:
            self._ingest.admit()
            request = parse_protobuf(body)
            decoded = self._ingest.export(request, drop_undecodable(body, request), body)
        except InvalidRequest as exc:
            self._ingest.failed("malformed")
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except Refused as exc:
            abort_refused(context, exc)
        response = ExportTraceServiceResponse()
        if decoded.rejected:
            response.partial_success.rejected_spans = decoded.rejected
            response.partial_success.error_message = decoded.error
        return response

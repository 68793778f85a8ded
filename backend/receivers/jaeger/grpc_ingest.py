"""Jaeger over gRPC: ``jaeger.api_v2.CollectorService/PostSpans`` (14250) on grpcio.

The protobuf batch is brought to the Thrift model's shape (the two carry the
same fields) and translated by ``jaeger_translate``, so both Jaeger
encodings map to OTLP in one place.  A span may carry its own process,
which then overrides the batch's.  Bad input is INVALID_ARGUMENT with the
reason; a refusal (asked before decoding, too) is RESOURCE_EXHAUSTED or
UNAVAILABLE with retry info, as for OTLP/gRPC.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import DecodeError

from backend.core.component import Refused
from backend.receivers.idl import jaeger
from backend.receivers.idl.jaeger_proto import SERVICE, messages
from backend.receivers.jaeger.thrift import ingest_batch
from backend.receivers.shared.grpc_server import GrpcIngestServer, abort_refused
from backend.spans.otlp import InvalidRequest

# jaeger.api_v2.ValueType → Thrift TagType (STRING, DOUBLE, BOOL, LONG, BINARY)
_TAG_TYPES = {0: 0, 1: 2, 2: 3, 3: 1, 4: 4}


def _signed(raw: bytes) -> int:
    return int.from_bytes(raw, "big", signed=True)


def _ids(trace_id: bytes, span_id: bytes, what: str) -> tuple[int, int, int]:
    if len(trace_id) != 16 or len(span_id) != 8:
        raise InvalidRequest(f"{what}: trace_id must be 16 bytes and span_id 8 bytes")
    return _signed(trace_id[:8]), _signed(trace_id[8:]), _signed(span_id)


def _tags(values: Any) -> list[Any]:
    model = jaeger()
    return [
        model.Tag(
            key=kv.key,
            vType=_TAG_TYPES.get(kv.v_type, 0),
            vStr=kv.v_str,
            vDouble=kv.v_float64,
            vBool=kv.v_bool,
            vLong=kv.v_int64,
            vBinary=kv.v_binary,
        )
        for kv in values
    ]


def _micros(value: Any) -> int:
    return int(value.seconds) * 1_000_000 + int(value.nanos) // 1000


def thrift_batches(batch: Any) -> list[Any]:
    """The protobuf batch as Thrift ``Batch`` objects, one per distinct process."""
    model = jaeger()
    groups: dict[bytes, Any] = {}
    for index, source in enumerate(batch.spans):
        process = source.process if source.HasField("process") else batch.process
        key = process.SerializeToString(deterministic=True)
        group = groups.get(key)
        if group is None:
            thrift_process = model.Process(serviceName=process.service_name, tags=_tags(process.tags))
            group = groups[key] = model.Batch(process=thrift_process, spans=[])
        high, low, span_id = _ids(source.trace_id, source.span_id, f"span {index}")
        references = []
        for ref in source.references:
            ref_high, ref_low, ref_span = _ids(ref.trace_id, ref.span_id, f"span {index} reference")
            references.append(
                model.SpanRef(refType=ref.ref_type, traceIdHigh=ref_high, traceIdLow=ref_low, spanId=ref_span)
            )
        logs = [model.Log(timestamp=_micros(log.timestamp), fields=_tags(log.fields)) for log in source.logs]
        group.spans.append(
            model.Span(
                traceIdHigh=high,
                traceIdLow=low,
                spanId=span_id,
                parentSpanId=0,
                operationName=source.operation_name,
                references=references,
                flags=source.flags,
                startTime=_micros(source.start_time),
                duration=_micros(source.duration),
                tags=_tags(source.tags),
                logs=logs,
            )
        )
    return list(groups.values())


class JaegerGrpcServer(GrpcIngestServer):
    label = "Jaeger gRPC"

    def handler(self) -> grpc.GenericRpcHandler:
        response = messages()["PostSpansResponse"]
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "PostSpans": grpc.unary_unary_rpc_method_handler(
                    self._post_spans, request_deserializer=None, response_serializer=response.SerializeToString
                )
            },
        )

    def _post_spans(self, body: bytes, context: grpc.ServicerContext) -> Any:
        try:
            self._ingest.admit()
            try:
                request = messages()["PostSpansRequest"].FromString(body)
            except DecodeError as exc:
                raise InvalidRequest(f"body is not a valid jaeger.api_v2.PostSpansRequest: {exc}") from exc
            for batch in thrift_batches(request.batch):
                ingest_batch(self._ingest, batch)
        except InvalidRequest as exc:
            self._ingest.failed("malformed")
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except Refused as exc:
            abort_refused(context, exc)
        return messages()["PostSpansResponse"]()

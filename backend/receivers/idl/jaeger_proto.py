"""Jaeger's gRPC model (``jaeger.api_v2``: model.proto and collector.proto), built at run time.

Declared field by field with the numbers of Jaeger's published protos
(jaeger-idl proto/api_v2); ids are plain bytes on the wire (16-byte trace
ids, 8-byte span ids, big-endian), times are protobuf Timestamp/Duration.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, message_factory, timestamp_pb2

from backend.spans.proto_tables import Field, file_of

_F = descriptor_pb2.FieldDescriptorProto
PACKAGE = "jaeger.api_v2"
SERVICE = f"{PACKAGE}.CollectorService"
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_P = f".{PACKAGE}."
# (name, number, type, label, message or enum type) per field
_MESSAGES: dict[str, list[Field]] = {
    "KeyValue": [
        ("key", 1, _F.TYPE_STRING, _OPT, ""),
        ("v_type", 2, _F.TYPE_ENUM, _OPT, _P + "ValueType"),
        ("v_str", 3, _F.TYPE_STRING, _OPT, ""),
        ("v_bool", 4, _F.TYPE_BOOL, _OPT, ""),
        ("v_int64", 5, _F.TYPE_INT64, _OPT, ""),
        ("v_float64", 6, _F.TYPE_DOUBLE, _OPT, ""),
        ("v_binary", 7, _F.TYPE_BYTES, _OPT, ""),
    ],
    "Log": [
        ("timestamp", 1, _F.TYPE_MESSAGE, _OPT, ".google.protobuf.Timestamp"),
        ("fields", 2, _F.TYPE_MESSAGE, _REP, _P + "KeyValue"),
    ],
    "SpanRef": [
        ("trace_id", 1, _F.TYPE_BYTES, _OPT, ""),
        ("span_id", 2, _F.TYPE_BYTES, _OPT, ""),
        ("ref_type", 3, _F.TYPE_ENUM, _OPT, _P + "SpanRefType"),
    ],
    "Process": [
        ("service_name", 1, _F.TYPE_STRING, _OPT, ""),
        ("tags", 2, _F.TYPE_MESSAGE, _REP, _P + "KeyValue"),
    ],
    "Span": [
        ("trace_id", 1, _F.TYPE_BYTES, _OPT, ""),
        ("span_id", 2, _F.TYPE_BYTES, _OPT, ""),
        ("operation_name", 3, _F.TYPE_STRING, _OPT, ""),
        ("references", 4, _F.TYPE_MESSAGE, _REP, _P + "SpanRef"),
        ("flags", 5, _F.TYPE_UINT32, _OPT, ""),
        ("start_time", 6, _F.TYPE_MESSAGE, _OPT, ".google.protobuf.Timestamp"),
        ("duration", 7, _F.TYPE_MESSAGE, _OPT, ".google.protobuf.Duration"),
        ("tags", 8, _F.TYPE_MESSAGE, _REP, _P + "KeyValue"),
        ("logs", 9, _F.TYPE_MESSAGE, _REP, _P + "Log"),
        ("process", 10, _F.TYPE_MESSAGE, _OPT, _P + "Process"),
        ("process_id", 11, _F.TYPE_STRING, _OPT, ""),
        ("warnings", 12, _F.TYPE_STRING, _REP, ""),
    ],
    "Batch": [
        ("spans", 1, _F.TYPE_MESSAGE, _REP, _P + "Span"),
        ("process", 2, _F.TYPE_MESSAGE, _OPT, _P + "Process"),
    ],
    "PostSpansRequest": [("batch", 1, _F.TYPE_MESSAGE, _OPT, _P + "Batch")],
    "PostSpansResponse": [],
}
_ENUMS = {
    "ValueType": ("STRING", "BOOL", "INT64", "FLOAT64", "BINARY"),
    "SpanRefType": ("CHILD_OF", "FOLLOWS_FROM"),
}


def _file() -> descriptor_pb2.FileDescriptorProto:
    dependencies = ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"]
    file = file_of("hotrod/jaeger_api_v2.proto", PACKAGE, _MESSAGES, dependencies)
    for name, values in _ENUMS.items():
        enum = file.enum_type.add(name=name)
        for number, value in enumerate(values):
            enum.value.add(name=value, number=number)
    service = file.service.add(name="CollectorService")
    service.method.add(name="PostSpans", input_type=_P + "PostSpansRequest", output_type=_P + "PostSpansResponse")
    return file


@cache
def messages() -> dict[str, Any]:  # classes built at run time: no static type
    """Message classes by short name: ``PostSpansRequest``, ``Batch``, ``Span``, ``KeyValue`` ..."""
    pool = descriptor_pool.DescriptorPool()
    for well_known in (timestamp_pb2, duration_pb2):
        pool.AddSerializedFile(well_known.DESCRIPTOR.serialized_pb)
    pool.Add(_file())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}")) for name in _MESSAGES
    }

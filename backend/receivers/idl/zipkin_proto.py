"""Zipkin's v2 protobuf model (``zipkin.proto3``: ListOfSpans, Span, Endpoint, Annotation), built at run time.

The messages are declared here field by field, with the field numbers of
Zipkin's published ``zipkin.proto``, and turned into message classes by the
protobuf runtime: no generated code, and no dependency on a package that
pins an old protobuf.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from backend.spans.proto_tables import Field, file_of, message_of

_F = descriptor_pb2.FieldDescriptorProto
PACKAGE = "zipkin.proto3"
# (name, number, type, label, message type) per field
_MESSAGES: dict[str, list[Field]] = {
    "Endpoint": [
        ("service_name", 1, _F.TYPE_STRING, _F.LABEL_OPTIONAL, ""),
        ("ipv4", 2, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
        ("ipv6", 3, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
        ("port", 4, _F.TYPE_INT32, _F.LABEL_OPTIONAL, ""),
    ],
    "Annotation": [
        ("timestamp", 1, _F.TYPE_FIXED64, _F.LABEL_OPTIONAL, ""),
        ("value", 2, _F.TYPE_STRING, _F.LABEL_OPTIONAL, ""),
    ],
    "Span": [
        ("trace_id", 1, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
        ("parent_id", 2, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
        ("id", 3, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
        ("kind", 4, _F.TYPE_ENUM, _F.LABEL_OPTIONAL, ".zipkin.proto3.Span.Kind"),
        ("name", 5, _F.TYPE_STRING, _F.LABEL_OPTIONAL, ""),
        ("timestamp", 6, _F.TYPE_FIXED64, _F.LABEL_OPTIONAL, ""),
        ("duration", 7, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
        ("local_endpoint", 8, _F.TYPE_MESSAGE, _F.LABEL_OPTIONAL, ".zipkin.proto3.Endpoint"),
        ("remote_endpoint", 9, _F.TYPE_MESSAGE, _F.LABEL_OPTIONAL, ".zipkin.proto3.Endpoint"),
        ("annotations", 10, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".zipkin.proto3.Annotation"),
        ("tags", 11, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".zipkin.proto3.Span.TagsEntry"),
        ("debug", 12, _F.TYPE_BOOL, _F.LABEL_OPTIONAL, ""),
        ("shared", 13, _F.TYPE_BOOL, _F.LABEL_OPTIONAL, ""),
    ],
    "ListOfSpans": [("spans", 1, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".zipkin.proto3.Span")],
}
KINDS = ("SPAN_KIND_UNSPECIFIED", "CLIENT", "SERVER", "PRODUCER", "CONSUMER")


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = file_of("hotrod/zipkin.proto", PACKAGE, _MESSAGES)
    span = message_of(file, "Span")
    kind = span.enum_type.add(name="Kind")
    for number, kind_name in enumerate(KINDS):
        kind.value.add(name=kind_name, number=number)
    entry = span.nested_type.add(name="TagsEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    return file


@cache
def list_of_spans() -> Any:  # a class built at run time: no static type
    """The ``zipkin.proto3.ListOfSpans`` message class (the body of a protobuf POST)."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.ListOfSpans"))

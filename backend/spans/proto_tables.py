"""Protobuf messages declared as Python tables and built at run time.

The backend reads several published formats (Jaeger's api_v2, Zipkin's
proto3, a skim view of OTLP) whose generated code it does not ship: each
module lists its messages field by field, with the published numbers, and
this turns the list into a file descriptor the protobuf runtime builds
classes from.  No protoc step at install, no package pinning an old protobuf.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import descriptor_pb2

FieldType = descriptor_pb2.FieldDescriptorProto
OPTIONAL = FieldType.LABEL_OPTIONAL
REPEATED = FieldType.LABEL_REPEATED
# (name, number, type, label, message or enum type name, "" for a scalar) per field
Field = tuple[str, int, int, int, str]


def file_of(
    name: str, package: str, messages: dict[str, list[Field]], dependencies: Sequence[str] = ()
) -> descriptor_pb2.FileDescriptorProto:
    """A proto3 file holding ``messages``; callers may add enums, nested types or services to it."""
    file = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3", dependency=dependencies)
    for message_name, fields in messages.items():
        message = file.message_type.add(name=message_name)
        for field_name, number, field_type, label, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=field_type, label=label)
            if type_name:
                field.type_name = type_name
    return file


def message_of(file: descriptor_pb2.FileDescriptorProto, name: str) -> descriptor_pb2.DescriptorProto:
    """The message ``name`` of ``file``, to add nested types to."""
    return next(message for message in file.message_type if message.name == name)

"""OTLP/JSON documents → ``ExportTraceServiceRequest`` without protobuf's ``json_format``.

``json_format.ParseDict`` walks the document field by field in Python through
descriptors: on the UI benchmark's 10,000-span file it took about 1.3 CPU
seconds where ``json.loads`` takes 0.25, and opening that file on /upload took
4.6 s against 1.5 s for the same trace as Jaeger JSON.  Here each message's
fields are looked up once in a table built from its descriptor, the document
becomes a tree of plain dicts keyed by the fields' proto names, and the
request is built from that tree by one constructor call, inside upb (about
0.35 CPU seconds for that file; ``benchmarks/ui_render.py`` prints both).

This reads what OTLP exporters write: lowerCamelCase keys, ids in hex, 64-bit
integers as strings or numbers, enums as numbers or names, bytes in base64,
doubles as numbers or "NaN"/"Infinity"/"-Infinity", and ignores unknown keys
as ``ParseDict`` is told to.  Anything else (a proto-name key, a number where
a string belongs, a float for an integer, a message nested past the depth
limit, two values of one oneof, a value out of range …) makes
``read_request`` answer ``None``: the caller then parses the document with
``ParseDict``, which either accepts it (the rare, unusual spellings) or says
precisely what is wrong.  So every document ends either as the request
``ParseDict`` builds or with its error message; tests/backend/test_otlp_json.py
checks that on generated documents.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

# OTLP/JSON writes these bytes fields in hex, not base64; ID_KEYS are their spellings, wherever they appear
_HEX_FIELDS = ("trace_id", "span_id", "parent_span_id")
ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", *_HEX_FIELDS})
_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads leaves an unpaired \\uXXXX escape as one of these


class _Unusual(Exception):
    """The document says something ``read_request`` leaves to ``ParseDict``."""


# (JSON value, how many more levels of messages may nest in it) -> value for the constructor
Convert = Callable[[Any, int], Any]


def _integer(value: Any, depth: int) -> int:
    if type(value) is int:
        return value
    if type(value) is str and " " not in value:  # ParseDict refuses a space, and reads "1e3" as a float: left to it
        try:
            return int(value)
        except ValueError:
            pass
    raise _Unusual


_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}  # as protobuf's mapping writes them


def _double(value: Any, depth: int) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int:
        return float(value)
    if type(value) is str and value in _SPECIAL_DOUBLES:
        return _SPECIAL_DOUBLES[value]
    raise _Unusual  # other strings ("1.5") and non-finite numbers


def _boolean(value: Any, depth: int) -> bool:
    if type(value) is bool:
        return value
    raise _Unusual


def _string(value: Any, depth: int) -> str:
    if type(value) is str and (value.isascii() or not _SURROGATE.search(value)):
        return value
    raise _Unusual


def _base64(value: Any, depth: int) -> bytes:
    if type(value) is not str:
        raise _Unusual
    encoded = value.encode()
    try:
        return base64.urlsafe_b64decode(encoded + b"=" * (4 - len(encoded) % 4))  # as ParseDict pads and decodes
    except ValueError as exc:
        raise _Unusual from exc


def _hex(value: Any, depth: int) -> bytes:
    if type(value) is not str:
        raise _Unusual
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise _Unusual from exc


def _enum(field: FieldDescriptor) -> Convert:
    assert field.enum_type is not None  # the caller checked that the field is an enum
    by_name = {value.name: value.number for value in field.enum_type.values}

    def convert(value: Any, depth: int) -> int:
        if type(value) is int:
            return value
        if type(value) is str and value in by_name:
            return by_name[value]
        raise _Unusual

    return convert


_SCALARS: dict[int, Convert] = {
    FieldDescriptor.CPPTYPE_INT32: _integer,
    FieldDescriptor.CPPTYPE_INT64: _integer,
    FieldDescriptor.CPPTYPE_UINT32: _integer,
    FieldDescriptor.CPPTYPE_UINT64: _integer,
    FieldDescriptor.CPPTYPE_DOUBLE: _double,
    FieldDescriptor.CPPTYPE_BOOL: _boolean,
}


class _Message:
    """How to read one message type: per JSON key, the proto name and converter of its field."""

    def __init__(self, descriptor: Descriptor, known: dict[str, _Message]) -> None:
        known[descriptor.full_name] = self
        self.fields: dict[str, tuple[str, Convert, str | None]] = {}  # json name -> (proto name, convert, oneof)
        # keys ParseDict would not just ignore: proto names spelled otherwise in JSON, and ids anywhere (they are
        # checked as hex wherever they appear); the "[extension]" form is checked apart
        self.not_ignored = ID_KEYS | {field.name for field in descriptor.fields if field.name != field.json_name}
        for field in descriptor.fields:
            oneof = field.containing_oneof.name if field.containing_oneof is not None else None
            self.fields[field.json_name] = (field.name, self._converter(field, known), oneof)
        # every field in one oneof (AnyValue): a value names a single field, which read() takes the short way
        self.has_oneofs = bool(descriptor.oneofs)
        self.one_of_all = len(descriptor.oneofs) == 1 and len(descriptor.oneofs[0].fields) == len(descriptor.fields)

    @staticmethod
    def _converter(field: FieldDescriptor, known: dict[str, _Message]) -> Convert:
        if field.message_type is not None:
            if field.message_type.GetOptions().map_entry:
                return _unsupported
            message = known.get(field.message_type.full_name) or _Message(field.message_type, known)
            return message.read_list if field.is_repeated else message.read
        if field.is_repeated:
            return _unsupported  # OTLP traces have no repeated scalars
        if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
            return _enum(field)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return _hex if field.name in _HEX_FIELDS else _base64
        if field.cpp_type == FieldDescriptor.CPPTYPE_STRING:
            return _string
        return _SCALARS.get(field.cpp_type, _unsupported)

    def read(self, value: Any, depth: int) -> dict[str, Any]:
        """``value`` as constructor arguments; ``depth``: how many levels of messages it may nest, itself included."""
        depth -= 1
        if type(value) is not dict or depth < 0:
            raise _Unusual
        fields = self.fields
        if self.one_of_all and len(value) == 1:  # the usual AnyValue: the one branch read directly
            for key, item in value.items():
                known = fields.get(key)
                if known is not None and item is not None:
                    name, convert, _ = known
                    if convert is _string and type(item) is str and item.isascii():  # the commonest value, inline
                        return {name: item}
                    return {name: convert(item, depth)}
        arguments: dict[str, Any] = {}
        oneofs: set[str] | None = set() if self.has_oneofs else None
        for key, item in value.items():
            known = fields.get(key)
            if known is None:
                if key in self.not_ignored or key.startswith("[") or isinstance(item, dict | list):
                    raise _Unusual  # ParseDict reads or refuses it; a nested value may hide ids to check or depth
                continue
            if item is None:
                continue  # ParseDict leaves a null field unset
            name, convert, oneof = known
            if oneof is not None and oneofs is not None:
                if oneof in oneofs:
                    raise _Unusual
                oneofs.add(oneof)
            if convert is _string and type(item) is str and item.isascii():
                arguments[name] = item
            else:
                arguments[name] = convert(item, depth)
        return arguments

    def read_list(self, value: Any, depth: int) -> list[dict[str, Any]]:
        if type(value) is not list:
            raise _Unusual
        read = self.read
        return [read(item, depth) for item in value]


def _unsupported(value: Any, depth: int) -> Any:
    raise _Unusual


_REQUEST = _Message(ExportTraceServiceRequest.DESCRIPTOR, {})


def read_request(document: dict[str, Any], max_depth: int) -> ExportTraceServiceRequest | None:
    """The request ``document`` spells, or ``None`` when it is not in the usual OTLP/JSON shape (see above).

    ``max_depth``: ParseDict's ``max_recursion_depth``, in levels of messages (the request is the first).
    """
    try:
        return ExportTraceServiceRequest(**_REQUEST.read(document, max_depth))
    except (_Unusual, ValueError, TypeError, OverflowError):  # upb refuses out-of-range numbers with these
        return None

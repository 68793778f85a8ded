"""Make thriftpy2's pure-Python readers stop on every malformed input, in time bounded by its length.

Two gaps let a small datagram keep a reader busy for minutes: reading past
the end of a memory buffer returns short data instead of failing (so a
claimed list of two billion booleans is "read" from nothing), and skipping
a container whose element type is unknown (binary) or STOP (compact) reads
nothing per element.  ``StrictBuffer`` fails on a short read; the compact
protocol refuses such element types in its own ``skip``; the binary
protocol's skip is a module function that cannot be overridden per reader,
so binary input is walked once by ``check_binary`` before thriftpy2 reads
it: every element of a valid message consumes at least one byte, so the
walk ends within the input and a hostile count is refused at once.
"""

from __future__ import annotations

import struct
from typing import Any

from thriftpy2.protocol import binary
from thriftpy2.protocol.compact import TCompactProtocol
from thriftpy2.protocol.exc import TProtocolException
from thriftpy2.thrift import TType
from thriftpy2.transport import TTransportException
from thriftpy2.transport.memory import TMemoryBuffer

_FIXED_SIZES = {TType.BOOL: 1, TType.BYTE: 1, TType.I16: 2, TType.I32: 4, TType.I64: 8, TType.DOUBLE: 8}
_TYPES = frozenset((*_FIXED_SIZES, TType.STRING, TType.STRUCT, TType.MAP, TType.SET, TType.LIST))
_MAX_DEPTH = 64


def _invalid(message: str) -> TProtocolException:
    return TProtocolException(TProtocolException.INVALID_DATA, message)  # type: ignore[no-untyped-call]


class StrictBuffer(TMemoryBuffer):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)  # type: ignore[no-untyped-call]  # thriftpy2 is untyped

    def read(self, sz: int) -> bytes:
        data: bytes = super().read(sz)  # type: ignore[no-untyped-call]
        if len(data) < sz:
            raise TTransportException(TTransportException.END_OF_FILE, f"wanted {sz} more bytes, {len(data)} left")
        return data


def _refuse(ttype: int) -> None:
    if ttype not in _TYPES:
        raise _invalid(f"invalid Thrift type {ttype}")


class StrictCompactProtocol(TCompactProtocol):
    def skip(self, ttype: int) -> None:
        _refuse(ttype)
        super().skip(ttype)  # type: ignore[no-untyped-call]


class _Walker:
    """A bounds-checked walk over binary-protocol bytes that reads no values, only their extents."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise _invalid(f"needs {size} bytes at offset {self.at}, {len(self.data) - self.at} left")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def count(self, element_size: int) -> int:
        (size,) = struct.unpack("!i", self.take(4))
        if size < 0 or size * element_size > len(self.data) - self.at:
            raise _invalid(f"a container of {size} elements cannot fit in the {len(self.data) - self.at} bytes left")
        return int(size)

    def value(self, ttype: int, depth: int) -> None:
        _refuse(ttype)
        if depth > _MAX_DEPTH:
            raise _invalid(f"nested deeper than {_MAX_DEPTH} levels")
        if ttype in _FIXED_SIZES:
            self.take(_FIXED_SIZES[ttype])
        elif ttype == TType.STRING:
            self.take(self.count(1))
        elif ttype == TType.STRUCT:
            self.struct(depth + 1)
        elif ttype == TType.MAP:
            key, val = self.take(2)
            for _ in range(self.count(_FIXED_SIZES.get(key, 1) + _FIXED_SIZES.get(val, 1))):
                self.value(key, depth + 1)
                self.value(val, depth + 1)
        else:  # LIST, SET
            (element,) = self.take(1)
            for _ in range(self.count(_FIXED_SIZES.get(element, 1))):
                self.value(element, depth + 1)

    def struct(self, depth: int) -> None:
        while True:
            (ttype,) = self.take(1)
            if ttype == TType.STOP:
                return
            self.take(2)  # field id
            self.value(ttype, depth)

    def message_header(self) -> None:
        (first,) = struct.unpack("!i", self.take(4))
        if first < 0:  # strict header: version | type, then the name
            self.take(self.count(1))
        else:  # old header: the name (``first`` is its length), then a type byte
            self.take(first)
            self.take(1)
        self.take(4)  # seqid


def check_binary(data: bytes, message: bool) -> None:
    """Raise ``TProtocolException`` unless ``data`` is a well-formed binary struct (after a message header if asked)."""
    walker = _Walker(data)
    if message:
        walker.message_header()
    walker.struct(0)


def read_binary_struct(data: bytes, target: Any) -> None:
    """Fill the thriftpy2 struct ``target`` from binary-protocol ``data`` that ``check_binary`` passed."""
    binary.TBinaryProtocol(StrictBuffer(data)).read_struct(target)  # type: ignore[no-untyped-call]

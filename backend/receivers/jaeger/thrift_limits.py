"""Make thriftpy2's pure-Python readers stop on every malformed input, in time bounded by its length.

Two gaps let a small datagram keep a reader busy for minutes: reading past
the end of a memory buffer returns short data instead of failing (so a
claimed list of two billion booleans is "read" from nothing), and skipping
a container whose element type is unknown (binary) or STOP (compact) reads
nothing per element.  ``StrictBuffer`` fails on a short read, and the skip
functions below refuse element types that are not Thrift types, so every
element consumes at least one byte and decoding ends within the datagram.
"""

from __future__ import annotations

from thriftpy2.protocol import binary
from thriftpy2.protocol.compact import TCompactProtocol
from thriftpy2.protocol.exc import TProtocolException
from thriftpy2.thrift import TType
from thriftpy2.transport import TTransportException
from thriftpy2.transport.memory import TMemoryBuffer

_TYPES = frozenset(
    (
        TType.BOOL,
        TType.BYTE,
        TType.I16,
        TType.I32,
        TType.I64,
        TType.DOUBLE,
        TType.STRING,
        TType.STRUCT,
        TType.MAP,
        TType.SET,
        TType.LIST,
    )
)


class StrictBuffer(TMemoryBuffer):
    def read(self, sz: int) -> bytes:
        data = super().read(sz)
        if len(data) < sz:
            raise TTransportException(TTransportException.END_OF_FILE, f"wanted {sz} more bytes, {len(data)} left")
        return data


def _refuse(ttype: int) -> None:
    if ttype not in _TYPES:
        raise TProtocolException(TProtocolException.INVALID_DATA, f"invalid Thrift type {ttype}")


class StrictCompactProtocol(TCompactProtocol):
    def skip(self, ttype: int) -> None:
        _refuse(ttype)
        super().skip(ttype)


_binary_skip = binary.skip


def _checked_binary_skip(inbuf, ftype, budget=binary.DEFAULT_MAX_DEPTH):  # noqa: ANN001, ANN202 - thriftpy2's signature
    _refuse(ftype)
    return _binary_skip(inbuf, ftype, budget)


# The binary reader is module functions calling ``skip`` by its global name: checking there covers
# every nested skip.  Only malformed input takes this path; valid data reads exactly as before.
if binary.skip is _binary_skip:
    binary.skip = _checked_binary_skip
StrictBinaryProtocol = binary.TBinaryProtocol

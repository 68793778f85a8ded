"""Protobuf's wire format where bytes are written by hand: framing a stored span payload as a repeated field,
or matching an attribute key in raw bytes, needs the length prefix protobuf writes."""

from __future__ import annotations


def varint(value: int) -> bytes:
    """``value`` (not negative) as a protobuf base-128 varint: seven bits a byte, low first, high bit = more."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)

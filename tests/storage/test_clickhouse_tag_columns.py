"""The bulk tag columns (``tag_columns``) hold exactly what the span-by-span path (``batch_tags``) finds."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

from backend.storage.clickhouse.tag_columns import tag_columns  # noqa: E402
from backend.storage.clickhouse.tags import batch_tags  # noqa: E402


def text(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def span(*attributes: KeyValue, **fields: Any) -> bytes:  # noqa: ANN401 - any of Span's own fields
    return Span(
        trace_id=b"t" * 16, span_id=b"s" * 8, name="op", attributes=list(attributes), **fields
    ).SerializeToString()


PLAIN = [
    span(text("attr_01", "val_001"), text("attr_02", "val_002")),
    span(text("k", ""), text("ünï", "cödé ✓")),
    span(),
    span(text("x" * 127, "y" * 125)),
    span(text("k", "v"), trace_state="a=b", flags=0x101, dropped_attributes_count=3),  # a two-byte tag: flags
    span(text("k", "v")) + b"\x30" + b"\xff" * 9 + b"\x01",  # a kind of -1: a ten-byte varint
]
OTHER = [
    span(text("long", "v" * 126)),
    span(text("k" * 128, "short")),
    span(KeyValue(key="n", value=AnyValue(int_value=42)), text("plain", "yes")),
    span(KeyValue(key="b", value=AnyValue(bool_value=True))),
    span(KeyValue(key="d", value=AnyValue(double_value=0.25))),
    span(KeyValue(key="a", value=AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="p")])))),
    span(KeyValue(key="unset")),
    span(text("", "no key")),
    span(text("own", "1"), events=[Span.Event(name="e", attributes=[text("event.attr", "2")])]),
    span(links=[Span.Link(trace_id=b"l" * 16, span_id=b"m" * 8, attributes=[text("link.attr", "3")])]),
    span(text("own", "1"), status=Status(code=Status.STATUS_CODE_ERROR, message="boom")),
]


def pairs_by_row(payloads: list[bytes]) -> list[list[tuple[str, str]]]:
    """The bulk path's (key, text) pairs per input span, put back in input order."""
    columns = tag_columns(payloads)
    order = list(range(len(payloads))) if columns.order is None else columns.order.tolist()
    rows: list[list[tuple[str, str]]] = [[] for _ in payloads]
    for row, index in enumerate(order):
        rows[index] = sorted(zip(columns.keys[row].as_py(), columns.texts[row].as_py(), strict=True))
    return rows


def expected(payloads: list[bytes]) -> list[list[tuple[str, str]]]:
    tags = batch_tags(payloads)
    bounds = zip(tags.offsets, tags.offsets[1:], strict=False)
    return [sorted(zip(tags.keys[start:end], tags.texts[start:end], strict=True)) for start, end in bounds]


@pytest.mark.parametrize(
    "payloads",
    [
        pytest.param(PLAIN, id="plain short strings: all in bulk"),
        pytest.param(OTHER, id="every other kind: span by span"),
        pytest.param([p for pair in zip(PLAIN * 3, OTHER, strict=False) for p in pair], id="mixed"),
        pytest.param([PLAIN[0], b"\x4a\x01\xff", PLAIN[1]], id="an entry that looks like the marker"),
        pytest.param([PLAIN[0], b"\x0a\x05ab", PLAIN[1]], id="a payload that does not parse"),
        pytest.param([PLAIN[0], PLAIN[1] + b"\x30" + b"\xff" * 10, PLAIN[1]], id="a varint that does not end"),
        pytest.param([PLAIN[0], PLAIN[1] + b"\x53\x54", PLAIN[1]], id="a group (wire types 3 and 4)"),
        pytest.param([PLAIN[0], PLAIN[1] + b"\x80\x80\x01\x00", PLAIN[1]], id="a three-byte tag (field 2,048)"),
        pytest.param([PLAIN[0], span(*(text(f"k{i}", "v") for i in range(70)))], id="more fields than walked"),
        pytest.param([], id="no spans"),
    ],
)
def test_bulk_columns_hold_what_the_span_by_span_path_finds(payloads: list[bytes]):
    assert pairs_by_row(payloads) == expected(payloads)


def test_only_spans_outside_the_plain_shape_are_reordered():
    columns = tag_columns([OTHER[0], PLAIN[0], OTHER[2], PLAIN[1]])
    assert columns.order is not None
    assert columns.order.tolist() == [1, 3, 0, 2]
    assert tag_columns(PLAIN).order is None


def test_a_status_code_alone_keeps_a_span_in_bulk():
    payload = span(text("k", "v"), status=Status(code=Status.STATUS_CODE_ERROR))
    columns = tag_columns([payload])
    assert columns.order is None
    assert pairs_by_row([payload]) == expected([payload]) == [[("k", "v")]]

"""The jaeger-clickhouse dataset has the shape of Jaeger's tracegen, as its published benchmark used it."""

from __future__ import annotations

from loadgen.tracegen import CHILD_NS, Tracegen, TracegenShape


def test_each_trace_is_a_root_and_nine_children_with_eleven_cycling_attributes():
    shape = TracegenShape(traces=20, attribute_keys=97, attribute_values=1000, traces_per_request=20)
    (request,) = Tracegen(shape, end_ns=10**18).requests()
    spans = [span for resource in request.resource_spans for span in resource.scope_spans[0].spans]
    services = {resource.resource.attributes[0].value.string_value for resource in request.resource_spans}

    roots = [span for span in spans if not span.parent_span_id]
    children = [span for span in spans if span.parent_span_id]
    assert len(spans) == 200 and len(roots) == 20 and services == {f"tracegen-{n:02d}" for n in range(1, 11)}
    assert {span.name for span in roots} == {"lets-go"}
    assert [span.name for span in children[:9]] == [f"child-span-{n:02d}" for n in range(9)]
    assert all(span.end_time_unix_nano - span.start_time_unix_nano == CHILD_NS for span in children)
    first = [(a.key, a.value.string_value) for a in children[0].attributes]
    assert first == [(f"attr_{n:02d}", f"val_{n:02d}") for n in range(11)]
    keys = [a.key for span in children for a in span.attributes]
    assert keys[97] == "attr_00" and len(set(keys)) == 97

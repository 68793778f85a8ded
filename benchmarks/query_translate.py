"""How long the query API takes to turn one big stored trace into Jaeger JSON (target: < 0.5 s for 10k spans).

Usage: .venv/bin/python benchmarks/query_translate.py [--spans 10000] [--attributes 8] [--repeat 5]

The trace is a seeded synthetic one (loadgen.synthetic), ingested through the
real OTLP decoding into the memory storage, so the payloads are exactly what a
reader returns.  Printed: the best of ``--repeat`` runs for the translation
alone, for translation plus JSON encoding, for the whole GET /api/traces/{id}
through Flask, and for the api_v3 (OTLP/JSON) rendering of the same trace.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from backend.query.app import create_app
from backend.query.otlp_json import traces_to_otlp_json
from backend.query.translate import trace_to_jaeger
from backend.spans.otlp import to_batch
from backend.storage.memory.store import MemoryStorage
from loadgen.synthetic import SyntheticTraces, TraceShape


def best_of(repeat: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=10_000)
    parser.add_argument("--attributes", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    shape = TraceShape(
        services=8, depth=8, spans_per_trace=args.spans, attributes=args.attributes, traces_per_request=1
    )
    request, [sent] = SyntheticTraces(shape, seed=1, base_time_ns=time.time_ns()).next_request()
    storage = MemoryStorage()
    storage.write(to_batch(request).batch)
    trace_id = bytes.fromhex(sent.trace_id)
    trace = storage.get_trace(trace_id)
    assert trace is not None, "the trace just written"
    client = create_app(storage, storage).test_client()

    def http_get() -> bytes:
        response = client.get(f"/api/traces/{sent.trace_id}")
        assert response.status_code == 200
        return response.data

    assert len(json.loads(http_get())["data"][0]["spans"]) == args.spans

    translate = best_of(args.repeat, lambda: trace_to_jaeger(trace))
    encode = best_of(args.repeat, lambda: json.dumps(trace_to_jaeger(trace), separators=(",", ":")))
    whole = best_of(args.repeat, http_get)
    v3 = best_of(args.repeat, lambda: json.dumps(traces_to_otlp_json([trace]), separators=(",", ":")))
    body = len(http_get())

    print(f"trace: {args.spans} spans, {args.attributes} attributes each, {body / 1e6:.1f} MB of Jaeger JSON")
    print(f"translate only            {translate:6.3f} s  ({translate / args.spans * 1e6:5.1f} us/span)")
    print(f"translate + json.dumps    {encode:6.3f} s  ({encode / args.spans * 1e6:5.1f} us/span)")
    print(f"GET /api/traces/{{id}}      {whole:6.3f} s  ({whole / args.spans * 1e6:5.1f} us/span)  target < 0.5 s")
    print(f"api_v3 OTLP/JSON + dumps  {v3:6.3f} s  ({v3 / args.spans * 1e6:5.1f} us/span)")


if __name__ == "__main__":
    main()

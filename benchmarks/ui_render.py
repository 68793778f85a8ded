"""How long the trace UI takes to show a 10,000-span trace in each view, in headless Chromium (target: < 2 s each).

Usage: .venv/bin/python -m benchmarks.ui_render [--spans 10000] [--repeat 3]

The trace is the seeded synthetic one of benchmarks/query_translate.py (8
services, 4 operations each, depth 8), stored in memory and served by the real
query app in a process and on a port of its own, with the garbage collector
tuned as ``hotrod backend`` tunes it (``backend.core.process_tuning.tune_garbage_collector``:
with Python's default thresholds, collections were ~40% of /api/transform's
CPU time on this trace and ~20% of the trace page's).  For each view the page is opened by its URL
(or, for /upload, the trace is chosen as a file) and timed until the view's
content is in the page.  Printed per view, best of ``--repeat``: the whole time,
the part until the last byte of the page arrived (the server's share: reading
and translating the trace) and the rest (parsing and drawing in the browser).
Printed first: the CPU time of decoding the OTLP file as /api/transform does
(``parse_json``) beside decoding it with protobuf's ``ParseDict`` alone, and of the server's
shared steps after it: the stored trace → Jaeger JSON (``trace_to_jaeger``) and that
encoded (``html_safe_json``), in this process with the server's garbage-collector tuning.
Needs /usr/bin/chromium (Debian's package), as the browser tests do.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from backend.core.process_tuning import tune_garbage_collector
from backend.query.app import create_app
from backend.query.json_text import html_safe_json
from backend.query.transform_api import traces_of
from backend.query.translate import trace_to_jaeger
from backend.spans.otlp import parse_dict, parse_json, to_batch
from backend.storage.memory.store import MemoryStorage
from httpd.wsgi_server import WsgiServer
from loadgen.synthetic import SyntheticTraces, TraceShape

CHROMIUM = "/usr/bin/chromium"
TARGET_S = 2.0


def otlp_json_text(request: Any) -> str:
    """The request as OTLP/JSON (hex ids), as an SDK's file exporter writes it."""
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(document)


def best_cpu(repeat: int, work: Callable[[], object]) -> float:
    """The least CPU seconds ``work`` took in ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        began = time.process_time()
        work()
        times.append(time.process_time() - began)
    return min(times)


def timed(page: Any, open_: Callable[[], None], ready: str) -> tuple[float, float]:
    """(seconds until ``ready`` is in the page, seconds of it until the page's last byte arrived)."""
    began = time.perf_counter()
    open_()
    page.wait_for_selector(ready, state="attached", timeout=60_000)
    whole = time.perf_counter() - began
    served = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd") / 1000
    return whole, min(served, whole)


def serve(request: bytes, addresses: multiprocessing.Queue[str], stop: Any) -> None:
    """The query app over memory storage holding the trace, until ``stop`` is set."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a busy queue is what is measured, not news
    storage = MemoryStorage()
    storage.write(to_batch(ExportTraceServiceRequest.FromString(request)).batch)
    tune_garbage_collector()  # as the backend's entry point does before it serves
    server = WsgiServer(create_app(storage, storage), "127.0.0.1", 0, name="ui-bench")
    server.start()
    addresses.put(server.address)
    stop.wait()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    shape = TraceShape(services=8, depth=8, spans_per_trace=args.spans, attributes=8, traces_per_request=1)
    request, [sent] = SyntheticTraces(shape, seed=1, base_time_ns=time.time_ns() - 60_000_000_000).next_request()
    # The backend runs in a process of its own, as it does for real: its work never holds this one's GIL.
    addresses: multiprocessing.Queue[str] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    backend = multiprocessing.Process(target=serve, args=(request.SerializeToString(), addresses, stop), daemon=True)
    backend.start()
    base = f"http://{addresses.get(timeout=120)}"
    trace_url = f"{base}/trace/{sent.trace_id}"
    folder = Path(tempfile.mkdtemp(prefix="ui-bench-"))
    jaeger_file = folder / "trace.json"
    jaeger_file.write_text(requests.get(f"{base}/api/traces/{sent.trace_id}", timeout=30).text)
    otlp_file = folder / "trace-otlp.json"
    otlp_file.write_text(otlp_json_text(request))
    otlp_body = otlp_file.read_bytes()
    direct = best_cpu(args.repeat, lambda: parse_json(otlp_body))
    protobuf = best_cpu(args.repeat, lambda: parse_dict(json.loads(otlp_body)))
    tune_garbage_collector()  # as in the server, for the steps it shares with this process
    [stored] = traces_of(to_batch(request).batch)
    translate = best_cpu(args.repeat, lambda: trace_to_jaeger(stored))
    translated = trace_to_jaeger(stored)
    encode = best_cpu(args.repeat, lambda: html_safe_json(translated))
    processes = json.loads(jaeger_file.read_text())["data"][0]["processes"]
    service = sorted(process["serviceName"] for process in processes.values())[0]

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        def visit(url: str) -> Callable[[], None]:
            def go() -> None:
                page.goto(url, wait_until="commit")

            return go

        def upload(path: Path) -> Callable[[], None]:
            def choose() -> None:
                page.goto(f"{base}/upload", wait_until="load")
                page.set_input_files("#upload-file", str(path))

            return choose

        cases: list[tuple[str, Callable[[], None], str]] = [
            ("trace: timeline", visit(trace_url), "#waterfall .row"),
            ("trace: flame graph", visit(f"{trace_url}?view=flame"), "#flame g.flame-box"),
            ("trace: statistics", visit(f"{trace_url}?view=statistics"), "#stats-table tr.group"),
            ("trace: spans table", visit(f"{trace_url}?view=table"), ".trow"),
            ("trace: graph", visit(f"{trace_url}?view=graph"), "#trace-graph g.graph-node"),
            ("trace: events", visit(f"{trace_url}?view=events"), "#events > *"),
            ("trace: service filter", visit(f"{trace_url}?service={service}"), "#waterfall .row.folded"),
            (
                "search: table",
                visit(f"{base}/search?service={service}&view=table&lookback=2h"),
                "#result-table tr.trace-row",
            ),
            ("upload: Jaeger JSON", upload(jaeger_file), "#trace-root #span-count"),
            ("upload: OTLP JSON", upload(otlp_file), "#trace-root #span-count"),
        ]
        size_mb = jaeger_file.stat().st_size / 1e6
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"trace: {args.spans} spans, {len(processes)} services, {size_mb:.1f} MB of JSON; load average {load}")
        print(
            f"OTLP/JSON decode, CPU s, best of {args.repeat}: parse_json {direct:.3f},"
            f" json.loads + ParseDict {protobuf:.3f} ({protobuf / direct:.1f}x)"
        )
        print(
            f"trace -> Jaeger JSON, CPU s, best of {args.repeat}:"
            f" trace_to_jaeger {translate:.3f}, html_safe_json {encode:.3f}"
        )
        print(f"{'view':24} {'total s':>8} {'server s':>9} {'browser s':>10}  best of {args.repeat}, < {TARGET_S} s?")
        for name, open_, ready in cases:
            runs = []
            for _ in range(args.repeat):
                page.goto("about:blank")
                runs.append(timed(page, open_, ready))
            whole, served = min(runs)
            uploaded = name.startswith("upload")
            server_text = "   (file)" if uploaded else f"{served:9.3f}"
            browser_s = whole if uploaded else whole - served
            mark = "ok" if whole < TARGET_S else "SLOW"
            print(f"{name:24} {whole:8.3f} {server_text} {browser_s:10.3f}  {mark}")
        browser.close()
        assert not errors, errors
    stop.set()
    backend.join(timeout=30)


if __name__ == "__main__":
    main()

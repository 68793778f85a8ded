"""Dispatch latency with tracing on vs. off, measured in one run.

Starts two ``hotrod all`` processes side by side: one traced (exporting to its bundled backend),
one with ``OTEL_SDK_DISABLED=true`` (no instrumentation at all). Dispatches go to them in
alternation, one at a time, so both see the same machine load; the simulated delays are the
same random distributions in both. Prints median, mean and p90 latency and the added share.

    .venv/bin/python -m benchmarks.overhead [--requests 30] [--delay-scale 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import requests

from tests.hotrod.launcher import HotrodAll, start_hotrod_all


def _latency(running: HotrodAll, customer: int, session: requests.Session) -> float:
    started = time.perf_counter()
    reply = session.get(f"{running.frontend}/dispatch", params={"customer": customer}, timeout=60)
    elapsed = time.perf_counter() - started
    reply.raise_for_status()
    return elapsed


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": statistics.median(ordered) * 1000,
        "mean": statistics.fmean(ordered) * 1000,
        "p90": ordered[int(0.9 * (len(ordered) - 1))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="dispatches per variant")
    parser.add_argument("--delay-scale", type=float, default=1.0, help="HotROD's simulated delays x this")
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    common = (f"--delay-scale={args.delay_scale}", "--skip-check", "--fix-route-worker-pool-size=3")
    with tempfile.TemporaryDirectory() as on_dir, tempfile.TemporaryDirectory() as off_dir:
        traced = start_hotrod_all(Path(on_dir), *common, env={"OTEL_SDK_DISABLED": "false"})
        untraced = start_hotrod_all(Path(off_dir), *common, env={"OTEL_SDK_DISABLED": "true"})
        try:
            session = requests.Session()
            customers = [123, 392, 731, 567]
            for i in range(args.warmup):
                _latency(traced, customers[i % 4], session)
                _latency(untraced, customers[i % 4], session)
            on: list[float] = []
            off: list[float] = []
            for i in range(args.requests):
                pair = [(traced, on), (untraced, off)] if i % 2 == 0 else [(untraced, off), (traced, on)]
                for running, samples in pair:
                    samples.append(_latency(running, customers[i % 4], session))
        finally:
            traced.stop()
            untraced.stop()
    with_tracing, without = _summary(on), _summary(off)
    print(f"dispatch latency over {args.requests} dispatches each, delay scale {args.delay_scale}")
    print(f"{'':10}{'median ms':>12}{'mean ms':>12}{'p90 ms':>12}")
    for name, row in (("tracing", with_tracing), ("no tracing", without)):
        print(f"{name:10}{row['median']:12.1f}{row['mean']:12.1f}{row['p90']:12.1f}")
    added = (with_tracing["median"] / without["median"] - 1) * 100
    added_ms = with_tracing["median"] - without["median"]
    print(f"tracing adds {added:+.1f} % to the median ({added_ms:+.1f} ms); aim < 5 %")


if __name__ == "__main__":
    main()

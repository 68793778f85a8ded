"""When adaptive sampling lets a dispatch go untraced, the response says so and the page says "sampled out"."""

from __future__ import annotations

import time

import requests

from tests.sampling_e2e.conftest import SampledHotrod, trace_of
from tests.support import wait_for

# a strategy that samples (almost) nothing: the lowest probability and no lower-bound traces per second
# (the first trace of each operation is still kept, so that the collector learns the operation exists)
NOTHING_SAMPLED = (
    "extensions.remote_sampling.adaptive.initial_sampling_probability=0.00001",
    "extensions.remote_sampling.adaptive.min_samples_per_second=0",
)
FAST_POLLING = {"OTEL_TRACES_SAMPLER_ARG": "pollingIntervalMs=200"}
EXPORT_INTERVAL_S = 0.2  # OTEL_BSP_SCHEDULE_DELAY in tests.hotrod.launcher


def dispatch(hotrod: SampledHotrod) -> requests.Response:
    reply = requests.get(f"{hotrod.frontend}/dispatch", params={"customer": 123}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply


def first_sampled_out(hotrod: SampledHotrod) -> requests.Response:
    """Dispatch until one is not sampled: the services have polled the strategy and spent the first-trace credit."""

    def sampled_out() -> requests.Response | None:
        reply = dispatch(hotrod)
        return None if trace_of(reply)[1] else reply

    return wait_for(sampled_out, timeout=15, interval=0.2, what="a dispatch sampled out")


def test_a_sampled_out_dispatch_works_says_not_sampled_and_leaves_no_trace(start_sampled_hotrod) -> None:
    hotrod = start_sampled_hotrod(*NOTHING_SAMPLED, env=FAST_POLLING)
    assert hotrod.served("frontend")["operationSampling"]["defaultSamplingProbability"] == 0.00001
    reply = first_sampled_out(hotrod)
    assert reply.json()["driver"]
    trace_id, _ = trace_of(reply)
    time.sleep(5 * EXPORT_INTERVAL_S)  # an absence cannot be waited for: give an export every chance to land
    assert requests.get(f"{hotrod.query}/api/traces/{trace_id}", timeout=10).status_code == 404


def test_the_page_says_sampled_out_instead_of_linking_to_a_missing_trace(start_sampled_hotrod, page) -> None:
    hotrod = start_sampled_hotrod(*NOTHING_SAMPLED, env=FAST_POLLING)
    first_sampled_out(hotrod)
    page.goto(hotrod.frontend + "/")
    page.get_by_role("button", name="Rachel's Floral Designs").click()
    line = page.locator("#log li").first
    line.get_by_text("arriving in").wait_for(timeout=30_000)
    assert "sampled out: under load the sampling probability fell" in line.inner_text()
    assert line.locator("a").count() == 0


def test_a_sampled_dispatch_still_gets_its_trace_links(start_sampled_hotrod, page) -> None:
    hotrod = start_sampled_hotrod()
    page.goto(hotrod.frontend + "/")
    page.wait_for_function("document.readyState === 'complete'")
    page.get_by_role("button", name="Trom Chocolatier").click()
    line = page.locator("#log li").first
    line.get_by_text("arriving in").wait_for(timeout=30_000)
    assert "sampled out" not in line.inner_text()
    assert line.locator("a").all_inner_texts() == ["[find trace]", "[open trace]"]

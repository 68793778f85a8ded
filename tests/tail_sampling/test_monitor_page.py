"""The Monitor page's tail-sampling section in headless Chromium: per-policy kept and dropped, names as text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from backend.cli import apply_flags
from backend.config import from_mapping, read, set_path
from backend.service import BackendService
from tests.builders import export_request
from tests.spm.conftest import PORTS
from tests.support import wait_for
from tests.tail_sampling.support import ERROR, trace
from tests.tail_sampling.test_example_config import EXAMPLE
from tests.ui.conftest import screenshots_wanted

HOSTILE_ERRORS = "<img src=x onerror=alert(1)>"
HOSTILE_SLOW = "</script><script>alert(2)</script>"


def example_backend(names: tuple[str, str] | None, traces: list[list]) -> BackendService:
    """The example config in this process (memory, free ports), given ``traces`` and once it decided them all.

    ``names``: new names for the first two policies (errors and slow), or None to keep the example's.
    """
    tree = read(str(EXAMPLE))
    apply_flags(tree, "memory", None, None, dict.fromkeys(PORTS, 0))
    set_path(tree, "processors.tail_sampling.decision_wait", "100ms", "test")
    if names is not None:
        policies = tree["processors"]["tail_sampling"]["policies"]
        policies[0]["name"], policies[1]["name"] = names
    service = BackendService(from_mapping(tree, "test config"))
    service.start()
    body = export_request([spec for group in traces for spec in group]).SerializeToString()
    url = f"http://{service.endpoints['otlp/http']}/v1/traces"
    requests.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=10).raise_for_status()
    wait_for(lambda: decided(service) == len(traces), timeout=20, what=f"{len(traces)} traces decided")
    return service


@pytest.fixture(scope="module")
def monitored() -> Iterator[BackendService]:
    """Hostile policy names: 2 errors, 1 slow, 3 fine."""
    specs = [trace(status_code=ERROR), trace(status_code=ERROR), trace(duration_ms=2000), trace(), trace(), trace()]
    service = example_backend((HOSTILE_ERRORS, HOSTILE_SLOW), specs)
    yield service
    service.shutdown()


def decided(service: BackendService) -> int:
    [processor] = requests.get(f"http://{service.endpoints['jaeger_query']}/api/tail-sampling", timeout=5).json()[
        "data"
    ]
    return int(processor["sampled"] + processor["notSampled"])


def open_monitor(page, service: BackendService) -> None:
    page.goto(f"http://{service.endpoints['jaeger_query']}/monitor")
    page.wait_for_selector("body[data-tail-sampling-ready=true]", timeout=10_000)


def test_each_policy_shows_how_many_traces_it_kept_and_dropped(page, monitored: BackendService) -> None:
    open_monitor(page, monitored)
    rows = page.eval_on_selector_all(
        "#tail-sampling tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    one_in_ten = rows[2]
    assert rows[:2] == [[HOSTILE_ERRORS, "2", "4", "33.3 %"], [HOSTILE_SLOW, "1", "5", "16.7 %"]]
    assert one_in_ten[0] == "one-in-ten" and int(one_in_ten[1]) + int(one_in_ten[2]) == 6
    assert page.text_content(".tail-processor h3") == "tail_sampling"
    assert page.text_content(".tail-summary").startswith("Kept ")


def test_hostile_policy_names_stay_text(page, monitored: BackendService) -> None:
    open_monitor(page, monitored)
    assert page.locator("#tail-sampling img").count() == 0
    assert page.locator("#tail-sampling script").count() == 0
    names = page.eval_on_selector_all("#tail-sampling tbody tr", "rows => rows.map(r => r.dataset.policy)")
    assert names[:2] == [HOSTILE_ERRORS, HOSTILE_SLOW]


def test_without_a_tail_sampler_the_section_stays_hidden(page) -> None:
    tree = read(None)
    apply_flags(tree, "memory", None, None, dict.fromkeys(PORTS, 0))
    service = BackendService(from_mapping(tree, "test config"))
    service.start()
    try:
        open_monitor(page, service)
        assert page.locator("#tail-sampling").is_hidden()
    finally:
        service.shutdown()


def test_tail_sampling_screenshot_for_the_workshop(page) -> None:
    """Writes ``monitor-tail-sampling.png`` (docs/workshop-tail-sampling.md) when ``UI_SCREENSHOTS`` is set."""
    target = screenshots_wanted()
    if target is None:
        pytest.skip("set UI_SCREENSHOTS=<folder> to write PNGs")
    errors, slow = [trace(status_code=ERROR) for _ in range(11)], [trace(duration_ms=2000) for _ in range(9)]
    service = example_backend(None, [*errors, *slow, *(trace() for _ in range(13))])
    try:
        open_monitor(page, service)
        rows = page.eval_on_selector_all("#tail-sampling tbody tr", "rows => rows.map(r => r.cells[1].textContent)")
        assert rows[:2] == ["11", "9"]  # errors and slow kept every one of theirs
        target.mkdir(parents=True, exist_ok=True)
        page.locator("#tail-sampling").screenshot(path=str(target / "monitor-tail-sampling.png"))
    finally:
        service.shutdown()

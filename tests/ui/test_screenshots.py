"""README screenshots of every page: ``UI_SCREENSHOTS=docs/screenshots ./run test tests/ui/test_screenshots.py``.

Skipped unless ``UI_SCREENSHOTS`` names a folder; when it runs, it also
checks that each page drew what the picture is meant to show.
"""

from __future__ import annotations

import pytest
import requests

from tests.ui.conftest import screenshots_wanted
from tests.ui.traces import MS, dispatch

pytestmark = pytest.mark.skipif(screenshots_wanted() is None, reason="set UI_SCREENSHOTS=<folder> to write PNGs")


def test_write_screenshots(site, page, tmp_path):
    folder = screenshots_wanted()
    folder.mkdir(parents=True, exist_ok=True)
    slow = dispatch("session-1-1", sql_ms=920, drivers=10)
    fast = dispatch("session-1-2", sql_ms=310, drivers=10, start_ns=slow[0].start_ns + 3_000 * MS)
    slow[5].status_code = 2
    slow[5].status_message = "redis timeout"
    others = [dispatch(f"session-2-{i}", sql_ms=300 + 90 * i, drivers=10 - i) for i in range(6)]
    site.store(*slow, *fast, *[span for trace in others for span in trace])

    page.goto(site.url("/search?service=frontend&lookback=1h&sort=slowest"))
    assert page.locator("#scatter circle").count() == 8
    page.screenshot(path=str(folder / "search.png"), full_page=True)

    page.goto(site.url(f"/trace/{slow[0].trace_id.hex()}"))
    page.locator(f'#waterfall .row[data-span-id="{slow[2].span_id.hex()}"]').click()
    page.locator("#span-details").wait_for()
    page.screenshot(path=str(folder / "trace.png"))

    page.locator('.view-tab[data-view="flame"]').click()
    page.screenshot(path=str(folder / "flame.png"))

    trace = f"/trace/{slow[0].trace_id.hex()}"
    page.goto(site.url(trace + "?view=statistics"))
    assert page.locator("#stats-table tr.group").count() == 5
    page.screenshot(path=str(folder / "statistics.png"))

    page.goto(site.url(trace + "?view=table&order=-self&attr=http.method"))
    assert page.locator(".trow").count() == len(slow)
    page.screenshot(path=str(folder / "spans-table.png"))

    page.goto(site.url(trace + "?view=graph"))
    assert page.locator("#trace-graph g.graph-node").count() == 5
    page.screenshot(path=str(folder / "graph.png"))

    page.goto(site.url(trace + "?service=route&service=driver"))
    assert page.locator("#waterfall .row.folded").count() == 1
    page.screenshot(path=str(folder / "service-filter.png"))

    page.goto(site.url("/search?service=frontend&lookback=1h&sort=slowest&view=table"))
    assert page.locator("#result-table tr.trace-row").count() == 8
    page.screenshot(path=str(folder / "search-table.png"), full_page=True)

    download = requests.get(site.url(f"/api/traces?traceID={slow[0].trace_id.hex()}&traceID={fast[0].trace_id.hex()}"))
    (tmp_path / "two-traces.json").write_text(download.text)
    page.goto(site.url("/upload?view=statistics&group=operation"))
    page.set_input_files("#upload-file", str(tmp_path / "two-traces.json"))
    page.locator("#stats-table tr.group").first.wait_for()
    page.screenshot(path=str(folder / "upload.png"))

    page.goto(site.url(f"/trace/{slow[0].trace_id.hex()}...{fast[0].trace_id.hex()}"))
    page.screenshot(path=str(folder / "compare.png"), full_page=True)

    page.goto(site.url("/dependencies"))
    assert page.locator("#service-map g.edge").count() == 4
    page.screenshot(path=str(folder / "service-map.png"), full_page=True)

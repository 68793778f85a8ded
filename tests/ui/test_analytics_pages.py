"""The Deep dependencies and Trace quality pages: linked from every page, computed from stored traces, escaped."""

from __future__ import annotations

import time

import requests

from tests.builders import SpanSpec
from tests.query.test_analytics import dispatch
from tests.ui.conftest import Site

MS = 1_000_000
MARKUP = "<script>alert(1)</script>"


def page(site: Site, path: str, **params: str) -> requests.Response:
    return requests.get(site.url(path), params=params, timeout=10)


def test_both_pages_are_in_the_navigation(site: Site):
    html = page(site, "/search").text

    assert 'href="/deep-dependencies"' in html and 'href="/quality-metrics"' in html


def test_the_deep_dependencies_page_lists_each_path_with_its_example_traces(site: Site):
    spans = dispatch(time.time_ns() - 1_000 * MS)
    site.store(*spans)

    html = page(site, "/deep-dependencies", service="driver").text

    assert "frontend <small>GET /dispatch</small>" in html and "driver <small>GET /drivers</small>" in html
    assert f'href="/trace/{spans[0].trace_id.hex()}"' in html


def test_the_trace_quality_page_shows_scores_counts_and_failing_traces(site: Site):
    root = SpanSpec("shop", "GET /cart", start_ns=time.time_ns() - 1_000 * MS, duration_ns=10 * MS)
    site.store(root, root.child("shop", "call", kind=3))

    html = page(site, "/quality-metrics", hours="1").text

    assert 'data-metric="Semantic conventions"' in html
    assert "0 pass · 2 fail · 0 exempt" in html  # a server and a client span, neither says what it is
    assert f'href="/trace/{root.trace_id.hex()}"' in html


def test_names_from_spans_are_escaped_on_both_pages(site: Site):
    root = SpanSpec(MARKUP, MARKUP, start_ns=time.time_ns() - 1_000 * MS, duration_ns=10 * MS)
    site.store(root)

    for path, params in (("/deep-dependencies", {"service": MARKUP}), ("/quality-metrics", {"hours": "1"})):
        html = page(site, path, **params).text
        assert MARKUP not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_bad_parameter_is_a_400_page_that_says_why(site: Site):
    reply = page(site, "/quality-metrics", hours="soon")

    assert reply.status_code == 400
    assert "unable to parse param &#39;hours&#39;" in reply.text

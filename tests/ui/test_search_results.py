"""What /search returns, over memory and SQLite: extended tag terms, sorting over the whole match set, totals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.query.app import create_app
from backend.query.params import QueryLimits
from backend.storage.factory import create_storage
from tests.builders import SpanSpec, batch_of
from tests.ui.traces import MS


class Client:
    def __init__(self, kind: str, options: dict, limits: QueryLimits) -> None:
        self.storage = create_storage(kind, options, "test")
        self.client = create_app(self.storage.reader(), self.storage.dependency_reader(), limits=limits).test_client()

    def store(self, *specs: SpanSpec) -> None:
        self.storage.writer().write(batch_of(list(specs)))

    def search(self, status: int = 200, **params) -> list[str]:
        response = self.client.get("/search", query_string={"service": "svc", **params})
        assert response.status_code == status, response.get_data(as_text=True)
        self.page = response.get_data(as_text=True)
        return re.findall(r'class="trace-item" data-trace-id="([0-9a-f]+)"', self.page)

    @property
    def count_line(self) -> str:
        return re.search(r'id="result-count">([^<]*)<', self.page).group(1)


@pytest.fixture(params=["memory", "sqlite"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    options = {"url": f"sqlite:///{tmp_path / 'ui.db'}", "retention": "0s"} if request.param == "sqlite" else {}
    made = Client("sql" if request.param == "sqlite" else "memory", options, QueryLimits(max_search_limit=10))
    yield made
    made.storage.close()


def trace(**attributes) -> SpanSpec:
    return SpanSpec("svc", "op", attributes=attributes)


def ids(*specs: SpanSpec) -> list[str]:
    return [spec.trace_id.hex() for spec in specs]


def test_or_matches_either_alternative(client):
    a, b, c = trace(code="500"), trace(retry="true"), trace(code="200")
    client.store(a, b, c)

    assert sorted(client.search(tags="code=500|retry=true")) == sorted(ids(a, b))


def test_not_equal_keeps_traces_where_no_span_has_the_value(client):
    failed, fine = SpanSpec("svc", "op"), trace(code="200")
    failed_child = failed.child("svc", "inner", attributes={"code": "500"})
    client.store(failed, failed_child, fine)

    assert client.search(tags="code!=500") == ids(fine)


def test_a_bare_key_asks_for_the_tag_to_be_present_and_a_bang_for_it_to_be_absent(client):
    tagged, plain = trace(customer="123"), trace()
    client.store(tagged, plain)

    assert client.search(tags="customer") == ids(tagged)
    assert client.search(tags="!customer") == ids(plain)


def test_error_is_searchable_as_the_api_derives_it(client):
    failed, fine = SpanSpec("svc", "op", status_code=2), trace()
    client.store(failed, fine)

    assert client.search(tags="!error") == ids(fine)
    assert client.search(tags="error=true") == ids(failed)


def test_plain_terms_keep_jaegers_meaning_and_mix_with_extended_ones(client):
    both = trace(method="GET", customer="1")
    other = trace(method="GET")
    client.store(both, other)

    assert client.search(tags='method=GET !customer sql="a b"|method=GET') == ids(other)


def test_sorting_covers_every_match_not_just_the_page_and_the_total_counts_them_all(client):
    start = SpanSpec("svc", "op").start_ns - 10_000 * MS
    specs = [SpanSpec("svc", "op", start_ns=start + i * MS, duration_ns=(i * 7 % 5 + 1) * MS) for i in range(5)]
    client.store(*specs)
    by_duration = sorted(specs, key=lambda s: -s.duration_ns)

    assert client.search(sort="slowest", limit=2) == ids(*by_duration[:2])
    assert client.count_line.startswith("5 traces")
    assert client.search(sort="oldest", limit=1) == ids(specs[0])
    assert client.search(sort="newest", limit=1) == ids(specs[-1])


def test_most_spans_puts_the_biggest_trace_first(client):
    small, big = trace(), trace()
    client.store(small, big, big.child("svc", "a"), big.child("svc", "b"))

    assert client.search(sort="most-spans") == ids(big, small)


def timed(count: int, **attributes_of) -> list[SpanSpec]:  # noqa: ANN003 - index → attributes
    """``count`` traces one millisecond apart, oldest first; trace i gets ``attributes_of.get(f"t{i}")``."""
    start = SpanSpec("svc", "op").start_ns - 10_000 * MS
    return [
        SpanSpec("svc", "op", start_ns=start + i * MS, attributes=attributes_of.get(f"t{i}", {})) for i in range(count)
    ]


def test_the_total_and_the_order_cover_matches_beyond_the_scan_limit(client):
    specs = timed(12)  # the client's scan limit is 10
    client.store(*specs)

    assert client.search(sort="oldest", limit=3) == ids(*specs[:3])
    assert client.count_line == "12 traces"


def test_offset_pages_through_every_match_in_order(client):
    specs = timed(12)
    client.store(*specs)

    pages = [client.search(sort="newest", limit=5, offset=offset) for offset in (0, 5, 10)]

    assert [trace_id for page in pages for trace_id in page] == ids(*reversed(specs))
    assert "showing 11–12" in client.page and 'id="next-page"' not in client.page
    assert "offset=5" in re.search(r'id="previous-page" href="([^"]*)"', client.page).group(1)


def test_a_bad_offset_is_refused(client):
    client.search(status=400, offset="-1")

    assert "offset must be a non-negative integer" in client.page


def test_extended_terms_count_exactly_when_every_match_was_tested(client):
    specs = timed(4, t3={"customer": "1"})
    client.store(*specs)

    assert client.search(tags="!customer") == ids(*reversed(specs[:3]))
    assert client.count_line == "3 traces"


def test_extended_terms_past_the_scan_limit_make_the_count_an_upper_bound(client):
    specs = timed(12, t11={"customer": "1"}, t10={"customer": "2"})
    client.store(*specs)

    shown = client.search(tags="!customer", limit=3)

    assert shown == ids(*reversed(specs[7:10]))
    assert client.count_line.startswith("at most 10 traces") and "first 10" in client.count_line


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tags": "code=500|"}, "must be followed"),
        ({"tags": "!code=500"}, "bare key"),
        ({"sort": "random"}, "unknown sort"),
        ({"limit": "0"}, "limit"),
        ({"lookback": "soon"}, "lookback"),
    ],
)
def test_bad_input_is_refused_with_400_and_a_message(client, params, message):
    client.search(status=400, **params)

    assert message in client.page


def test_a_trace_id_search_lists_that_trace(client):
    wanted = trace()
    client.store(wanted, trace())

    response = client.client.get("/search", query_string={"traceID": wanted.trace_id.hex()})

    assert re.findall(r'data-trace-id="([0-9a-f]+)"', response.get_data(as_text=True)) == ids(wanted)

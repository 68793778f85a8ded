"""What every storage plug-in must do: the behaviour the query API and the UI rely on.

``StorageConformance`` is collected through ``test_conformance.py`` and runs
once per plug-in kind listed in ``conftest.STORAGE_KINDS``, each test on a
fresh, empty ``storage``.
"""

from __future__ import annotations

import threading
import time

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from backend.spans.model import SpanBatch
from backend.storage.api import (
    SORT_ORDERS,
    AttributeFilter,
    DependencyLink,
    Operation,
    ServiceSummary,
    Storage,
    TraceQuery,
    TraceSummary,
)
from tests.builders import SpanSpec, batch_of

SECOND = 1_000_000_000
MS = 1_000_000
BASE = time.time_ns() - 3600 * SECOND  # an hour ago: well inside any default retention


def store(storage: Storage, *specs: SpanSpec) -> SpanBatch:
    batch = batch_of(list(specs))
    storage.writer().write(batch)
    return batch


def find(storage: Storage, **fields) -> list[bytes]:  # noqa: ANN003 - TraceQuery fields
    return storage.reader().find_trace_ids(TraceQuery(**fields))


# What each sort order means, written out independently of any plug-in.
EXPECTED_ORDER = {
    "newest": lambda s: (-s.start_ns, s.trace_id),
    "oldest": lambda s: (s.start_ns, s.trace_id),
    "slowest": lambda s: (-s.duration_ns, s.trace_id),
    "fastest": lambda s: (s.duration_ns, s.trace_id),
    "most_spans": lambda s: (-s.span_count, -s.start_ns, s.trace_id),
    "most_errors": lambda s: (-s.error_span_count, -s.start_ns, s.trace_id),
    "root": lambda s: (s.root_service, s.root_operation, -s.start_ns, s.trace_id),
}
ERROR = Status.STATUS_CODE_ERROR


def seven_traces(storage: Storage) -> list[TraceSummary]:
    """Seven "driver" traces with distinct starts and durations, 1-3 spans each (ties in count).

    Trace i's root is ``op`` (``other`` when i is a multiple of 3), tagged ``even``,
    lasting (3i mod 7 + 1) * 10 ms; its ``route`` children sit inside it, except
    trace 5's, which runs to 201 ms: a trace's duration is all its spans'.
    """
    summaries = []
    for i in range(7):
        name = "other" if i % 3 == 0 else "op"
        duration = ((3 * i) % 7 + 1) * 10 * MS
        root = SpanSpec(
            "driver", name, start_ns=BASE + i * SECOND, duration_ns=duration, attributes={"even": i % 2 == 0}
        )
        child_ms = 200 if i == 5 else 5
        children = [
            root.child("route", "call", start_ns=root.start_ns + MS, duration_ns=child_ms * MS) for _ in range(i % 3)
        ]
        spans = [root, *children]
        store(storage, *spans)
        end = max(spec.start_ns + spec.duration_ns for spec in spans)
        services = (ServiceSummary("driver", 1, 0), *([ServiceSummary("route", len(children), 0)] if children else []))
        extent = end - root.start_ns
        summaries.append(
            TraceSummary(root.trace_id, root.start_ns, extent, len(spans), "driver", name, services=services)
        )
    return summaries


def varied_roots_and_errors(storage: Storage) -> list[TraceSummary]:
    """Eight traces with "driver" spans: roots of several services and error counts, with ties.

    Names differ in code point order from a locale's ("Zeta" < "customer" < "Ärger"); one trace has
    no root (its spans' parent is not stored), one a later parentless span that is not its root, and
    one is written twice.  Returned as summaries holding what ``most_errors`` and ``root`` read.
    """
    roots = [
        ("frontend", "GET /a", 1),
        ("driver", "find", 0),
        ("frontend", "GET /a", 2),
        ("customer", "SQL", 0),
        ("", "", 1),
        ("Ärger", "op", 0),
        ("driver", "find", 1),
        ("Zeta", "z", 2),
    ]
    summaries = []
    for i, (service, name, errors) in enumerate(roots):
        start = BASE + i * SECOND
        parent = SpanSpec(service or "route", name or "lost", start_ns=start)
        children = [parent.child("driver", "find", status_code=ERROR if n < errors else 0) for n in range(2)]
        spans = [parent, *children] if service else children
        if i == 3:
            spans.append(SpanSpec("Zeta", "late", trace_id=parent.trace_id, start_ns=start + MS))
        store(storage, *spans)
        if i == 2:
            store(storage, *spans)
        summaries.append(TraceSummary(parent.trace_id, start, 0, len(spans), service, name, error_span_count=errors))
    return summaries


def summaries_page(storage: Storage, sort: str = "newest", offset: int = 0, limit: int = 20, **fields):  # noqa: ANN003, ANN201
    return storage.reader().search_summaries(TraceQuery(**fields), sort, offset, limit)


class StorageConformance:
    # Services and operations

    def test_services_are_listed_once_each_in_order(self, storage: Storage):
        root = SpanSpec("frontend", "GET /dispatch")
        store(storage, root, root.child("route", "GET /route"), root.child("customer", "SQL SELECT"))
        store(storage, SpanSpec("frontend", "GET /config"))

        assert storage.reader().get_services() == ["customer", "frontend", "route"]

    def test_operations_carry_their_span_kind(self, storage: Storage):
        store(
            storage,
            SpanSpec("driver", "FindNearest", kind=Span.SPAN_KIND_SERVER),
            SpanSpec("driver", "FindDriverIDs", kind=Span.SPAN_KIND_CLIENT),
            SpanSpec("driver", "work", kind=Span.SPAN_KIND_UNSPECIFIED),
            SpanSpec("route", "Compute", kind=Span.SPAN_KIND_INTERNAL),
        )

        assert storage.reader().get_operations("driver") == [
            Operation("FindDriverIDs", "client"),
            Operation("FindNearest", "server"),
            Operation("work", "unspecified"),
        ]

    def test_operations_can_be_filtered_by_span_kind(self, storage: Storage):
        store(
            storage,
            SpanSpec("driver", "FindNearest", kind=Span.SPAN_KIND_SERVER),
            SpanSpec("driver", "FindDriverIDs", kind=Span.SPAN_KIND_CLIENT),
        )

        assert storage.reader().get_operations("driver", "client") == [Operation("FindDriverIDs", "client")]

    def test_an_operation_used_with_two_kinds_is_listed_twice(self, storage: Storage):
        store(
            storage,
            SpanSpec("driver", "redis", kind=Span.SPAN_KIND_CLIENT),
            SpanSpec("driver", "redis", kind=Span.SPAN_KIND_INTERNAL),
        )

        assert storage.reader().get_operations("driver") == [
            Operation("redis", "client"),
            Operation("redis", "internal"),
        ]

    def test_an_unknown_service_has_no_operations(self, storage: Storage):
        store(storage, SpanSpec("driver", "FindNearest"))

        assert storage.reader().get_operations("nobody") == []

    # Reading a trace back

    def test_a_trace_reads_back_with_every_field_and_process_as_written(self, storage: Storage):
        root = SpanSpec(
            "frontend",
            "GET /dispatch",
            start_ns=BASE,
            duration_ns=730 * MS,
            attributes={"http.method": "GET", "retries": 2, "ratio": 0.5, "cached": False},
            resource={"host.name": "box-1"},
            events=[("dispatched", 5 * MS, {"driver": "T7"})],
            status_code=Status.STATUS_CODE_ERROR,
            status_message="timeout",
        )
        child = root.child("customer", "SQL SELECT", kind=Span.SPAN_KIND_CLIENT)
        written = store(storage, root, child)

        trace = storage.reader().get_trace(root.trace_id)

        assert trace is not None
        assert trace.spans == sorted(written.spans, key=lambda record: record.start_ns)
        assert trace.processes == written.processes

    def test_a_trace_with_ten_thousand_spans_reads_back_whole(self, storage: Storage):
        root = SpanSpec("frontend", "GET /dispatch", start_ns=BASE)
        children = [root.child("route", "GET /route", start_ns=BASE + i) for i in range(9_999)]
        written = store(storage, root, *children)

        trace = storage.reader().get_trace(root.trace_id)

        assert len(trace.spans) == 10_000
        assert {r.span_id for r in trace.spans} == {r.span_id for r in written.spans}

    def test_a_missing_trace_is_none(self, storage: Storage):
        store(storage, SpanSpec("frontend", "GET /dispatch"))

        assert storage.reader().get_trace(bytes(range(16))) is None

    def test_spans_of_one_trace_written_in_separate_batches_read_back_together(self, storage: Storage):
        root = SpanSpec("frontend", "GET /dispatch")
        store(storage, root)
        store(storage, root.child("driver", "FindNearest"))

        assert len(storage.reader().get_trace(root.trace_id).spans) == 2

    def test_writing_the_same_batch_twice_stores_each_span_once(self, storage: Storage):
        root = SpanSpec("frontend", "GET /dispatch")
        batch = batch_of([root, root.child("driver", "FindNearest")])
        storage.writer().write(batch)
        storage.writer().write(batch)

        assert len(storage.reader().get_trace(root.trace_id).spans) == 2
        assert find(storage, service="driver") == [root.trace_id]

    def test_an_empty_batch_is_accepted(self, storage: Storage):
        storage.writer().write(SpanBatch())

        assert storage.reader().get_services() == []

    # Search by indexed fields

    def test_find_by_service(self, storage: Storage):
        wanted = SpanSpec("driver", "FindNearest")
        store(storage, wanted, SpanSpec("route", "GET /route"))

        assert find(storage, service="driver") == [wanted.trace_id]

    def test_find_by_an_unknown_service_finds_nothing(self, storage: Storage):
        store(storage, SpanSpec("driver", "FindNearest"))

        assert find(storage, service="nobody") == []

    def test_find_by_operation(self, storage: Storage):
        wanted = SpanSpec("driver", "FindNearest")
        store(storage, wanted, SpanSpec("driver", "FindDriverIDs"))

        assert find(storage, service="driver", operation="FindNearest") == [wanted.trace_id]

    def test_find_by_span_kind(self, storage: Storage):
        wanted = SpanSpec("driver", "redis", kind=Span.SPAN_KIND_CLIENT)
        store(storage, wanted, SpanSpec("driver", "redis", kind=Span.SPAN_KIND_SERVER))

        assert find(storage, service="driver", operation="redis", span_kind="client") == [wanted.trace_id]

    def test_find_by_min_duration(self, storage: Storage):
        slow = SpanSpec("driver", "FindNearest", duration_ns=300 * MS)
        store(storage, slow, SpanSpec("driver", "FindNearest", duration_ns=299 * MS))

        assert find(storage, service="driver", duration_min_ns=300 * MS) == [slow.trace_id]

    def test_find_by_max_duration(self, storage: Storage):
        fast = SpanSpec("driver", "FindNearest", duration_ns=10 * MS)
        store(storage, fast, SpanSpec("driver", "FindNearest", duration_ns=11 * MS))

        assert find(storage, service="driver", duration_max_ns=10 * MS) == [fast.trace_id]

    def test_find_by_time_window_includes_its_bounds(self, storage: Storage):
        before, first, last, after = (SpanSpec("driver", "op", start_ns=BASE + i * SECOND) for i in range(4))
        store(storage, before, first, last, after)

        found = find(storage, service="driver", start_min_ns=BASE + SECOND, start_max_ns=BASE + 2 * SECOND)

        assert found == [last.trace_id, first.trace_id]

    def test_find_without_a_service_searches_every_service(self, storage: Storage):
        older = SpanSpec("driver", "op", start_ns=BASE)
        newer = SpanSpec("route", "op", start_ns=BASE + SECOND)
        store(storage, older, newer)

        assert find(storage) == [newer.trace_id, older.trace_id]

    def test_the_limit_keeps_the_newest_traces_newest_first(self, storage: Storage):
        specs = [SpanSpec("driver", "op", start_ns=BASE + i * SECOND) for i in range(10)]
        store(storage, *specs[5:])
        store(storage, *specs[:5])

        assert find(storage, service="driver", limit=3) == [specs[9].trace_id, specs[8].trace_id, specs[7].trace_id]

    def test_a_trace_with_many_matching_spans_is_listed_once(self, storage: Storage):
        root = SpanSpec("driver", "op", start_ns=BASE)
        other = SpanSpec("driver", "op", start_ns=BASE - SECOND)
        store(storage, root, *(root.child("driver", "op", start_ns=BASE + i) for i in range(1, 6)), other)

        assert find(storage, service="driver", limit=2) == [root.trace_id, other.trace_id]

    def test_traces_are_ordered_by_their_matching_span_not_their_other_spans(self, storage: Storage):
        early_match = SpanSpec("route", "op", start_ns=BASE)
        store(storage, early_match, early_match.child("driver", "later", start_ns=BASE + 10 * SECOND))
        later_match = SpanSpec("route", "op", start_ns=BASE + SECOND)
        store(storage, later_match)

        assert find(storage, service="route") == [later_match.trace_id, early_match.trace_id]

    def test_find_traces_returns_whole_traces_with_spans_of_other_services(self, storage: Storage):
        root = SpanSpec("frontend", "GET /dispatch")
        written = store(storage, root, root.child("driver", "FindNearest"), root.child("route", "GET /route"))

        traces = storage.reader().find_traces(TraceQuery(service="driver"))

        assert len(traces) == 1
        assert {r.span_id for r in traces[0].spans} == {r.span_id for r in written.spans}
        assert traces[0].processes == written.processes

    # Search by tags

    def test_find_by_a_span_attribute(self, storage: Storage):
        wanted = SpanSpec("driver", "op", attributes={"driver.id": "T7"})
        store(storage, wanted, SpanSpec("driver", "op", attributes={"driver.id": "T8"}))

        assert find(storage, service="driver", tags={"driver.id": "T7"}) == [wanted.trace_id]

    def test_find_by_a_resource_attribute(self, storage: Storage):
        wanted = SpanSpec("driver", "op", resource={"host.name": "box-1"})
        store(storage, wanted, SpanSpec("driver", "op", resource={"host.name": "box-2"}))

        assert find(storage, service="driver", tags={"host.name": "box-1"}) == [wanted.trace_id]

    def test_find_by_an_event_attribute(self, storage: Storage):
        wanted = SpanSpec("driver", "op", events=[("retry", 10, {"attempt": 3})])
        store(storage, wanted, SpanSpec("driver", "op", events=[("retry", 10, {"attempt": 2})]))

        assert find(storage, service="driver", tags={"attempt": "3"}) == [wanted.trace_id]

    def test_find_by_a_scope_attribute(self, storage: Storage):
        wanted = SpanSpec("driver", "op", scope_attributes={"library.tier": "gold"})
        store(storage, wanted, SpanSpec("driver", "op", scope_attributes={"library.tier": "silver"}))

        assert find(storage, service="driver", tags={"library.tier": "gold"}) == [wanted.trace_id]

    def test_find_by_a_link_attribute(self, storage: Storage):
        wanted = SpanSpec("driver", "op", links=[(bytes(16 * [1]), bytes(8 * [1]), {"link.reason": "retry"})])
        other = SpanSpec("driver", "op", links=[(bytes(16 * [2]), bytes(8 * [2]), {"link.reason": "batch"})])
        store(storage, wanted, other)

        assert find(storage, service="driver", tags={"link.reason": "retry"}) == [wanted.trace_id]

    @pytest.mark.parametrize(
        ("level", "found"),
        [
            ("span", "on_span"),
            ("resource", "on_resource"),
            ("scope", "on_scope"),
            ("event", "on_event"),
            ("link", "on_link"),
            ("", "on_span_or_resource"),
        ],
    )
    def test_an_attribute_filter_searches_only_its_level(self, storage: Storage, level: str, found: str):
        link = (bytes(16 * [1]), bytes(8 * [1]), {"tier": "gold"})
        specs = {
            "on_span": SpanSpec("driver", "op", attributes={"tier": "gold"}),
            "on_resource": SpanSpec("driver", "op", resource={"tier": "gold"}),
            "on_scope": SpanSpec("driver", "op", scope_attributes={"tier": "gold"}),
            "on_event": SpanSpec("driver", "op", events=[("e", 1, {"tier": "gold"})]),
            "on_link": SpanSpec("driver", "op", links=[link]),
        }
        store(storage, *specs.values())
        expected = {"on_span", "on_resource"} if found == "on_span_or_resource" else {found}

        matched = find(storage, service="driver", attribute_filters=(AttributeFilter("tier", "gold", level),))

        assert set(matched) == {specs[name].trace_id for name in expected}

    def test_attribute_filters_and_tags_must_hold_on_one_span(self, storage: Storage):
        both = SpanSpec("driver", "op", attributes={"a": "1"}, resource={"b": "2"})
        split = SpanSpec("driver", "op", attributes={"a": "1"})
        store(storage, both, split, split.child("driver", "op", resource={"b": "2"}))

        found = find(storage, tags={"a": "1"}, attribute_filters=(AttributeFilter("b", "2", "resource"),))

        assert found == [both.trace_id]

    def test_tags_are_anded_across_span_resource_and_event_attributes(self, storage: Storage):
        wanted = SpanSpec(
            "driver",
            "op",
            attributes={"driver.id": "T7"},
            resource={"host.name": "box-1"},
            events=[("retry", 10, {"attempt": 3})],
        )
        almost = SpanSpec("driver", "op", attributes={"driver.id": "T7"}, resource={"host.name": "box-2"})
        store(storage, wanted, almost)

        found = find(storage, service="driver", tags={"driver.id": "T7", "host.name": "box-1", "attempt": "3"})

        assert found == [wanted.trace_id]

    def test_a_tag_no_span_has_excludes_every_trace(self, storage: Storage):
        store(storage, SpanSpec("driver", "op", attributes={"driver.id": "T7"}))

        assert find(storage, service="driver", tags={"driver.id": "T7", "missing": "x"}) == []

    def test_tags_must_all_match_on_one_span(self, storage: Storage):
        root = SpanSpec("frontend", "op", attributes={"a": "1"})
        store(storage, root, root.child("frontend", "op", attributes={"b": "2"}))

        assert find(storage, service="frontend", tags={"a": "1", "b": "2"}) == []

    def test_tag_values_compare_as_text(self, storage: Storage):
        wanted = SpanSpec("driver", "op", attributes={"ok": True, "count": 42, "ratio": 0.25, "code": "E1"})
        store(storage, wanted)

        assert find(storage, tags={"ok": "true", "count": "42", "ratio": "0.25", "code": "E1"}) == [wanted.trace_id]
        assert find(storage, tags={"ok": "True"}) == []

    def test_an_error_status_matches_the_error_tag(self, storage: Storage):
        failed = SpanSpec("driver", "op", status_code=Status.STATUS_CODE_ERROR)
        store(storage, failed, SpanSpec("driver", "op"))

        assert find(storage, service="driver", tags={"error": "true"}) == [failed.trace_id]

    def test_a_tag_search_finds_the_newest_matching_traces_up_to_the_limit(self, storage: Storage):
        specs = [
            SpanSpec("driver", "op", start_ns=BASE + i * SECOND, attributes={"even": i % 2 == 0}) for i in range(8)
        ]
        store(storage, *specs)

        assert find(storage, service="driver", tags={"even": "true"}, limit=2) == [
            specs[6].trace_id,
            specs[4].trace_id,
        ]

    # Sorted, counted search over the whole match set

    def test_summaries_count_every_match_not_only_the_page(self, storage: Storage):
        seven_traces(storage)

        total, page = summaries_page(storage, limit=3, service="driver")

        assert total == 7
        assert len(page) == 3

    @pytest.mark.parametrize("sort", SORT_ORDERS)
    def test_summaries_pages_follow_one_order_over_the_whole_match_set(self, storage: Storage, sort: str):
        expected = sorted(seven_traces(storage), key=EXPECTED_ORDER[sort])

        pages = [summaries_page(storage, sort, offset, 3, service="driver") for offset in (0, 3, 6)]

        assert [total for total, _ in pages] == [7, 7, 7]
        assert [summary for _, page in pages for summary in page] == expected

    @pytest.mark.parametrize("sort", ["most_errors", "root"])
    def test_summaries_sort_by_errors_and_by_root_names_over_the_whole_match_set(self, storage: Storage, sort: str):
        expected = [summary.trace_id for summary in sorted(varied_roots_and_errors(storage), key=EXPECTED_ORDER[sort])]

        pages = [summaries_page(storage, sort, offset, 3, service="driver") for offset in (0, 3, 6)]
        failed = {"service": "driver", "tags": {"error": "true"}}
        with_tags = [summaries_page(storage, sort, offset, 3, **failed) for offset in (0, 3)]

        assert [total for total, _ in pages] == [8, 8, 8]
        assert [summary.trace_id for _, page in pages for summary in page] == expected
        # a tag search sorts the summaries of the traces it matched itself (the sql plug-in: in Python, not in SQL)
        assert [summary.trace_id for _, page in with_tags for summary in page] == [
            trace_id for trace_id in expected if trace_id in set(find(storage, **failed))
        ]

    def test_a_summary_covers_the_whole_trace_not_only_its_matching_spans(self, storage: Storage):
        summaries = seven_traces(storage)

        _, (slowest, *_) = summaries_page(storage, "slowest", service="driver")

        assert slowest == summaries[5]
        assert slowest.duration_ns == 201 * MS and slowest.span_count == 3

    def test_a_page_past_the_end_is_empty_and_still_counted(self, storage: Storage):
        seven_traces(storage)

        assert summaries_page(storage, offset=7, limit=3, service="driver") == (7, [])

    def test_summaries_filter_by_operation(self, storage: Storage):
        summaries = seven_traces(storage)

        total, page = summaries_page(storage, "oldest", service="driver", operation="other")

        assert (total, page) == (3, [summaries[0], summaries[3], summaries[6]])

    def test_summaries_filter_by_tags_and_duration_and_count_only_those(self, storage: Storage):
        summaries = seven_traces(storage)

        total, page = summaries_page(
            storage, "fastest", limit=2, service="driver", tags={"even": "true"}, duration_min_ns=40 * MS
        )

        assert total == 3  # traces 2, 4 and 6 (70, 60 and 50 ms); trace 0 is too short
        assert page == [summaries[6], summaries[4]]

    def test_summaries_of_another_service_count_its_traces(self, storage: Storage):
        seven_traces(storage)

        total, page = summaries_page(storage, "most_spans", limit=1, service="route")

        assert total == 4  # the traces with children: 1, 2, 4 and 5
        assert page[0].span_count == 3

    def test_a_summary_names_its_root_and_counts_errors_orphans_and_services(self, storage: Storage):
        root = SpanSpec("frontend", "HTTP GET /dispatch", start_ns=BASE, duration_ns=100 * MS)
        late_root = SpanSpec("batch", "nightly", trace_id=root.trace_id, start_ns=BASE + MS)
        failed = root.child("driver", "find", status_code=Status.STATUS_CODE_ERROR)
        failed_too = failed.child("driver", "fetch", status_code=Status.STATUS_CODE_ERROR)
        lost_parent = SpanSpec("route", "calc", trace_id=root.trace_id, start_ns=BASE + 2 * MS)
        orphan = lost_parent.child("route", "calc")
        store(storage, root, late_root, failed, failed_too, orphan)

        _, (summary,) = summaries_page(storage, service="driver")

        assert (summary.root_service, summary.root_operation) == ("frontend", "HTTP GET /dispatch")
        assert (summary.span_count, summary.error_span_count, summary.orphan_span_count) == (5, 2, 1)
        assert summary.services == (
            ServiceSummary("batch", 1, 0),
            ServiceSummary("driver", 2, 2),
            ServiceSummary("frontend", 1, 0),
            ServiceSummary("route", 1, 0),
        )

    def test_a_summary_of_a_trace_without_a_root_names_none(self, storage: Storage):
        missing = SpanSpec("frontend", "op")
        store(storage, missing.child("driver", "find"))

        _, (summary,) = summaries_page(storage, service="driver")

        assert (summary.root_service, summary.root_operation, summary.orphan_span_count) == ("", "", 1)

    def test_an_unknown_sort_is_refused(self, storage: Storage):
        with pytest.raises(ValueError, match="unknown sort"):
            summaries_page(storage, "random")

    # Dependencies

    def test_dependencies_count_calls_between_services(self, storage: Storage):
        for _ in range(3):
            root = SpanSpec("frontend", "GET /dispatch", start_ns=BASE)
            driver = root.child("driver", "FindNearest")
            store(storage, root, driver, driver.child("redis", "GetDriver"), root.child("route", "GET /route"))
            store(storage, root.child("frontend", "internal work"))

        links = storage.dependency_reader().get_dependencies(BASE + 60 * SECOND, 120 * SECOND)

        assert links == [
            DependencyLink("driver", "redis", 3),
            DependencyLink("frontend", "driver", 3),
            DependencyLink("frontend", "route", 3),
        ]

    def test_dependencies_count_only_calls_inside_the_window(self, storage: Storage):
        for start in (BASE, BASE - 600 * SECOND):
            root = SpanSpec("frontend", "GET /dispatch", start_ns=start)
            store(storage, root, root.child("route", "GET /route"))

        links = storage.dependency_reader().get_dependencies(BASE + SECOND, 60 * SECOND)

        assert links == [DependencyLink("frontend", "route", 1)]

    # Concurrency

    def test_readers_see_whole_batches_while_a_writer_writes(self, storage: Storage):
        roots = [SpanSpec("frontend", "op", start_ns=BASE + i) for i in range(40)]
        errors: list[BaseException] = []

        def write() -> None:
            for root in roots:
                store(storage, root, *(root.child("driver", "op") for _ in range(24)))

        def read() -> None:
            try:
                while writer.is_alive():
                    for trace in storage.reader().find_traces(TraceQuery(service="driver", limit=5)):
                        assert len(trace.spans) == 25
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        writer = threading.Thread(target=write)
        readers = [threading.Thread(target=read) for _ in range(3)]
        writer.start()
        for reader in readers:
            reader.start()
        writer.join()
        for reader in readers:
            reader.join()

        assert errors == []
        assert len(find(storage, service="driver", limit=100)) == 40

    # The sampling store that adaptive sampling shares through this storage

    def test_sampling_store_is_one_shared_store_that_keeps_probabilities(self, storage: Storage):
        sampling = storage.sampling_store()
        sampling.insert_probabilities_and_qps("collector-1", {"frontend": {"/dispatch": 0.25}}, {}, BASE)

        assert storage.sampling_store() is sampling
        assert storage.sampling_store().get_latest_probabilities() == {"frontend": {"/dispatch": 0.25}}

    def test_sampling_lease_has_one_holder_until_it_expires(self, storage: Storage):
        sampling = storage.sampling_store()

        assert sampling.acquire_lease("adaptive", "a", ttl_ns=10 * SECOND, now_ns=BASE)
        assert not sampling.acquire_lease("adaptive", "b", ttl_ns=10 * SECOND, now_ns=BASE + SECOND)
        assert sampling.acquire_lease("adaptive", "b", ttl_ns=10 * SECOND, now_ns=BASE + 11 * SECOND)

"""The fixed query mix and what counts as a correct answer."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from loadgen.jaeger_queries import QUERY_MIX, Query, QueryPlan, check_answer
from loadgen.record import SentRecord
from loadgen.synthetic import SentTrace

TRACE = "0af7651916cd43dd8448eb211c80319c"


def plan(seed: int = 0) -> QueryPlan:
    return QueryPlan(services=["a", "b"], window_start_us=1, window_end_us=2, rand=random.Random(seed))


def test_the_mix_follows_its_weights_and_is_repeatable():
    mix = plan()
    kinds = Counter(mix.next(TRACE).kind for _ in range(6000))
    assert set(kinds) == set(QUERY_MIX)
    assert kinds["trace-by-id"] / 6000 == pytest.approx(QUERY_MIX["trace-by-id"] / sum(QUERY_MIX.values()), abs=0.03)
    first, second = plan(5), plan(5)
    assert [first.next(TRACE) for _ in range(20)] == [second.next(TRACE) for _ in range(20)]


def test_without_a_trace_id_there_are_no_by_id_queries():
    mix = plan()
    assert all(mix.next(None).kind != "trace-by-id" for _ in range(200))


def test_find_queries_carry_the_window_and_their_filter():
    query = plan().build("find-by-attribute")
    assert query.path == "/api/traces"
    assert query.params["start"] == "1" and query.params["end"] == "2"
    assert json.loads(query.params["tags"]) == {"customer.tier": "gold"}
    assert plan().build("find-by-duration").params["minDuration"] == "50ms"


def test_a_missing_or_empty_trace_is_a_wrong_answer():
    by_id = Query("trace-by-id", f"/api/traces/{TRACE}", trace_id=TRACE)
    assert check_answer(by_id, 404, b"{}") == f"trace {TRACE} not found"
    assert "without spans" in check_answer(by_id, 200, json.dumps({"data": [{"spans": []}]}).encode())
    assert check_answer(by_id, 200, json.dumps({"data": [{"spans": [{"spanID": "1"}]}]}).encode()) is None


def test_an_answer_outside_the_jaeger_envelope_is_wrong():
    services = Query("services", "/api/services")
    assert check_answer(services, 200, b"<html>") == "answer is not JSON"
    assert check_answer(services, 200, b'{"result": []}') == "answer has no data list"
    assert check_answer(services, 500, b"boom").startswith("HTTP 500")
    assert check_answer(services, 200, b'{"data": ["a"]}') is None


def test_only_traces_accepted_long_enough_ago_are_sampled():
    record = SentRecord()
    record.add([SentTrace(TRACE, 3)], accepted=True)
    assert record.sample_trace_id(random.Random(0), min_age_s=60) is None
    assert record.sample_trace_id(random.Random(0), min_age_s=0) == TRACE


def test_the_no_match_search_asks_for_a_value_no_span_has_and_wants_no_trace():
    query = plan().build("find-by-attribute-no-match")

    assert json.loads(query.params["tags"]) == {"customer.tier": "hotrod-no-such-value"}
    assert check_answer(query, 200, b'{"data": []}') is None
    assert check_answer(query, 200, b'{"data": [{"traceID": "1"}]}') == "1 traces found where none should match"


def test_the_six_hour_search_reaches_six_hours_back_from_the_window_end():
    query = QueryPlan(services=["a"], window_start_us=7 * 3600 * 10**6, window_end_us=8 * 3600 * 10**6).build(
        "find-by-attribute-6h"
    )

    assert (int(query.params["end"]) - int(query.params["start"])) == 6 * 3600 * 10**6
    assert json.loads(query.params["tags"]) == {"customer.tier": "gold"}

"""Reading the search form's tag field: Jaeger's plain pairs, and OR / negation / presence terms."""

from __future__ import annotations

import pytest

from backend.query.responses import ApiError
from backend.query.ui.tag_filter import Condition, parse_tag_expression


def test_plain_pairs_go_to_storage_unchanged():
    parsed = parse_tag_expression('http.method=GET sql.query="SELECT * FROM t WHERE a=\\"x|y\\""')

    assert parsed.plain == {"http.method": "GET", "sql.query": 'SELECT * FROM t WHERE a="x|y"'}
    assert parsed.terms == []


def test_a_json_object_from_jaegers_urls_is_plain_pairs():
    assert parse_tag_expression('{"request": "r-1", "retry": true}').plain == {"request": "r-1", "retry": "true"}


def test_alternatives_negations_and_presence_become_terms():
    parsed = parse_tag_expression("a=1 | !b  c!=2 d")

    assert parsed.plain == {}
    assert parsed.terms == [
        [Condition("a", "=", "1"), Condition("b", "absent")],
        [Condition("c", "!=", "2")],
        [Condition("d", "present")],
    ]


@pytest.mark.parametrize("text", ["a=1 |", '"a"=1', "!a=1", "=1", 'a="open'])
def test_malformed_input_is_a_400(text):
    with pytest.raises(ApiError) as raised:
        parse_tag_expression(text)

    assert raised.value.status == 400

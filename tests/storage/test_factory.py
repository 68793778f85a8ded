"""Choosing a storage plug-in by name from configuration."""

from __future__ import annotations

import pytest

from backend.core.binding import ConfigError
from backend.storage.api import Storage
from backend.storage.factory import create_storage


def test_a_known_kind_builds_a_storage():
    assert isinstance(create_storage("memory", None, "test"), Storage)


def test_an_unknown_kind_names_the_known_kinds():
    with pytest.raises(
        ConfigError, match=r"config.yaml: backends.main: unknown storage kind 'mongo'; known kinds: .*memory.*sql"
    ):
        create_storage("mongo", {}, "config.yaml: backends.main")


def test_an_unknown_option_is_reported_where_it_is():
    with pytest.raises(ConfigError, match=r"config.yaml: backends.main.max_trace: unknown option"):
        create_storage("memory", {"max_trace": 5}, "config.yaml: backends.main")


def test_an_invalid_option_value_is_a_config_error():
    with pytest.raises(ConfigError, match="max_traces must be at least 1"):
        create_storage("memory", {"max_traces": 0}, "test")

"""``jaeger_query.ui.assets_path``: a Jaeger UI build served from the query port, told what the backend can do.

The build here is an index.html of our own that carries the lines Jaeger UI's
index.html carries (and Jaeger's query server rewrites); tests/ui/test_real_jaeger_ui.py
runs a real build when JAEGER_UI_BUILD names one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backend.core.binding import ConfigError
from backend.service import BackendService
from tests.spm.conftest import build_config

INDEX = """<!doctype html><html><head><script>
      // JAEGER_CONFIG_JS
      function getJaegerUiConfig() {
        const DEFAULT_CONFIG = null;
        const JAEGER_CONFIG = DEFAULT_CONFIG;
        return JAEGER_CONFIG;
      }
      function getJaegerStorageCapabilities() {
        const DEFAULT_STORAGE_CAPABILITIES = { archiveStorage: false, metricsStorage: false };
        const JAEGER_STORAGE_CAPABILITIES = DEFAULT_STORAGE_CAPABILITIES;
        return JAEGER_STORAGE_CAPABILITIES;
      }
      function getJaegerBackendCapabilities() {
        const JAEGER_BACKEND_CAPABILITIES = DEFAULT_BACKEND_CAPABILITIES;
        return JAEGER_BACKEND_CAPABILITIES;
      }
      function getJaegerVersion() {
        const DEFAULT_VERSION = { gitCommit: '', gitVersion: '', buildDate: '' };
        const JAEGER_VERSION = DEFAULT_VERSION;
        return JAEGER_VERSION;
      }
</script><script src="./static/app.js"></script></head><body><div id="jaeger-ui-root"></div></body></html>
"""


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "build" / "static").mkdir(parents=True)
    (tmp_path / "build" / "index.html").write_text(INDEX)
    (tmp_path / "build" / "static" / "app.js").write_text("console.log('ui');\n")
    return tmp_path / "build"


def config(extra: dict[str, Any]):
    """The built-in all-in-one config on free ports with memory storage, plus ``extra`` (dotted paths)."""
    return build_config("memory", None, extra)


@pytest.fixture
def start() -> Iterator:
    started: list[BackendService] = []

    def run(**extra: Any) -> str:
        service = BackendService(config(extra))
        started.append(service)
        service.start()
        return f"http://{service.endpoints['jaeger_query']}"

    yield run
    for service in started:
        service.shutdown()


def injected(html: str, name: str) -> Any:
    return json.loads(re.search(rf"const {name} = (.*?);\n", html).group(1))


def test_every_app_path_gets_index_html_with_capabilities_and_version(start, build: Path):
    base = start(**{"extensions.jaeger_query.ui.assets_path": str(build)})

    for path in ("/", "/search", "/trace/0123456789abcdef0123456789abcdef", "/monitor"):
        response = requests.get(base + path, timeout=5)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
        assert injected(response.text, "JAEGER_STORAGE_CAPABILITIES") == {
            "archiveStorage": False,
            "metricsStorage": True,  # the built-in config reads span metrics: the Monitor tab shows
        }
        backend = injected(response.text, "JAEGER_BACKEND_CAPABILITIES")
        assert backend["metricsStorage"] and backend["searchWithoutServiceName"]
        assert injected(response.text, "JAEGER_VERSION")["gitVersion"]


def test_without_metrics_storage_the_monitor_tab_is_not_offered(start, build: Path):
    base = start(
        **{"extensions.jaeger_query.ui.assets_path": str(build), "extensions.jaeger_query.storage.metrics": ""}
    )

    html = requests.get(base + "/search", timeout=5).text

    assert injected(html, "JAEGER_STORAGE_CAPABILITIES")["metricsStorage"] is False


def test_static_files_come_from_the_build(start, build: Path):
    base = start(**{"extensions.jaeger_query.ui.assets_path": str(build)})

    assert requests.get(base + "/static/app.js", timeout=5).text == "console.log('ui');\n"
    assert requests.get(base + "/static/missing.js", timeout=5).status_code == 404
    assert requests.get(base + "/static/%2e%2e/index.html", timeout=5).status_code == 404


def test_the_api_stays_json_beside_the_ui(start, build: Path):
    base = start(**{"extensions.jaeger_query.ui.assets_path": str(build)})

    assert requests.get(base + "/api/services", timeout=5).json()["data"] == []
    unknown = requests.get(base + "/api/nothing-here", timeout=5)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == 404


def test_a_json_ui_config_is_injected_escaped(start, build: Path, tmp_path: Path):
    ui_config = tmp_path / "ui.json"
    ui_config.write_text(json.dumps({"menu": [{"label": "</script><b>docs", "url": "https://example.com"}]}))

    base = start(
        **{
            "extensions.jaeger_query.ui.assets_path": str(build),
            "extensions.jaeger_query.ui.config_file": str(ui_config),
        }
    )

    html = requests.get(base + "/", timeout=5).text
    assert "</script><b>" not in html
    assert injected(html, "JAEGER_CONFIG")["menu"][0]["label"] == "</script><b>docs"


def test_a_js_ui_config_takes_the_place_of_its_marker(start, build: Path, tmp_path: Path):
    ui_config = tmp_path / "ui.js"
    ui_config.write_text("function UIConfig() { return { dependencies: { menuEnabled: false } }; }\n")

    base = start(
        **{
            "extensions.jaeger_query.ui.assets_path": str(build),
            "extensions.jaeger_query.ui.config_file": str(ui_config),
        }
    )

    html = requests.get(base + "/", timeout=5).text
    assert "function UIConfig() { return { dependencies: { menuEnabled: false } }; }" in html
    assert "// JAEGER_CONFIG_JS" not in html


def test_our_own_ui_stays_the_default(start):
    base = start()

    response = requests.get(base + "/search", timeout=5)

    assert response.status_code == 200 and "JAEGER_CONFIG" not in response.text


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ({"ui.assets_path": "/nonexistent/jaeger-ui"}, "ui.assets_path", "no Jaeger UI build in"),
        ({"ui.config_file": "ui.json"}, "ui.config_file", "set ui.assets_path too"),
    ],
)
def test_a_missing_build_or_a_lone_config_file_stops_start_up_naming_the_key(extra, key, reason):
    with pytest.raises(ConfigError, match=re.escape(reason)) as raised:
        config({f"extensions.jaeger_query.{name}": value for name, value in extra.items()})

    assert f"extensions.jaeger_query.{key}" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("ui.json", "{broken", "cannot parse UI config file"),
        ("ui.js", "var x = 1;", "must define function UIConfig()"),
        ("ui.toml", "a = 1", "expecting a .json or .js file"),
    ],
)
def test_a_broken_ui_config_stops_start_up_naming_the_file(build: Path, tmp_path: Path, name, text, reason):
    (tmp_path / name).write_text(text)

    with pytest.raises(ConfigError, match=re.escape(reason)) as raised:
        config(
            {
                "extensions.jaeger_query.ui.assets_path": str(build),
                "extensions.jaeger_query.ui.config_file": str(tmp_path / name),
            }
        )

    assert "extensions.jaeger_query.ui.config_file" in str(raised.value)

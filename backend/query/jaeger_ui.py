"""Serving a Jaeger UI build (``jaeger_query.ui.assets_path``) instead of our own UI, as Jaeger's query server does.

Jaeger's UI learns about the server from values written into its
``index.html``: the UI configuration (``JAEGER_CONFIG`` from a ``.json``
file, or a ``.js`` file defining ``UIConfig()`` in place of the
``// JAEGER_CONFIG_JS`` line), the version, and what the backend can do
(``JAEGER_STORAGE_CAPABILITIES`` up to UI v2.19, ``JAEGER_BACKEND_CAPABILITIES``
after): without ``metricsStorage`` the UI hides its Monitor tab.  The
patterns are the ones Jaeger's ``static_handler.go`` replaces.  Free of
Flask, so the configuration check can load a build; ``jaeger_ui_view``
serves it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.query.json_text import html_safe_json

_CONFIG = re.compile(rb"JAEGER_CONFIG *= *DEFAULT_CONFIG;")
_CONFIG_JS = re.compile(rb"(?im)^\s*//\s*JAEGER_CONFIG_JS.*\n.*")
_VERSION = re.compile(rb"JAEGER_VERSION *= *DEFAULT_VERSION;")
_STORAGE_CAPABILITIES = re.compile(rb"JAEGER_STORAGE_CAPABILITIES *= *DEFAULT_STORAGE_CAPABILITIES;")
_BACKEND_CAPABILITIES = re.compile(rb"JAEGER_BACKEND_CAPABILITIES *= *DEFAULT_BACKEND_CAPABILITIES;")
_UI_CONFIG_FUNCTION = re.compile(rb"function\s+UIConfig(\s)?\(\s?\)(\s)?{")


class UiAssetsError(ValueError):
    """The build or the UI configuration cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class JaegerUi:
    """A Jaeger UI build and what to tell it; ``index_html`` is derived once, nothing in it changes at run time."""

    assets: Path
    index_html: bytes


def load_jaeger_ui(assets_path: str, config_file: str, metrics: bool, version: str) -> JaegerUi:
    assets = Path(assets_path).expanduser()
    try:
        raw = (assets / "index.html").read_bytes()
    except OSError as exc:
        raise UiAssetsError(f"no Jaeger UI build in {assets_path!r}: cannot read index.html ({exc.strerror})") from None
    if config_file:
        raw = _inject_config(raw, config_file)
    version_json = html_safe_json({"gitCommit": "", "gitVersion": version, "buildDate": ""}).encode()
    raw = _put(_VERSION, b"JAEGER_VERSION = " + version_json + b";", raw)
    storage = {"archiveStorage": False, "metricsStorage": metrics}
    backend = {**storage, "searchWithoutServiceName": True, "aiAssistant": False}
    for pattern, name, value in (
        (_STORAGE_CAPABILITIES, b"JAEGER_STORAGE_CAPABILITIES", storage),
        (_BACKEND_CAPABILITIES, b"JAEGER_BACKEND_CAPABILITIES", backend),
    ):
        raw = _put(pattern, name + b" = " + html_safe_json(value).encode() + b";", raw)
    return JaegerUi(assets.resolve(), raw)


def _put(pattern: re.Pattern[bytes], text: bytes, raw: bytes) -> bytes:
    """``raw`` with every match of ``pattern`` replaced by ``text`` taken literally (no backslash escapes)."""
    return pattern.sub(lambda _match: text, raw)


def _inject_config(raw: bytes, config_file: str) -> bytes:
    try:
        text = Path(config_file).expanduser().read_bytes()
    except OSError as exc:
        raise UiAssetsError(f"cannot read UI config file {config_file!r}: {exc.strerror}") from None
    suffix = Path(config_file).suffix.lower()
    if suffix == ".json":
        try:
            config: Any = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise UiAssetsError(f"cannot parse UI config file {config_file!r}: {exc}") from None
        if not isinstance(config, dict):
            raise UiAssetsError(f"UI config file {config_file!r} must hold a JSON object")
        encoded = html_safe_json(config).encode()
        return _put(_CONFIG, b"JAEGER_CONFIG = " + encoded + b";", raw)
    if suffix == ".js":
        script = text.strip()
        if not _UI_CONFIG_FUNCTION.search(script):
            raise UiAssetsError(f"UI config file {config_file!r} must define function UIConfig()")
        return _put(_CONFIG_JS, script, raw)
    raise UiAssetsError(f"UI config file {config_file!r}: expecting a .json or .js file")

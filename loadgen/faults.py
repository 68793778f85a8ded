"""Fault schedules: switch HotROD's runtime fault knobs on and off at set times during a load run.

A workshop wants an incident to appear in the traces and metrics and then go away, on cue,
while the load keeps running.  A schedule is a list of steps, each "at T seconds into the run,
PUT these knob values to this admin endpoint" (HotROD's ``/admin/faults`` takes a JSON object of
knobs), plus optional values applied when the run ends, so nothing stays broken afterwards.

Inline form (``--faults``), steps separated by ``;``, knobs by ``,``:

    10s: driver_error_rate=0.5; 40s: driver_error_rate=0; end: driver_error_rate=0

YAML form (``--faults schedule.yaml``)::

    admin_url: http://127.0.0.1:8080/admin/faults   # optional; default from the run's host
    steps:
      - {at: 10s, set: {driver_error_rate: 0.5}}
      - {at: 20s, admin_url: http://127.0.0.1:8081/admin/faults, set: {customer_delay: 1s}}
      - {at: 40s, set: {driver_error_rate: 0}}
    at_end: {driver_error_rate: 0}

Knob names and values are HotROD's; values are read as YAML scalars (``0.5`` a number, ``true``
a boolean, ``200ms`` a string).  Kept free of Locust: the locustfile runs it in a greenlet.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from backend.core.durations import parse_duration_ns

ADMIN_TOKEN_ENV = "HOTROD_ADMIN_TOKEN"
REQUEST_TIMEOUT_S = 5.0


class ScheduleError(ValueError):
    """The schedule text or file is not a valid fault schedule; the message says where."""


@dataclass(frozen=True)
class FaultStep:
    at_s: float  # seconds from the start of the run; inf for the end-of-run step
    admin_url: str
    settings: dict[str, Any]

    def describe(self) -> str:
        when = "end" if self.at_s == float("inf") else f"{self.at_s:g}s"
        knobs = ",".join(f"{key}={value}" for key, value in self.settings.items())
        return f"{when} {knobs}"


@dataclass
class FaultSchedule:
    steps: list[FaultStep]
    at_end: list[FaultStep] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str, admin_url: str) -> FaultSchedule:
        """An inline spec, or the path of a YAML file when ``spec`` names an existing file."""
        if spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
            return cls.from_yaml(Path(spec), admin_url)
        steps, at_end = [], []
        for number, part in enumerate(filter(None, (p.strip() for p in spec.split(";"))), start=1):
            when, colon, knobs = part.partition(":")
            if not colon:
                raise ScheduleError(f"fault step {number} ({part!r}): expected 'TIME: knob=value,...'")
            settings = {}
            for knob in filter(None, (k.strip() for k in knobs.split(","))):
                key, equals, value = knob.partition("=")
                if not equals or not key.strip():
                    raise ScheduleError(f"fault step {number} ({part!r}): expected knob=value, got {knob!r}")
                settings[key.strip()] = yaml.safe_load(value.strip())
            if not settings:
                raise ScheduleError(f"fault step {number} ({part!r}): no knob=value given")
            if when.strip() == "end":
                at_end.append(FaultStep(float("inf"), admin_url, settings))
            else:
                steps.append(FaultStep(_seconds(when.strip(), f"fault step {number}"), admin_url, settings))
        return cls(sorted(steps, key=lambda s: s.at_s), at_end)

    @classmethod
    def from_yaml(cls, path: Path, admin_url: str) -> FaultSchedule:
        try:
            document = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ScheduleError(f"{path}: cannot read the fault schedule: {exc}") from exc
        if not isinstance(document, dict):
            raise ScheduleError(f"{path}: expected a mapping with 'steps'")
        default_url = str(document.get("admin_url") or admin_url)
        steps = []
        for index, entry in enumerate(document.get("steps") or []):
            where = f"{path}: steps[{index}]"
            if not isinstance(entry, dict) or "at" not in entry or not isinstance(entry.get("set"), dict):
                raise ScheduleError(f"{where}: expected {{at: TIME, set: {{knob: value}}}}")
            url = str(entry.get("admin_url") or default_url)
            steps.append(FaultStep(_seconds(str(entry["at"]), where), url, dict(entry["set"])))
        at_end = document.get("at_end") or {}
        if not isinstance(at_end, dict):
            raise ScheduleError(f"{path}: at_end: expected a mapping of knob: value")
        end_steps = [FaultStep(float("inf"), default_url, dict(at_end))] if at_end else []
        return cls(sorted(steps, key=lambda s: s.at_s), end_steps)

    def run(self, stop: threading.Event, report: Callable[[FaultStep, float, Exception | None], None]) -> None:
        """Apply each step at its time until ``stop`` is set; then apply the end-of-run values.

        ``report(step, seconds the PUT took, error or None)`` is called after every step.
        """
        started = time.monotonic()
        for step in self.steps:
            if stop.wait(max(0.0, started + step.at_s - time.monotonic())):
                break
            report(step, *apply(step))
        stop.wait()
        for step in self.at_end:
            report(step, *apply(step))


def apply(step: FaultStep) -> tuple[float, Exception | None]:
    """PUT one step's knobs; (seconds taken, the error if the service did not take them)."""
    headers = {}
    token = os.environ.get(ADMIN_TOKEN_ENV)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    try:
        response = requests.put(step.admin_url, json=step.settings, headers=headers, timeout=REQUEST_TIMEOUT_S)
        error: Exception | None = None
        if not response.ok:
            error = RuntimeError(f"{step.admin_url} answered HTTP {response.status_code}: {response.text[:200]}")
    except requests.RequestException as exc:
        error = exc
    return time.perf_counter() - started, error


def _seconds(text: str, where: str) -> float:
    try:
        return parse_duration_ns(text) / 1e9
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise ScheduleError(f"{where}: {text!r} is not a time like 10s or 1m30s") from None

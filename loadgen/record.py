"""Which synthetic traces were accepted or refused: the evidence a completeness check needs.

The firehose users add to one in-process ``SENT`` record (query users in the same Locust process
read trace ids from it) and can save it as JSON at the end of a run; the benchmark keeps its own.
Kept free of Locust so that anything can read a saved record.
"""

from __future__ import annotations

import bisect
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadgen.synthetic import SentTrace


@dataclass
class SentRecord:
    """Trace id → span count, split by whether the collector took the export."""

    accepted: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # seed, base time, shape: how to reproduce
    _accepted_ids: list[str] = field(default_factory=list, repr=False)  # for sampling in O(1)
    _accepted_at: list[float] = field(default_factory=list, repr=False)  # monotonic time, ascending

    def __post_init__(self) -> None:
        self._accepted_ids = list(self.accepted)
        self._accepted_at = [float("-inf")] * len(self._accepted_ids)

    def add(self, traces: list[SentTrace], accepted: bool) -> None:
        target = self.accepted if accepted else self.refused
        for trace in traces:
            if accepted and trace.trace_id not in self.accepted:
                self._accepted_ids.append(trace.trace_id)
                self._accepted_at.append(time.monotonic())
            target[trace.trace_id] = trace.spans

    def sample_trace_id(self, rand: random.Random, min_age_s: float = 0.0) -> str | None:
        """A random trace id accepted at least ``min_age_s`` ago, or None if there is none yet.

        The age leaves a backend its batching delay: a trace accepted a moment ago may rightly
        not be queryable yet.
        """
        ready = bisect.bisect_right(self._accepted_at, time.monotonic() - min_age_s)
        if not ready:
            return None
        return self._accepted_ids[rand.randrange(ready)]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"settings": self.settings, "accepted": self.accepted, "refused": self.refused}
        path.write_text(json.dumps(document))

    @classmethod
    def load(cls, path: Path) -> SentRecord:
        document = json.loads(path.read_text())
        return cls(
            accepted=dict(document.get("accepted", {})),
            refused=dict(document.get("refused", {})),
            settings=dict(document.get("settings", {})),
        )


SENT = SentRecord()

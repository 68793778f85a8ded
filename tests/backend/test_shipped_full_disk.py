"""The shipped all-in-one (``hotrod backend``, default config: persistent queue, SQLite) on a disk that fills up.

The fault is real: once the backend serves, its files may grow no further than ``LIMIT`` bytes
(``RLIMIT_FSIZE`` set on the running process; Python ignores ``SIGXFSZ``, so writes past it come back
short or fail, as on a full disk).  SQLite's files fill first and the storage goes down, the batches wait
in the queue, the queue's log fills, and the receiver refuses.  Then the process is killed, the disk
"freed" (a new process without the limit, in the same folders), and every trace it had answered 200 for
must be stored whole.
"""

from __future__ import annotations

import resource
import signal
import time

from loadgen.synthetic import SyntheticTraces, TraceShape
from tests.backend.clients import post_otlp, span_count
from tests.support import wait_for

LIMIT = 1 << 20  # the queue's 8 MiB segment cannot reach it: a record is cut short inside it
MAX_REQUESTS = 3000


def test_every_trace_the_backend_accepted_before_its_disk_filled_is_stored_after_a_restart(start_backend):
    backend = start_backend()  # the built-in config, as `hotrod backend` runs it
    assert backend.process is not None
    resource.prlimit(backend.process.pid, resource.RLIMIT_FSIZE, (LIMIT, LIMIT))
    traces = SyntheticTraces(TraceShape(spans_per_trace=10, traces_per_request=5), seed=11, base_time_ns=time.time_ns())
    accepted: dict[str, int] = {}
    refused = 0
    for _ in range(MAX_REQUESTS):
        request, sent = traces.next_request()
        answer = post_otlp(backend.url("otlp-http", "/v1/traces"), request.SerializeToString())
        if answer.status_code == 200:
            accepted.update((trace.trace_id, trace.spans) for trace in sent)
        else:
            refused += 1
            if refused >= 3:
                break
    assert refused >= 3, "the disk never filled"
    assert accepted

    backend.process.send_signal(signal.SIGKILL)
    backend.process.wait(timeout=30)
    backend.restart()  # no limit: the disk has room again

    query = backend.url("query")
    missing = lambda: [t for t, spans in accepted.items() if span_count(query, t) != spans]  # noqa: E731
    wait_for(lambda: not missing(), timeout=120, interval=0.5, what="every accepted trace stored whole")

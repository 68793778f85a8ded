"""Waits that a request's handler may leave for after it returns: a persistent queue's disk sync, off the event loop.

The OTLP/HTTP receiver decodes and hands its batch on on the event loop's
thread, where decoding costs least (no hand-off under the GIL).  The
persistent queue then writes the batch but must not answer success before
it is on disk; a sync on the loop's thread would hold up every other
connection for a disk's latency and keep their batches from joining the
same sync.  So inside ``collecting()`` the queue leaves the sync wait here,
and the receiver runs it on a waiting thread before it answers
(``httpd.wsgi.BLOCKING``).  Anywhere else (gRPC's workers, other receivers,
another thread in the pipeline, where this context does not follow) the
wait runs at once, as before: the default is always the safe one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Wait = Callable[[], None]

_collecting: ContextVar[list[Wait] | None] = ContextVar("deferred_waits", default=None)


@contextmanager
def collecting() -> Iterator[list[Wait]]:
    """The waits deferred by what runs inside the block, for the caller to run before it answers."""
    waits: list[Wait] = []
    token = _collecting.set(waits)
    try:
        yield waits
    finally:
        _collecting.reset(token)


def defer(wait: Wait) -> None:
    """Leave ``wait`` to the caller that is ``collecting``; with none, wait now."""
    waits = _collecting.get()
    if waits is None:
        wait()
    else:
        waits.append(wait)

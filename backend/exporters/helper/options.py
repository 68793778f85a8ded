"""``sending_queue`` and ``retry_on_failure``: the options every exporter takes, in the Collector's shape."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.core.binding import ConfigError, Duration
from backend.exporters.helper.retry import RetryOptions


@dataclass
class QueueBatchOptions:
    """Consumers merge what is queued into one delivery of at most ``max_size`` spans; with fewer than
    ``min_size`` queued, a consumer waits up to ``flush_timeout`` (from when it found the first entry) for more,
    as the Collector's exporterhelper batches.

    Waiting matters for SQLite: a transaction of one 100-span request dirtied about as many index pages as one
    of thousands of spans, so at 12 k spans/s offered in 100-span requests (batches "growing with the load" to
    only 1-2 requests) ingest cost ~29 us of CPU per span, against ~21 us with 4,096 spans or 200 ms per
    delivery.  The price: a span becomes queryable up to ``flush_timeout`` later.  ``flush_timeout: 0`` sends
    what is queued at once.

    The wait only lasts while requests keep coming: ``idle_timeout`` (ours; the Collector has no such key)
    without a new one ends it, so a quiet moment (a person clicking through the demo, the end of a load) is not
    held back for the whole ``flush_timeout``, while a stream of requests (gaps of a few ms under load) still
    fills deliveries.  ``idle_timeout: 0`` always waits the whole ``flush_timeout``.
    """

    max_size: int = 8192
    min_size: int = 4096
    flush_timeout: Duration = Duration(200_000_000)
    idle_timeout: Duration = Duration(50_000_000)


@dataclass
class SendingQueueOptions:
    enabled: bool = True
    #: threads delivering at once.  PostgreSQL takes parallel writes; SQLite has one writer, so 1 is its best.
    num_consumers: int = 1
    queue_size: int = 200_000  # spans, counted until delivered
    #: id of a ``file_storage`` extension: the queue is persistent (on disk before the sender hears success)
    storage: str = ""
    batch: QueueBatchOptions = field(default_factory=QueueBatchOptions)
    retry_after: Duration = Duration(1_000_000_000)  # the hint sent with a refusal
    #: on shutdown, how long an in-memory queue keeps retrying before what is left is lost (a persistent one
    #: keeps it on disk for the next start instead)
    drain_timeout: Duration = Duration(30_000_000_000)

    def check(self, where: str) -> None:
        at = f"{where}.sending_queue"
        for name, value in (
            ("num_consumers", self.num_consumers),
            ("queue_size", self.queue_size),
            ("batch.max_size", self.batch.max_size),
            ("batch.min_size", self.batch.min_size),
        ):
            if value < 1:
                raise ConfigError(f"{at}.{name}", f"expected at least 1, got {value}")
        for name, duration in (("flush_timeout", self.batch.flush_timeout), ("idle_timeout", self.batch.idle_timeout)):
            if duration < 0:
                raise ConfigError(f"{at}.batch.{name}", "expected a duration of 0 or more, such as 200ms")
        if self.storage and not self.enabled:
            raise ConfigError(f"{at}.storage", "a persistent queue needs enabled: true")


@dataclass
class HelperOptions:
    """Mixed into an exporter's options: ``sending_queue`` and ``retry_on_failure``."""

    sending_queue: SendingQueueOptions = field(default_factory=SendingQueueOptions)
    retry_on_failure: RetryOptions = field(default_factory=RetryOptions)

    def check_helper(self, where: str) -> None:
        self.sending_queue.check(where)
        self.retry_on_failure.check(where)

"""``sending_queue`` and ``retry_on_failure``: the options every exporter takes, in the Collector's shape."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.core.binding import ConfigError, Duration
from backend.exporters.helper.retry import RetryOptions


@dataclass
class QueueBatchOptions:
    """Consumers merge what is queued into one delivery of at most ``max_size`` spans, without waiting for more
    (the batch processor's reasoning: batches grow with the load by themselves)."""

    max_size: int = 8192


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
        ):
            if value < 1:
                raise ConfigError(f"{at}.{name}", f"expected at least 1, got {value}")
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

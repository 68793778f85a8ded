"""What every exporter shares, as the Collector's exporterhelper: a sending queue (in memory or persistent on a
``file_storage`` extension), retries with jittered exponential back-off, and back-pressure instead of loss."""

from backend.exporters.helper.exporter import QueuedExporter
from backend.exporters.helper.options import HelperOptions, SendingQueueOptions
from backend.exporters.helper.retry import Permanent, RetryOptions, Throttled

__all__ = ["HelperOptions", "Permanent", "QueuedExporter", "RetryOptions", "SendingQueueOptions", "Throttled"]

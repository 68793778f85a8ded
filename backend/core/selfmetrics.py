"""The backend's own metrics, in a Prometheus registry per service instance.

Each ``BackendService`` has its own registry (never the process-wide default
one) so that two backends in one process (``hotrod all``, tests) count apart.
Names follow the OpenTelemetry Collector's (``otelcol_receiver_accepted_spans``
and so on) so that dashboards written for the Collector or Jaeger v2 apply.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from httpd.limits import Limits
from httpd.wsgi_server import WsgiServer

_WRITE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class SelfMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.accepted = Counter(
            "otelcol_receiver_accepted_spans",
            "Spans a receiver accepted into the pipeline.",
            ["receiver", "transport"],
            registry=r,
        )
        self.refused = Counter(
            "otelcol_receiver_refused_spans",
            "Spans a receiver could not hand on because the pipeline refused them (back-pressure).",
            ["receiver", "transport"],
            registry=r,
        )
        self.rejected = Counter(
            "otelcol_receiver_rejected_spans",
            "Spans a receiver rejected as invalid (bad ids); whole malformed requests count in failed_requests.",
            ["receiver", "transport"],
            registry=r,
        )
        self.failed_requests = Counter(
            "otelcol_receiver_failed_requests",
            "Requests a receiver answered with an error, by reason.",
            ["receiver", "transport", "reason"],
            registry=r,
        )
        self.queue_size = Gauge(
            "otelcol_processor_batch_queue_spans",
            "Spans waiting in a batch processor's queue.",
            ["processor"],
            registry=r,
        )
        self.queue_capacity = Gauge(
            "otelcol_processor_batch_queue_capacity_spans",
            "The most spans a batch processor's queue holds before it refuses more.",
            ["processor"],
            registry=r,
        )
        self.dropped = Counter(
            "otelcol_processor_dropped_spans",
            "Spans a processor accepted but could not deliver before shutdown ended (the next step kept refusing).",
            ["processor"],
            registry=r,
        )
        self.sent = Counter(
            "otelcol_exporter_sent_spans",
            "Spans an exporter delivered (for the storage exporter: stored).",
            ["exporter"],
            registry=r,
        )
        self.send_failed = Counter(
            "otelcol_exporter_send_failed_spans",
            "Spans an exporter gave up on: a permanent error, max_elapsed_time, or left in memory at shutdown.",
            ["exporter"],
            registry=r,
        )
        self.exporter_queue_size = Gauge(
            "otelcol_exporter_queue_size",
            "Spans in an exporter's sending queue, waiting or being delivered.",
            ["exporter"],
            registry=r,
        )
        self.exporter_queue_capacity = Gauge(
            "otelcol_exporter_queue_capacity",
            "The most spans an exporter's sending queue holds before it refuses more.",
            ["exporter"],
            registry=r,
        )
        self.exporter_queue_disk_bytes = Gauge(
            "otelcol_exporter_queue_disk_bytes",
            "Bytes a persistent sending queue takes on disk.",
            ["exporter"],
            registry=r,
        )
        self.exporter_queue_disk_syncs = Gauge(
            "otelcol_exporter_queue_disk_syncs",
            "Data syncs a persistent sending queue made since start; with group commit fewer than the batches it took.",
            ["exporter"],
            registry=r,
        )
        self.exporter_queue_oldest_age = Gauge(
            "otelcol_exporter_queue_oldest_age_seconds",
            "How long the oldest span in an exporter's sending queue has waited.",
            ["exporter"],
            registry=r,
        )
        self.enqueue_failed = Counter(
            "otelcol_exporter_enqueue_failed_spans",
            "Spans an exporter refused because its sending queue was full or its peer known to be down.",
            ["exporter"],
            registry=r,
        )
        self.send_retries = Counter(
            "otelcol_exporter_send_retries",
            "Failed delivery attempts an exporter is retrying.",
            ["exporter"],
            registry=r,
        )
        self.storage_up = Gauge(
            "jaeger_storage_up",
            "1 while a storage takes writes and reads, 0 since one failed (until one succeeds again).",
            ["storage"],
            registry=r,
        )
        self.write_errors = Counter(
            "otelcol_exporter_storage_write_errors",
            "Storage writes that raised (each attempt counts, retried or not).",
            ["exporter"],
            registry=r,
        )
        self.write_seconds = Histogram(
            "otelcol_exporter_storage_write_seconds",
            "Time one storage write of a batch took.",
            ["exporter"],
            buckets=_WRITE_BUCKETS,
            registry=r,
        )
        self.purged = Counter(
            "jaeger_storage_purged_spans",
            "Spans removed by retention.",
            ["storage"],
            registry=r,
        )
        self._server: WsgiServer | None = None

    def serve(self, host: str, port: int, limits: Limits) -> str:
        """Expose ``/metrics`` on ``host:port`` (0 picks a free port); returns the bound ``host:port``.

        On the same server as every other HTTP port (not prometheus-client's own, a thread per
        connection with no timeouts), so that slow or idle scrapers are held to the same limits.
        """
        server = WsgiServer(make_wsgi_app(self.registry), host, port, name="metrics", threads=0, limits=limits)
        server.start()
        self._server = server
        return server.address

    @property
    def address(self) -> str:
        """The ``host:port`` that ``/metrics`` is served on, ``""`` when it is not."""
        return self._server.address if self._server is not None else ""

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

"""The Jaeger-compatible query API: ``/api/*`` for the Jaeger UI and ``/api/v3/*`` (OTLP JSON)."""

# The largest trace file a client may post to be read whole in memory (/api/transform, the upload page's critical
# path); here, below Flask, so that the jaeger_query extension's configuration can default to it without importing it.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024

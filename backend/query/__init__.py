"""The Jaeger-compatible query API: ``/api/*`` for the Jaeger UI and ``/api/v3/*`` (OTLP JSON)."""

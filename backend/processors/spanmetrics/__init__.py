"""Service performance monitoring: RED metrics (rate, errors, duration) computed from spans as they pass.

``aggregator`` counts spans per series on the ingest path; ``store`` keeps
those counts in bounded time buckets that ``queries`` answers Jaeger's
metrics API from; ``prometheus`` exposes the running totals under the
OpenTelemetry spanmetrics connector's names; ``persistence`` keeps the
buckets in the trace storage's database so history survives a restart;
``hub`` is where the processor and the query API meet;
``prometheus_reader`` answers the same API from a real Prometheus instead.
"""

"""``hotrod bench --dataset jaeger-clickhouse``: Jaeger's published ClickHouse benchmark, reproduced side by side.

The dataset is tracegen's (``loadgen.tracegen``), the queries are the ones
Jaeger timed (``queries``), and each storage gets a fresh ``hotrod backend``
that the data is loaded into over OTLP/HTTP (``load``); the report sets the
figures beside Jaeger's published ones (``report``).
"""

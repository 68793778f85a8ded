"""The ``clickhouse`` storage plug-in: a columnar trace store, embedded (chDB) or a ClickHouse server by URL."""

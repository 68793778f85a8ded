"""The bundled trace backend: a Jaeger-v2-shaped pipeline, storage plug-ins and query API."""

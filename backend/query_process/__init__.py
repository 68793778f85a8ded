"""The query API in a process of its own, beside the one that ingests (``--query-process``).

Searches decode and sort in Python; ingest does too.  In one interpreter they
take the GIL from each other, so a busy collector makes searches slow and a
heavy search makes senders wait.  As Jaeger v2 runs a "query" role over the
storage its collectors write, ``hotrod backend`` and ``hotrod all`` split the
all-in-one config: ``plan`` moves ``jaeger_query`` into a query-only config
(``jaeger_storage`` with the same backends + ``jaeger_query``), and
``QueryProcess`` runs that config in a child it supervises.
"""

"""The ``tail_sampling`` processor: keep whole traces by what they turned out to be (errors, slow, ...).

Configured and behaving as the OpenTelemetry Collector contrib
``tail_sampling`` processor (``config.py``, ``policies.py``); held traces are
bounded by ``num_traces`` and nothing sampled is dropped when the next
consumer refuses (``processor.py``).  Its counters (``metrics.py``) feed
:8888 and the Monitor page.
"""

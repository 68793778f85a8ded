"""The Jaeger remote sampler for the OpenTelemetry Python SDK (``OTEL_TRACES_SAMPLER=jaeger_remote``).

Independent of ``backend``: it speaks only the remote sampling protocol, so it
works against a real Jaeger as well.
"""

from hotrod.sampling.entry_point import jaeger_remote_sampler
from hotrod.sampling.remote import JaegerRemoteSampler

__all__ = ["JaegerRemoteSampler", "jaeger_remote_sampler"]

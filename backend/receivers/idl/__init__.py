"""Interface definitions of the legacy protocols, loaded at run time (no generated code is kept).

``jaeger``, ``agent`` and ``zipkin_core`` are thriftpy2 modules built from the
``.thrift`` files beside this one; ``zipkin_proto`` builds Zipkin's protobuf messages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

import thriftpy2

_HERE = Path(__file__).parent


@cache
def jaeger() -> ModuleType:
    """Jaeger's span model: ``Batch``, ``Span``, ``Tag``, ``TagType`` ..."""
    return thriftpy2.load(str(_HERE / "jaeger.thrift"), module_name="jaeger_thrift")


@cache
def agent() -> ModuleType:
    """The agent service: ``Agent.emitBatch_args`` is what a UDP datagram carries."""
    return thriftpy2.load(str(_HERE / "agent.thrift"), module_name="agent_thrift", include_dirs=[str(_HERE)])


@cache
def zipkin_core() -> ModuleType:
    """Zipkin's v1 span model: ``Span``, ``Annotation``, ``BinaryAnnotation``, ``Endpoint``."""
    return thriftpy2.load(str(_HERE / "zipkin_core.thrift"), module_name="zipkin_core_thrift")

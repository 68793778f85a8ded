"""What every backend component is, in the Collector's terms.

A *receiver* takes data in from the outside and hands each batch to a
``Consumer``; a *processor* is a consumer that passes batches on to the next
one; an *exporter* is the consumer at the end of a pipeline; an *extension*
is a component outside the data path (storage, query API, health).  Each has
``start(host)`` and ``shutdown()``; the ``Host`` is how a component finds the
extensions it depends on, without any global registry.

A consumer that cannot take a batch right now raises ``Refused``: the sender
should retry later (HTTP 429/503, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE).
Receivers ask ``refusal()`` before decoding a request, so that an overloaded
pipeline does not spend its CPU decoding spans it will refuse anyway.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from backend.spans.model import SpanBatch

if TYPE_CHECKING:
    from backend.core.selfmetrics import SelfMetrics


class Refused(Exception):
    """The pipeline cannot take this batch now; retrying after ``retry_after`` seconds may work.

    ``overloaded`` tells a full queue (HTTP 429, gRPC RESOURCE_EXHAUSTED) from a
    downstream that is failing (HTTP 503, gRPC UNAVAILABLE).
    """

    def __init__(self, message: str, retry_after: float = 1.0, overloaded: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.overloaded = overloaded


class Consumer(Protocol):
    def consume(self, batch: SpanBatch) -> None:
        """Take ``batch`` or raise ``Refused``; returning means the batch is this consumer's to deliver.

        Called from many threads at once (receiver threads, the batch processor's workers): be thread-safe.
        """

    def refusal(self) -> Refused | None:
        """The ``Refused`` a batch would meet now, or None: a cheap look receivers take before decoding.

        A forecast, not a promise: ``consume`` still decides.
        """


class StartError(OSError):
    """A component cannot start for a reason the config could not show (a port taken, a server refusing).

    ``where`` locates the cause in the config (``file: key.path``), as ``ConfigError`` does.  An
    ``OSError``, as the failure it wraps, so that callers catching that (``hotrod all``) still do.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


class Status(Enum):
    STARTING = "starting"
    READY = "ready"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Host(Protocol):
    """What a running component may ask of the service that runs it."""

    def extension(self, component_id: str) -> Extension:
        """The started extension with this id; raises ``KeyError`` naming it when there is none."""

    def extensions(self) -> dict[str, Extension]: ...

    @property
    def status(self) -> Status: ...

    def report(self, component: str, problem: str | None) -> None:
        """``component`` (an id such as ``jaeger/thrift_compact``) cannot do its job now, and why; None: it can again.

        Health answers 503 naming every reported problem, so a part that fails after start is seen,
        not silent.  Thread-safe.
        """

    def problems(self) -> dict[str, str]:
        """The problems reported and not yet cleared, by component."""


class Component(ABC):
    @abstractmethod
    def start(self, host: Host) -> None:
        """Acquire resources and, for servers, listen; return once ready."""

    @abstractmethod
    def shutdown(self) -> None:
        """Release everything; after it returns the component holds no data."""

    def endpoints(self) -> dict[str, str]:
        """Actual ``host:port`` of each server this component listens on, by a short name."""
        return {}


class Receiver(Component):
    """Feeds batches to the consumer it was created with."""


class Processor(Component):
    @abstractmethod
    def consume(self, batch: SpanBatch) -> None: ...

    @abstractmethod
    def refusal(self) -> Refused | None:
        """A processor that only looks at batches answers for the consumer after it."""


class Exporter(Component):
    @abstractmethod
    def consume(self, batch: SpanBatch) -> None:
        """Deliver ``batch``; raise when it could not be delivered (after any retries)."""

    def refusal(self) -> Refused | None:
        """Exporters find out by trying: there is no queue here to look at."""
        return None


class Extension(Component):
    #: extensions start in ascending order (ties keep the configured order), so that
    #: providers such as storage are running before the extensions that use them.
    start_order: int = 10

    def ready(self) -> None:
        """Called once every extension and pipeline has started; return once this one is ready too.

        For an extension whose start runs on beside the rest (the query process: its interpreter
        loads while the backend starts); the default has nothing to wait for.
        """


@dataclass(frozen=True, slots=True)
class Settings:
    """What a factory gets besides the options: the component's id, logger and metrics.

    ``where`` locates the component in the config (``file: exporters.id``) for
    errors found only at start, such as a storage name nobody defines.
    """

    id: str
    where: str
    metrics: SelfMetrics
    logger: logging.Logger


Kind = Literal["receiver", "processor", "exporter", "extension"]
OptionsT = TypeVar("OptionsT")


class Stage(Generic[OptionsT]):
    """What a receiver or processor is built with: its factory's ``create(settings, options, next_consumer)``.

    Mixed in before ``Receiver`` or ``Processor`` so that each keeps them under the same names
    (``_settings``, ``_options``, ``_next``) instead of writing the same three assignments again.
    """

    def __init__(self, settings: Settings, options: OptionsT, next_consumer: Consumer) -> None:
        self._settings = settings
        self._options = options
        self._next = next_consumer


class SizesByLastBatch:
    """For a component with a queue of its own: ``refusal()`` cannot see the batch it is asked about, so it
    expects the next one to bring as many spans as the last one offered."""

    _last_count = 0

    def _offered(self, batch: SpanBatch) -> int:
        """The batch's span count, remembered for ``refusal()``; an empty batch is stored at once (0)."""
        count = len(batch)
        if count:
            self._last_count = count
        else:
            batch.stored()
        return count


class Observer(Stage[OptionsT], Processor):
    """A processor that only looks at each batch (to count it) and hands it on unchanged.

    A look that fails is logged and is never the batch's problem: the batch goes on all the same.
    With no queue of its own, it answers ``refusal`` for the consumer after it.
    """

    @abstractmethod
    def observe(self, batch: SpanBatch) -> None: ...

    def consume(self, batch: SpanBatch) -> None:
        try:
            self.observe(batch)
        except Exception:
            self._settings.logger.exception("%s could not count %d span(s)", self._settings.id, len(batch))
        self._next.consume(batch)

    def refusal(self) -> Refused | None:
        return self._next.refusal()


@dataclass(frozen=True, slots=True)
class _Factory(Generic[OptionsT]):
    """How to configure one component type: ``options(raw, where)`` turns the YAML mapping into typed
    options, raising ``ConfigError`` located at ``where``.  Each kind adds how to build one (``create``).
    """

    type: str
    options: Callable[[Any, str], OptionsT]


@dataclass(frozen=True, slots=True)
class ReceiverFactory(_Factory[OptionsT]):
    """How to configure and build one receiver type.

    One factory class per kind, so the pipeline builder is type-checked: a
    receiver is built with the consumer it feeds, an exporter without one.
    """

    create: Callable[[Settings, OptionsT, Consumer], Receiver]
    kind: ClassVar[Kind] = "receiver"


@dataclass(frozen=True, slots=True)
class ProcessorFactory(_Factory[OptionsT]):
    create: Callable[[Settings, OptionsT, Consumer], Processor]
    kind: ClassVar[Kind] = "processor"


@dataclass(frozen=True, slots=True)
class ExporterFactory(_Factory[OptionsT]):
    create: Callable[[Settings, OptionsT], Exporter]
    kind: ClassVar[Kind] = "exporter"


@dataclass(frozen=True, slots=True)
class ExtensionFactory(_Factory[OptionsT]):
    create: Callable[[Settings, OptionsT], Extension]
    kind: ClassVar[Kind] = "extension"


Factory = ReceiverFactory[Any] | ProcessorFactory[Any] | ExporterFactory[Any] | ExtensionFactory[Any]

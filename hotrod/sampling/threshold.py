"""OpenTelemetry consistent probability sampling: the ``th`` threshold in ``tracestate``.

A probabilistic decision is recorded as ``ot=th:<hex>`` so that any collector
can weigh the trace by ``1 / p`` without knowing which sampler made it
(OTel spec, "TraceState Probability Sampling").  The randomness is the low
56 bits of the trace id (W3C Trace Context level 2 makes those random), and a
trace is kept when that randomness is at least the rejection threshold
``T = (1 - p) * 2^56``.  Deciding this way (rather than with the SDK's
``TraceIdRatioBased``) makes the recorded threshold the exact rule applied.
"""

from __future__ import annotations

from opentelemetry.trace.span import TraceState

MAX_THRESHOLD = 1 << 56
_RANDOMNESS_MASK = MAX_THRESHOLD - 1
_HEX_DIGITS = 14
OT_KEY = "ot"
TH_PREFIX = "th:"


def rejection_threshold(probability: float) -> int:
    """``T`` for ``probability``: 0 keeps everything, ``2^56`` keeps nothing."""
    probability = min(1.0, max(0.0, probability))
    return min(MAX_THRESHOLD, max(0, round((1.0 - probability) * MAX_THRESHOLD)))


def randomness(trace_id: int) -> int:
    return trace_id & _RANDOMNESS_MASK


def is_kept(trace_id: int, threshold: int) -> bool:
    return randomness(trace_id) >= threshold


def encode_threshold(threshold: int) -> str:
    """14 hex digits with trailing zeros dropped, ``0`` for "keep everything"."""
    if threshold <= 0:
        return "0"
    return f"{threshold:0{_HEX_DIGITS}x}".rstrip("0")


def with_threshold(trace_state: TraceState | None, threshold: int) -> TraceState:
    """``trace_state`` whose ``ot`` entry carries ``th`` for this threshold (other sub-keys kept)."""
    state = trace_state if trace_state is not None else TraceState()
    others = _other_subkeys(state.get(OT_KEY))
    value = ";".join([TH_PREFIX + encode_threshold(threshold), *others])
    return state.update(OT_KEY, value) if OT_KEY in state else state.add(OT_KEY, value)


def _other_subkeys(ot_value: str | None) -> list[str]:
    if not ot_value:
        return []
    return [part for part in ot_value.split(";") if part and not part.startswith(TH_PREFIX)]

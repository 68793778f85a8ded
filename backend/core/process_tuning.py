"""Process-wide runtime settings a backend process takes before it serves: the garbage collector, the allocator.

Only the backend's own entry points call ``tune_process`` (``hotrod backend`` and its query process); a
service embedded in another program keeps its host's settings.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import sys

log = logging.getLogger(__name__)

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks this large or larger get a mapping of their own; below it they come from the heap and are reused.
#: 32 MiB is the largest glibc accepts.
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of a heap kept for reuse rather than handed back to the kernel.
TRIM_THRESHOLD = 256 << 20
#: Set by a user who tunes glibc's allocator: their settings are left alone.
_USER_SETTINGS = ("GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")


def tune_process() -> None:
    tune_garbage_collector()
    tune_allocator()


def tune_garbage_collector() -> None:
    """Collect young objects every 50,000 allocations instead of 700, and never rescan start-up objects.

    Ingest allocates a few objects per span (records, bytes), by the thousand per
    request; with the default threshold the collector runs every ~70 spans and,
    with the memory storage, keeps walking millions of live records: about 30%
    of the CPU per span (benchmarks/ingest.py).  Nothing here builds reference
    cycles in bulk, so the larger threshold costs little memory.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def tune_allocator() -> bool:
    """Keep freed memory for reuse instead of handing it back to the kernel and faulting it in again.

    Every request allocates and frees buffers of hundreds of kilobytes (the body, the socket reads, the
    queue's record, numpy's arrays of the ClickHouse writer).  glibc's defaults map the largest anew each
    time and give a heap's free top back past a few hundred kilobytes, so the next request page-faults the
    same memory in again, zeroed by the kernel: at 80,000 spans a second a backend took ~80,000 faults a
    second, and a fifth of its CPU was the kernel's.  Returns whether the settings were applied (glibc
    only, and not when the user set glibc's own variables).  What the process holds on to after a burst
    is bounded by ``TRIM_THRESHOLD`` per heap.
    """
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _USER_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if not applied:
        log.debug("mallopt refused the allocator settings; glibc's defaults stay")
    return applied

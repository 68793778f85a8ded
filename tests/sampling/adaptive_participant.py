"""A collector's adaptive sampling in its own process, for tests that kill a leader outright.

``python -m tests.sampling.adaptive_participant DATABASE_URL SCHEMA`` prints
``leader`` or ``follower`` whenever that changes, and runs until killed.
"""

from __future__ import annotations

import sys
import threading

from backend.core.binding import Duration
from backend.sampling.adaptive.engine import AdaptiveSampling
from backend.sampling.adaptive.options import AdaptiveOptions
from backend.storage.sql.sampling import SqlSamplingStore

MS = 1_000_000


def fast_options() -> AdaptiveOptions:
    """Intervals short enough for tests: a lease lasts 0.6 s, a calculation runs every 0.2 s."""
    return AdaptiveOptions(
        calculation_interval=Duration(200 * MS),
        calculation_delay=Duration(0),
        initial_sampling_probability=1.0,
        leader_lease_refresh_interval=Duration(100 * MS),
        follower_lease_refresh_interval=Duration(600 * MS),
        follower_probability_refresh_interval=Duration(100 * MS),
    )


def main() -> None:
    url, schema = sys.argv[1], sys.argv[2]
    sampling = AdaptiveSampling(fast_options(), SqlSamplingStore(url, schema=schema), participant="subprocess")
    sampling.start()
    shown = None
    while True:
        role = "leader" if sampling.is_leader() else "follower"
        if role != shown:
            print(role, flush=True)
            shown = role
        threading.Event().wait(0.05)


if __name__ == "__main__":
    main()

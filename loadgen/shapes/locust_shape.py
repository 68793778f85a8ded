"""The one Locust shape class of the demo locustfile: the shape named by ``--shape`` (LOADGEN_SHAPE).

Locust allows a single shape class per locustfile, so this class delegates to the functions in
``loadgen.shapes.curves``.  It reads Locust's own ``-u`` (peak users), ``-r`` (spawn rate) and ``-t``
(run time; without one the pattern repeats every ``--shape-period``), so the web UI's fields work.
"""

from __future__ import annotations

from locust import LoadTestShape, events

from loadgen.shapes.curves import SHAPES


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("load shape (loadgen.shapes.curves)")
    group.add_argument(
        "--shape",
        choices=sorted(SHAPES),
        env_var="LOADGEN_SHAPE",
        default="steady",
        help="how the user count moves over the run; -u is the peak",
    )
    group.add_argument(
        "--shape-period",
        type=float,
        env_var="LOADGEN_SHAPE_PERIOD",
        default=60.0,
        help="seconds one pattern lasts when there is no --run-time",
    )


class SelectedShape(LoadTestShape):
    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None  # Locust ticks a shape only while its runner runs
        options = self.runner.environment.parsed_options
        assert options is not None  # set by Locust's command line, which this shape's options belong to
        run_time = float(options.run_time or 0)
        elapsed = self.get_run_time()
        if run_time and elapsed >= run_time:
            return None
        peak = max(1, int(options.num_users or 1))
        period = run_time or options.shape_period
        users = SHAPES[options.shape](elapsed, peak, period)
        return users, max(float(options.spawn_rate or 1), 1.0)

"""``hotrod doctor`` (and the start-up self-check) still prove the trace path when sampling leaves dispatches out."""

from __future__ import annotations

import pytest

from hotrod import doctor
from tests.sampling_e2e.test_sampled_out_page import FAST_POLLING, NOTHING_SAMPLED, first_sampled_out


def test_the_check_passes_when_its_own_dispatch_would_be_sampled_out(start_sampled_hotrod) -> None:
    hotrod = start_sampled_hotrod(*NOTHING_SAMPLED, env=FAST_POLLING)
    first_sampled_out(hotrod)
    result = doctor.check(hotrod.frontend, hotrod.query)
    assert result.services == ["customer", "driver", "frontend", "route"]


def test_the_check_names_a_sampler_that_ignores_the_caller(start_sampled_hotrod) -> None:
    hotrod = start_sampled_hotrod(env={"OTEL_TRACES_SAMPLER": "always_off"})
    with pytest.raises(doctor.CheckFailed, match="use a parentbased_ sampler"):
        doctor.check(hotrod.frontend, hotrod.query, timeout_s=5)

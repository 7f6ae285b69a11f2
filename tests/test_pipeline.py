"""The device layer: the products a run keeps, and time arithmetic of runs."""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge import pipeline


def test_a_run_keeps_its_roles_source_and_module():
    G = NeuronGroup(4, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    mon = SpikeMonitor(G)
    run(1 * ms)
    last = magic_network.last_run
    assert isinstance(last, pipeline.NetworkRun)
    names = [role.name for role in last.roles]
    # schedule order: state update (groups), threshold (thresholds), monitor, reset (resets)
    assert names == ["ng0_stateupdate", "ng0_thresholder", "spikemon0_record", "ng0_resetter"]
    assert last.source == magic_network.generated_source_path.read_text()
    assert last.module is not None and last.module.__file__.startswith(
        str(magic_network.generated_code_dir)
    )
    assert set(last.timings) == {"preparation", "build", "loop"}
    assert last.context.n_steps == 10


def test_runs_shorter_than_a_step_still_advance_time():
    """Brian2's rule: time advances by each duration; a step runs when a run reaches its start."""
    defaultclock.dt = 0.1 * ms
    G = NeuronGroup(1, "dv/dt = 1/second : 1", method="euler")
    for _ in range(10):
        run(0.04 * ms)
    assert abs(float(magic_network.t / ms) - 0.4) < 1e-9
    # steps 0..3 started within the first 0.4 ms: v grew by 4 steps of dt
    assert G.v[0] == pytest.approx(4 * 0.1e-3)


@pytest.mark.parametrize("duration", [np.nan * ms, np.inf * ms, -1 * ms])
def test_a_duration_that_is_not_finite_and_non_negative_is_refused(duration):
    NeuronGroup(1, "v : 1")
    with pytest.raises(ValueError, match="finite, non-negative duration"):
        run(duration)
    assert magic_network.t == 0 * ms


def test_clocks_must_be_multiples_of_the_smallest():
    class FakeClock:
        def __init__(self, name, dt_):
            self.name, self.dt_ = name, dt_

    assert pipeline.base_time_step([FakeClock("a", 2e-4), FakeClock("b", 1e-4)]) == 1e-4
    with pytest.raises(NotImplementedError, match="b .* not a multiple"):
        pipeline.base_time_step([FakeClock("a", 1e-4), FakeClock("b", 1.5e-4)])

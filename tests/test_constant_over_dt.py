"""Subexpressions flagged ``(constant over dt)``: computed once per time step, before anything
else of the step, and read as they are by the state update, threshold, synapses and monitors
(Brian2's semantics); other subexpressions may not draw random numbers."""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen.equations import EquationError


@pytest.mark.parametrize("method", ["euler", "rk2", "heun", "rk4"])
def test_the_value_a_monitor_records_is_the_one_the_step_used(method):
    # dv/dt = x/ms with x drawn once per step: each step adds exactly x*dt/ms, whatever the
    # method's number of stages (without the flag each stage would draw another x)
    G = NeuronGroup(
        4,
        "dv/dt = x/ms : 1\nx = rand() : 1 (constant over dt)\ny = 2*x : 1",
        method=method,
    )
    M = StateMonitor(G, ["v", "x", "y"], record=True)
    run(2 * ms)
    steps = np.diff(M.v, axis=1)
    assert np.allclose(steps, 0.1 * M.x[:, :-1], rtol=1e-12, atol=0)
    assert np.array_equal(M.y, 2 * M.x)  # a subexpression using it reads the stored value
    assert 0.3 < M.x.mean() < 0.7 and np.unique(M.x).size == M.x.size  # drawn anew each step
    assert G.x[:].tolist() == M.x[:, -1].tolist()  # the value of the last step


def test_threshold_and_synapses_read_the_same_value():
    G = NeuronGroup(
        50,
        "x = rand() : 1 (constant over dt)\nseen : 1",
        threshold="x > 0.8",
        reset="seen = x",
    )
    target = NeuronGroup(1, "total : 1")
    S = Synapses(G, target, "w = x_pre : 1 (constant over dt)", on_pre="total_post += w")
    S.connect()
    spikes = SpikeMonitor(G)
    run(0.1 * ms)  # one step: what spiked had x > 0.8, and its synapse passed on that x
    fired = spikes.i[:]
    assert fired.size > 0
    assert np.all(G.seen[fired] > 0.8)
    assert np.all(G.seen[np.setdiff1d(np.arange(50), fired)] == 0)
    assert target.total[0] == pytest.approx(G.seen[fired].sum(), rel=1e-12)
    assert np.allclose(S.w[:], G.x[:])


def test_random_subexpressions_need_the_flag():
    with pytest.raises(EquationError, match=r"'noisy'.*x = rand\(\).*\(constant over dt\)"):
        NeuronGroup(1, "dv/dt = -v/ms + x/ms : 1\nx = rand() : 1", name="noisy")
    G = NeuronGroup(1, "v : 1")
    with pytest.raises(EquationError, match="constant over dt"):
        Synapses(G, G, "w = randn() : 1")
    with pytest.raises(EquationError, match="in a circle"):
        NeuronGroup(1, "a = b + rand() : 1 (constant over dt)\nb = a : 1 (constant over dt)")

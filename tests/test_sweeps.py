"""Parameter sweeps (spikeforge.sweep): runs in order, seeds per run, failures kept with their
parameters, results saved as they finish and not made again, and Dask workers that give the
same results as this process and compile nothing the first run did not."""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.sweeps import SweepWarning, load_sweep, parameter_grid, sweep


def test_a_grid_is_every_combination_with_the_last_name_fastest():
    assert parameter_grid({"a": [1, 2], "b": ["x", "y", "z"]}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]
    taus = parameter_grid({"tau": [5, 10] * ms})
    assert [p["tau"] for p in taus] == [5 * ms, 10 * ms]
    with pytest.raises(TypeError, match="list of values"):
        parameter_grid({"a": 3})
    with pytest.raises(TypeError, match="grid= .* or runs="):
        sweep(lambda: None)
    with pytest.raises(TypeError, match="identifiers"):
        sweep(lambda **kw: None, runs=[{"not a name": 1}], workers=0)


def _leaky(tau, rate):
    """Poisson input into one leaky neuron: returns the spike count and the mean of v."""
    P = PoissonGroup(20, rates=rate)
    G = NeuronGroup(1, "dv/dt = -v/tau : 1", threshold="v > 1", reset="v = 0", method="exact")
    S = Synapses(P, G, on_pre="v += 0.2")
    S.connect()
    spikes = SpikeMonitor(G)
    trace = StateMonitor(G, "v", record=0)
    run(50 * ms)
    if rate > 900 * Hz and tau > 15 * ms:
        raise RuntimeError("too fast")
    return spikes.num_spikes, float(np.mean(trace.v[0]))


def test_runs_come_back_in_order_seeded_and_failures_keep_their_parameters(tmp_path):
    grid = {"tau": [5, 20] * ms, "rate": [100, 1000] * Hz}
    with pytest.warns(SweepWarning, match=r"1 of 4 runs failed.*run 3.*too fast"):
        results = sweep(_leaky, grid=grid, seed=3, workers=0, progress=False)
    assert [run.parameters for run in results] == parameter_grid(grid)
    failed = results.failed
    assert [run.index for run in failed] == [3] and "RuntimeError: too fast" in failed[0].error
    assert "raise RuntimeError" in failed[0].traceback
    counts = [run.value[0] for run in results[:3]]
    # more input and a longer time constant give more spikes
    assert counts[0] < counts[1] and counts[0] < counts[2]
    # seeded per run: the same again, and another seed gives other numbers
    with pytest.warns(SweepWarning):
        again = sweep(_leaky, grid=grid, seed=3, workers=0, progress=False)
    assert again.values[:3] == results.values[:3]
    with pytest.warns(SweepWarning):
        other = sweep(_leaky, grid=grid, seed=4, workers=0, progress=False)
    assert other.values[:3] != results.values[:3]
    # each run starts with a fresh scope and its own seed: run 2 alone gives what it gave
    alone = sweep(_leaky, runs=[grid_run(2, grid)], seed=3 + 2, workers=0, progress=False)
    assert alone.values[0] == results.values[2]


def grid_run(k, grid):
    return parameter_grid(grid)[k]


def test_saved_runs_are_not_made_again(tmp_path):
    calls = []

    def square(x):
        calls.append(x)
        if x == 2:
            raise ValueError("two")
        return x * x

    with pytest.warns(SweepWarning):
        first = sweep(square, grid={"x": range(4)}, workers=0, save_to=tmp_path, progress=False)
    assert calls == [0, 1, 2, 3]
    assert [run.value for run in load_sweep(tmp_path)] == first.values == [0, 1, None, 9]
    # again with the same folder: only the failed run is made again
    with pytest.warns(SweepWarning):
        second = sweep(square, grid={"x": range(4)}, workers=0, save_to=tmp_path, progress=False)
    assert calls == [0, 1, 2, 3, 2] and second.values == first.values
    # other parameters at the same places are made anew
    third = sweep(square, grid={"x": [5, 6]}, workers=0, save_to=tmp_path, progress=False)
    assert third.values == [25, 36]


def test_dask_workers_give_the_same_runs_and_compile_only_in_the_first():
    pytest.importorskip("distributed")
    grid = {"tau": [5, 10, 20] * ms, "rate": [100, 300] * Hz}
    local = sweep(_leaky, grid=grid, seed=11, workers=0, progress=False)
    spread = sweep(_leaky, grid=grid, seed=11, workers=2, progress=False)
    assert spread.values == local.values
    # every module the sweep needs comes from the cache after the first run
    assert all(not run.compiled for run in spread[1:])

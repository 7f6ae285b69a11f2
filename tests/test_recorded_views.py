"""Monitors' recorded times and rates read as Brian2's views do: indexing, arithmetic and
subclass-keeping NumPy functions give quantities, reductions give plain SI values (Brian2's
Spreizer et al. 2019 example divides spike counts by np.max(mon.t) - np.min(mon.t))."""

import numpy as np
import pytest

from spikeforge.only import *


def test_times_and_rates_read_like_brian2s_views():
    G = NeuronGroup(3, "dv/dt = 1/ms : 1", threshold="v > 1", reset="v = 0", method="euler")
    spikes = SpikeMonitor(G)
    state = StateMonitor(G, "v", record=True)
    rate = PopulationRateMonitor(G)
    run(5 * ms)
    t = spikes.t
    n = spikes.num_spikes
    assert n > 3 and len(t) == n and t.shape == (n,)
    # quantities from indexing, arithmetic and np.diff
    assert t[0] == spikes.t_[0] * second and isinstance(t[:2], Quantity)
    assert np.allclose(t / ms, spikes.t_ * 1000)
    assert np.allclose(np.diff(state.t), 0.1 * ms) and isinstance(np.diff(state.t), Quantity)
    # reductions give seconds as plain numbers, so counts / span is a plain rate array
    span = np.max(t) - np.min(t)
    assert not isinstance(span, Quantity)
    assert span == pytest.approx(spikes.t_.max() - spikes.t_.min(), abs=0)
    _, counts = np.unique(spikes.i, return_counts=True)
    assert not isinstance(counts / span, Quantity)
    assert float(np.max(rate.rate)) == pytest.approx(10000.0)  # all 3 spike in one step
    assert isinstance(rate.rate[:], Quantity) and rate.rate[:].dim == Hz.dim
    assert np.asarray(state.t).dtype == float and not isinstance(np.asarray(state.t), Quantity)
    with pytest.raises(DimensionMismatchError):
        state.t + 1  # arithmetic keeps the unit


def test_len_of_a_monitor_counts_its_records_as_in_brian2():
    # Brian2's first tutorial weighs a histogram by ones(len(spikemon)).
    G = NeuronGroup(
        5, "dv/dt = (1.5 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact"
    )
    G.v = "i*0.2"
    spikes = SpikeMonitor(G)
    counted = SpikeMonitor(G, record=False)
    state = StateMonitor(G, "v", record=[0, 1])
    rate = PopulationRateMonitor(G)
    run(20 * ms)
    n = spikes.num_spikes
    assert n > 5
    assert len(spikes) == spikes.N == len(spikes.t) == n
    assert len(counted) == counted.N == n  # events are counted without being recorded
    assert len(state) == state.N == len(rate) == rate.N == 200
    assert spikes.get_states(["N"])["N"] == n and counted.get_states(["N"])["N"] == n

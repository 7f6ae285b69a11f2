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


def _one_spike_at_1ms():
    G = SpikeGeneratorGroup(2, [1], [1] * ms)
    rate = PopulationRateMonitor(G)
    spikes = SpikeMonitor(G)
    run(3 * ms)
    return rate, spikes, int(round(float(1 * ms / defaultclock.dt)))


def test_smoothing_windows_spread_one_spike_as_brian2s_do():
    rate, spikes, k = _one_spike_at_1ms()
    dt = float(defaultclock.dt)
    peak = 1 / dt / 2  # one of the two neurons in one step
    assert rate.rate_[k] == pytest.approx(peak) and np.count_nonzero(rate.rate_) == 1
    # flat: width rounded to an odd number of steps (5.4 steps -> 7), centred on the spike
    flat = rate.smooth_rate("flat", 5.4 * defaultclock.dt) / Hz
    expected = np.zeros(len(flat))
    expected[k - 3 : k + 4] = peak / 7
    np.testing.assert_allclose(flat, expected, rtol=1e-12, atol=1e-9)
    # gaussian: standard deviation `width`, cut at two of them to each side
    gaussian = rate.smooth_rate("gaussian", 5 * defaultclock.dt) / Hz
    offsets = np.arange(-10, 11)
    bell = np.exp(-(offsets**2) / 50.0)
    assert np.all(gaussian[: k - 10] == 0) and np.all(gaussian[k + 11 :] == 0)
    np.testing.assert_allclose(gaussian[k - 10 : k + 11], peak * bell / bell.sum(), rtol=1e-12)
    # an array of weights is normalised; the same flat window twice gives the same result
    np.testing.assert_allclose(
        rate.smooth_rate(np.ones(5)), rate.smooth_rate("flat", 5 * defaultclock.dt)
    )
    # per neuron from the spike monitor: neuron 1 carries the whole spike, neuron 0 nothing
    per_neuron = spikes.smooth_rate("flat", 5.4 * defaultclock.dt) / Hz
    assert per_neuron.shape == (2, len(flat))
    np.testing.assert_allclose(per_neuron[1], 2 * expected, atol=1e-9)
    assert not per_neuron[0].any()
    for window, width, error in [
        ("flat", None, TypeError),
        (np.ones(4), None, TypeError),
        (np.ones(3), 1 * ms, TypeError),
        ("flat", 1 * mV, DimensionMismatchError),
    ]:
        with pytest.raises(error):
            rate.smooth_rate(window, width)


def test_binned_rates_count_spikes_per_bin():
    G = SpikeGeneratorGroup(3, [0, 0, 1, 1, 2, 2], [10, 30, 20, 40, 50, 95] * ms)
    spikes = SpikeMonitor(G)
    rate = PopulationRateMonitor(G)
    run(90 * ms)  # the spike at 95 ms is not reached; 90 ms makes 4 whole bins of 20 ms
    bins, rates = spikes.binned_rate(20 * ms)
    np.testing.assert_allclose(bins / ms, [0, 20, 40, 60])
    counts = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0]])
    np.testing.assert_allclose(rates / Hz, counts / 0.02)
    # the population rate in a bin is the mean over its steps: spikes / (N * bin size)
    bins, population = rate.binned_rate(20 * ms)
    np.testing.assert_allclose(bins / ms, [0, 20, 40, 60])
    np.testing.assert_allclose(population / Hz, counts.sum(axis=0) / 3 / 0.02)
    # a bin of one step gives the recorded rate itself
    np.testing.assert_allclose(rate.binned_rate(defaultclock.dt)[1], rate.rate)
    with pytest.raises(ValueError, match="whole multiple of dt"):
        rate.binned_rate(0.15 * ms)


def test_a_state_monitor_indexed_by_a_list_gives_one_row_per_neuron():
    G = NeuronGroup(10, "v : volt")
    G.v = np.arange(10) * volt
    mon = StateMonitor(G, "v", record=[5, 6, 7])
    run(2 * defaultclock.dt)
    np.testing.assert_array_equal(mon[[5, 7]].v, mon.v[[0, 2]])
    np.testing.assert_array_equal(mon[np.array([7, 5])].v_, mon.v_[[2, 0]])
    for index in ["string", 5.0, [5.0, 6.0]]:
        with pytest.raises(TypeError):
            mon[index]
    with pytest.raises(IndexError):
        mon[[5, 8]]

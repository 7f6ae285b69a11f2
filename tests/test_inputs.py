"""Spike sources: ``PoissonGroup`` statistics and ``SpikeGeneratorGroup`` spike for spike.

Statistical bounds are 5.5 standard deviations (or wider), so that each test fails with a
probability below 1e-6 for any seed; ``seed()`` makes the runs reproducible.
"""

import warnings

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen.expressions import ExpressionError
from spikeforge.units import DimensionMismatchError

#: Standard deviations allowed per statistical check (two-sided tail 3.8e-8 each).
Z = 5.5


def binomial_bound(trials, p):
    """Mean and allowed deviation of a binomial count."""
    return trials * p, Z * np.sqrt(trials * p * (1 - p))


# PoissonGroup -------------------------------------------------------------------------------------
def test_poisson_rate_and_fano_factor():
    seed(11)
    P = PoissonGroup(1000, 50 * Hz)
    mon = SpikeMonitor(P)
    rate = PopulationRateMonitor(P)
    run(1 * second)
    steps = 10000
    mean, allowed = binomial_bound(1000 * steps, 50 * 1e-4)
    assert abs(mon.num_spikes - mean) < allowed
    counts = mon.count
    # counts ~ Binomial(1e4, 0.005): Fano factor 0.995; the estimate over 1000 neurons has a
    # standard deviation of 0.045, so 0.3 is more than 6.5 of them
    fano = counts.var(ddof=1) / counts.mean()
    assert abs(fano - 0.995) < 0.3
    assert len(rate.rate) == steps
    assert np.mean(rate.rate / Hz) == pytest.approx(mon.num_spikes / 1000, rel=1e-12)
    np.testing.assert_allclose(P.rates[:] / Hz, 50)


def test_poisson_array_rates():
    seed(3)
    rates = np.repeat([0, 20, 50, 100], 100) * Hz
    P = PoissonGroup(400, rates)
    mon = SpikeMonitor(P)
    run(1 * second)
    counts = mon.count.reshape(4, 100).sum(axis=1)
    assert counts[0] == 0
    for count, rate in zip(counts[1:], (20, 50, 100)):
        mean, allowed = binomial_bound(100 * 10000, rate * 1e-4)
        assert abs(count - mean) < allowed, (rate, count, mean)
    np.testing.assert_allclose(P.rates[:] / Hz, rates / Hz)


def test_poisson_rates_can_change_between_runs():
    seed(5)
    P = PoissonGroup(200, 0 * Hz)
    mon = SpikeMonitor(P)
    run(100 * ms)
    assert mon.num_spikes == 0
    P.rates = 100 * Hz
    run(1 * second)
    mean, allowed = binomial_bound(200 * 10000, 0.01)
    assert abs(mon.num_spikes - mean) < allowed
    assert mon.t[:].min() >= 100 * ms


def test_poisson_string_rate_depends_on_index_and_time():
    seed(7)
    r0, T = 100 * Hz, 1 * second
    P = PoissonGroup(200, "(i % 2 + 1)*r0*t/T")
    mon = SpikeMonitor(P)
    run(1 * second)
    dt = 1e-4
    step_times = np.arange(10000) * dt

    def expected_count(factor, steps):
        # 100 neurons, each spiking in a step with probability factor*r0*t/T*dt
        return 100 * (factor * 100.0 * step_times[steps] * dt).sum()

    # sums of Bernoulli trials: the variance is at most the mean
    i, t = mon.i, mon.t_
    every_step = np.ones(10000, dtype=bool)
    for parity, factor in ((0, 1), (1, 2)):
        mean = expected_count(factor, every_step)
        count = np.count_nonzero(i % 2 == parity)
        assert abs(count - mean) < Z * np.sqrt(mean), (parity, count, mean)
    # the rate grows with time: three times as many spikes in the second half
    first_half = step_times < 0.5
    for steps, selected in ((first_half, t < 0.5), (~first_half, t >= 0.5)):
        mean = expected_count(1, steps) + expected_count(2, steps)
        assert abs(np.count_nonzero(selected) - mean) < Z * np.sqrt(mean)
    # read at the end of the run (t = 1 s)
    np.testing.assert_allclose(P.rates[:] / Hz, np.where(np.arange(200) % 2, 200, 100))


def test_poisson_group_drives_a_neuron_group_through_its_spikes():
    P = PoissonGroup(5, 1 / defaultclock.dt)  # rates*dt = 1: a spike in every step
    mon = SpikeMonitor(P)
    run(1 * ms)
    assert mon.num_spikes == 50
    np.testing.assert_array_equal(P.spikes, np.arange(5))


def test_poisson_errors_name_the_group():
    with pytest.raises(DimensionMismatchError, match="PoissonGroup 'noise'.*Hz"):
        PoissonGroup(10, 5 * mV, name="noise")
    with pytest.raises(ValueError, match="PoissonGroup 'noise2'.*10 values"):
        PoissonGroup(10, [1, 2, 3] * Hz, name="noise2")
    with pytest.raises(ExpressionError, match="PoissonGroup 'noise3'"):
        PoissonGroup(10, "5*Hz +", name="noise3")
    start_scope()
    P = PoissonGroup(10, "5*mV", name="noise4")
    with pytest.raises(ExpressionError, match="PoissonGroup 'noise4', rates"):
        run(1 * ms)


# SpikeGeneratorGroup ------------------------------------------------------------------------------
def monitored(spikes):
    return np.asarray(spikes.i), np.round(spikes.t_ / defaultclock.dt_).astype(int)


def random_pattern(rng, N, n_steps, count):
    """``count`` distinct (neuron, step) pairs, with times anywhere inside their step."""
    cells = rng.choice(N * n_steps, size=count, replace=False)
    indices, steps = cells % N, cells // N
    offsets = rng.uniform(0, 0.99, size=count)
    offsets[: count // 4] = 0  # some exactly on the grid, as floating point products
    times = (steps + offsets) * 0.1 * ms
    order = np.lexsort((indices, steps))
    return indices, times, indices[order], steps[order]


def test_spike_generator_emits_exactly_the_given_spikes():
    rng = np.random.default_rng(1)
    indices, times, expected_i, expected_steps = random_pattern(rng, 20, 100, 300)
    G = SpikeGeneratorGroup(20, indices, times)
    spikes = SpikeMonitor(G)
    run(10 * ms)
    i, steps = monitored(spikes)
    np.testing.assert_array_equal(steps, expected_steps)
    np.testing.assert_array_equal(i, expected_i)
    np.testing.assert_allclose(spikes.t_, expected_steps * 1e-4, rtol=0, atol=1e-15)


def test_spike_times_are_binned_like_brian2():
    # int((t + 1e-3*dt)/dt): 0.15 ms and 0.2499 ms stay in steps 1 and 2 (Brian2 2.11 gives
    # i = [1, 0, 2, 0] at t = [0, 0.1, 0.2, 0.9] ms for this input)
    G = SpikeGeneratorGroup(3, [0, 1, 2, 0], [0.15, 0.05, 0.2499, 0.96] * ms)
    spikes = SpikeMonitor(G)
    run(1 * ms)
    np.testing.assert_array_equal(spikes.i, [1, 0, 2, 0])
    np.testing.assert_allclose(spikes.t / ms, [0, 0.1, 0.2, 0.9], atol=1e-12)


def test_spike_generator_across_successive_runs():
    rng = np.random.default_rng(2)
    indices, times, expected_i, expected_steps = random_pattern(rng, 10, 100, 200)
    G = SpikeGeneratorGroup(10, indices, times)
    spikes = SpikeMonitor(G)
    run(3.35 * ms)  # 34 steps
    assert np.all(monitored(spikes)[1] < 34)
    run(2 * ms)
    run(4.65 * ms)
    i, steps = monitored(spikes)
    np.testing.assert_array_equal(steps, expected_steps)
    np.testing.assert_array_equal(i, expected_i)


def test_set_spikes_between_runs():
    G = SpikeGeneratorGroup(4, [0, 1], [0.2, 0.5] * ms, name="stim")
    spikes = SpikeMonitor(G)
    run(1 * ms)
    G.set_spikes([3, 2, 0], [1.5, 1.0, 1.5] * ms)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(1 * ms)
    i, steps = monitored(spikes)
    np.testing.assert_array_equal(i, [0, 1, 2, 0, 3])
    np.testing.assert_array_equal(steps, [2, 5, 10, 15, 15])
    # spikes dated before the current time are ignored, with a warning
    G.set_spikes([0, 1], [1.0, 2.5] * ms)
    with pytest.warns(UserWarning, match="'stim'.*1 spike"):
        run(1 * ms)
    i, steps = monitored(spikes)
    np.testing.assert_array_equal(i[-1:], [1])
    np.testing.assert_array_equal(steps[-1:], [25])
    assert G.spike_time[0] == 1.0 * ms


def test_spike_generator_with_period_matches_brian2():
    # Brian2 2.11 gives exactly these spikes (and continues them the same way across runs)
    G = SpikeGeneratorGroup(3, [0, 1, 2], [0.0, 0.2, 0.35] * ms, period=0.5 * ms)
    spikes = SpikeMonitor(G)
    run(1.3 * ms)
    np.testing.assert_array_equal(spikes.i, [0, 1, 2, 0, 1, 2, 0, 1])
    np.testing.assert_allclose(spikes.t / ms, [0, 0.2, 0.3, 0.5, 0.7, 0.8, 1.0, 1.2], atol=1e-12)
    run(0.75 * ms)
    np.testing.assert_array_equal(spikes.i[8:], [2, 0, 1, 2, 0])
    np.testing.assert_allclose(spikes.t[8:] / ms, [1.3, 1.5, 1.7, 1.8, 2.0], atol=1e-12)
    assert G.period == 0.5 * ms


def test_period_repeats_a_random_pattern_across_runs():
    rng = np.random.default_rng(4)
    indices, times, expected_i, expected_steps = random_pattern(rng, 8, 30, 60)
    G = SpikeGeneratorGroup(8, indices, times, period=3 * ms)
    spikes = SpikeMonitor(G)
    for duration in (1.05, 4.0, 2.0, 2.95):  # 10 ms in all, ends of runs inside a period
        run(duration * ms)
    i, steps = monitored(spikes)
    repeats = [(expected_i, expected_steps + 30 * k) for k in range(4)]
    all_i = np.concatenate([r[0] for r in repeats])
    all_steps = np.concatenate([r[1] for r in repeats])
    keep = all_steps < 100
    np.testing.assert_array_equal(steps, all_steps[keep])
    np.testing.assert_array_equal(i, all_i[keep])


def test_spike_generator_follows_a_change_of_dt():
    G = SpikeGeneratorGroup(2, [0, 1, 0], [0.5, 1.25, 1.5] * ms)
    spikes = SpikeMonitor(G)
    run(1 * ms)
    defaultclock.dt = 0.05 * ms
    run(1 * ms)
    np.testing.assert_array_equal(spikes.i, [0, 1, 0])
    np.testing.assert_allclose(spikes.t / ms, [0.5, 1.25, 1.5], atol=1e-12)


def test_spike_generator_is_a_source_for_rate_monitors():
    G = SpikeGeneratorGroup(4, [0, 1, 2, 3], [0, 0, 0.1, 0.3] * ms)
    rate = PopulationRateMonitor(G)
    run(0.5 * ms)
    np.testing.assert_allclose(rate.rate / Hz, [5000, 2500, 0, 2500, 0])
    assert len(G.spikes) == 0


def test_two_spikes_of_a_neuron_in_one_step_are_an_error():
    G = SpikeGeneratorGroup(3, [0, 0], [0.01, 0.03] * ms, name="twice")
    with pytest.raises(ValueError, match="'twice'.*neuron 0 spikes more than once"):
        run(1 * ms)
    # also when other spikes lie between them in time (Brian2 misses this case)
    start_scope()
    G = SpikeGeneratorGroup(3, [0, 1, 0], [0.01, 0.02, 0.03] * ms, name="twice2")
    with pytest.raises(ValueError, match="'twice2'.*neuron 0"):
        run(1 * ms)
    # a smaller dt separates them
    start_scope()
    G = SpikeGeneratorGroup(3, [0, 0], [0.01, 0.03] * ms)
    spikes = SpikeMonitor(G)
    defaultclock.dt = 0.01 * ms
    run(0.1 * ms)
    np.testing.assert_array_equal(spikes.i, [0, 0])


@pytest.mark.parametrize(
    "indices, times, error, message",
    [
        ([-1, 0], [1, 2] * ms, ValueError, r"indices must lie in 0\.\.4.*-1"),
        ([0, 5], [1, 2] * ms, ValueError, r"indices must lie in 0\.\.4.*5"),
        ([0, 1, 2], [1, 2] * ms, ValueError, "same length.*3 indices and 2 times"),
        ([0, 1], [1, 2], DimensionMismatchError, "units of time"),
        ([0, 1], [1, 2] * mV, DimensionMismatchError, "units of time"),
        ([0, 1], [1, -2] * ms, ValueError, "cannot be negative"),
        ([0.5, 1], [1, 2] * ms, TypeError, "indices must be integers"),
    ],
)
def test_bad_spikes_give_clear_errors(indices, times, error, message):
    with pytest.raises(error, match=f"SpikeGeneratorGroup 'input'.*{message}"):
        SpikeGeneratorGroup(5, indices, times, name="input")


def test_bad_spikes_in_set_spikes_and_bad_periods():
    G = SpikeGeneratorGroup(5, [], [] * ms, name="source")
    with pytest.raises(ValueError, match="'source'.*must lie in"):
        G.set_spikes([7], [1] * ms)
    with pytest.raises(ValueError, match="'source'.*period cannot be negative"):
        G.set_spikes([1], [1] * ms, period=-1 * ms)
    with pytest.raises(DimensionMismatchError, match="'source'.*period must be a time"):
        G.set_spikes([1], [1] * ms, period=1)
    with pytest.raises(ValueError, match="'source'.*earlier than the period"):
        G.set_spikes([1], [1] * ms, period=1 * ms)
    with pytest.raises(ValueError, match="'source'.*shorter than dt"):
        G.set_spikes([1], [0.01] * ms, period=0.05 * ms)
    with pytest.raises(ValueError, match="'source'.*whole number of time steps"):
        G.set_spikes([1], [0.1] * ms, period=0.25 * ms)
    # an empty generator runs and never spikes
    spikes = SpikeMonitor(G)
    run(1 * ms)
    assert spikes.num_spikes == 0


def test_generators_on_their_own_clock_bin_and_draw_in_its_steps():
    # dt = 0.2 ms: 0.3 ms falls into the step starting at 0.2 ms, 0.5 ms into 0.4 ms
    generator = SpikeGeneratorGroup(2, [0, 1, 0], [0.3, 0.5, 1.0] * ms, dt=0.2 * ms)
    poisson = PoissonGroup(1000, 500 * Hz, dt=1 * ms)  # p = 0.5 per step of 1 ms
    target = NeuronGroup(2, "v : 1")  # on defaultclock (0.1 ms)
    S = Synapses(generator, target, on_pre="v += 1")
    S.connect(j="i")
    generated, drawn = SpikeMonitor(generator), SpikeMonitor(poisson)
    trace = StateMonitor(target, "v", record=0)
    run(2 * ms)
    np.testing.assert_allclose(generated.t / ms, [0.2, 0.4, 1.0])
    np.testing.assert_array_equal(generated.i, [0, 1, 0])
    np.testing.assert_array_equal(target.v[:], [2, 1])
    # each spike is delivered once, in the step it is emitted in (steps 2 and 10 of 0.1 ms),
    # which the monitor (at the start of each step) sees from the next step on
    np.testing.assert_array_equal(np.diff(trace.v[0]).nonzero()[0] + 1, [3, 11])
    # Poisson spikes only at the starts of its 1 ms steps, each neuron with p = 0.5
    np.testing.assert_allclose(np.unique(drawn.t / ms), [0, 1])
    assert abs(drawn.num_spikes - 1000) < 5 * np.sqrt(500)

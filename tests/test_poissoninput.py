"""``PoissonInput``: binomial event counts added to a target variable.

The counts are compared with the exact binomial distribution (chi-square over the whole
distribution, mean and Fano factor) in both regimes of the sampler (inversion for small ``N*p``,
BTRD rejection for large ``N*p``) and for ``p > 1/2`` (mirrored draws).  Statistical bounds are
5.5 standard deviations, so each check fails with a probability below about 1e-7 for any seed;
``seed()`` makes the runs reproducible.
"""

import math

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache
from spikeforge.codegen.expressions import ExpressionError
from spikeforge.runtime import containers
from spikeforge.units import DimensionMismatchError

Z = 5.5


def binomial_pmf(n, p):
    k = np.arange(n + 1)
    log_choose = np.array(
        [math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1) for x in k]
    )
    return np.exp(log_choose + k * np.log(p) + (n - k) * np.log1p(-p))


def chi_square_limit(dof, z=Z):
    """The upper ``z``-sigma quantile of a chi-square distribution (Wilson-Hilferty)."""
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


def check_binomial_sample(counts, n, p):
    """Chi-square, mean and variance of ``counts`` against Binomial(n, p)."""
    size = len(counts)
    assert counts.min() >= 0 and counts.max() <= n
    assert np.all(counts == np.round(counts))
    counts = counts.astype(np.int64)
    expected = binomial_pmf(n, p) * size
    observed = np.bincount(counts, minlength=n + 1)
    # merge the sparse tails into one bin each side, so that every bin expects at least 10
    keep = np.flatnonzero(expected >= 10)
    low, high = keep[0], keep[-1]
    observed = np.concatenate(
        ([observed[:low].sum()], observed[low : high + 1], [observed[high + 1 :].sum()])
    )
    expected = np.concatenate(
        ([expected[:low].sum()], expected[low : high + 1], [expected[high + 1 :].sum()])
    )
    used = expected > 0
    chi2 = np.sum((observed[used] - expected[used]) ** 2 / expected[used])
    dof = used.sum() - 1
    assert chi2 < chi_square_limit(dof), (n, p, chi2, dof)
    mean, variance = n * p, n * p * (1 - p)
    assert abs(counts.mean() - mean) < Z * math.sqrt(variance / size), (n, p, counts.mean())
    # the sample variance: its variance is about (mu4 - variance^2)/size
    mu4 = variance * (1 + 3 * (n - 2) * p * (1 - p))
    allowed = Z * math.sqrt((mu4 - variance**2) / size)
    assert abs(counts.var(ddof=1) - variance) < allowed, (n, p, counts.var(ddof=1), variance)
    fano = counts.var(ddof=1) / counts.mean()
    assert fano == pytest.approx(1 - p, abs=allowed / mean + 1e-12)


# (N, rate): p = rate*dt with dt = 0.1 ms
CASES = [
    (5, 3000 * Hz),  # N*p = 1.5: inversion
    (100, 900 * Hz),  # N*p = 9: inversion, just below the switch
    (100, 1100 * Hz),  # N*p = 11: BTRD, close to the mode (recursive acceptance)
    (10000, 4000 * Hz),  # N*p = 4000: BTRD, squeeze and final acceptance in the tails
    (50, 8000 * Hz),  # p = 0.8: BTRD for 1 - p, mirrored
    (7, 9000 * Hz),  # p = 0.9: inversion for 1 - p, mirrored
    (3, 10000 * Hz),  # p = 1: always N
]


def test_counts_follow_the_binomial_distribution_in_every_regime():
    seed(21)
    size = 40000
    model = "\n".join(f"x{k} : 1" for k in range(len(CASES)))
    G = NeuronGroup(size, model)
    inputs = [PoissonInput(G, f"x{k}", n, rate, weight=1) for k, (n, rate) in enumerate(CASES)]
    run(defaultclock.dt)  # one step: x_k holds one draw per neuron
    for k, (n, rate) in enumerate(CASES):
        p = float(rate * defaultclock.dt)
        counts = getattr(G, f"x{k}")[:]
        if p == 1:
            np.testing.assert_array_equal(counts, n)
        else:
            check_binomial_sample(counts, n, p)
    # the inputs of different variables and neurons are independent
    correlation = np.corrcoef(G.x2[:], G.x3[:])[0, 1]
    assert abs(correlation) < Z / math.sqrt(size)
    assert inputs[0].N == 5 and inputs[0].rate == 3000 * Hz and inputs[0].target_var == "x0"


def test_integrator_accumulates_mean_and_variance_of_the_input():
    seed(4)
    size, n, rate, w = 2000, 200, 20 * Hz, 0.1 * mV
    G = NeuronGroup(size, "v : volt")
    P = PoissonInput(G, "v", n, rate, weight=w)
    H = NeuronGroup(size, "u : volt\nscale : 1")
    H.scale = np.arange(size) % 3
    Q = PoissonInput(H, "u", n, rate, weight="scale*w")  # a string: evaluated per target neuron
    run(100 * ms)
    steps = 1000
    p = float(rate * defaultclock.dt)
    counts = np.asarray(G.v[:] / w)
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
    # v/w ~ Binomial(n*steps, p): a sum of one binomial per step
    check_binomial_sample(np.round(counts), n * steps, p)
    u = np.asarray(H.u[:] / w)
    assert np.all(u[0::3] == 0)
    for factor in (1, 2):
        share = np.round(u[factor::3] / factor)
        mean, sd = n * steps * p, math.sqrt(n * steps * p * (1 - p) / len(share))
        assert abs(share.mean() - mean) < Z * sd


def test_input_runs_in_the_synapses_slot_and_ignores_refractoriness():
    G = NeuronGroup(
        1, "v : 1", threshold="v > 0.5", reset="v = 0", refractory=1 * ms, name="target"
    )
    P = PoissonInput(G, "v", 10, 10 * kHz, weight=1, name="drive")  # p = 1: exactly 10 events
    before = StateMonitor(G, "v", record=0, when="before_thresholds", name="before")
    after = StateMonitor(G, "v", record=0, when="after_synapses", name="after")
    spikes = SpikeMonitor(G)
    run(0.3 * ms)
    # step 1: spike, input (synapses slot), reset (resets slot, later);
    # step 2: refractory, but the input still arrives
    np.testing.assert_array_equal(before.v[0], [0, 10, 0])
    np.testing.assert_array_equal(after.v[0], [10, 20, 10])
    assert spikes.num_spikes == 1
    lines = magic_network.scheduling_summary().splitlines()
    assert [line.split()[0] for line in lines][3] == "drive"
    assert "when=synapses" in lines[3]
    assert "PoissonInput('target', 'v', N=10" in repr(P)


def test_parameters_are_run_time_arguments():
    seed(8)
    G = NeuronGroup(500, "v : volt")
    P = PoissonInput(G, "v", 10, 10 * Hz, weight=1 * mV)
    run(1 * ms)
    compiled = len(cache.statistics.compiled)
    G.v = 0 * mV
    P.N = 1000
    P.rate = 500 * Hz
    P.weight = 2 * mV
    run(10 * ms)
    assert len(cache.statistics.compiled) == compiled
    counts = np.round(np.asarray(G.v[:] / (2 * mV)))
    trials, p = 1000 * 100, 0.05
    mean, sd = trials * p, math.sqrt(trials * p * (1 - p) / 500)
    assert abs(counts.mean() - mean) < Z * sd
    assert P.N == 1000 and P.rate == 500 * Hz and P.weight == 2 * mV
    # a new network with other values in the constructor: the same module
    start_scope()
    seed(9)
    H = NeuronGroup(30, "v : volt")
    P = PoissonInput(H, "v", 77, 3 * kHz, weight=0.5 * mV)
    run(1 * ms)
    assert len(cache.statistics.compiled) == compiled
    # seeded: the same input again
    first = H.v[:]
    start_scope()
    seed(9)
    H = NeuronGroup(30, "v : volt")
    P = PoissonInput(H, "v", 77, 3 * kHz, weight=0.5 * mV)
    run(1 * ms)
    assert np.array_equal(H.v[:], first) and np.any(first > 0 * mV)


def test_units_and_argument_errors():
    G = NeuronGroup(2, "v : volt\ns = 2*v : volt\nc : volt (constant)")
    with pytest.raises(DimensionMismatchError, match="units of the target variable"):
        PoissonInput(G, "v", 10, 5 * Hz, weight=1 * second)
    with pytest.raises(DimensionMismatchError, match="units of the target variable"):
        PoissonInput(G, "v", 10, 5 * Hz, weight=1)
    with pytest.raises(DimensionMismatchError, match="rate"):
        PoissonInput(G, "v", 10, 5 * ms, weight=1 * mV)
    with pytest.raises(DimensionMismatchError, match="rate"):
        PoissonInput(G, "v", 10, 5, weight=1 * mV)
    with pytest.raises(TypeError, match="string expressions are not supported"):
        PoissonInput(G, "v", 10, "5*Hz", weight=1 * mV)
    with pytest.raises(ValueError, match="negative"):
        PoissonInput(G, "v", 10, -5 * Hz, weight=1 * mV)
    with pytest.raises(ValueError, match="single rate"):
        PoissonInput(G, "v", 10, [5, 6] * Hz, weight=1 * mV)
    for bad in (0, 2.5, -3, True, [1, 2]):
        with pytest.raises(ValueError, match="integer of at least 1"):
            PoissonInput(G, "v", bad, 5 * Hz, weight=1 * mV)
    with pytest.raises(DimensionMismatchError, match="plain number"):
        PoissonInput(G, "v", 10 * mV, 5 * Hz, weight=1 * mV)
    with pytest.raises(KeyError, match="not a variable"):
        PoissonInput(G, "x", 10, 5 * Hz, weight=1 * mV)
    for name in ("s", "c", "i"):
        with pytest.raises(ValueError, match="cannot receive input"):
            PoissonInput(G, name, 10, 5 * Hz, weight=1 * mV)
    with pytest.raises(ExpressionError, match="weight"):
        PoissonInput(G, "v", 10, 5 * Hz, weight="1*mV +")
    assert PoissonInput(G, "v", 10.0, 5 * Hz, weight=1 * mV).N == 10
    P = PoissonInput(G, "v", 10, 5 * Hz, weight=1 * mV)
    with pytest.raises(DimensionMismatchError):
        P.weight = 3 * Hz
    start_scope()
    G = NeuronGroup(2, "v : volt")
    P = PoissonInput(G, "v", 10, 5 * Hz, weight="2*second")  # checked when built
    with pytest.raises(ExpressionError, match="weight.*inconsistent units"):
        run(1 * ms)
    start_scope()
    G = NeuronGroup(2, "v : volt")
    P = PoissonInput(G, "v", 10, 20 * kHz, weight=1 * mV)
    with pytest.raises(ValueError, match="rate\\*dt must not exceed 1"):
        run(1 * ms)


@pytest.mark.parametrize("n, p", [(400, 0.005), (100, 0.09), (7, 0.1), (3, 0.95), (10**6, 9e-6)])
def test_the_inversion_table_gives_the_draws_of_the_walk(n, p):
    """The inversion counts the tabulated distribution function below u; a u beyond the table
    walks on by the recursion of the probabilities.  A table of one entry walks every draw from
    the start, as the inversion did before it had a table: both give the same counts (a u would
    have to fall within rounding of a table value to differ) and the binomial moments."""
    module = containers()
    size = 100_000
    table = module.binomial_draws(n, p, size, [7, 3])
    walk = module.binomial_draws(n, p, size, [7, 3], 1)
    short = module.binomial_draws(n, p, size, [7, 3], 2)  # the walk from k = 2
    np.testing.assert_array_equal(table, walk)
    np.testing.assert_array_equal(short, walk)
    check_binomial_sample(table, n, p)

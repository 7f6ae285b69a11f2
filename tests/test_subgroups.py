"""Subgroups (G[a:b]): views of their parent, with indices relative to the subgroup."""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache


def _group(n=10):
    G = NeuronGroup(
        n,
        "dv/dt = (drive - v)/(10*ms) : 1\ndrive : 1\ndouble_v = 2*v : 1",
        threshold="v > 1",
        reset="v = 0",
        method="exact",
        name="cells",
    )
    G.drive = "0.9 + i*0.1"
    return G


def test_a_subgroup_reads_and_writes_its_parents_elements():
    G = _group()
    A, B = G[:4], G[4:]
    assert (len(A), B.N) == (4, 6)
    assert list(B.i[:]) == list(range(6))
    np.testing.assert_allclose(B.drive[:], 0.9 + np.arange(4, 10) * 0.1)
    B.v = "i*0.1"  # i relative to the subgroup, N its size
    A.v[1:3] = 0.5
    B.v["i >= N - 2"] = 0.7
    np.testing.assert_allclose(G.v[:], [0, 0.5, 0.5, 0, 0, 0.1, 0.2, 0.3, 0.7, 0.7])
    np.testing.assert_allclose(B.double_v[:], 2 * G.v[4:])
    assert G[3].N == 1 and G[-1].i[:] == [0] and G[2:8][1:3].drive[0] == G.drive[3]


def test_synapses_monitors_and_inputs_use_subgroup_indices():
    """Synapses from G[:5] onto G[5:] with j='i' deliver each source spike to the element 5
    further on; monitors of a subgroup equal the parent's, filtered and shifted."""
    G = _group()
    counter = NeuronGroup(5, "arrived : 1")
    sources, targets = G[:5], G[5:]
    S = Synapses(sources, counter, on_pre="arrived += 1")
    S.connect(j="i")
    T = Synapses(sources, targets, "w : 1", on_pre="v_post += 0")
    T.connect(condition="i == j")
    parent = SpikeMonitor(G)
    part = SpikeMonitor(targets)
    rate = PopulationRateMonitor(targets)
    trace = StateMonitor(targets, "v", record=[0, 3])
    whole = StateMonitor(G, "v", record=[5, 8])
    run(50 * ms)
    assert list(T.i[:]) == list(range(5)) and list(T.j[:]) == list(range(5))
    np.testing.assert_array_equal(counter.arrived[:], parent.count[:5])
    in_part = parent.i >= 5
    np.testing.assert_array_equal(part.i, parent.i[in_part] - 5)
    np.testing.assert_array_equal(part.t_, parent.t_[in_part])
    np.testing.assert_array_equal(part.count[:], parent.count[5:])
    np.testing.assert_array_equal(trace.v, whole.v)
    steps = np.round(parent.t_[in_part] / 1e-4).astype(int)
    expected = np.bincount(steps, minlength=500)[:500] / 0.1e-3 / 5
    np.testing.assert_allclose(np.asarray(rate.rate), expected)


def test_poisson_input_and_summed_variables_on_a_subgroup():
    G = NeuronGroup(6, "x : 1\ntotal : 1")
    inputs = PoissonInput(G[2:4], "x", 100, 1000 * Hz, weight=1)
    source = NeuronGroup(3, "s : 1")
    source.s = [1, 2, 3]
    S = Synapses(source, G[3:], "total_post = s_pre : 1 (summed)")
    S.connect(j="i")
    run(2 * ms)
    assert np.all(G.x[[0, 1, 4, 5]] == 0) and np.all(G.x[2:4] > 0)
    np.testing.assert_array_equal(G.total[:], [0, 0, 0, 1, 2, 3])


def test_another_slice_compiles_nothing():
    G = _group(20)
    sub = G[2:7]
    mon = SpikeMonitor(sub)
    sub.v = "0.1*i"
    run(1 * ms)
    start_scope()
    G = _group(30)
    sub = G[11:19]
    mon = SpikeMonitor(sub)
    sub.v = "0.1*i"
    before = len(cache.statistics.compiled)
    run(1 * ms)
    assert len(cache.statistics.compiled) == before


def test_store_and_restore_with_subgroups():
    G = _group()
    B = G[5:]
    mon = SpikeMonitor(B)
    net = Network(G, B, mon)
    net.run(10 * ms)
    net.store()
    net.run(20 * ms)
    first = (mon.i.copy(), mon.t_.copy())
    net.restore()
    net.run(20 * ms)
    np.testing.assert_array_equal(first[0], mon.i)
    np.testing.assert_array_equal(first[1], mon.t_)


@pytest.mark.parametrize(
    "item, error, message",
    [
        (slice(0, 10, 2), IndexError, "step 1"),
        (slice(5, 5), IndexError, "selects no element"),
        (12, IndexError, "outside 0..9"),
        ("v > 0", TypeError, "contiguous slice"),
    ],
)
def test_bad_slices_name_the_group(item, error, message):
    G = _group()
    with pytest.raises(error, match=f"NeuronGroup 'cells'.*{message}"):
        G[item]


def test_run_regularly_on_a_subgroup():
    """Only the subgroup's elements change, with i counted from its start."""
    G = NeuronGroup(6, "v : 1")
    G[2:5].run_regularly("v += i + 1", dt=1 * ms)
    run(2 * ms)  # two ticks: t = 0 and 1 ms
    np.testing.assert_array_equal(G.v[:], [0, 0, 2, 4, 6, 0])


def test_synaptic_variables_indexed_by_subgroups_and_missing_indices():
    G1, G2 = NeuronGroup(5, "x : 1"), NeuronGroup(10, "y : 1")
    S = Synapses(G1, G2, "w : 1")
    S.connect()
    S.w[G1[2:5], G2[4:9]] = 1  # subgroups select their neurons, as in Brian2
    inside = (S.i[:] >= 2) & (S.j[:] >= 4) & (S.j[:] < 9)
    np.testing.assert_array_equal(S.w[:], inside.astype(float))
    S.w = 0
    S.w[:, G2[4:9]] = 1
    np.testing.assert_array_equal(S.w[:], ((S.j[:] >= 4) & (S.j[:] < 9)).astype(float))
    # synapses between subgroups: indices count from the subgroups' starts
    sub = Synapses(G1[:3], G2[5:], "w : 1")
    sub.connect()
    assert len(sub.w[G1[:3], G2[5:]]) == sub.N == 15
    assert len(sub.w[G1[1:2], :]) == 5 and len(sub.w[G1, G2]) == 15
    assert len(sub.w[:, 5]) == 0  # no neuron 5 in the target: nothing, as in Brian2
    with pytest.raises(IndexError, match="is not part of"):
        sub.w[NeuronGroup(3, "z : 1"), :]
    assert S.w.shape == (50,) and S.w.ndim == 1 and S.w.dtype == np.float64

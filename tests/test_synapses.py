"""Synapses: delivery steps, connect(), summed and event-driven variables, generated code."""

import math
import re

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache


def source_spiking_at(steps_by_neuron: dict[int, int], N: int):
    """A group whose neuron k spikes once, at time step steps_by_neuron[k]."""
    condition = " or ".join(
        f"(i == {k} and t_in_timesteps == {s})" for k, s in steps_by_neuron.items()
    )
    return NeuronGroup(N, "x : 1", threshold=condition or "False")


def test_each_delay_lands_on_the_rounded_step():
    # Brian2: a delay becomes (int)(delay/dt + 0.5) steps; a spike at step n arrives at n + d
    delays = [0.0, 0.1, 0.25, 0.35, 1.04, 2.0]  # ms, dt = 0.1 ms
    source = source_spiking_at({0: 5}, 1)
    target = NeuronGroup(len(delays), "v : 1")
    S = Synapses(source, target, "arrival : second", on_pre="arrival = t")
    S.connect(i=0, j=np.arange(len(delays)))
    S.delay = np.array(delays) * ms
    S.arrival = -1 * second
    run(5 * ms)
    # computed in seconds, as Brian2 does (0.35 ms / 0.1 ms is a rounding tie)
    expected_steps = 5 + (S.delay[:] / second / (defaultclock.dt / second) + 0.5).astype(int)
    np.testing.assert_allclose(S.arrival[:] / ms, expected_steps * 0.1, atol=1e-12)


def test_homogeneous_delay_and_string_delays():
    source = source_spiking_at({0: 3, 1: 7}, 2)
    target = NeuronGroup(4, "v : 1")
    fixed = Synapses(source, target, "arrival : second", on_pre="arrival = t", delay=1.5 * ms)
    fixed.connect()
    varied = Synapses(source, target, "arrival : second", on_pre="arrival = t")
    varied.connect()
    varied.delay = "(i + j) * 0.3*ms"
    run(5 * ms)
    pre, post = fixed.i[:], fixed.j[:]
    spike_step = np.where(pre == 0, 3, 7)
    np.testing.assert_allclose(fixed.arrival[:] / ms, (spike_step + 15) * 0.1, atol=1e-12)
    assert np.all(fixed.delay[:] == 1.5 * ms)
    steps = np.floor((varied.i[:] + varied.j[:]) * 3 + 0.5).astype(int)
    np.testing.assert_allclose(
        varied.arrival[:] / ms, (np.where(varied.i[:] == 0, 3, 7) + steps) * 0.1, atol=1e-12
    )


def test_uniform_delays_and_synapse_counts_are_stored_only_when_needed():
    # One delay for all synapses, and N_incoming/N_outgoing, take no per-synapse memory until
    # something needs them element by element; the values seen are the same either way.
    source = source_spiking_at({0: 3, 1: 7}, 2)
    target = NeuronGroup(5, "v : 1")
    S = Synapses(source, target, "arrival : second", on_pre="arrival = t", delay=1 * ms)
    S.connect(i=[0, 0, 1, 1, 1], j=[0, 1, 2, 3, 4])
    delay, n_in = S.variables["delay"].dynamic, S.variables["N_incoming"].dynamic
    S.delay = 2 * ms  # one value for all: still not stored per synapse
    run(2 * ms)
    queue = S.pathways[0].queue
    assert not delay.allocated and not n_in.allocated
    assert queue.is_homogeneous and not queue.stores_synapse_order  # sources were grouped
    # new synapses get the pathway's delay (1 ms); the old ones keep 2 ms
    S.connect(i=0, j=4)
    assert delay.allocated
    np.testing.assert_allclose(S.delay[:] / ms, [2, 2, 2, 2, 2, 1])
    np.testing.assert_array_equal(S.N_incoming[:], [1, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(S.N_outgoing[:], [3, 3, 3, 3, 3, 3])
    S.arrival = -1 * second
    run(4 * ms)
    assert not queue.is_homogeneous and queue.stores_synapse_order  # source 0 comes last too
    # spikes pushed in the first run (steps 3 and 7, 20 steps of delay) arrive in the second;
    # the new synapse did not exist when they were pushed
    np.testing.assert_allclose(S.arrival[:] / ms, [2.3, 2.3, 2.7, 2.7, 2.7, -1000])
    # a second connect() counts again
    S.connect(i=1, j=4)
    np.testing.assert_array_equal(S.N_incoming[:], [1, 1, 1, 1, 3, 3, 3])


def test_presynaptic_indices_are_kept_as_ranges_until_code_needs_them():
    # connect() creates synapses source by source: i is then kept as per-source ranges; code
    # that reads a presynaptic variable gets the full array back, with the same values
    source = NeuronGroup(6, "x : 1", threshold="i == 2 or i == 4")
    source.x = "10 * i"
    target = NeuronGroup(6, "v : 1")
    plain = Synapses(source, target, on_pre="v += 1")
    plain.connect("i != j", p=0.7)
    reads_pre = Synapses(source, target, on_pre="v += x_pre")
    reads_pre.connect("i != j", p=0.7)
    expected = {name: (S.i[:], S.j[:]) for name, S in (("plain", plain), ("reads_pre", reads_pre))}
    for S in (plain, reads_pre):
        S.variables["i"].dynamic.compact()  # as after connect(): the reads above allocated i
    assert not plain.variables["i"].dynamic.allocated
    run(0.1 * ms)
    assert not plain.variables["i"].dynamic.allocated  # on_pre reads no presynaptic index
    assert reads_pre.variables["i"].dynamic.allocated
    for name, S in (("plain", plain), ("reads_pre", reads_pre)):
        np.testing.assert_array_equal(S.i[:], expected[name][0])
        np.testing.assert_array_equal(S.j[:], expected[name][1])
        np.testing.assert_array_equal(S.N_outgoing[:], np.bincount(S.i[:], minlength=6)[S.i[:]])
    # each target got 1 per synapse from the plain pathway, x_pre per synapse from the other
    i, j = expected["reads_pre"]
    weights = np.bincount(j, weights=10.0 * i * np.isin(i, [2, 4]), minlength=6)
    counts = np.bincount(
        expected["plain"][1], weights=np.isin(expected["plain"][0], [2, 4]), minlength=6
    )
    np.testing.assert_allclose(target.v[:], counts + weights)


def test_delays_changed_between_runs_keep_pending_spikes():
    source = source_spiking_at({0: 2, 1: 12}, 2)
    target = NeuronGroup(1, "count : 1")
    S = Synapses(source, target, on_pre="count += 1")
    S.connect(i=[0, 1], j=0)
    S.delay = 0.5 * ms
    mon = StateMonitor(target, "count", record=0)
    run(0.5 * ms)  # the first spike (step 2, due at step 7) is still in the queue
    S.delay = [3, 3] * ms  # longer: the pending spike keeps its arrival step
    run(5 * ms)
    counts = mon.count[0]
    # StateMonitor records at the start of a step: the arrival at step s shows from step s + 1
    assert counts[7] == 0 and counts[8] == 1
    assert counts[12 + 30] == 1 and counts[12 + 30 + 1] == 2


def test_connect_conditions_give_exact_index_sets():
    G = NeuronGroup(6, "v : 1", threshold="False")
    S = Synapses(G, G, "w : 1")
    S.connect("i != j and abs(i - j) <= 2")
    pairs = set(zip(S.i[:], S.j[:]))
    assert pairs == {(a, b) for a in range(6) for b in range(6) if a != b and abs(a - b) <= 2}
    T = Synapses(G, G)
    T.connect(j="k for k in range(i-3, i+4) if k != i", skip_if_invalid=True)
    assert set(zip(T.i[:], T.j[:])) == {
        (a, b) for a in range(6) for b in range(a - 3, a + 4) if b != a and 0 <= b < 6
    }
    U = Synapses(G, G)
    U.connect(j="i")
    assert list(U.j[:]) == list(range(6))
    V = Synapses(G, G)
    V.connect("i < 2", n=3)
    assert V.N == 2 * 6 * 3
    W = Synapses(G, G)
    W.connect(i=[0, 0, 5], j=[1, 2, 3])
    assert list(zip(W.i[:], W.j[:])) == [(0, 1), (0, 2), (5, 3)]
    np.testing.assert_array_equal(W.N_outgoing[:], [2, 2, 1])
    np.testing.assert_array_equal(W.N_incoming[:], [1, 1, 1])


def test_invalid_targets_raise_and_change_nothing():
    G = NeuronGroup(4, "v : 1", threshold="False")
    S = Synapses(G, G)
    S.connect(i=0, j=1)
    with pytest.raises(IndexError, match="skip_if_invalid"):
        S.connect(j="k for k in range(i, i + 2)")
    assert S.N == 1
    with pytest.raises(IndexError):
        S.connect(i=[0], j=[7])
    with pytest.raises(ExpressionError, match="unknown identifier"):
        S.connect("i != nothing_here")
    assert S.N == 1


def test_connection_probability_statistics():
    seed(2024)
    G = NeuronGroup(400, "v : 1", threshold="False")
    S = Synapses(G, G)
    S.connect(p=0.1)
    expected, sd = 400 * 400 * 0.1, math.sqrt(400 * 400 * 0.1 * 0.9)
    assert abs(S.N - expected) < 6 * sd
    # out-degrees are Binomial(400, 0.1): mean 40, variance 36
    degrees = np.bincount(S.i[:], minlength=400)
    assert abs(degrees.mean() - 40) < 6 * 6 / 20
    assert 36 * 0.7 < degrees.var() < 36 * 1.3
    T = Synapses(G, G)
    T.connect(j="k for k in sample(N_post, p=0.2)")
    assert abs(T.N - 32000) < 6 * math.sqrt(160000 * 0.2 * 0.8)
    U = Synapses(G, G)
    U.connect("j > i", p="0.5")
    assert np.all(U.j[:] > U.i[:])
    assert abs(U.N - 0.5 * 400 * 399 / 2) < 6 * math.sqrt(79800 * 0.25)


def test_summed_variable_matches_closed_form():
    src = NeuronGroup(5, "x : 1")
    src.x = "i + 1"
    tgt = NeuronGroup(3, "y : 1")
    S = Synapses(src, tgt, "w : 1\ny_post = w*x_pre : 1 (summed)")
    S.connect(j="k for k in range(i-1, i+2) if k >= 0", skip_if_invalid=True)
    S.w = "j*0.1 + 1"
    run(0.1 * ms)
    expected = np.zeros(3)
    for a, b in zip(S.i[:], S.j[:]):
        expected[b] += (b * 0.1 + 1) * (a + 1)
    np.testing.assert_allclose(tgt.y[:], expected, rtol=1e-12)


def test_stdp_pair_protocol_against_hand_computation():
    taupre = taupost = 20 * ms
    Apre, wmax = 0.01, 1.0
    Apost = -Apre * 1.05
    # pair k: pre at step 10, post at step 10 + offsets[k] (negative: post first)
    offsets = [-60, -20, -5, 5, 20, 60]
    pre = source_spiking_at({k: 100 for k in range(6)}, 6)
    post = source_spiking_at({k: 100 + o for k, o in enumerate(offsets)}, 6)
    S = Synapses(
        pre,
        post,
        """w : 1
           dapre/dt = -apre/taupre : 1 (event-driven)
           dapost/dt = -apost/taupost : 1 (event-driven)""",
        on_pre="apre += Apre\nw = clip(w + apost, 0, wmax)",
        on_post="apost += Apost\nw = clip(w + apre, 0, wmax)",
    )
    S.connect(j="i")
    S.w = 0.5
    run(20 * ms)
    dt = np.array(offsets) * 0.1e-3  # post - pre
    expected = np.where(dt > 0, 0.5 + Apre * np.exp(-dt / 0.02), 0.5 + Apost * np.exp(dt / 0.02))
    np.testing.assert_allclose(S.w[:], expected, rtol=1e-12)


def test_pre_and_post_variables_and_indexing():
    G = NeuronGroup(3, "v : volt\nu : 1", threshold="t_in_timesteps == 0")
    G.u = "i * 10"
    H = NeuronGroup(2, "g : volt", threshold="False")
    S = Synapses(G, H, "w : volt", on_pre="g_post += w + u_pre*mV")
    S.connect()
    S.w = "(i + 10*j) * mV"
    assert S.w[2, 1] == 12 * mV
    S.w[0, 0] = 5 * mV
    assert list(S.w["i == 0"] / mV) == pytest.approx([5, 10])
    run(0.1 * ms)
    w = {(a, b): value for a, b, value in zip(S.i[:], S.j[:], S.w[:] / mV)}
    expected = [sum(w[(a, b)] + 10 * a for a in range(3)) for b in range(2)]
    np.testing.assert_allclose(H.g[:] / mV, expected)


def test_clock_driven_synaptic_equations():
    G = NeuronGroup(2, "v : 1", threshold="False")
    S = Synapses(G, G, "dx/dt = -x/(10*ms) : 1 (clock-driven)")
    S.connect(j="i")
    S.x = 1
    run(10 * ms)
    np.testing.assert_allclose(S.x[:], math.exp(-1), rtol=1e-10)


def test_bad_synapse_models():
    G = NeuronGroup(2, "v : 1", threshold="v > 1")
    with pytest.raises(EquationError, match="clock-driven"):
        Synapses(G, G, "dx/dt = -x/ms : 1")
    with pytest.raises(EquationError, match="summed"):
        Synapses(G, G, "s = 1 : 1 (summed)")
    with pytest.raises(ExpressionError, match="neither a synaptic variable"):
        Synapses(G, G, on_pre="nothing += 1")
    with pytest.raises(EquationError, match="only for synapses"):
        NeuronGroup(1, "dv/dt = -v/ms : 1 (event-driven)")
    # Brian2 wants a quantity here too; the message says where a string delay goes
    with pytest.raises(TypeError, match=r"assign it after connect\(\): S.delay = 'rand\(\)\*ms'"):
        Synapses(G, G, on_pre="v += 1", delay="rand()*ms")
    with pytest.raises(TypeError, match="pathway 'post' given here must be a time"):
        Synapses(G, G, on_pre="v += 1", on_post="v += 1", delay={"post": "2*ms"})
    S = Synapses(G, G, "w : second", on_pre="v += w")
    S.connect()
    with pytest.raises(ExpressionError, match="inconsistent units"):
        run(0.1 * ms)


def test_generated_code_reaches_the_queue_through_its_capsule():
    G = NeuronGroup(10, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
    S = Synapses(G, G, "w : 1", on_pre="v += w", delay=1 * ms)
    S.connect(p=0.5)
    run(0.1 * ms)
    source = magic_network.generated_source_path.read_text()
    assert "PyCapsule_GetPointer(capsules[" in source and 'b"spikeforge.SpikeQueue"' in source
    # the per-spike path is a nogil C function: Cython refuses any Python object in it
    pathway = re.search(r"cdef void syn0_pre\(.*?\) noexcept nogil:\n(.*?)\n\n", source, re.S)
    assert pathway is not None
    body = pathway.group(1)
    assert "_queue.peek()" in body and "_queue.advance()" in body
    assert "syn0_pre_push" in source and "_queue.push(_spikes" in source


def test_rebuilt_network_with_other_synapse_count_compiles_nothing():
    compiled = []
    for p in (0.1, 0.3):
        start_scope()
        G = NeuronGroup(
            50, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact"
        )
        S = Synapses(G, G, "w : 1", on_pre="v += w")
        S.connect(p=p)
        before = len(cache.statistics.compiled)
        run(1 * ms)
        compiled.append(len(cache.statistics.compiled) - before)
    assert compiled[1] == 0


def test_synaptic_code_reads_lastspike_of_the_neurons():
    # each arrival records how long ago the presynaptic neuron last spiked (0: the same step)
    # and when the postsynaptic one did
    pre = NeuronGroup(1, "v : 1", threshold="t_in_timesteps == 4", refractory=1 * ms)
    post = NeuronGroup(1, "v : 1", threshold="t_in_timesteps == 2", refractory=1 * ms)
    S = Synapses(
        pre,
        post,
        "since_pre : second\npost_spike : second",
        on_pre="since_pre = t - lastspike_pre\npost_spike = lastspike_post",
        delay=0.3 * ms,
    )
    S.connect()
    run(1 * ms)
    assert S.since_pre[0] / ms == pytest.approx(0.3)
    assert S.post_spike[0] / ms == pytest.approx(0.2)


def test_inputs_do_not_change_refractory_variables():
    # Brian2's conditional write: while a neuron is refractory, synaptic writes to its
    # (unless refractory) variables are ignored (other variables still change)
    source = source_spiking_at({0: 15}, 1)  # arrives 0.5 ms after the target's spike
    target = NeuronGroup(
        1,
        "dv/dt = -v/(20*ms) : volt (unless refractory)\ncount : 1",
        threshold="v > 20*mV",
        reset="v = 10*mV",
        refractory=2 * ms,
        method="exact",
    )
    target.v = 25 * mV  # spikes in the first step, refractory until 2 ms
    S = Synapses(source, target, on_pre="v += 15*mV\ncount += 1")
    S.connect()
    run(3 * ms)
    assert target.count[0] == 1
    assert target.v[0] / mV == pytest.approx(10 * np.exp(-0.1 / 20 * 10), rel=1e-9)


def test_connect_into_empty_synapses_keeps_presynaptic_indices_as_ranges():
    # the first connect() stores no presynaptic index per synapse, only where each source's
    # synapses start; a second one appends indices that may decrease, and needs them all
    G = NeuronGroup(30, "v : 1", threshold="False")
    S = Synapses(G, G, "w : 1", on_pre="v += w")
    S.connect(j="k for k in range(i - 2, i + 3) if k != i", skip_if_invalid=True)
    assert not S.variables["i"].dynamic.allocated
    pairs = [(i, k) for i in range(30) for k in range(i - 2, i + 3) if k != i and 0 <= k < 30]
    assert list(zip(S.i[:].tolist(), S.j[:].tolist())) == pairs
    S.connect(i=[3, 1], j=[0, 0])
    assert list(zip(S.i[:].tolist(), S.j[:].tolist())) == pairs + [(3, 0), (1, 0)]
    T = Synapses(G, G, "w : 1")
    T.connect(p=0.3)
    n = T.N  # (the connect() waits for this)
    counts = np.diff(T.variables["i"].dynamic.offsets)
    assert counts.sum() == n and np.array_equal(np.bincount(T.i[:], minlength=30), counts)
    T.connect("i == j")  # into non-empty synapses: indices stored per synapse, then compacted
    assert np.array_equal(T.i[:][-30:], np.arange(30)) and np.array_equal(
        T.j[:][-30:], T.i[:][-30:]
    )


def test_generator_targets_with_source_conditions_and_loop_invariants():
    """Feed-forward blocks as in Diesmann et al. 1999 (a Brian2 example): each source connects to
    the whole next block, and the last block (excluded by a condition on i alone) would have
    targets outside the group.  The range and the condition both have loop invariants, which
    once shared a hoisted name (giving j=90100 for i=1)."""
    group_size, n_groups = 7, 4
    G = NeuronGroup(group_size * n_groups, "v : 1", threshold="False")
    S = Synapses(G, G, on_pre="v += 1")
    S.connect(
        j="k for k in range((int(i/group_size)+1)*group_size, (int(i/group_size)+2)*group_size) "
        "if i<N_pre-group_size"
    )
    expected = [
        (i, j)
        for i in range(group_size * (n_groups - 1))
        for j in range((i // group_size + 1) * group_size, (i // group_size + 2) * group_size)
    ]
    assert list(zip(S.i[:], S.j[:])) == expected
    # a condition on the target is still checked per pair, after the bounds
    T = Synapses(G, G, on_pre="v += 1")
    T.connect(j="k for k in range(i-1, i+2) if k != i", skip_if_invalid=True)
    pairs = set(zip(T.i[:], T.j[:]))
    n = group_size * n_groups
    assert pairs == {(i, k) for i in range(n) for k in (i - 1, i + 1) if 0 <= k < n}


def test_indices_and_monitors_of_neuron_variables_through_synapses():
    """S.indices[i, j], S.indices['cond'] and S.indices[k] give synapse indices (Brian2); a
    StateMonitor of synapses records x_pre, x_post and bare postsynaptic names, each equal to
    the neurons' values at the synapses' i and j."""
    G = NeuronGroup(3, "dv/dt = -v/(10*ms) : 1", method="exact")
    H = NeuronGroup(4, "dv/dt = (1 - v)/(5*ms) : 1", method="exact")
    G.v = "i + 1"
    S = Synapses(G, H, "w : 1")
    S.connect()
    S.w = "i*10 + j"
    pairs = list(zip(S.i[:], S.j[:]))
    assert list(S.indices[1, 2]) == [pairs.index((1, 2))]
    assert sorted(S.indices[1, :]) == [k for k, (i, _) in enumerate(pairs) if i == 1]
    assert sorted(S.indices["w > 20"]) == [k for k, (i, j) in enumerate(pairs) if 10 * i + j > 20]
    assert list(S.indices[3:5]) == [3, 4]
    mon = StateMonitor(S, ["w", "v_pre", "v_post", "v"], record=[0, 5, 11])
    source, target = StateMonitor(G, "v", record=True), StateMonitor(H, "v", record=True)
    run(2 * ms)
    i, j = S.i[[0, 5, 11]], S.j[[0, 5, 11]]
    np.testing.assert_array_equal(mon.v_pre, source.v[i])
    np.testing.assert_array_equal(mon.v_post, target.v[j])
    np.testing.assert_array_equal(mon.v, target.v[j])
    np.testing.assert_array_equal(mon.w[:, 0], 10 * i + j)
    with pytest.raises(KeyError, match="has no variable 'u'"):
        StateMonitor(S, "u", record=0)


def test_neuron_variables_read_through_synapses():
    """S.x_pre and S.y_post read the neurons' values at each synapse's i and j (Brian2)."""
    G = NeuronGroup(3, "x : volt")
    G.x = [1, 2, 3] * mV
    H = NeuronGroup(2, "z : 1")
    H.z = [10, 20]
    S = Synapses(G, H, "w : 1")
    S.connect()
    np.testing.assert_array_equal(S.x_pre, G.x[S.i[:]])
    np.testing.assert_array_equal(S.z_post, H.z[S.j[:]])
    with pytest.raises(AttributeError, match="no variable 'nothing'"):
        _ = S.nothing


def test_neuron_subexpressions_in_synaptic_code():
    """F_pre, F_post and a bare postsynaptic F stand for the neurons' subexpressions, their
    variables read at the synapse's neurons (Brian2 substitutes them the same way)."""
    offset = 1.0
    G = NeuronGroup(2, "v : 1\nF = 2*v + offset : 1", threshold="False")
    G.v = [1, 3]
    H = NeuronGroup(2, "u : 1\nF = 10*u : 1")
    H.u = [5, 7]
    S = Synapses(G, H, "x : 1\ny : 1", on_pre="y = F_post - F_pre")
    S.connect(j="i")
    S.x = "F_pre + F"
    np.testing.assert_array_equal(S.x[:], [3 + 50, 7 + 70])


def test_conditional_target_expression():
    """connect(j='i if i < 3'): a target only where the condition holds (Brian2's syntax,
    used by Stimberg et al. 2018); the excluded sources may have targets out of range."""
    G = NeuronGroup(5, "v : 1")
    H = NeuronGroup(3, "v : 1")
    S = Synapses(G, H, "w : 1")
    S.connect(j="i if i < N_post")
    assert list(zip(S.i[:], S.j[:])) == [(0, 0), (1, 1), (2, 2)]


def test_shared_synaptic_variables():
    """A (shared) synaptic parameter is one value for all synapses, readable, writable and
    used by every synapse's code (Brian2's learning-rate idiom)."""
    G = NeuronGroup(3, "v : 1", threshold="True")
    H = NeuronGroup(3, "v : 1")
    S = Synapses(G, H, "w : 1\nrate : 1 (shared)", on_pre="w += rate; v_post += rate")
    S.connect(j="i")
    S.rate = 0.5
    run(0.3 * ms)  # three steps, a spike each
    np.testing.assert_allclose(S.w[:], 1.5)
    np.testing.assert_allclose(H.v[:], 1.5)
    assert S.get_states(["rate"])["rate"] == 0.5
    S.rate = 2
    run(0.1 * ms)
    np.testing.assert_allclose(S.w[:], 3.5)


def test_multisynaptic_index_numbers_the_synapses_of_each_pair():
    source = source_spiking_at({0: 3, 1: 3}, 2)
    target = NeuronGroup(3, "count : 1\nlast : second")
    S = Synapses(source, target, "w : 1", on_pre="count += 1\nlast = t", multisynaptic_index="k")
    S.connect(condition="j == 2", n=3)  # 0->2 three times, then 1->2 three times
    S.connect(i=0, j=[1, 2])  # 0->2 a fourth time, and 0->1 once
    expected = [0, 1, 2, 0, 1, 2, 0, 3]
    assert list(S.k[:]) == expected
    assert list(S.indices[0, 2, 3]) == [7]
    assert list(S.indices[0, 2, 1:]) == [1, 2, 7]
    assert list(S.indices[1, 2, :2]) == [3, 4]
    # k in generated code: delays of k ms, spikes at 0.3 ms arrive at 0.3 + k ms
    S.delay = "k * ms"
    assert np.allclose(S.delay[:] / ms, expected)
    run(4 * ms)
    assert list(target.count[:]) == [0, 1, 7]
    assert target.last[2] == 3.3 * ms  # the fourth synapse of 0->2 (k = 3)
    with pytest.raises(TypeError, match="'k' cannot be assigned"):
        S.k = 2  # derived from i and j, not set


def test_multisynaptic_index_errors_name_the_synapses():
    G = NeuronGroup(2, "v : 1")
    with pytest.raises(ValueError, match="'syn'.*'w' names a variable the model"):
        Synapses(G, G, "w : 1", multisynaptic_index="w", name="syn")
    with pytest.raises(TypeError, match="must be the name of a variable"):
        Synapses(G, G, multisynaptic_index=3)
    S = Synapses(G, G, name="plain")
    S.connect()
    with pytest.raises(IndexError, match="'plain'.*multisynaptic_index='k'"):
        S.indices[0, 1, 0]


@pytest.mark.parametrize(
    "on_pre, on_post, queued",
    [
        ("v_post += 0.1", "", ("j",)),
        ("v += 0.1", "v_pre -= 0.05", ("j", "i")),  # on_post reaches the presynaptic neuron
        ("v_post += w", "", (None,)),  # a synaptic variable: the synapse index is needed
        ("v_post += 0.1*rand()", "", (None,)),  # a random number: its stream is the synapse's
        ("v_post += 0.1\nv_pre -= 0.01", "", (None,)),  # two neurons per synapse
    ],
)
def test_a_queue_holds_target_neurons_when_delivery_needs_nothing_else(on_pre, on_post, queued):
    """A pathway whose statements use one neuron of each synapse and nothing of the synapse
    queues that neuron's index, and delivers exactly what a queue of synapse indices delivers
    (same spikes, same state, in the same order of arrival, with delays spread over steps)."""

    def simulate(targets_allowed):
        start_scope()
        seed(4)
        group = NeuronGroup(
            60,
            "dv/dt = (1.2 - v)/(10*ms) : 1",
            threshold="v > 1",
            reset="v = 0",
            method="exact",
            name="g",
        )
        group.v = "rand()"
        synapses = Synapses(group, group, "w : 1", on_pre=on_pre, on_post=on_post or None)
        synapses.connect(p=0.2)
        synapses.w = "0.2*rand()"
        synapses.delay = "rand()*2*ms"
        spikes = SpikeMonitor(group)
        network = Network(group, synapses, spikes)
        with pytest.MonkeyPatch.context() as patch:
            if not targets_allowed:
                patch.setattr(Synapses, "_queued_index", staticmethod(lambda code: None))
            network.run(30 * ms)
        used = tuple(p.queued for p in synapses.pathways)
        return used, np.array(spikes.i[:]), np.array(spikes.t_[:]), np.array(group.v_[:])

    used, *results = simulate(True)
    assert used == queued
    unused, *reference = simulate(False)
    assert unused == (None,) * len(queued)
    assert len(reference[0]) > 50  # spikes travelled
    for result, expected in zip(results, reference):
        np.testing.assert_array_equal(result, expected)


def test_pathways_are_attributes_with_their_delays():
    # Brian2's S.pre, S.post and S.<name> of on_pre={...}, whose delay is read and set
    G = NeuronGroup(2, "v : 1", threshold="True")
    S = Synapses(
        G, G, on_pre={"up": "v += 1", "down": "v -= 0.5"}, delay={"up": 1 * ms}, name="updown"
    )
    S.connect(j="i")
    S.down.delay = 0.5 * ms
    assert S.up.delay == 1 * ms and S.down.delay == 0.5 * ms and S.up.code == "v += 1"
    run(3 * ms)
    # every step from t = 0 both neurons spike: 'up' arrives from step 10 on (20 arrivals
    # up to 2.9 ms), 'down' from step 5 (25 arrivals)
    assert list(G.v) == [20 - 0.5 * 25] * 2
    T = Synapses(G, G, on_pre="v += 1", on_post="v -= 1", delay=1 * ms)
    T.connect(j="i")
    assert list(T.pre.delay / ms) == [1, 1] and T.post.delay == 0 * second
    T.pre.delay = 2 * ms  # the synapses' own delay variable
    assert list(T.delay / ms) == [2, 2]
    T.post.delay = 3 * ms
    assert T.post.delay == 3 * ms
    with pytest.raises(NotImplementedError, match="one delay for all its synapses"):
        T.post.delay = "rand()*ms"
    with pytest.raises(DimensionMismatchError):
        T.post.delay = 3 * mV
    with pytest.raises(AttributeError, match="cannot be set"):
        T.post.code = "v += 2"
    with pytest.raises(AttributeError, match="no variable 'sideways'"):
        _ = T.sideways


def test_synapses_from_a_group_without_threshold_are_refused():
    # Brian2 refuses them too: on_pre would never run
    G = NeuronGroup(2, "v : 1")
    with pytest.raises(ValueError, match="never spikes: it has no threshold"):
        Synapses(G, G, on_pre="v += 1")
    with pytest.raises(ValueError, match="NeuronGroup 'quiet' threshold="):
        quiet = NeuronGroup(4, "v : 1", name="quiet")
        Synapses(NeuronGroup(1, "v : 1", threshold="True"), quiet[:2], on_post="v += 1")
    S = Synapses(G, G, "w : 1")  # no pathway: fine (summed variables, gap junctions)
    S.connect()
    assert S.N == 4


def test_connect_arrays_with_n_and_p_as_brian2():
    G = NeuronGroup(3, "v : 1")
    S = Synapses(G, G, "w : 1", multisynaptic_index="k")
    S.connect(i=0, j=1, n=3)
    S.connect(i=[1, 2], j=[0, 0], n=[2, 0])
    assert list(zip(S.i[:], S.j[:], S.k[:])) == [
        (0, 1, 0),
        (0, 1, 1),
        (0, 1, 2),
        (1, 0, 0),
        (1, 0, 1),
    ]
    # p keeps each pair with NumPy's random numbers, which seed() seeds (Brian2's way)
    sources = np.arange(300) % 3
    seed(5)
    kept = np.random.rand(300) < 0.3
    seed(5)
    T = Synapses(G, G)
    T.connect(i=sources, j=2, p=0.3)
    assert list(T.i[:]) == list(sources[kept]) and set(T.j[:]) == {2}
    with pytest.raises(ValueError, match="whole numbers"):
        T.connect(i=0, j=1, n=1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.connect(i=0, j=1, p=2)
    with pytest.raises(TypeError, match="not expressions"):
        T.connect(i=0, j=1, p="0.5")


def test_spikes_in_flight_keep_their_arrival_time_when_dt_changes_between_runs():
    # one presynaptic spike at t = 0 reaches neuron j after j ms and makes it spike one step
    # later; the runs change dt while spikes are on their way, and each arrives on time
    defaultclock.dt = 0.5 * ms
    source = NeuronGroup(1, "v : 1", threshold="v > 1", reset="v = 0")
    source.v = 1.1
    target = NeuronGroup(10, "v : 1", threshold="v > 1", reset="v = 0")
    S = Synapses(source, target, on_pre="v += 1.1")
    S.connect()
    S.delay = "j*ms"
    spikes = SpikeMonitor(target)
    net = Network(source, target, S, spikes)
    net.run(5 * ms)
    defaultclock.dt = 1 * ms
    net.run(3 * ms)
    defaultclock.dt = 0.1 * ms
    net.run(2 * ms)
    arrival = np.arange(10.0)
    step_after = np.where(arrival < 5, 0.5, np.where(arrival < 8, 1.0, 0.1))
    np.testing.assert_array_equal(spikes.i, np.arange(10))
    np.testing.assert_allclose(spikes.t / ms, arrival + step_after, atol=1e-9)


def test_summed_variables_that_would_give_wrong_sums_are_refused():
    G = NeuronGroup(
        4, "dv/dt = -v/(10*ms) : volt\nsub = 2*v : volt\np : volt\nq : volt", threshold="False"
    )
    # a sum overwrites its target at every step: only a parameter can take it
    with pytest.raises(EquationError, match="'v' of 'neurongroup.*differential equation"):
        Synapses(G, G, "v_post = 1*mV : volt (summed)")
    with pytest.raises(EquationError, match="no parameter 'sub'"):
        Synapses(G, G, "sub_post = 1*mV : volt (summed)")
    # two sums into one variable of one group: the second would overwrite the first
    with pytest.raises(EquationError, match="'p_post' and 'p_pre' both sum into 'p'"):
        Synapses(G, G, "p_post = 1*mV : volt (summed)\np_pre = 1*mV : volt (summed)")
    # event-driven variables are only up to date at events; the message names the chain
    with pytest.raises(EquationError, match="'p_post' -> 'y' -> 'x' -> 's'"):
        Synapses(
            G,
            G,
            "ds/dt = -s/(3*ms) : volt (event-driven)\nx = s : volt\ny = x : volt\n"
            "p_post = y : volt (summed)",
            on_pre="s += 1*mV",
        )


def test_two_synapses_summing_into_one_variable_are_refused_unless_their_targets_differ():
    source = NeuronGroup(1, "")
    target = NeuronGroup(10, "v : 1")
    first = Synapses(source, target[:6], "v_post = 1 : 1 (summed)")
    first.connect()
    second = Synapses(source, target[6:], "v_post = 2 : 1 (summed)")
    second.connect()
    run(defaultclock.dt)  # subgroups that do not overlap each get their own sum
    np.testing.assert_array_equal(target.v[:], [1] * 6 + [2] * 4)
    overlapping = Synapses(source, target[5:], "v_post = 3 : 1 (summed)")
    overlapping.connect()
    with pytest.raises(NotImplementedError, match="element 5\\)"):
        run(defaultclock.dt)
    np.testing.assert_array_equal(target.v[:], [1] * 6 + [2] * 4)  # nothing ran


def test_synaptic_variables_cannot_be_set_before_connect():
    G = NeuronGroup(2, "v : 1", threshold="True")
    S = Synapses(G, G, "w : 1\nshared_w : 1 (shared)", on_pre="v += w")
    for name, value in [("w", 1), ("w", "rand()"), ("delay", 1 * ms)]:
        with pytest.raises(TypeError, match="before any connect"):
            setattr(S, name, value)
    S.shared_w = 2  # one value for all synapses: there is somewhere to keep it
    S.connect(p=0)  # connect() was called, even if it made no synapse
    S.w = 1
    assert S.N == 0 and S.shared_w == 2


def test_an_integer_summed_variable_sums_into_the_synapses_of_another_synapses():
    source, target = NeuronGroup(5, ""), NeuronGroup(5, "")
    conn = Synapses(source, target, "w : integer")
    conn.connect(j="i")
    summing = Synapses(source, conn, "w_post = x : integer (summed)\nx : integer")
    summing.connect("i >= j")  # synapse j of conn gets x = i from every i >= j
    summing.x = "i"
    run(defaultclock.dt)
    expected = [sum(range(j, 5)) for j in range(5)]
    np.testing.assert_array_equal(conn.w[:], expected)
    assert conn.w[:].dtype.kind == "i"


def _matrix(S, n_pre, n_post):
    counts = np.zeros((n_pre, n_post), dtype=int)
    np.add.at(counts, (S.i[:], S.j[:]), 1)
    return counts


def test_generators_yield_any_expression_of_their_loop_variable():
    G, small = NeuronGroup(16, ""), NeuronGroup(4, "")
    ring = Synapses(G, G)
    ring.connect(j="(i + (-1)**k) % N_post for k in range(2)")
    expected = np.zeros((16, 16), dtype=int)
    expected[np.arange(16), (np.arange(16) + 1) % 16] = 1
    expected[np.arange(16), (np.arange(16) - 1) % 16] = 1
    np.testing.assert_array_equal(_matrix(ring, 16, 16), expected)
    diverging = Synapses(small, G)
    diverging.connect(j="i*4 + k for k in range(4)")
    np.testing.assert_array_equal(_matrix(diverging, 4, 16), np.kron(np.eye(4, dtype=int), [1] * 4))
    neighbours = Synapses(small, small)
    neighbours.connect(j="i + (-1)**k for k in range(2)", skip_if_invalid=True)
    np.testing.assert_array_equal(
        _matrix(neighbours, 4, 4), np.eye(4, k=1, dtype=int) + np.eye(4, k=-1, dtype=int)
    )
    # the 'if' is tested before the target index, and may use j: targets past the end that it
    # leaves out are no error (Brian2's semantics)
    upper = np.triu(np.ones((16, 16), dtype=int))
    for text, skip in [
        ("i + k for k in range(N_post - i)", False),
        ("i + k for k in range(N_post)", True),
        ("i + k for k in range(N_post) if j < N_post", False),
        ("i + k for k in range(N_post) if i + k < N_post", False),
        ("k for k in range(-5, N_post) if k >= i", False),
    ]:
        S = Synapses(G, G)
        S.connect(j=text, skip_if_invalid=skip)
        np.testing.assert_array_equal(_matrix(S, 16, 16), upper, err_msg=text)
    outside = Synapses(G, G)
    with pytest.raises(IndexError, match="j=16"):
        outside.connect(j="i + k for k in range(N_post)")
    assert outside.N == 0


def test_sample_with_size_takes_that_many_distinct_targets_each_equally_likely():
    G = NeuronGroup(4, "x : integer")
    G.x = "i"
    H = NeuronGroup(7, "")
    none, every, three, only_2 = (Synapses(G, H) for _ in range(4))
    none.connect(j="k for k in sample(N_post, size=0)")
    every.connect(j="k for k in sample(N_post, size=N_post)")
    three.connect(j="k for k in sample(N_post, size=3)")
    only_2.connect(j="k for k in sample(N_post, size=int(x_pre == 2)*N_post)")
    assert none.N == 0
    np.testing.assert_array_equal(_matrix(every, 4, 7), np.ones((4, 7)))
    np.testing.assert_array_equal(three.N_outgoing_pre, [3] * 4)
    for source in range(4):
        targets = three.j[source, :]
        assert len(set(targets)) == 3 and list(targets) == sorted(targets)
    np.testing.assert_array_equal(only_2.i[:], [2] * 7)
    np.testing.assert_array_equal(only_2.j[:], np.arange(7))
    # a size the range can't give: an error, or with skip_if_invalid all values (or none)
    big, negative = Synapses(G, H), Synapses(G, H)
    big.connect(j="k for k in sample(N_post, size=i + 5)", skip_if_invalid=True)
    negative.connect(j="k for k in sample(2, N_post, 2, size=2 - i)", skip_if_invalid=True)
    np.testing.assert_array_equal(big.N_outgoing_pre, [5, 6, 7, 7])
    np.testing.assert_array_equal(negative.N_outgoing_pre, [2, 1, 0, 0])
    assert set(negative.j[:]) <= {2, 4, 6}
    with pytest.raises(IndexError, match=r"size=8\) for i=3"):
        Synapses(G, H).connect(j="k for k in sample(N_post, size=i + 5)")
    # uniform: over many sources, each of 10 targets is taken 3/10 of the time
    sources = NeuronGroup(4000, "")
    targets = NeuronGroup(10, "")
    S = Synapses(sources, targets)
    S.connect(j="k for k in sample(N_post, size=3)")
    counts = np.bincount(S.j[:], minlength=10)
    expected, sd = 4000 * 0.3, np.sqrt(4000 * 0.3 * 0.7)
    assert np.all(np.abs(counts - expected) < 5 * sd), counts


def test_unitless_values_write_through_to_the_synapses():
    G = NeuronGroup(3, "v : volt")
    S = Synapses(G, G, "w : volt")
    S.connect()
    S.w_[:] = 5  # Brian2's unitless view: this sets every w to 5 volt
    np.testing.assert_array_equal(S.w[:] / volt, [5] * 9)
    S.w_[:4] = np.arange(4)
    S.w_["i == 2"] = 7
    values = S.w_
    values += 1
    np.testing.assert_array_equal(S.w[:] / volt, [1, 2, 3, 4, 6, 6, 8, 8, 8])
    # what is computed from it, and its slices, are plain copies that write nowhere
    doubled, part = S.w_ * 2, S.w_[:2]
    doubled[:] = 0
    part[:] = 0
    assert type(doubled) is np.ndarray and type(part) is np.ndarray
    np.testing.assert_array_equal(S.w[:2] / volt, [1, 2])
    with pytest.raises(TypeError, match="through the variable itself"):
        S.w_[:] = "i*volt"


def test_event_driven_variables_cannot_depend_on_clock_driven_ones():
    source = SpikeGeneratorGroup(1, [0], [0] * ms)
    with pytest.raises(EquationError, match="'c' -> 'b' -> 'a'"):
        Synapses(
            source,
            source,
            "da/dt = -a/(5*ms) : 1 (clock-driven)\nb = a : 1\ndc/dt = b/(5*ms) : 1 (event-driven)",
            on_pre="a += 1",
        )


def test_a_pathway_without_connect_is_refused_at_run():
    G = NeuronGroup(1, "v : 1", threshold="True")
    S = Synapses(G, G, on_pre="v += 1")
    with pytest.raises(TypeError, match="connect\\(\\) was never called"):
        run(defaultclock.dt)
    S.active = False  # left out of the run: fine
    run(defaultclock.dt)
    S.active = True
    S.connect(p=0)  # no synapses, but asked for
    run(defaultclock.dt)
    assert G.v[0] == 0

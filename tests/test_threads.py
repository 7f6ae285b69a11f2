"""Threads and counter-based random numbers: results do not depend on how the work is split.

The random numbers of generated code are Philox4x64-10 blocks keyed by (seed, epoch) at the
counter (draw, element, step, role): checked here against NumPy's Philox, then the property it
buys, that a noisy recurrent network gives bitwise the same run for 1, 2 and 3 threads and
whether or not a network operation splits its steps.
"""

import numpy as np
import pytest

from spikeforge import (
    Hz,
    Network,
    NeuronGroup,
    PoissonInput,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
    network_operation,
    prefs,
    run,
    seed,
    start_scope,
)
from spikeforge.codegen import render
from spikeforge.codegen.cache import OPENMP_MARKER
from spikeforge.model.network import magic_network
from spikeforge.runtime._containers import philox4x64
from spikeforge.runtime.driver import random_state


@pytest.mark.parametrize(
    "counter, key",
    [
        ([1, 2, 3, 4], [5, 6]),
        ([0, 0, 0, 0], [0, 0]),
        ([2**64 - 1, 7, 2**63, 12345678901234567], [2**64 - 1, 2**40 + 3]),
    ],
)
def test_the_philox_block_is_numpys_philox(counter, key):
    # NumPy's Philox (4x64-10) advances its 256-bit counter before each block: our counter
    # minus one, as NumPy's integer form (word 0 lowest), gives the block of ours
    as_integer = sum(word << (64 * k) for k, word in enumerate(counter))
    before = (as_integer - 1) % 2**256
    expected = np.random.Philox(key=key[0] + (key[1] << 64), counter=before).random_raw(4)
    assert philox4x64(counter, key) == [int(x) for x in expected]


def noisy_network(extra_objects=()):
    """A recurrent network that draws random numbers in every kind of role: noise in the state
    update, rand() in on_pre, PoissonInput, random delays and weights, and a pathway into a
    subgroup; big enough that every loop is shared among threads.  Objects are named: within
    a slot of the schedule they run in the order of their names (as in Brian2), and default
    names are numbered by what earlier tests left alive."""
    seed(11)
    n = 6000
    group = NeuronGroup(
        n,
        "dv/dt = (0.9 - v)/(10*ms) + 0.25*xi/sqrt(ms) : 1 (unless refractory)",
        threshold="v > 1",
        reset="v = rand()*0.2",
        refractory=2 * ms,
        method="euler",
        name="neurons",
    )
    group.v = "rand()"
    recurrent = Synapses(group, group, "w : 1", on_pre="v_post += w*rand()", name="recurrent")
    recurrent.connect(p=0.01)
    recurrent.w = "0.05*randn()"
    recurrent.delay = "rand()*3*ms"
    # STDP-like: on_post writes only synaptic variables, on_pre also the presynaptic neuron
    # (delivered by one thread: it writes both sides)
    plastic = Synapses(
        group,
        group[:2000],
        "w : 1\napost : 1",
        on_pre="v_post += 0.02*w\nv_pre -= 0.001",
        on_post="apost += 1\nw = clip(w + 0.01*apost, 0, 1)",
        name="plastic",
    )
    plastic.connect(p=0.005)
    plastic.w = "rand()"
    # only the target neuron: the queue holds target indices, delivered by target blocks
    inhibitory = Synapses(group, group, on_pre="v_post -= 0.01", name="inhibitory")
    inhibitory.connect(p=0.003)
    inhibitory.delay = "rand()*2*ms"
    poisson = PoissonInput(group, "v", 20, 30 * Hz, weight=0.03)
    spikes = SpikeMonitor(group)
    trace = StateMonitor(group, "v", record=[0, 1, 2999, 5999])
    objects = (group, recurrent, plastic, inhibitory, poisson, spikes, trace, *extra_objects)
    return Network(*objects), locals()


def simulate(threads, extra_objects=()):
    start_scope()
    network, objects = noisy_network(extra_objects)
    network.run(40 * ms, threads=threads)
    spikes = objects["spikes"]
    return {
        "i": np.array(spikes.i[:]),
        "t": np.array(spikes.t_[:]),
        "v": np.array(objects["group"].v_[:]),
        "trace": np.array(objects["trace"].v_[:]),
        "w": np.array(objects["plastic"].w[:]),
        "source": network.last_run.source,
    }


@pytest.fixture
def every_loop_shared(monkeypatch):
    """Loops are shared among threads from 64 elements on (not 16,384), so that this small
    network runs every threaded path: blocks of neurons, the threshold's joined blocks, delivery
    by target."""
    monkeypatch.setattr(render, "PARALLEL_ELEMENTS", 64)


def test_spike_trains_and_state_are_identical_for_any_number_of_threads(every_loop_shared):
    one, two, three = simulate(1), simulate(2), simulate(3)
    assert OPENMP_MARKER not in one["source"]
    assert OPENMP_MARKER in two["source"] and "prange(" in two["source"]
    assert "_blocks_for(_count, 256)" in two["source"]  # delivery and resets are shared
    assert "_post_idx = _arriving_entries[_k]" in two["source"]  # a queue of target neurons
    assert len(one["i"]) > 5000  # the network is active
    for other in (two, three):
        for name in ("i", "t", "v", "trace", "w"):
            np.testing.assert_array_equal(other[name], one[name], err_msg=name)


def test_float32_state_is_identical_for_any_number_of_threads(every_loop_shared):
    prefs.core.default_float_dtype = np.float32  # every group and synapse of the network
    one, two = simulate(1), simulate(2)
    assert "cdef float* _ptr_v" in two["source"] and one["v"].dtype == np.float32
    assert len(one["i"]) > 5000
    for name in ("i", "t", "v", "trace", "w"):
        np.testing.assert_array_equal(two[name], one[name], err_msg=name)


def test_a_network_operation_splitting_the_steps_changes_no_random_number(every_loop_shared):
    calls = []

    @network_operation(dt=1 * ms)
    def count(t):
        calls.append(t)

    plain, split = simulate(2), simulate(2, [count])
    assert len(calls) == 40
    for name in ("i", "t", "v"):
        np.testing.assert_array_equal(split[name], plain[name], err_msg=name)


def test_a_queue_of_targets_whose_statements_write_no_neuron_is_delivered_once(every_loop_shared):
    """Statements that read the target and write nothing of it (a temporary, and a count
    summed by a network operation would be the way to use it) still need one thread per
    arriving spike: the threaded delivery partitions by the queued target."""

    def deliveries(threads):
        start_scope()
        seed(3)
        group = NeuronGroup(3000, "v : 1", threshold="rand() < 0.02", name="g")
        group.v = "i"
        # the synapses are only read: the queue holds targets, and delivery writes nothing
        reading = Synapses(group, group, on_pre="tmp = v_post * 2", name="reading")
        reading.connect(p=0.01)
        writing = Synapses(group, group, on_pre="v_post += 1", name="writing")
        writing.connect(j="i")
        network = Network(group, reading, writing)
        network.run(2 * ms, threads=threads)
        assert reading.pathways[0].queued == "j"
        return np.array(group.v_[:]), network.last_run.source

    one, _ = deliveries(1)
    two, source = deliveries(2)
    (reading,) = [f for f in source.split("\ncdef void ") if "tmp = " in f and "_queue" in f]
    # one queue per block of targets, holding the targets themselves
    assert "_queues_pre[_part]).peek()" in reading
    assert "_post_idx = _arriving_entries[_k]" in reading
    np.testing.assert_array_equal(two, one)


def run_in_pieces(threads_per_run):
    """The noisy network run 10 ms at a time with the given thread counts, stored before the
    third run and restored at the end for one more: spikes still in flight (delays up to 3 ms)
    move between the single queue of serial runs and the queues per block of targets of
    threaded ones, and through store()/restore()."""
    start_scope()
    network, objects = noisy_network()
    pending = []
    for k, threads in enumerate(threads_per_run):
        if k == 2:
            network.store()
        network.run(10 * ms, threads=threads)
        pending.append(sum(p.n_pending for p in objects["recurrent"].pathways))
    network.restore()
    network.run(10 * ms, threads=threads_per_run[-1])
    spikes = objects["spikes"]
    return pending, {
        "i": np.array(spikes.i[:]),
        "t": np.array(spikes.t_[:]),
        "v": np.array(objects["group"].v_[:]),
        "w": np.array(objects["plastic"].w[:]),
    }


def test_spikes_in_flight_survive_changes_of_the_thread_count_and_store_restore(
    every_loop_shared,
):
    serial_pending, serial = run_in_pieces([1, 1, 1, 1])
    mixed_pending, mixed = run_in_pieces([2, 1, 3, 2])
    assert min(serial_pending) > 100  # every boundary has spikes in flight
    assert mixed_pending == serial_pending
    for name in ("i", "t", "v", "w"):
        np.testing.assert_array_equal(mixed[name], serial[name], err_msg=name)


def test_a_threaded_run_leaves_the_same_pending_spikes_in_the_saved_state(every_loop_shared):
    """What store() saves of a queue split by target: the same entries in each slot as the
    single queue's, up to the interleaving of different neurons' spikes."""
    states = {}
    for threads in (1, 2):
        start_scope()
        network, objects = noisy_network()
        network.run(10 * ms, threads=threads)
        states[threads] = objects["inhibitory"]._full_state()["queues"]["pre"]
    one, two = states[1], states[2]
    assert one["entries"] == two["entries"] == "j"
    np.testing.assert_array_equal(two["counts"], one["counts"])
    assert one["counts"].sum() > 100
    slots = np.repeat(np.arange(len(one["counts"])), one["counts"])
    for slot in np.unique(slots):
        a, b = one["synapses"][slots == slot], two["synapses"][slots == slot]
        np.testing.assert_array_equal(np.sort(b), np.sort(a))


def test_every_run_and_every_assignment_has_numbers_of_its_own():
    start_scope()
    seed(5)
    group = NeuronGroup(1000, "x : 1\ny : 1")
    group.x = "rand()"
    group.y = "rand()"
    x, y = np.array(group.x[:]), np.array(group.y[:])
    assert not np.any(x == y)
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.15  # independent streams
    noise = NeuronGroup(1000, "dz/dt = xi/sqrt(ms) : 1", method="euler")
    net = Network(noise)
    net.store()
    epoch = int(random_state[1])
    net.run(1 * ms)
    first = np.array(noise.z[:])
    assert int(random_state[1]) == epoch + 1
    net.restore()
    net.run(1 * ms)
    assert not np.any(np.array(noise.z[:]) == first)  # the next run draws other numbers
    net.restore(restore_random_state=True)
    net.run(1 * ms)
    np.testing.assert_array_equal(noise.z[:], first)  # the stored key: the same numbers


def test_uniform_and_normal_numbers_have_their_moments():
    start_scope()
    seed(2)
    group = NeuronGroup(200_000, "u : 1\nn : 1")
    group.u = "rand()"
    group.n = "randn()"
    u, n = np.array(group.u[:]), np.array(group.n[:])
    # standard errors: 0.00065 (mean of U), 0.0022 (mean of N), 0.0032 (variance of N)
    assert abs(u.mean() - 0.5) < 0.004 and abs(u.var() - 1 / 12) < 0.002
    assert u.min() >= 0 and u.max() < 1
    assert abs(n.mean()) < 0.012 and abs(n.var() - 1) < 0.018
    # neighbouring elements are independent
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.012


def test_the_thread_count_comes_from_brian2s_preference_and_is_checked():
    start_scope()
    group = NeuronGroup(10, "dv/dt = -v/(10*ms) : 1")
    prefs.devices.cpp_standalone.openmp_threads = 2
    try:
        run(1 * ms)
        assert OPENMP_MARKER in magic_network.last_run.source
    finally:
        prefs.devices.cpp_standalone.openmp_threads = 0
    run(1 * ms)
    assert OPENMP_MARKER not in magic_network.last_run.source
    with pytest.raises(ValueError, match="threads must be between 1 and 256, not -1"):
        run(1 * ms, threads=-1)
    with pytest.raises(TypeError, match="whole number of threads"):
        run(1 * ms, threads=1.5)
    assert magic_network.t == 2 * ms  # refused runs did not advance
    assert len(group.v[:]) == 10


def test_queues_of_blocks_without_synapses_deliver_nothing(every_loop_shared):
    """Every synapse onto the first neuron (the second thread's queue is empty), and a pathway
    without any synapse: both run threaded as on one thread."""

    def simulate_sparse(threads):
        start_scope()
        group = NeuronGroup(500, "dv/dt = (1.5 - v)/(5*ms) : 1", threshold="v > 1", reset="v = 0")
        group.v = "i / 500"
        onto_first = Synapses(group, group, on_pre="v_post += 0.01", delay=1 * ms)
        onto_first.connect(i=np.arange(500), j=np.zeros(500, dtype=int))
        empty = Synapses(group, group, on_pre="v_post += 0.5")
        empty.connect(False)
        spikes = SpikeMonitor(group)
        network = Network(group, onto_first, empty, spikes)
        network.run(20 * ms, threads=threads)
        counts = np.bincount(spikes.i[:], minlength=2)
        return np.array(group.v_[:]), counts, [p.parts.n_parts for p in onto_first.pathways]

    (one, counts, _), (two, _, parts) = simulate_sparse(1), simulate_sparse(2)
    assert parts == [2]
    assert counts[0] > 2 * counts[1]  # the first neuron is driven by all the others
    np.testing.assert_array_equal(two, one)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_restore_from_a_network_operation_keeps_a_queue_of_targets_right(
    every_loop_shared, threads
):
    """restore() called during a run, by a network operation, replaces the pending spikes of
    a queue the running module holds: a queue of target neurons (``v_post += 0.01``) must get
    target neurons, not the synapse indices the snapshot was taken with (before the first run),
    and a threaded run's queues per block must stay where the module reads them.  The same
    network with a weight per synapse (a queue of synapse indices) is the reference."""

    def simulate_with_restore(on_pre, model):
        start_scope()
        seed(1)
        group = NeuronGroup(100, "dv/dt = (1.5 - v)/(5*ms) : 1", threshold="v > 1", reset="v = 0")
        group.v = "i / 100"
        synapses = Synapses(group, group, model, on_pre=on_pre, delay=2 * ms)
        synapses.connect(p=0.2)
        if model:
            synapses.w = 1
        spikes = SpikeMonitor(group)

        @network_operation(dt=5 * ms)
        def go_back(t):
            if 7 * ms < t < 12 * ms:
                network.restore()

        network = Network(group, synapses, spikes, go_back)
        network.store()
        network.run(20 * ms, threads=threads)
        return synapses.pathways[0].queued, np.array(spikes.i[:]), np.array(spikes.t_[:])

    queued, i, t = simulate_with_restore("v_post += 0.01", "")
    reference, i_ref, t_ref = simulate_with_restore("v_post += 0.01*w", "w : 1")
    assert (queued, reference) == ("j", None)
    assert len(i_ref) > 150
    np.testing.assert_array_equal(i, i_ref)
    np.testing.assert_array_equal(t, t_ref)


def test_queues_per_block_between_subgroups_and_on_post_are_identical_for_any_thread_count(
    every_loop_shared,
):
    """Queues split by the block of a subgroup's neuron (indices relative to the subgroup), by
    the presynaptic neuron an ``on_post`` pathway writes, and by the target of a queue of
    synapse indices."""

    def simulate_subgroups(threads):
        start_scope()
        seed(2)
        group = NeuronGroup(
            3000, "dv/dt = (1.2 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact"
        )
        group.v = "rand()"
        first, second = group[:1000], group[1000:2600]
        forward = Synapses(first, second, on_pre="v_post += 0.02")
        forward.connect(p=0.05)
        forward.delay = "rand()*2*ms"
        backward = Synapses(second, first, on_post="v_pre -= 0.01")
        backward.connect(p=0.03)
        weighted = Synapses(group, second, "w : 1", on_pre="v_post += w*0.01")
        weighted.connect(p=0.01)
        weighted.w = "rand()"
        spikes = SpikeMonitor(group)
        Network(group, forward, backward, weighted, spikes).run(30 * ms, threads=threads)
        splits = [
            (p.partition, p.queued, p.parts.n_parts)
            for s in (forward, backward, weighted)
            for p in s.pathways
        ]
        return np.array(spikes.i[:]), np.array(spikes.t_[:]), np.array(group.v_[:]), splits

    one = simulate_subgroups(1)
    assert len(one[0]) > 2000
    for threads in (2, 3):
        other = simulate_subgroups(threads)
        assert other[3] == [("j", "j", threads), ("i", "i", threads), ("j", None, threads)]
        for name, ours, reference in zip(("i", "t", "v"), other[:3], one[:3]):
            np.testing.assert_array_equal(ours, reference, err_msg=name)

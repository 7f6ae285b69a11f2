"""The C++ spike queue (``spikequeue.h``) through its owner, against a plain-Python model.

The model keeps a dict from absolute time step to the list of synapse indices delivered then;
the C++ queue must give the same lists, in the same order, at every step.
"""

import ctypes
from collections import defaultdict

import numpy as np
import pytest

from spikeforge.runtime import containers


@pytest.fixture(scope="module")
def module():
    """The compiled containers module (one compile per test session)."""
    return containers()


class ReferenceQueue:
    """The queue's meaning in plain Python: a spike pushed at step n with delay d arrives at n+d.

    A slot lists synapses in push order: sources in the order given, each source's synapses in
    the order of ``synapses_by_source``.  Re-preparing keeps pending spikes at their step.
    """

    def __init__(self):
        self.step = 0
        self.pending = defaultdict(list)
        self.delays = []
        self.by_source = []

    def prepare(self, delays, offsets, synapses_by_source=None):
        order = list(range(len(delays))) if synapses_by_source is None else synapses_by_source
        self.delays = [int(d) for d in delays]
        self.by_source = [
            [int(i) for i in order[offsets[s] : offsets[s + 1]]] for s in range(len(offsets) - 1)
        ]

    def push(self, sources):
        for source in sources:
            for synapse in self.by_source[source]:
                self.pending[self.step + self.delays[synapse]].append(synapse)

    def peek(self):
        return list(self.pending.get(self.step, []))

    def advance(self):
        self.pending.pop(self.step, None)
        self.step += 1


class Both:
    """Drives the C++ queue and the reference model together and compares every ``peek``."""

    def __init__(self, module):
        self.queue = module.SpikeQueue()
        self.reference = ReferenceQueue()

    def prepare(self, delays, offsets, synapses_by_source=None):
        self.queue.prepare(delays, offsets, synapses_by_source)
        self.reference.prepare(delays, offsets, synapses_by_source)

    def push(self, sources):
        self.queue.push(np.asarray(sources, dtype=np.int32))
        self.reference.push(sources)

    def check_and_advance(self):
        delivered = self.queue.peek()
        assert delivered.dtype == np.int32
        assert delivered.tolist() == self.reference.peek(), f"step {self.reference.step}"
        self.queue.advance()
        self.reference.advance()

    def pending(self):
        return sum(len(v) for v in self.reference.pending.values())


def random_pathway(rng, n_sources, max_synapses_per_source, max_delay, shuffle=False):
    """Delays, offsets and (optionally shuffled) synapse order of a random pathway."""
    counts = rng.integers(0, max_synapses_per_source + 1, size=n_sources)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    n_synapses = int(offsets[-1])
    delays = rng.integers(0, max_delay + 1, size=n_synapses).astype(np.int32)
    order = rng.permutation(n_synapses).astype(np.int32) if shuffle else None
    return delays, offsets, order


def run_random(both, rng, n_sources, n_steps, spike_probability):
    for _ in range(n_steps):
        spiking = np.flatnonzero(rng.random(n_sources) < spike_probability)
        rng.shuffle(spiking)  # any order of sources, not only increasing
        both.push(spiking.tolist())
        both.check_and_advance()


def test_single_spike_reaches_each_synapse_at_its_delay(module):
    queue = module.SpikeQueue()
    # source 0 has synapses 0..3; source 1 has synapse 4
    queue.prepare(np.array([3, 0, 5, 3, 1], dtype=np.int32), np.array([0, 4, 5], dtype=np.int32))
    assert queue.n_slots == 6 and queue.n_sources == 2 and queue.n_synapses == 5
    assert not queue.is_homogeneous
    for _ in range(4):  # start away from slot 0 of the ring
        queue.advance()
    queue.push(np.array([0], dtype=np.int32))
    assert queue.n_pending == 4
    expected = {0: [1], 3: [0, 3], 5: [2]}
    for step in range(12):
        assert queue.peek().tolist() == expected.get(step, []), step
        queue.advance()
    assert queue.n_pending == 0


def test_order_within_a_slot(module):
    both = Both(module)
    # source 0: synapses 0, 1 (delay 2); source 1: synapses 2, 3 (delay 2, 0); source 2: 4 (delay 1)
    both.prepare([2, 2, 2, 0, 1], [0, 2, 4, 5])
    both.push([2])
    both.check_and_advance()
    # step 1: synapse 4 (pushed at step 0) arrives before what step 1 pushes with delay 0
    both.push([1, 0])  # sources in the order given, then each source's synapses in order
    both.push([1])  # a second push in the same step comes after the first
    assert both.queue.peek().tolist() == [4, 3, 3]
    both.check_and_advance()
    both.check_and_advance()
    # step 3: delay 2 from step 1
    assert both.queue.peek().tolist() == [2, 0, 1, 2]
    both.check_and_advance()


def test_order_follows_synapses_by_source(module):
    both = Both(module)
    # source 0 owns synapses 3 and 0 (in that order), source 1 owns 2, 4, 1
    both.prepare([1, 1, 1, 1, 1], [0, 2, 5], [3, 0, 2, 4, 1])
    assert both.queue.is_homogeneous
    both.push([1, 0, 1])
    both.check_and_advance()
    assert both.queue.peek().tolist() == [2, 4, 1, 3, 0, 2, 4, 1]
    both.check_and_advance()


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_delays_over_long_runs(module, seed, shuffle):
    rng = np.random.default_rng(seed)
    n_sources, max_delay = 30, 7
    delays, offsets, order = random_pathway(rng, n_sources, 6, max_delay, shuffle)
    both = Both(module)
    both.prepare(delays, offsets, order)
    assert both.queue.n_slots == int(delays.max()) + 1
    run_random(both, rng, n_sources, 4000, 0.1)  # wraps around the ring hundreds of times
    assert both.queue.n_pending == both.pending()


@pytest.mark.parametrize("delay", [0, 1, 4])
def test_homogeneous_delays(module, delay):
    rng = np.random.default_rng(10 + delay)
    n_sources = 25
    delays, offsets, order = random_pathway(rng, n_sources, 5, 0, shuffle=True)
    delays[:] = delay
    both = Both(module)
    both.prepare(delays, offsets, order)
    assert both.queue.is_homogeneous
    assert both.queue.n_slots == delay + 1
    run_random(both, rng, n_sources, 3000, 0.2)


def test_delay_zero_delivers_at_the_same_step(module):
    queue = module.SpikeQueue()
    queue.prepare(np.zeros(3, dtype=np.int32), np.array([0, 2, 3], dtype=np.int32))
    assert queue.n_slots == 1
    for step in range(5):
        queue.push(np.array([step % 2], dtype=np.int32))
        assert queue.peek().tolist() == ([0, 1] if step % 2 == 0 else [2])
        queue.advance()
        assert queue.n_pending == 0


def test_mixed_zero_and_positive_delays(module):
    rng = np.random.default_rng(5)
    delays, offsets, _ = random_pathway(rng, 15, 4, 2)
    delays[::3] = 0
    both = Both(module)
    both.prepare(delays, offsets)
    run_random(both, rng, 15, 2000, 0.3)


@pytest.mark.parametrize("second_max_delay", [25, 2])
def test_changing_delays_keeps_the_delivery_step_of_pending_spikes(module, second_max_delay):
    """Re-preparing between runs: spikes already pushed arrive at the step set when pushed.

    The ring grows to the new largest delay plus one and never shrinks, so a smaller maximum
    delay also keeps them.
    """
    rng = np.random.default_rng(42)
    n_sources = 20
    delays, offsets, _ = random_pathway(rng, n_sources, 5, 6)
    both = Both(module)
    both.prepare(delays, offsets)
    first_slots = both.queue.n_slots
    run_random(both, rng, n_sources, 1003, 0.3)  # stop with the ring's current slot not at 0
    both.push(list(range(n_sources)))  # plenty pending, with every delay of the first phase
    assert both.pending() > 0 and both.queue.n_pending == both.pending()

    new_delays = rng.integers(0, second_max_delay + 1, size=len(delays)).astype(np.int32)
    new_delays[0] = second_max_delay
    both.prepare(new_delays, offsets)
    assert both.queue.n_slots == max(first_slots, second_max_delay + 1)
    assert both.queue.n_pending == both.pending()
    run_random(both, rng, n_sources, 3000, 0.2)
    for _ in range(both.queue.n_slots):  # drain
        both.check_and_advance()
    assert both.queue.n_pending == 0


def test_changing_delays_on_a_homogeneous_queue(module):
    both = Both(module)
    offsets = [0, 3, 5]
    both.prepare([2] * 5, offsets)  # three slots
    both.check_and_advance()
    both.push([0, 1])  # at step 1, for step 3
    both.check_and_advance()
    both.prepare([6] * 5, offsets)  # grow while spikes are pending, at slot 2 of the ring
    assert both.queue.is_homogeneous and both.queue.n_slots == 7
    both.push([1])
    for _ in range(10):
        both.check_and_advance()


def test_clear_drops_pending_spikes(module):
    queue = module.SpikeQueue()
    queue.prepare(np.array([0, 3], dtype=np.int32), np.array([0, 2], dtype=np.int32))
    queue.push(np.array([0, 0], dtype=np.int32))
    assert queue.n_pending == 4
    queue.clear()
    assert queue.n_pending == 0 and queue.peek().tolist() == []
    assert queue.n_slots == 4


def test_empty_queue_and_empty_pushes(module):
    queue = module.SpikeQueue()
    assert queue.n_slots == 1 and queue.peek().tolist() == []
    queue.advance()
    queue.push(np.zeros(0, dtype=np.int32))  # nothing to push, allowed before prepare
    queue.prepare(np.zeros(0, dtype=np.int32), np.array([0, 0, 0], dtype=np.int32))
    queue.push(np.array([0, 1], dtype=np.int32))  # sources without synapses
    assert queue.peek().tolist() == [] and queue.n_pending == 0


def test_invalid_input_is_refused(module):
    queue = module.SpikeQueue()
    with pytest.raises(IndexError):
        queue.push(np.array([0], dtype=np.int32))  # before prepare
    with pytest.raises(ValueError, match="last source offset"):
        queue.prepare(np.array([1, 1], dtype=np.int32), np.array([0, 1], dtype=np.int32))
    with pytest.raises(ValueError, match="not decrease"):
        queue.prepare(np.array([1, 1], dtype=np.int32), np.array([0, 2, 1, 2], dtype=np.int32))
    with pytest.raises(ValueError, match="delay of synapse 1"):
        queue.prepare(np.array([1, -1], dtype=np.int32), np.array([0, 2], dtype=np.int32))
    with pytest.raises(ValueError, match="out of range"):
        queue.prepare([1, 1], [0, 2], [0, 2])
    assert queue.n_sources == 0 and queue.n_slots == 1  # failed prepares changed nothing
    queue.prepare(np.array([1, 1], dtype=np.int32), np.array([0, 1, 2], dtype=np.int32))
    with pytest.raises(IndexError):
        queue.push(np.array([2], dtype=np.int32))
    with pytest.raises(IndexError):
        queue.push(np.array([-1], dtype=np.int32))


def test_capsule_has_the_spikequeue_name(module):
    queue = module.SpikeQueue()
    capsule = queue.capsule()
    assert type(capsule).__name__ == "PyCapsule"
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    assert get_name(capsule) == b"spikeforge.SpikeQueue"
    assert module.SPIKEQUEUE_CAPSULE_NAME == b"spikeforge.SpikeQueue"
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    # the same C++ object every time
    assert get_pointer(capsule, b"spikeforge.SpikeQueue") == get_pointer(
        queue.capsule(), b"spikeforge.SpikeQueue"
    )


# prepare_from_sources: the set-up synaptic pathways use -----------------------------------------
def _from_sources(both, sources, n_sources, delay_seconds, uniform_seconds, dt):
    """Prepare the C++ queue from the source of each synapse, the reference from the equivalent
    offsets, order (stable by source) and rounded delays."""
    sources = np.asarray(sources, dtype=np.int32)
    both.queue.prepare_from_sources(sources, n_sources, delay_seconds, uniform_seconds, dt)
    order = np.argsort(sources, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(sources, minlength=n_sources))])
    seconds = np.full(len(sources), uniform_seconds) if delay_seconds is None else delay_seconds
    steps = [int(s / dt + 0.5) for s in seconds]
    both.reference.prepare(steps, offsets.tolist(), order.tolist())


@pytest.mark.parametrize("grouped", [True, False])
@pytest.mark.parametrize("per_synapse_delays", [True, False])
def test_prepare_from_sources_matches_the_reference(module, grouped, per_synapse_delays):
    rng = np.random.default_rng(11)
    n_sources, n_synapses, dt = 30, 400, 0.1e-3
    sources = rng.integers(0, n_sources, size=n_synapses)
    if grouped:
        sources.sort()
    delays = rng.uniform(0, 2e-3, size=n_synapses) if per_synapse_delays else None
    both = Both(module)
    _from_sources(both, sources, n_sources, delays, 0.7e-3, dt)
    # a queue of grouped sources keeps no index per synapse
    assert both.queue.stores_synapse_order == (not grouped)
    assert both.queue.is_homogeneous == (not per_synapse_delays)
    assert both.queue.n_synapses == n_synapses
    assert both.queue.n_slots == (21 if per_synapse_delays else 8)  # max delay + 1
    run_random(both, rng, n_sources, 60, 0.2)


def test_prepare_from_sources_rejects_bad_input_and_changes_nothing(module):
    queue = module.SpikeQueue()
    queue.prepare_from_sources(np.array([0, 0, 1], dtype=np.int32), 2, None, 0.5e-3, 1e-4)
    with pytest.raises(ValueError, match="source 2 of synapse 1"):
        queue.prepare_from_sources(np.array([0, 2], dtype=np.int32), 2, None, 0.0, 1e-4)
    with pytest.raises(ValueError, match="delay of synapse 1 out of range"):
        queue.prepare_from_sources(
            np.array([0, 1], dtype=np.int32), 2, np.array([0.0, -1e-3]), 0.0, 1e-4
        )
    with pytest.raises(ValueError, match="delay of synapse 0 out of range"):
        queue.prepare_from_sources(np.array([0], dtype=np.int32), 2, np.array([np.nan]), 0.0, 1e-4)
    with pytest.raises(ValueError, match="one value per synapse"):
        queue.prepare_from_sources(np.array([0, 1], dtype=np.int32), 2, np.zeros(3), 0.0, 1e-4)
    # the first set-up is intact: three synapses, one delay of 5 steps
    assert queue.n_synapses == 3 and queue.n_slots == 6 and queue.is_homogeneous
    queue.push(np.array([0], dtype=np.int32))
    for _ in range(5):
        assert queue.peek().size == 0
        queue.advance()
    assert queue.peek().tolist() == [0, 1]


# values: slots hold a value per synapse (its target neuron) instead of its index ---------------
@pytest.mark.parametrize("grouped", [True, False])
@pytest.mark.parametrize("per_synapse_delays", [True, False])
def test_a_queue_of_values_delivers_the_value_of_each_synapse_in_the_same_order(
    module, grouped, per_synapse_delays
):
    """A queue prepared with ``values`` delivers, at every step, ``values[s]`` for exactly the
    synapses ``s`` (in the same order) that a queue of synapse indices delivers."""
    rng = np.random.default_rng(5)
    n_sources, n_synapses, dt = 25, 300, 0.1e-3
    sources = rng.integers(0, n_sources, size=n_synapses).astype(np.int32)
    if grouped:
        sources.sort()
    values = rng.integers(0, 1000, size=n_synapses).astype(np.int32)
    delays = rng.uniform(0, 1.5e-3, size=n_synapses) if per_synapse_delays else None
    by_index, by_value = module.SpikeQueue(), module.SpikeQueue()
    by_index.prepare_from_sources(sources, n_sources, delays, 0.4e-3, dt)
    by_value.prepare_from_sources(sources, n_sources, delays, 0.4e-3, dt, values)
    assert by_value.holds_values and not by_index.holds_values
    assert by_value.stores_synapse_order == (not grouped)  # grouped: reads `values` at push()
    delivered = 0
    for _ in range(50):
        spiking = np.flatnonzero(rng.random(n_sources) < 0.3).astype(np.int32)
        by_index.push(spiking)
        by_value.push(spiking)
        synapses = by_index.peek()
        assert by_value.peek().tolist() == values[synapses].tolist()
        delivered += synapses.size
        by_index.advance()
        by_value.advance()
    assert delivered > 500


def test_prepare_grouped_with_values(module):
    offsets = np.array([0, 2, 2, 5], dtype=np.int32)  # source 0: synapses 0, 1; source 2: 2-4
    values = np.array([7, 3, 9, 9, 1], dtype=np.int32)
    queue = module.SpikeQueue()
    queue.prepare_grouped(offsets, np.array([0.0, 2e-4, 1e-4, 0.0, 2e-4]), 0.0, 1e-4, values)
    queue.push(np.array([2, 0], dtype=np.int32))
    assert queue.peek().tolist() == [9, 7]
    queue.advance()
    assert queue.peek().tolist() == [9]
    queue.advance()
    assert queue.peek().tolist() == [1, 3]
    with pytest.raises(ValueError, match="values needs one value per synapse"):
        queue.prepare_grouped(offsets, None, 0.0, 1e-4, values[:4])
    # pending values cannot become synapse indices: refused, and the queue is unchanged
    with pytest.raises(ValueError, match="holds pending values, not synapse indices: clear"):
        queue.prepare_grouped(offsets, None, 0.0, 1e-4)
    assert queue.holds_values and queue.peek().tolist() == [1, 3]
    # once cleared, the queue can hold synapse indices
    queue.clear()
    queue.prepare_grouped(offsets, None, 0.0, 1e-4)
    assert not queue.holds_values
    queue.push(np.array([0], dtype=np.int32))
    assert queue.peek().tolist() == [0, 1]


def test_restored_synapse_indices_become_values_at_the_next_prepare(module):
    """A saved state of synapse indices (from a queue without values) restored into a queue of
    values: the next prepare() turns each pending synapse into its value, at its step."""
    sources = np.array([0, 0, 1, 1, 1], dtype=np.int32)
    values = np.array([40, 41, 42, 43, 44], dtype=np.int32)
    delays = np.array([1e-4, 3e-4, 0.0, 2e-4, 3e-4])
    plain = module.SpikeQueue()
    plain.prepare_from_sources(sources, 2, delays, 0.0, 1e-4)
    plain.push(np.array([1, 0], dtype=np.int32))
    plain.advance()  # synapse 2 delivered; 3, 0 | 4, 1 pending
    counts, synapses = plain.pending_spikes()
    queue = module.SpikeQueue()
    queue.prepare_from_sources(sources, 2, delays, 0.0, 1e-4, values)
    queue.set_pending_spikes(counts, synapses)  # synapse indices
    assert not queue.holds_values
    queue.prepare_from_sources(sources, 2, delays, 0.0, 1e-4, values)
    assert queue.holds_values
    delivered = []
    for _ in range(3):
        delivered.append(queue.peek().tolist())
        queue.advance()
    assert delivered == [[40], [43], [44, 41]]
    # a state that names a synapse the queue does not have is refused
    queue.set_pending_spikes([1], [7])
    with pytest.raises(ValueError, match="a pending spike names synapse 7 of 5"):
        queue.prepare_from_sources(sources, 2, delays, 0.0, 1e-4, values)

"""Which objects run() simulates, and when its time starts again at 0 (Brian2's rules)."""

import gc
import types
import weakref

import numpy as np

from spikeforge.only import *


def _decay():
    G = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1", method="exact")
    G.v = 1
    return G, StateMonitor(G, "v", record=[0])


def test_a_loop_that_builds_a_new_network_each_time_starts_at_zero():
    """Without start_scope(), a new network made in each iteration of a loop (the earlier one no
    longer referred to) runs from t = 0, alone, as in Brian2: every iteration records the
    same closed-form decay."""
    traces = []
    archive = types.SimpleNamespace(kept=[])  # keeps earlier objects alive, out of sight
    for _ in range(3):
        G, mon = _decay()
        run(2 * ms)
        archive.kept.append((G, mon))
        traces.append(np.array(mon.v[0]))
        assert magic_network.t == 2 * ms
        assert np.allclose(mon.t / ms, np.arange(20) * 0.1)
        assert len(magic_network.objects) == 2
    np.testing.assert_allclose(traces[0], np.exp(-np.arange(20) * 0.1 / 10), rtol=1e-12)
    assert all(np.array_equal(trace, traces[0]) for trace in traces)
    assert all(len(mon.t) == 20 for _, mon in archive.kept)  # the old ones stopped running


def test_objects_still_referred_to_run_on_with_new_ones():
    """A new monitor on a group that ran before: the group continues, time continues."""
    G, first = _decay()
    run(1 * ms)
    second = StateMonitor(G, "v", record=[1])
    run(1 * ms)
    assert magic_network.t == 2 * ms
    assert np.allclose(second.t / ms, 1 + np.arange(10) * 0.1)
    np.testing.assert_allclose(second.v[0], np.exp(-(1 + np.arange(10) * 0.1) / 10), rtol=1e-12)


def test_objects_in_a_list_and_dependencies_count_as_referred_to():
    """Old objects kept in a list, or needed by a referred object (a monitor's source), stay."""
    groups = [_decay()[0] for _ in range(2)]
    monitor = _decay()[1]  # its group is referred to only through the monitor
    run(1 * ms)
    extra = NeuronGroup(1, "v : 1")
    run(1 * ms)
    assert magic_network.t == 2 * ms
    assert all(obj in magic_network.objects for obj in [*groups, monitor, monitor.source, extra])
    assert len(monitor.t) == 20


def test_objects_of_earlier_scopes_are_freed():
    """Build-and-run cycles don't keep earlier objects alive (once, each group's copy of its
    creator's names held the group of the cycle before, and memory grew with every cycle)."""
    made = []
    for _ in range(5):
        start_scope()
        G = NeuronGroup(3, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0")
        S = Synapses(G, G, "w : 1", on_pre="v += w")
        S.connect(j="i")
        mon = SpikeMonitor(G)
        run(0.2 * ms)
        made.append([weakref.ref(obj) for obj in (G, S, mon)])
    gc.collect()
    assert all(ref() is None for cycle in made[:-1] for ref in cycle)
    assert all(ref() is not None for ref in made[-1])

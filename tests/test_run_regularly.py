"""``run_regularly``: statements run for every element at each tick of a (slower) clock.

The models are deterministic: ``dv/dt = 1/(10*ms)`` integrated by Euler adds exactly 0.01 per
step, so the steps at which ``v`` is reset are visible in a ``StateMonitor`` record.
"""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen import cache
from spikeforge.codegen.expressions import ExpressionError


def ramp(n=3):
    return NeuronGroup(n, "dv/dt = 1/(10*ms) : 1\nw : 1", method="euler")


def test_runs_exactly_on_its_clock_ticks_in_its_slot():
    G = ramp()
    G.run_regularly("v = 0", dt=1 * ms, when="end")
    mon = StateMonitor(G, "v", record=0)  # records in the slot 'start'
    run(3 * ms)
    k = np.arange(30)
    # reset at the end of steps 0, 10, 20: at the start of step k, v has grown since then
    expected = np.where(k == 0, 0.0, 0.01 * ((k - 1) % 10))
    np.testing.assert_allclose(mon.v[0], expected, atol=1e-12)


def test_a_new_dt_compiles_nothing_and_changes_the_ticks():
    G = ramp()
    regularly = G.run_regularly("v = i", dt=1 * ms, when="end")
    net = Network(G)  # the group brings its run_regularly object along
    net.run(1 * ms)
    source, compiled = net.last_run.source, len(cache.statistics.compiled)
    regularly.clock.dt = 0.5 * ms
    net.run(0.7 * ms)  # steps 10 to 16: ticks at steps 10 and 15
    assert net.last_run.source == source
    assert len(cache.statistics.compiled) == compiled
    np.testing.assert_allclose(G.v[:], np.arange(3) + 0.01, atol=1e-12)


def test_statements_with_temporaries_and_inactive_objects():
    G = ramp(4)
    G.run_regularly("x = 2*i\nw = x + x**2", dt=1 * ms)
    stopped = G.run_regularly("v = 100", dt=1 * ms, name="stopped")
    stopped.active = False
    run(1 * ms)
    np.testing.assert_allclose(G.w[:], 2 * np.arange(4) + (2 * np.arange(4)) ** 2)
    np.testing.assert_allclose(G.v[:], 0.1, atol=1e-12)


def test_on_synapses():
    G = NeuronGroup(3, "x : 1")
    S = Synapses(G, G, "w : 1")
    S.connect()
    G.x = [1, 2, 3]
    S.run_regularly("w += x_pre * x_post", dt=1 * ms)
    run(2.5 * ms)  # ticks at 0, 1 and 2 ms
    np.testing.assert_allclose(S.w[:], 3 * G.x[:][S.i[:]] * G.x[:][S.j[:]])


def test_store_and_restore_give_the_same_run():
    G = ramp(2)
    G.run_regularly("v = v / 2", dt=0.7 * ms)
    store()
    run(3 * ms)
    first = G.v[:].copy()
    restore()
    run(3 * ms)
    np.testing.assert_array_equal(G.v[:], first)


def test_errors_name_the_object_and_the_line():
    G = ramp()
    with pytest.raises(ExpressionError, match=r"run_regularly 'reg'.*line 2.*must be defined"):
        G.run_regularly("v = 0\ny += 1", name="reg")
    G.run_regularly("x = v*mV\nv = x", name="units")
    with pytest.raises(ExpressionError, match=r"run_regularly 'units' line 2.*inconsistent units"):
        run(1 * ms)
    with pytest.raises(TypeError, match="statements as a string"):
        G.run_regularly(3)

"""Clocks, per-object dt, StateMonitor(dt=), network_operation and the schedule."""

import numpy as np
import pytest

from spikeforge.only import *


def test_objects_on_slower_and_faster_clocks():
    slow = NeuronGroup(1, "dv/dt = 1/ms : 1", method="euler", dt=0.4 * ms)
    fast = NeuronGroup(1, "dx/dt = 1/ms : 1", method="euler", dt=0.05 * ms)
    default = NeuronGroup(1, "dy/dt = 1/ms : 1", method="euler")
    run(2 * ms)
    # each integrates exactly 2 ms of a constant slope, at its own number of steps
    assert slow.v[0] == pytest.approx(2.0) and fast.x[0] == pytest.approx(2.0)
    assert default.y[0] == pytest.approx(2.0)
    # the step size each group saw: euler with dt gives v = n*dt*slope
    record = StateMonitor(slow, "v", record=0)
    run(1.2 * ms)
    np.testing.assert_allclose(record.t / ms, [2.0, 2.4, 2.8], atol=1e-12)
    np.testing.assert_allclose(record.v[0], [2.0, 2.4, 2.8], atol=1e-12)


def test_a_monitor_clock_does_not_make_the_same_network_compile_again():
    # StateMonitor(dt=) makes a Clock whose default name counts clocks made in this process;
    # the generated code names clocks by position, so the same network is the same module
    from spikeforge.codegen import cache  # the compile counter; only this test reads it

    def build_and_run():
        start_scope()
        G = NeuronGroup(2, "dv/dt = 1/ms : 1", method="euler")
        mon = StateMonitor(G, "v", record=0, dt=0.3 * ms)
        run(1 * ms)
        return mon

    first = build_and_run()
    unrelated = Clock(dt=0.2 * ms)  # moves the counter of default clock names
    compiled = len(cache.statistics.compiled)
    second = build_and_run()
    assert len(cache.statistics.compiled) == compiled
    assert second.clock.name != first.clock.name and unrelated.name
    np.testing.assert_allclose(second.t / ms, [0, 0.3, 0.6, 0.9], atol=1e-12)
    np.testing.assert_allclose(second.v[0], first.v[0], atol=0)


def test_state_monitor_with_its_own_dt():
    G = NeuronGroup(1, "dv/dt = 1/ms : 1", method="euler")
    every = StateMonitor(G, "v", record=0)
    sparse = StateMonitor(G, "v", record=0, dt=0.5 * ms)
    run(2 * ms)
    np.testing.assert_allclose(sparse.t / ms, [0, 0.5, 1.0, 1.5], atol=1e-12)
    np.testing.assert_allclose(sparse.v[0], every.v[0][::5], atol=1e-12)


def test_clock_ratios_must_be_whole_numbers():
    G = NeuronGroup(1, "v : 1", dt=0.15 * ms)
    H = NeuronGroup(1, "v : 1")
    with pytest.raises(NotImplementedError, match="multiple"):
        run(1 * ms)


def test_network_operation_runs_on_its_steps_in_its_slot():
    G = NeuronGroup(1, "dv/dt = 1/ms : 1", method="euler")
    seen_start, seen_end, calls = [], [], []

    @network_operation(when="start")
    def at_start(t):
        seen_start.append((float(t / ms), G.v[0]))

    @network_operation(dt=0.5 * ms, when="end")
    def at_end():
        seen_end.append(G.v[0])
        calls.append(1)

    run(1 * ms)
    # 'start' sees the state before the step's update, 'end' after it; every 5 steps for dt=0.5
    assert [t for t, _ in seen_start] == pytest.approx(np.arange(10) * 0.1)
    assert [v for _, v in seen_start] == pytest.approx(np.arange(10) * 0.1)
    assert seen_end == pytest.approx([0.1, 0.6])
    assert len(calls) == 2


def test_network_operation_can_change_the_state():
    G = NeuronGroup(3, "dv/dt = 1/ms : 1", method="euler")

    @network_operation(dt=1 * ms, when="start")
    def reset_first():
        G.v[0] = 0

    run(3.05 * ms)  # 31 steps
    # set to 0 at the start of steps 0, 10, 20 and 30; step 30's update then adds 0.1
    assert G.v[0] == pytest.approx(0.1)
    assert G.v[1] == pytest.approx(3.1)


def test_network_operation_argument_errors():
    with pytest.raises(TypeError, match="no argument or one"):
        network_operation(lambda a, b: None)
    with pytest.raises(TypeError, match="needs a function"):
        NetworkOperation(3)


def test_scheduling_summary_shows_clocks():
    G = NeuronGroup(1, "v : 1", dt=0.2 * ms, name="slowgroup")
    M = StateMonitor(G, "v", record=0, name="mon")
    summary = Network(G, M).scheduling_summary()
    assert "slowgroup (NeuronGroup), when=groups, order=0, dt=0.2 ms" in summary
    assert summary.splitlines()[0].startswith("mon")


def test_a_network_schedule_other_than_brian2s_default_is_refused_not_ignored():
    net = Network()
    assert net.schedule == ["start", "groups", "thresholds", "synapses", "resets", "end"]
    net.schedule = None
    net.schedule = list(net.schedule)
    with pytest.raises(NotImplementedError, match="default schedule"):
        net.schedule = ["start", "groups", "synapses", "thresholds", "resets", "end"]
    assert net.schedule[2] == "thresholds"

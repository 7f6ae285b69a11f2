"""Custom events: ``NeuronGroup(events=...)``, ``run_on_event``, ``EventMonitor``, and
``SpikeMonitor(variables=...)``.

The models are deterministic, so events and recorded values are compared exactly with what a
``StateMonitor`` sees in the slot where the event is checked or recorded.
"""

import numpy as np
import pytest

from spikeforge.only import *
from spikeforge.codegen.expressions import ExpressionError

MODEL = """
dv/dt = (drive - v)/(10*ms) : 1
dw/dt = -w/(5*ms) : 1
drive : 1 (constant)
n : integer
above : boolean
double_v = 2*v : 1
"""


def make_group(**kwargs):
    G = NeuronGroup(
        6,
        MODEL,
        threshold="v > 1",
        reset="v = 0; w += 0.5",
        events={"up": "w > 0.3 and v > 0.2"},
        method="euler",
        **kwargs,
    )
    G.drive = np.linspace(0.8, 2.5, 6)
    G.v = np.linspace(0, 0.5, 6)
    return G


def event_steps(condition: np.ndarray, dt: float):
    """``(i, t)`` of the events in a (neurons x steps) boolean array, ordered as recorded: by
    step, then by neuron."""
    steps, indices = np.nonzero(condition.T)
    return indices, steps * dt


def test_custom_event_indices_times_values_and_actions():
    G = make_group()
    G.run_on_event("up", "n += 1; above = v > 0.5; v -= 0.05")
    events = EventMonitor(G, "up", variables=["v", "w", "n", "above", "double_v"])
    spikes = SpikeMonitor(G, variables=["v", "w"])
    # what the event's condition sees (after_thresholds, order 0) and what the monitors record
    # (after the condition: EventMonitor at after_thresholds, order 1; SpikeMonitor at
    # thresholds, order 1)
    seen = StateMonitor(G, ["v", "w", "n", "above"], record=True, when="after_thresholds")
    at_spikes = StateMonitor(G, ["v", "w"], record=True, when="thresholds", order=2)
    run(40 * ms)
    dt = defaultclock.dt_
    v, w = seen.v_, seen.w_
    up = (w > 0.3) & (v > 0.2)
    i, t = event_steps(up, dt)
    assert len(i) > 20 and len(set(i)) >= 4
    np.testing.assert_array_equal(events.i, i)
    np.testing.assert_allclose(events.t_, t, rtol=1e-12, atol=1e-15)
    # the event differs from the spike
    spiked = np.zeros_like(up)
    spiked[spikes.i, np.round(spikes.t_ / dt).astype(int)] = True
    assert np.any(up & ~spiked) and np.any(spiked & ~up)
    # values at the events, exactly as the state monitor saw them in the same slot
    steps = np.round(events.t_ / dt).astype(int)
    np.testing.assert_array_equal(events.v, v[events.i, steps])
    np.testing.assert_array_equal(events.w_, w[events.i, steps])
    np.testing.assert_array_equal(events.double_v, 2 * v[events.i, steps])
    np.testing.assert_array_equal(events.n, seen.n[events.i, steps])
    assert events.n.dtype == np.int32 and events.above.dtype == bool
    spike_steps = np.round(spikes.t_ / dt).astype(int)
    np.testing.assert_array_equal(spikes.v, at_spikes.v_[spikes.i, spike_steps])
    np.testing.assert_array_equal(spikes.w, at_spikes.w_[spikes.i, spike_steps])
    assert np.all(spikes.v > 1)
    # run_on_event ran once per event, only for those neurons, after the resets
    np.testing.assert_array_equal(G.n[:], events.count)
    np.testing.assert_array_equal(events.count, up.sum(axis=1))
    assert events.num_events == len(i) == up.sum()
    # n counts the events before the current one: the statements run after the monitor
    for k in range(G.N):
        np.testing.assert_array_equal(events.values("n")[k], np.arange(events.count[k]))
        np.testing.assert_allclose(events.event_trains()[k] / second, t[i == k], rtol=1e-12)
    never = np.flatnonzero(events.count == 0)
    assert np.all(G.n[never] == 0) and not np.any(G.above[never])
    everything = events.all_values()
    assert set(everything) == {"t", "v", "w", "n", "above", "double_v"}
    assert isinstance(everything["t"][3], Quantity) and len(everything["v"][3]) == events.count[3]
    # the default schedule: the condition after the threshold, the statements after the reset
    lines = magic_network.scheduling_summary().splitlines()
    assert events.when == "after_thresholds" and events.order == G.order + 1
    assert spikes.when == "thresholds" and spikes.order == G.order + 1
    assert any(line.startswith(events.name) for line in lines)


def test_actions_change_the_dynamics_and_events_can_be_rescheduled():
    # an event that never coincides with a spike: the statement is the only thing that acts
    G = NeuronGroup(
        3,
        "dv/dt = rate : 1\nrate : Hz (constant)\ncount : 1",
        events={"crossing": "v > 1"},
        method="euler",
    )
    rates = [0, 450, 1234]  # rate*dt*steps never lands on a whole number
    G.rate = rates * Hz
    G.run_on_event("crossing", "v -= 1; count += 1")
    mon = EventMonitor(G, "crossing", variables="v")
    run(10 * ms)
    # v grows by rate*dt per step and is reduced by 1 after each crossing
    expected_v, expected_count = [], []
    for rate in rates:
        v, count = 0.0, 0
        for _ in range(100):
            v += rate * 1e-4
            if v > 1:
                v, count = v - 1, count + 1
        expected_v.append(v)
        expected_count.append(count)
    np.testing.assert_array_equal(G.count[:], expected_count)
    np.testing.assert_array_equal(mon.count, expected_count)
    assert expected_count[2] > expected_count[1] > 0
    assert np.all(mon.v > 1) and np.all(mon.i > 0)
    np.testing.assert_allclose(G.v[:], expected_v, atol=1e-9)
    # the condition can be checked elsewhere in the step
    G.set_event_schedule("crossing", when="before_groups")
    late = EventMonitor(G, "crossing", name="late")
    assert (late.when, late.order) == ("before_groups", 1)
    with pytest.raises(ValueError, match="when"):
        EventMonitor(G, "crossing", order=3)


def test_spike_monitor_variables_and_record_false():
    G = NeuronGroup(
        4,
        "dv/dt = 1/ms : 1\nk : integer",
        threshold="v > 1",
        reset="v = 0; k += 1",
        method="euler",
    )
    G.v = np.arange(4) * 0.25
    mon = SpikeMonitor(G, variables=["k", "v"], record=False)
    recorder = SpikeMonitor(G, variables="k")
    run(3 * ms)
    assert len(mon.i) == 0 and mon.num_spikes == recorder.num_spikes > 0
    np.testing.assert_array_equal(mon.k, recorder.k)  # variables are recorded without i and t
    with pytest.raises(AttributeError, match="record=False"):
        mon.values("k")
    with pytest.raises(AttributeError, match="record=False"):
        _ = mon.it
    trains, ks = recorder.spike_trains(), recorder.values("k")
    for neuron in range(4):
        np.testing.assert_array_equal(ks[neuron], np.arange(len(trains[neuron])))
    with pytest.raises(AttributeError, match="does not record"):
        _ = recorder.v


def test_spike_event_given_as_events_and_spike_actions():
    G = NeuronGroup(2, "dv/dt = 1/ms : 1\nm : 1", events={"spike": "v > 0.95"}, method="euler")
    assert G.events == {"spike": "v > 0.95"}
    G.run_on_event("spike", "v = 0; m += 1")  # like a reset, but after the resets slot
    mon = SpikeMonitor(G)
    run(5 * ms)
    assert mon.num_spikes == 2 * 5  # every 10 steps
    np.testing.assert_array_equal(G.m[:], mon.count)


def test_errors():
    with pytest.raises(ValueError, match="both define spikes"):
        NeuronGroup(1, "v : 1", threshold="v > 1", events={"spike": "v > 2"})
    with pytest.raises(TypeError, match="cannot be used as an event name"):
        NeuronGroup(1, "v : 1", events={"3up": "v > 1"})
    with pytest.raises(TypeError, match="must be a string"):
        NeuronGroup(1, "v : 1", events={"up": 1})
    with pytest.raises(ExpressionError, match="event 'up'.*condition"):
        NeuronGroup(1, "v : 1", events={"up": "v + 1"})
    with pytest.raises(ExpressionError, match="syntax|invalid"):
        NeuronGroup(1, "v : 1", events={"up": "v >"})
    G = NeuronGroup(1, "v : 1\nc : 1 (constant)", events={"up": "v > 1"})
    with pytest.raises(ValueError, match="no event 'down'"):
        G.run_on_event("down", "v = 0")
    with pytest.raises(ValueError, match="no event 'spike'.*no threshold"):
        G.run_on_event("spike", "v = 0")
    with pytest.raises(ExpressionError, match="not a variable.*temporary"):
        G.run_on_event("up", "x += 0")  # (x = 0 defines a temporary)
    with pytest.raises(ExpressionError, match="constant"):
        G.run_on_event("up", "c = 0")
    G.run_on_event("up", "v = 0")
    with pytest.raises(ValueError, match="already been given"):
        G.run_on_event("up", "v = 1")
    with pytest.raises(ValueError, match="does not define an event 'down'"):
        EventMonitor(G, "down")
    with pytest.raises(ValueError, match="no threshold"):
        SpikeMonitor(G)
    with pytest.raises(ValueError, match="not a variable"):
        EventMonitor(G, "up", variables=["x"])
    with pytest.raises(ValueError, match="unknown schedule slot"):
        G.set_event_schedule("up", when="sometime")
    with pytest.raises(ValueError, match="has no event 'down'.*'up'"):
        Synapses(G, G, on_pre="v += 1", on_event="down")
    with pytest.raises(ValueError, match="pathways that do not exist: \\['other'\\]"):
        Synapses(G, G, on_pre="v += 1", on_event={"other": "up"})
    H = NeuronGroup(1, "v : 1", threshold="v > 1", reset="v = 0")
    with pytest.raises(ValueError, match="already been given"):
        H.run_on_event("spike", "v = 0")
    start_scope()
    J = NeuronGroup(1, "v : volt", events={"up": "v > 1"})  # units are checked when built
    mon = EventMonitor(J, "up")
    with pytest.raises(ExpressionError, match="event 'up'.*inconsistent units|units"):
        run(0.1 * ms)


def test_synapses_triggered_by_a_custom_event():
    """on_event: a pathway fires for each custom event of its source, not for spikes; a dict
    chooses the event per pathway.  The target counts the arrivals, which must equal the source's
    event counts (recorded by an EventMonitor) up to the synaptic delay."""
    source = NeuronGroup(
        3,
        "dv/dt = rate : 1\nrate : Hz (constant)\narmed : 1",
        threshold="v > 1",
        reset="v = 0; armed = 1",
        events={"half": "v > 0.5 and armed > 0"},
        method="euler",
    )
    source.run_on_event("half", "armed = 0")
    source.armed = 1
    source.rate = [100, 250, 400] * Hz
    counter = NeuronGroup(3, "halves : 1\nfires : 1")
    by_event = Synapses(source, counter, on_pre="halves_post += 1", on_event="half", delay=1 * ms)
    by_event.connect(j="i")
    by_spike = Synapses(source, counter, on_pre={"pre": "fires_post += 1"}, on_event={})
    by_spike.connect(j="i")
    halves = EventMonitor(source, "half")
    spikes = SpikeMonitor(source)
    run(100 * ms)
    delivered = np.bincount(halves.i[halves.t < 99 * ms], minlength=3)
    assert np.array_equal(counter.halves[:], delivered)
    assert np.array_equal(counter.fires[:], spikes.count[:])
    # one 'half' event per cycle of the linear rise: as many as spikes, or one more
    assert np.all(spikes.count[:] > 0)
    assert np.all(
        (halves.count[:] - spikes.count[:] >= 0) & (halves.count[:] - spikes.count[:] <= 1)
    )

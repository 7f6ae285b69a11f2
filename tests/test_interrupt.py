"""Ctrl-C during run(): the run stops at a step boundary where time, state and monitors agree,
and the next run continues exactly as an uninterrupted run would."""

import random
import signal
import threading

import numpy as np
import pytest

from spikeforge.only import *


def _network():
    G = NeuronGroup(
        4000,
        "dv/dt = (drive - v)/(10*ms) : 1\ndrive : 1 (constant)",
        threshold="v > 1",
        reset="v = 0",
        method="exact",
        name="cells",
    )
    G.drive = "1.2 + 0.3*i/N"
    spikes = SpikeMonitor(G, name="spikes")
    trace = StateMonitor(G, "v", record=[0, 3999], name="trace")
    return Network(G, spikes, trace)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill")
def test_an_interrupted_run_stops_at_a_step_and_continues_exactly():
    net = _network()
    net.run(1 * ms)  # compiles the module, so that the signal arrives in the loop
    timer = threading.Timer(
        random.uniform(0.2, 0.6),
        signal.pthread_kill,
        (threading.main_thread().ident, signal.SIGINT),
    )
    timer.start()
    with pytest.raises(KeyboardInterrupt, match="run interrupted at t = .* steps"):
        net.run(100 * second)
    timer.join()
    G, spikes, trace = net.objects
    steps = len(trace.t)
    assert 10 < steps < 1_000_000
    assert net.t == steps * defaultclock.dt  # time is where the state is
    assert np.allclose(trace.t / ms, np.arange(steps) * 0.1)
    net.run(2 * ms)  # and goes on from there
    total = steps + 20

    reference = _network()
    reference.run(total * defaultclock.dt)
    R, reference_spikes, reference_trace = reference.objects
    # the same steps; the two times are sums of different floats, equal to rounding
    assert len(trace.t) == len(reference_trace.t) == total
    assert abs(float((reference.t - net.t) / ms)) < 1e-6
    np.testing.assert_array_equal(trace.v_, reference_trace.v_)
    np.testing.assert_array_equal(spikes.i, reference_spikes.i)
    np.testing.assert_array_equal(spikes.t_, reference_spikes.t_)
    np.testing.assert_array_equal(G.v_, R.v_)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill")
def test_the_implicit_network_continues_after_an_interrupted_run():
    """The objects of an interrupted run() count as run: the next run() continues the time
    instead of starting a new simulation."""
    objects = _network().objects
    run(0.5 * ms)
    timer = threading.Timer(
        0.3, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)
    )
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run(100 * second)
    timer.join()
    stopped = magic_network.t
    assert stopped > 0.5 * ms
    run(1 * ms)
    assert magic_network.t == stopped + 1 * ms
    assert len(objects[2].t) == round(float(magic_network.t / defaultclock.dt))


def test_the_previous_sigint_handler_comes_back():
    before = signal.getsignal(signal.SIGINT)
    net = _network()
    net.run(0.5 * ms)
    assert signal.getsignal(signal.SIGINT) is before

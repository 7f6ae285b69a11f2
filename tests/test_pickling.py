"""Simulations sent to other processes: networks, groups, synapses and monitors pickle with
their state (spikes in flight included), and an unpickled network runs on as the original
does.  Brian2's standalone_multiple_processes example hands a wrapper of a built network to a
multiprocessing pool this way."""

import multiprocessing
import pickle

import numpy as np
import pytest

from spikeforge import (
    Network,
    NeuronGroup,
    PoissonGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    get_device,
    ms,
    second,
    set_device,
)
from spikeforge.devices import device_module


def _recurrent_network():
    G = NeuronGroup(
        20,
        "dv/dt = (1.2 - v)/(10*ms) : 1",
        threshold="v > 1",
        reset="v = 0",
        method="exact",
        name="neurons",
    )
    G.v = "i / 20.0"
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", name="recurrent")
    S.connect(condition="i != j")
    S.w = "0.01 * (i % 3)"
    S.delay = "(1 + j % 4) * ms"
    return Network(
        G, S, SpikeMonitor(G, name="spikes"), StateMonitor(G, "v", record=[0, 5], name="trace")
    )


def test_an_unpickled_network_runs_on_exactly_as_the_original():
    net = _recurrent_network()
    net.run(17.3 * ms)
    queue = net["recurrent"].pathways[0].queue
    assert queue.n_pending > 0  # spikes in flight go with the pickle
    blob = pickle.dumps(net)
    net.run(20 * ms)
    copy = pickle.loads(blob)
    assert copy.t == 17.3 * ms and copy["neurons"] is not net["neurons"]
    # what was recorded before pickling came along
    assert copy["spikes"].num_spikes == pickle.loads(blob)["spikes"].num_spikes > 0
    copy.run(20 * ms)
    assert copy.t == net.t
    for name in ("spikes",):
        assert np.array_equal(copy[name].i[:], net[name].i[:])
        assert np.array_equal(copy[name].t_[:], net[name].t_[:])
    assert np.array_equal(copy["trace"].v[:], net["trace"].v[:])
    assert np.array_equal(copy["neurons"].v[:], net["neurons"].v[:])
    assert np.array_equal(copy["recurrent"].N_incoming_post[:], net["recurrent"].N_incoming_post[:])
    # the copy is independent of the original
    copy["neurons"].v = 0
    assert net["neurons"].v[0] != 0


class _Sweep:
    """Brian2's standalone_multiple_processes pattern: a program built once in the parent, run
    in pool workers with another ``tau`` each (``device.run(run_args=...)``)."""

    def __init__(self):
        set_device("cpp_standalone", build_on_run=False)
        self.net = Network()
        G = NeuronGroup(
            1,
            "dv/dt = (1.5 - v)/tau : 1\ntau : second (constant)",
            threshold="v > 1",
            reset="v = 0",
            method="exact",
            name="neuron",
        )
        G.tau = 10 * ms
        P = PoissonGroup(5, rates=0 / second)  # a source that never fires: only tau matters
        S = Synapses(P, G, on_pre="v += 0.1")
        S.connect()
        self.net.add([G, P, S, SpikeMonitor(G, name="spike_monitor")])
        self.net.run(100 * ms)
        self.device = get_device()
        self.device.build(run=False, directory=None)

    def do_run(self, tau):
        device_module.active_device = self.device
        self.device.run(run_args={self.net["neuron"].tau: tau})
        return self.net["spike_monitor"].num_spikes


@pytest.mark.filterwarnings("ignore::spikeforge.devices.StandaloneNotice")
def test_a_built_program_runs_in_pool_workers_with_other_parameters(monkeypatch):
    monkeypatch.setattr(device_module, "_noticed", False)  # other tests expect the notice once
    sweep = _Sweep()
    taus = [2 * ms, 5 * ms, 9 * ms]
    serial = [sweep.do_run(tau) for tau in taus]
    # LIF driven to 1.5 from 0: a spike every tau*ln(3) (to within a step), so 100 ms holds
    # about 100 ms / (tau ln 3) of them
    for tau, count in zip(taus, serial):
        assert abs(count - 100 * ms / (tau * np.log(3))) <= 1
    with multiprocessing.get_context("fork").Pool(2) as pool:
        parallel = pool.map(sweep.do_run, taus)
    assert parallel == serial

"""Networks that use no linked variable, temporary or run_regularly render the same module
source as before those features existed (so their compiled modules, and their speed, are the
same).  The hashes were taken from the source rendered before the features were added; a
deliberate change of the generated code updates them (print ``network_source_hash(...)``).
Changed deliberately twice since (see the golden files' history): the container declarations
became one ``cimport`` of ``runtime/cpp_containers.pxd``, and the loop checks for a fault after
each step (``spikeforge_fault``: a value an integer cannot hold, a recording or spike queue out
of memory), returning the step it reached.  Then the roles received the key of counter-based
random numbers instead of a generator's state, and ``run_steps`` a thread count; and the
threshold tests chunks of 64 neurons with a vectorised pass before looking for the spiking ones
(CUBA's loop 1.4-1.5x faster, measured)."""

import hashlib

from spikeforge import (
    Network,
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
    mV,
)
from spikeforge.codegen.render import render_module
from spikeforge.pipeline import BuildContext, collect_roles, schedule


def network_source(net: Network, namespace: dict) -> str:
    """The module source a run of ``net`` renders (nothing is compiled)."""
    context = BuildContext(namespace=namespace, dt=0.1e-3, n_steps=10)
    roles, _ = schedule(collect_roles(net._all_objects(), context), context)
    return render_module("stability", roles, context.arguments, context.support_code)


def network_source_hash(net: Network, namespace: dict) -> str:
    return hashlib.sha256(network_source(net, namespace).encode()).hexdigest()


def cuba_network():
    namespace = {
        "taum": 20 * ms,
        "taue": 5 * ms,
        "taui": 10 * ms,
        "Vt": -50 * mV,
        "Vr": -60 * mV,
        "El": -49 * mV,
        "we": 1.62 * mV,
        "wi": -9 * mV,
        "ms": ms,
        "mV": mV,
    }
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = NeuronGroup(100, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
    Ce = Synapses(P, P, on_pre="ge += we")
    Ci = Synapses(P, P, on_pre="gi += wi")
    return Network(P, Ce, Ci, SpikeMonitor(P), StateMonitor(P, "v", record=[0])), namespace


def stdp_network():
    namespace = {
        "taum": 10 * ms,
        "taupre": 20 * ms,
        "taupost": 20 * ms,
        "Ee": 0 * mV,
        "vt": -54 * mV,
        "vr": -60 * mV,
        "El": -74 * mV,
        "taue": 5 * ms,
        "gmax": 0.01,
        "dApre": 0.01,
        "dApost": -0.0105,
    }
    eqs_neurons = """
    dv/dt = (ge * (Ee-v) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    """
    inputs = NeuronGroup(
        50, "dx/dt = 1/(10*ms) : 1", threshold="x > 1", reset="x = 0", method="euler"
    )
    neurons = NeuronGroup(1, eqs_neurons, threshold="v>vt", reset="v = vr", method="euler")
    S = Synapses(
        inputs,
        neurons,
        """w : 1
           dApre/dt = -Apre / taupre : 1 (event-driven)
           dApost/dt = -Apost / taupost : 1 (event-driven)""",
        on_pre="""ge += w
                  Apre += dApre
                  w = clip(w + Apost, 0, gmax)""",
        on_post="""Apost += dApost
                   w = clip(w + Apre, 0, gmax)""",
    )
    return Network(inputs, neurons, S, SpikeMonitor(neurons)), namespace


EXPECTED = {
    "cuba": "ad1bb4cbce32b91d966ee236feb1a51003d8ebc875ad9186741c27a8cdb08ecb",
    "stdp": "04cdc82dbce2cf569cf287d010686317e549979f0fc92e0ebb3000a2e707709d",
}


def test_cuba_source_unchanged():
    net, namespace = cuba_network()
    assert network_source_hash(net, namespace) == EXPECTED["cuba"]


def test_stdp_source_unchanged():
    net, namespace = stdp_network()
    assert network_source_hash(net, namespace) == EXPECTED["stdp"]

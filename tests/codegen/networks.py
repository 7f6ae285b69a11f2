"""Small networks whose generated module source is kept as golden files (``golden/*.pyx``).

``python tests/codegen/make_golden.py`` writes the files again from the current code; the test
``test_golden.py`` fails when the generated source changes, so that every change to what is
generated is deliberate (and is measured with benchmarks/run.py).
"""

from spikeforge.only import *


def lif_network():
    """CUBA-like: exact LIF, refractoriness, two synaptic pathways with a delay, monitors."""
    G = NeuronGroup(
        100,
        """dv/dt = (ge + gi - v)/(20*ms) : volt (unless refractory)
           dge/dt = -ge/(5*ms) : volt
           dgi/dt = -gi/(10*ms) : volt""",
        threshold="v > -50*mV",
        reset="v = -60*mV",
        refractory=5 * ms,
        method="exact",
    )
    Ce = Synapses(G[:80], G, on_pre="ge += 1.6*mV", delay=1 * ms)
    Ci = Synapses(G[80:], G, on_pre="gi -= 9*mV")
    return [G, Ce, Ci, SpikeMonitor(G), PopulationRateMonitor(G)]


def hh_neuron():
    """Hodgkin-Huxley with exponential_euler, a StateMonitor."""
    eqs = """
    dv/dt = (gl*(El - v) - g_na*m**3*h*(v - ENa) - g_k*n**4*(v - EK) + I)/Cm : volt
    dm/dt = alpha_m*(1 - m) - beta_m*m : 1
    dh/dt = alpha_h*(1 - h) - beta_h*h : 1
    dn/dt = alpha_n*(1 - n) - beta_n*n : 1
    alpha_m = 0.1/mV*(v + 40*mV)/(1 - exp(-(v + 40*mV)/(10*mV)))/ms : Hz
    beta_m = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
    alpha_h = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
    beta_h = 1/(1 + exp(-(v + 35*mV)/(10*mV)))/ms : Hz
    alpha_n = 0.01/mV*(v + 55*mV)/(1 - exp(-(v + 55*mV)/(10*mV)))/ms : Hz
    beta_n = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
    I : amp
    gl : siemens
    g_na : siemens
    g_k : siemens
    Cm : farad
    El : volt
    ENa : volt
    EK : volt
    """
    G = NeuronGroup(
        1, eqs, threshold="v > -40*mV", refractory="v > -40*mV", method="exponential_euler"
    )
    return [G, StateMonitor(G, ["v", "m"], record=True)]


def stdp():
    """Poisson input, STDP synapses with event-driven traces, a PoissonInput."""
    inputs = PoissonGroup(50, 15 * Hz)
    post = NeuronGroup(
        1, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact"
    )
    S = Synapses(
        inputs,
        post,
        """w : 1
           dApre/dt = -Apre/(20*ms) : 1 (event-driven)
           dApost/dt = -Apost/(20*ms) : 1 (event-driven)""",
        on_pre="v += w; Apre += 0.01; w = clip(w + Apost, 0, 1)",
        on_post="Apost -= 0.0105; w = clip(w + Apre, 0, 1)",
    )
    noise = PoissonInput(post, "v", 10, 5 * Hz, weight=0.1)
    return [inputs, post, S, noise, SpikeMonitor(post)]


NETWORKS = {"lif_network": lif_network, "hh_neuron": hh_neuron, "stdp": stdp}


def rendered_source(name: str) -> str:
    """The generated module of one network (rendered only: nothing is compiled)."""
    from spikeforge import pipeline

    start_scope()
    defaultclock.dt = 0.1 * ms
    objects = NETWORKS[name]()
    network = Network(*objects)
    return pipeline.prepare_network(network._all_objects(), {}, 1e-4).source

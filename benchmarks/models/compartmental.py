"""Compartmental benchmark: one branched neuron with Hodgkin-Huxley channels everywhere.

A soma (30 um) with an axon (1 um x 500 um, 100 compartments) and four dendrites (2 um x 200
um, 40 compartments each), each of which branches into two thinner ones (1 um x 150 um, 30
compartments each): 501 compartments.  Every compartment has Hodgkin and Huxley's squid
channels (as in Brian2's ``examples/compartmental/hh_with_spikes.py``), with a tenth of the
sodium density in the dendrites; 1 ms current pulses into the soma at 50 Hz make it fire 50
times a second, and a ``SpikeMonitor`` counts the spikes at the soma (``threshold_location``).
The cable takes Brian2's implicit step (the same in both simulators); the channels exponential
Euler.  dt = 0.025 ms.

:func:`compartmental_neuron` is the same neuron in NEURON (how it translates is in its text).
See ``cuba.py`` for how the script is run and ``docs/benchmarks.md`` for the figures.

    python benchmarks/models/compartmental.py --simulator spikeforge --duration 1 --json
"""

import time

_SCRIPT_STARTED = time.perf_counter()  # "total" is measured from here

import _harness  # noqa: E402

EQUATIONS = """
Im = gl * (El-v) + gNa * m**3 * h * (ENa-v) + gK * n**4 * (EK-v) : amp/meter**2
I = Istim * int((t % (20*ms)) < 1*ms) : amp (point current)
Istim : amp
dm/dt = alpham * (1-m) - betam * m : 1
dn/dt = alphan * (1-n) - betan * n : 1
dh/dt = alphah * (1-h) - betah * h : 1
alpham = (0.1/mV) * 10*mV/exprel((-v+25*mV)/(10*mV))/ms : Hz
betam = 4 * exp(-v/(18*mV))/ms : Hz
alphah = 0.07 * exp(-v/(20*mV))/ms : Hz
betah = 1/(exp((-v+30*mV) / (10*mV)) + 1)/ms : Hz
alphan = (0.01/mV) * 10*mV/exprel((-v+10*mV)/(10*mV))/ms : Hz
betan = 0.125*exp(-v/(80*mV))/ms : Hz
gNa : siemens/meter**2
"""


def morphology(sim):
    um = sim.um
    morpho = sim.Soma(30 * um)
    morpho.axon = sim.Cylinder(diameter=1 * um, length=500 * um, n=100)
    for k in range(1, 5):
        dendrite = sim.Cylinder(diameter=2 * um, length=200 * um, n=40)
        morpho[f"dend{k}"] = dendrite
        dendrite.L = sim.Cylinder(diameter=1 * um, length=150 * um, n=30)
        dendrite.R = sim.Cylinder(diameter=1 * um, length=150 * um, n=30)
    return morpho


def compartmental(sim, params):
    """Build the neuron with simulator module ``sim``, run it, and return its figures."""
    ms, mV = sim.ms, sim.mV
    sim.defaultclock.dt = 0.025 * ms
    morpho = morphology(sim)
    namespace = {
        "El": 10.613 * mV,
        "ENa": 115 * mV,
        "EK": -12 * mV,
        "gl": 0.3 * sim.msiemens / sim.cm**2,
        "gK": 36 * sim.msiemens / sim.cm**2,
    }
    neuron = sim.SpatialNeuron(
        morphology=morpho,
        model=EQUATIONS,
        method="exponential_euler",
        threshold="v > 50*mV",
        threshold_location=0,
        refractory="v > 40*mV",
        Cm=1 * sim.uF / sim.cm**2,
        Ri=100 * sim.ohm * sim.cm,
        namespace=namespace,
    )
    neuron.v = 0 * mV
    neuron.m = 0.0529
    neuron.h = 0.5961
    neuron.n = 0.3177
    neuron.gNa = 120 * sim.msiemens / sim.cm**2
    for k in range(1, 5):
        getattr(neuron, f"dend{k}").gNa = 12 * sim.msiemens / sim.cm**2
    neuron.Istim[0] = 2 * sim.nA
    spikes = sim.SpikeMonitor(neuron, record=params.record_spikes)
    network = sim.Network(neuron, spikes)
    started = time.perf_counter()
    network.run(params.duration * sim.second, report=None, namespace=namespace)
    return {
        "run_s": time.perf_counter() - started,
        "network": network,
        "synapses": 0,
        "spikes": int(spikes.num_spikes),
        "compartments": int(neuron.N),
    }


def compartmental_neuron(h, params):
    """The same neuron in NEURON 9, with its built-in ``hh`` mechanism, which is these very
    equations (Hodgkin & Huxley 1952) written with absolute potentials: NEURON's v is Brian2's
    minus 65 mV, so E_L = 10.613 - 65 mV, E_Na = 50 mV, E_K = -77 mV, the threshold -15 mV;
    at celsius = 6.3 its rates are Brian2's.  NEURON's default integration is the same scheme:
    backward Euler for the cable (``secondorder = 0``), the gates exponentially (``cnexp``).
    By default ``hh`` interpolates its rates in a table of 200 voltages instead of computing
    them; ``usetable_hh = 0`` makes it compute them, as Brian2 and spikeforge do (with the
    table, its loop took 1.54 s instead of 2.55 s here, for the same 50 spikes).

    The geometry: the soma is a cylinder 30 um long and 30 um wide (the membrane area of
    Brian2's 30 um sphere), one segment; each section has as many segments as Brian2's
    compartments; children start at the soma's centre and at their parent's end.  The pulses
    are 50 ``IClamp`` objects a second at the soma.  Spikes are counted at the soma by a
    ``NetCon`` with threshold -15 mV.
    """
    h.celsius = 6.3
    h.usetable_hh = 0  # the rate functions themselves, as the others compute them (see above)
    h.dt = 0.025
    h.v_init = -65.0
    h.secondorder = 0
    soma = h.Section(name="soma")
    soma.L = soma.diam = 30.0
    sections = [soma]

    def cylinder(name, length, diameter, n, parent, position):
        section = h.Section(name=name)
        section.L, section.diam, section.nseg = length, diameter, n
        section.connect(parent(position), 0)
        sections.append(section)
        return section

    cylinder("axon", 500.0, 1.0, 100, soma, 0.5)
    for k in range(1, 5):
        dendrite = cylinder(f"dend{k}", 200.0, 2.0, 40, soma, 0.5)
        cylinder(f"dend{k}_L", 150.0, 1.0, 30, dendrite, 1.0)
        cylinder(f"dend{k}_R", 150.0, 1.0, 30, dendrite, 1.0)
    for section in sections:
        section.Ra = 100.0
        section.cm = 1.0
        section.insert("hh")
        section.gnabar_hh = 0.12 if not section.name().startswith("dend") else 0.012
        section.gkbar_hh = 0.036
        section.gl_hh = 0.0003
        section.el_hh = 10.613 - 65.0
        section.ena = 50.0
        section.ek = -77.0
    compartments = sum(section.nseg for section in sections)
    duration_ms = params.duration * 1000.0
    pulses = []
    for k in range(int(duration_ms // 20.0) + 1):
        pulse = h.IClamp(soma(0.5))
        pulse.delay, pulse.dur, pulse.amp = 20.0 * k, 1.0, 2.0  # ms, ms, nA
        pulses.append(pulse)
    counter = h.NetCon(soma(0.5)._ref_v, None, sec=soma)
    counter.threshold = -15.0
    times = h.Vector()
    counter.record(times)
    result = _harness.neuron_run(h, params, duration_ms)
    return {**result, "synapses": 0, "spikes": int(times.size()), "compartments": compartments}


MODEL = _harness.Model(
    name="compartmental",
    model=compartmental,
    neurons=lambda params: 1,
    neuron_model=compartmental_neuron,
)

if __name__ == "__main__":
    _harness.main(MODEL, _SCRIPT_STARTED)

"""STDP benchmark: Song, Miller & Abbott (2000), as in Brian2's ``examples/synapses/STDP.py``.

1000 Poisson inputs at 15 Hz drive one conductance-based integrate-and-fire neuron through
synapses with additive, trace-based STDP (depression 5% stronger than potentiation), with
weights bounded to [0, gmax]. Both traces are event-driven. As in Brian2's example, a
``StateMonitor`` records the weights of two synapses at every step and a ``SpikeMonitor``
records the inputs; a second ``SpikeMonitor`` counts the output spikes. The spike count of the
record is the input spikes plus the output spikes (``spikes_input``, ``spikes_output``).

Song, S., Miller, K. D. & Abbott, L. F. (2000). Competitive Hebbian learning through
spike-timing-dependent synaptic plasticity. Nat. Neurosci. 3:919-926.

See ``cuba.py`` for how the script is run and ``docs/benchmarks.md`` for the figures.

    python benchmarks/models/stdp.py --simulator spikeforge --duration 10 --json
"""

import time

_SCRIPT_STARTED = time.perf_counter()  # "total" is measured from here

import _harness  # noqa: E402

N_INPUTS = 1000


def stdp(sim, params):
    """Build the STDP network with simulator module ``sim``, run it, return its figures."""
    ms, mV, Hz, second = sim.ms, sim.mV, sim.Hz, sim.second
    if params.seed is not None:
        sim.seed(params.seed)
    # Constants read by the model strings through the namespace of run() (this function's locals).
    taum = 10 * ms  # noqa: F841
    taupre = 20 * ms
    taupost = taupre
    Ee = 0 * mV  # noqa: F841
    vt = -54 * mV  # noqa: F841
    vr = -60 * mV
    El = -74 * mV  # noqa: F841
    taue = 5 * ms  # noqa: F841
    F = 15 * Hz
    gmax = 0.01
    dApre = 0.01
    dApost = -dApre * taupre / taupost * 1.05
    dApost *= gmax
    dApre *= gmax

    inputs = sim.PoissonGroup(N_INPUTS, rates=F)
    neuron = sim.NeuronGroup(
        1,
        """dv/dt = (ge * (Ee-v) + El - v) / taum : volt
           dge/dt = -ge / taue : 1""",
        threshold="v>vt",
        reset="v = vr",
        method="euler",
    )
    neuron.v = vr
    S = sim.Synapses(
        inputs,
        neuron,
        """w : 1
           dApre/dt = -Apre / taupre : 1 (event-driven)
           dApost/dt = -Apost / taupost : 1 (event-driven)""",
        on_pre="""ge += w
                  Apre += dApre
                  w = clip(w + Apost, 0, gmax)""",
        on_post="""Apost += dApost
                   w = clip(w + Apre, 0, gmax)""",
    )
    if params.connect:
        S.connect()
        S.w = "rand() * gmax"
        weights = sim.StateMonitor(S, "w", record=[0, 1])  # noqa: F841  (as in Brian2's example)
    else:  # no synapses (Brian2 refuses to run Synapses that were never connected), no weights
        S.connect(False)
    input_monitor = sim.SpikeMonitor(inputs, record=params.record_spikes)
    output_monitor = sim.SpikeMonitor(neuron, record=params.record_spikes)

    run_started = time.perf_counter()
    sim.run(params.duration * second, report=None)
    run_seconds = time.perf_counter() - run_started

    spikes_input = int(input_monitor.num_spikes)
    spikes_output = int(output_monitor.num_spikes)
    final = S.w[:] / gmax if params.connect else []
    return {
        "run_s": run_seconds,
        "synapses": int(len(S)),
        "spikes": spikes_input + spikes_output,
        "spikes_input": spikes_input,
        "spikes_output": spikes_output,
        "weights_mean": float(sum(final) / len(final)) if len(final) else None,
    }


def stdp_nest(nest, params):
    """The same network in NEST 3. ``poisson_generator`` -> 1000 ``parrot_neuron`` (so that every
    synapse sees the spikes it transmits) -> ``stdp_synapse`` -> one ``iaf_cond_exp``.

    Brian2's dimensionless ``ge`` is NEST's ``g_ex / g_L``: with g_L = 10 nS and C_m = taum * g_L
    = 100 pF, gmax = 0.01 becomes 0.1 nS. NEST's ``stdp_synapse`` with mu_plus = mu_minus = 0 is
    additive: lambda = 0.01 (dApre / gmax) and alpha = 1.05. t_ref = 0: no refractory period, as
    in Brian2's model. NEST's smallest delay, 0.1 ms, is Brian2's synapse without delay (see
    ``cuba.py``); the generator reaches the parrots with that delay too (NEST's default is 1 ms,
    which would leave the first millisecond without input). NEST can't record a weight at every
    step, so the two weights are not recorded; ``weights_mean`` is read after the run.
    """
    g_l, gmax = 10.0, 0.1
    generator = nest.Create("poisson_generator", params={"rate": 15.0})
    parrots = nest.Create("parrot_neuron", N_INPUTS)
    nest.Connect(generator, parrots, syn_spec={"delay": 0.1})
    neuron = nest.Create(
        "iaf_cond_exp",
        1,
        params={
            "C_m": 10.0 * g_l,
            "g_L": g_l,
            "E_L": -74.0,
            "V_th": -54.0,
            "V_reset": -60.0,
            "V_m": -60.0,
            "t_ref": 0.0,
            "E_ex": 0.0,
            "tau_syn_ex": 5.0,
            "tau_minus": 20.0,
        },
    )
    before = nest.GetKernelStatus("num_connections")
    if params.connect:
        nest.Connect(
            parrots,
            neuron,
            syn_spec={
                "synapse_model": "stdp_synapse",
                "weight": nest.random.uniform(0.0, gmax),
                "delay": 0.1,
                "tau_plus": 20.0,
                "lambda": 0.01,
                "alpha": 1.05,
                "mu_plus": 0.0,
                "mu_minus": 0.0,
                "Wmax": gmax,
            },
        )
    synapses = nest.GetKernelStatus("num_connections") - before
    input_recorder = nest.Create("spike_recorder")
    output_recorder = nest.Create("spike_recorder")
    nest.Connect(parrots, input_recorder)
    nest.Connect(neuron, output_recorder)
    result = _harness.nest_run(nest, params, synapses, [input_recorder, output_recorder])
    result["spikes_output"] = int(output_recorder.get("n_events"))
    result["spikes_input"] = result["spikes"] - result["spikes_output"]
    weights = nest.GetConnections(parrots, neuron).get("weight") if params.connect else []
    weights = [weights] if isinstance(weights, float) else list(weights)  # one connection: a float
    result["weights_mean"] = sum(weights) / len(weights) / gmax if weights else None
    return result


def stdp_annarchy(ann, params):
    """The same network in ANNarchy 5 (``ann.Network`` API): a ``PoissonPopulation`` and a
    spiking synapse with two event-driven traces and constants shared by the projection; forward
    Euler (``explicit``) for the neuron. The weights are not recorded; ``weights_mean`` is read
    after the run."""
    import numpy as np

    gmax = 0.01
    net = ann.Network(dt=0.1, seed=params.seed)
    inputs = net.create(ann.PoissonPopulation(N_INPUTS, rates=15.0))
    neuron = net.create(
        geometry=1,
        neuron=ann.Neuron(
            parameters="""
                taum = 10.0
                Ee = 0.0
                vt = -54.0
                vr = -60.0
                El = -74.0
                taue = 5.0
            """,
            equations="""
                taum * dv/dt = g_exc * (Ee - v) + El - v : init = -60.0, explicit
                taue * dg_exc/dt = - g_exc : explicit
            """,
            spike="v > vt",
            reset="v = vr",
        ),
    )
    synapse = ann.Synapse(
        parameters=f"""
            taupre = 20.0 : projection
            taupost = 20.0 : projection
            dApre = {0.01 * gmax!r} : projection
            dApost = {-0.01 * gmax * 1.05!r} : projection
            gmax = {gmax!r} : projection
        """,
        equations="""
            taupre * dApre_trace/dt = - Apre_trace : event-driven
            taupost * dApost_trace/dt = - Apost_trace : event-driven
        """,
        pre_spike="""
            g_target += w
            Apre_trace += dApre
            w = clip(w + Apost_trace, 0.0, gmax)
        """,
        post_spike="""
            Apost_trace += dApost
            w = clip(w + Apre_trace, 0.0, gmax)
        """,
    )
    projections = []
    if params.connect:
        projection = net.connect(pre=inputs, post=neuron, target="exc", synapse=synapse)
        # ANNarchy's distributions draw from a fresh unseeded generator unless given one
        rng = np.random.default_rng(params.seed)
        projection.all_to_all(weights=ann.Uniform(0.0, gmax, rng=rng))
        projections.append(projection)
    input_monitor = net.monitor(inputs, ["spike"])
    output_monitor = net.monitor(neuron, ["spike"])
    monitors = [input_monitor, output_monitor]
    result = _harness.annarchy_run(ann, net, params, projections, monitors)
    result["spikes_input"], result["spikes_output"] = result.pop("spikes_per_monitor")
    # Projection.w: one list of weights per postsynaptic neuron
    weights = [float(w) for row in projections[0].w for w in row] if projections else []
    result["weights_mean"] = sum(weights) / len(weights) / gmax if weights else None
    return result


MODEL = _harness.Model(
    name="stdp",
    model=stdp,
    neurons=lambda params: N_INPUTS + 1,
    nest_model=stdp_nest,
    annarchy_model=stdp_annarchy,
)

if __name__ == "__main__":
    _harness.main(MODEL, _SCRIPT_STARTED)

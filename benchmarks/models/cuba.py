"""CUBA benchmark network (Vogels & Abbott 2005, as in Brian2's ``examples/CUBA.py``).

The model is written once, in :func:`cuba`, as a function of the simulator module (``spikeforge``
or ``brian2``); :func:`cuba_nest` and :func:`cuba_annarchy` are the same network for NEST and
ANNarchy. ``_harness.py`` times one run of it in this process and reports the figures. Run it as a
script, one configuration per process:

    python benchmarks/models/cuba.py --simulator spikeforge --duration 1 --json
    python3.13 benchmarks/models/cuba.py --simulator brian2 --device runtime --duration 1 --json
    python3.13 benchmarks/models/cuba.py --simulator brian2 --device cpp_standalone --json
    python benchmarks/models/cuba.py --neurons 64000 --duration 1 --json    # the scaled CUBA

Every neuron receives 80 synapses on average: the connection probability is 80 / N (0.02 for the
default 4000 neurons), so the dynamics stay the same at every size.

With ``--json`` it prints one JSON line (the last line of stdout). ``--cache-dir`` names the
compilation cache to use: ``$SPIKEFORGE_CACHE_DIR`` for spikeforge,
``prefs.codegen.runtime.cython.cache_dir`` for Brian2's runtime (Cython) mode and the project
directory for Brian2's ``cpp_standalone`` mode. ``benchmarks/run.py`` passes an empty directory
for cold runs and a filled one for warm runs. See ``docs/benchmarks.md`` for what each figure
means.
"""

import time

_SCRIPT_STARTED = time.perf_counter()  # "total" is measured from here

import _harness  # noqa: E402

N_NEURONS = 4000
SYNAPSES_PER_NEURON = 80  #: mean number of synapses onto each neuron: p = 80 / N
EXCITATORY_FRACTION = 0.8
REFRACTORY_MS = 5.0  #: the refractory period (the NEST and ANNarchy versions)
STEP_MS = 0.1  #: the time step (NEST's resolution and ANNarchy's dt)


def _sizes(params):
    n = params.extra["neurons"]
    # below 80 neurons (the per-step cost's 40) the network is connected all to all
    return n, int(round(EXCITATORY_FRACTION * n)), min(1.0, SYNAPSES_PER_NEURON / n)


def cuba(sim, params):
    """Build the CUBA network with simulator module ``sim``, run it, and return its figures.

    Only names that both simulators share are used. External constants come from this function's
    local variables (the implicit namespace of ``run``), as in Brian2's example script; the sizes
    are such constants too (``n_exc``, ``p``), so that another ``--neurons`` changes no code.
    Returns the seconds spent in ``run()`` and the counts needed to cross-check the simulators.
    """
    ms, mV = sim.ms, sim.mV
    if params.seed is not None:
        sim.seed(params.seed)
    n, n_exc, p = _sizes(params)
    # The constants below are read by the model strings, through the namespace of run() (this
    # function's locals), which linters can't see: hence the noqa comments.
    taum = params.extra["taum_ms"] * ms  # noqa: F841  (20 ms)
    taue = 5 * ms  # noqa: F841
    taui = 10 * ms  # noqa: F841
    Vt = -50 * mV  # noqa: F841
    Vr = -60 * mV  # noqa: F841
    El = -49 * mV  # noqa: F841

    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """

    P = sim.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV

    we = (60 * 0.27 / 10) * mV  # noqa: F841  (excitatory synaptic weight)
    wi = (-20 * 4.5 / 10) * mV  # noqa: F841  (inhibitory synaptic weight)
    Ce = sim.Synapses(P, P, on_pre="ge += we")
    Ci = sim.Synapses(P, P, on_pre="gi += wi")
    _harness.connect_excitatory_inhibitory(Ce, Ci, params, {"n_exc": n_exc, "p": p})

    return _harness.brian_api_run(sim, P, params, Ce, Ci)


def cuba_nest(nest, params):
    """The same network in NEST 3: ``iaf_psc_exp`` neurons.

    Brian2's ``ge`` and ``gi`` are voltages that enter as ``ge/taum``; NEST's synaptic currents
    enter as ``I/C_m``, so a weight of ``w`` mV becomes ``w * C_m / tau_m`` pA (C_m is arbitrary).

    Two NEST conventions are one step off Brian2's, and are corrected here:

    - A NEST spike with delay d reaches the target's threshold test d after the spike, a Brian2
      one d + dt after (Brian2 applies it after the test of its own step): NEST's smallest delay,
      0.1 ms, is Brian2's synapse without delay.
    - A neuron with ``t_ref`` = r stays r + dt: Brian2 integrates again r after the spike, NEST
      one step later. ``t_ref`` is therefore the refractory period less one step.
    """
    n, n_exc, p = _sizes(params)
    c_m, tau_m = 250.0, params.extra["taum_ms"]
    P = nest.Create(
        "iaf_psc_exp",
        n,
        params={
            "C_m": c_m,
            "tau_m": tau_m,
            "E_L": -49.0,
            "V_th": -50.0,
            "V_reset": -60.0,
            "t_ref": REFRACTORY_MS - STEP_MS,  # see above
            "tau_syn_ex": 5.0,
            "tau_syn_in": 10.0,
            "I_e": 0.0,
        },
    )
    P.V_m = nest.random.uniform(-60.0, -50.0)
    pa_per_mv = c_m / tau_m
    rule = {"rule": "pairwise_bernoulli", "p": p}
    if params.connect:
        nest.Connect(P[:n_exc], P, rule, {"weight": 1.62 * pa_per_mv, "delay": STEP_MS})
        nest.Connect(P[n_exc:], P, rule, {"weight": -9.0 * pa_per_mv, "delay": STEP_MS})
    synapses = nest.GetKernelStatus("num_connections")
    recorder = nest.Create("spike_recorder")
    nest.Connect(P, recorder)
    return _harness.nest_run(nest, params, synapses, [recorder])


def cuba_annarchy(ann, params):
    """The same network in ANNarchy 5 (``ann.Network`` API), as in ANNarchy's CUBA example.

    The constants are shared by the population (``: population``, one value instead of one per
    neuron), as ANNarchy's example has them. ANNarchy's ``exponential`` method is exponential
    Euler: it takes ``g_exc`` and ``g_inh`` as constant over a step where Brian2's ``exact`` lets
    them decay. As in Brian2, ``v`` stays put during the refractory period while the synaptic
    variables go on decaying. As in NEST, a neuron stays refractory one step longer than
    ``refractory`` says (Brian2 integrates again after the period, ANNarchy a step later), so it
    is given one step less. A projection without delay acts as Brian2's synapse without delay.
    """
    import numpy as np

    n, n_exc, p = _sizes(params)
    net = ann.Network(dt=STEP_MS, seed=params.seed)
    neuron = ann.Neuron(
        parameters=f"""
            El = -49.0 : population
            Vr = -60.0 : population
            Vt = -50.0 : population
            tau_m = {params.extra["taum_ms"]!r} : population
            tau_e = 5.0 : population
            tau_i = 10.0 : population
        """,
        equations="""
            tau_m * dv/dt = (El - v) + g_exc - g_inh : exponential
            tau_e * dg_exc/dt = - g_exc : exponential
            tau_i * dg_inh/dt = - g_inh : exponential
        """,
        spike="v > Vt",
        reset="v = Vr",
        refractory=REFRACTORY_MS - STEP_MS,  # see above
    )
    P = net.create(geometry=n, neuron=neuron)
    P.v = np.random.default_rng(params.seed).uniform(-60.0, -50.0, n)
    projections = []
    # With --no-connect there are no projections at all: ANNarchy crashes (segmentation fault)
    # on a projection that has no synapse.
    if params.connect:
        for pre, target, weight in ((P[:n_exc], "exc", 1.62), (P[n_exc:], "inh", 9.0)):
            projection = net.connect(pre=pre, post=P, target=target)
            projection.fixed_probability(probability=p, weights=weight, allow_self_connections=True)
            projections.append(projection)
    monitor = net.monitor(P, ["spike"])
    return _harness.annarchy_run(ann, net, params, projections, [monitor])


def _add_arguments(parser):
    parser.add_argument(
        "--neurons",
        type=int,
        default=N_NEURONS,
        help=f"number of neurons (default {N_NEURONS}); p = {SYNAPSES_PER_NEURON}/N",
    )
    parser.add_argument(
        "--taum-ms",
        type=float,
        default=20.0,
        help="membrane time constant in ms (default 20; changed by the recompilation check)",
    )


MODEL = _harness.Model(
    name="cuba",
    model=cuba,
    neurons=lambda params: params.extra["neurons"],
    nest_model=cuba_nest,
    annarchy_model=cuba_annarchy,
    add_arguments=_add_arguments,
    extra_names=("neurons", "taum_ms"),
)

if __name__ == "__main__":
    _harness.main(MODEL, _SCRIPT_STARTED)

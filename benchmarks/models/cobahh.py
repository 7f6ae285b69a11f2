"""COBAHH benchmark network: benchmark 3 of Brette et al. (2007), as in Brian2's
``examples/COBAHH.py``.

4000 Hodgkin-Huxley neurons (Traub & Miles sodium and potassium currents), 80% excitatory and
20% inhibitory, connected with probability 0.02, with exponentially decaying conductances
(excitatory: 5 ms, 0 mV; inhibitory: 10 ms, -80 mV), integrated with ``exponential_euler``.
The network keeps itself active from random initial conductances; there is no external input.

The model is written once, in :func:`cobahh`, as a function of the simulator module
(``spikeforge`` or ``brian2``); :func:`cobahh_nest` and :func:`cobahh_annarchy` are the same
network for NEST and ANNarchy. See ``cuba.py`` for how the script is run and
``docs/benchmarks.md`` for the figures.

    python benchmarks/models/cobahh.py --simulator spikeforge --duration 1 --json
"""

import time

_SCRIPT_STARTED = time.perf_counter()  # "total" is measured from here

import _harness  # noqa: E402

N_NEURONS = 4000
N_EXCITATORY = 3200
CONNECTION_PROBABILITY = 0.02


def cobahh(sim, params):
    """Build COBAHH with simulator module ``sim``, run it, and return its figures."""
    ms, mV, nS = sim.ms, sim.mV, sim.nS
    if params.seed is not None:
        sim.seed(params.seed)
    # Constants read by the model strings through the namespace of run() (this function's locals).
    area = 20000 * sim.umetre**2
    Cm = (1 * sim.ufarad * sim.cm**-2) * area  # noqa: F841
    gl = (5e-5 * sim.siemens * sim.cm**-2) * area  # noqa: F841
    El = -60 * mV  # noqa: F841
    EK = -90 * mV  # noqa: F841
    ENa = 50 * mV  # noqa: F841
    g_na = (100 * sim.msiemens * sim.cm**-2) * area  # noqa: F841
    g_kd = (30 * sim.msiemens * sim.cm**-2) * area  # noqa: F841
    VT = -63 * mV  # noqa: F841
    taue = 5 * ms  # noqa: F841
    taui = 10 * ms  # noqa: F841
    Ee = 0 * mV  # noqa: F841
    Ei = -80 * mV  # noqa: F841
    we = 6 * nS  # noqa: F841  (excitatory synaptic weight)
    wi = 67 * nS  # noqa: F841  (inhibitory synaptic weight)
    n_exc = N_EXCITATORY  # noqa: F841
    p = CONNECTION_PROBABILITY

    eqs = """
    dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v)
             - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m) - beta_m*m : 1
    dn/dt = alpha_n*(1-n) - beta_n*n : 1
    dh/dt = alpha_h*(1-h) - beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
    beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    """

    P = sim.NeuronGroup(
        N_NEURONS,
        eqs,
        threshold="v>-20*mV",
        refractory=3 * ms,
        method="exponential_euler",
    )
    # Sources 0-3199 excite, 3200-3999 inhibit (a condition on i: spikeforge has no subgroups).
    Ce = sim.Synapses(P, P, on_pre="ge += we")
    Ci = sim.Synapses(P, P, on_pre="gi += wi")
    _harness.connect_excitatory_inhibitory(Ce, Ci, params, {"n_exc": n_exc, "p": p})

    P.v = "El + (randn() * 5 - 5)*mV"
    P.ge = "(randn() * 1.5 + 4) * 10.*nS"
    P.gi = "(randn() * 12 + 20) * 10.*nS"

    return _harness.brian_api_run(sim, P, params, Ce, Ci)


def cobahh_nest(nest, params):
    """The same network in NEST 3: ``hh_cond_exp_traub`` is this very model (Brette et al.'s
    benchmark 3), with NEST's own adaptive Runge-Kutta integration (GSL) and its own spike
    detection (a local maximum above V_T + 30 mV, where Brian2's threshold is -20 mV).
    Per 20000 um^2: C_m 200 pF, g_L 10 nS, g_Na 20 uS, g_K 6 uS. NEST's smallest delay, 0.1 ms,
    is Brian2's synapse without delay (see ``cuba.py``), and ``t_ref`` is one step less than
    Brian2's refractory period because NEST counts it from the step after the spike.

    The gating variables start at 0, as in Brian2's script (NEST's default is their equilibrium
    values). NEST can't set the conductances (``g_ex`` and ``g_in`` are only recordable), so
    their random initial values arrive as one spike of a ``spike_generator`` at 0.1 ms, through
    one connection per neuron and conductance whose weight is the drawn value: the conductances
    get them 0.2 ms into the run instead of at 0. Since the sign of a weight selects the
    conductance, draws below 0 (Brian2 keeps them; about 0.4% of ge and 5% of gi) become 0.
    These connections are not counted as synapses.
    """
    P = nest.Create(
        "hh_cond_exp_traub",
        N_NEURONS,
        params={
            "C_m": 200.0,
            "g_L": 10.0,
            "g_Na": 20000.0,
            "g_K": 6000.0,
            "E_L": -60.0,
            "E_Na": 50.0,
            "E_K": -90.0,
            "V_T": -63.0,
            "E_ex": 0.0,
            "E_in": -80.0,
            "tau_syn_ex": 5.0,
            "tau_syn_in": 10.0,
            "t_ref": 3.0 - 0.1,  # see above
            "Act_m": 0.0,
            "Act_n": 0.0,
            "Inact_h": 0.0,
        },
    )
    P.V_m = nest.random.normal(mean=-65.0, std=5.0)
    rule = {"rule": "pairwise_bernoulli", "p": CONNECTION_PROBABILITY}
    if params.connect:
        nest.Connect(P[:N_EXCITATORY], P, rule, {"weight": 6.0, "delay": 0.1})
        # A negative weight selects the inhibitory conductance in NEST's conductance models.
        nest.Connect(P[N_EXCITATORY:], P, rule, {"weight": -67.0, "delay": 0.1})
    synapses = nest.GetKernelStatus("num_connections")
    kick = nest.Create("spike_generator", params={"spike_times": [0.1]})
    initial_ge = nest.math.max(nest.random.normal(mean=40.0, std=15.0), 0.0)
    initial_gi = nest.math.min(nest.random.normal(mean=-200.0, std=120.0), 0.0)  # inhibitory: < 0
    for weight in (initial_ge, initial_gi):
        nest.Connect(kick, P, "all_to_all", {"weight": weight, "delay": 0.1})
    recorder = nest.Create("spike_recorder")
    nest.Connect(P, recorder)
    return _harness.nest_run(nest, params, synapses, [recorder])


def cobahh_annarchy(ann, params):
    """The same network in ANNarchy 5 (``ann.Network`` API), units mV, ms, nS, pF; constants
    shared by the population, ``exponential`` (exponential Euler) as in Brian2's script.

    Two things of ANNarchy's rule the writing. A name that starts with ``g_`` is a synaptic
    conductance, which ANNarchy sets to 0 after every step, so the sodium and potassium
    conductances are ``gNa`` and ``gK``. And ANNarchy's ``refractory`` freezes every other
    variable (v, m, n, h) for its duration, where Brian2's refractory period here only keeps the
    threshold from firing again while v integrates on: the spike condition asks for 3 ms since
    the last spike (ANNarchy's ``t_last``), as Brian2's ``not_refractory`` does (with half a step
    of tolerance for the rounding of the times).
    """
    import numpy as np

    net = ann.Network(dt=0.1, seed=params.seed)
    neuron = ann.Neuron(
        parameters="""
            Cm = 200.0 : population
            gl = 10.0 : population
            El = -60.0 : population
            EK = -90.0 : population
            ENa = 50.0 : population
            gNa = 20000.0 : population
            gK = 6000.0 : population
            VT = -63.0 : population
            taue = 5.0 : population
            taui = 10.0 : population
            Ee = 0.0 : population
            Ei = -80.0 : population
            t_refractory = 3.0 : population
        """,
        equations="""
            alpha_m = 0.32 * (13.0 - v + VT) / (exp((13.0 - v + VT)/4.0) - 1.0)
            beta_m = 0.28 * (v - VT - 40.0) / (exp((v - VT - 40.0)/5.0) - 1.0)
            alpha_h = 0.128 * exp((17.0 - v + VT)/18.0)
            beta_h = 4.0 / (1.0 + exp((40.0 - v + VT)/5.0))
            alpha_n = 0.032 * (15.0 - v + VT) / (exp((15.0 - v + VT)/5.0) - 1.0)
            beta_n = 0.5 * exp((10.0 - v + VT)/40.0)
            Cm * dv/dt = gl*(El - v) + g_exc*(Ee - v) + g_inh*(Ei - v)
                         - gNa*m*m*m*h*(v - ENa) - gK*n*n*n*n*(v - EK) : exponential
            dm/dt = alpha_m*(1.0 - m) - beta_m*m : exponential
            dn/dt = alpha_n*(1.0 - n) - beta_n*n : exponential
            dh/dt = alpha_h*(1.0 - h) - beta_h*h : exponential
            taue * dg_exc/dt = - g_exc : exponential
            taui * dg_inh/dt = - g_inh : exponential
        """,
        spike="(v > -20.0) and (t - t_last > t_refractory - 0.5*dt)",
    )
    P = net.create(geometry=N_NEURONS, neuron=neuron)
    rng = np.random.default_rng(params.seed)
    P.v = -65.0 + 5.0 * rng.standard_normal(N_NEURONS)
    P.g_exc = 40.0 + 15.0 * rng.standard_normal(N_NEURONS)
    P.g_inh = 200.0 + 120.0 * rng.standard_normal(N_NEURONS)
    projections = []
    if params.connect:
        for pre, target, weight in (
            (P[:N_EXCITATORY], "exc", 6.0),
            (P[N_EXCITATORY:], "inh", 67.0),
        ):
            projection = net.connect(pre=pre, post=P, target=target)
            projection.fixed_probability(
                probability=CONNECTION_PROBABILITY, weights=weight, allow_self_connections=True
            )
            projections.append(projection)
    monitor = net.monitor(P, ["spike"])
    return _harness.annarchy_run(ann, net, params, projections, [monitor])


MODEL = _harness.Model(
    name="cobahh",
    model=cobahh,
    neurons=lambda params: N_NEURONS,
    nest_model=cobahh_nest,
    annarchy_model=cobahh_annarchy,
)

if __name__ == "__main__":
    _harness.main(MODEL, _SCRIPT_STARTED)

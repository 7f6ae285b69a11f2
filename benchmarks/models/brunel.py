"""Brunel (2000) network with heterogeneous delays: 5000 leaky integrate-and-fire neurons with
delta synapses, each synapse with its own delay, drawn uniformly from [0.1, 10] ms, and
independent Poisson input to every neuron (``PoissonInput``).

Brunel, N. (2000). Dynamics of sparsely connected networks of excitatory and inhibitory spiking
neurons. J. Comput. Neurosci. 8:183-208. The parameters are those of the paper and of Brian2's
``examples/frompapers/Brunel_2000.py``, at N_E = 4000, N_I = 1000: tau = 20 ms, theta = 20 mV,
V_r = 10 mV, refractory period 2 ms, J = 0.1 mV, connection probability epsilon = 0.1 (C_E = 400
excitatory and C_I = 100 inhibitory inputs per neuron, about 2.5 million synapses), relative
inhibition g = 5 and external rate nu_ext = 2 nu_thr through C_ext = C_E Poisson inputs per
neuron (the asynchronous irregular regime of the paper's figure 8C). The delays replace the
paper's single delay D = 1.5 ms, which exercises per-synapse delays in the spike queues.

See ``cuba.py`` for how the script is run and ``docs/benchmarks.md`` for the figures.

    python benchmarks/models/brunel.py --simulator spikeforge --duration 1 --json
"""

import time

_SCRIPT_STARTED = time.perf_counter()  # "total" is measured from here

import _harness  # noqa: E402

N_EXCITATORY = 4000
N_INHIBITORY = 1000
N_NEURONS = N_EXCITATORY + N_INHIBITORY
EPSILON = 0.1
MIN_DELAY_MS = 0.1
MAX_DELAY_MS = 10.0
G = 5.0
NU_EXT_OVER_NU_THR = 2.0
REFRACTORY_MS = 2.0  #: the refractory period (the NEST and ANNarchy versions)
STEP_MS = 0.1  #: the time step (NEST's resolution, set by the harness, and ANNarchy's dt)


def brunel(sim, params):
    """Build the Brunel network with simulator module ``sim``, run it, return its figures."""
    ms, mV, second = sim.ms, sim.mV, sim.second
    if params.seed is not None:
        sim.seed(params.seed)
    # Constants read by the model strings through the namespace of run() (this function's locals).
    tau = 20 * ms  # noqa: F841
    theta = 20 * mV  # noqa: F841
    V_r = 10 * mV  # noqa: F841
    tau_rp = 2 * ms
    J = 0.1 * mV
    g = G  # noqa: F841
    N_E = N_EXCITATORY  # noqa: F841
    C_E = EPSILON * N_EXCITATORY
    C_ext = int(C_E)
    nu_thr = theta / (J * C_E * tau)
    d_min = MIN_DELAY_MS * ms  # noqa: F841
    d_max = MAX_DELAY_MS * ms  # noqa: F841

    neurons = sim.NeuronGroup(
        N_NEURONS,
        "dv/dt = -v/tau : volt (unless refractory)",
        threshold="v > theta",
        reset="v = V_r",
        refractory=tau_rp,
        method="exact",
    )
    excitatory = sim.Synapses(neurons, neurons, on_pre="v += J")
    inhibitory = sim.Synapses(neurons, neurons, on_pre="v += -g*J")
    if params.connect:
        excitatory.connect("i < N_E", p=EPSILON)
        inhibitory.connect("i >= N_E", p=EPSILON)
    else:  # no synapses (Brian2 refuses to run Synapses that were never connected)
        excitatory.connect(False)
        inhibitory.connect(False)
    excitatory.delay = "d_min + rand() * (d_max - d_min)"
    inhibitory.delay = "d_min + rand() * (d_max - d_min)"
    external = sim.PoissonInput(  # noqa: F841  (kept alive for the implicit network)
        target=neurons,
        target_var="v",
        N=C_ext,
        rate=NU_EXT_OVER_NU_THR * nu_thr,
        weight=J,
    )
    s_mon = sim.SpikeMonitor(neurons, record=params.record_spikes)

    run_started = time.perf_counter()
    sim.run(params.duration * second, report=None)
    run_seconds = time.perf_counter() - run_started

    return {
        "run_s": run_seconds,
        "synapses": int(len(excitatory)) + int(len(inhibitory)),
        "synapses_excitatory": int(len(excitatory)),
        "synapses_inhibitory": int(len(inhibitory)),
        "spikes": int(s_mon.num_spikes),
    }


def brunel_nest(nest, params):
    """The same network in NEST 3: ``iaf_psc_delta`` neurons (a spike makes the membrane
    potential jump by the weight), a ``poisson_generator`` at C_ext * nu_ext (it sends each target
    its own independent train, like ``PoissonInput``), delays drawn by ``nest.random.uniform``.

    Brian2 adds an input to v after the threshold test of its step, and v then decays for one
    step before the next test; NEST adds it just before the test of the step it arrives in. The
    rest follows from that:

    - Delays: a NEST spike with delay d reaches the target's test d after the spike, a Brian2 one
      d + dt after, so each NEST delay is the Brian2 delay plus one step: uniform in
      [0.2, 10.1] ms, and 0.1 ms for the Poisson input (``PoissonInput`` acts like a synapse
      without delay).
    - Weights: each input is J exp(-dt/tau), what Brian2's J has become by the next test.
    - Refractoriness: ``refractory_input`` stays False (NEST's default), so input that arrives
      while the neuron is refractory is lost, as in Brian2, where v, marked
      ``(unless refractory)``, ignores the ``v += J`` of synapses and of ``PoissonInput`` then.
      With ``t_ref`` = 2 ms NEST drops exactly the inputs that Brian2 drops; v then starts from
      V_r one decay step later than Brian2's (0.05 mV higher), and the earliest next spike is one
      step later, which here would take 10 mV of input within one step.
    """
    import math

    theta, tau, J = 20.0, 20.0, 0.1
    C_E = EPSILON * N_EXCITATORY
    nu_thr = theta / (J * C_E * tau) * 1000.0  # Hz
    weight = J * math.exp(-STEP_MS / tau)  # see above
    neurons = nest.Create(
        "iaf_psc_delta",
        N_NEURONS,
        params={
            "tau_m": tau,
            "V_th": theta,
            "V_reset": 10.0,
            "E_L": 0.0,
            "V_m": 0.0,
            "t_ref": REFRACTORY_MS,  # see above
            "refractory_input": False,
        },
    )
    rule = {"rule": "pairwise_bernoulli", "p": EPSILON}
    if params.connect:
        for sources, sign in ((neurons[:N_EXCITATORY], 1.0), (neurons[N_EXCITATORY:], -G)):
            delay = nest.random.uniform(MIN_DELAY_MS + STEP_MS, MAX_DELAY_MS + STEP_MS)
            nest.Connect(sources, neurons, rule, {"weight": sign * weight, "delay": delay})
    synapses = nest.GetKernelStatus("num_connections")
    external = nest.Create("poisson_generator", params={"rate": C_E * NU_EXT_OVER_NU_THR * nu_thr})
    nest.Connect(external, neurons, syn_spec={"weight": weight, "delay": STEP_MS})
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    return _harness.nest_run(nest, params, synapses, [recorder])


def brunel_annarchy(ann, params):
    """The same network in ANNarchy 5 (``ann.Network`` API), with v written as an update rule
    (the exact solution over one step, as Brian2's ``exact``) so that it follows Brian2's order
    of events step by step:

    - ANNarchy delivers the spikes of a step at the start of the next one (into ``g_exc`` and
      ``g_inh``, which hold the step's summed weights and are then set back to 0): a
      projection without delay is Brian2's synapse without delay, and each delay is the Brian2
      delay plus one step, uniform in [0.2, 10.1] ms, as for NEST (ANNarchy rounds delays to
      steps as Brian2 does).
    - ``PoissonInput`` is a ``Binomial(C_ext, nu_ext dt)`` count per neuron and step, the draw
      Brian2 makes, times J.
    - Refractoriness: ANNarchy's ``refractory`` would keep a neuron one step longer than Brian2
      and let the input of the step before its end through, so it is written out with the time
      of the last spike (``t_last``): v is updated only 2 ms or more after the last spike, and the
      input of the previous step counts only if the neuron was not refractory then (Brian2's
      conditional write: ``v += J`` does nothing to a refractory neuron).

    The first step's Poisson draw stands for the step before the start, which Brian2 doesn't
    have: 0.2 mV on average, once.
    """
    import numpy as np

    theta, tau, J = 20.0, 20.0, 0.1
    C_E = EPSILON * N_EXCITATORY
    nu_thr = theta / (J * C_E * tau)  # per ms
    p_ext = NU_EXT_OVER_NU_THR * nu_thr * STEP_MS  # probability per input and step
    net = ann.Network(dt=STEP_MS, seed=params.seed)
    neuron = ann.Neuron(
        parameters=f"""
            tau = {tau!r} : population
            theta = {theta!r} : population
            V_r = 10.0 : population
            tau_rp = {REFRACTORY_MS!r} : population
            J = {J!r} : population
        """,
        equations=f"""
            was_open = ite(t - dt - t_last > tau_rp - 0.5*dt, 1.0, 0.0)
            input = was_open * (g_exc - g_inh + J * Binomial({int(C_E)}, {p_ext!r}))
            v = ite(t - t_last > tau_rp - 0.5*dt, (v + input) * exp(-dt/tau), v) : init = 0.0
        """,
        spike="v > theta",
        reset="v = V_r",
    )
    neurons = net.create(geometry=N_NEURONS, neuron=neuron)
    rng = np.random.default_rng(params.seed)
    projections = []
    # With --no-connect there are no projections at all: ANNarchy crashes (segmentation fault)
    # on a projection that has no synapse.
    if params.connect:
        for pre, target, weight in (
            (neurons[:N_EXCITATORY], "exc", J),
            (neurons[N_EXCITATORY:], "inh", G * J),
        ):
            projection = net.connect(pre=pre, post=neurons, target=target)
            projection.fixed_probability(
                probability=EPSILON,
                weights=weight,
                delays=ann.Uniform(MIN_DELAY_MS + STEP_MS, MAX_DELAY_MS + STEP_MS, rng=rng),
                allow_self_connections=True,
            )
            projections.append(projection)
    monitor = net.monitor(neurons, ["spike"])
    return _harness.annarchy_run(ann, net, params, projections, [monitor])


MODEL = _harness.Model(
    name="brunel",
    model=brunel,
    neurons=lambda params: N_NEURONS,
    nest_model=brunel_nest,
    annarchy_model=brunel_annarchy,
)

if __name__ == "__main__":
    _harness.main(MODEL, _SCRIPT_STARTED)

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
    ``refractory_input`` keeps the input that arrives during the refractory period, as Brian2's
    ``v += J`` does."""
    theta, tau, J = 20.0, 20.0, 0.1
    C_E = EPSILON * N_EXCITATORY
    nu_thr = theta / (J * C_E * tau) * 1000.0  # Hz
    neurons = nest.Create(
        "iaf_psc_delta",
        N_NEURONS,
        params={
            "tau_m": tau,
            "V_th": theta,
            "V_reset": 10.0,
            "E_L": 0.0,
            "V_m": 0.0,
            "t_ref": 2.0,
            "refractory_input": True,
        },
    )
    rule = {"rule": "pairwise_bernoulli", "p": EPSILON}
    if params.connect:
        for sources, weight in ((neurons[:N_EXCITATORY], J), (neurons[N_EXCITATORY:], -G * J)):
            delay = nest.random.uniform(MIN_DELAY_MS, MAX_DELAY_MS)
            nest.Connect(sources, neurons, rule, {"weight": weight, "delay": delay})
    synapses = nest.GetKernelStatus("num_connections")
    external = nest.Create("poisson_generator", params={"rate": C_E * NU_EXT_OVER_NU_THR * nu_thr})
    nest.Connect(external, neurons, syn_spec={"weight": J, "delay": MIN_DELAY_MS})
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    return _harness.nest_run(nest, params, synapses, [recorder])


MODEL = _harness.Model(
    name="brunel",
    model=brunel,
    neurons=lambda params: N_NEURONS,
    nest_model=brunel_nest,
    annarchy_model=None,  # ANNarchy has no PoissonInput (independent Poisson input per neuron)
)

if __name__ == "__main__":
    _harness.main(MODEL, _SCRIPT_STARTED)

"""Small reference models written against the Brian2 API.

Every public function takes the simulator *module* as its only argument
(``brian2`` or ``spikeforge``) and uses only names found on that module, so the
same code runs under both simulators.  ``tests/reference/generate_brian2_references.py``
runs them with Brian2 and stores the results in ``tests/reference/data/``; the
spikeforge tests run them again with ``spikeforge`` and compare.

Conventions
-----------
* Each function calls ``sim.start_scope()`` first and sets
  ``sim.defaultclock.dt`` explicitly.
* Each function returns ``dict[str, numpy.ndarray]``.  Quantities are converted
  with ``np.asarray(q)``, so every float is in SI base units (seconds, volts,
  amperes, hertz), never ``q / ms``.  Spike indices and counts are integer
  arrays.
* ``dt`` and ``duration`` (seconds, 0-d arrays) are included in every result.
  Inputs such as the per-neuron drive ``I`` are returned as *nominal* values
  computed with numpy from the same formula (not read back from the group),
  so they may differ from the simulator's values in the last bit.
* State variables are set with string assignments only (``G.v = 'c'``) and
  never read back from the group (``G.v[:]``); everything measured comes from
  the monitors.
* Only a small part of the API is used: ``NeuronGroup`` (differential
  equations, subexpressions, parameters with ``(constant)``, the
  ``(unless refractory)`` flag, threshold, reset, refractory, ``method=``,
  ``namespace=``), ``SpikeMonitor`` (``.i``, ``.t``, ``.count``),
  ``StateMonitor(G, 'var', record=[...])`` (``.t``, ``.<var>``),
  ``PopulationRateMonitor`` (``.t``, ``.rate``), ``run``, ``defaultclock.dt``,
  ``start_scope`` and units.  External constants in equation strings are taken
  from the calling function's local variables (the implicit namespace of
  ``run``) unless ``namespace=`` is passed.

Local variable names avoid the group's built-in names (``N``, ``i``, ``t``,
``dt``) and Brian's constants (``e``, ``pi``, ``inf``), since a local ``N``
would clash with the group size ``N`` used in string expressions.

Synapse models
--------------
The models from :func:`synapse_delays` on also use ``Synapses`` (``model=``,
``on_pre=``, ``on_post=``, ``delay=``, ``method=``, ``(summed)`` and
``(event-driven)`` flags, ``_pre``/``_post`` suffixes), ``S.connect`` with
``condition=``, ``p=``, ``i=``/``j=`` arrays, ``j=`` expressions and
generators (``range``, ``sample``), ``n=`` and ``skip_if_invalid=``, string
assignments to synaptic variables and delays, ``S.delay = array*ms``,
``StateMonitor`` on a ``Synapses`` object, ``SpikeGeneratorGroup``,
``PoissonGroup`` and ``seed()``.  Their local names also avoid the synaptic
built-ins (``j``, ``N_pre``, ``N_post``, ``N_incoming``, ``N_outgoing``,
``delay``, ``lastupdate``) and the names of model variables.

After a run or ``connect`` they do read back ``S.i``, ``S.j``, ``S.w``,
``S.N_incoming`` and ``S.N_outgoing`` (copied at once with ``np.array``;
Brian2's arrays can be freed with the network).  Synapse order is only
relied on where Brian2 documents it (``connect(i=array, j=array)`` creates
synapse ``k`` for the pair ``(i[k], j[k])``); everything else is sorted by
``(i, j)`` before it is returned.

Network models
--------------
:func:`cobahh`, :func:`brunel_ai` and :func:`brunel_sr` are whole random
networks (thousands of neurons, up to 2.5 million synapses, 0.5 s); the
Brunel models also use ``PoissonInput``.  They return summary statistics
(rates, CV of inter-spike intervals, population-rate fluctuations) computed
with numpy from the monitors.

Random models
-------------
Models whose results depend on random numbers take a ``random_seed``
keyword (default: the first entry of ``SEED_SPREAD[name]``) and call
``sim.seed(random_seed)`` after ``start_scope``.  spikeforge's generator
differs from Brian2's, so these results are compared statistically:
``STATISTICAL[name]`` maps each such key to a description of the statistic
to compare.  Keys of a random model that are not listed there (parameters,
nominal inputs, ``dt``, ``duration``) are deterministic.  The generator runs
these models once per seed in ``SEED_SPREAD[name]`` and stores Brian2's
seed-to-seed values as ``<key>_per_seed`` (and the seeds as ``seeds``);
those keys exist only in the reference files, not in the model results.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "lif_fi_curve",
    "hh_neuron",
    "conditionally_linear_hh",
    "izhikevich_rk4",
    "adaptive_exp_euler",
    "coupled_linear_exact",
    "population_rate",
    "synapse_delays",
    "summed_variable",
    "stdp_pair",
    "connect_deterministic",
    "connect_random",
    "cuba_small",
    "poisson_rates",
    "cobahh",
    "brunel_ai",
    "brunel_sr",
    "linked_regularly",
    "spatial_passive_tree",
    "spatial_hh_axon",
    "SQUID_AXON",
    "MODELS",
    "TOLERANCES",
    "EXPLICIT_METHODS",
    "STATISTICAL",
    "SEED_SPREAD",
]

#: Integration methods used by the two nonlinear two-variable models.
EXPLICIT_METHODS = ("rk4", "rk2", "euler")


def _f(x) -> np.ndarray:
    """A quantity (or array) as a plain float64 array in SI units."""
    return np.array(np.asarray(x), dtype=np.float64)


def _int(x) -> np.ndarray:
    return np.array(np.asarray(x), dtype=np.int64)


def _spikes(mon, prefix: str = "spike") -> dict[str, np.ndarray]:
    return {
        f"{prefix}_i": _int(mon.i),
        f"{prefix}_t": _f(mon.t),
        f"{prefix}_count": _int(mon.count),
    }


def lif_fi_curve(sim) -> dict[str, np.ndarray]:
    """20 independent LIF neurons with a constant drive that grows with ``i``.

    Exact integration of ``dv/dt = (I - v)/tau`` with ``(unless refractory)``,
    refractory period 2 ms, 1 s of simulated time.  The drive is set with the
    string expression ``'I_min + I_span*i/N'`` (integer ``i`` divided by the
    integer ``N``: true division), giving 11, 13, ..., 49 mV.  No neuron's
    drive equals the threshold exactly; neurons 0-4 (I < 20 mV) stay silent.

    Keys: ``I`` (V, nominal, per neuron), ``spike_i``, ``spike_t`` (s), ``spike_count``.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 1 * sim.second

    n_neurons = 20
    tau = 10 * sim.ms
    v_th = 20 * sim.mV
    v_reset = 0 * sim.mV
    I_min = 11 * sim.mV
    I_span = 40 * sim.mV

    eqs = """
    dv/dt = (I - v)/tau : volt (unless refractory)
    I : volt (constant)
    """
    G = sim.NeuronGroup(
        n_neurons,
        eqs,
        threshold="v > v_th",
        reset="v = v_reset",
        refractory=2 * sim.ms,
        method="exact",
    )
    G.I = "I_min + I_span*i/N"
    spikes = sim.SpikeMonitor(G)
    sim.run(duration)

    out = {"I": _f(I_min) + _f(I_span) * np.arange(n_neurons) / n_neurons}
    out.update(_spikes(spikes))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(duration)
    return out


def hh_neuron(sim) -> dict[str, np.ndarray]:
    """A single Hodgkin-Huxley point neuron (squid axon, rest near -65 mV).

    Classic HH rate functions and conductances (gNa = 120, gK = 36,
    gL = 0.3 mS/cm^2, Cm = 1 uF/cm^2, ENa = 50 mV, EK = -77 mV,
    EL = -54.387 mV) on a 20000 um^2 patch, ``exponential_euler`` with
    dt = 0.01 ms.  The injected current is the parameter ``I``: 0 for 10 ms,
    2 nA (10 uA/cm^2) for 50 ms, then 0 for 20 ms (three ``run`` calls).
    Threshold and refractoriness are both ``'v > -40*mV'``.

    Keys: ``t`` (s), ``v`` (V, shape ``(n_t,)``), ``I_step`` (A),
    ``spike_i``, ``spike_t`` (s), ``spike_count``.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.01 * sim.ms

    area = 20000 * sim.umetre**2
    Cm = 1 * sim.uF / sim.cm**2 * area
    # Conductance densities in mS/cm^2, written via siemens.
    gl = 0.3e-3 * sim.siemens / sim.cm**2 * area
    g_na = 120e-3 * sim.siemens / sim.cm**2 * area
    g_k = 36e-3 * sim.siemens / sim.cm**2 * area
    El = -54.387 * sim.mV
    ENa = 50 * sim.mV
    EK = -77 * sim.mV
    I_step = 2 * sim.nA

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
    """
    G = sim.NeuronGroup(
        1,
        eqs,
        threshold="v > -40*mV",
        refractory="v > -40*mV",
        method="exponential_euler",
    )
    # Resting state (steady-state gating values at -65 mV).
    G.v = "-65*mV"
    G.m = "0.0529"
    G.h = "0.5961"
    G.n = "0.3177"
    G.I = "0*nA"

    trace = sim.StateMonitor(G, "v", record=[0])
    spikes = sim.SpikeMonitor(G)

    sim.run(10 * sim.ms)
    G.I = "I_step"
    sim.run(50 * sim.ms)
    G.I = "0*nA"
    sim.run(20 * sim.ms)

    out = {
        "t": _f(trace.t),
        "v": _f(trace.v)[0],
        "I_step": _f(I_step),
        "step_start": _f(10 * sim.ms),
        "step_stop": _f(60 * sim.ms),
    }
    out.update(_spikes(spikes))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(80 * sim.ms)
    return out


def conditionally_linear_hh(sim) -> dict[str, np.ndarray]:
    """Wang & Buzsaki's (1996) interneuron model (a Brian2 example), ``exponential_euler``.

    The sodium activation ``m`` is a subexpression of ``v`` (instantaneous), so ``dv/dt`` is
    only *conditionally* linear in ``v`` (``m**3`` depends on ``v``); exponential Euler holds
    the coefficients fixed over a step.  A constant 2 uA drive (per cm^2 units, as in the
    example), dt = 0.01 ms, 60 ms.

    Keys: ``t`` (s), ``v`` (V), ``h``, ``n``, ``spike_i``, ``spike_t`` (s), ``spike_count``.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.01 * sim.ms
    Cm = 1 * sim.uF
    Iapp = 2 * sim.uA
    gL = 0.1 * sim.msiemens
    EL = -65 * sim.mV
    ENa = 55 * sim.mV
    EK = -90 * sim.mV
    gNa = 35 * sim.msiemens
    gK = 9 * sim.msiemens
    eqs = """
    dv/dt = (-gNa*m**3*h*(v-ENa)-gK*n**4*(v-EK)-gL*(v-EL)+Iapp)/Cm : volt
    m = alpha_m/(alpha_m+beta_m) : 1
    alpha_m = 0.1/mV*10*mV/exprel(-(v+35*mV)/(10*mV))/ms : Hz
    beta_m = 4*exp(-(v+60*mV)/(18*mV))/ms : Hz
    dh/dt = 5*(alpha_h*(1-h)-beta_h*h) : 1
    alpha_h = 0.07*exp(-(v+58*mV)/(20*mV))/ms : Hz
    beta_h = 1./(exp(-0.1/mV*(v+28*mV))+1)/ms : Hz
    dn/dt = 5*(alpha_n*(1-n)-beta_n*n) : 1
    alpha_n = 0.01/mV*10*mV/exprel(-(v+34*mV)/(10*mV))/ms : Hz
    beta_n = 0.125*exp(-(v+44*mV)/(80*mV))/ms : Hz
    """
    G = sim.NeuronGroup(
        1, eqs, threshold="v > -20*mV", refractory=1 * sim.ms, method="exponential_euler"
    )
    G.v = "-70*mV"
    G.h = "1"
    trace = sim.StateMonitor(G, ["v", "h", "n"], record=[0])
    spikes = sim.SpikeMonitor(G)
    sim.run(60 * sim.ms)
    out = {"t": _f(trace.t), "v": _f(trace.v)[0], "h": _f(trace.h)[0], "n": _f(trace.n)[0]}
    out.update(_spikes(spikes))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(60 * sim.ms)
    return out


def _izhikevich(sim, method: str) -> dict[str, np.ndarray]:
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 200 * sim.ms

    # Regular-spiking parameters; u carries units of volt here.
    a = 0.02
    b = 0.2
    c = -65 * sim.mV
    d = 8 * sim.mV
    v_peak = 30 * sim.mV

    eqs = """
    dv/dt = (0.04*v**2/mV + 5*v + 140*mV - u + I)/ms : volt
    du/dt = a*(b*v - u)/ms : volt
    I : volt (constant)
    """
    G = sim.NeuronGroup(
        3,
        eqs,
        threshold="v >= v_peak",
        reset="""
        v = c
        u += d
        """,
        method=method,
    )
    G.v = "c"
    G.u = "b*c"
    G.I = "(4 + 5*i)*mV"
    trace = sim.StateMonitor(G, "v", record=[0, 2])
    spikes = sim.SpikeMonitor(G)
    sim.run(duration)

    out = {"t": _f(trace.t), "v": _f(trace.v), "I": (4 + 5 * np.arange(3)) * 1e-3}
    out.update(_spikes(spikes))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(duration)
    return out


def izhikevich_rk4(sim) -> dict[str, np.ndarray]:
    """Izhikevich regular-spiking neurons, integrated with rk4, rk2 and euler.

    Three neurons with drive ``'(4 + 5*i)*mV'`` (4, 9, 14 mV/ms in the usual
    dimensionless form), threshold ``v >= 30 mV``, reset ``v = c; u += d``,
    dt = 0.1 ms, 200 ms.  Each method is a separate ``start_scope`` + run.

    Keys, for each ``m`` in ``rk4``, ``rk2``, ``euler``: ``t_m`` (s),
    ``v_m`` (V, shape ``(2, n_t)`` for neurons 0 and 2), ``I_m`` (V, nominal),
    ``spike_i_m``, ``spike_t_m`` (s), ``spike_count_m``; plus ``dt``,
    ``duration``.
    """
    return _per_method(sim, _izhikevich)


def _adex(sim, method: str) -> dict[str, np.ndarray]:
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 200 * sim.ms

    # Brette & Gerstner (2005) parameters.
    C = 281 * sim.pF
    gL = 30 * sim.nS
    EL = -70.6 * sim.mV
    VT = -50.4 * sim.mV
    DeltaT = 2 * sim.mV
    tau_w = 144 * sim.ms
    a = 4 * sim.nS
    b = 0.0805 * sim.nA
    v_reset = EL
    v_cut = VT + 5 * DeltaT

    eqs = """
    dv/dt = (gL*(EL - v) + gL*DeltaT*exp((v - VT)/DeltaT) - w + I)/C : volt
    dw/dt = (a*(v - EL) - w)/tau_w : amp
    I : amp (constant)
    """
    G = sim.NeuronGroup(
        2,
        eqs,
        threshold="v > v_cut",
        reset="""
        v = v_reset
        w += b
        """,
        method=method,
    )
    G.v = "EL"
    G.w = "0*nA"
    G.I = "0.8*nA + 0.7*nA*i"
    trace = sim.StateMonitor(G, "v", record=[0, 1])
    spikes = sim.SpikeMonitor(G)
    sim.run(duration)

    out = {"t": _f(trace.t), "v": _f(trace.v), "I": (0.8 + 0.7 * np.arange(2)) * 1e-9}
    out.update(_spikes(spikes))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(duration)
    return out


def adaptive_exp_euler(sim) -> dict[str, np.ndarray]:
    """Adaptive exponential integrate-and-fire (AdEx), rk4 / rk2 / euler.

    Two neurons with constant drive ``'0.8*nA + 0.7*nA*i'`` (0.8 and 1.5 nA),
    threshold ``v > VT + 5*DeltaT``, reset ``v = EL; w += b``, dt = 0.1 ms,
    200 ms.  The name refers to the model; like :func:`izhikevich_rk4` it
    returns one result per method.

    Keys, for each ``m`` in ``rk4``, ``rk2``, ``euler``: ``t_m`` (s),
    ``v_m`` (V, shape ``(2, n_t)``), ``I_m`` (A, nominal), ``spike_i_m``,
    ``spike_t_m`` (s), ``spike_count_m``; plus ``dt``, ``duration``.
    """
    return _per_method(sim, _adex)


def _per_method(sim, build) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for method in EXPLICIT_METHODS:
        res = build(sim, method)
        for key in ("dt", "duration"):
            out[key] = res.pop(key)
        for key, value in res.items():
            out[f"{key}_{method}"] = value
    return out


def coupled_linear_exact(sim) -> dict[str, np.ndarray]:
    """A linear 2-variable system solved with ``exact``.

    ``dv/dt = (g - v)/tau_m`` and ``dg/dt = -g/tau_s`` (``g`` decays and
    drives ``v``).  Four neurons, ``tau_m`` a per-neuron ``(constant)``
    parameter set to ``'(5 + 5*i)*ms'`` (5, 10, 15, 20 ms), ``tau_s`` = 3 ms,
    initial ``g = '(1 + i)*5*mV'`` and ``v = '-2*mV*i'``; 50 ms at
    dt = 0.1 ms.  Closed form, for checking:
    ``g(t) = g0*exp(-t/tau_s)``,
    ``v(t) = v0*exp(-t/tau_m) + g0*tau_s/(tau_s - tau_m)*(exp(-t/tau_s) - exp(-t/tau_m))``.

    Keys: ``t`` (s), ``v`` and ``g`` (V, shape ``(4, n_t)``; column 0 holds
    the initial values v0 and g0, since StateMonitor records before the
    update), ``tau_m`` (s, nominal, per neuron), ``tau_s`` (s).
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 50 * sim.ms

    tau_s = 3 * sim.ms
    eqs = """
    dv/dt = (g - v)/tau_m : volt
    dg/dt = -g/tau_s : volt
    tau_m : second (constant)
    """
    G = sim.NeuronGroup(4, eqs, method="exact")
    G.tau_m = "(5 + 5*i)*ms"
    G.g = "(1 + i)*5*mV"
    G.v = "-2*mV*i"
    mon_v = sim.StateMonitor(G, "v", record=[0, 1, 2, 3])
    mon_g = sim.StateMonitor(G, "g", record=[0, 1, 2, 3])
    sim.run(duration)

    return {
        "t": _f(mon_v.t),
        "v": _f(mon_v.v),
        "g": _f(mon_g.g),
        "tau_m": (5 + 5 * np.arange(4)) * 1e-3,
        "tau_s": _f(tau_s),
        "dt": _f(sim.defaultclock.dt),
        "duration": _f(duration),
    }


def population_rate(sim) -> dict[str, np.ndarray]:
    """100 independent LIF neurons with heterogeneous constant drive.

    ``dv/dt = (I - v)/tau`` (unless refractory), refractory 5 ms, exact,
    constants passed with ``namespace=``.  Drive ``'15*mV + 30*mV*i/N'``;
    initial ``v = 'v_th*((i*37) % N)/N'`` (integer ``%``) to spread the first
    spikes.  500 ms at dt = 0.1 ms.

    Keys: ``rate_t`` (s), ``rate`` (Hz; every value is a multiple of
    1/(N*dt) = 100 Hz), ``v_init`` and ``I`` (V, nominal), ``spike_count``,
    ``spike_i``, ``spike_t`` (s).
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 500 * sim.ms

    params = {
        "tau": 10 * sim.ms,
        "v_th": 20 * sim.mV,
        "v_reset": 0 * sim.mV,
    }
    eqs = """
    dv/dt = (I - v)/tau : volt (unless refractory)
    I : volt (constant)
    """
    G = sim.NeuronGroup(
        100,
        eqs,
        threshold="v > v_th",
        reset="v = v_reset",
        refractory=5 * sim.ms,
        method="exact",
        namespace=params,
    )
    G.I = "15*mV + 30*mV*i/N"
    G.v = "v_th*((i*37) % N)/N"
    rate = sim.PopulationRateMonitor(G)
    spikes = sim.SpikeMonitor(G)
    sim.run(duration)

    out = {
        "rate_t": _f(rate.t),
        "rate": _f(rate.rate),
        "v_init": _f(params["v_th"]) * ((np.arange(100) * 37) % 100) / 100,
        "I": (15 + 30 * np.arange(100) / 100) * 1e-3,
    }
    out.update(_spikes(spikes))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(duration)
    return out


# ---------------------------------------------------------------------------
# Synapses, SpikeGeneratorGroup, PoissonGroup
# ---------------------------------------------------------------------------

#: Threshold and reset of the "spike once per arrival" target neurons.
_ARRIVAL_NEURON = {"threshold": "v > 0.5", "reset": "v = 0"}


def _spikes_as(mon, suffix: str) -> dict[str, np.ndarray]:
    """``spike_i_<suffix>``, ``spike_t_<suffix>``, ``spike_count_<suffix>``."""
    return {f"{key}_{suffix}": value for key, value in _spikes(mon).items()}


def _delay_steps(delays_s: np.ndarray, dt_s: float) -> np.ndarray:
    """Brian2's rounding of delays to steps: ``(int)(delay/dt + 0.5)`` in double."""
    return (np.asarray(delays_s, dtype=np.float64) / dt_s + 0.5).astype(np.int64)


def _sorted_synapses(S) -> tuple[np.ndarray, np.ndarray]:
    """``(pairs, order)``: the ``(i, j)`` pairs sorted lexicographically (shape
    ``(n, 2)``) and the permutation of synapse indices that sorts them."""
    pre = _int(S.i)
    post = _int(S.j)
    order = np.lexsort((post, pre))
    return np.stack([pre[order], post[order]], axis=1).reshape(-1, 2), order


def synapse_delays(sim) -> dict[str, np.ndarray]:
    """Spike transmission with homogeneous, per-synapse (array) and string delays.

    A ``SpikeGeneratorGroup`` of 3 neurons fires at (index, time) = (0, 1 ms),
    (1, 2 ms), (2, 3.5 ms), (0, 6 ms), (2, 7.25 ms); dt = 0.1 ms, 15 ms.  The
    last time is not a multiple of dt: Brian2 puts it in step
    ``int(t/dt + 1e-3)`` = 72, i.e. the spike is emitted at 7.2 ms.  Each target
    neuron is ``v : 1`` with ``on_pre='v += 1'``, threshold ``v > 0.5`` and
    reset ``v = 0``, so an arrival in the step starting at ``T`` makes the
    target spike in the next step, at ``T + dt`` (the synapses slot comes
    after the thresholds slot).

    * ``homog``: ``Synapses(..., delay=2*ms)``, ``connect(j='i')``, 3 targets.
    * ``array``: ``connect(i=syn_i_array, j=syn_j_array)`` then
      ``S.delay = delay_array_ms*ms`` with 0, 0.05, 0.15, 0.25, 0.45, 1, 2.35,
      3.05 ms etc.  Delays are rounded to ``(int)(delay/dt + 0.5)`` steps
      (``delay_steps_array``): 0.05 ms -> 1, 0.15 ms -> 1 (0.15e-3/1e-4 is
      1.4999999999999998), 0.25 ms -> 3 (exactly 2.5; not numpy's
      round-half-even 2), 0.45 ms -> 5, 2.35 ms -> 24, 3.05 ms -> 30.  A delay
      of 0 is delivered in the step of the presynaptic spike.  Target 10
      receives two arrivals one step apart (1.0 and 1.1 ms): the second one
      arrives in the step in which the target spikes and is wiped by the reset
      (resets come after synapses), so it spikes once per source spike; target
      11 (1.0 and 1.2 ms) spikes twice.
    * ``expr``: all-to-all ``connect()`` onto 4 targets, ``S.delay =
      '(1 + i + 2*j)*0.52*ms'`` (no value on a half step).
    * ``changed`` (a second ``start_scope``): source 0 fires at 1, 2.5 and
      6 ms; synapses 0->0 and 0->1 with ``S.delay = '3*ms'`` and a second,
      homogeneous pathway (``delay=1.5*ms``) onto a 1-neuron group
      (``changed_homog``).  After ``run(2*ms)`` the delays are changed to
      ``[0.5, 4]*ms`` (array) and ``0.5*ms`` (scalar) and the run continues
      for 10 ms.  The spike from 1 ms, still in the queue, keeps its arrival
      step (4 ms, resp. 2.5 ms); later spikes use the new delays.

    Keys: ``spike_i_<x>``, ``spike_t_<x>`` (s), ``spike_count_<x>`` for ``x``
    in ``source``, ``homog``, ``array``, ``expr``, ``changed``,
    ``changed_homog``, ``changed_source``; nominal ``source_indices``,
    ``source_times`` (s), ``delay_homog`` (s), ``syn_i_array``,
    ``syn_j_array``, ``delay_array`` (s), ``delay_steps_array``,
    ``delay_expr`` (s, shape (3, 4), ``[i, j]``), ``delay_steps_expr``,
    ``delay_changed_before``/``_after`` (s), ``delay_changed_homog_before``/
    ``_after`` (s), ``dt``, ``duration`` and ``duration_changed`` (s, both
    runs together).
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 15 * sim.ms
    dt_s = float(_f(sim.defaultclock.dt))

    source_indices = np.array([0, 1, 2, 0, 2])
    source_times_ms = np.array([1.0, 2.0, 3.5, 6.0, 7.25])
    source = sim.SpikeGeneratorGroup(3, source_indices, source_times_ms * sim.ms)

    # (a) one delay for the whole pathway
    delay_homog = 2 * sim.ms
    tgt_homog = sim.NeuronGroup(3, "v : 1", **_ARRIVAL_NEURON)
    syn_homog = sim.Synapses(source, tgt_homog, on_pre="v += 1", delay=delay_homog)
    syn_homog.connect(j="i")

    # (b) per-synapse delays from an array
    syn_i_array = np.array([0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0])
    syn_j_array = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 11, 11])
    delay_array_ms = np.array(
        [0, 0.05, 0.15, 0.25, 0.45, 1.0, 2.35, 3.05, 0, 0.25, 1.0, 1.1, 1.0, 1.2]
    )
    tgt_array = sim.NeuronGroup(12, "v : 1", **_ARRIVAL_NEURON)
    syn_array = sim.Synapses(source, tgt_array, on_pre="v += 1")
    syn_array.connect(i=syn_i_array, j=syn_j_array)
    syn_array.delay = delay_array_ms * sim.ms

    # (c) a string expression for the delays
    tgt_expr = sim.NeuronGroup(4, "v : 1", **_ARRIVAL_NEURON)
    syn_expr = sim.Synapses(source, tgt_expr, on_pre="v += 1")
    syn_expr.connect()
    syn_expr.delay = "(1 + i + 2*j)*0.52*ms"

    mon_source = sim.SpikeMonitor(source)
    mon_homog = sim.SpikeMonitor(tgt_homog)
    mon_array = sim.SpikeMonitor(tgt_array)
    mon_expr = sim.SpikeMonitor(tgt_expr)
    sim.run(duration)

    out = {
        "source_indices": _int(source_indices),
        "source_times": source_times_ms * 1e-3,
        "delay_homog": _f(delay_homog),
        "syn_i_array": _int(syn_i_array),
        "syn_j_array": _int(syn_j_array),
        "delay_array": delay_array_ms * 1e-3,
        "delay_steps_array": _delay_steps(delay_array_ms * 1e-3, dt_s),
    }
    ii, jj = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    out["delay_expr"] = (1 + ii + 2 * jj) * 0.52e-3
    out["delay_steps_expr"] = _delay_steps(out["delay_expr"], dt_s)
    out.update(_spikes_as(mon_source, "source"))
    out.update(_spikes_as(mon_homog, "homog"))
    out.update(_spikes_as(mon_array, "array"))
    out.update(_spikes_as(mon_expr, "expr"))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(duration)
    out.update(_synapse_delays_changed(sim))
    return out


def _synapse_delays_changed(sim) -> dict[str, np.ndarray]:
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    run_1, run_2 = 2 * sim.ms, 10 * sim.ms

    source = sim.SpikeGeneratorGroup(1, np.array([0, 0, 0]), np.array([1.0, 2.5, 6.0]) * sim.ms)
    tgt = sim.NeuronGroup(2, "v : 1", **_ARRIVAL_NEURON)
    syn = sim.Synapses(source, tgt, on_pre="v += 1")
    syn.connect(i=np.array([0, 0]), j=np.array([0, 1]))
    syn.delay = "3*ms"
    tgt_homog = sim.NeuronGroup(1, "v : 1", **_ARRIVAL_NEURON)
    syn_homog = sim.Synapses(source, tgt_homog, on_pre="v += 1", delay=1.5 * sim.ms)
    syn_homog.connect(i=np.array([0]), j=np.array([0]))

    mon_source = sim.SpikeMonitor(source)
    mon = sim.SpikeMonitor(tgt)
    mon_homog = sim.SpikeMonitor(tgt_homog)
    sim.run(run_1)
    delay_after_ms = np.array([0.5, 4.0])
    syn.delay = delay_after_ms * sim.ms
    syn_homog.delay = 0.5 * sim.ms
    sim.run(run_2)

    out = {
        "delay_changed_before": np.array([3e-3, 3e-3]),
        "delay_changed_after": delay_after_ms * 1e-3,
        "delay_changed_homog_before": np.array(1.5e-3),
        "delay_changed_homog_after": np.array(0.5e-3),
        "duration_changed": _f(run_1 + run_2),
    }
    out.update(_spikes_as(mon, "changed"))
    out.update(_spikes_as(mon_homog, "changed_homog"))
    out.update(_spikes_as(mon_source, "changed_source"))
    return out


def summed_variable(sim) -> dict[str, np.ndarray]:
    """``(summed)`` variables onto the target (``_post``) and the source (``_pre``).

    Source group: 5 neurons, ``x : 1 (constant)`` set to ``'0.5*(i + 1)'``,
    ``du/dt = -u/tau_u`` (exact, tau_u = 2 ms, ``u = '1 + i'``) and ``q : 1``.
    Target group: 4 neurons, ``y : 1``, ``z : 1`` and
    ``dv/dt = (y - v)/tau_v`` (exact, tau_v = 1 ms); ``y`` starts at 7.
    Synapses ``condition='j < 3 and i >= j'`` (target 3 has none),
    ``w : 1 (constant)`` set to ``'0.1*(1 + i) + 0.01*j'``, and
    ``y_post = w*x_pre``, ``z_post = w*u_pre``, ``q_pre = w`` (all
    ``(summed)``).  dt = 0.1 ms, 5 ms.

    Brian2 runs each summed-variable updater in the ``groups`` slot with
    ``order = (order of the group it writes to) - 1``, i.e. before the state
    updaters, and StateMonitors record in the ``start`` slot.  Hence
    (``W`` the nominal weight matrix, 0 where there is no synapse):
    column 0 of ``y`` holds the initial 7 (and ``z``, ``q`` their initial 0),
    and for ``k >= 1``: ``y[:, k] = W.T @ x`` (0 for target 3, which the
    updater resets to 0 although nothing is summed into it),
    ``z[:, k] = W.T @ u(t_{k-1})`` (one step behind ``u``, since the updater
    runs before the source's state update),
    ``q[:, k] = W.sum(axis=1)``; ``v`` already sees the summed ``y`` in the
    first step: ``v(t) = y_sum*(1 - exp(-t/tau_v))``.

    Keys: ``t`` (s), ``y``, ``z``, ``v`` (shape (4, n_t)), ``q``, ``u``
    (shape (5, n_t)), nominal ``x``, ``u0``, ``W`` (shape (5, 4)),
    ``tau_u``, ``tau_v`` (s), ``dt``, ``duration``.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 5 * sim.ms
    tau_u = 2 * sim.ms
    tau_v = 1 * sim.ms

    src = sim.NeuronGroup(
        5,
        """
        x : 1 (constant)
        du/dt = -u/tau_u : 1
        q : 1
        """,
        method="exact",
    )
    src.x = "0.5*(i + 1)"
    src.u = "1 + i"
    tgt = sim.NeuronGroup(
        4,
        """
        y : 1
        z : 1
        dv/dt = (y - v)/tau_v : 1
        """,
        method="exact",
    )
    tgt.y = "7"
    syn = sim.Synapses(
        src,
        tgt,
        model="""
        w : 1 (constant)
        y_post = w*x_pre : 1 (summed)
        z_post = w*u_pre : 1 (summed)
        q_pre = w : 1 (summed)
        """,
    )
    syn.connect(condition="j < 3 and i >= j")
    syn.w = "0.1*(1 + i) + 0.01*j"
    mon_tgt = sim.StateMonitor(tgt, ["y", "z", "v"], record=[0, 1, 2, 3])
    mon_src = sim.StateMonitor(src, ["q", "u"], record=[0, 1, 2, 3, 4])
    sim.run(duration)

    ii, jj = np.meshgrid(np.arange(5), np.arange(4), indexing="ij")
    W = np.where((jj < 3) & (ii >= jj), 0.1 * (1 + ii) + 0.01 * jj, 0.0)
    return {
        "t": _f(mon_tgt.t),
        "y": _f(mon_tgt.y),
        "z": _f(mon_tgt.z),
        "v": _f(mon_tgt.v),
        "q": _f(mon_src.q),
        "u": _f(mon_src.u),
        "x": 0.5 * (np.arange(5) + 1.0),
        "u0": 1.0 + np.arange(5),
        "W": W,
        "tau_u": _f(tau_u),
        "tau_v": _f(tau_v),
        "dt": _f(sim.defaultclock.dt),
        "duration": _f(duration),
    }


#: Spike-time differences (post minus pre, ms) of the single pairings in :func:`stdp_pair`.
STDP_DELTAS_MS = (-40.0, -20.0, -10.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 10.0, 20.0, 40.0)


def stdp_pair(sim) -> dict[str, np.ndarray]:
    """Pair-based STDP (Song et al. 2000) between two SpikeGeneratorGroups.

    Synapse ``k`` connects pre neuron ``k`` to post neuron ``k``
    (``connect(i=arange(15), j=arange(15))``).  Model: ``w : 1``,
    ``dapre/dt = -apre/taupre``, ``dapost/dt = -apost/taupost`` (both
    ``(event-driven)``), ``on_pre='apre += Apre; w = clip(w + apost, 0, wmax)'``,
    ``on_post='apost += Apost; w = clip(w + apre, 0, wmax)'``, taupre =
    taupost = 20 ms, wmax = 1, Apre = 0.05, Apost = -1.05*Apre; ``w`` starts
    at ``'0.5*wmax'``.  dt = 0.1 ms, 1.1 s.

    Synapses 0-12: one pairing each, pre at 50 ms and post at
    ``50 ms + delta_t`` for ``delta_t`` in ``STDP_DELTAS_MS``.  Closed form:
    ``w_final - 0.5 = Apre*exp(-delta_t/taupre)`` for ``delta_t > 0``,
    ``Apost*exp(delta_t/taupost)`` for ``delta_t < 0``, and ``Apre`` for
    ``delta_t = 0``: in a common step the ``on_pre`` pathway (``synapses``
    slot, order -1) runs before ``on_post`` (order +1).
    Synapses 13 and 14: 20 pre spikes at 100 ms + 50 ms*k, post 3 ms after
    (13, potentiation up to the ``clip`` at wmax) or before (14, down to 0)
    each pre spike; the traces of successive pairings interact.

    Keys: ``delta_t`` (s, nominal, synapses 0-12), ``w_final`` (final ``S.w``
    of every synapse, ordered by presynaptic index), ``t`` (s), ``w`` (shape
    (5, n_t), ``StateMonitor(S, 'w', record=w_record)``), ``w_record``
    (synapses 3, 6, 9, 13, 14: delta_t = -5, 0, +5 ms and the two trains),
    ``spike_i_pre``, ``spike_t_pre``, ``spike_count_pre``, the same for
    ``post``, ``Apre``, ``Apost``, ``taupre``, ``taupost`` (s), ``wmax``,
    ``w_init``, ``dt``, ``duration``.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 1100 * sim.ms

    taupre = 20 * sim.ms
    taupost = 20 * sim.ms
    wmax = 1.0
    Apre = 0.05
    Apost = -Apre * 1.05
    n_single = len(STDP_DELTAS_MS)
    n_syn = n_single + 2

    # Spike times in ms (SpikeGeneratorGroup input is sorted by the group).
    pre_i, pre_t, post_i, post_t = [], [], [], []
    for k, delta in enumerate(STDP_DELTAS_MS):
        pre_i.append(k)
        pre_t.append(50.0)
        post_i.append(k)
        post_t.append(50.0 + delta)
    for k, shift in ((n_single, 3.0), (n_single + 1, -3.0)):
        for n in range(20):
            pre_i.append(k)
            pre_t.append(100.0 + 50.0 * n)
            post_i.append(k)
            post_t.append(100.0 + 50.0 * n + shift)
    pre = sim.SpikeGeneratorGroup(n_syn, np.array(pre_i), np.array(pre_t) * sim.ms)
    post = sim.SpikeGeneratorGroup(n_syn, np.array(post_i), np.array(post_t) * sim.ms)

    syn = sim.Synapses(
        pre,
        post,
        model="""
        w : 1
        dapre/dt = -apre/taupre : 1 (event-driven)
        dapost/dt = -apost/taupost : 1 (event-driven)
        """,
        on_pre="""
        apre += Apre
        w = clip(w + apost, 0, wmax)
        """,
        on_post="""
        apost += Apost
        w = clip(w + apre, 0, wmax)
        """,
    )
    syn.connect(i=np.arange(n_syn), j=np.arange(n_syn))
    syn.w = "0.5*wmax"
    w_record = [3, 6, 9, n_single, n_single + 1]
    mon_w = sim.StateMonitor(syn, "w", record=w_record)
    mon_pre = sim.SpikeMonitor(pre)
    mon_post = sim.SpikeMonitor(post)
    sim.run(duration)

    w_final = _f(syn.w)[np.argsort(_int(syn.i), kind="stable")]
    out = {
        "delta_t": np.array(STDP_DELTAS_MS) * 1e-3,
        "w_final": w_final,
        "t": _f(mon_w.t),
        "w": _f(mon_w.w),
        "w_record": _int(w_record),
        "Apre": _f(Apre),
        "Apost": _f(Apost),
        "taupre": _f(taupre),
        "taupost": _f(taupost),
        "wmax": _f(wmax),
        "w_init": _f(0.5 * wmax),
    }
    out.update(_spikes_as(mon_pre, "pre"))
    out.update(_spikes_as(mon_post, "post"))
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = _f(duration)
    return out


def connect_deterministic(sim) -> dict[str, np.ndarray]:
    """Deterministic ``connect`` patterns (no run).

    Groups: ``sq`` (6 neurons, recurrent), ``a`` (10) and ``b`` (8).
    Patterns (name: source -> target, call):

    * ``ne``: sq -> sq, ``condition='i != j'``
    * ``band``: a -> b, ``condition='abs(i - j) <= 2'``
    * ``gen``: a -> b, ``j='k for k in range(i-3, i+4) if k != i'``,
      ``skip_if_invalid=True`` (drops k < 0 and k >= 8)
    * ``one2one``: a -> a, ``j='i'``
    * ``arrays``: a -> b, ``i=[0, 2, 2, 5, 1, 2, 9]``, ``j=[3, 3, 3, 0, 1, 0, 7]``
      (the pair (2, 3) twice)
    * ``n2``: a -> b, ``condition='(i + j) % 3 == 0'``, ``n=2`` (every pair
      twice)

    The synapse order within a ``Synapses`` object is an implementation
    detail (Brian2 creates them by increasing ``i``, then ``j``; for
    ``i=``/``j=`` arrays in array order), so every pattern is returned
    sorted lexicographically by ``(i, j)``.

    Keys, for each pattern ``p``: ``pairs_p`` (int, shape (n_syn, 2), columns
    ``i``, ``j``, sorted), ``N_incoming_p`` and ``N_outgoing_p`` (the
    synaptic variables ``S.N_incoming``/``S.N_outgoing``, one value per
    synapse in the same sorted order: the number of synapses onto the
    synapse's postsynaptic neuron / from its presynaptic neuron),
    ``in_degree_p`` and ``out_degree_p`` (per neuron, from ``bincount``); plus
    ``dt`` and ``duration`` (0).
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms

    sq = sim.NeuronGroup(6, "v : 1")
    a = sim.NeuronGroup(10, "v : 1")
    b = sim.NeuronGroup(8, "v : 1")

    patterns = {}
    s_ne = sim.Synapses(sq, sq)
    s_ne.connect(condition="i != j")
    patterns["ne"] = (s_ne, 6, 6)
    s_band = sim.Synapses(a, b)
    s_band.connect(condition="abs(i - j) <= 2")
    patterns["band"] = (s_band, 10, 8)
    s_gen = sim.Synapses(a, b)
    s_gen.connect(j="k for k in range(i-3, i+4) if k != i", skip_if_invalid=True)
    patterns["gen"] = (s_gen, 10, 8)
    s_one = sim.Synapses(a, a)
    s_one.connect(j="i")
    patterns["one2one"] = (s_one, 10, 10)
    s_arr = sim.Synapses(a, b)
    s_arr.connect(i=np.array([0, 2, 2, 5, 1, 2, 9]), j=np.array([3, 3, 3, 0, 1, 0, 7]))
    patterns["arrays"] = (s_arr, 10, 8)
    s_n2 = sim.Synapses(a, b)
    s_n2.connect(condition="(i + j) % 3 == 0", n=2)
    patterns["n2"] = (s_n2, 10, 8)

    out = {}
    for name, (syn, n_source, n_target) in patterns.items():
        pairs, order = _sorted_synapses(syn)
        out[f"pairs_{name}"] = pairs
        out[f"N_incoming_{name}"] = _int(syn.N_incoming)[order]
        out[f"N_outgoing_{name}"] = _int(syn.N_outgoing)[order]
        out[f"in_degree_{name}"] = np.bincount(pairs[:, 1], minlength=n_target).astype(np.int64)
        out[f"out_degree_{name}"] = np.bincount(pairs[:, 0], minlength=n_source).astype(np.int64)
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = np.array(0.0)
    return out


def connect_random(sim, random_seed: int = 11) -> dict[str, np.ndarray]:
    """Random connectivity between two groups of 400 neurons (no run).

    ``p``: ``connect(p=0.1)``; ``sample``:
    ``connect(j='k for k in sample(N_post, p=0.2)')``.  Every (i, j) pair is
    drawn independently, so out- and in-degrees are Binomial(400, p) (mean
    40 / 80, variance 36 / 64) and the number of synapses is
    Binomial(160000, p) (mean 16000 / 32000, s.d. 120 / 160); ``sample``
    never creates a pair twice.  ``seed(random_seed)`` is called first.

    Keys, for ``x`` in ``p``, ``sample``: ``n_synapses_x``,
    ``out_degree_x``, ``in_degree_x`` (per neuron), ``out_degree_hist_x``
    (``bincount`` of the out-degrees, length 401), ``n_duplicates_x``
    (synapses beyond the first for the same pair; 0); plus ``p_p``,
    ``p_sample``, ``n_source``, ``n_target``, ``dt``, ``duration`` (0).
    """
    sim.start_scope()
    sim.seed(random_seed)
    sim.defaultclock.dt = 0.1 * sim.ms
    n_source = n_target = 400

    src = sim.NeuronGroup(n_source, "v : 1")
    tgt = sim.NeuronGroup(n_target, "v : 1")
    syn_p = sim.Synapses(src, tgt)
    syn_p.connect(p=0.1)
    syn_sample = sim.Synapses(src, tgt)
    syn_sample.connect(j="k for k in sample(N_post, p=0.2)")

    out = {}
    for name, syn in (("p", syn_p), ("sample", syn_sample)):
        pairs, _ = _sorted_synapses(syn)
        out_degree = np.bincount(pairs[:, 0], minlength=n_source).astype(np.int64)
        out[f"n_synapses_{name}"] = np.array(len(pairs), dtype=np.int64)
        out[f"out_degree_{name}"] = out_degree
        out[f"in_degree_{name}"] = np.bincount(pairs[:, 1], minlength=n_target).astype(np.int64)
        out[f"out_degree_hist_{name}"] = np.bincount(out_degree, minlength=n_target + 1).astype(
            np.int64
        )
        n_unique = len(np.unique(pairs, axis=0)) if len(pairs) else 0
        out[f"n_duplicates_{name}"] = np.array(len(pairs) - n_unique, dtype=np.int64)
    out["p_p"] = np.array(0.1)
    out["p_sample"] = np.array(0.2)
    out["n_source"] = np.array(n_source, dtype=np.int64)
    out["n_target"] = np.array(n_target, dtype=np.int64)
    out["dt"] = _f(sim.defaultclock.dt)
    out["duration"] = np.array(0.0)
    return out


#: Bin edges (Hz) of ``rate_hist`` in :func:`cuba_small`; the last bin is open.
CUBA_RATE_BINS = np.concatenate([np.arange(0.0, 101.0, 2.0), [np.inf]])


def _cv_isi(spike_i: np.ndarray, spike_t: np.ndarray, n_neurons: int, min_spikes: int = 3):
    """Per-neuron CV of the inter-spike intervals (NaN below ``min_spikes``)."""
    order = np.lexsort((spike_t, spike_i))
    idx, times = spike_i[order], spike_t[order]
    cv = np.full(n_neurons, np.nan)
    bounds = np.searchsorted(idx, np.arange(n_neurons + 1))
    for k in range(n_neurons):
        train = times[bounds[k] : bounds[k + 1]]
        if len(train) >= min_spikes:
            isi = np.diff(train)
            cv[k] = np.std(isi) / np.mean(isi)
    return cv


def cuba_small(sim, random_seed: int = 1) -> dict[str, np.ndarray]:
    """The CUBA network (Vogels & Abbott 2005, as in Brian2's CUBA example).

    4000 LIF neurons, ``dv/dt = (ge + gi - (v - El))/taum`` (unless
    refractory), ``dge/dt = -ge/taue``, ``dgi/dt = -gi/taui`` (exact), taum =
    20 ms, taue = 5 ms, taui = 10 ms, El = -49 mV, threshold ``v > Vt`` =
    -50 mV, reset ``v = Vr`` = -60 mV, refractory 5 ms, ``v`` initialised to
    ``'Vr + rand()*(Vt - Vr)'``.  Neurons 0-3199 excitatory
    (``Synapses(P, P, on_pre='ge += we')``, ``connect(condition='i<3200',
    p=0.02)``, we = 1.62 mV), 3200-3999 inhibitory (``on_pre='gi += wi'``,
    ``condition='i>=3200'``, wi = -9 mV).  1 s at dt = 0.1 ms after
    ``seed(random_seed)``.  Everything measured is random (``STATISTICAL``).

    Keys: ``total_spikes``, ``spike_count`` (per neuron), ``rate_per_neuron``
    (Hz), ``rate_mean``, ``rate_mean_exc``, ``rate_mean_inh`` (Hz),
    ``silent_fraction``, ``cv_isi_mean`` (mean over neurons with at least 3
    spikes of std(ISI)/mean(ISI)), ``cv_isi_n`` (number of such neurons),
    ``rate_hist`` (neurons per ``CUBA_RATE_BINS`` bin), ``pop_rate_1ms``
    (Hz, ``PopulationRateMonitor.rate`` averaged over 1 ms bins),
    ``pop_rate_1ms_std`` (its standard deviation over t >= 100 ms),
    ``n_synapses_e``, ``n_synapses_i``; parameters ``n_neurons``, ``n_exc``,
    ``p_connect``, ``we``, ``wi`` (V), ``dt``, ``duration``.
    """
    sim.start_scope()
    sim.seed(random_seed)
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 1 * sim.second

    n_neurons = 4000
    n_exc = 3200
    taum = 20 * sim.ms
    taue = 5 * sim.ms
    taui = 10 * sim.ms
    Vt = -50 * sim.mV
    Vr = -60 * sim.mV
    El = -49 * sim.mV
    we = (60 * 0.27 / 10) * sim.mV
    wi = (-20 * 4.5 / 10) * sim.mV

    eqs = """
    dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = sim.NeuronGroup(
        n_neurons,
        eqs,
        threshold="v > Vt",
        reset="v = Vr",
        refractory=5 * sim.ms,
        method="exact",
    )
    P.v = "Vr + rand()*(Vt - Vr)"
    P.ge = "0*mV"
    P.gi = "0*mV"
    Ce = sim.Synapses(P, P, on_pre="ge += we")
    Ci = sim.Synapses(P, P, on_pre="gi += wi")
    Ce.connect(condition="i<3200", p=0.02)
    Ci.connect(condition="i>=3200", p=0.02)
    spikes = sim.SpikeMonitor(P)
    rate = sim.PopulationRateMonitor(P)
    sim.run(duration)

    duration_s = float(_f(duration))
    count = _int(spikes.count)
    rates = count / duration_s
    cv = _cv_isi(_int(spikes.i), _f(spikes.t), n_neurons)
    pop = _f(rate.rate)
    steps_per_ms = int(round(1e-3 / float(_f(sim.defaultclock.dt))))
    pop_1ms = pop[: len(pop) // steps_per_ms * steps_per_ms].reshape(-1, steps_per_ms).mean(axis=1)
    return {
        "total_spikes": np.array(count.sum(), dtype=np.int64),
        "spike_count": count,
        "rate_per_neuron": rates,
        "rate_mean": np.array(rates.mean()),
        "rate_mean_exc": np.array(rates[:n_exc].mean()),
        "rate_mean_inh": np.array(rates[n_exc:].mean()),
        "silent_fraction": np.array(np.mean(count == 0)),
        "cv_isi_mean": np.array(np.nanmean(cv)),
        "cv_isi_n": np.array(np.sum(~np.isnan(cv)), dtype=np.int64),
        "rate_hist": np.histogram(rates, bins=CUBA_RATE_BINS)[0].astype(np.int64),
        "pop_rate_1ms": pop_1ms,
        "pop_rate_1ms_std": np.array(np.std(pop_1ms[100:])),
        "n_synapses_e": np.array(len(_int(Ce.i)), dtype=np.int64),
        "n_synapses_i": np.array(len(_int(Ci.i)), dtype=np.int64),
        "n_neurons": np.array(n_neurons, dtype=np.int64),
        "n_exc": np.array(n_exc, dtype=np.int64),
        "p_connect": np.array(0.02),
        "we": _f(we),
        "wi": _f(wi),
        "dt": _f(sim.defaultclock.dt),
        "duration": _f(duration),
    }


def poisson_rates(sim, random_seed: int = 21) -> dict[str, np.ndarray]:
    """Two ``PoissonGroup`` objects of 1000 neurons, 1 s at dt = 0.1 ms.

    ``const``: ``rates=20*Hz``; ``expr``: ``rates='(1 + i % 10)*5*Hz'`` (5,
    10, ..., 50 Hz, 100 neurons per rate).  A neuron spikes in a step with
    probability ``rate*dt``, so a count is Binomial(10000, rate*dt): mean
    ``rate*T``, Fano factor ``1 - rate*dt`` (0.998 at 20 Hz).
    ``seed(random_seed)`` is called first.

    Keys: ``spike_count_const``, ``spike_count_expr`` (per neuron),
    ``binned_count_const`` (spikes of the whole ``const`` group in each
    10 ms bin, 100 bins: mean 200), ``rate_const`` (Hz), ``rate_expr``
    (Hz, nominal per neuron), ``dt``, ``duration``.
    """
    sim.start_scope()
    sim.seed(random_seed)
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 1 * sim.second
    n_neurons = 1000

    g_const = sim.PoissonGroup(n_neurons, rates=20 * sim.Hz)
    g_expr = sim.PoissonGroup(n_neurons, rates="(1 + i % 10)*5*Hz")
    mon_const = sim.SpikeMonitor(g_const)
    mon_expr = sim.SpikeMonitor(g_expr)
    sim.run(duration)

    t_const = _f(mon_const.t)
    bins = np.floor(t_const / 10e-3 + 1e-6).astype(np.int64)
    binned = np.bincount(bins, minlength=100).astype(np.int64)
    return {
        "spike_count_const": _int(mon_const.count),
        "spike_count_expr": _int(mon_expr.count),
        "binned_count_const": binned,
        "rate_const": np.array(20.0),
        "rate_expr": (1 + np.arange(n_neurons) % 10) * 5.0,
        "dt": _f(sim.defaultclock.dt),
        "duration": _f(duration),
    }


# ---------------------------------------------------------------------------
# Larger random networks: COBAHH and Brunel (2000)
# ---------------------------------------------------------------------------

#: Bin edges (Hz) of ``rate_hist`` in :func:`cobahh`; the last bin is open.
COBAHH_RATE_BINS = np.concatenate([np.arange(0.0, 101.0, 5.0), [np.inf]])

#: Statistics of the population rate are taken after this initial transient (s).
NETWORK_TRANSIENT = 0.1


def _network_statistics(spikes, rate, n_neurons: int, duration_s: float, dt_s: float) -> dict:
    """Rates, CV of ISIs and population-rate statistics shared by the network models.

    ``pop_rate_1ms`` is ``PopulationRateMonitor.rate`` averaged over 1 ms bins;
    ``pop_rate_1ms_std`` and ``pop_rate_cv`` (std/mean) are taken over
    ``t >= NETWORK_TRANSIENT``, and so is ``pop_fano_dt``: the Fano factor
    (variance/mean) of the number of spikes per time step, about 1 for
    independent Poisson-like neurons and of the order of the number of
    neurons that fire together in synchronous volleys.
    """
    count = _int(spikes.count)
    rates = count / duration_s
    cv = _cv_isi(_int(spikes.i), _f(spikes.t), n_neurons)
    pop = _f(rate.rate)
    steps_per_ms = int(round(1e-3 / dt_s))
    pop_1ms = pop[: len(pop) // steps_per_ms * steps_per_ms].reshape(-1, steps_per_ms).mean(axis=1)
    late = pop_1ms[int(round(NETWORK_TRANSIENT / 1e-3)) :]
    per_step = np.round(pop[int(round(NETWORK_TRANSIENT / dt_s)) :] * n_neurons * dt_s)
    return {
        "total_spikes": np.array(count.sum(), dtype=np.int64),
        "spike_count": count,
        "rate_mean": np.array(rates.mean()),
        "silent_fraction": np.array(np.mean(count == 0)),
        "cv_isi_mean": np.array(np.nanmean(cv) if np.any(~np.isnan(cv)) else np.nan),
        "cv_isi_n": np.array(np.sum(~np.isnan(cv)), dtype=np.int64),
        "pop_rate_1ms": pop_1ms,
        "pop_rate_1ms_std": np.array(np.std(late)),
        "pop_rate_cv": np.array(np.std(late) / np.mean(late) if np.mean(late) > 0 else np.nan),
        "pop_fano_dt": np.array(
            np.var(per_step) / np.mean(per_step) if np.mean(per_step) > 0 else np.nan
        ),
    }


def cobahh(sim, random_seed: int = 1) -> dict[str, np.ndarray]:
    """COBAHH: 4000 HH neurons with conductance synapses (Brette et al. 2007, benchmark 3).

    Traub-Miles type HH neurons (area 20000 um^2, Cm = 1 uF/cm^2, gl =
    0.05 mS/cm^2, El = -60 mV, gNa = 100 mS/cm^2, ENa = 50 mV, gKd =
    30 mS/cm^2, EK = -90 mV, VT = -63 mV) with exponentially decaying
    excitatory (Ee = 0 mV, taue = 5 ms) and inhibitory (Ei = -80 mV, taui =
    10 ms) conductances, ``exponential_euler``, threshold ``v > -20*mV`` and
    refractory 3 ms (no reset).  Neurons 0-3199 are excitatory
    (``on_pre='ge += we'``, we = 6 nS), 3200-3999 inhibitory (``on_pre='gi
    += wi'``, wi = 67 nS); ``connect(condition=..., p=0.02)``.  Initial
    ``v = 'El + (randn()*5 - 5)*mV'``, ``ge = '(randn()*1.5 + 4)*10*nS'``,
    ``gi = '(randn()*12 + 20)*10*nS'`` (m, h, n start at 0), as in the
    benchmark's Brian scripts.  0.5 s at dt = 0.1 ms after
    ``seed(random_seed)``.  Everything measured is random (``STATISTICAL``).

    Keys: ``total_spikes``, ``spike_count`` (per neuron), ``rate_mean``,
    ``rate_mean_exc``, ``rate_mean_inh`` (Hz), ``silent_fraction``,
    ``cv_isi_mean`` (mean over neurons with at least 3 spikes of
    std(ISI)/mean(ISI)), ``cv_isi_n``, ``rate_hist`` (neurons per
    ``COBAHH_RATE_BINS`` bin), ``pop_rate_1ms`` (Hz, 1 ms bins),
    ``pop_rate_1ms_std``, ``pop_rate_cv`` and ``pop_fano_dt`` (after
    ``NETWORK_TRANSIENT``, see :func:`_network_statistics`), ``n_synapses_e``,
    ``n_synapses_i``; parameters ``n_neurons``, ``n_exc``, ``p_connect``,
    ``we``, ``wi`` (S), ``dt``, ``duration``.
    """
    sim.start_scope()
    sim.seed(random_seed)
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 0.5 * sim.second

    n_neurons = 4000
    n_exc = 3200
    p_connect = 0.02
    area = 20000 * sim.umetre**2
    Cm = 1 * sim.ufarad * sim.cm**-2 * area
    gl = 5e-5 * sim.siemens * sim.cm**-2 * area
    El = -60 * sim.mV
    EK = -90 * sim.mV
    ENa = 50 * sim.mV
    g_na = 100 * sim.msiemens * sim.cm**-2 * area
    g_kd = 30 * sim.msiemens * sim.cm**-2 * area
    VT = -63 * sim.mV
    taue = 5 * sim.ms
    taui = 10 * sim.ms
    Ee = 0 * sim.mV
    Ei = -80 * sim.mV
    we = 6 * sim.nS
    wi = 67 * sim.nS

    eqs = """
    dv/dt = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v)
             - g_na*(m*m*m)*h*(v - ENa) - g_kd*(n*n*n*n)*(v - EK))/Cm : volt
    dm/dt = alpha_m*(1 - m) - beta_m*m : 1
    dn/dt = alpha_n*(1 - n) - beta_n*n : 1
    dh/dt = alpha_h*(1 - h) - beta_h*h : 1
    dge/dt = -ge/taue : siemens
    dgi/dt = -gi/taui : siemens
    alpha_m = 0.32/mV*(13*mV - v + VT)/(exp((13*mV - v + VT)/(4*mV)) - 1)/ms : Hz
    beta_m = 0.28/mV*(v - VT - 40*mV)/(exp((v - VT - 40*mV)/(5*mV)) - 1)/ms : Hz
    alpha_h = 0.128*exp((17*mV - v + VT)/(18*mV))/ms : Hz
    beta_h = 4/(1 + exp((40*mV - v + VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032/mV*(15*mV - v + VT)/(exp((15*mV - v + VT)/(5*mV)) - 1)/ms : Hz
    beta_n = 0.5*exp((10*mV - v + VT)/(40*mV))/ms : Hz
    """
    P = sim.NeuronGroup(
        n_neurons,
        eqs,
        threshold="v > -20*mV",
        refractory=3 * sim.ms,
        method="exponential_euler",
    )
    Ce = sim.Synapses(P, P, on_pre="ge += we")
    Ci = sim.Synapses(P, P, on_pre="gi += wi")
    Ce.connect(condition="i < n_exc", p=p_connect)
    Ci.connect(condition="i >= n_exc", p=p_connect)
    P.v = "El + (randn()*5 - 5)*mV"
    P.ge = "(randn()*1.5 + 4)*10*nS"
    P.gi = "(randn()*12 + 20)*10*nS"
    spikes = sim.SpikeMonitor(P)
    rate = sim.PopulationRateMonitor(P)
    sim.run(duration)

    duration_s = float(_f(duration))
    out = _network_statistics(spikes, rate, n_neurons, duration_s, float(_f(sim.defaultclock.dt)))
    rates = out["spike_count"] / duration_s
    out.update(
        {
            "rate_mean_exc": np.array(rates[:n_exc].mean()),
            "rate_mean_inh": np.array(rates[n_exc:].mean()),
            "rate_hist": np.histogram(rates, bins=COBAHH_RATE_BINS)[0].astype(np.int64),
            "n_synapses_e": np.array(len(_int(Ce.i)), dtype=np.int64),
            "n_synapses_i": np.array(len(_int(Ci.i)), dtype=np.int64),
            "n_neurons": np.array(n_neurons, dtype=np.int64),
            "n_exc": np.array(n_exc, dtype=np.int64),
            "p_connect": np.array(p_connect),
            "we": _f(we),
            "wi": _f(wi),
            "dt": _f(sim.defaultclock.dt),
            "duration": _f(duration),
        }
    )
    return out


#: (g, nu_ext/nu_thr) of the two Brunel (2000) regimes, from the phase diagram (Fig. 2) and
#: Fig. 8: synchronous regular (excitation dominates) and asynchronous irregular.
BRUNEL_REGIMES = {"sr": (3.0, 2.0), "ai": (5.0, 2.0)}


def _brunel(sim, regime: str, random_seed: int) -> dict[str, np.ndarray]:
    sim.start_scope()
    sim.seed(random_seed)
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 0.5 * sim.second

    g_rel, nu_ratio = BRUNEL_REGIMES[regime]
    n_exc = 4000
    n_inh = 1000
    n_neurons = n_exc + n_inh
    epsilon = 0.1
    C_E = int(epsilon * n_exc)  # 400 (1000 in the paper)
    # J scaled with 1/C_E so that the mean input J*C_E is the paper's 0.1 mV * 1000.
    J = 0.1 * sim.mV * 1000 / C_E
    tau = 20 * sim.ms
    theta = 20 * sim.mV
    V_r = 10 * sim.mV
    D = 1.5 * sim.ms
    nu_thr = theta / (J * C_E * tau)
    nu_ext = nu_ratio * nu_thr

    P = sim.NeuronGroup(
        n_neurons,
        "dv/dt = -v/tau : volt (unless refractory)",
        threshold="v > theta",
        reset="v = V_r",
        refractory=2 * sim.ms,
        method="exact",
    )
    P.v = "rand()*theta"
    exc = sim.Synapses(P, P, on_pre="v += J", delay=D)
    exc.connect(condition="i < n_exc", p=epsilon)
    inh = sim.Synapses(P, P, on_pre="v += -g_rel*J", delay=D)
    inh.connect(condition="i >= n_exc", p=epsilon)
    external = sim.PoissonInput(P, "v", N=C_E, rate=nu_ext, weight=J)
    spikes = sim.SpikeMonitor(P)
    rate = sim.PopulationRateMonitor(P)
    sim.run(duration)

    duration_s = float(_f(duration))
    dt_s = float(_f(sim.defaultclock.dt))
    out = _network_statistics(spikes, rate, n_neurons, duration_s, dt_s)
    out.update(
        {
            "n_synapses_e": np.array(len(_int(exc.i)), dtype=np.int64),
            "n_synapses_i": np.array(len(_int(inh.i)), dtype=np.int64),
            "g": np.array(g_rel),
            "nu_ext_over_nu_thr": np.array(nu_ratio),
            "nu_thr": _f(nu_thr),
            "J": _f(J),
            "C_E": np.array(C_E, dtype=np.int64),
            "n_neurons": np.array(n_neurons, dtype=np.int64),
            "n_exc": np.array(n_exc, dtype=np.int64),
            "dt": _f(sim.defaultclock.dt),
            "duration": _f(duration),
        }
    )
    return out


def brunel_ai(sim, random_seed: int = 1) -> dict[str, np.ndarray]:
    """Brunel (2000) sparse E/I LIF network, asynchronous irregular (g = 5, nu_ext = 2 nu_thr).

    4000 excitatory and 1000 inhibitory LIF neurons, ``dv/dt = -v/tau``
    (unless refractory, exact), tau = 20 ms, threshold ``v > theta`` = 20 mV,
    reset ``v = V_r`` = 10 mV, refractory 2 ms, ``v = 'rand()*theta'``.
    Each neuron receives synapses from each excitatory neuron with
    probability epsilon = 0.1 (``on_pre='v += J'``) and from each inhibitory
    one with the same probability (``on_pre='v += -g_rel*J'``), all with
    delay D = 1.5 ms; C_E = 400, and J = 0.25 mV so that J*C_E equals the
    paper's 0.1 mV * 1000.  External input: ``PoissonInput(P, 'v', N=C_E,
    rate=nu_ext, weight=J)`` with nu_ext = 2*nu_thr, nu_thr =
    theta/(J*C_E*tau) = 10 Hz.  During the refractory period ``v`` is
    clamped: Brian2 ignores synaptic and Poisson input to an ``(unless
    refractory)`` variable then, as in the paper.  0.5 s at dt = 0.1 ms after
    ``seed(random_seed)``.

    Keys: ``total_spikes``, ``spike_count``, ``rate_mean`` (Hz),
    ``silent_fraction``, ``cv_isi_mean``, ``cv_isi_n``, ``pop_rate_1ms`` (Hz),
    ``pop_rate_1ms_std``, ``pop_rate_cv`` (std/mean of ``pop_rate_1ms``
    after ``NETWORK_TRANSIENT``), ``pop_fano_dt`` (Fano factor of the
    spikes per time step after the transient: the synchrony),
    ``n_synapses_e``, ``n_synapses_i``; parameters ``g``,
    ``nu_ext_over_nu_thr``, ``nu_thr`` (Hz), ``J`` (V), ``C_E``,
    ``n_neurons``, ``n_exc``, ``dt``, ``duration``.
    """
    return _brunel(sim, "ai", random_seed)


def brunel_sr(sim, random_seed: int = 1) -> dict[str, np.ndarray]:
    """Brunel (2000) sparse E/I LIF network, synchronous regular (g = 3, nu_ext = 2 nu_thr).

    The network of :func:`brunel_ai` with relative inhibition g = 3:
    excitation dominates, the neurons fire regularly at high rates (a few
    hundred Hz, close to the refractory limit) and the population rate
    oscillates.  Same keys as :func:`brunel_ai`.
    """
    return _brunel(sim, "sr", random_seed)


#: Keys of random models to compare statistically, with the statistic to use.
#: Every other key of these models is deterministic (parameters, nominal inputs).
STATISTICAL: dict[str, dict[str, str]] = {
    "connect_random": {
        "n_synapses_p": "Binomial(160000, 0.1): mean 16000, s.d. 120",
        "out_degree_p": "per-source out-degree, Binomial(400, 0.1): mean 40, variance 36",
        "in_degree_p": "per-target in-degree, Binomial(400, 0.1): mean 40, variance 36",
        "out_degree_hist_p": "histogram of out_degree_p; compare shape (e.g. chi-square "
        "against Binomial(400, 0.1), or against Brian2's histogram)",
        "n_duplicates_p": "always 0 (each pair is drawn once)",
        "n_synapses_sample": "Binomial(160000, 0.2): mean 32000, s.d. 160",
        "out_degree_sample": "per-source out-degree, Binomial(400, 0.2): mean 80, variance 64",
        "in_degree_sample": "per-target in-degree, Binomial(400, 0.2): mean 80, variance 64",
        "out_degree_hist_sample": "histogram of out_degree_sample; compare shape against "
        "Binomial(400, 0.2) or Brian2's histogram",
        "n_duplicates_sample": "always 0 (sample() never repeats a target)",
    },
    "cuba_small": {
        "total_spikes": "total spike count; compare with Brian2's seed-to-seed spread "
        "(total_spikes_per_seed)",
        "spike_count": "per-neuron counts; compare the distribution (rate_hist), "
        "not neuron by neuron",
        "rate_per_neuron": "per-neuron rates (Hz); compare mean and distribution, "
        "not neuron by neuron",
        "rate_mean": "mean rate over all neurons (Hz) vs rate_mean_per_seed",
        "rate_mean_exc": "mean rate of neurons 0-3199 (Hz) vs rate_mean_exc_per_seed",
        "rate_mean_inh": "mean rate of neurons 3200-3999 (Hz) vs rate_mean_inh_per_seed",
        "silent_fraction": "fraction of neurons without spikes vs silent_fraction_per_seed",
        "cv_isi_mean": "mean CV of ISIs (neurons with >= 3 spikes) vs cv_isi_mean_per_seed",
        "cv_isi_n": "number of neurons with >= 3 spikes vs cv_isi_n_per_seed",
        "rate_hist": "histogram of per-neuron rates (CUBA_RATE_BINS) vs rate_hist_per_seed",
        "pop_rate_1ms": "population rate in 1 ms bins (Hz); compare its mean and the "
        "shape of the initial transient (about 5-20 Hz during the first ~25 ms, then "
        "fluctuating around the mean rate), not bin by bin",
        "pop_rate_1ms_std": "s.d. of pop_rate_1ms after 100 ms (synchrony) vs "
        "pop_rate_1ms_std_per_seed",
        "n_synapses_e": "Binomial(3200*4000, 0.02): mean 256000, s.d. 501",
        "n_synapses_i": "Binomial(800*4000, 0.02): mean 64000, s.d. 250",
    },
    "poisson_rates": {
        "spike_count_const": "Binomial(10000, 20 Hz*dt) per neuron: mean rate 20 Hz "
        "(mean count 20, s.e. of the mean over 1000 neurons 0.14), Fano factor "
        "var/mean = 0.998",
        "spike_count_expr": "per rate class (i % 10), mean count (1 + i % 10)*5 and "
        "Fano factor about 1; or sum((count - rate*T)**2/(rate*T)) ~ chi-square(1000)",
        "binned_count_const": "population spikes per 10 ms bin: mean 200, variance "
        "about 200 (uniform in time)",
    },
    "cobahh": {
        "total_spikes": "total spike count vs total_spikes_per_seed",
        "spike_count": "per-neuron counts; compare the distribution (rate_hist), "
        "not neuron by neuron",
        "rate_mean": "mean rate over all neurons (Hz) vs rate_mean_per_seed",
        "rate_mean_exc": "mean rate of neurons 0-3199 (Hz) vs rate_mean_exc_per_seed",
        "rate_mean_inh": "mean rate of neurons 3200-3999 (Hz) vs rate_mean_inh_per_seed",
        "silent_fraction": "fraction of neurons without spikes vs silent_fraction_per_seed",
        "cv_isi_mean": "mean CV of ISIs (neurons with >= 3 spikes) vs cv_isi_mean_per_seed",
        "cv_isi_n": "number of neurons with >= 3 spikes vs cv_isi_n_per_seed",
        "rate_hist": "histogram of per-neuron rates (COBAHH_RATE_BINS) vs rate_hist_per_seed",
        "pop_rate_1ms": "population rate in 1 ms bins (Hz); compare its mean and "
        "fluctuations, not bin by bin",
        "pop_rate_1ms_std": "s.d. of pop_rate_1ms after NETWORK_TRANSIENT vs "
        "pop_rate_1ms_std_per_seed",
        "pop_rate_cv": "s.d./mean of pop_rate_1ms after NETWORK_TRANSIENT vs pop_rate_cv_per_seed",
        "pop_fano_dt": "Fano factor of the spikes per time step after NETWORK_TRANSIENT vs "
        "pop_fano_dt_per_seed",
        "n_synapses_e": "Binomial(3200*4000, 0.02): mean 256000, s.d. 501",
        "n_synapses_i": "Binomial(800*4000, 0.02): mean 64000, s.d. 250",
    },
}
for _regime in ("ai", "sr"):
    STATISTICAL[f"brunel_{_regime}"] = {
        "total_spikes": "total spike count vs total_spikes_per_seed",
        "spike_count": "per-neuron counts; compare the distribution, not neuron by neuron",
        "rate_mean": "mean rate over all neurons (Hz) vs rate_mean_per_seed",
        "silent_fraction": "fraction of neurons without spikes vs silent_fraction_per_seed",
        "cv_isi_mean": "mean CV of ISIs (neurons with >= 3 spikes) vs cv_isi_mean_per_seed "
        "(irregular firing: near 1 in the AI state, small in the SR state)",
        "cv_isi_n": "number of neurons with >= 3 spikes vs cv_isi_n_per_seed",
        "pop_rate_1ms": "population rate in 1 ms bins (Hz); compare its mean and "
        "fluctuations, not bin by bin",
        "pop_rate_1ms_std": "s.d. of pop_rate_1ms after NETWORK_TRANSIENT vs "
        "pop_rate_1ms_std_per_seed",
        "pop_rate_cv": "s.d./mean of pop_rate_1ms after NETWORK_TRANSIENT (synchrony) vs "
        "pop_rate_cv_per_seed",
        "pop_fano_dt": "Fano factor of the spikes per time step after NETWORK_TRANSIENT "
        "(synchrony: ~1 asynchronous, hundreds in the SR state's volleys) vs "
        "pop_fano_dt_per_seed",
        "n_synapses_e": "Binomial(4000*5000, 0.1): mean 2e6, s.d. 1342",
        "n_synapses_i": "Binomial(1000*5000, 0.1): mean 5e5, s.d. 671",
    }
del _regime

#: Seeds each random model is run with by the generator; the first is the
#: model function's default and gives the plain keys of the reference file.
SEED_SPREAD: dict[str, tuple[int, ...]] = {
    "connect_random": (11, 12, 13),
    "cuba_small": (1, 2, 3, 4, 5, 6, 7, 8),
    "poisson_rates": (21, 22, 23),
    "cobahh": (1, 2, 3),
    "brunel_ai": (1, 2, 3),
    "brunel_sr": (1, 2, 3),
}


#: name -> model function; the reference file is ``data/<name>.npz``.


def linked_regularly(sim) -> dict[str, np.ndarray]:
    """Linked variables, ``run_regularly`` and temporaries, in slots shared with monitors.

    The schedule decides the values.

    ``src`` (3 neurons): ``dx/dt = (1 - x)/tau_x`` (exact, tau_x = 2 ms), ``x = '0.1*i'``.
    ``linking`` (6 neurons): ``y : 1 (linked)`` to ``src.x`` at the index ``[2, 2, 1, 1, 0,
    0]``, ``dv/dt = (y - v)/tau_v`` (exact, tau_v = 1 ms), ``c : 1``; threshold ``v > 0.3``,
    reset ``jump = 0.5*v`` / ``v = jump - 0.1*int(jump > 0.2)`` / ``c += jump`` (a temporary);
    ``linking.run_regularly('v = v + 0.05*(i % 3)', dt=0.5*ms)`` in its default slot
    ``start``, which it shares with the StateMonitor: ``linking_run_regularly`` runs before
    ``statemonitor`` (ties are broken by name), so the recorded ``v`` at multiples of 0.5 ms
    already has the kick.  A second run_regularly on the synapses ``S`` (``src`` ->
    ``linking``, ``j == 2*i``; ``src``'s threshold ``x > 2`` never holds) ``'w = w + x_pre'`` with
    ``dt=1*ms, when='end'`` sums ``x`` of the source at the end of the steps at 0, 1, 2 ...
    ms.  dt = 0.1 ms, 5 ms.

    Keys: ``t`` (s), ``v``, ``y``, ``c`` (shape (6, n_t)), ``w`` (shape (3, n_t)),
    ``spike_i``, ``spike_t``, ``dt``, ``duration``.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.1 * sim.ms
    duration = 5 * sim.ms
    tau_x = 2 * sim.ms  # noqa: F841 (used by the equations)
    tau_v = 1 * sim.ms  # noqa: F841
    src = sim.NeuronGroup(
        3, "dx/dt = (1 - x)/tau_x : 1", threshold="x > 2", method="exact", name="src"
    )
    src.x = "0.1*i"
    linking = sim.NeuronGroup(
        6,
        """
        y : 1 (linked)
        dv/dt = (y - v)/tau_v : 1
        c : 1
        """,
        threshold="v > 0.3",
        reset="""
        jump = 0.5*v
        v = jump - 0.1*int(jump > 0.2)
        c += jump
        """,
        method="exact",
        name="linking",
    )
    linking.y = sim.linked_var(src, "x", index=np.array([2, 2, 1, 1, 0, 0]))
    linking.run_regularly("v = v + 0.05*(i % 3)", dt=0.5 * sim.ms)
    synapses = sim.Synapses(src, linking, "w : 1", on_pre="c_post += 0", name="S")
    synapses.connect("j == 2*i")
    synapses.run_regularly("w = w + x_pre", dt=1 * sim.ms, when="end")
    mon = sim.StateMonitor(linking, ["v", "y", "c"], record=True, name="statemonitor")
    wmon = sim.StateMonitor(synapses, "w", record=True, name="statemonitor_w")
    spikes = sim.SpikeMonitor(linking, name="spikemonitor")
    sim.run(duration)
    return {
        "t": np.asarray(mon.t),
        "v": np.asarray(mon.v),
        "y": np.asarray(mon.y),
        "c": np.asarray(mon.c),
        "w": np.asarray(wmon.w),
        **_spikes(spikes),
        "dt": np.asarray(sim.defaultclock.dt),
        "duration": np.asarray(duration),
    }


def _spatial_tree(sim):
    """A branched morphology: a soma, a dendrite with two children (a cylinder and a tapering
    section), and a thick cylinder."""
    morpho = sim.Soma(30 * sim.um)
    morpho.L = sim.Cylinder(diameter=1 * sim.um, length=100 * sim.um, n=20)
    morpho.L.L = sim.Cylinder(diameter=0.5 * sim.um, length=50 * sim.um, n=7)
    morpho.L.R = sim.Section(
        diameter=[1, 0.8, 0.6, 0.5] * sim.um, length=[10, 20, 30] * sim.um, n=3
    )
    morpho.R = sim.Cylinder(diameter=2 * sim.um, length=200 * sim.um, n=30)
    return morpho


def spatial_passive_tree(sim) -> dict[str, np.ndarray]:
    """A SpatialNeuron on a branched tree (``_spatial_tree``: 61 compartments) with a leak, a
    slow subthreshold sodium-like current, and point currents at the soma (0.1 nA) and at the
    tip of ``L.L`` (0.05 nA); Cm = 1 uF/cm2, Ri = 150 ohm cm, exponential Euler, dt = 0.01 ms,
    20 ms.  Nothing spikes.

    Keys: ``t``, ``v`` and ``Ic`` at compartments 0, 10, 25, 30, 40 (shape (5, n_t)); ``v_end``
    (all compartments), ``distance``, ``area``, ``space_constant``, ``length``, ``diameter``.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.01 * sim.ms
    morpho = _spatial_tree(sim)
    gL = 1e-4 * sim.siemens / sim.cm**2  # noqa: F841 (used by the equations)
    EL = -70 * sim.mV
    eqs = """
    Im = gL * (EL - v) + gNa*m**3*(50*mV - v) : amp/meter**2
    dm/dt = (1/(1 + exp(-(v + 40*mV)/(6*mV))) - m)/(0.5*ms) : 1
    gNa : siemens/meter**2
    I : amp (point current)
    """
    neuron = sim.SpatialNeuron(
        morphology=morpho,
        model=eqs,
        Cm=1 * sim.uF / sim.cm**2,
        Ri=150 * sim.ohm * sim.cm,
        method="exponential_euler",
        name="neuron",
    )
    neuron.v = EL
    neuron.gNa = 20 * gL
    neuron.I[0] = 0.1 * sim.nA
    neuron.I[morpho.L.L[-1]] = 0.05 * sim.nA
    mon = sim.StateMonitor(neuron, ("v", "Ic"), record=[0, 10, 25, 30, 40], name="statemonitor")
    sim.run(20 * sim.ms)
    space_constant = neuron.space_constant[:]
    return {
        "t": _f(mon.t),
        "v": _f(mon.v),
        "Ic": _f(mon.Ic),
        "v_end": _f(neuron.v[:]),
        "distance": _f(neuron.distance[:]),
        "area": _f(neuron.area[:]),
        "length": _f(neuron.length[:]),
        "diameter": _f(neuron.diameter[:]),
        "space_constant": _f(space_constant),
    }


#: Hodgkin and Huxley's squid axon channels for a SpatialNeuron (Brian2's compartmental
#: examples); constants El, ENa, EK, gl, gK from the namespace, gNa per compartment.
SQUID_AXON = """
Im = gl * (El-v) + gNa * m**3 * h * (ENa-v) + gK * n**4 * (EK-v) : amp/meter**2
I : amp (point current)
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


def spatial_hh_axon(sim) -> dict[str, np.ndarray]:
    """Hodgkin and Huxley's squid axon as a SpatialNeuron (Brian2's example
    ``hh_with_spikes``, shortened): a 2 cm cylinder of 238 um radius in 200 compartments, a
    resting state (m, h, n = 0.0529, 0.5961, 0.3177) for 2 ms, then a 1 uA current for 3 ms
    at one end, then 5 ms more; dt = 0.01 ms.  Threshold ``m > 0.5`` with refractoriness
    ``m > 0.4``: each compartment spikes once as the action potential passes.

    Keys: ``spike_i``, ``spike_t``, ``spike_count``; ``t`` and ``v`` at every 20th
    compartment.
    """
    sim.start_scope()
    sim.defaultclock.dt = 0.01 * sim.ms
    morpho = sim.Cylinder(length=2 * sim.cm, diameter=2 * 238 * sim.um, n=200, type="axon")
    El = 10.613 * sim.mV  # noqa: F841 (used by the equations)
    ENa = 115 * sim.mV  # noqa: F841
    EK = -12 * sim.mV  # noqa: F841
    gl = 0.3 * sim.msiemens / sim.cm**2  # noqa: F841
    gK = 36 * sim.msiemens / sim.cm**2  # noqa: F841
    neuron = sim.SpatialNeuron(
        morphology=morpho,
        model=SQUID_AXON,
        method="exponential_euler",
        refractory="m > 0.4",
        threshold="m > 0.5",
        Cm=1 * sim.uF / sim.cm**2,
        Ri=35.4 * sim.ohm * sim.cm,
        name="neuron",
    )
    neuron.v = 0 * sim.mV
    neuron.m = 0.0529
    neuron.h = 0.5961
    neuron.n = 0.3177
    neuron.gNa = 120 * sim.msiemens / sim.cm**2
    mon = sim.StateMonitor(neuron, "v", record=np.arange(0, 200, 20), name="statemonitor")
    spikes = sim.SpikeMonitor(neuron, name="spikemonitor")
    sim.run(2 * sim.ms)
    neuron.I[0] = 1 * sim.uA
    sim.run(3 * sim.ms)
    neuron.I = 0 * sim.amp
    sim.run(5 * sim.ms)
    return {"t": _f(mon.t), "v": _f(mon.v), **_spikes(spikes)}


#: Relative tolerances (of the largest value) for keys that are not compared to rounding
#: error.  A soma's axial conductance (Brian2's fixed r_length of 1 m: about 0.7 S here) is
#: some 1e8 times a dendritic compartment's, so the cable's linear system is ill-conditioned:
#: solved in float64, v carries errors of about 1e-9 V against an 80-bit solve of the same
#: steps (spikeforge; Brian2's per-section elimination rounds differently), and
#: ``Ic = Cm*(v_new - v_old)/dt`` shows them divided by dt.  Without the soma the two
#: simulators agree to 1e-14.
TOLERANCES = {
    ("spatial_passive_tree", "v"): 1e-6,
    ("spatial_passive_tree", "v_end"): 1e-6,
    ("spatial_passive_tree", "Ic"): 1e-5,
}

MODELS = {
    "lif_fi_curve": lif_fi_curve,
    "hh_neuron": hh_neuron,
    "conditionally_linear_hh": conditionally_linear_hh,
    "izhikevich_rk4": izhikevich_rk4,
    "adaptive_exp_euler": adaptive_exp_euler,
    "coupled_linear_exact": coupled_linear_exact,
    "population_rate": population_rate,
    "synapse_delays": synapse_delays,
    "summed_variable": summed_variable,
    "stdp_pair": stdp_pair,
    "connect_deterministic": connect_deterministic,
    "connect_random": connect_random,
    "cuba_small": cuba_small,
    "poisson_rates": poisson_rates,
    "cobahh": cobahh,
    "brunel_ai": brunel_ai,
    "brunel_sr": brunel_sr,
    "linked_regularly": linked_regularly,
    "spatial_passive_tree": spatial_passive_tree,
    "spatial_hh_axon": spatial_hh_axon,
}

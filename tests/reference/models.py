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
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "lif_fi_curve",
    "hh_neuron",
    "izhikevich_rk4",
    "adaptive_exp_euler",
    "coupled_linear_exact",
    "population_rate",
    "MODELS",
    "EXPLICIT_METHODS",
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


#: name -> model function; the reference file is ``data/<name>.npz``.
MODELS = {
    "lif_fi_curve": lif_fi_curve,
    "hh_neuron": hh_neuron,
    "izhikevich_rk4": izhikevich_rk4,
    "adaptive_exp_euler": adaptive_exp_euler,
    "coupled_linear_exact": coupled_linear_exact,
    "population_rate": population_rate,
}

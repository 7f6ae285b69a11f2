"""Firing patterns of the adaptive exponential integrate-and-fire (AdEx) neuron.

The AdEx model of Brette & Gerstner (2005), "Adaptive exponential integrate-and-fire model as
an effective description of neuronal activity", J. Neurophysiol. 94:3637-3642:

    C dV/dt = -gL (V - EL) + gL DeltaT exp((V - VT)/DeltaT) - w + I
    tau_w dw/dt = a (V - EL) - w
    at a spike (V reaches 0 mV here): V -> Vr, w -> w + b

With the parameter sets of Table 1 of Naud, Marcille, Clopath & Gerstner (2008), "Firing
patterns in the adaptive exponential integrate-and-fire model", Biol. Cybern. 99:335-347,
the same two equations give tonic spiking, adaptation, an initial burst, regular bursting,
delayed acceleration, delayed regular bursting, transient spiking and irregular spiking in
response to a current step.  All eight neurons are simulated at once, in one group whose
parameters are per-neuron constants.

Saves adex.png with the membrane potential of each neuron (spikes drawn up to 0 mV).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

# Naud et al. (2008), Table 1:
#   C (pF), gL (nS), EL (mV), VT (mV), DeltaT (mV), a (nS), tau_w (ms), b (pA), Vr (mV), I (pA)
patterns = {
    "tonic spiking": (200, 10, -70, -50, 2, 2, 30, 0, -58, 500),
    "adaptation": (200, 12, -70, -50, 2, 2, 300, 60, -58, 500),
    "initial burst": (130, 18, -58, -50, 2, 4, 150, 120, -50, 400),
    "regular bursting": (200, 10, -58, -50, 2, 2, 120, 100, -46, 210),
    "delayed accelerating": (200, 12, -70, -50, 2, -10, 300, 0, -58, 300),
    "delayed regular bursting": (100, 10, -65, -50, 2, -10, 90, 30, -47, 110),
    "transient spiking": (100, 10, -65, -50, 2, 10, 90, 100, -47, 180),
    "irregular spiking": (100, 12, -60, -50, 2, -11, 130, 30, -48, 160),
}
table = np.array(list(patterns.values()), dtype=float)

defaultclock.dt = 0.02 * ms
step_start = 20 * ms
duration = 520 * ms

equations = """
dv/dt = (gL*(EL - v) + gL*DeltaT*exp((v - VT)/DeltaT) - w + I_stim)/C : volt
dw/dt = (a*(v - EL) - w)/tau_w : amp
I_stim : amp
C : farad (constant)
gL : siemens (constant)
EL : volt (constant)
VT : volt (constant)
DeltaT : volt (constant)
a : siemens (constant)
tau_w : second (constant)
b : amp (constant)
Vr : volt (constant)
I_step : amp (constant)
"""
neurons = NeuronGroup(
    len(patterns), equations, threshold="v > 0*mV", reset="v = Vr; w += b", method="euler"
)
neurons.C = table[:, 0] * pF
neurons.gL = table[:, 1] * nS
neurons.EL = table[:, 2] * mV
neurons.VT = table[:, 3] * mV
neurons.DeltaT = table[:, 4] * mV
neurons.a = table[:, 5] * nS
neurons.tau_w = table[:, 6] * ms
neurons.b = table[:, 7] * pA
neurons.Vr = table[:, 8] * mV
neurons.I_step = table[:, 9] * pA
neurons.v = "EL"
neurons.w = "0*pA"
neurons.I_stim = "0*pA"

trace = StateMonitor(neurons, ["v", "w"], record=True)
spikes = SpikeMonitor(neurons)
run(step_start)
neurons.I_stim = "I_step"  # the current step
run(duration - step_start)

trains = spikes.spike_trains()
print(f"{'pattern':<25} {'spikes':>6}   ISIs (ms): {'first':>6} {'last':>6} {'min':>6} {'max':>6}")
for k, name in enumerate(patterns):
    times = trains[k] / ms
    isi = np.diff(times)
    columns = [isi[0], isi[-1], isi.min(), isi.max()] if len(isi) else []
    text = " ".join(f"{x:6.1f}" for x in columns) if columns else f"{'-':>6}"
    print(f"{name:<25} {len(times):>6}              {text}")

figure, axes = plt.subplots(4, 2, figsize=(11, 9), sharex=True)
t = trace.t / ms
for k, (name, ax) in enumerate(zip(patterns, axes.T.ravel())):
    v = trace.v[k] / mV
    ax.plot(t, v, lw=0.8, color="k")
    # the recorded v never shows the spike itself (it is reset in the same step): draw it
    for spike in trains[k] / ms:
        ax.plot([spike, spike], [v[np.searchsorted(t, spike)], 0], lw=0.8, color="k")
    ax.set_title(f"{name} (a = {table[k, 5]:g} nS, b = {table[k, 7]:g} pA)", fontsize=10)
    ax.set_ylim(-80, 5)
    ax.axvspan(step_start / ms, duration / ms, color="tab:orange", alpha=0.08, lw=0)
for ax in axes[:, 0]:
    ax.set_ylabel("v (mV)")
for ax in axes[-1]:
    ax.set_xlabel("t (ms)")
figure.suptitle(
    "AdEx neuron (Brette & Gerstner 2005), parameters of Naud et al. (2008), "
    "current step from 20 ms (shaded)"
)
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

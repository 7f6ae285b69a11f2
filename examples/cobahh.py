"""COBAHH: a random network of 4000 Hodgkin-Huxley neurons with conductance-based synapses.

Benchmark 3 of Brette et al. (2007), "Simulation of networks of spiking neurons: a review of
tools and strategies", J. Comput. Neurosci. 23:349-398: Traub-Miles type HH neurons (sodium
and delayed-rectifier potassium currents), 80% excitatory and 20% inhibitory, 2% random
connectivity, and exponentially decaying excitatory (5 ms, 0 mV) and inhibitory (10 ms,
-80 mV) conductances.  The network is kept active by its own recurrent excitation after
random initial conductances.  Integrated with the exponential Euler method.

Saves cobahh.png: a raster plot, the population rate and the membrane potential of three
neurons.  ``--duration`` sets the simulated time (default 1 s).
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--duration", type=float, default=1.0, help="simulated time in seconds")
args = parser.parse_args()

seed(2007)
defaultclock.dt = 0.1 * ms

# Membrane and channels, for a patch of 20000 um^2
area = 20000 * umetre**2
Cm = 1 * ufarad * cm**-2 * area
gl = 5e-5 * siemens * cm**-2 * area
El = -60 * mV
EK = -90 * mV
ENa = 50 * mV
g_na = 100 * msiemens * cm**-2 * area
g_kd = 30 * msiemens * cm**-2 * area
VT = -63 * mV
# Synapses: time constants, reversal potentials and the conductance added by one spike
taue = 5 * ms
taui = 10 * ms
Ee = 0 * mV
Ei = -80 * mV
we = 6 * nS
wi = 67 * nS

n_neurons = 4000
n_exc = 3200

equations = """
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
P = NeuronGroup(
    n_neurons, equations, threshold="v > -20*mV", refractory=3 * ms, method="exponential_euler"
)
# Neurons 0-3199 excite, 3200-3999 inhibit their targets
Ce = Synapses(P, P, on_pre="ge += we")
Ci = Synapses(P, P, on_pre="gi += wi")
Ce.connect("i < n_exc", p=0.02)
Ci.connect("i >= n_exc", p=0.02)

# Random initial state, as in the benchmark
P.v = "El + (randn()*5 - 5)*mV"
P.ge = "(randn()*1.5 + 4)*10*nS"
P.gi = "(randn()*12 + 20)*10*nS"

spikes = SpikeMonitor(P)
rate = PopulationRateMonitor(P)
shown = [1, 10, 3500]
trace = StateMonitor(P, "v", record=shown)
duration = args.duration * second
run(duration, report="text")

# Summary: rates, irregularity (CV of the inter-spike intervals) and synchrony
T = float(duration / second)
rates = spikes.count / T
train = spikes.spike_trains()
isi_cv = [np.std(np.diff(t)) / np.mean(np.diff(t)) for t in train.values() if len(t) >= 3]
pop = rate.smooth_rate(window="flat", width=1 * ms) / Hz
print(
    f"{n_neurons} HH neurons, {Ce.N + Ci.N} synapses, {spikes.num_spikes} spikes in {T:g} s: "
    f"mean rate {rates.mean():.1f} Hz (excitatory {rates[:n_exc].mean():.1f} Hz, "
    f"inhibitory {rates[n_exc:].mean():.1f} Hz), {np.mean(rates == 0):.1%} silent"
)
print(
    f"mean CV of the inter-spike intervals {np.mean(isi_cv):.2f} ({len(isi_cv)} neurons with "
    f">= 3 spikes); population rate (1 ms) s.d./mean {pop.std() / pop.mean():.2f}"
)
print(
    f"time inside run(): {magic_network.last_run_statistics['total']:.1f} s, "
    f"of which the simulation loop {magic_network.last_run_statistics['loop']:.1f} s"
)

figure, (top, middle, bottom) = plt.subplots(
    3, 1, figsize=(9, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1.3]}
)
exc = (spikes.i < n_exc) & (spikes.i % 4 == 0)  # every fourth neuron, for a readable raster
inh = spikes.i >= n_exc
top.plot(spikes.t[exc] / ms, spikes.i[exc], ",", color="tab:red")
top.plot(spikes.t[inh] / ms, spikes.i[inh], ",", color="tab:blue")
top.axhline(n_exc, color="k", lw=0.5)
top.set(
    ylabel="neuron index",
    ylim=(0, n_neurons),
    title="COBAHH (Brette et al. 2007, benchmark 3)\n"
    "excitatory (red, every 4th neuron) and inhibitory (blue) spikes",
)
middle.plot(rate.t / ms, rate.smooth_rate(window="flat", width=5 * ms) / Hz, color="k")
middle.set(ylabel="rate (Hz)")
for k, index in enumerate(shown):
    bottom.plot(trace.t / ms, trace.v[k] / mV, lw=0.7, label=f"neuron {index}")
bottom.set(xlabel="t (ms)", ylabel="v (mV)")
bottom.legend(loc="upper right", fontsize=8, ncol=3)
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

"""CUBA: a network of 4000 current-based LIF neurons (Vogels & Abbott 2005, as in Brian2's CUBA
example and the benchmarks of Brette et al. 2007).

3200 excitatory and 800 inhibitory neurons, 2% random connectivity, instantaneous current
jumps through exponentially decaying synaptic currents.  Saves cuba.png with a raster plot and
the population rate.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

seed(11922)
taum = 20 * ms
taue = 5 * ms
taui = 10 * ms
Vt = -50 * mV
Vr = -60 * mV
El = -49 * mV

equations = """
dv/dt  = (ge + gi - (v - El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
"""
P = NeuronGroup(
    4000, equations, threshold="v > Vt", reset="v = Vr", refractory=5 * ms, method="exact"
)
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = 0 * mV
P.gi = 0 * mV

we = (60 * 0.27 / 10) * mV  # excitatory synaptic weight (voltage)
wi = (-20 * 4.5 / 10) * mV  # inhibitory synaptic weight
Ce = Synapses(P, P, on_pre="ge += we")
Ci = Synapses(P, P, on_pre="gi += wi")
Ce.connect("i < 3200", p=0.02)
Ci.connect("i >= 3200", p=0.02)

spikes = SpikeMonitor(P)
rate = PopulationRateMonitor(P)
run(1 * second, report="text")

rates = spikes.count / 1.0
print(
    f"{Ce.N + Ci.N} synapses, {spikes.num_spikes} spikes: mean rate {rates.mean():.2f} Hz, "
    f"{np.mean(rates == 0):.1%} of the neurons silent"
)
print(
    f"time inside run(): {magic_network.last_run_statistics['total']:.2f} s, "
    f"of which the simulation loop {magic_network.last_run_statistics['loop']:.2f} s"
)

figure, (top, bottom) = plt.subplots(
    2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
)
shown = spikes.i < 1000
top.plot(spikes.t[shown] / ms, spikes.i[shown], ",k")
top.set(ylabel="neuron index", title="CUBA network: the first 1000 neurons")
bottom.plot(rate.t / ms, rate.smooth_rate(window="flat", width=5 * ms) / Hz)
bottom.set(xlabel="t (ms)", ylabel="rate (Hz)")
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

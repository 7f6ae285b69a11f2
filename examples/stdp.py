"""Spike-timing-dependent plasticity (Song, Miller & Abbott 2000).

1000 Poisson inputs at 15 Hz drive one conductance-based integrate-and-fire neuron through
synapses with additive STDP (depression slightly stronger than potentiation).  Competition
between the inputs drives the weights towards the bounds: the final distribution is bimodal.
Saves stdp.png with the weight distribution and the evolution of two weights.

Usage: python examples/stdp.py [seconds]   (default 100 s of simulated time)
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

seed(7)
duration = float(sys.argv[1]) * second if len(sys.argv) > 1 else 100 * second
n_inputs = 1000
taum = 10 * ms
taupre = 20 * ms
taupost = taupre
Ee = 0 * mV
vt = -54 * mV
vr = -60 * mV
El = -74 * mV
taue = 5 * ms
input_rate = 15 * Hz
gmax = 0.01
dApre = 0.01 * gmax
dApost = -dApre * taupre / taupost * 1.05

inputs = PoissonGroup(n_inputs, rates=input_rate)
neuron = NeuronGroup(
    1,
    """dv/dt = (ge * (Ee - v) + El - v) / taum : volt
       dge/dt = -ge / taue : 1""",
    threshold="v > vt",
    reset="v = vr",
    method="euler",
)
neuron.v = vr
S = Synapses(
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
S.connect()
S.w = "rand() * gmax"
weights = StateMonitor(S, "w", record=[0, 1])
output = SpikeMonitor(neuron)
run(duration, report="text")

final = S.w[:] / gmax
print(
    f"output rate {output.num_spikes / float(duration / second):.1f} Hz; "
    f"{np.mean(final < 0.1):.0%} of the weights near 0, {np.mean(final > 0.9):.0%} near gmax"
)

figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.hist(final, bins=20)
left.set(xlabel="w / gmax", ylabel="synapses", title=f"weights after {duration / second:g} s")
right.plot(weights.t / second, weights.w.T / gmax)
right.set(xlabel="t (s)", ylabel="w / gmax", title="two synapses")
figure.tight_layout()
path = Path(__file__).with_suffix(".png")
figure.savefig(path, dpi=100)
print(f"saved {path.name}")

"""Brunel (2000): a sparse network of excitatory and inhibitory LIF neurons in two states.

Brunel, N. (2000), "Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons", J. Comput. Neurosci. 8:183-208.  N_E excitatory and N_I = N_E/4 inhibitory
leaky integrate-and-fire neurons (tau = 20 ms, threshold 20 mV, reset 10 mV, refractory
period 2 ms during which the potential is clamped), each receiving C_E = epsilon*N_E
excitatory and C_I = C_E/4 inhibitory synapses (epsilon = 0.1) that make the potential jump
by J, resp. -g*J, after a delay D = 1.5 ms, plus C_E external Poisson inputs of rate nu_ext,
given relative to nu_thr = theta/(J*C_E*tau), the rate that brings the mean input to
threshold.

The paper's phase diagram (Fig. 2) in the (g, nu_ext/nu_thr) plane: with nu_ext = 2*nu_thr,
g = 5 (inhibition dominates) gives the asynchronous irregular (AI) state of Fig. 8C (neurons
fire irregularly at low rates, the population rate fluctuates little), and g = 3 (excitation
dominates) the synchronous regular (SR) state of Fig. 8A (neurons fire regularly, close to
saturation, in synchronous volleys).

The network has the paper's size, N_E = 10000 (C_E = 1000, J = 0.1 mV); ``--scaled`` runs
N_E = 4000 (C_E = 400, J = 0.25 mV so that J*C_E stays 100 mV), as in the reference models
``brunel_ai`` and ``brunel_sr`` of the tests.  Saves brunel.png with a raster of 50 random
neurons and the population rate for both states.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--scaled", action="store_true", help="N_E = 4000 instead of 10000")
parser.add_argument("--duration", type=float, default=0.6, help="simulated time in seconds")
args = parser.parse_args()

defaultclock.dt = 0.1 * ms
n_exc = 4000 if args.scaled else 10000
n_inh = n_exc // 4
epsilon = 0.1
C_E = int(epsilon * n_exc)
J = 0.1 * mV * 1000 / C_E
tau = 20 * ms
theta = 20 * mV
V_r = 10 * mV
tau_rp = 2 * ms
D = 1.5 * ms
nu_thr = theta / (J * C_E * tau)
duration = args.duration * second

# name: (g, nu_ext/nu_thr, length of the plotted window at the end of the run)
states = {
    "asynchronous irregular (Fig. 8C)": (5.0, 2.0, 200 * ms),
    "synchronous regular (Fig. 8A)": (3.0, 2.0, 50 * ms),
}
rng = np.random.default_rng(2000)
shown = np.sort(rng.choice(n_exc + n_inh, 50, replace=False))

figure, axes = plt.subplots(
    2, 2, figsize=(11, 6), sharex="col", gridspec_kw={"height_ratios": [2, 1]}
)
for column, (name, (g, nu_ratio, shown_time)) in enumerate(states.items()):
    start_scope()
    seed(2000)
    neurons = NeuronGroup(
        n_exc + n_inh,
        "dv/dt = -v/tau : volt (unless refractory)",
        threshold="v > theta",
        reset="v = V_r",
        refractory=tau_rp,
        method="exact",
    )
    neurons.v = "rand()*theta"
    excitatory = Synapses(neurons, neurons, on_pre="v += J", delay=D)
    excitatory.connect("i < n_exc", p=epsilon)
    inhibitory = Synapses(neurons, neurons, on_pre="v += -g*J", delay=D)
    inhibitory.connect("i >= n_exc", p=epsilon)
    nu_ext = nu_ratio * nu_thr
    external = PoissonInput(neurons, "v", N=C_E, rate=nu_ext, weight=J)
    spikes = SpikeMonitor(neurons)
    rate = PopulationRateMonitor(neurons)
    run(duration)

    # Statistics after the first 100 ms
    T = float((duration - 100 * ms) / second)
    late = spikes.t >= 100 * ms
    counts = np.bincount(spikes.i[late], minlength=len(neurons))
    trains = spikes.spike_trains()
    cv = [np.std(np.diff(t)) / np.mean(np.diff(t)) for t in trains.values() if len(t) >= 3]
    per_step = np.round(rate.rate[rate.t >= 100 * ms] * len(neurons) * defaultclock.dt)
    fano = np.var(per_step) / np.mean(per_step)
    elapsed = magic_network.last_run_statistics["total"]
    print(
        f"{name}: g = {g:g}, nu_ext = {nu_ratio:g} nu_thr = {nu_ext / Hz:.0f} Hz; "
        f"mean rate {counts.mean() / T:.1f} Hz, CV of ISIs {np.mean(cv):.2f}, Fano factor of "
        f"the spikes per step {fano:.1f} ({len(neurons)} neurons, "
        f"{excitatory.N + inhibitory.N} synapses, run() took {elapsed:.1f} s)"
    )

    top, bottom = axes[:, column]
    window = (duration - shown_time, duration)
    selected = np.isin(spikes.i, shown) & (spikes.t >= window[0])
    rows = np.searchsorted(shown, spikes.i[selected])
    top.plot(spikes.t[selected] / ms, rows, "|", color="k", ms=3)
    top.set(
        title=f"{name}\ng = {g:g}, nu_ext/nu_thr = {nu_ratio:g}: {counts.mean() / T:.0f} Hz, "
        f"CV(ISI) = {np.mean(cv):.2f}",
        yticks=[],
        ylabel="50 neurons" if column == 0 else "",
    )
    top.title.set_fontsize(10)
    recent = rate.t >= window[0]
    bottom.plot(rate.t[recent] / ms, rate.rate[recent] / Hz, lw=0.6, color="k")
    bottom.set(xlabel="t (ms)", ylabel="rate (Hz)" if column == 0 else "", ylim=(0, None))
    bottom.set_xlim(window[0] / ms, window[1] / ms)

size = "N_E = 4000 (scaled)" if args.scaled else "N_E = 10000"
figure.suptitle(f"Brunel (2000) sparse E/I network, {size}; population rate in 0.1 ms bins")
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

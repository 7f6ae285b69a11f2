"""Leaky integrate-and-fire neurons driven by white noise (the diffusion approximation).

    tau dV/dt = mu - V + sigma sqrt(tau) xi(t)

is the membrane equation of Brunel (2000), J. Comput. Neurosci. 8:183-208 (and of Brunel &
Hakim 1999), where mu and sigma are the mean and the fluctuations of the synaptic input; in
Brian2's notation ``dv/dt = (mu - v)/tau + sigma*xi*tau**-0.5``.  Two checks against theory:

* Without a threshold, V is an Ornstein-Uhlenbeck process: its stationary distribution is
  Gaussian with mean mu and standard deviation sigma/sqrt(2).
* With threshold theta, reset Vr and refractory period tau_rp, the firing rate is given by
  the Siegert formula (Ricciardi 1977; eq. 21 of Brunel 2000):

      1/rate = tau_rp + tau sqrt(pi) integral from (Vr - mu)/sigma to (theta - mu)/sigma
               of exp(u^2) (1 + erf(u)) du

  Noise makes a neuron with subthreshold mean input (mu < theta) fire, and changes the rate
  of one above threshold little.  At large sigma the simulated rates fall slightly below the
  formula: with a time step dt, excursions above threshold between two steps go unseen,
  which acts like a threshold raised by a fraction of sigma*sqrt(dt/tau).

Saves noisy_lif.png: sample traces, the distribution of V against the Gaussian, and the rate
against sigma for a sub- and a suprathreshold mean input, with the Siegert curves.
"""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

seed(2000)
defaultclock.dt = 0.02 * ms
tau = 20 * ms
theta = 20 * mV
Vr = 10 * mV
tau_rp = 2 * ms
duration = 1 * second

equations = """
dv/dt = (mu - v)/tau + sigma*xi*tau**-0.5 : volt (unless refractory)
mu : volt (constant)
sigma : volt (constant)
"""

# 1. Free membrane (no threshold): an Ornstein-Uhlenbeck process
mu_free, sigma_free = 15 * mV, 4 * mV
free = NeuronGroup(2000, equations, method="euler")
free.mu = "mu_free"
free.sigma = "sigma_free"
free.v = "mu_free"
# every 10 ms: 100 samples per neuron (the first 100 ms, while the variance grows, are dropped)
free_trace = StateMonitor(free, "v", record=True, dt=10 * ms)

# 2. Spiking neurons: 20 noise amplitudes x 2 mean inputs, 200 neurons each
sigmas = np.linspace(1, 10, 20)
mus = np.array([15.0, 25.0])
per_point = 200
grid_mu, grid_sigma = np.meshgrid(mus, sigmas, indexing="ij")
n_spiking = grid_mu.size * per_point
spiking = NeuronGroup(
    n_spiking,
    equations,
    threshold="v > theta",
    reset="v = Vr",
    refractory=tau_rp,
    method="euler",
)
spiking.mu = np.repeat(grid_mu.ravel(), per_point) * mV
spiking.sigma = np.repeat(grid_sigma.ravel(), per_point) * mV
spiking.v = "Vr + rand()*(theta - Vr)"

spikes = SpikeMonitor(spiking)
# sample traces: mu = 15 mV with sigma = 1.9 mV and 5.7 mV
examples = [2 * per_point, 10 * per_point]
trace = StateMonitor(spiking, "v", record=examples, dt=0.1 * ms)
run(duration, report="text")


def siegert(mu, sigma):
    """Stationary rate (Hz) of the LIF neuron with white-noise input (mu, sigma in mV)."""
    lower, upper = (float(Vr / mV) - mu) / sigma, (float(theta / mV) - mu) / sigma
    u = np.linspace(lower, upper, 2001)
    integrand = np.exp(u**2) * np.array([math.erfc(-x) for x in u])  # exp(u^2)(1 + erf(u))
    integral = np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(u))
    return 1 / (float(tau_rp / second) + float(tau / second) * math.sqrt(math.pi) * integral)


# Summary
v_free = (free_trace.v[:, free_trace.t >= 100 * ms] / mV).ravel()
print(
    f"free membrane: mean {v_free.mean():.2f} mV (theory {mu_free / mV:g}), s.d. "
    f"{v_free.std():.2f} mV (theory sigma/sqrt(2) = {sigma_free / mV / math.sqrt(2):.2f})"
)
counts = spikes.count.reshape(len(mus), len(sigmas), per_point)
rates = counts.mean(axis=2) / float(duration / second)
errors = counts.std(axis=2) / np.sqrt(per_point) / float(duration / second)
theory = np.array([[siegert(mu, sigma) for sigma in sigmas] for mu in mus])
for k, mu in enumerate(mus):
    worst = np.argmax(np.abs(rates[k] - theory[k]) / np.maximum(theory[k], 1))
    print(
        f"mu = {mu:g} mV: rate {rates[k, 0]:.1f} Hz at sigma = {sigmas[0]:g} mV, "
        f"{rates[k, -1]:.1f} Hz at {sigmas[-1]:g} mV; largest deviation from the Siegert "
        f"formula {rates[k, worst] - theory[k, worst]:+.1f} Hz (of {theory[k, worst]:.1f} Hz) "
        f"at sigma = {sigmas[worst]:.1f} mV"
    )

figure = plt.figure(figsize=(11, 7))
grid = figure.add_gridspec(2, 2, height_ratios=[1, 1.2])
ax_trace = figure.add_subplot(grid[0, :])
for k, index in enumerate(examples):
    sigma = float(spiking.sigma[index] / mV)
    ax_trace.plot(trace.t / ms, trace.v[k] / mV, lw=0.7, label=f"sigma = {sigma:.1f} mV")
ax_trace.axhline(float(theta / mV), color="k", ls="--", lw=0.8)
ax_trace.set(
    xlabel="t (ms)",
    ylabel="v (mV)",
    xlim=(0, 300),
    title="noisy LIF neurons with mean input mu = 15 mV < threshold (dashed)",
)
ax_trace.legend(loc="lower right", fontsize=8)

ax_hist = figure.add_subplot(grid[1, 0])
ax_hist.hist(v_free, bins=50, density=True, color="0.7", label=f"{len(free)} neurons, t = 0.1-1 s")
x = np.linspace(v_free.min(), v_free.max(), 200)
s = float(sigma_free / mV) / math.sqrt(2)
ax_hist.plot(
    x,
    np.exp(-((x - mu_free / mV) ** 2) / (2 * s**2)) / (s * math.sqrt(2 * math.pi)),
    "k",
    label="Gaussian, mean mu, s.d. sigma/sqrt(2)",
)
ax_hist.set(
    xlabel="v (mV)",
    ylabel="density",
    title=f"no threshold: Ornstein-Uhlenbeck (mu = {mu_free / mV:g} mV, sigma = "
    f"{sigma_free / mV:g} mV)",
)
ax_hist.title.set_fontsize(10)
ax_hist.legend(fontsize=8)

ax_rate = figure.add_subplot(grid[1, 1])
for k, mu in enumerate(mus):
    ax_rate.errorbar(sigmas, rates[k], yerr=errors[k], fmt="o", ms=4, label=f"mu = {mu:g} mV")
    ax_rate.plot(sigmas, theory[k], color="k", lw=0.8)
ax_rate.plot([], [], color="k", lw=0.8, label="Siegert formula")
ax_rate.set(
    xlabel="sigma (mV)",
    ylabel="rate (Hz)",
    title=f"threshold {theta / mV:g} mV, reset {Vr / mV:g} mV, {per_point} neurons per point",
)
ax_rate.title.set_fontsize(10)
ax_rate.legend(fontsize=8)
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

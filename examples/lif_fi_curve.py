"""f-I curve of leaky integrate-and-fire neurons, compared with the closed-form rate.

Each of 100 neurons gets a different constant drive I; a neuron above threshold fires with the
period  t_ref + tau*log((I - v_reset)/(I - v_threshold)).  Saves lif_fi_curve.png.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

tau = 10 * ms
v_threshold = -50 * mV
v_reset = -60 * mV
t_ref = 2 * ms

G = NeuronGroup(
    100,
    """dv/dt = (I - v)/tau : volt (unless refractory)
       I : volt (constant)""",
    threshold="v > v_threshold",
    reset="v = v_reset",
    refractory=t_ref,
    method="exact",
)
G.v = v_reset
G.I = "-55*mV + 40*mV*i/N"
spikes = SpikeMonitor(G)
trace = StateMonitor(G, "v", record=[99])
duration = 1 * second
run(duration, report="text")

drive = G.I[:] / mV
rate = spikes.count / float(duration / second)
above = G.I[:] > v_threshold
theory = np.zeros(len(drive))
theory[above] = 1.0 / (
    float(t_ref / second)
    + float(tau / second)
    * np.log((G.I_[above] - float(v_reset / volt)) / (G.I_[above] - float(v_threshold / volt)))
)
print(
    f"rates from {rate.min():.0f} to {rate.max():.0f} spikes/s; "
    f"largest difference to the closed form: {np.max(np.abs(rate - theory)):.1f} spikes/s"
)
print(f"generated code: {magic_network.generated_source_path}")

figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(drive, rate, "o", ms=3, label="spikeforge")
left.plot(drive, theory, "-", label="closed form")
left.set(xlabel="I (mV)", ylabel="rate (spikes/s)", title="f-I curve")
left.legend()
right.plot(trace.t / ms, trace.v[0] / mV)
right.set(xlabel="t (ms)", ylabel="v (mV)", title="neuron 99", xlim=(0, 100))
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

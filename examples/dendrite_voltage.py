"""The voltage along a passive dendrite, against cable theory.

A soma with a 600 um dendrite, current injected into the soma. Saves dendrite_voltage.png:
the voltage along the dendrite while the current charges it, and at the end, with the steady
state of a sealed cable, v(x) - EL proportional to cosh((L - x)/lambda).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

defaultclock.dt = 0.025 * ms
gL = 1e-4 * siemens / cm**2
EL = -70 * mV
Ri = 150 * ohm * cm
diameter, length = 1 * um, 600 * um

morpho = Soma(10 * um)
morpho.dend = Cylinder(diameter=diameter, length=length, n=120)
equations = """
Im = gL*(EL - v) : amp/meter**2
I : amp (point current)
"""
neuron = SpatialNeuron(
    morphology=morpho, model=equations, Cm=1 * uF / cm**2, Ri=Ri, method="exponential_euler"
)
neuron.v = EL
neuron.I[0] = 0.02 * nA
snapshots = {}
for stop in (1, 3, 10, 30, 100):
    run(stop * ms - defaultclock.t)
    snapshots[stop] = neuron.dend.v[:] / mV

x = neuron.dend.distance[:]
lam = neuron.space_constant[1]
tau = neuron.time_constant[1]
print(f"length constant {lam / um:.0f} um, membrane time constant {tau / ms:.0f} ms")
profile = np.cosh((length - x) / lam)
end = snapshots[100]
scaled = EL / mV + (end[0] - EL / mV) * profile / profile[0]
difference = np.max(np.abs(end - scaled)) * 1000
print(f"largest difference to the cosh profile at 100 ms: {difference:.2f} uV")

figure, axis = plt.subplots(figsize=(7, 4))
for stop, values in snapshots.items():
    axis.plot(x / um, values, label=f"{stop} ms")
axis.plot(x / um, scaled, "k--", label="cable theory (steady state)")
axis.set(
    xlabel="distance from the soma (um)", ylabel="v (mV)", title="A dendrite charged from the soma"
)
axis.legend()
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

"""An action potential travelling along Hodgkin and Huxley's squid axon.

A 3 cm axon (238 um radius) in 300 compartments, with the squid channels, stimulated at one
end. Saves axon_propagation.png: the voltage at five places along the axon, and the spike times
against the distance, whose slope is the conduction velocity.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

defaultclock.dt = 0.01 * ms
El = 10.613 * mV
ENa = 115 * mV
EK = -12 * mV
gl = 0.3 * msiemens / cm**2
gK = 36 * msiemens / cm**2
equations = """
Im = gl*(El - v) + gNa*m**3*h*(ENa - v) + gK*n**4*(EK - v) : amp/meter**2
I : amp (point current)
dm/dt = alpham*(1 - m) - betam*m : 1
dn/dt = alphan*(1 - n) - betan*n : 1
dh/dt = alphah*(1 - h) - betah*h : 1
alpham = (0.1/mV)*10*mV/exprel((-v + 25*mV)/(10*mV))/ms : Hz
betam = 4*exp(-v/(18*mV))/ms : Hz
alphah = 0.07*exp(-v/(20*mV))/ms : Hz
betah = 1/(exp((-v + 30*mV)/(10*mV)) + 1)/ms : Hz
alphan = (0.01/mV)*10*mV/exprel((-v + 10*mV)/(10*mV))/ms : Hz
betan = 0.125*exp(-v/(80*mV))/ms : Hz
gNa : siemens/meter**2
"""
axon = Cylinder(length=3 * cm, diameter=2 * 238 * um, n=300, type="axon")
neuron = SpatialNeuron(
    morphology=axon,
    model=equations,
    Cm=1 * uF / cm**2,
    Ri=35.4 * ohm * cm,
    threshold="m > 0.5",
    refractory="m > 0.4",
    method="exponential_euler",
)
neuron.v = 0 * mV
neuron.m, neuron.h, neuron.n = 0.0529, 0.5961, 0.3177  # the resting state
neuron.gNa = 120 * msiemens / cm**2
places = [axon[x * cm] for x in (0.5, 1, 1.5, 2, 2.5)]
trace = StateMonitor(neuron, "v", record=[p._indices() for p in places])
spikes = SpikeMonitor(neuron)
run(1 * ms)
neuron.I[0] = 1 * uA
run(3 * ms)
neuron.I = 0 * amp
run(6 * ms)

distance = np.asarray(neuron.distance)[spikes.i]
times = np.asarray(spikes.t)
inside = (distance > 0.005) & (distance < 0.025)
velocity = np.polyfit(times[inside], distance[inside], 1)[0]
print(f"{spikes.num_spikes} compartments spiked; conduction velocity {velocity:.1f} m/s")

figure, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6))
for row, place in enumerate(places):
    top.plot(trace.t / ms, trace.v[row] / mV, label=f"{float(neuron.distance[place]) * 100:.1f} cm")
top.set(xlabel="t (ms)", ylabel="v (mV)", title="An action potential along the squid axon")
top.legend()
bottom.plot(times / ms, distance * 100, ".k", markersize=2)
bottom.set(
    xlabel="spike time (ms)",
    ylabel="distance (cm)",
    title=f"conduction velocity {velocity:.1f} m/s",
)
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

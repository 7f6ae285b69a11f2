"""A Hodgkin-Huxley neuron (squid axon parameters) driven by a current step.

Integrated with the exponential Euler method; saves hodgkin_huxley.png with the membrane
potential and the gating variables.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikeforge import *

defaultclock.dt = 0.01 * ms
area = 20000 * umetre**2
Cm = 1 * ufarad * cm**-2 * area
gl = 5e-5 * siemens * cm**-2 * area
El = -65 * mV
EK = -90 * mV
ENa = 50 * mV
g_na = 100 * msiemens * cm**-2 * area
g_kd = 30 * msiemens * cm**-2 * area
VT = -63 * mV

equations = """
dv/dt = (gl*(El - v) - g_na*(m*m*m)*h*(v - ENa) - g_kd*(n*n*n*n)*(v - EK) + I)/Cm : volt
dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV - v + VT)/(4*mV))/ms*(1 - m)
        - 0.28*(mV**-1)*5*mV/exprel((v - VT - 40.*mV)/(5*mV))/ms*m : 1
dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV - v + VT)/(5*mV))/ms*(1. - n)
        - .5*exp((10.*mV - v + VT)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV - v + VT)/(18.*mV))/ms*(1. - h)
        - 4./(1 + exp((40.*mV - v + VT)/(5.*mV)))/ms*h : 1
I : amp
"""
neuron = NeuronGroup(
    1, equations, threshold="v > -40*mV", refractory="v > -40*mV", method="exponential_euler"
)
neuron.v = El
trace = StateMonitor(neuron, ["v", "m", "n", "h"], record=0)
spikes = SpikeMonitor(neuron)
run(20 * ms)
neuron.I = 1 * nA
run(60 * ms)
neuron.I = 0 * nA
run(20 * ms)

print(
    f"{spikes.num_spikes} spikes at {np.round(spikes.t / ms, 2)} ms; "
    f"peak {np.max(trace.v[0] / mV):.1f} mV"
)
figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
top.plot(trace.t / ms, trace.v[0] / mV)
top.set(ylabel="v (mV)", title="Hodgkin-Huxley neuron, 1 nA from 20 to 80 ms")
for name in ("m", "n", "h"):
    bottom.plot(trace.t / ms, getattr(trace, name)[0], label=name)
bottom.set(xlabel="t (ms)", ylabel="gating")
bottom.legend()
figure.tight_layout()
output = Path(__file__).with_suffix(".png")
figure.savefig(output, dpi=100)
print(f"saved {output.name}")

"""Hodgkin-Huxley neurons as in COBAHH, shared by tests that need exp() and exprel() at every
step (fast math, single precision).  A plain module beside the tests, not a test file."""

from spikeforge.units import mV, nS, pF, usiemens

# Hodgkin-Huxley neurons as in COBAHH (Brette et al. 2007): exp() and exprel() for every
# neuron and step, with a drive that differs from neuron to neuron.
HH = """
dv/dt = (gl*(El-v) + I - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK))/Cm : volt
dm/dt = alpha_m*(1-m) - beta_m*m : 1
dn/dt = alpha_n*(1-n) - beta_n*n : 1
dh/dt = alpha_h*(1-h) - beta_h*h : 1
alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
I : amp
"""
NAMESPACE = {
    "Cm": 200 * pF,
    "gl": 10 * nS,
    "El": -60 * mV,
    "EK": -90 * mV,
    "ENa": 50 * mV,
    "g_na": 20 * usiemens,
    "g_kd": 6 * usiemens,
    "VT": -63 * mV,
}

"""A parameter sweep: the firing rate of a CUBA network over its two synaptic weights.

The excitatory weight ``we`` and the inhibitory weight ``wi`` of the
classic CUBA benchmark (Vogels & Abbott 2005, Brian2's CUBA example) are varied over a 6 x 6
grid, 36 runs of 4000 neurons for 200 ms each, spread over the cores of this machine by Dask.
The model compiles once (the first run); the other runs load its module from the cache, since
``we`` and ``wi`` are arguments of the compiled code.

    python examples/parameter_sweep.py          # saves parameter_sweep.png beside this file

Expected: the rate grows with ``we`` and falls as inhibition grows; without inhibition the
network fires at over 100 Hz, with the classic weights (we = 1.62 mV, wi = -9 mV) at a few Hz.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
import numpy as np  # noqa: E402

from spikeforge import *  # noqa: E402


def cuba_rate(we, wi):
    """The mean firing rate (Hz) of the CUBA network with weights ``we`` and ``wi``."""
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    Ce = Synapses(P, P, on_pre="ge += we")
    Ci = Synapses(P, P, on_pre="gi += wi")
    Ce.connect("i<3200", p=0.02)
    Ci.connect("i>=3200", p=0.02)
    spikes = SpikeMonitor(P)
    run(200 * ms)
    return spikes.num_spikes / (4000 * 0.2)


if __name__ == "__main__":  # the workers import this file: the sweep only runs from here
    excitatory = np.linspace(0.5, 3.0, 6) * mV
    inhibitory = -np.linspace(0, 15, 6) * mV
    results = sweep(cuba_rate, grid={"we": excitatory, "wi": inhibitory}, seed=2024, workers=2)
    rates = np.array(results.values, dtype=float).reshape(len(excitatory), len(inhibitory))
    print(f"{len(results)} runs, {results.modules_compiled} module(s) compiled")
    print("rate (Hz), rows: we, columns: wi")
    print(np.round(rates, 1))

    fig, ax = plt.subplots(figsize=(5, 4))
    image = ax.imshow(rates, origin="lower", aspect="auto", cmap="viridis", norm=LogNorm())
    ax.set_xticks(range(len(inhibitory)), [str(round(w)) for w in inhibitory / mV])
    ax.set_yticks(range(len(excitatory)), [f"{w:.1f}" for w in excitatory / mV])
    ax.set_xlabel("wi (mV)")
    ax.set_ylabel("we (mV)")
    fig.colorbar(image, label="mean firing rate (Hz, log scale)")
    ax.set_title("CUBA, 4000 neurons, 200 ms per run")
    fig.tight_layout()
    fig.savefig(Path(__file__).with_suffix(".png"), dpi=110)

"""Memory over many build-and-run cycles: the resident set size must stay flat.

Each cycle is what a parameter sweep or a notebook does again and again: ``start_scope()``, a
network of 100 LIF neurons with about 1000 synapses, a spike monitor and a state monitor, a
string assignment, and a 10 ms run (every module comes from the cache after the first cycle).
The script prints the resident set size after some numbers of cycles and the growth per cycle
between the first mark and the last::

    python benchmarks/leak.py                 # 1000 cycles, marks at 100, 200, 500, 1000
    python benchmarks/leak.py --cycles 300 --marks 50 100 300 --json

It is a measurement, not a test: it asserts nothing and times nothing.  Linux only (it reads
``/proc/self/status``).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys

from spikeforge import (
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
    run,
    start_scope,
)


def resident_mib() -> float:
    """The resident set size of this process, in MiB (``VmRSS``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def cycle() -> None:
    """One build-and-run cycle."""
    start_scope()
    G = NeuronGroup(
        100,
        "dv/dt = (1.2 - v)/(10*ms) : 1",
        threshold="v > 1",
        reset="v = 0",
        method="exact",
    )
    G.v = "rand()"
    S = Synapses(G, G, "w : 1", on_pre="v += w")
    S.connect(p=0.1)
    S.w = 0.01
    spikes = SpikeMonitor(G)
    trace = StateMonitor(G, "v", record=[0, 1])
    run(10 * ms, report=None)
    del spikes, trace


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--marks", type=int, nargs="+", default=[100, 200, 500, 1000])
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args(argv)
    marks = sorted(m for m in args.marks if m <= args.cycles)
    if not marks:
        parser.error("no mark is within --cycles")
    resident = {}
    for k in range(1, args.cycles + 1):
        cycle()
        if k in marks:
            gc.collect()
            resident[k] = resident_mib()
            if not args.json:
                print(f"after {k:5d} cycles: {resident[k]:7.1f} MiB", flush=True)
    first, last = marks[0], marks[-1]
    growth = (resident[last] - resident[first]) / max(last - first, 1) * 1024
    if args.json:
        print(json.dumps({"resident_mib": resident, "growth_kib_per_cycle": growth}))
    else:
        print(f"growth from {first} to {last} cycles: {growth:.2f} KiB per cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())

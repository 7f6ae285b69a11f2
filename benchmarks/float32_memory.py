"""Memory and speed of float32 synaptic variables: a network with many plastic synapses, stored
as float64 and as float32.

4000 noise-driven LIF neurons, connected with p = 0.5 (8 million synapses), each synapse with a
weight ``w`` and an event-driven trace ``x`` (two float variables; the time ``lastupdate`` of
the trace stays float64). Each dtype runs in fresh processes, alternating; the figures are the
medians of the peak RSS and of the loop time (1 s simulated).

    python benchmarks/float32_memory.py --repeats 3

The benchmark models of ``benchmarks/run.py --float32`` have no synaptic variables, so their
memory barely changes with float32; this network is the case float32 is for.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys


def simulate(dtype: str, neurons: int, probability: float) -> dict:
    import resource

    import spikeforge as sf

    sf.prefs.core.default_float_dtype = dtype
    sf.seed(1)
    group = sf.NeuronGroup(
        neurons,
        "dv/dt = (20*xi*sqrt(ms) - v)/(10*ms) : 1",
        threshold="v > 1",
        reset="v = 0",
        method="euler",
    )
    synapses = sf.Synapses(
        group,
        group,
        "w : 1\ndx/dt = -x/(20*ms) : 1 (event-driven)",
        on_pre="v_post += w; x += 0.1",
    )
    synapses.connect(p=probability)
    synapses.w = "rand()*1e-4"
    sf.run(1 * sf.second, report=None)
    maxrss_per_mib = 1024 * 1024 if sys.platform == "darwin" else 1024
    return {
        "dtype": dtype,
        "synapses": len(synapses),
        "loop_s": sf.magic_network.last_run_statistics["loop"],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / maxrss_per_mib,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--probability", type=float, default=0.5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(simulate(args.child, args.neurons, args.probability)))
        return
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    runs: dict[str, list[dict]] = {"float64": [], "float32": []}
    for _ in range(args.repeats + 1):  # the first round fills the cache and is not counted
        for dtype in runs:
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    dtype,
                    "--neurons",
                    str(args.neurons),
                    "--probability",
                    str(args.probability),
                ],
                capture_output=True,
                text=True,
                check=True,
                env=environment,
            ).stdout
            runs[dtype].append(json.loads(output.strip().splitlines()[-1]))
    medians = {
        dtype: {
            name: statistics.median(run[name] for run in results[1:])
            for name in ("loop_s", "peak_rss_mib")
        }
        for dtype, results in runs.items()
    }
    synapses = runs["float64"][0]["synapses"]
    saved = medians["float64"]["peak_rss_mib"] - medians["float32"]["peak_rss_mib"]
    print(f"{synapses} synapses; medians of {args.repeats} runs each")
    for dtype, figures in medians.items():
        print(
            f"{dtype}: loop {figures['loop_s']:.2f} s, peak RSS {figures['peak_rss_mib']:.0f} MiB"
        )
    single, double = medians["float32"], medians["float64"]
    print(
        f"float32 / float64: loop {single['loop_s'] / double['loop_s']:.2f}, "
        f"peak RSS {single['peak_rss_mib'] / double['peak_rss_mib']:.2f}; "
        f"saved {saved * 2**20 / synapses:.1f} bytes per synapse"
    )


if __name__ == "__main__":
    main()

"""A parameter sweep as users write it: CUBA (4000 neurons) over a grid of its two weights.

The same runs three ways, each timed from a fresh process (wall time, from before the import of
the simulator to the last result):

- ``spikeforge-sweep-1`` and ``spikeforge-sweep-2``: ``spikeforge.sweep()`` on a local Dask
  cluster of 1 and 2 worker processes, with an empty compilation cache (so the figure includes
  compiling the model once, and the count of modules compiled is that of the whole sweep);
- ``brian2-loop``: the loop a Brian2 user writes without a sweep tool, ``start_scope()``, build,
  ``run()``, in one process (Brian2's runtime mode: it reuses its compiled code objects across
  runs, but builds the network and its code objects again for each run).

    python benchmarks/sweep.py --brian2-python PY_BRIAN2 --runs 200 --repeats 3
    python benchmarks/sweep.py --only spikeforge-sweep-2 --runs 20 --repeats 1   # a quick look

Prints a table of medians and the ratios spikeforge / Brian2 measured in this one run, and with
``--write-docs`` puts it in docs/benchmarks.md (section "Parameter sweep").  The mean firing rate
over the grid is printed for each configuration as a cross-check (the runs draw other random
numbers in each simulator, so it agrees statistically).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "benchmarks.md"


def cuba_rate(sim, we, wi, duration_ms):
    """Build CUBA with weights ``we`` and ``wi`` (volts) in simulator module ``sim``, run it for
    ``duration_ms`` and return its mean firing rate (Hz)."""
    ms, mV = sim.ms, sim.mV
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms  # noqa: F841  (read by the model strings)
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV  # noqa: F841
    we, wi = we * sim.volt, wi * sim.volt  # noqa: F841
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = sim.NeuronGroup(
        4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact"
    )
    P.v = "Vr + rand() * (Vt - Vr)"
    Ce = sim.Synapses(P, P, on_pre="ge += we")
    Ci = sim.Synapses(P, P, on_pre="gi += wi")
    Ce.connect("i<3200", p=0.02)
    Ci.connect("i>=3200", p=0.02)
    spikes = sim.SpikeMonitor(P)
    sim.run(duration_ms * ms)
    return float(spikes.num_spikes) / (4000 * duration_ms / 1000)


def grid(runs: int) -> list[dict]:
    """``runs`` parameter sets: 20 excitatory weights times runs/20 inhibitory ones (volts)."""
    columns = max(1, runs // 20)
    rows = runs // columns
    return [
        {"we": 0.5e-3 + 2.5e-3 * a / max(rows - 1, 1), "wi": -15e-3 * b / max(columns - 1, 1)}
        for a in range(rows)
        for b in range(columns)
    ]


def _spikeforge_run(we, wi, duration_ms):  # module level: the workers import it by name
    import spikeforge

    return cuba_rate(spikeforge, we, wi, duration_ms)


def measure(configuration: str, runs: int, duration_ms: float) -> dict:
    """One timing of one configuration, in this (fresh) process."""
    started = time.perf_counter()
    parameters = grid(runs)
    if configuration == "brian2-loop":
        import brian2

        rates = []
        for values in parameters:
            brian2.start_scope()
            rates.append(cuba_rate(brian2, values["we"], values["wi"], duration_ms))
        compiled = None
    else:
        import warnings

        from spikeforge import sweep

        workers = int(configuration.rsplit("-", 1)[1])
        runs_of = [dict(values, duration_ms=duration_ms) for values in parameters]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a failed run fails the measurement
            results = sweep(_spikeforge_run, runs=runs_of, seed=1, workers=workers, progress=False)
        rates = results.values
        compiled = results.modules_compiled
    seconds = time.perf_counter() - started
    return {
        "configuration": configuration,
        "seconds": seconds,
        "runs": len(parameters),
        "mean_rate": sum(rates) / len(rates),
        "modules_compiled": compiled,
    }


def _one(python: str, configuration: str, runs: int, duration_ms: float) -> dict:
    """Time one configuration in a fresh process with an empty compilation cache."""
    with tempfile.TemporaryDirectory(prefix="spikeforge-sweep-bench-") as cache:
        environment = dict(os.environ, SPIKEFORGE_CACHE_DIR=cache, PYTHONPATH=str(HERE))
        environment.pop("VIRTUAL_ENV", None)
        code = (
            "import json, sys, sweep\n"
            f"print(json.dumps(sweep.measure({configuration!r}, {runs}, {duration_ms})))\n"
        )
        if configuration == "brian2-loop":  # Brian2's Cython cache: empty as well
            code = (
                f"import brian2\nbrian2.prefs.codegen.runtime.cython.cache_dir = {cache!r}\n" + code
            )
        done = subprocess.run(
            [python, "-c", code], env=environment, capture_output=True, text=True, cwd=cache
        )
    if done.returncode != 0:
        raise RuntimeError(f"{configuration} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brian2-python", help="a Python with Brian2 (the brian2-loop)")
    parser.add_argument("--spikeforge-python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--duration-ms", type=float, default=100.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="configurations to run")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    configurations = ["spikeforge-sweep-1", "spikeforge-sweep-2"]
    if args.brian2_python:
        configurations.append("brian2-loop")
    if args.only:
        configurations = [c for c in configurations if c in args.only]
    results: dict[str, list[dict]] = {c: [] for c in configurations}
    for repeat in range(args.repeats):  # interleaved: drifts of the machine hit all alike
        for configuration in configurations:
            python = (
                args.brian2_python if configuration == "brian2-loop" else args.spikeforge_python
            )
            result = _one(python, configuration, args.runs, args.duration_ms)
            results[configuration].append(result)
            print(
                f"repeat {repeat + 1}: {configuration}: {result['seconds']:.1f} s, "
                f"mean rate {result['mean_rate']:.2f} Hz, "
                f"modules compiled {result['modules_compiled']}",
                flush=True,
            )
    table = markdown(results, args)
    print(table)
    out = HERE / "results" / "sweep.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    if args.write_docs:
        _write_docs(table)
    return 0


def markdown(results: dict[str, list[dict]], args) -> str:
    median = {c: statistics.median(r["seconds"] for r in rs) for c, rs in results.items() if rs}
    brian2 = median.get("brian2-loop")
    lines = [
        f"{args.runs} runs of CUBA (4000 neurons, {args.duration_ms:g} ms each) over a grid of "
        f"its two weights, medians of {args.repeats}, each from a fresh process with an empty "
        "compilation cache. Made by `python benchmarks/sweep.py --brian2-python PY_BRIAN2 "
        f"--runs {args.runs} --repeats {args.repeats}`.",
        "",
        "| configuration | wall time (s) | per run (ms) | / Brian2 loop | modules compiled | "
        "mean rate (Hz) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for configuration, runs in results.items():
        if not runs:
            continue
        seconds = median[configuration]
        ratio = f"{seconds / brian2:.3f}" if brian2 else ""
        compiled = runs[0]["modules_compiled"]
        lines.append(
            f"| {configuration} | {seconds:.1f} | {1000 * seconds / runs[0]['runs']:.0f} | "
            f"{ratio} | {'' if compiled is None else compiled} | "
            f"{statistics.mean(r['mean_rate'] for r in runs):.2f} |"
        )
    return "\n".join(lines) + "\n"


def _write_docs(table: str) -> None:
    text = DOCS.read_text()
    start = "<!-- sweep: begin -->"
    end = "<!-- sweep: end -->"
    block = f"{start}\n{table}{end}"
    if start in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n### Parameter sweep\n\n" + block + "\n"
    DOCS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())

"""How much faster can two cores of this machine make a loop? Two copies of one model, run at
once in two processes, against one copy alone.

A run with K threads shares one loop's work among K cores; it cannot beat K independent copies
of the same loop each doing all the work on its own core, which need no synchronisation at all.
If a copy slows down when another runs beside it (the cores share a physical core's execution
units, a memory bus or a cache), that slowdown caps what threads can give: the ceiling of the
speed-up on K cores is ``K * alone / together``.

    python benchmarks/core_ceiling.py --model cuba --arguments "--neurons 64000" --repeats 5

Each repetition runs the model once alone, then K copies at once, each a fresh process with a
warm cache (a first run fills it), and reads the warm loop time each process reports
(``loop_s``, the harness's figure). Prints the medians and the ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MODELS = Path(__file__).resolve().parent / "models"


def command(args, cache: str) -> list[str]:
    return [
        args.python,
        str(MODELS / f"{args.model}.py"),
        "--simulator",
        "spikeforge",
        "--duration",
        str(args.duration),
        "--seed",
        "1",
        "--cache-dir",
        cache,
        "--json",
        *shlex.split(args.arguments),
    ]


def loop_times(args, cache: str, copies: int) -> list[float]:
    """Start ``copies`` processes at once; the loop time each reports."""
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    processes = [
        subprocess.Popen(
            command(args, cache),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=environment,
        )
        for _ in range(copies)
    ]
    times = []
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            sys.exit(f"the model failed: {' '.join(command(args, cache))}")
        times.append(json.loads(output.strip().splitlines()[-1])["loop_s"])
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cuba", help="a script of benchmarks/models")
    parser.add_argument("--arguments", default="", help="more options for the model script")
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    parser.add_argument("--copies", type=int, default=2, help="processes at once (K)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="Python with spikeforge")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="core-ceiling-") as cache:
        loop_times(args, cache, 1)  # fills the cache: every timed process finds its module
        alone, together = [], []
        for _ in range(args.repeats):
            alone += loop_times(args, cache, 1)
            together += loop_times(args, cache, args.copies)
    alone_s, together_s = statistics.median(alone), statistics.median(together)
    print(f"model: {args.model} {args.arguments} ({args.duration} s simulated)")
    print(f"warm loop alone: {alone_s:.3f} s (median of {len(alone)})")
    count = len(together)
    print(f"warm loop with {args.copies} copies at once: {together_s:.3f} s (median of {count})")
    print(
        f"slowdown of a copy beside the others: {together_s / alone_s:.2f}x; ceiling of the "
        f"speed-up on {args.copies} cores: {args.copies * alone_s / together_s:.2f}x"
    )


if __name__ == "__main__":
    main()

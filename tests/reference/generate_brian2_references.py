"""Regenerate the Brian2 reference data in ``tests/reference/data/``.

Run with a Python that has brian2 installed (the stored data was made with
brian2 2.11.0; see ``data/README.md``)::

    python tests/reference/generate_brian2_references.py
    python tests/reference/generate_brian2_references.py --only hh_neuron
    python tests/reference/generate_brian2_references.py --compare-target numpy
    python tests/reference/generate_brian2_references.py --check-margins

Each model function in ``models.py`` is run with the ``brian2`` module and its
result is saved as ``data/<name>.npz`` (compressed), together with the string
arrays ``brian2_version`` and ``codegen_target``.  The code generation target
is Brian2's default (``prefs.codegen.target = 'auto'``, which uses Cython when
a compiler is available and numpy otherwise); the target actually used is
stored in each file.  ``--compare-target numpy`` additionally reruns every
model with that target and prints the largest differences (nothing is saved
from that run).

This script is not a test and needs no spikeforge; spikeforge's tests only
read the ``.npz`` files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
EXPECTED_BRIAN2_VERSION = "2.11.0"
MAX_FILE_BYTES = 200_000

sys.path.insert(0, str(HERE))
import models  # noqa: E402


def _brian2():
    try:
        import brian2
    except ImportError:
        sys.exit(
            "brian2 is not importable: run this script with a Python that has "
            f"brian2 {EXPECTED_BRIAN2_VERSION} installed."
        )
    return brian2


def _used_target(brian2) -> str:
    from brian2.devices.device import get_device

    return get_device().code_object_class().class_name


def run_model(brian2, name: str, target: str | None) -> tuple[dict, str, float]:
    if target is not None:
        brian2.prefs.codegen.target = target
    result = models.MODELS[name](brian2)
    # Time a second run: the first one includes compiling the Cython code.
    start = time.perf_counter()
    result = models.MODELS[name](brian2)
    elapsed = time.perf_counter() - start
    return result, _used_target(brian2), elapsed


def save(name: str, result: dict, version: str, target: str) -> Path:
    path = DATA_DIR / f"{name}.npz"
    arrays = {k: np.asarray(v) for k, v in result.items()}
    for reserved in ("brian2_version", "codegen_target"):
        if reserved in arrays:
            raise ValueError(f"model {name} returned the reserved key {reserved!r}")
    arrays["brian2_version"] = np.array(version)
    arrays["codegen_target"] = np.array(target)
    np.savez_compressed(path, **arrays)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RuntimeError(f"{path} is {size} bytes (limit {MAX_FILE_BYTES})")
    return path


#: Spike threshold (volts) of each spiking model, for ``--check-margins``.
THRESHOLDS = {
    "lif_fi_curve": 20e-3,
    "hh_neuron": -40e-3,
    "izhikevich_rk4": 30e-3,
    "adaptive_exp_euler": -50.4e-3 + 5 * 2e-3,
    "population_rate": 20e-3,
}


def threshold_margin(brian2, name: str) -> float:
    """Smallest |v - threshold| (volts) over all neurons and steps, with v
    taken after the state update (where the threshold is tested).

    The model runs with a stand-in for the ``brian2`` module whose
    ``NeuronGroup`` adds a ``StateMonitor`` recording ``v`` in the
    ``thresholds`` slot just before the thresholder.
    """
    import types

    monitors = []

    def neuron_group(*args, **kwds):
        group = brian2.NeuronGroup(*args, **kwds)
        mon = brian2.StateMonitor(group, "v", record=True, when="thresholds", order=-1)
        group.contained_objects.append(mon)
        monitors.append(mon)
        return group

    proxy = types.ModuleType("brian2_with_margin_monitor")
    proxy.__getattr__ = lambda attr: getattr(brian2, attr)
    proxy.NeuronGroup = neuron_group
    models.MODELS[name](proxy)
    return min(float(np.min(np.abs(np.asarray(m.v) - THRESHOLDS[name]))) for m in monitors)


def compare(name: str, a: dict, b: dict) -> list[str]:
    lines = []
    for key in sorted(a):
        x, y = np.asarray(a[key]), np.asarray(b[key])
        if x.shape != y.shape:
            lines.append(f"  {name}.{key}: shapes differ {x.shape} vs {y.shape}")
        elif x.size and not np.array_equal(x, y):
            diff = np.max(np.abs(x.astype(float) - y.astype(float)))
            scale = np.max(np.abs(x.astype(float)))
            lines.append(f"  {name}.{key}: max |diff| = {diff:.3g} (max |value| {scale:.3g})")
    return lines


def _describe(value: np.ndarray) -> str:
    shape = "scalar" if value.shape == () else "x".join(map(str, value.shape))
    return f"{value.dtype}, {shape}"


def write_readme(version: str, target: str, written: dict[str, dict]) -> None:
    lines = [
        "# Brian2 reference data",
        "",
        "Results of the models in `tests/reference/models.py`, run with Brian2 "
        f"{version} (code generation target: `{target}`, Brian2's default "
        "`prefs.codegen.target = 'auto'`).",
        "",
        "## Regenerating",
        "",
        f"With a Python that has brian2 {EXPECTED_BRIAN2_VERSION} installed "
        f"(e.g. `pip install brian2=={EXPECTED_BRIAN2_VERSION}` in a separate "
        "virtualenv), from the repository root:",
        "",
        "```",
        "python tests/reference/generate_brian2_references.py",
        "```",
        "",
        "`--only NAME` regenerates one file; `--compare-target numpy` also reruns "
        "every model with Brian2's numpy target and prints the differences; "
        "`--check-margins` prints how close `v` comes to the threshold.",
        "",
        "## Format",
        "",
        "One compressed `.npz` per model, `data/<name>.npz`, loadable with "
        "`numpy.load`. All floats are SI values (seconds, volts, amperes, hertz): "
        "the model functions return `np.asarray(quantity)`, never `quantity/ms`. "
        "Spike times are stored exactly as Brian2 reports them (integer step "
        "times `dt`), nothing is subsampled. Each file also holds the string "
        "arrays `brian2_version` and `codegen_target`.",
        "",
        "Brian2 semantics worth knowing when comparing: `StateMonitor` records at "
        "the start of a step (before the state update), so `t[0] == 0` and "
        "`v[:, 0]` is the initial value; a spike found in the step starting at "
        "`t` is stored with time `t`; `PopulationRateMonitor.rate` is "
        "(spikes in the step)/(N*dt); with `refractory=2*ms` the state "
        "update resumes, and the next spike can occur, in the step starting "
        "exactly 2 ms after the spike.",
        "",
        "The spike trains are not sensitive to rounding: at every step, the "
        "membrane potential after the update stays well away from the "
        "threshold (`--check-margins` prints the smallest distance per model; "
        "it was at least 0.1 uV for every model when this data was made), so "
        "a correct implementation should reproduce spike indices and times "
        "exactly, and traces to rounding error (Brian2 rewrites expressions "
        "with sympy, so the last bits of floats depend on the form of the "
        "generated code).",
        "",
        "## Files",
        "",
    ]
    for name, result in written.items():
        doc = (models.MODELS[name].__doc__ or "").strip().splitlines()[0]
        lines.append(f"### `{name}.npz`")
        lines.append("")
        lines.append(doc)
        lines.append("")
        for key, value in result.items():
            value = np.asarray(value)
            lines.append(f"- `{key}`: {_describe(value)}")
        lines.append("")
    (DATA_DIR / "README.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(models.MODELS),
        help="model(s) to regenerate (default: all)",
    )
    parser.add_argument(
        "--compare-target",
        choices=["numpy", "cython"],
        help="rerun each model with this code generation target and print the differences",
    )
    parser.add_argument(
        "--check-margins",
        action="store_true",
        help="print how close v comes to the threshold in each spiking model",
    )
    args = parser.parse_args(argv)

    brian2 = _brian2()
    version = brian2.__version__
    if version != EXPECTED_BRIAN2_VERSION:
        print(
            f"warning: brian2 {version} found, the stored data uses {EXPECTED_BRIAN2_VERSION}",
            file=sys.stderr,
        )

    names = args.only or list(models.MODELS)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    results = {}
    target = None
    for name in names:
        result, target, elapsed = run_model(brian2, name, None)
        path = save(name, result, version, target)
        results[name] = result
        print(
            f"{name}: {path.relative_to(HERE.parent.parent)} "
            f"({path.stat().st_size} bytes, target {target}, run {elapsed:.2f} s)"
        )

    if args.only is None:
        write_readme(version, target, results)
    else:
        print("README.md not rewritten (use no --only to rewrite it)")

    if args.check_margins:
        for name in names:
            if name in THRESHOLDS:
                margin = threshold_margin(brian2, name)
                print(f"{name}: min |v - threshold| after the update = {margin:.3g} V")

    if args.compare_target:
        default_target = brian2.prefs.codegen.target
        for name in names:
            other, used, _ = run_model(brian2, name, args.compare_target)
            lines = compare(name, results[name], other)
            print(f"{name} vs target {used}: " + ("identical" if not lines else ""))
            for line in lines:
                print(line)
        brian2.prefs.codegen.target = default_target
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate the Brian2 reference data in ``tests/reference/data/``.

Run with a Python that has brian2 installed (the stored data was made with
brian2 2.11.0; see ``data/README.md``)::

    python tests/reference/generate_brian2_references.py
    python tests/reference/generate_brian2_references.py --only hh_neuron
    python tests/reference/generate_brian2_references.py --compare-target numpy
    python tests/reference/generate_brian2_references.py --check-margins

Each model function in ``models.py`` is run with the ``brian2`` module and its
result is saved as ``data/<name>.npz`` (compressed), together with the string
arrays ``brian2_version`` and ``codegen_target``.  Random models
(``models.SEED_SPREAD``) are run once per listed seed: the first seed gives
the ordinary keys, and every statistical key (``models.STATISTICAL``) of up
to ``MAX_PER_SEED_SIZE`` elements is also stored for all seeds, stacked, as
``<key>_per_seed`` (with the seeds as ``seeds``).  ``data/README.md`` is
rewritten from the ``.npz`` files present after every run.  The code generation target
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
import gc
import inspect
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
EXPECTED_BRIAN2_VERSION = "2.11.0"
MAX_FILE_BYTES = 200_000
#: Statistical keys with at most this many elements get a ``<key>_per_seed`` entry.
MAX_PER_SEED_SIZE = 1000
METADATA_KEYS = ("brian2_version", "codegen_target")

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
    # The connectivity models only call ``connect`` and never run, so their
    # objects are deleted without having been part of a network (on purpose).
    brian2.BrianLogger.suppress_name("unused_brian_object")
    return brian2


def _used_target(brian2) -> str:
    from brian2.devices.device import get_device

    return get_device().code_object_class().class_name


def run_model(brian2, name: str, target: str | None, **kwds) -> tuple[dict, str, float]:
    if target is not None:
        brian2.prefs.codegen.target = target
    result = models.MODELS[name](brian2, **kwds)
    # Time a second run: the first one includes compiling the Cython code.
    # Brian2 names objects ``neurongroup_1`` etc. while older objects with the
    # plain name are alive, and the names end up in the generated code; collect
    # the first run's objects so the second run reuses the compiled modules.
    del result
    gc.collect()
    start = time.perf_counter()
    result = models.MODELS[name](brian2, **kwds)
    elapsed = time.perf_counter() - start
    gc.collect()
    return result, _used_target(brian2), elapsed


def check_default_seed(name: str) -> None:
    """The plain keys come from the model's default ``random_seed``, which must be
    the first seed of ``models.SEED_SPREAD`` (spikeforge's tests call the model
    with its default)."""
    seeds = models.SEED_SPREAD.get(name)
    if not seeds:
        return
    default = inspect.signature(models.MODELS[name]).parameters["random_seed"].default
    if default != seeds[0]:
        raise ValueError(f"{name}: default random_seed {default} is not SEED_SPREAD[0] {seeds[0]}")


def add_seed_spread(brian2, name: str, result: dict) -> dict:
    """For a random model, run the remaining seeds of ``models.SEED_SPREAD`` and
    add ``<key>_per_seed`` (shape ``(n_seeds, ...)``) and ``seeds``."""
    seeds = models.SEED_SPREAD.get(name)
    if not seeds:
        return result
    per_seed = [result]
    for seed in seeds[1:]:
        per_seed.append(models.MODELS[name](brian2, random_seed=seed))
        gc.collect()
    out = dict(result)
    for key in models.STATISTICAL.get(name, {}):
        if np.asarray(result[key]).size <= MAX_PER_SEED_SIZE:
            out[f"{key}_per_seed"] = np.stack([np.asarray(r[key]) for r in per_seed])
    out["seeds"] = np.array(seeds, dtype=np.int64)
    return out


def save(name: str, result: dict, version: str, target: str) -> Path:
    path = DATA_DIR / f"{name}.npz"
    arrays = {k: np.asarray(v) for k, v in result.items()}
    for reserved in METADATA_KEYS:
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


#: Brian2 behaviour the synapse models depend on (checked in Brian2 2.11's
#: source and by experiment), for ``data/README.md``.
README_SYNAPSES = [
    "## Synapses, SpikeGeneratorGroup, PoissonGroup",
    "",
    "Brian2 behaviour the synapse reference files depend on (read in Brian2 "
    "2.11's source and checked by experiment):",
    "",
    "- **Schedule** (`start`, `groups`, `thresholds`, `synapses`, `resets`, "
    "`end`; ties broken by `order`, then by object name). `StateMonitor`s, "
    "also on `Synapses`, record in `start` (before anything else in the "
    "step). A summed-variable updater runs in `groups` with `order = "
    "(order of the group it writes to) - 1`, i.e. before the state updaters "
    "(order 0). `SpikeGeneratorGroup` and `PoissonGroup` emit their spikes in "
    "`thresholds` (order 0), like a `NeuronGroup`'s thresholder. Each "
    "synaptic pathway runs in `synapses`: `on_pre` with order -1, `on_post` "
    "with order +1, so when the pre- and postsynaptic neuron spike in the same "
    "step, `on_pre` runs first. A `SpikeMonitor` records in `thresholds` "
    "with order 1 (right after the spikes are found), a "
    "`PopulationRateMonitor` in `end`.",
    "- **Pathway step**: the pathway first pushes this step's spikes of its "
    "source into its queue, then applies its code to the synapses in the "
    "queue's current slot and advances the queue. A spike pushed with a delay "
    "of `d` steps is delivered `d` steps later; **with `d = 0` it is "
    "delivered in the same step** (after `thresholds`, before `resets`). So "
    "with `on_pre='v += 1'`, threshold `v > 0.5` and no dynamics, an arrival "
    "in the step starting at `T` makes the target spike at `T + dt`, and an "
    "arrival in the step in which the target spikes is wiped by the reset.",
    "- **Delay rounding**: at the start of every run each pathway converts its "
    "delays (seconds, scalar or one per synapse) to steps with "
    "`(int)(delay/dt + 0.5)` in double precision (`spikequeue.h`), dt being "
    "the source's `dt` as a double. This is round-half-up on the computed "
    "quotient, not numpy's round-half-even: with dt = 0.1 ms, 0.05 ms -> 1, "
    "0.25 ms -> 3 (quotient exactly 2.5), 0.45 ms -> 5, but 0.15 ms -> 1 "
    "(quotient 1.4999999999999998) and 3.05 ms -> 30.",
    "- **Changing delays between runs**: spikes already in the queue keep "
    "their arrival step; spikes emitted later use the new delays (array, "
    "string and scalar `S.delay = 0.5*ms` alike).",
    "- **Delivery order** within a step (only visible with non-commutative "
    "`on_pre` code; none of the models depend on it): spikes pushed in "
    "earlier steps first, then this step's spikes by increasing source index, "
    "each source's synapses by increasing synapse index.",
    "- **`SpikeGeneratorGroup`**: a spike at time `t` goes into step "
    "`int((t + 1e-3*dt)/dt)` (rounded down after a small shift: 7.25 ms is "
    "emitted at 7.2 ms); the spikes of one step are emitted by increasing "
    "index. **`PoissonGroup`**: a neuron spikes when `rand() < rates*dt`.",
    "- **`(summed)`**: the updater sets the target variable of *every* neuron "
    "of the target group to 0, then adds the expression of each synapse; so a "
    "neuron without synapses gets 0, and the value recorded at `t = 0` is the "
    "initial one. It runs before the state updaters, so it uses presynaptic "
    "values from before this step's update, and the target's differential "
    "equations already see the new sum.",
    "- **`(event-driven)`**: each pathway's code starts with the exact update "
    "`apre = apre*exp(-(t - lastupdate)/taupre)` (all event-driven "
    "variables) and ends with `lastupdate = t`; `lastupdate` starts at 0.",
    "- **`N_incoming`, `N_outgoing`** are synaptic variables (one value per "
    "synapse, usable in strings): the number of synapses onto this synapse's "
    "postsynaptic neuron, and the number from its presynaptic neuron, counting "
    "multiple synapses between the same pair. Per-neuron arrays are "
    "`S.N_incoming_post` and `S.N_outgoing_pre`. They are updated by every "
    "`connect` call.",
    "- **Synapse order**: `connect(i=array, j=array)` creates synapse `k` for "
    "`(i[k], j[k])`, in array order (the STDP model's `StateMonitor(S, 'w', "
    "record=...)` relies on this); conditions and generators create synapses "
    "by increasing `i`, then in the order of `j` (`n=2`: both copies next to "
    "each other). Other patterns are stored sorted by `(i, j)`.",
    "",
]

#: How the random models are compared, for ``data/README.md``.
README_STATISTICAL = [
    "## Random models",
    "",
    "spikeforge's random number generator differs from Brian2's, so results "
    "that depend on random numbers are compared statistically, never value "
    "by value. `models.STATISTICAL[name]` lists these keys with the "
    "statistic to compare (all other keys are deterministic). Each random "
    "model was run with every seed in `models.SEED_SPREAD[name]`: the plain "
    "keys come from the first seed (the model function's default), and "
    "`<key>_per_seed` holds the value for every seed (first axis, seeds in "
    "`seeds`) for each statistical key of at most "
    f"{MAX_PER_SEED_SIZE} elements, so that a spikeforge statistic can be "
    "compared with Brian2's seed-to-seed spread. `_per_seed` and `seeds` "
    "exist only in the reference files, not in the model results.",
    "",
]


def _file_metadata(files: dict) -> tuple[str, str]:
    versions = sorted({str(f["brian2_version"]) for f in files.values()})
    targets = sorted({str(f["codegen_target"]) for f in files.values()})
    return ", ".join(versions), ", ".join(targets)


def _key_note(name: str, key: str) -> str:
    statistical = models.STATISTICAL.get(name, {})
    if key in statistical:
        return " (statistical)"
    if key == "seeds" and name in models.SEED_SPREAD:
        return " (Brian2 only: the seeds of the `_per_seed` rows)"
    if key.endswith("_per_seed") and key[: -len("_per_seed")] in statistical:
        return " (Brian2 only: one row per seed)"
    return ""


def write_readme() -> None:
    """Rewrite ``data/README.md`` from the ``.npz`` files of ``models.MODELS``
    present in ``data/``."""
    files = {}
    for name in models.MODELS:
        path = DATA_DIR / f"{name}.npz"
        if path.exists():
            with np.load(path) as data:
                files[name] = {key: data[key] for key in data.files}
    version, target = _file_metadata(files)
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
        "`--only NAME` regenerates one file (this README is always rewritten "
        "from the `.npz` files present); `--compare-target numpy` also reruns "
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
        *README_SYNAPSES,
        *README_STATISTICAL,
        "## Files",
        "",
        "Each model's docstring in `models.py` documents its set-up and keys; the "
        "first line is repeated here. Keys marked (statistical) depend on random "
        "numbers (see above).",
        "",
    ]
    for name, arrays in files.items():
        doc = (models.MODELS[name].__doc__ or "").strip().splitlines()[0]
        lines.append(f"### `{name}.npz`")
        lines.append("")
        lines.append(doc)
        lines.append("")
        for key, value in arrays.items():
            if key in METADATA_KEYS:
                continue
            lines.append(f"- `{key}`: {_describe(value)}{_key_note(name, key)}")
        lines.append("")
    (DATA_DIR / "README.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(models.MODELS),
        help="model(s) to regenerate (default: all); data/README.md is always rewritten",
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
        check_default_seed(name)
        result, target, elapsed = run_model(brian2, name, None)
        results[name] = result
        path = save(name, add_seed_spread(brian2, name, result), version, target)
        seeds = models.SEED_SPREAD.get(name)
        print(
            f"{name}: {path.relative_to(HERE.parent.parent)} "
            f"({path.stat().st_size} bytes, target {target}, run {elapsed:.2f} s"
            + (f", seeds {list(seeds)}" if seeds else "")
            + ")"
        )

    write_readme()

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
            note = " (random model: differences expected)" if name in models.STATISTICAL else ""
            print(f"{name} vs target {used}: " + ("identical" if not lines else note))
            for line in lines:
                print(line)
        brian2.prefs.codegen.target = default_target
    return 0


if __name__ == "__main__":
    sys.exit(main())

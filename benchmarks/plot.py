"""Draw the saved benchmark results as one figure: ``docs/benchmarks.png``.

Reads the raw results that ``run.py`` saved (``benchmarks/results/<model>.json``, not the
``--quick`` ones) and draws, for every model and simulated duration, the medians of each
configuration side by side: cold total, warm total and the simulation loop (log scale, seconds),
and the peak memory of the scaled CUBA runs. ``run.py --write-docs`` calls it after writing the
tables; it can also be run alone:

    python benchmarks/plot.py [--results-dir benchmarks/results] [--output docs/benchmarks.png]

Needs matplotlib (the ``examples`` extra).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = ("cuba", "cobahh", "brunel", "stdp", "cuba_scaled")
#: The panels: (title, kind of run, figure in the summary, unit label)
PANELS = (
    ("cold total (fresh process, empty caches)", "cold", "total_s", "seconds"),
    ("warm total (caches filled)", "warm", "total_s", "seconds"),
    ("simulation loop (warm)", "warm", "loop_s", "seconds"),
    ("peak RSS (warm; cpp_standalone: Python + binary)", "warm", "peak_rss_mib", "MiB"),
)
#: Figures added to the one named in PANELS: the standalone binary runs while its Python process
#: is alive, so its peak counts too (as in run.py's tables).
ADDED = {"peak_rss_mib": "binary_peak_rss_mib"}
COLOURS = {
    "spikeforge": "#1b9e77",
    "brian2-runtime": "#d95f02",
    "brian2-standalone": "#7570b3",
    "nest": "#e7298a",
    "annarchy": "#66a61e",
}


def load(results_dir: Path) -> list[dict]:
    """The saved results of each model that has them, in the order of MODELS."""
    loaded = []
    for model in MODELS:
        path = results_dir / f"{model}.json"
        if path.exists():
            loaded.append(json.loads(path.read_text()))
    return loaded


def groups(results: list[dict]) -> tuple[list[str], list[dict], list[dict]]:
    """The x-axis groups (model and case), the configurations that ran, and the summary rows."""
    labels, configurations, rows = [], {}, []
    for result in results:
        for configuration in result["configurations"]:
            if configuration.get("skipped") is None:
                configurations.setdefault(configuration["name"], configuration["label"])
        for case in result["settings"]["cases"]:
            labels.append(f"{result['benchmark']}\n{case['label']}")
        for row in result["summary"]:
            rows.append({**row, "group": f"{result['benchmark']}\n{row['case']}"})
    ordered = [{"name": n, "label": label} for n, label in configurations.items()]
    return labels, ordered, rows


def draw(results_dir: Path, output: Path) -> Path | None:
    """Draw the figure; returns its path, or None when there are no results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    results = load(results_dir)
    if not results:
        return None
    labels, configurations, rows = groups(results)
    figure, axes = plt.subplots(len(PANELS), 1, figsize=(12, 3.2 * len(PANELS)))
    width = 0.8 / max(len(configurations), 1)
    for axis, (title, kind, field, unit) in zip(axes, PANELS):
        for k, configuration in enumerate(configurations):
            xs, ys = [], []
            for x, label in enumerate(labels):
                for row in rows:
                    if (
                        row["group"] == label
                        and row["configuration"] == configuration["name"]
                        and row["kind"] == kind
                        and row.get(field)
                    ):
                        xs.append(x + (k - (len(configurations) - 1) / 2) * width)
                        ys.append(row[field] + (row.get(ADDED.get(field)) or 0))
            axis.bar(
                xs,
                ys,
                width,
                label=configuration["label"],
                color=COLOURS.get(configuration["name"]),
            )
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
        axis.set_ylabel(unit)
        axis.set_title(title, fontsize=10, loc="left")
        axis.set_xticks(range(len(labels)))
        axis.set_xticklabels(labels, fontsize=8)
        axis.grid(axis="y", alpha=0.3)
    axes[0].legend(ncol=len(configurations), fontsize=8, loc="upper left", bbox_to_anchor=(0, 1.35))
    commands = sorted({result["command"] for result in results})
    figure.text(0.01, 0.002, "Medians; " + " | ".join(commands), fontsize=6, va="bottom", wrap=True)
    figure.tight_layout(rect=(0, 0.02, 1, 0.97))
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return output


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--output", type=Path, default=HERE.parent / "docs" / "benchmarks.png")
    args = parser.parse_args(argv)
    path = draw(args.results_dir, args.output)
    print(path if path else f"no results in {args.results_dir}")


if __name__ == "__main__":
    main()

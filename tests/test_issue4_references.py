"""Larger random networks agree statistically with Brian2 2.11: COBAHH and Brunel (2000).

The models are ``cobahh``, ``brunel_ai`` and ``brunel_sr`` in ``tests/reference/models.py``;
``tests/reference/generate_brian2_references.py`` ran each of them with Brian2 for the seeds in
``models.SEED_SPREAD`` and stored one value per seed (``<key>_per_seed``).  spikeforge's random
numbers differ from Brian2's, so here each model runs once per seed in spikeforge too, and the
means over seeds are compared with the seed-to-seed spread of both simulators.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

import spikeforge

REFERENCE = Path(__file__).parent / "reference"
sys.path.insert(0, str(REFERENCE))
import models  # noqa: E402


def load(name):
    return np.load(REFERENCE / "data" / f"{name}.npz")


def same_mean(ours, theirs, floor):
    """Two samples (one value per seed) agree: their means differ by less than 4 standard
    errors of the difference, or by less than ``floor`` (for statistics that barely vary)."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    error = np.sqrt(ours.var(ddof=1) / len(ours) + theirs.var(ddof=1) / len(theirs))
    return abs(ours.mean() - theirs.mean()) < max(4 * error, floor)


def run_seeds(name):
    reference = load(name)
    seeds = [int(s) for s in reference["seeds"]]
    assert seeds == list(models.SEED_SPREAD[name])
    return reference, [models.MODELS[name](spikeforge, random_seed=s) for s in seeds]


def check_statistics(reference, runs, floors):
    """Every statistic of ``floors`` (key -> floor) agrees with Brian2's per-seed values; the
    message lists all the statistics that do not."""
    failures = []
    for key, floor in floors.items():
        ours = [float(run[key]) for run in runs]
        theirs = reference[f"{key}_per_seed"]
        if not same_mean(ours, theirs, floor):
            failures.append(f"{key}: spikeforge {np.round(ours, 4)}, Brian2 {np.round(theirs, 4)}")
    assert not failures, "\n".join(failures)


def check_synapse_counts(run, n_pre_e, n_pre_i, n_post, p):
    # connectivity: Binomial(n_pre*n_post, p), 6 s.d.
    for key, n_pre in (("n_synapses_e", n_pre_e), ("n_synapses_i", n_pre_i)):
        pairs = n_pre * n_post
        assert abs(int(run[key]) - pairs * p) < 6 * np.sqrt(pairs * p * (1 - p)), key


def test_cobahh_statistics_close_to_brian2():
    reference, runs = run_seeds("cobahh")
    check_statistics(
        reference,
        runs,
        {
            "rate_mean": 1.0,
            "rate_mean_exc": 1.0,
            "rate_mean_inh": 1.0,
            "silent_fraction": 0.01,
            "cv_isi_mean": 0.02,
            "pop_rate_cv": 0.01,
            "pop_fano_dt": 0.05,
        },
    )
    for run in runs:
        check_synapse_counts(run, 3200, 800, 4000, 0.02)
    # the distribution of per-neuron rates: our mean histogram is no further from Brian2's
    # than twice the largest distance between two of Brian2's seeds
    theirs = reference["rate_hist_per_seed"]
    spread = max(np.abs(a - b).sum() for k, a in enumerate(theirs) for b in theirs[k + 1 :])
    ours = np.mean([run["rate_hist"] for run in runs], axis=0)
    assert np.abs(ours - theirs.mean(axis=0)).sum() < 2 * spread, (ours, theirs.mean(axis=0))


#: Floors of the Brunel statistics, per regime.  In the SR state the statistics barely vary
#: from seed to seed, so the floors (about 1% of the rate, 5% of the Fano factor) decide.
BRUNEL_FLOORS = {
    "ai": {
        "rate_mean": 1.0,
        "silent_fraction": 0.01,
        "cv_isi_mean": 0.02,
        "pop_rate_cv": 0.02,
        "pop_fano_dt": 0.5,
    },
    "sr": {
        "rate_mean": 3.0,
        "silent_fraction": 0.005,
        "cv_isi_mean": 0.01,
        "pop_rate_cv": 0.02,
        "pop_fano_dt": 100.0,
    },
}


@pytest.mark.parametrize("regime", ["ai", "sr"])
def test_brunel_statistics_close_to_brian2(regime):
    reference, runs = run_seeds(f"brunel_{regime}")
    check_statistics(reference, runs, BRUNEL_FLOORS[regime])
    for run in runs:
        check_synapse_counts(run, 4000, 1000, 5000, 0.1)


@pytest.mark.parametrize("name", ["brunel_ai", "brunel_sr"])
def test_brunel_reference_shows_the_regime(name):
    """The stored Brian2 data is in the intended state: irregular firing and weak synchrony in
    the AI state, regular firing in synchronous volleys in the SR state (no spikeforge run)."""
    reference = load(name)
    cv, fano = reference["cv_isi_mean_per_seed"], reference["pop_fano_dt_per_seed"]
    if name == "brunel_ai":
        assert np.all(cv > 0.4) and np.all(fano < 50)
    else:
        assert np.all(cv < 0.15) and np.all(fano > 500)

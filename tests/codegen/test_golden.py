"""The generated module of a few networks is exactly the stored one (see networks.py)."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from networks import NETWORKS, rendered_source  # noqa: E402


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_generated_source_is_the_golden_one(name):
    golden = (HERE / "golden" / f"{name}.pyx").read_text()
    assert rendered_source(name) == golden, (
        f"the generated source of {name} changed; if that is intended, run "
        "python tests/codegen/make_golden.py and measure with benchmarks/run.py"
    )

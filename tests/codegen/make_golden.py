"""Write the golden module sources (``tests/codegen/golden/<network>.pyx``) from the current
code: ``python tests/codegen/make_golden.py``.  Do it when a change to the generated code is
deliberate, and measure it with benchmarks/run.py."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from networks import NETWORKS, rendered_source  # noqa: E402

if __name__ == "__main__":
    for name in NETWORKS:
        path = HERE / "golden" / f"{name}.pyx"
        path.write_text(rendered_source(name))
        print(f"wrote {path.relative_to(HERE.parent.parent)}")

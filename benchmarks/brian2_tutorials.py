"""Turn Brian2's tutorial notebooks into scripts that ``brian2_examples.py`` runs and compares.

Brian2's three tutorials (``tutorials/*.ipynb`` in its repository) are where its users start.
Each becomes one script: its code cells in order, IPython's ``%`` lines dropped, each cell in a
``try`` block as a notebook runs on after a cell that raises.  Some cells raise on purpose (the
first tutorial shows what a unit error looks like); :data:`EXPECTED_ERRORS` names them, and the
script fails if any other cell raises, naming the cell and its error, so that a feature missing
from a simulator is not hidden::

    python benchmarks/brian2_tutorials.py BRIAN2_REPO/tutorials TUTORIAL_SCRIPTS/tutorials
    python benchmarks/brian2_examples.py TUTORIAL_SCRIPTS/tutorials --brian2-python PY_BRIAN2 \\
        --docs docs/brian2_tutorials.md --write-docs

Files the notebooks read (``brian.png``) are copied beside the scripts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path

#: Cells (by their position among all cells of the notebook) that raise on purpose.
EXPECTED_ERRORS = {
    "1-intro-to-brian-neurons": {
        15: "adding a current to a voltage: a unit error",
        22: "dv/dt = 1-v : 1 without a time constant: a unit error in the equations",
    },
}

HEADER = '''"""Brian2's tutorial {name}, its code cells in order (made by brian2_tutorials.py)."""
import matplotlib

matplotlib.use("Agg")
_unexpected = []
'''

CELL = """
# cell {index}
try:
{body}
except Exception as _error:
    print("cell {index} raised", type(_error).__name__, _error)
    if {index} not in {expected}:
        _unexpected.append(f"cell {index}: {{type(_error).__name__}}: {{_error}}")
"""

FOOTER = """
if _unexpected:
    raise SystemExit("cells raised:\\n" + "\\n".join(_unexpected))
"""


def convert(notebook: Path) -> str:
    """The script of one notebook."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    expected = set(EXPECTED_ERRORS.get(notebook.stem, {}))
    parts = [HEADER.format(name=notebook.stem)]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        code = "\n".join(line for line in lines if not line.lstrip().startswith("%"))
        if not code.strip():
            continue
        body = textwrap.indent(code + "\npass", "    ")
        parts.append(CELL.format(index=index, body=body, expected=sorted(expected)))
    return "".join(parts) + FOOTER


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", type=Path, help="Brian2's tutorials folder")
    parser.add_argument("output", type=Path, help="the folder to write the scripts into")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(args.notebooks.glob("*.ipynb"))
    if not notebooks:
        parser.error(f"no notebooks in {args.notebooks}")
    for notebook in notebooks:
        script = args.output / f"{notebook.stem.replace('-', '_')}.py"
        script.write_text(convert(notebook), encoding="utf-8")
        print(script)
    for data in args.notebooks.iterdir():
        if data.suffix in (".png", ".jpg", ".txt", ".npy"):
            shutil.copy(data, args.output / data.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One table of built-in functions: each row parses, checks units, prints, and is declared in
the generated module (no compiler needed)."""

import pytest

from spikeforge.codegen.expressions import (
    BUILTIN_FUNCTIONS,
    FUNCTIONS,
    dimension_of,
    parse_expression,
)
from spikeforge.codegen.printer import CythonPrinter
from spikeforge.codegen.render import render_module
from spikeforge.codegen.translate import ModuleArguments
from spikeforge.runtime import RUNTIME_DIR
from spikeforge.units import DIMENSIONLESS, second

ARGUMENTS = {"timestep": "x, y", "clip": "x, 0, y"}


@pytest.mark.parametrize("function", BUILTIN_FUNCTIONS, ids=lambda f: f.name)
def test_every_row_parses_checks_units_and_prints(function):
    call = f"{function.name}({ARGUMENTS.get(function.name, 'x')})"
    expr = parse_expression(call)
    dims = {"x": DIMENSIONLESS, "y": DIMENSIONLESS}
    if function.name == "timestep":
        dims = {"x": second.dim, "y": second.dim}
    dimension_of(expr, dims, call)
    printed = CythonPrinter({"x": "x", "y": "y"}, functions={})(expr)
    if function.c_name:
        assert function.c_name + "(" in printed
    assert function.name in FUNCTIONS


def test_functions_spikeforge_defines_are_declared_in_every_module():
    source = render_module("empty", [], ModuleArguments())
    declared = [f for f in BUILTIN_FUNCTIONS if f.declaration]
    assert {f.name for f in declared} == {"sign", "clip", "exprel", "timestep"}
    for function in declared:
        assert function.declaration in source
        header = (RUNTIME_DIR / "functions.h").read_text()
        assert f" {function.c_name}(" in header  # and defined in the runtime header

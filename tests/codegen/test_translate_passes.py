"""The passes of translate(), one by one, on a hand-made scope (no compiler)."""

import numpy as np
import pytest

from spikeforge.codegen.expressions import ExpressionError, parse_expression, symbol
from spikeforge.codegen.translate import (
    Resolved,
    Scope,
    check_targets,
    declare_locals,
    hoist_invariants,
    integer_divisions,
    print_code,
    resolve_names,
    translate,
)


class FakeScope(Scope):
    """v (an element at _idx), w (an int32 element at _post_idx), g (an element at an index
    array, _link[_pre_idx]), tau (a scalar argument), E (a literal), i (the loop index), n (an
    integer scalar argument)."""

    def __init__(self):
        self.internal = {}

    def resolve(self, name):
        table = {
            "v": Resolved("element", np.dtype(np.float64), "_ng0_v"),
            "w": Resolved("element", np.dtype(np.int32), "_syn0_w", index="_post_idx"),
            "g": Resolved("element", np.dtype(np.float64), "_ng1_g", index="_link[_pre_idx]"),
            "tau": Resolved("scalar", static="_const_tau"),
            "dt": Resolved("scalar"),
            "E": Resolved("literal", literal="0.07"),
            "i": Resolved("index", literal="_idx"),
            "n": Resolved("scalar", static="_const_n", local_type="int64_t"),
        }
        if name not in table:
            raise ExpressionError(f"unknown identifier {name!r}")
        return table[name]


def _statements(*lines):
    out = []
    for line in lines:
        target, text = line.split(" = ", 1)
        out.append((target, parse_expression(text)))
    return out


def test_resolve_names_leaves_the_codes_own_temporaries_alone():
    tmp = symbol("_tmp")  # parsing refuses such names: code made by spikeforge has them
    statements = [("_tmp", 2 * symbol("v")), ("v", tmp + symbol("E"))]
    resolution = resolve_names(statements, FakeScope())
    assert set(resolution.resolved) == {"v", "E"}
    assert resolution.targets == {"v"}
    with pytest.raises(ExpressionError, match="unknown identifier 'x'"):
        resolve_names(_statements("v = x"), FakeScope())


def test_check_targets_refuses_literals_and_parameters():
    check_targets(resolve_names(_statements("v = E"), FakeScope()))
    for target in ("E", "dt"):
        with pytest.raises(ExpressionError, match=f"cannot assign to '{target}'"):
            check_targets(resolve_names(_statements(f"{target} = v"), FakeScope()))


def test_hoist_invariants_moves_what_is_the_same_for_all_elements():
    statements = _statements("v = v*exp(-dt/tau) + E")
    resolution = resolve_names(statements, FakeScope())
    scalar, vector = hoist_invariants(statements, resolution, prefix="_h")
    assert [target for target, _ in scalar] == ["_h0"]
    assert str(scalar[0][1]) == str(parse_expression("exp(-dt/tau)"))
    assert vector[0][0] == "v" and "_h0" in str(vector[0][1])


def test_declare_locals_loads_stores_and_names_the_indices_used():
    statements = _statements("w = g + i", "v = 1")
    resolution = resolve_names(statements, FakeScope())
    scalar, vector = hoist_invariants(statements, resolution)
    declared = declare_locals(resolution, scalar, vector)
    assert "g = _ptr_g[_link[_pre_idx]]" in declared.load_lines
    assert "_ptr_w[_post_idx] = w" in declared.store_lines
    assert "cdef int32_t* _ptr_w = _syn0_w" in declared.pointers
    assert declared.indices == {"_idx", "_post_idx", "_link", "_pre_idx"}


def test_print_code_converts_to_the_targets_type():
    statements = _statements("w = v/2", "v = E")
    resolution = resolve_names(statements, FakeScope())
    scalar, vector = hoist_invariants(statements, resolution)
    declared = declare_locals(resolution, scalar, vector)
    code = print_code(resolution, declared, scalar, vector, parse_expression("v > E"))
    assert "w = <int32_t>(" in code.vector_lines[0]
    assert code.vector_lines[1] == "v = 0.07" and code.condition == "(v > 0.07)"


class DividingScope(FakeScope):
    """A scope whose code may divide integers: it records the statements it is told about."""

    def __init__(self):
        super().__init__()
        self.division_statements = []

    def integer_division_site(self, statement):
        self.division_statements.append(statement)
        return 40 + len(self.division_statements)


def test_integer_divisions_are_computed_in_integers_and_checked():
    statements = _statements("w = w // n + i % (n + 1)", "v = v // tau + v % n", "w = w // 2")
    scope = DividingScope()
    resolution = resolve_names(statements, scope)
    rewritten, condition = integer_divisions(statements, parse_expression("i % n == 0"), resolution)
    # one fault per statement with such divisions, named in model syntax (sympy's term order)
    assert scope.division_statements == ["w = i % (n + 1) + w // n", "i % n == 0"]
    assert "integer_floordiv(w, n, 41)" in str(rewritten[0][1])
    assert "integer_mod(i, n + 1, 41)" in str(rewritten[0][1])
    assert "integer_mod(i, n, 42)" in str(condition)
    # floats, and divisors written as numbers, are left as they are (the same objects)
    assert rewritten[1][1] is statements[1][1] and rewritten[2][1] is statements[2][1]
    code = translate(statements, DividingScope())
    assert "spikeforge_floordiv_int(<int64_t>(w), <int64_t>(n), 41)" in code.vector_lines[0]
    assert "floor" in code.vector_lines[1] and "spikeforge_mod(" in code.vector_lines[1]


def test_a_scope_without_division_faults_keeps_divisions_of_doubles():
    statements = _statements("w = w // n")
    assert integer_divisions(statements, None, resolve_names(statements, FakeScope())) == (
        statements,
        None,
    )


def test_translate_is_the_passes_in_order():
    statements = _statements("v = v + dt/tau*(E - v)")
    code = translate(statements, FakeScope())
    resolution = resolve_names(statements, FakeScope())
    scalar, vector = hoist_invariants(statements, resolution)
    by_passes = print_code(resolution, declare_locals(resolution, scalar, vector), scalar, vector)
    assert code == by_passes

"""Numerical integration: differential equations become update statements.

Each method turns the system ``dx_k/dt = f_k(x, t)`` into a list of ``(target, expression)``
assignments executed in order once per neuron and time step.  Targets starting with ``_`` are
temporaries; the final assignments write the state variables from values computed before any of
them changed.

Methods (Brian2's names and definitions):

``exact``
    Linear systems with coefficients that do not depend on the state or on ``t``: the solution
    over one step, ``x(t+dt) = exp(A dt) x(t) + (integral of exp(A s) ds) b``, computed by sympy.
``euler``
    Forward Euler.
``rk2``
    Second order Runge-Kutta (midpoint method).
``rk4``
    Classical fourth order Runge-Kutta.
``exponential_euler``
    For equations linear in their own variable, ``dx/dt = A x + B`` with A, B depending on other
    variables: ``x <- -B/A + (x + B/A) exp(A dt)`` (Hodgkin-Huxley gating variables).

The symbolic work is cached on disk, keyed by the equations and the method, so that a second
process does not redo it (:func:`integrate` is the entry point).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
import threading
from collections.abc import Iterable

import sympy
from sympy.core.function import AppliedUndef

from spikeforge.codegen.cache import cache_directory
from spikeforge.codegen.expressions import ExpressionError, parse_expression, random_calls, symbol

#: Methods tried, in order, when ``method`` is not given (Brian2's order for deterministic
#: equations).
AUTOMATIC_ORDER = ("exact", "euler")
METHODS = ("exact", "euler", "rk2", "rk4", "exponential_euler")

DT = symbol("dt")
T = symbol("t")

HALF = sympy.Rational(1, 2)

Updates = list[tuple[str, sympy.Expr]]


class IntegrationError(ExpressionError):
    """The equations cannot be integrated with the requested method."""


def _new_names(variables: list[str]) -> dict[str, str]:
    return {name: f"_{name}_new" for name in variables}


def _final_assignments(variables: list[str]) -> Updates:
    return [(name, symbol(f"_{name}_new")) for name in variables]


# ---------------------------------------------------------------------------------------------
# explicit methods
# ---------------------------------------------------------------------------------------------

_STATEMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$")


class ExplicitStateUpdater:
    """An explicit integration method from its description, in Brian2's notation::

        midpoint = ExplicitStateUpdater('''
            k = dt*f(x, t)
            x_new = x + dt*f(x + k/2, t + dt/2)
        ''')
        G = NeuronGroup(10, 'dv/dt = -v/tau : 1', method=midpoint)

    Each line but the last defines an intermediate value; the last defines ``x_new``.  ``x``
    stands for each state variable in turn, ``f(a, b)`` for its derivative at the state where
    every variable ``y`` is ``a`` (with ``x`` read as ``y``, and an intermediate value as
    ``y``'s), at time ``b``; ``dt`` and ``t`` are the step and the time.  Equations with noise
    (Brian2's ``g(x, t)*dW`` terms) are not supported.  ``StateUpdateMethod.register(name,
    method)`` makes it known by a name too.
    """

    def __init__(self, description: str, stochastic=None, custom_check=None):
        if stochastic not in (None, False) or custom_check is not None:
            raise NotImplementedError(
                "ExplicitStateUpdater: stochastic= and custom_check= are not supported"
            )
        if not isinstance(description, str):
            raise TypeError(
                f"ExplicitStateUpdater: the description must be a string, got {description!r}"
            )
        self.description = description
        lines = [line.split("#")[0].strip() for line in description.splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise IntegrationError("an ExplicitStateUpdater needs at least the line x_new = ...")
        self.statements: list[tuple[str, sympy.Expr]] = []
        for line in lines:
            match = _STATEMENT.match(line)
            if match is None:
                raise IntegrationError(
                    "each line of an ExplicitStateUpdater is 'name = expression'", line
                )
            name, text = match.group(1), match.group(2).strip()
            if "dW" in text or "g(" in text.replace(" ", ""):
                raise IntegrationError(
                    "ExplicitStateUpdater: stochastic terms (g(x, t)*dW) are not supported", line
                )
            self.statements.append((name, parse_expression(text)))
        if self.statements[-1][0] != "x_new":
            raise IntegrationError(
                "the last line of an ExplicitStateUpdater must define x_new", lines[-1]
            )
        self.name = "explicit: " + "; ".join(lines)

    def __repr__(self) -> str:
        return f"ExplicitStateUpdater({self.description!r})"

    def __call__(self, variables: list[str], derivatives: list[sympy.Expr]) -> Updates:
        intermediates = [name for name, _ in self.statements[:-1]]
        placeholder_x = symbol("_explicit_x")
        placeholders = {symbol(name): symbol(f"_explicit_{name}") for name in intermediates}
        placeholders[symbol("x")] = placeholder_x

        def for_variable(expression, y):
            # the placeholders of the description, read as those of variable y
            mapping = {placeholder_x: symbol(y)}
            mapping.update({symbol(f"_explicit_{k}"): symbol(f"_{k}_{y}") for k in intermediates})
            return expression.xreplace(mapping)

        def expand(expression, x):
            for call in expression.atoms(AppliedUndef):
                if call.func.__name__ != "f" or len(call.args) not in (1, 2):
                    raise IntegrationError(
                        f"ExplicitStateUpdater: unknown call {call} (use f(state, time))"
                    )
                moved = {symbol(y): for_variable(call.args[0], y) for y in variables}
                if len(call.args) == 2:
                    moved[T] = call.args[1]
                value = derivatives[variables.index(x)].xreplace(moved)
                expression = expression.xreplace({call: value})
            return for_variable(expression, x)

        updates: Updates = []
        for name, expression in self.statements:
            renamed = expression.xreplace(placeholders)
            for x in variables:
                target = f"_{x}_new" if name == "x_new" else f"_{name}_{x}"
                updates.append((target, expand(renamed, x)))
        return updates + _final_assignments(variables)


#: Methods known by name through ``StateUpdateMethod.register``, and explicit ones by their
#: description.
_CUSTOM_METHODS: dict[str, ExplicitStateUpdater] = {}


class StateUpdateMethod:
    """Brian2's registry of integration methods: ``StateUpdateMethod.register(name, method)``
    makes an :class:`ExplicitStateUpdater` known as ``method=name``."""

    @staticmethod
    def register(name: str, stateupdater: ExplicitStateUpdater) -> None:
        if not isinstance(stateupdater, ExplicitStateUpdater):
            raise TypeError(
                f"StateUpdateMethod.register: {stateupdater!r} is not an ExplicitStateUpdater"
            )
        if name in METHODS or name in STOCHASTIC_METHODS:
            raise ValueError(f"StateUpdateMethod.register: {name!r} is a built-in method")
        _CUSTOM_METHODS[name] = stateupdater


def _method_names(method) -> tuple[str, ...]:
    """The names of ``method=``: a name, an ExplicitStateUpdater (known by its description
    from then on) or a sequence of them."""
    if isinstance(method, ExplicitStateUpdater):
        _CUSTOM_METHODS.setdefault(method.name, method)
        return (method.name,)
    if isinstance(method, str):
        return (method,)
    return tuple(name for item in method for name in _method_names(item))


def _euler(variables, derivatives) -> Updates:
    updates = [(f"_{x}_new", symbol(x) + DT * f) for x, f in zip(variables, derivatives)]
    return updates + _final_assignments(variables)


def _evaluate_at(derivatives, variables, offsets: dict[str, sympy.Expr], time_offset):
    substitutions = {symbol(x): symbol(x) + offsets[x] for x in variables}
    if time_offset != 0:
        substitutions[T] = T + time_offset
    return [f.xreplace(substitutions) for f in derivatives]


def _rk2(variables, derivatives) -> Updates:
    updates: Updates = []
    k1 = {}
    for x, f in zip(variables, derivatives):
        updates.append((f"_k1_{x}", DT * f))
        k1[x] = symbol(f"_k1_{x}")
    midpoint = _evaluate_at(derivatives, variables, {x: k1[x] / 2 for x in variables}, DT / 2)
    for x, f in zip(variables, midpoint):
        updates.append((f"_{x}_new", symbol(x) + DT * f))
    return updates + _final_assignments(variables)


def _rk4(variables, derivatives) -> Updates:
    updates: Updates = []
    stages = []
    previous = {x: sympy.Integer(0) for x in variables}
    for stage, (fraction, time_fraction) in enumerate(
        [(0, 0), (HALF, HALF), (HALF, HALF), (1, 1)], start=1
    ):
        evaluated = _evaluate_at(
            derivatives,
            variables,
            {x: fraction * previous[x] for x in variables},
            time_fraction * DT,
        )
        current = {}
        for x, f in zip(variables, evaluated):
            updates.append((f"_k{stage}_{x}", DT * f))
            current[x] = symbol(f"_k{stage}_{x}")
        stages.append(current)
        previous = current
    for x in variables:
        k1, k2, k3, k4 = (stage[x] for stage in stages)
        updates.append((f"_{x}_new", symbol(x) + (k1 + 2 * k2 + 2 * k3 + k4) / 6))
    return updates + _final_assignments(variables)


def _conditionally_linear(x: str, f) -> tuple[sympy.Expr, sympy.Expr]:
    """``f = A*x + B`` where A and B may still depend on ``x`` inside other functions (Brian2's
    *conditionally linear* form: ``m**3*(v - E)`` with ``m`` a function of ``v``).  Exponential
    Euler then treats A and B as constant over a step, as Brian2 does; an IntegrationError if
    ``x`` appears as a power other than 1 in the expanded expression."""
    xs = symbol(x)
    terms = sympy.collect(sympy.expand(f), xs, evaluate=False)
    if not set(terms) <= {xs, sympy.S.One}:
        powers = ", ".join(sorted(str(term) for term in set(terms) - {xs, sympy.S.One}))
        raise IntegrationError(
            f"exponential_euler needs each equation to be (conditionally) linear in its own "
            f"variable, but d{x}/dt has terms in {powers}"
        )
    return terms.get(xs, sympy.S.Zero), terms.get(sympy.S.One, sympy.S.Zero)


def _exponential_euler(variables, derivatives) -> Updates:
    updates: Updates = []
    for x, f in zip(variables, derivatives):
        xs = symbol(x)
        # f = A*x + B with A and B free of x.  Differentiating and substituting keep A and B in
        # the form the user wrote them (Hodgkin-Huxley rate functions stay sums of a few
        # exponentials): expanding and simplifying merges products of exponentials into many
        # more exp() calls per neuron and step (the A and B/A of COBAHH's h had
        # 10 exp() calls of 7 different arguments, instead of 3 of 2).
        A = f.diff(xs)
        if A.has(xs):
            A = sympy.simplify(A)
        if A.has(xs):
            A, B = _conditionally_linear(x, f)
        else:
            B = f.subs(xs, 0)
            if B.has(xs) or B.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                B = sympy.simplify(sympy.expand(f) - A * xs)  # x = 0 is a singular point of f
            if B.has(xs):
                A, B = _conditionally_linear(x, f)
        if A == 0:
            updates.append((f"_{x}_new", xs + DT * B))
        else:
            A_name, B_name = f"_A_{x}", f"_BA_{x}"
            updates.append((A_name, A))
            updates.append((B_name, B / symbol(A_name)))
            updates.append(
                (
                    f"_{x}_new",
                    -symbol(B_name) + (xs + symbol(B_name)) * sympy.exp(symbol(A_name) * DT),
                )
            )
    return updates + _final_assignments(variables)


# ---------------------------------------------------------------------------------------------
# exact integration of linear systems
# ---------------------------------------------------------------------------------------------


def _linear_system(variables, derivatives):
    """(A, b) with f = A x + b; IntegrationError unless linear with constant coefficients."""
    xs = [symbol(x) for x in variables]
    rows, offsets = [], []
    for x, f in zip(variables, derivatives):
        if random_calls(f):
            raise IntegrationError(f"d{x}/dt draws random numbers; it has no exact solution")
        if f.has(T):
            raise IntegrationError(f"d{x}/dt depends on time t; the exact method needs it not to")
        expanded = sympy.expand(f)
        row = []
        for variable in xs:
            coefficient = expanded.diff(variable)
            if coefficient.free_symbols & set(xs):
                raise IntegrationError(
                    f"d{x}/dt is not linear in the state variables (it contains "
                    f"{variable} in a nonlinear term)"
                )
            row.append(coefficient)
        rest = sympy.expand(expanded - sum(c * v for c, v in zip(row, xs)))
        if rest.free_symbols & set(xs):
            raise IntegrationError(f"d{x}/dt is not linear in the state variables")
        if any(not _is_plain_arithmetic(c) for c in row):
            raise IntegrationError(f"d{x}/dt has coefficients the exact method cannot handle")
        rows.append(row)
        offsets.append(rest)
    return sympy.Matrix(rows), sympy.Matrix(offsets)


def _check_fixed_point(variables, derivatives) -> None:
    """Raise unless the linear system ``dx/dt = A x + b`` has an invertible ``A``.

    Brian2's exact method solves for the fixed point ``-A^-1 b``, and fails without one (a pure
    integrator such as ``dv/dt = I/C``, or any singular ``A``); its automatic choice then takes
    the next method, ``euler``.  spikeforge's exact method needs no fixed point, but when it is
    chosen among others (no ``method=``, or a list) it follows Brian2's rule, so that a script
    integrates as it does under Brian2.  Given alone (``method='exact'``), it solves such
    systems too."""
    try:
        matrix, _ = _linear_system(variables, derivatives)
    except IntegrationError:
        return  # not linear: the exact method says why
    if sympy.simplify(matrix.det()) == 0:
        raise IntegrationError(
            "the linear system has no single fixed point (its matrix is singular: a variable "
            "that only integrates, such as dv/dt = I/C), so, as in Brian2, the exact method is "
            "chosen only when asked for alone (method='exact')"
        )


def _is_plain_arithmetic(expr) -> bool:
    return all(
        not isinstance(node, sympy.Function) or isinstance(node, sympy.exp)
        for node in sympy.preorder_traversal(expr)
    )


def _exact(variables, derivatives) -> Updates:
    A, b = _linear_system(variables, derivatives)
    n = len(variables)
    if n == 1:
        a, c = A[0, 0], b[0]
        x = symbol(variables[0])
        if a == 0:
            new = x + c * DT
        else:
            decay = sympy.exp(a * DT)
            new = x * decay + (c / a) * (decay - 1)
        return [(f"_{variables[0]}_new", new)] + _final_assignments(variables)
    # Augmented system d/dt [x; 1] = [[A, b], [0, 0]] [x; 1]: one matrix exponential gives the
    # homogeneous and the particular part, also when A is singular.
    augmented = sympy.zeros(n + 1, n + 1)
    augmented[:n, :n] = A
    augmented[:n, n] = b
    try:
        propagator = (augmented * DT).exp()
    except Exception as error:  # sympy raises several types for non-diagonalisable cases
        raise IntegrationError(
            f"sympy could not solve the linear system exactly ({error})"
        ) from None
    state = sympy.Matrix([symbol(x) for x in variables] + [1])
    solution = propagator * state
    updates = []
    for k, x in enumerate(variables):
        value = sympy.simplify(solution[k])
        if value.has(sympy.I):
            value = sympy.simplify(sympy.re(sympy.expand_complex(value)))
        if value.has(sympy.I) or value.has(sympy.Piecewise):
            raise IntegrationError("the exact solution is not real-valued in closed form")
        updates.append((f"_{x}_new", value))
    return updates + _final_assignments(variables)


# ---------------------------------------------------------------------------------------------
# stochastic differential equations: dx = f dt + sum_k g_k dW_k, with xi_k = dW_k/dt
# ---------------------------------------------------------------------------------------------

#: Methods tried for stochastic equations when ``method`` is not given (Brian2's choice:
#: Euler-Maruyama for additive noise, Heun's method for multiplicative noise).
STOCHASTIC_AUTOMATIC_ORDER = ("euler", "heun")
STOCHASTIC_METHODS = ("euler", "heun", "milstein")


def noise_symbols(derivatives) -> list[sympy.Symbol]:
    """The noise terms (``xi``, ``xi_1``...) the equations use, sorted by name."""
    found = set()
    for f in derivatives:
        found |= {s for s in f.free_symbols if s.name == "xi" or s.name.startswith("xi_")}
    return sorted(found, key=lambda s: s.name)


def _split_noise(variables, derivatives, noises):
    """Drift f and diffusion {xi: g} of each equation; the noise must enter linearly."""
    drifts, diffusions = [], []
    zero = {xi: 0 for xi in noises}
    for x, f in zip(variables, derivatives):
        terms = {}
        for xi in noises:
            g = sympy.expand(f).diff(xi)
            if g.free_symbols & set(noises):
                raise IntegrationError(f"d{x}/dt must depend linearly on the noise {xi}")
            if g != 0:
                terms[xi] = g
        drifts.append(f.xreplace(zero))
        diffusions.append(terms)
    return drifts, diffusions


def _increments(noises) -> tuple[Updates, dict]:
    """One Wiener increment per noise term, drawn once per element and step."""
    updates, increments = [], {}
    for xi in noises:
        name = f"_dW_{xi.name}"
        updates.append((name, sympy.sqrt(DT) * parse_expression("randn()")))
        increments[xi] = symbol(name)
    return updates, increments


def _stochastic_euler(variables, drifts, diffusions, noises) -> Updates:
    states = {symbol(x) for x in variables}
    for x, terms in zip(variables, diffusions):
        for g in terms.values():
            if g.free_symbols & states:
                raise IntegrationError(
                    f"euler integrates only additive noise, but the noise of d{x}/dt depends on "
                    "the state (use heun or milstein)"
                )
    updates, dW = _increments(noises)
    for x, f, terms in zip(variables, drifts, diffusions):
        noise = sum((g * dW[xi] for xi, g in terms.items()), sympy.Integer(0))
        updates.append((f"_{x}_new", symbol(x) + DT * f + noise))
    return updates + _final_assignments(variables)


def _stochastic_heun(variables, drifts, diffusions, noises) -> Updates:
    updates, dW = _increments(noises)
    support = {}
    for x, f, terms in zip(variables, drifts, diffusions):
        noise = sum((g * dW[xi] for xi, g in terms.items()), sympy.Integer(0))
        updates.append((f"_{x}_support", symbol(x) + DT * f + noise))
        support[symbol(x)] = symbol(f"_{x}_support")
    at_support = {**support, T: T + DT}
    for x, f, terms in zip(variables, drifts, diffusions):
        noise = sum(
            ((g + g.xreplace(at_support)) * dW[xi] for xi, g in terms.items()), sympy.Integer(0)
        )
        updates.append((f"_{x}_new", symbol(x) + DT / 2 * (f + f.xreplace(at_support)) + noise / 2))
    return updates + _final_assignments(variables)


def _stochastic_milstein(variables, drifts, diffusions, noises) -> Updates:
    # derivative-free Milstein scheme (Kloeden & Platen), one noise term per equation
    for x, terms in zip(variables, diffusions):
        if len(terms) > 1:
            raise IntegrationError(f"milstein handles one noise term per equation (d{x}/dt)")
    updates, dW = _increments(noises)
    support = {}
    for x, f, terms in zip(variables, drifts, diffusions):
        g = next(iter(terms.values()), sympy.Integer(0))
        updates.append((f"_{x}_support", symbol(x) + DT * f + sympy.sqrt(DT) * g))
        support[symbol(x)] = symbol(f"_{x}_support")
    for x, f, terms in zip(variables, drifts, diffusions):
        if not terms:
            updates.append((f"_{x}_new", symbol(x) + DT * f))
            continue
        ((xi, g),) = terms.items()
        correction = (g.xreplace(support) - g) * (dW[xi] ** 2 - DT) / (2 * sympy.sqrt(DT))
        updates.append((f"_{x}_new", symbol(x) + DT * f + g * dW[xi] + correction))
    return updates + _final_assignments(variables)


_STOCHASTIC_IMPLEMENTATIONS = {
    "euler": _stochastic_euler,
    "heun": _stochastic_heun,
    "milstein": _stochastic_milstein,
}


_IMPLEMENTATIONS = {
    "exact": _exact,
    "linear": _exact,
    "euler": _euler,
    "rk2": _rk2,
    "rk4": _rk4,
    "exponential_euler": _exponential_euler,
}


# ---------------------------------------------------------------------------------------------
# entry point with a disk cache
# ---------------------------------------------------------------------------------------------


def _symbolic_cache_file(key: str):
    return cache_directory() / "symbolic" / f"{key}.pickle"


def _exact_with_inputs(constant_calls: frozenset[str]):
    """The exact method with calls of ``constant_calls`` (inputs constant over a step, such as
    a TimedArray on a multiple of the step) treated as constants, as Brian2 does."""

    def exact(variables, derivatives):
        calls = sorted(
            {
                c
                for f in derivatives
                for c in f.atoms(AppliedUndef)
                if c.func.__name__ in constant_calls
            },
            key=sympy.srepr,
        )
        placeholders = {call: symbol(f"_constant_input_{k}") for k, call in enumerate(calls)}
        back = {value: key for key, value in placeholders.items()}
        replaced = [f.xreplace(placeholders) for f in derivatives]
        return [(target, expr.xreplace(back)) for target, expr in _exact(variables, replaced)]

    return exact


#: The ``method_options`` each method accepts (Brian2's: only its linear integrator has one).
#: ``simplify`` is accepted and has no effect: the exact solution is always simplified.
METHOD_OPTIONS = {"exact": {"simplify"}, "linear": {"simplify"}}
#: Options of Brian2's GSL integrators, named in the error for them.
_GSL_OPTIONS = {
    "adaptable_timestep",
    "absolute_error",
    "absolute_error_per_variable",
    "max_steps",
    "use_last_timestep",
    "save_failed_steps",
    "save_step_count",
}


def check_method_options(method, options) -> dict:
    """Check Brian2's ``method_options=`` against the ``method`` (a name, a sequence of names or
    None for automatic): returns the options; raises :class:`IntegrationError` for an option
    no method of the choice takes."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise IntegrationError(f"method_options must be a dict, got {options!r}")
    candidates: tuple[str, ...]
    if isinstance(method, str) and method.startswith("gsl") or set(options) & _GSL_OPTIONS:
        raise IntegrationError(
            "method_options for Brian2's GSL integrators (variable time steps) are not "
            f"supported: spikeforge has no GSL methods (options: {sorted(options)})"
        )
    if method is None:
        candidates = AUTOMATIC_ORDER
    else:
        candidates = _method_names(method)
    accepted = set().union(*(METHOD_OPTIONS.get(c, set()) for c in candidates))
    for name in options:
        if name not in accepted:
            takes = ", ".join(sorted(accepted)) if accepted else "no options"
            raise IntegrationError(
                f"method_options gives {name!r}, which is not an option of "
                f"{'/'.join(candidates)} (it takes {takes})"
            )
    return dict(options)


def _candidates(derivatives, method) -> tuple[dict, tuple[str, ...], list]:
    """The implementations, the methods to try in order, and the noise symbols."""
    noises = noise_symbols(derivatives)
    implementations: dict = (
        _STOCHASTIC_IMPLEMENTATIONS if noises else {**_IMPLEMENTATIONS, **_CUSTOM_METHODS}
    )
    candidates: tuple[str, ...]
    if method is None:
        candidates = STOCHASTIC_AUTOMATIC_ORDER if noises else AUTOMATIC_ORDER
    else:
        candidates = _method_names(method)
    for candidate in candidates:
        if (
            candidate not in _IMPLEMENTATIONS
            and candidate not in _STOCHASTIC_IMPLEMENTATIONS
            and candidate not in _CUSTOM_METHODS
        ):
            known = ", ".join(METHODS + ("heun", "milstein", *_CUSTOM_METHODS))
            raise IntegrationError(f"unknown integration method {candidate!r} (known: {known})")
    if noises:
        unsupported = [c for c in candidates if c not in _STOCHASTIC_IMPLEMENTATIONS]
        if len(unsupported) == len(candidates):
            raise IntegrationError(
                f"{unsupported[0]} cannot integrate stochastic equations (with xi); use "
                f"{', '.join(STOCHASTIC_METHODS)}"
            )
        candidates = tuple(c for c in candidates if c in _STOCHASTIC_IMPLEMENTATIONS)
    return implementations, candidates, noises


def _cache_key(variables, derivatives, candidates, constant_calls) -> str:
    # a registered method by its description: a name may be registered anew in another script
    candidates = tuple(
        _CUSTOM_METHODS[name].name if name in _CUSTOM_METHODS else name for name in candidates
    )
    key_text = repr(
        (
            variables,
            [sympy.srepr(f) for f in derivatives],
            candidates,
            sorted(constant_calls),
            sympy.__version__,
            4,  # the form of the results: bumped when a method changes what it returns
        )
    )
    return hashlib.sha256(key_text.encode()).hexdigest()[:32]


#: Integrations started by prefetch(): cache key -> id of the process computing it.
_prefetched: dict[str, int] = {}


def prefetch(
    variables: list[str],
    derivatives: list[sympy.Expr],
    method,
    constant_calls: Iterable[str] = (),
) -> None:
    """Start ``integrate(...)`` with these arguments in a forked process, unless its result is
    already on disk.

    A group calls this when it is made, so that the symbolic work (about a second for a coupled
    linear system solved exactly) runs on another core while the script goes on: above all
    while this process translates and compiles its string assignments and ``connect()`` calls.
    The child writes the result to the symbolic disk cache and exits; ``integrate`` with the
    same arguments waits for it and reads the result, or computes it itself when the child
    wrote none (errors are thus raised in the caller).  A thread would not help: sympy and
    Cython's translator both hold the GIL.  Only where ``fork`` is safe: Linux, one thread.
    ``SPIKEFORGE_PREFETCH=0`` turns this off.
    """
    if (
        os.environ.get("SPIKEFORGE_PREFETCH", "1") == "0"
        or not sys.platform.startswith("linux")
        or threading.active_count() != 1
    ):
        return
    try:
        _, candidates, _ = _candidates(derivatives, method)
    except IntegrationError:
        return  # integrate() reports it
    key = _cache_key(variables, derivatives, candidates, constant_calls)
    if key in _prefetched or _symbolic_cache_file(key).exists():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: compute, write the cache file, leave without any clean-up
        status = 1
        try:
            _integrate(variables, derivatives, method, constant_calls, key)
            status = 0
        finally:
            os._exit(status)
    _prefetched[key] = pid


def _wait_for_prefetch(key: str) -> None:
    pid = _prefetched.pop(key, None)
    if pid is not None:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else: the file tells
            pass


def integrate(
    variables: list[str],
    derivatives: list[sympy.Expr],
    method: str | Iterable[str] | None,
    constant_calls: Iterable[str] = (),
) -> tuple[str, Updates]:
    """Integrate ``dx/dt = f`` for the given variables with ``method`` (or choose one).

    Returns the method used and the update statements.  Results are cached on disk by the
    equations and the method.  ``constant_calls`` names functions whose calls are constant over
    a time step (the exact method may then treat them as constants).
    """
    _, candidates, _ = _candidates(derivatives, method)
    key = _cache_key(variables, derivatives, candidates, constant_calls)
    _wait_for_prefetch(key)
    return _integrate(variables, derivatives, method, constant_calls, key)


def _integrate(variables, derivatives, method, constant_calls, key=None) -> tuple[str, Updates]:
    implementations, candidates, noises = _candidates(derivatives, method)
    if key is None:
        key = _cache_key(variables, derivatives, candidates, constant_calls)
    cache_file = _symbolic_cache_file(key)
    try:
        with open(cache_file, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    errors = []
    for candidate in candidates:
        try:
            if len(candidates) > 1 and candidate in ("exact", "linear") and not noises:
                _check_fixed_point(variables, derivatives)
            if noises:
                drifts, diffusions = _split_noise(variables, derivatives, noises)
                updates = implementations[candidate](variables, drifts, diffusions, noises)
            elif candidate not in implementations:
                # heun and milstein integrate equations without noise too (Brian2): the
                # trapezoidal rule, and forward Euler
                no_noise: list[dict] = [{} for _ in variables]
                stochastic = _STOCHASTIC_IMPLEMENTATIONS[candidate]
                updates = stochastic(variables, list(derivatives), no_noise, [])
            elif candidate in ("exact", "linear") and constant_calls:
                updates = _exact_with_inputs(frozenset(constant_calls))(variables, derivatives)
            else:
                updates = implementations[candidate](variables, derivatives)
            result = candidate, updates
            break
        except IntegrationError as error:
            errors.append(f"{candidate}: {error.problem}")
    else:
        raise IntegrationError(
            "no integration method fits these equations: " + "; ".join(errors)
            if len(candidates) > 1
            else errors[0]
        )
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            pickle.dump(result, handle)
        os.replace(temporary, cache_file)
    except OSError:
        pass  # the cache is an optimisation
    return result

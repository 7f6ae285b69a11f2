"""Render roles into one Cython module with Jinja2 (templates in ``spikeforge/templates``)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from functools import cache
from pathlib import Path

import jinja2

from spikeforge.codegen.cache import FAST_MATH_MARKER, OPENMP_MARKER
from spikeforge.codegen.expressions import FUNCTION_DECLARATIONS
from spikeforge.codegen.translate import ModuleArguments, TranslatedRole

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

#: Templates that draw random numbers themselves, whatever their role's code.
TEMPLATES_DRAWING_RANDOM_NUMBERS = frozenset({"poissoninput.pyx.j2"})


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment for all templates (undefined names are errors)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


#: What the printed code of a random number starts with (``spikeforge_rand(&_rng_stream)``...).
RANDOM_CALL = "spikeforge_rand"


def code_draws_random_numbers(code: TranslatedRole) -> bool:
    """Whether translated code draws random numbers."""
    lines = code.scalar_lines + code.load_lines + code.vector_lines + code.store_lines
    return any(RANDOM_CALL in line for line in lines + [code.condition or ""])


@dataclass
class Role:
    """One scheduled piece of work of one object: a function in the generated module.

    ``template`` is the role's template (``stateupdate.pyx.j2``...), ``code`` the translated
    statements, ``extra`` whatever else the template needs (static names of spike buffers...).
    ``when``/``order`` place it in the schedule.
    """

    name: str
    template: str
    description: str
    code: TranslatedRole
    when: str = "groups"
    order: int = 0
    extra: dict = field(default_factory=dict)
    rendered: str = ""
    #: Lines run at the start of each element's iteration, before its variables are loaded
    #: (synapses load the indices of their pre- and postsynaptic neurons here).
    index_lines: list[str] = field(default_factory=list)
    #: The clock the role runs on (None: its object's clock), and, set by the network: the
    #: module argument holding how many base steps make one tick of it ("" when it ticks at
    #: every step) and the one holding its dt.
    clock: Any = None
    every: str = ""
    clock_dt: str = "dt"
    #: For a network operation: the Python function to call (it has no generated code) and
    #: how many base steps apart its calls are.
    operation: Callable[[float], object] | None = None
    operation_every: int = 1
    #: The role's part of the counter of its random numbers, when not the hash of its name
    #: (one-off modules number their roles: each call has an epoch of its own anyway).
    stream: int | None = None

    @property
    def draws_random_numbers(self) -> bool:
        """Whether the role's code draws random numbers (its template then starts a random
        stream for each element: ``random_numbers.h``)."""
        if (
            self.template in TEMPLATES_DRAWING_RANDOM_NUMBERS
            or self.extra.get("kind") == "sampled"
            or self.extra.get("sample_size")  # connect(j='k for k in sample(..., size=n)')
        ):
            return True
        codes = [self.code] + [v for v in self.extra.values() if isinstance(v, TranslatedRole)]
        return any(RANDOM_CALL in line for line in self.index_lines) or any(
            code_draws_random_numbers(code) for code in codes
        )

    @property
    def parallel_minimum(self) -> int:
        """The fewest elements for which a threaded module shares this role's loop among threads.

        Starting the threads of a loop costs a few microseconds, which an element loop of
        simple arithmetic only repays from about 16,000 elements (measured with CUBA: at 4,000
        neurons, two threads were slower than one).  Each call of a mathematical function or a
        random number in an element's code makes its element dearer, and the minimum smaller
        (COBAHH's ten ``exp()`` per neuron: a few hundred neurons).
        """
        lines = self.code.load_lines + self.code.vector_lines + [self.code.condition or ""]
        expensive = sum(
            line.count(name)
            for line in lines
            for name in ("exp", "log", "sqrt(", "pow(", "sin(", "cos(", "tan", "spikeforge_rand")
        )
        if self.template == "poissoninput.pyx.j2":
            expensive += 4  # a binomial draw
        return max(256, PARALLEL_ELEMENTS // (1 + 4 * expensive))

    @property
    def random_id(self) -> int:
        """The role's part of the counter of its random numbers: a hash of its name (names are
        positional, ``ng0_stateupdater``...: the same network structure gives the same ids)."""
        if self.stream is not None:
            return self.stream
        return int.from_bytes(hashlib.blake2b(self.name.encode(), digest_size=8).digest(), "little")

    def __getattr__(self, item):  # templates read extra values as role.<name>
        extra = self.__dict__.get("extra", {})
        if item in extra:
            return extra[item]
        raise AttributeError(item)


@dataclass(frozen=True)
class TemplateContract:
    """What a role template says it uses, in its first line::

        {#- contract: extra = size, spikes; code = _accept -#}

    ``extra``: the names it reads from ``Role.extra`` (exactly these must be given);
    ``code``: the local names the role's translated statements must assign (the template reads
    them, as ``_accept`` in ``synapses_create.pyx.j2``).
    """

    extra: frozenset[str]
    code: frozenset[str]


_CONTRACT_LINE = re.compile(r"\{#-?\s*contract:(?P<body>.*?)-?#\}", re.S)


@cache
def template_contract(name: str) -> TemplateContract | None:
    """The contract of the template ``name`` (None for templates without one)."""
    loader = environment().loader
    assert loader is not None
    source = loader.get_source(environment(), name)[0]
    match = _CONTRACT_LINE.match(source)
    if match is None:
        return None
    fields: dict[str, frozenset[str]] = {"extra": frozenset(), "code": frozenset()}
    for part in match.group("body").split(";"):
        key, _, names = part.partition("=")
        if key.strip() not in fields:
            raise ValueError(f"template {name}: unknown contract field {key.strip()!r}")
        fields[key.strip()] = frozenset(n.strip() for n in names.split(",") if n.strip())
    return TemplateContract(**fields)


def check_contract(role: Role) -> None:
    """Raise if ``role`` does not give its template what the template's contract says it uses
    (an internal error: the code that builds roles and the templates disagree)."""
    contract = template_contract(role.template)
    if contract is None:
        return
    given = set(role.extra)
    missing, unexpected = contract.extra - given, given - contract.extra
    if missing or unexpected:
        raise RuntimeError(
            f"internal error: the role {role.name} ({role.template}) lacks {sorted(missing)} "
            f"and gives {sorted(unexpected)} that the template does not declare"
        )
    assigned = {
        line.split("=", 1)[0].strip() for line in role.code.scalar_lines + role.code.vector_lines
    }
    if not contract.code <= assigned:
        raise RuntimeError(
            f"internal error: the code of role {role.name} does not assign "
            f"{sorted(contract.code - assigned)}, which {role.template} reads"
        )


#: The most threads a threaded module uses.
MAX_THREADS = 256

#: The fewest elements of simple arithmetic for which a loop is shared among threads (see
#: :attr:`Role.parallel_minimum`).
PARALLEL_ELEMENTS = 16384


def render_role(role: Role, parallel: bool = False) -> str:
    """Render one role's function (after checking it against its template's contract); with
    ``parallel``, its element loops are shared among threads (OpenMP)."""
    check_contract(role)
    template = environment().get_template(role.template)
    return template.render(role=role, parallel=parallel).strip("\n")


def render_module(
    description: str,
    roles: list[Role],
    arguments: ModuleArguments,
    support_code: list[str] | tuple[str, ...] = (),
    parallel: bool = False,
    fast_math: bool = False,
) -> str:
    """Render the module that runs ``roles`` in this order at every time step.

    ``support_code`` holds module-level Cython blocks the roles need (user functions, lookup
    tables), placed after the module's state and before the role functions.  A ``parallel``
    module shares its element loops among the threads ``run_steps`` is given (compiled with
    OpenMP); it gives the same results as the serial one, for any number of threads.  A
    ``fast_math`` module calls vector versions of exp, log... (``functions.h``).
    """
    for role in roles:
        role.rendered = render_role(role, parallel)
    template = environment().get_template("network.pyx.j2")
    return template.render(
        description=description,
        roles=roles,
        arguments=arguments,
        support_code=support_code,
        function_declarations=FUNCTION_DECLARATIONS,
        parallel=parallel,
        max_threads=MAX_THREADS,
        openmp_marker=OPENMP_MARKER,
        fast_math_marker=FAST_MATH_MARKER if fast_math else "",
    )

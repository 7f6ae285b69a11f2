"""Render roles into one Cython module with Jinja2 (templates in ``spikeforge/templates``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2

from spikeforge.codegen.translate import ModuleArguments, TranslatedRole

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment for all templates (undefined names are errors)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


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
    clock: object = None
    every: str = ""
    clock_dt: str = "dt"
    #: For a network operation: the Python function to call (it has no generated code) and
    #: how many base steps apart its calls are.
    operation: object = None
    operation_every: int = 1

    def __getattr__(self, item):  # templates read extra values as role.<name>
        extra = self.__dict__.get("extra", {})
        if item in extra:
            return extra[item]
        raise AttributeError(item)


def render_role(role: Role) -> str:
    """Render one role's function."""
    return environment().get_template(role.template).render(role=role).strip("\n")


def render_module(
    description: str,
    roles: list[Role],
    arguments: ModuleArguments,
    support_code: list[str] | tuple[str, ...] = (),
) -> str:
    """Render the module that runs ``roles`` in this order at every time step.

    ``support_code`` holds module-level Cython blocks the roles need (user functions, lookup
    tables), placed after the module's state and before the role functions.
    """
    for role in roles:
        role.rendered = render_role(role)
    template = environment().get_template("network.pyx.j2")
    return template.render(
        description=description, roles=roles, arguments=arguments, support_code=support_code
    )

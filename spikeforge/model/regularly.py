"""``run_regularly``: statements run for every element of a group at each tick of a clock.

``G.run_regularly('v = v_rest', dt=10*ms)`` makes a :class:`RunRegularly` object that belongs
to the group (it runs with it, in its networks).  Its role loops over the elements like a state
update (it is rendered by ``stateupdate.pyx.j2``, whose loop is "the statements for each
element"), in its own slot of the schedule and on its own clock: on a clock slower than the
network's, the device calls it only every ``n``-th step, ``n`` being a module argument, so another
``dt`` compiles nothing new.
"""

from __future__ import annotations

from spikeforge.codegen.expressions import ExpressionError, parse_statements
from spikeforge.codegen.render import Role
from spikeforge.codegen.translate import translate
from spikeforge.pipeline import BuildContext
from spikeforge.model.base import SpikeforgeObject, choose_clock


class RunRegularly(SpikeforgeObject):
    """Statements run for all elements of ``group`` at every tick of its clock.

    Made by ``group.run_regularly(code, dt=None, clock=None, when='start', order=0,
    name=None)``.  The statements follow the rules of a reset: they may write the group's
    variables (synapses: also ``x_pre``/``x_post``) and define temporaries.  It has no state of
    its own besides its clock; ``active = False`` leaves it out of runs.
    """

    code_kind = "regularly"

    def __init__(self, group, code, dt=None, clock=None, when="start", order=0, name=None):
        kind = type(group).__name__
        super().__init__(name or f"{group.name}_run_regularly*", when, order)
        self.group = group
        owner = f"{kind} {group.name!r}, run_regularly {self.name!r}"
        self._owner = owner
        self.clock = choose_clock(dt, clock, f"run_regularly {self.name!r}")
        if clock is None and dt is None:
            self.clock = group.clock
        text = getattr(code, "code", code)
        if not isinstance(text, str):
            raise TypeError(f"{owner}: run_regularly needs statements as a string, got {code!r}")
        self.code = text
        try:
            self.statements = parse_statements(text)
        except ExpressionError as error:
            raise error.with_context(owner) from None
        group._check_code(self.statements, f"run_regularly {self.name!r}")

    def roles(self, context: BuildContext) -> list[Role]:
        group = self.group
        namespace = group.namespace if group.namespace is not None else context.namespace
        where = f"run_regularly {self.name!r}"
        scope = group._scope(context, namespace)  # a subgroup gives its own
        checked = group._checked_statements(self.statements, scope, where)
        try:
            code = translate(checked, scope)
        except ExpressionError as error:
            raise error.with_context(self._owner) from None
        return [
            Role(
                f"{context.prefix(self)}_code",
                "stateupdate.pyx.j2",
                "run_regularly statements for every element",
                code,
                self.when,
                self.order,
                {"size": scope.size_static()},
                index_lines=group._index_lines(context, code),
            )
        ]

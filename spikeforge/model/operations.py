"""``network_operation``: Python code run at chosen steps of a simulation.

The native loop returns to Python only on the steps where an operation is due: between those
steps the whole network runs in compiled code.  Within a step, an operation runs at its place in
the schedule (``when``, ``order``), so with ``when='start'`` it sees the state before the step's
updates and with ``when='end'`` after them.
"""

from __future__ import annotations

import inspect

from spikeforge.codegen.render import Role
from spikeforge.codegen.translate import TranslatedRole
from spikeforge.pipeline import BuildContext
from spikeforge.model.base import SpikeforgeObject, choose_clock
from spikeforge.units import Quantity, second


class NetworkOperation(SpikeforgeObject):
    """Calls ``function()`` or ``function(t)`` at every tick of its clock.

    Usually made with the :func:`network_operation` decorator.
    """

    code_kind = "netop"

    def __init__(
        self, function, dt=None, clock=None, when="start", order=0, name="networkoperation*"
    ):
        if not callable(function):
            raise TypeError(f"network_operation needs a function, got {function!r}")
        super().__init__(name, when, order)
        self.clock = choose_clock(dt, clock, f"network_operation {self.name!r}")
        self.function = function
        parameters = [
            p
            for p in inspect.signature(function).parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(parameters) > 1:
            raise TypeError(
                f"network_operation {self.name!r}: the function must take no argument or one "
                f"(the time t), it takes {len(parameters)}"
            )
        self._takes_time = len(parameters) == 1

    def __call__(self, time_: float) -> None:
        if self._takes_time:
            self.function(Quantity(time_, dim=second.dim))
        else:
            self.function()

    def roles(self, context: BuildContext) -> list[Role]:
        empty = TranslatedRole([], [], [], [], [], [])
        role = Role(
            f"{context.prefix(self)}_call", "", "network operation", empty, self.when, self.order
        )
        role.operation = self
        return [role]


def network_operation(*args, dt=None, clock=None, when="start", order=0, name="networkoperation*"):
    """Decorator: run the decorated function during simulations (Brian2's ``network_operation``).

    ``@network_operation`` or ``@network_operation(dt=1*ms, when='end')``; the function takes no
    argument or the current time ``t``.
    """
    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], Quantity):
        return NetworkOperation(args[0], dt=dt, clock=clock, when=when, order=order, name=name)
    if args:
        raise TypeError(
            "network_operation takes keyword arguments only (dt=, clock=, when=, order=)"
        )

    def decorate(function):
        return NetworkOperation(function, dt=dt, clock=clock, when=when, order=order, name=name)

    return decorate

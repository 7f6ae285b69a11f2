"""Multicompartment neurons (Brian2's ``SpatialNeuron``): the cable equation on a morphology.

The model gives the transmembrane current per area, ``Im`` (positive into the cell), and may add
point currents in amp (``I : amp (point current)``), which enter ``Im`` divided by the
compartment's area.  The membrane potential ``v`` of each compartment then follows

    Cm dv/dt = Im + (axial currents from the neighbouring compartments) / area

Each step first updates the other state variables (the channels' gates...) with ``v`` held, as
a ``NeuronGroup`` would, then ``v`` with one backward (implicit) Euler step of the whole cable,
``Im`` linearised around the present state: ``Im = I0 - gtot * v``, where ``gtot = -dIm/dv``
and ``I0`` are found symbolically from the equations.  The implicit step is stable for any
``dt`` and compartment size; it is the scheme of Brian2 (Hines 1984; Brian2's documentation on
multicompartment models), so results agree with Brian2's to rounding.

The linear system is a tree: compartments, plus one node without capacitance at every branch
point.  It is solved in the generated module by Gaussian elimination from the leaves to the root
and substitution back (O(compartments) per step, no Python between steps).  The tree's shape and
conductances are module arguments: another morphology of any size compiles nothing.
"""

from __future__ import annotations

import copy

import numpy as np
import sympy

from spikeforge.codegen.equations import (
    SUBEXPRESSION,
    EquationError,
    Equations,
    SingleEquation,
)
from spikeforge.codegen.expressions import ExpressionError
from spikeforge.codegen.render import Role
from spikeforge.pipeline import BuildContext
from spikeforge.model.groups import NeuronGroup
from spikeforge.model.morphology import SHORTHAND, FlatMorphology, Morphology
from spikeforge.model.subgroups import Subgroup
from spikeforge.model.variables import GroupScope, state_key
from spikeforge.units import Quantity, get_dimensions, have_same_dimensions, meter
from spikeforge.units import amp, farad, ohm, siemens, uF, cm

_CURRENT_DENSITY = get_dimensions(amp / meter**2)
_AMP = get_dimensions(amp)

#: Variables a SpatialNeuron defines for every compartment (the geometry comes from the
#: morphology; ``Cm`` and ``Ri`` from the arguments).
_SPATIAL_VARIABLES = """
v : volt
length : meter (constant)
distance : meter (constant)
area : meter**2 (constant)
volume : meter**3 (constant)
diameter : meter (constant)
r_length_1 : meter (constant)
r_length_2 : meter (constant)
Cm : farad/meter**2 (constant)
Ri : ohm*meter (constant, shared)
Ic : amp/meter**2
time_constant = Cm/gtot__private : second
space_constant = ((2/pi)**(1.0/3.0) * (area/(1/r_length_1 + 1/r_length_2))**(1.0/6.0)
                  / (2*(Ri*gtot__private)**(1.0/2.0))) : meter
"""

_COORDINATES = """
x : meter (constant)
y : meter (constant)
z : meter (constant)
"""


def _membrane_equations(model: Equations, owner: str) -> tuple[Equations, sympy.Expr]:
    """The user's equations with point currents folded into ``Im``, and ``Im`` itself."""
    if "Im" not in model:
        raise EquationError(
            "a SpatialNeuron's model must define the transmembrane current per area, e.g. "
            "'Im = gL*(EL - v) : amp/meter**2'",
            context=owner,
        )
    membrane = model["Im"]
    if membrane.kind != SUBEXPRESSION:
        raise EquationError(
            "Im must be a subexpression: 'Im = ... : amp/meter**2'", membrane.text, owner
        )
    if membrane.flags:
        raise EquationError("Im takes no flags", membrane.text, owner)
    if membrane.dimension is not _CURRENT_DENSITY:
        raise EquationError(
            "Im is a current per area: its unit is amp/meter**2", membrane.text, owner
        )
    for reserved in ("v", "gtot__private", "I0__private"):
        if reserved in model:
            raise EquationError(
                f"{reserved!r} is defined by the SpatialNeuron (the membrane potential of each "
                "compartment)"
                if reserved == "v"
                else f"{reserved!r} is a name the SpatialNeuron uses itself",
                model[reserved].text,
                owner,
            )
    expression = membrane.expression
    equations: dict[str, SingleEquation] = {}
    area = sympy.Symbol("area", real=True)
    for equation in model:
        if equation.name == "Im":
            continue
        if "point current" in equation.flags:
            if equation.dimension is not _AMP:
                raise EquationError(
                    "a point current is a current in amp (not per area)", equation.text, owner
                )
            expression = expression + sympy.Symbol(equation.name, real=True) / area
            equation = SingleEquation(
                equation.kind,
                equation.name,
                equation.expression,
                equation.dimension,
                equation.var_type,
                equation.flags - {"point current"},
                equation.text,
                equation.expression_text,
            )
        equations[equation.name] = equation
    text = f"Im = {expression} : amp/meter**2"
    equations["Im"] = SingleEquation(
        SUBEXPRESSION,
        "Im",
        expression,
        _CURRENT_DENSITY,
        "float",
        frozenset(),
        text,
        str(expression),
    )
    joined = Equations()
    joined.equations = equations
    return joined, expression


def _linearised(equations: Equations, membrane: sympy.Expr, owner: str):
    """``(gtot, I0)`` with ``Im = I0 - gtot*v``, the subexpressions of ``Im`` substituted."""
    v = sympy.Symbol("v", real=True)
    full = equations.substituted(membrane)
    derivative = sympy.diff(full, v)
    if derivative.atoms(sympy.Derivative):
        raise EquationError(f"cannot differentiate Im = {full} with respect to v", context=owner)
    gtot = sympy.simplify(-derivative)
    i0 = sympy.simplify(full - derivative * v)
    return gtot, i0


class SpatialNeuron(NeuronGroup):
    """A neuron with a morphology: one compartment per element (Brian2's ``SpatialNeuron``).

    Parameters
    ----------
    morphology
        The tree of sections (:class:`~spikeforge.model.morphology.Soma`,
        :class:`~spikeforge.model.morphology.Cylinder`, ...).  The neuron keeps a copy.
    model
        Equations defining ``Im``, the transmembrane current per area (``amp/meter**2``), and
        any channels; ``(point current)`` marks currents in amp injected at compartments.
        ``v`` is defined by the neuron.
    Cm
        Specific membrane capacitance (``farad/meter**2``; one value, or one per compartment).
    Ri
        Intracellular resistivity (``ohm*meter``), shared by all compartments.
    threshold, threshold_location, refractory, reset, events
        As for :class:`NeuronGroup`, per compartment; ``threshold_location`` (a compartment
        index, or ``morpho.axon[30*um]``) restricts the threshold to one compartment.
    method
        The integration method of the state variables other than ``v`` (``v`` always takes an
        implicit step); by default the first of exact, exponential Euler, RK2 and Heun that
        applies, as in Brian2.

    Compartments are grouped like the morphology: ``neuron.axon`` (a subtree),
    ``neuron.main`` (the root section only), ``neuron[10*um:50*um]`` and
    ``neuron.axon[10*um]`` (by distance along a section), ``neuron[5]`` (an index).
    """

    code_kind = "spatial"
    #: The cable solver is written for float64 state: float32 is refused, and
    #: ``prefs.core.default_float_dtype = float32`` leaves a SpatialNeuron in float64.
    _floats = (np.dtype(np.float64),)

    def __init__(
        self,
        morphology=None,
        model=None,
        threshold=None,
        refractory=False,
        reset=None,
        events=None,
        threshold_location=None,
        dt=None,
        clock=None,
        order=0,
        Cm=0.9 * uF / cm**2,
        Ri=150 * ohm * cm,
        name="spatialneuron*",
        dtype=None,
        namespace=None,
        method=("exact", "exponential_euler", "rk2", "heun"),
        method_options=None,
    ):
        owner = f"SpatialNeuron {name.rstrip('*')!r}"
        if not isinstance(morphology, Morphology):
            raise TypeError(
                f"{owner}: morphology must be a Soma, Section or Cylinder (a tree of them), "
                f"not {morphology!r}"
            )
        if model is None:
            raise TypeError(f"{owner}: the model equations (defining Im) are missing")
        try:
            parsed = model if isinstance(model, Equations) else Equations(model)
        except ExpressionError as error:
            raise error.with_context(owner) from None
        equations, membrane = _membrane_equations(parsed, owner)
        gtot, i0 = _linearised(equations, membrane, owner)
        extra = Equations(_SPATIAL_VARIABLES)
        flat = FlatMorphology(morphology)
        if flat.has_coordinates:
            extra = extra + Equations(_COORDINATES)
        for name_, value in (("gtot__private", gtot), ("I0__private", i0)):
            unit = "siemens/meter**2" if name_ == "gtot__private" else "amp/meter**2"
            extra.equations[name_] = SingleEquation(
                SUBEXPRESSION,
                name_,
                value,
                get_dimensions(siemens / meter**2 if name_ == "gtot__private" else amp / meter**2),
                "float",
                frozenset(),
                f"{name_} = {value} : {unit}",
                str(value),
            )
        try:
            all_equations = equations + extra
        except EquationError as error:
            raise error.with_context(owner) from None
        if threshold_location is not None:
            if threshold is None:
                raise TypeError(f"{owner}: threshold_location needs a threshold")
            location = (
                threshold_location._indices()
                if hasattr(threshold_location, "_indices")
                else threshold_location
            )
            try:
                location = int(location)
            except TypeError:
                raise TypeError(f"{owner}: threshold_location must be one compartment") from None
            threshold = f"({threshold}) and (i == {location})"
        object.__setattr__(self, "morphology", copy.deepcopy(morphology))
        object.__setattr__(self, "flat_morphology", flat)
        object.__setattr__(self, "user_equations", parsed)
        super().__init__(
            flat.n,
            all_equations,
            method=method,
            threshold=threshold,
            reset=reset,
            refractory=refractory,
            events=events,
            namespace=namespace,
            dtype=dtype,
            dt=dt,
            clock=clock,
            order=order,
            name=name,
            method_options=method_options,
        )
        for variable, values in (
            ("length", flat.length),
            ("distance", flat.distance),
            ("area", flat.area),
            ("volume", flat.volume),
            ("diameter", flat.diameter),
            ("r_length_1", flat.r_length_1),
            ("r_length_2", flat.r_length_2),
        ):
            self.variables[variable].array[:] = values
        if flat.has_coordinates:
            for axis, values in zip("xyz", flat.coordinates):
                self.variables[axis].array[:] = values
        self._set_physical("Cm", Cm, farad / meter**2, owner)
        self._set_physical("Ri", Ri, ohm * meter, owner)
        unknowns = len(flat.order)
        self._solver = {
            "order": flat.order.copy(),
            "parent": np.where(flat.parent < 0, 0, flat.order[np.maximum(flat.parent, 0)]).astype(
                np.int32
            ),
            "g": np.zeros(unknowns),
            "sumg": np.zeros(self.N + flat.n_nodes),
            "d": np.zeros(self.N + flat.n_nodes),
            "b": np.zeros(self.N + flat.n_nodes),
        }

    def _set_physical(self, name: str, value, unit, owner: str) -> None:
        if not isinstance(value, Quantity) or not have_same_dimensions(value, unit):
            raise TypeError(f"{owner}: {name} must be in units of {unit.dim}, not {value!r}")
        values = np.asarray(value, dtype=float)
        if np.any(~np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(f"{owner}: {name} must be positive and finite, not {value!r}")
        self.variables[name].array[:] = values

    # the cable step -------------------------------------------------------------------------------
    def _conductances(self) -> None:
        """The axial conductances for the present ``Ri`` (it may change between runs)."""
        ri = float(self.variables["Ri"].array[0])
        if not np.isfinite(ri) or ri <= 0:
            raise ValueError(f"SpatialNeuron {self.name!r}: Ri must be positive, not {ri} ohm m")
        solver = self._solver
        g = self.flat_morphology.conductances(ri)
        solver["g"][:] = g
        sumg = solver["sumg"]
        sumg[:] = 0
        order, parent = solver["order"], solver["parent"]
        np.add.at(sumg, order[1:], g[1:])
        np.add.at(sumg, parent[1:], g[1:])

    def roles(self, context: BuildContext) -> list[Role]:
        roles = super().roles(context)
        self._conductances()
        namespace = self.namespace if self.namespace is not None else context.namespace
        scope = GroupScope(self, context, namespace)
        statements = [
            ("_gtot", self.equations.substituted(sympy.Symbol("gtot__private", real=True))),
            ("_I0", self.equations.substituted(sympy.Symbol("I0__private", real=True))),
        ]
        code = self._translate(statements, scope, "membrane current")
        extra = {
            "size": scope.size_static(),
            "unknowns": context.scalar(
                self, "unknowns", lambda: len(self._solver["order"]), "int64_t"
            ),
        }
        for name in ("order", "parent", "g", "sumg", "d", "b"):
            extra[f"cable_{name}"] = context.array(self, f"cable_{name}", self._solver[name])
        for name in ("v", "Cm", "area", "Ic"):
            variable = self.variables[name]
            context.touched.add(state_key(self, name))
            extra[name.lower()] = context.array(
                self, name, lambda variable=variable: variable.array, variable.dtype
            )
        update = Role(
            f"{context.prefix(self)}_cable",
            "spatialstateupdate.pyx.j2",
            "cable equation (implicit Euler step of v on the tree)",
            code,
            "groups",
            1,  # after the state updates of order 0, as in Brian2
            extra,
        )
        return roles + [update]

    # compartments by morphology -----------------------------------------------------------------
    def __getattr__(self, name: str):
        return _spatial_attribute(self, name)

    def __getitem__(self, item):
        return _spatial_segment(self, item)


class SpatialSubgroup(Subgroup):
    """A subtree of a :class:`SpatialNeuron` (``neuron.axon``), or its root section
    (``neuron.main``): compartments ``start..stop-1`` of the neuron, with the morphology of
    that part."""

    def __init__(self, source, start: int, stop: int, morphology, name=None):
        object.__setattr__(self, "morphology", morphology)
        super().__init__(source, start, stop, name)

    def __getattr__(self, name: str):
        return _spatial_attribute(self, name)

    def __getitem__(self, item):
        return _spatial_segment(self, item)


def _neuron_of(group) -> SpatialNeuron:
    return group.source if isinstance(group, Subgroup) else group


def _spatial_attribute(group, name: str):
    if name.startswith("_") or "variables" not in group.__dict__:
        raise AttributeError(name)
    morphology = group.__dict__.get("morphology")
    if morphology is not None and name not in group.__dict__["variables"]:
        neuron = _neuron_of(group)
        if name == "main":
            start = morphology._start_index()
            return SpatialSubgroup(neuron, start, start + morphology.n, morphology)
        if name in morphology.children or (set(name) <= SHORTHAND and name):
            try:
                section = morphology[name]
            except (AttributeError, KeyError):
                raise AttributeError(
                    f"{type(group).__name__} {group.name!r} has no variable or subtree {name!r}"
                ) from None
            start = section._start_index()
            return SpatialSubgroup(neuron, start, start + section.total_compartments, section)
    return NeuronGroup.__getattr__(group, name)


def _spatial_segment(group, item):
    """``neuron[10*um:50*um]``, ``neuron.axon[10*um]``, ``neuron[morpho.axon[2:5]]``,
    ``neuron[3:7]``: a subgroup of the neuron."""
    neuron = _neuron_of(group)
    morphology = group.__dict__.get("morphology")
    if hasattr(item, "_indices"):
        indices = np.atleast_1d(item._indices())
    elif morphology is not None and (
        isinstance(item, Quantity)
        or (
            isinstance(item, slice)
            and any(isinstance(b, Quantity) for b in (item.start, item.stop))
        )
    ):
        indices = np.atleast_1d(morphology.indices[item])
    else:
        return NeuronGroup.__getitem__(group, item)  # indices relative to the group
    start, stop = int(indices[0]), int(indices[-1]) + 1
    if not (0 <= start < stop <= neuron.N):
        raise IndexError(
            f"SpatialNeuron {neuron.name!r}: compartments {start}..{stop - 1} do not exist"
        )
    return Subgroup(neuron, start, stop)

"""Physical dimensions, dimensioned quantities and named units.

Every value that carries a physical unit is a :class:`Quantity`: a numpy array
holding its magnitude in SI base units plus a :class:`Dimension` in ``.dim``.
Arithmetic and numpy functions check and propagate dimensions; a result that
turns out to be dimensionless is handed back as a plain ``float`` (0-d) or a
plain ``numpy.ndarray``, so ``(10*ms)/ms`` is simply ``10.0``.

Unit names follow Brian2's spelling (``mvolt``, ``nsiemens``, ``umetre2``, ...)
plus the usual short aliases (``mV``, ``nS``, ``um2``, ...). All of them are
module-level names and are collected in :data:`all_units`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import numbers
import operator
from fractions import Fraction

import numpy as np

# --------------------------------------------------------------------------- dimensions

_BASE_SYMBOLS = ("m", "kg", "s", "A", "K", "mol", "cd")
_BASE_NAMES = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")


def _normalize_exponent(e):
    """Return ``e`` as an int when integral, else as a float snapped to a simple fraction."""
    if isinstance(e, (bool, np.bool_)) or not isinstance(e, numbers.Real):
        raise TypeError(f"Dimension exponents must be real numbers, got {e!r}")
    if isinstance(e, numbers.Integral):
        return int(e)
    f = float(e)
    if not math.isfinite(f):
        raise ValueError(f"Dimension exponents must be finite, got {e!r}")
    frac = Fraction(f).limit_denominator(1000)
    if abs(float(frac) - f) < 1e-9:
        return int(frac) if frac.denominator == 1 else float(frac)
    return f


_DIMENSION_CACHE = {}  # exponent tuple -> the unique Dimension instance


class Dimension:
    """Immutable exponents of the seven SI base units (m, kg, s, A, K, mol, cd).

    Instances are cached: equal exponents always give the same object, so
    comparing dimensions is an identity check. Create them with
    :meth:`Dimension.get` (``Dimension(exponents)`` does the same).
    """

    __slots__ = ("_dims", "_hash")

    def __new__(cls, dims=(0, 0, 0, 0, 0, 0, 0)):
        return cls.get(dims)

    @classmethod
    def get(cls, dims):
        """Return the unique Dimension for a sequence of seven exponents."""
        try:
            return _DIMENSION_CACHE[dims]
        except (KeyError, TypeError):
            pass
        dims = tuple(dims)
        if len(dims) != 7:
            raise ValueError(f"A Dimension needs 7 exponents, got {len(dims)}")
        norm = tuple(_normalize_exponent(e) for e in dims)
        inst = _DIMENSION_CACHE.get(norm)
        if inst is None:
            inst = object.__new__(cls)
            object.__setattr__(inst, "_dims", norm)
            object.__setattr__(inst, "_hash", hash(norm))
            _DIMENSION_CACHE[norm] = inst
        return inst

    def __setattr__(self, name, value):
        raise AttributeError("Dimension objects are immutable")

    def __delattr__(self, name):
        raise AttributeError("Dimension objects are immutable")

    @property
    def exponents(self):
        """The seven exponents as a tuple, in the order m, kg, s, A, K, mol, cd."""
        return self._dims

    @property
    def dim(self):
        """The Dimension itself, so that ``x.dim`` works for quantities and dimensions alike."""
        return self

    @property
    def is_dimensionless(self):
        """True when all exponents are zero."""
        return self is DIMENSIONLESS

    def __mul__(self, other):
        if not isinstance(other, Dimension):
            return NotImplemented
        return Dimension.get(tuple(a + b for a, b in zip(self._dims, other._dims)))

    def __truediv__(self, other):
        if not isinstance(other, Dimension):
            return NotImplemented
        return Dimension.get(tuple(a - b for a, b in zip(self._dims, other._dims)))

    def __rtruediv__(self, other):
        if isinstance(other, numbers.Real) and other == 1:
            return self**-1
        return NotImplemented

    def __pow__(self, exponent):
        if isinstance(exponent, np.ndarray) and exponent.ndim == 0:
            exponent = exponent.item()
        if isinstance(exponent, (bool, np.bool_)) or not isinstance(exponent, numbers.Real):
            return NotImplemented
        return Dimension.get(tuple(a * exponent for a in self._dims))

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, Dimension):
            return NotImplemented
        return self._dims == other._dims

    def __hash__(self):
        return self._hash

    def __reduce__(self):
        return (Dimension, (self._dims,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __str__(self):
        named = _DERIVED_NAMES.get(self)
        if named is not None:
            return named[0]
        if self is DIMENSIONLESS:
            return "1"
        parts = []
        for sym, e in zip(_BASE_SYMBOLS, self._dims):
            if e == 1:
                parts.append(sym)
            elif e != 0:
                parts.append(f"{sym}^{e}")
        return " ".join(parts)

    __repr__ = __str__

    @property
    def _label(self):
        """Readable name used in error messages (e.g. ``volt``, ``dimensionless``)."""
        if self is DIMENSIONLESS:
            return "dimensionless"
        named = _DERIVED_NAMES.get(self)
        return named[1] if named is not None else str(self)


def _d(m=0, kg=0, s=0, A=0, K=0, mol=0, cd=0):
    return Dimension.get((m, kg, s, A, K, mol, cd))


DIMENSIONLESS = _d()
"""The dimension of pure numbers."""

_LENGTH, _MASS, _TIME, _CURRENT = _d(m=1), _d(kg=1), _d(s=1), _d(A=1)
_TEMPERATURE, _AMOUNT, _LUMINOSITY = _d(K=1), _d(mol=1), _d(cd=1)
_VOLTAGE = _d(m=2, kg=1, s=-3, A=-1)
_RESISTANCE = _d(m=2, kg=1, s=-3, A=-2)
_CONDUCTANCE = _d(m=-2, kg=-1, s=3, A=2)
_CAPACITANCE = _d(m=-2, kg=-1, s=4, A=2)
_FREQUENCY = _d(s=-1)
_CHARGE = _d(s=1, A=1)
_FORCE = _d(m=1, kg=1, s=-2)
_ENERGY = _d(m=2, kg=1, s=-2)
_POWER = _d(m=2, kg=1, s=-3)
_PRESSURE = _d(m=-1, kg=1, s=-2)
_INDUCTANCE = _d(m=2, kg=1, s=-2, A=-2)
_FLUX_DENSITY = _d(kg=1, s=-2, A=-1)
_FLUX = _d(m=2, kg=1, s=-2, A=-1)
_VOLUME = _d(m=3)
_CONCENTRATION = _d(m=-3, mol=1)

# Dimension -> (symbol, long name) for dimensions that have an SI unit of their own.
_DERIVED_NAMES = {
    _LENGTH: ("m", "metre"),
    _MASS: ("kg", "kilogram"),
    _TIME: ("s", "second"),
    _CURRENT: ("A", "amp"),
    _TEMPERATURE: ("K", "kelvin"),
    _AMOUNT: ("mol", "mole"),
    _LUMINOSITY: ("cd", "candela"),
    _VOLTAGE: ("V", "volt"),
    _RESISTANCE: ("ohm", "ohm"),
    _CONDUCTANCE: ("S", "siemens"),
    _CAPACITANCE: ("F", "farad"),
    _FREQUENCY: ("Hz", "hertz"),
    _CHARGE: ("C", "coulomb"),
    _FORCE: ("N", "newton"),
    _ENERGY: ("J", "joule"),
    _POWER: ("W", "watt"),
    _PRESSURE: ("Pa", "pascal"),
    _INDUCTANCE: ("H", "henry"),
    _FLUX_DENSITY: ("T", "tesla"),
    _FLUX: ("Wb", "weber"),
}


class DimensionMismatchError(Exception):
    """Raised when an operation meets dimensions it cannot combine.

    ``dims`` holds the Dimensions involved (expected first, where that applies).
    """

    def __init__(self, description, *dims):
        super().__init__(description, *dims)
        self.description = description
        self.dims = dims

    def __str__(self):
        return self.description


# --------------------------------------------------------------------------- helpers


def _sequence_dims(seq):
    dims = {get_dimensions(x) for x in seq}
    if len(dims) > 1 and DIMENSIONLESS in dims:  # plain zeros go with any unit (Brian2)
        dims = {get_dimensions(x) for x in seq if not _plain_zeros(x)}
    if len(dims) > 1:
        labels = ", ".join(sorted(d._label for d in dims))
        raise DimensionMismatchError(
            f"Sequence mixes values of different dimensions ({labels})", *dims
        )
    return dims.pop() if dims else DIMENSIONLESS


def _plain_zeros(x) -> bool:
    if isinstance(x, Quantity):
        return False
    try:
        values = np.asarray(x)
    except (TypeError, ValueError):
        return False
    return values.dtype.kind in "biuf" and not np.any(values)


def get_dimensions(obj):
    """Return the Dimension of ``obj``.

    Quantities give their ``.dim``, Dimensions give themselves, plain numbers,
    booleans and numpy arrays are dimensionless, and lists/tuples give the
    (common) dimension of their elements. Anything else raises ``TypeError``.
    """
    if type(obj) is Quantity:
        return obj.dim
    if isinstance(obj, (float, int, np.ndarray, np.generic, Dimension, complex)):
        return obj.dim if isinstance(obj, (Quantity, Dimension)) else DIMENSIONLESS
    dim = getattr(obj, "dim", None)
    if isinstance(dim, Dimension):
        return dim
    if isinstance(obj, numbers.Number):
        return DIMENSIONLESS
    if isinstance(obj, (list, tuple)):
        return _sequence_dims(obj)
    if isinstance(obj, range):
        return DIMENSIONLESS
    raise TypeError(f"Object of type {type(obj).__name__} has no physical dimensions")


def have_same_dimensions(a, b):
    """True if ``a`` and ``b`` (quantities, numbers or Dimensions) share a dimension."""
    return get_dimensions(a) is get_dimensions(b)


def fail_for_dimension_mismatch(a, b=None, error_message=None):
    """Raise DimensionMismatchError unless ``a`` and ``b`` have the same dimensions.

    With ``b=None``, ``a`` must be dimensionless. Returns the two Dimensions.
    """
    dim_a = get_dimensions(a)
    dim_b = DIMENSIONLESS if b is None else get_dimensions(b)
    if dim_a is not dim_b:
        if error_message is None:
            if b is None:
                error_message = f"Expected a dimensionless value, found {dim_a._label}"
            else:
                error_message = f"Dimension mismatch: expected {dim_b._label}, found {dim_a._label}"
        elif b is None:
            error_message = f"{error_message} (got {dim_a._label})"
        else:
            error_message = f"{error_message} (dimensions are {dim_a._label} and {dim_b._label})"
        raise DimensionMismatchError(error_message, dim_a, dim_b)
    return dim_a, dim_b


def _plain(x):
    """Strip a Quantity down to its SI magnitudes (a base-class ndarray view); a group's
    variable (which has its dimension as ``dim``) gives its values in SI units."""
    if isinstance(x, Quantity):
        return x.view(np.ndarray)
    if hasattr(x, "_values_for_arithmetic"):
        return np.asarray(x)
    return x


def _strip(x):
    """Like :func:`_plain`, but also strips quantities nested in lists and tuples."""
    if isinstance(x, (list, tuple)):
        return [_strip(e) for e in x]
    return _plain(x)


def _wrap(result, dim):
    """Attach ``dim`` to a raw numpy result; dimensionless results stay plain."""
    if dim is DIMENSIONLESS:
        if isinstance(result, np.ndarray):
            if result.ndim == 0:
                return result.item()
            return result if type(result) is np.ndarray else result.view(np.ndarray)
        if isinstance(result, np.generic):
            return result.item()
        return result
    q = np.asarray(result).view(Quantity)
    q.dim = dim
    return q


# --------------------------------------------------------------------------- ufunc rules

_SAME_DIM = frozenset(
    {
        "add",
        "subtract",
        "maximum",
        "minimum",
        "fmax",
        "fmin",
        "remainder",
        "fmod",
        "hypot",
        "nextafter",
        "clip",
    }
)
_COMPARE = frozenset({"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"})
#: Operations where a plain 0 may stand for a quantity of any dimensions.
_ZERO_COMPATIBLE = frozenset({"add", "subtract", "maximum", "minimum", "fmax", "fmin", "clip"})
_PRESERVE = frozenset(
    {
        "negative",
        "positive",
        "absolute",
        "fabs",
        "rint",
        "floor",
        "ceil",
        "trunc",
        "conjugate",
        "spacing",
    }
)
_PLAIN_ANY = frozenset(
    {
        "isnan",
        "isinf",
        "isfinite",
        "signbit",
        "sign",
        "logical_not",
        "logical_and",
        "logical_or",
        "logical_xor",
    }
)
_MULTIPLY = frozenset({"multiply", "matmul", "vecdot", "matvec", "vecmat"})
_DIVIDE = frozenset({"divide", "floor_divide"})
_POWERS = {"sqrt": 0.5, "cbrt": 1 / 3, "square": 2, "reciprocal": -1}
_VERBS = {"add": "add", "subtract": "subtract", **{c: "compare" for c in _COMPARE}}


def _require_same(name, dims, raw=None):
    if any(d is not dims[0] for d in dims[1:]):
        if raw is not None and _mismatch_is_only_zeros(dims, raw):
            return
        verb = _VERBS.get(name, f"apply '{name}' to")
        labels = [d._label for d in dims]
        joined = " and ".join([", ".join(labels[:-1]), labels[-1]])
        raise DimensionMismatchError(f"Cannot {verb} {joined}", *dims)


def _mismatch_is_only_zeros(dims, raw) -> bool:
    """Whether the operands that lack the dimensions of the others are all plain zeros: 0 is
    compatible with any unit, as in Brian2 (``v > 0``, ``3*mV + 0``, ``sum(quantities)``)."""
    dimensioned = {d for d in dims if d is not DIMENSIONLESS}
    if len(dimensioned) != 1:
        return False
    for d, value in zip(dims, raw):
        if d is DIMENSIONLESS and not isinstance(value, Quantity):
            array = np.asarray(value)
            if array.dtype.kind not in "biuf" or np.any(array != 0):
                return False
    return True


def _dimension_of_zero_compatible(dims):
    """The dimension of a result where plain zeros were compatible with it."""
    return next((d for d in dims if d is not DIMENSIONLESS), DIMENSIONLESS)


def _require_dimensionless(name, dims):
    bad = [d for d in dims if d is not DIMENSIONLESS]
    if bad:
        raise DimensionMismatchError(
            f"'{name}' requires dimensionless arguments, got {bad[0]._label}", *dims
        )


def _call_dims(name, dims, raw):
    """Result dimension(s), as a list, of calling ufunc ``name`` on ``dims``."""
    if all(d is DIMENSIONLESS for d in dims):
        return None  # every output is dimensionless
    if name in _SAME_DIM:
        _require_same(name, dims, raw if name in _ZERO_COMPATIBLE else None)
        return [_dimension_of_zero_compatible(dims)]
    if name in _COMPARE or name == "arctan2":
        _require_same(name, dims, raw if name in _COMPARE else None)
        return [DIMENSIONLESS]
    if name in _PRESERVE:
        return [dims[0]]
    if name in _PLAIN_ANY:
        return [DIMENSIONLESS]
    if name in _MULTIPLY:
        return [dims[0] * dims[1]]
    if name in _DIVIDE:
        return [dims[0] / dims[1]]
    if name in _POWERS:
        return [dims[0] ** _POWERS[name]]
    if name == "copysign":
        return [dims[0]]
    if name == "ldexp":
        _require_dimensionless(name, dims[1:])
        return [dims[0]]
    if name == "divmod":
        _require_same(name, dims)
        return [DIMENSIONLESS, dims[0]]
    if name in ("power", "float_power"):
        _require_dimensionless(name + " (exponent)", dims[1:])
        exponent = np.asarray(raw[1])
        if exponent.size == 0:
            return [dims[0]]
        first = exponent.flat[0]
        if exponent.size > 1 and not np.all(exponent == first):
            raise DimensionMismatchError(
                "Raising a dimensioned quantity to an array of different exponents is not possible",
                dims[0],
            )
        return [dims[0] ** float(first)]
    _require_dimensionless(name, dims)
    return None


def _n_reduced(shape, axis):
    if axis is None:
        return math.prod(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return math.prod(shape[a] for a in axes)


def _reduce_dims(name, method, dim, shape, kwargs):
    if dim is DIMENSIONLESS:
        return DIMENSIONLESS
    if name in _SAME_DIM:
        return dim
    if name in _PLAIN_ANY or name in _COMPARE:
        return DIMENSIONLESS
    if name == "multiply" and method == "reduce":
        return dim ** _n_reduced(shape, kwargs.get("axis", 0))
    raise DimensionMismatchError(f"Cannot apply '{name}.{method}' to {dim._label}", dim)


# --------------------------------------------------------------------------- Quantity


class Quantity(np.ndarray):
    """A numpy array of SI magnitudes with a physical :class:`Dimension` in ``.dim``.

    ``Quantity(value, dim=None)``: ``value`` may be a number, array, list (also
    of quantities) or a Quantity; ``dim`` defaults to the dimensions of
    ``value``. The usual way to make one is multiplying by a unit: ``3 * mV``.
    """

    def __new__(cls, value, dim=None, dtype=None, copy=False):
        found = get_dimensions(value)
        if dim is None:
            dim = found
        elif not isinstance(dim, Dimension):
            raise TypeError(f"dim must be a Dimension, got {type(dim).__name__}")
        elif found is not DIMENSIONLESS and found is not dim:
            raise DimensionMismatchError(
                f"Value has dimensions {found._label}, but {dim._label} was requested", found, dim
            )
        value = _strip(value)
        arr = np.array(value, dtype=dtype, copy=True) if copy else np.asarray(value, dtype=dtype)
        obj = arr.view(cls)
        obj.dim = dim
        return obj

    def __array_finalize__(self, obj):
        dim = getattr(obj, "dim", DIMENSIONLESS)
        self.dim = dim if isinstance(dim, Dimension) else DIMENSIONLESS

    @property
    def is_dimensionless(self):
        """True if this quantity has no physical dimensions."""
        return self.dim is DIMENSIONLESS

    # -- numpy protocol ---------------------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        dims = [_operand_dim(x) for x in inputs]
        raw = [_plain(x) for x in inputs]
        if method == "at":
            operands = [dims[0], *dims[2:]]
            res = _call_dims(name, operands, [raw[0], *raw[2:]])
            if res is not None and res[0] is not dims[0]:
                raise DimensionMismatchError(
                    f"'{name}.at' would change the dimensions of {dims[0]._label} in place",
                    *operands,
                )
            ufunc.at(*raw, **kwargs)
            return None
        if method in ("reduce", "accumulate", "reduceat"):
            shape = np.shape(raw[0])
            res_dims = [_reduce_dims(name, method, dims[0], shape, kwargs)]
        else:  # __call__ and outer
            res_dims = _call_dims(name, dims, raw)
        if res_dims is None:
            res_dims = [DIMENSIONLESS] * ufunc.nout
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*raw, **kwargs)
        if out is not None:
            # A plain array given as out (NumPy does so itself when it reuses a temporary, as
            # in (np.ones(n)*2)*mV) receives the SI values; the result carries the dimensions.
            results = []
            for o, d in zip(out, res_dims):
                if isinstance(o, Quantity):
                    o.dim = d
                    results.append(o)
                elif o is not None and d is not DIMENSIONLESS:
                    results.append(_wrap(o, d))
                else:
                    results.append(o)
            return results[0] if len(results) == 1 else tuple(results)
        if ufunc.nout > 1 and method in ("__call__", "outer"):
            return tuple(_wrap(r, d) for r, d in zip(result, res_dims))
        return _wrap(result, res_dims[0])

    def __array_function__(self, func, types, args, kwargs):
        handler = _HANDLED_FUNCTIONS.get(func)
        if handler is not None:
            return handler(*args, **kwargs)
        return super().__array_function__(func, types, args, kwargs)

    # -- in-place arithmetic ----------------------------------------------------------
    # As in Brian2 (and as for Python's numbers), ``x *= 2`` on a scalar quantity makes a new
    # value: names bound to the old one keep it (``tau_e = tau; tau_e *= 2`` leaves ``tau``
    # alone, and ``u = mV; u *= 2`` leaves the unit alone).  Arrays change in place, as NumPy's.

    # -- element access -----------------------------------------------------------------

    def __getitem__(self, key):
        res = super().__getitem__(key)
        if isinstance(res, np.ndarray):
            return res
        return _wrap_keep(res, self.dim)

    def __setitem__(self, key, value):
        fail_for_dimension_mismatch(self, value, "Inconsistent dimensions in assignment")
        super().__setitem__(key, _strip(value))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def item(self, *args):
        """Return one element: a Python scalar if dimensionless, else a 0-d Quantity."""
        return _wrap(np.asarray(self.view(np.ndarray).item(*args)), self.dim)

    def fill(self, value):
        """Fill the array with ``value``, which must have the same dimensions."""
        fail_for_dimension_mismatch(self, value, "Inconsistent dimensions in fill")
        self.view(np.ndarray).fill(_plain(value))

    def searchsorted(self, v, side="left", sorter=None):
        """Indices where ``v`` (same dimensions) would be inserted to keep order."""
        fail_for_dimension_mismatch(self, v, "Cannot search for a value")
        return self.view(np.ndarray).searchsorted(_plain(v), side=side, sorter=sorter)

    def round(self, decimals=0, out=None):
        """Round the SI magnitudes to ``decimals`` decimals (dimensions are kept)."""
        result = np.round(self.view(np.ndarray), decimals, out=_plain(out))
        if isinstance(out, Quantity):
            out.dim = self.dim
            return out
        return _wrap(result, self.dim)

    def dot(self, other, out=None):
        """Dot product; dimensions multiply."""
        return np.dot(self, other) if out is None else np.dot(self, other, out=out)

    # -- conversion -------------------------------------------------------------------

    def __float__(self):
        """The value in SI units, whatever the dimensions (as in Brian2: ``float(3*mV)`` is
        0.003), so that lists of quantities become arrays and plotting libraries take them."""
        return float(self.view(np.ndarray))

    def __int__(self):
        """The value in SI units, cut to an integer (as in Brian2)."""
        return int(self.view(np.ndarray))

    def __index__(self):
        fail_for_dimension_mismatch(
            self, error_message="Only dimensionless quantities can be used as an index"
        )
        return self.view(np.ndarray).__index__()

    def __eq__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented
        return np.equal(self, other)

    def __ne__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented
        return np.not_equal(self, other)

    __hash__ = None

    # -- pickling ---------------------------------------------------------------------

    def __reduce__(self):
        func, args, state = super().__reduce__()
        return func, args, (state, self.dim)

    def __setstate__(self, state):
        nd_state, dim = state
        super().__setstate__(nd_state)
        self.dim = dim

    # -- display ----------------------------------------------------------------------

    def __repr__(self):
        values, long_name, _ = _display(self)
        text = np.array2string(values) if values.ndim == 0 else np.array_repr(values)
        if long_name is None:
            return f"Quantity({text})"
        return f"{text} * {long_name}"

    def __str__(self):
        values, _, symbol = _display(self)
        text = np.array2string(values) if values.ndim == 0 else np.array_str(values)
        return text if symbol is None else f"{text} {symbol}"

    def in_unit(self, unit, precision=None) -> str:
        """This quantity as text in ``unit``: ``(3*mV).in_unit(volt)`` is ``'0.003 V'``
        (see :func:`in_unit`)."""
        return in_unit(self, unit, precision)

    def in_best_unit(self, precision=None) -> str:
        """This quantity as text in the unit it is shown in (``'3. mV'``)."""
        if precision is None:
            return str(self)
        with np.printoptions(precision=precision):
            return str(self)

    def __format__(self, format_spec):
        if not format_spec:
            return str(self)
        if self.ndim != 0:
            return super().__format__(format_spec)
        values, _, symbol = _display(self)
        text = format(values.item(), format_spec)
        return text if symbol is None else f"{text} {symbol}"


def _operand_dim(x):
    """Dimension of a ufunc operand; objects without dimensions count as dimensionless."""
    if isinstance(x, Quantity):
        return x.dim
    if isinstance(x, (list, tuple)):
        try:
            return _sequence_dims(x)
        except TypeError:
            return DIMENSIONLESS
    dim = getattr(x, "dim", None)  # array-likes with units (a group's variable)
    return dim if isinstance(dim, Dimension) else DIMENSIONLESS


def _wrap_keep(scalar, dim):
    q = np.asarray(scalar).view(Quantity)
    q.dim = dim
    return q


def _make_method(name, dim_rule, doc):
    base = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        dim = dim_rule(self, args, kwargs)
        out = kwargs.get("out")
        if out is not None:
            if not isinstance(out, Quantity) and dim is not DIMENSIONLESS:
                raise DimensionMismatchError(
                    f"Cannot store a result with dimensions {dim._label} in a plain array", dim
                )
            kwargs["out"] = _plain(out)
        result = base(self.view(np.ndarray), *args, **kwargs)
        if isinstance(out, Quantity):
            out.dim = dim
            return out
        return _wrap(result, dim)

    method.__name__ = name
    method.__qualname__ = f"Quantity.{name}"
    method.__doc__ = doc
    return method


def _same_dim(q, args, kwargs):
    return q.dim


def _squared_dim(q, args, kwargs):
    return q.dim**2


def _no_dim(q, args, kwargs):
    return DIMENSIONLESS


def _prod_dim(q, args, kwargs):
    if q.dim is DIMENSIONLESS:
        return DIMENSIONLESS
    return q.dim ** _n_reduced(q.shape, kwargs.get("axis", args[0] if args else None))


def _only_dimensionless(q, args, kwargs):
    fail_for_dimension_mismatch(q, error_message="cumprod needs a dimensionless quantity")
    return DIMENSIONLESS


for _name, _rule, _doc in [
    ("sum", _same_dim, "Sum of elements (same dimensions)."),
    ("mean", _same_dim, "Mean of elements (same dimensions)."),
    ("std", _same_dim, "Standard deviation (same dimensions)."),
    ("var", _squared_dim, "Variance (squared dimensions)."),
    ("max", _same_dim, "Maximum (same dimensions)."),
    ("min", _same_dim, "Minimum (same dimensions)."),
    ("cumsum", _same_dim, "Cumulative sum (same dimensions)."),
    ("prod", _prod_dim, "Product of elements (dimensions raised to the element count)."),
    ("cumprod", _only_dimensionless, "Cumulative product (dimensionless quantities only)."),
    ("argmax", _no_dim, "Index of the maximum, as plain integers."),
    ("argmin", _no_dim, "Index of the minimum, as plain integers."),
    ("argsort", _no_dim, "Sorting indices, as plain integers."),
]:
    setattr(Quantity, _name, _make_method(_name, _rule, _doc))
del _name, _rule, _doc


def _make_inplace(name, operation):
    in_place = getattr(np.ndarray, name)

    def method(self, other):
        return operation(self, other) if self.ndim == 0 else in_place(self, other)

    method.__name__ = name
    method.__qualname__ = f"Quantity.{name}"
    return method


# In-place arithmetic: as in Brian2 (and as for Python's numbers), ``x *= 2`` on a scalar
# quantity makes a new value, so names bound to the old one keep it (``tau_e = tau; tau_e *= 2``
# leaves ``tau`` alone, and ``u = mV; u *= 2`` leaves the unit alone).  Arrays change in place,
# as NumPy's do.
for _operation in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    setattr(
        Quantity,
        f"__i{_operation}__",
        _make_inplace(f"__i{_operation}__", getattr(operator, _operation)),
    )
del _operation


# --------------------------------------------------------------------------- numpy functions

_HANDLED_FUNCTIONS = {}


def _implements(func):
    def register(impl):
        _HANDLED_FUNCTIONS[func] = impl
        return impl

    return register


@_implements(np.array_equal)
def _array_equal(a1, a2, equal_nan=False):
    if get_dimensions(a1) is not get_dimensions(a2):
        return False
    return bool(np.array_equal(np.asarray(_strip(a1)), np.asarray(_strip(a2)), equal_nan=equal_nan))


def _tolerances(a, b, rtol, atol):
    dim, _ = fail_for_dimension_mismatch(a, b, "Cannot compare quantities")
    fail_for_dimension_mismatch(rtol, error_message="rtol must be dimensionless")
    if atol is None:
        # numpy's default of 1e-8 only makes sense for values of order 1; for
        # dimensioned values (e.g. currents in pA) only a relative tolerance is used.
        atol = 1e-8 if dim is DIMENSIONLESS else 0.0
    elif get_dimensions(atol) is not dim and not (
        get_dimensions(atol) is DIMENSIONLESS and not np.any(np.asarray(atol))
    ):
        # a plain zero is a valid tolerance for any dimension
        fail_for_dimension_mismatch(atol, a, "atol must have the dimensions of the values")
    return np.asarray(_strip(rtol)), np.asarray(_strip(atol))


@_implements(np.isclose)
def _isclose(a, b, rtol=1e-05, atol=None, equal_nan=False):
    rtol, atol = _tolerances(a, b, rtol, atol)
    return _wrap(
        np.isclose(
            np.asarray(_strip(a)), np.asarray(_strip(b)), rtol=rtol, atol=atol, equal_nan=equal_nan
        ),
        DIMENSIONLESS,
    )


@_implements(np.allclose)
def _allclose(a, b, rtol=1e-05, atol=None, equal_nan=False):
    rtol, atol = _tolerances(a, b, rtol, atol)
    return bool(
        np.allclose(
            np.asarray(_strip(a)), np.asarray(_strip(b)), rtol=rtol, atol=atol, equal_nan=equal_nan
        )
    )


@_implements(np.concatenate)
def _concatenate(arrays, axis=0, out=None, **kwargs):
    dim = _sequence_dims(arrays)
    plain = [np.asarray(_strip(a)) for a in arrays]
    if out is not None:
        np.concatenate(plain, axis=axis, out=_plain(out), **kwargs)
        if isinstance(out, Quantity):
            out.dim = dim
        return out
    return _wrap(np.concatenate(plain, axis=axis, **kwargs), dim)


@_implements(np.linspace)
def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, **kwargs):
    dim, _ = fail_for_dimension_mismatch(
        start, stop, "linspace needs start and stop with the same dimensions"
    )
    result = np.linspace(
        np.asarray(_strip(start)),
        np.asarray(_strip(stop)),
        num=num,
        endpoint=endpoint,
        retstep=retstep,
        dtype=dtype,
        axis=axis,
        **kwargs,
    )
    if retstep:
        return _wrap(result[0], dim), _wrap(result[1], dim)
    return _wrap(result, dim)


@_implements(np.where)
def _where(condition, *xy):
    if not xy:
        return np.where(np.asarray(condition))
    x, y = xy
    dim, _ = fail_for_dimension_mismatch(x, y, "Both branches of where() need the same dimensions")
    return _wrap(np.where(np.asarray(condition), np.asarray(_strip(x)), np.asarray(_strip(y))), dim)


@_implements(np.dot)
def _dot(a, b, out=None):
    dim = get_dimensions(a) * get_dimensions(b)
    if out is not None:
        np.dot(np.asarray(_strip(a)), np.asarray(_strip(b)), out=_plain(out))
        if isinstance(out, Quantity):
            out.dim = dim
        return out
    return _wrap(np.dot(np.asarray(_strip(a)), np.asarray(_strip(b))), dim)


# --------------------------------------------------------------------------- display

_ENG_PREFIXES = {
    -24: "y",
    -21: "z",
    -18: "a",
    -15: "f",
    -12: "p",
    -9: "n",
    -6: "u",
    -3: "m",
    0: "",
    3: "k",
    6: "M",
    9: "G",
    12: "T",
    15: "P",
    18: "E",
    21: "Z",
    24: "Y",
}

# Dimension -> (long name, symbol, decimal exponent of the unprefixed unit in SI,
#               prefix exponent used when there are no non-zero values)
_DISPLAY_UNITS = {
    _VOLTAGE: ("volt", "V", 0, 0),
    _CURRENT: ("amp", "A", 0, 0),
    _CONDUCTANCE: ("siemens", "S", 0, 0),
    _CAPACITANCE: ("farad", "F", 0, 0),
    _RESISTANCE: ("ohm", "ohm", 0, 0),
    _TIME: ("second", "s", 0, 0),
    _LENGTH: ("metre", "m", 0, 0),
    _FREQUENCY: ("hertz", "Hz", 0, 0),
    _MASS: ("gram", "g", -3, 3),
    _CONCENTRATION: ("molar", "M", 3, 0),
    _AMOUNT: ("mole", "mol", 0, 0),
    _CHARGE: ("coulomb", "C", 0, 0),
    _FORCE: ("newton", "N", 0, 0),
    _ENERGY: ("joule", "J", 0, 0),
    _POWER: ("watt", "W", 0, 0),
    _PRESSURE: ("pascal", "Pa", 0, 0),
    _INDUCTANCE: ("henry", "H", 0, 0),
    _FLUX_DENSITY: ("tesla", "T", 0, 0),
    _FLUX: ("weber", "Wb", 0, 0),
    _TEMPERATURE: ("kelvin", "K", 0, 0),
    _LUMINOSITY: ("candela", "cd", 0, 0),
}


def _base_unit_expression(dim):
    parts = []
    for name, e in zip(_BASE_NAMES, dim.exponents):
        if e == 1:
            parts.append(name)
        elif e != 0:
            parts.append(f"{name} ** {e}")
    return " * ".join(parts)


def _display(q):
    """(values in the display unit, long unit expression, unit symbol) for a Quantity."""
    values = np.asarray(q)
    dim = q.dim
    if dim is DIMENSIONLESS:
        return values, None, None
    entry = _DISPLAY_UNITS.get(dim)
    if entry is None:
        return values, _base_unit_expression(dim), str(dim)
    long_name, symbol, base_exp, default_prefix = entry
    magnitudes = (
        np.abs(values[np.isfinite(values)]) if values.dtype.kind in "fc" else np.abs(values)
    )
    biggest = float(magnitudes.max()) / 10.0**base_exp if magnitudes.size else 0.0
    if biggest > 0:
        p = math.floor(math.log10(biggest) / 3) * 3
        if biggest / 10.0**p >= 1000:
            p += 3
        elif biggest / 10.0**p < 1:
            p -= 3
        p = min(max(p, -24), 24)
    else:
        p = default_prefix
    prefix = _ENG_PREFIXES[p]
    scaled = values / float(f"1e{p + base_exp}")
    if dim is _MASS and p == 3:
        return scaled, "kilogram", "kg"
    return scaled, prefix + long_name, prefix + symbol


# --------------------------------------------------------------------------- units

_PREFIXES = {
    "y": -24,
    "z": -21,
    "a": -18,
    "f": -15,
    "p": -12,
    "n": -9,
    "u": -6,
    "m": -3,
    "c": -2,
    "d": -1,
    "da": 1,
    "h": 2,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
    "Z": 21,
    "Y": 24,
}

# (name, dimension, decimal exponent of the unit in SI); each gets every prefix.
_PREFIXABLE = [
    ("metre", _LENGTH, 0),
    ("meter", _LENGTH, 0),
    ("gram", _MASS, -3),
    ("second", _TIME, 0),
    ("amp", _CURRENT, 0),
    ("ampere", _CURRENT, 0),
    ("kelvin", _TEMPERATURE, 0),
    ("mole", _AMOUNT, 0),
    ("mol", _AMOUNT, 0),
    ("candela", _LUMINOSITY, 0),
    ("volt", _VOLTAGE, 0),
    ("ohm", _RESISTANCE, 0),
    ("siemens", _CONDUCTANCE, 0),
    ("farad", _CAPACITANCE, 0),
    ("hertz", _FREQUENCY, 0),
    ("coulomb", _CHARGE, 0),
    ("newton", _FORCE, 0),
    ("joule", _ENERGY, 0),
    ("watt", _POWER, 0),
    ("pascal", _PRESSURE, 0),
    ("henry", _INDUCTANCE, 0),
    ("tesla", _FLUX_DENSITY, 0),
    ("weber", _FLUX, 0),
    ("liter", _VOLUME, -3),
    ("litre", _VOLUME, -3),
    ("molar", _CONCENTRATION, 3),
    ("gramme", _MASS, -3),
    ("becquerel", _FREQUENCY, 0),
    ("candle", _LUMINOSITY, 0),
    ("gray", _d(m=2, s=-2), 0),
    ("sievert", _d(m=2, s=-2), 0),
    ("katal", _d(mol=1, s=-1), 0),
    ("lumen", _LUMINOSITY, 0),
    ("lux", _d(m=-2, cd=1), 0),
]

_ALIASES = {
    "ms": "msecond",
    "us": "usecond",
    "ns": "nsecond",
    "ps": "psecond",
    "mV": "mvolt",
    "uV": "uvolt",
    "nV": "nvolt",
    "kV": "kvolt",
    "mA": "mamp",
    "uA": "uamp",
    "nA": "namp",
    "pA": "pamp",
    "mS": "msiemens",
    "uS": "usiemens",
    "nS": "nsiemens",
    "pS": "psiemens",
    "uF": "ufarad",
    "nF": "nfarad",
    "pF": "pfarad",
    "Hz": "hertz",
    "kHz": "khertz",
    "MHz": "Mhertz",
    "mM": "mmolar",
    "uM": "umolar",
    "nM": "nmolar",
    "km": "kmetre",
    "cm": "cmetre",
    "mm": "mmetre",
    "um": "umetre",
    "nm": "nmetre",
    "cm2": "cmetre2",
    "cm3": "cmetre3",
    "mm2": "mmetre2",
    "mm3": "mmetre3",
    "um2": "umetre2",
    "um3": "umetre3",
}


def _make_unit(exp10, dim):
    unit = Quantity(float(f"1e{exp10}"), dim=dim)
    unit.flags.writeable = False
    return unit


def _build_units():
    units = {}
    coherent = {}

    def add(name, exp10, dim, prefixed=True):
        if name in units:
            raise RuntimeError(f"Unit name {name!r} defined twice")
        units[name] = _make_unit(exp10, dim)
        if not prefixed and exp10 == 0 and dim is not DIMENSIONLESS:
            coherent.setdefault(dim, units[name])

    # every unit also squared and cubed (umetre2, mvolt2...), as Brian2 names them
    for name in ("kilogram", "kilogramme"):
        for power in (1, 2, 3):
            add(name + ("" if power == 1 else str(power)), 0, _MASS**power, prefixed=False)
    for name, dim, exp10 in _PREFIXABLE:
        add(name, exp10, dim, prefixed=False)
        for power in (2, 3):
            add(f"{name}{power}", exp10 * power, dim**power, prefixed=False)
    for name in ("radian", "steradian"):
        for power in (1, 2, 3):
            add(name + ("" if power == 1 else str(power)), 0, DIMENSIONLESS)
    for prefix, p in _PREFIXES.items():
        for name, dim, exp10 in _PREFIXABLE:
            for power in (1, 2, 3):
                suffix = "" if power == 1 else str(power)
                add(prefix + name + suffix, (p + exp10) * power, dim**power)
    for alias, target in _ALIASES.items():
        if alias in units:
            raise RuntimeError(f"Unit alias {alias!r} clashes with a unit name")
        units[alias] = units[target]
    return units, coherent


all_units, _COHERENT_UNITS = _build_units()
"""Every unit name defined here, mapped to its Quantity (value 1 in that unit)."""

globals().update(all_units)

# id(unit object) -> preferred display name (short alias where one exists).
_UNIT_NAMES = {id(u): n for n, u in all_units.items()}
_UNIT_NAMES.update({id(all_units[a]): a for a in _ALIASES})

_UNIT_CACHE = {}


def get_unit(dim):
    """Return the SI unit (a read-only Quantity of value 1) for ``dim``.

    ``dim`` may be a Dimension or anything :func:`get_dimensions` accepts.
    Named coherent units (``volt``, ``siemens``, ...) are returned as themselves.
    """
    if not isinstance(dim, Dimension):
        dim = get_dimensions(dim)
    unit = _COHERENT_UNITS.get(dim)
    if unit is None:
        unit = _UNIT_CACHE.get(dim)
        if unit is None:
            unit = _UNIT_CACHE[dim] = _make_unit(0, dim)
    return unit


def in_unit(x, unit, precision=None):
    """Format ``x`` as a string in the given ``unit``, e.g. ``in_unit(0.01*volt, mV)``."""
    fail_for_dimension_mismatch(x, unit, "Cannot express a value in this unit")
    values = np.asarray(x) / np.asarray(unit)
    text = np.array2string(np.asarray(values), precision=precision)
    name = _UNIT_NAMES.get(id(unit))
    if name is None:
        name = str(get_dimensions(unit)) if np.all(np.asarray(unit) == 1) else f"({unit})"
    return f"{text} {name}"


# --------------------------------------------------------------------------- check_units


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_value(func_name, what, value, expected, arguments):
    if expected is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(
                f"Function {func_name!r} expected a boolean for {what}, got {_short(value)}"
            )
        return
    if isinstance(expected, str):
        if expected not in arguments:
            return
        expected_dim = get_dimensions(arguments[expected])
    else:
        expected_dim = get_dimensions(expected)
    try:
        found = get_dimensions(value)
    except TypeError:
        raise TypeError(
            f"Function {func_name!r} expected a numerical value for {what}, got {_short(value)}"
        ) from None
    if found is not expected_dim:
        raise DimensionMismatchError(
            f"Function {func_name!r} expected {what} with dimensions {expected_dim._label}, "
            f"but got {_short(value)} with dimensions {found._label}",
            expected_dim,
            found,
        )


def check_units(**au):
    """Decorator checking the dimensions of arguments and of the return value.

    Each keyword names an argument; its value is a unit (or anything with
    dimensions), ``1`` for dimensionless, ``bool`` for a strict boolean,
    ``None`` for no check, or the name of another argument whose dimensions
    must be matched. ``result=`` checks the return value. Arguments passed as
    ``None`` are not checked (so optional arguments can default to ``None``).
    """

    def decorator(func):
        sig = inspect.signature(func)
        params = sig.parameters
        var_kw = next((p.name for p in params.values() if p.kind is p.VAR_KEYWORD), None)
        for name in au:
            if name != "result" and name not in params and var_kw is None:
                raise ValueError(f"check_units: {func.__name__!r} has no argument {name!r}")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            arguments = dict(sig.bind(*args, **kwargs).arguments)
            if var_kw is not None:
                arguments.update(arguments.pop(var_kw, {}))
            for name, expected in au.items():
                if name == "result" or expected is None or name not in arguments:
                    continue
                value = arguments[name]
                if value is not None:
                    _check_value(func.__name__, f"argument {name!r}", value, expected, arguments)
            result = func(*args, **kwargs)
            if au.get("result") is not None:
                _check_value(func.__name__, "the result", result, au["result"], arguments)
            return result

        wrapper._arg_units = {k: v for k, v in au.items() if k != "result"}
        wrapper._return_unit = au.get("result")
        wrapper._arg_names = list(params)
        return wrapper

    return decorator


# --------------------------------------------------------------------------- unit strings

_MAX_UNIT_STRING = 500


def parse_unit_string(text):
    """Return the Dimension of a unit expression such as ``'siemens/meter**2'``.

    Only names from :data:`all_units`, the number 1, ``*``, ``/``, ``**`` with a
    numeric exponent and parentheses are accepted; anything else raises
    ``ValueError`` naming the offending part. Prefixes are accepted but only the
    dimension is returned (``'mV'`` gives the dimension of volt).
    """
    if not isinstance(text, str):
        raise TypeError(f"Unit string must be a str, got {type(text).__name__}")
    source = text.strip()
    if not source:
        raise ValueError("Empty unit string")
    if len(source) > _MAX_UNIT_STRING:
        raise ValueError(f"Unit string is too long ({len(source)} characters)")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"Invalid unit string {text!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"Invalid unit string {text!r}: nested too deeply") from None
    return _unit_node_dim(tree.body, source)


def _reject(node, source, reason):
    segment = ast.get_source_segment(source, node) or type(node).__name__
    raise ValueError(f"Invalid unit string {source!r}: {segment!r} {reason}")


def _unit_node_dim(node, source):
    if isinstance(node, ast.Name):
        unit = all_units.get(node.id)
        if unit is None:
            _reject(node, source, "is not a known unit")
        return unit.dim
    if isinstance(node, ast.Constant):
        if type(node.value) in (int, float) and node.value == 1:
            return DIMENSIONLESS
        _reject(node, source, "is not allowed (the only number allowed outside an exponent is 1)")
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            return _unit_node_dim(node.left, source) ** _exponent_value(node.right, source)
        if isinstance(node.op, (ast.Mult, ast.Div)):
            left = _unit_node_dim(node.left, source)
            right = _unit_node_dim(node.right, source)
            return left * right if isinstance(node.op, ast.Mult) else left / right
    _reject(node, source, "is not allowed (use unit names, 1, '*', '/', '**' and parentheses)")


def _exponent_value(node, source):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _exponent_value(node.operand, source)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        denominator = _exponent_value(node.right, source)
        if denominator == 0:
            _reject(node, source, "divides by zero")
        return _exponent_value(node.left, source) / denominator
    _reject(node, source, "is not a numeric exponent")


__all__ = [
    "DIMENSIONLESS",
    "Dimension",
    "DimensionMismatchError",
    "Quantity",
    "all_units",
    "check_units",
    "fail_for_dimension_mismatch",
    "get_dimensions",
    "get_unit",
    "have_same_dimensions",
    "in_unit",
    "parse_unit_string",
]
__all__.extend(sorted(all_units))

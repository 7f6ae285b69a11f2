"""NumPy functions that respect units, under Brian2's names (``brian2.units.unitsafefunctions``).

``from spikeforge import *`` exports these, so that a Brian2 script's ``linspace(0*mV, 10*mV,
5)`` or ``arange(0*ms, 100*ms, dt)`` keeps its units, and ``exp(v/mV)`` works on plain numbers,
arrays and dimensionless quantities.  Mathematical functions of quantities with dimensions
(``exp(3*mV)``) raise :class:`~spikeforge.units.DimensionMismatchError`.
"""

from __future__ import annotations

import numpy as np

from spikeforge.units import (
    DIMENSIONLESS,
    DimensionMismatchError,
    Quantity,
    fail_for_dimension_mismatch,
    get_dimensions,
)

# Elementwise functions: NumPy's ufuncs, which check the dimensions of quantities themselves.
log = np.log
log10 = np.log10
exp = np.exp
expm1 = np.expm1
log1p = np.log1p
sin = np.sin
cos = np.cos
tan = np.tan
arcsin = np.arcsin
arccos = np.arccos
arctan = np.arctan
sinh = np.sinh
cosh = np.cosh
tanh = np.tanh
arcsinh = np.arcsinh
arccosh = np.arccosh
arctanh = np.arctanh

# Functions that keep the units of their argument (NumPy dispatches them to Quantity).
diagonal = np.diagonal
ravel = np.ravel
dot = np.dot
where = np.where
linspace = np.linspace


def exprel(x):
    """``(exp(x) - 1)/x``, and 1 at ``x = 0`` (dimensionless ``x``), without loss of precision
    near 0."""
    fail_for_dimension_mismatch(x, error_message="exprel needs a dimensionless argument")
    values = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.where(values == 0, 1.0, np.expm1(values) / np.where(values == 0, 1, values))
    return result if result.ndim else float(result)


def ptp(a, axis=None, out=None, keepdims=False):
    """The range (maximum minus minimum) of ``a``, in its units."""
    dimension = get_dimensions(a)
    values = np.ptp(np.asarray(a), axis=axis, out=out, keepdims=keepdims)
    return values if dimension is DIMENSIONLESS else Quantity(values, dim=dimension)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """The sum along a diagonal of ``a``, in its units."""
    dimension = get_dimensions(a)
    values = np.trace(np.asarray(a), offset, axis1, axis2, dtype, out)
    return values if dimension is DIMENSIONLESS else Quantity(values, dim=dimension)


def ones_like(a, dtype=None, order="K", subok=True, shape=None):
    """An array of ones with the shape of ``a``, without units (as in Brian2)."""
    return np.ones_like(np.asarray(a), dtype=dtype, order=order, shape=shape)


def zeros_like(a, dtype=None, order="K", subok=True, shape=None):
    """An array of zeros with the shape of ``a``, without units (as in Brian2)."""
    return np.zeros_like(np.asarray(a), dtype=dtype, order=order, shape=shape)


def arange(*args, **kwargs):
    """``numpy.arange`` for quantities: ``arange(0*ms, 10*ms, 0.1*ms)`` has units of time.

    Start, stop and step must share dimensions (a plain 0 start goes with any); plain numbers
    give NumPy's result.
    """
    names = ("start", "stop", "step")
    values = {"stop": args[0]} if len(args) == 1 else dict(zip(names, args))
    values.update({k: kwargs.pop(k) for k in names if k in kwargs})
    dims = {get_dimensions(v) for k, v in values.items() if not (k == "start" and _zero(v))}
    if len(dims) > 1:
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        raise DimensionMismatchError(
            f"arange needs start, stop and step of the same dimensions, got {shown}", *dims
        )
    plain = {k: np.asarray(v).item() for k, v in values.items()}
    start, stop, step = plain.get("start", 0), plain.get("stop"), plain.get("step", 1)
    result = np.arange(start, stop, step, **kwargs) if stop is not None else np.arange(start)
    dimension = dims.pop() if dims else DIMENSIONLESS
    return result if dimension is DIMENSIONLESS else Quantity(result, dim=dimension)


def _zero(value) -> bool:
    return get_dimensions(value) is DIMENSIONLESS and np.all(np.asarray(value) == 0)


__all__ = [
    "log",
    "log10",
    "exp",
    "expm1",
    "log1p",
    "exprel",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "diagonal",
    "ravel",
    "trace",
    "dot",
    "where",
    "ones_like",
    "zeros_like",
    "arange",
    "linspace",
    "ptp",
]

"""Tests for spikeforge.units: dimensions, quantities, unit names and unit strings."""

import copy
import pickle

import numpy as np
import pytest

from spikeforge import units
from spikeforge.units import (
    DIMENSIONLESS,
    Dimension,
    DimensionMismatchError,
    Quantity,
    all_units,
    amp,
    check_units,
    fail_for_dimension_mismatch,
    farad,
    get_dimensions,
    get_unit,
    have_same_dimensions,
    hertz,
    in_unit,
    kHz,
    kilogram,
    metre,
    mM,
    molar,
    mole,
    ms,
    mV,
    nA,
    nS,
    ohm,
    pA,
    parse_unit_string,
    pF,
    radian,
    second,
    siemens,
    um,
    um2,
    volt,
)

VOLT = volt.dim
SECOND = second.dim
METRE = metre.dim


# --------------------------------------------------------------------------- Dimension


def test_dimension_instances_are_cached():
    a = Dimension.get((2, 1, -3, -1, 0, 0, 0))
    b = Dimension((2.0, 1, -3, -1, 0, 0, 0))
    assert a is b is VOLT
    assert Dimension.get([0] * 7) is DIMENSIONLESS
    assert hash(a) == hash(b)


def test_dimension_algebra():
    assert (VOLT / amp.dim) is ohm.dim
    assert amp.dim / VOLT is siemens.dim
    assert SECOND**-1 is hertz.dim
    assert 1 / SECOND is hertz.dim
    assert (METRE**2) ** 0.5 is METRE
    assert (METRE ** (1 / 3)) ** 3 is METRE
    assert (VOLT * SECOND) / SECOND is VOLT
    assert DIMENSIONLESS.is_dimensionless and not VOLT.is_dimensionless
    assert VOLT != SECOND


def test_dimension_is_immutable_and_validated():
    with pytest.raises(AttributeError):
        VOLT._dims = (0,) * 7
    with pytest.raises(ValueError):
        Dimension.get((1, 2, 3))
    with pytest.raises(TypeError):
        VOLT**VOLT


@pytest.mark.parametrize(
    "dim, text",
    [
        (VOLT, "V"),
        (amp.dim, "A"),
        (siemens.dim, "S"),
        (farad.dim, "F"),
        (ohm.dim, "ohm"),
        (hertz.dim, "Hz"),
        (SECOND, "s"),
        (METRE, "m"),
        (kilogram.dim, "kg"),
        (mole.dim, "mol"),
        (DIMENSIONLESS, "1"),
        (METRE**2, "m^2"),
        ((volt / second).dim, "m^2 kg s^-4 A^-1"),
        (METRE**0.5, "m^0.5"),
    ],
)
def test_dimension_str(dim, text):
    assert str(dim) == text


def test_dimension_pickle_keeps_identity():
    assert pickle.loads(pickle.dumps(VOLT)) is VOLT
    assert copy.deepcopy(VOLT) is VOLT


# --------------------------------------------------------------------------- unit names


def test_prefixed_units_have_right_values():
    assert float(mV / volt) == pytest.approx(1e-3)
    assert np.asarray(mV).item() == 1e-3
    assert np.asarray(kHz).item() == 1e3 and kHz.dim is hertz.dim
    assert np.asarray(um2).item() == pytest.approx(1e-12) and um2.dim is METRE**2
    assert np.asarray(all_units["cmetre3"]).item() == pytest.approx(1e-6)
    assert np.asarray(all_units["kgram"]).item() == pytest.approx(1.0)
    assert np.asarray(all_units["mgram"]).item() == pytest.approx(1e-6)
    assert np.asarray(mM).item() == pytest.approx(1.0)
    assert np.asarray(molar).item() == pytest.approx(1000.0)
    assert mV == 1e-3 * volt
    assert all_units["mvolt"] is mV


@pytest.mark.parametrize(
    "name",
    [
        "msecond",
        "mvolt",
        "nsiemens",
        "pfarad",
        "uamp",
        "khertz",
        "umetre",
        "umeter",
        "cmetre",
        "mmolar",
        "Mohm",
        "kohm",
        "Gohm",
        "mohm",
        "dametre",
        "Ysecond",
        "ysecond",
        "ms",
        "us",
        "ns",
        "mV",
        "uV",
        "kV",
        "mA",
        "uA",
        "nA",
        "pA",
        "nS",
        "uS",
        "mS",
        "pS",
        "pF",
        "nF",
        "uF",
        "Hz",
        "kHz",
        "MHz",
        "mM",
        "uM",
        "nM",
        "cm",
        "mm",
        "um",
        "nm",
        "km",
        "cm2",
        "cm3",
        "um2",
        "um3",
        "mm2",
        "mm3",
        "metre2",
        "meter3",
        "cmeter2",
        "umetre2",
        "liter",
        "litre",
        "mlitre",
        "radian",
        "steradian",
        "newton",
        "joule",
        "watt",
        "pascal",
        "henry",
        "tesla",
        "weber",
        "coulomb",
        "kelvin",
        "candela",
        "mol",
        "mole",
        "ampere",
        "gram",
        "kilogram",
    ],
)
def test_unit_names_exist_and_are_exported(name):
    unit = all_units[name]
    assert isinstance(unit, Quantity)
    assert getattr(units, name) is unit
    assert name in units.__all__


@pytest.mark.parametrize("name", ["V", "A", "S", "F", "s", "m", "M", "pi"])
def test_no_single_letter_units(name):
    assert name not in all_units
    assert name not in units.__all__


def test_units_cannot_be_modified_in_place():
    unit = mV
    unit *= 2  # binds a new value to the name, as for any scalar quantity
    with pytest.raises(ValueError):
        np.multiply(mV, 2, out=mV)  # the unit's own storage is read-only
    assert np.asarray(mV).item() == 1e-3 and unit == 2 * mV


# --------------------------------------------------------------------------- arithmetic


def test_construction():
    assert (3 * mV).dim is VOLT and float((3 * mV) / volt) == pytest.approx(0.003)
    assert isinstance(mV * 3, Quantity)
    arr = np.array([1.0, 2.0]) * mV
    assert isinstance(arr, Quantity) and arr.shape == (2,)
    assert isinstance([1, 2] * mV, Quantity)
    q = Quantity([1 * mV, 2 * mV])
    assert q.dim is VOLT and np.allclose(np.asarray(q), [1e-3, 2e-3])
    assert Quantity(5, dim=VOLT).dim is VOLT
    assert Quantity(5).dim is DIMENSIONLESS
    with pytest.raises(DimensionMismatchError):
        Quantity([1 * mV, 2 * ms])
    with pytest.raises(DimensionMismatchError):
        Quantity(1 * mV, dim=SECOND)


def test_dimensionless_results_are_plain():
    ratio = (10 * ms) / ms
    assert type(ratio) is float and ratio == pytest.approx(10.0)
    arr = Quantity([1, 2], dim=SECOND) / ms
    assert type(arr) is np.ndarray
    np.testing.assert_allclose(arr, [1000.0, 2000.0])
    assert type(Quantity([1.0, 2.0]).sum()) is float
    assert type(Quantity([1.0, 2.0]) * 2) is np.ndarray
    assert type(3 * mV > 2 * mV) is bool


def test_multiplication_and_division_combine_dimensions():
    current = (3 * mV) * (2 * nS)
    assert current.dim is amp.dim
    assert np.asarray(current).item() == pytest.approx(6e-12)
    assert ((10 * mV) / (2 * ms)).dim is (volt / second).dim
    assert (1 / (5 * ms)).dim is hertz.dim


@pytest.mark.parametrize(
    "op",
    [
        lambda: 3 * mV + 2 * ms,
        lambda: 3 * mV - 2 * ms,
        lambda: 3 * mV + 1,
        lambda: 3 * mV < 2 * ms,
        lambda: 3 * mV == 1,
        lambda: 3 * mV >= 1,
        lambda: 3 * mV + np.array([0, 1]),
        lambda: np.maximum(3 * mV, 2 * nA),
    ],
)
def test_mismatches_raise(op):
    with pytest.raises(DimensionMismatchError):
        op()


def test_mismatch_message_names_dimensions():
    with pytest.raises(DimensionMismatchError) as info:
        _ = 3 * mV + 2 * ms
    assert str(info.value) == "Cannot add volt and second"
    assert info.value.dims == (VOLT, SECOND)


def test_comparisons():
    assert 3 * mV > 2 * mV
    assert not (3 * mV < 2 * mV)
    assert 1 * mV == 0.001 * volt
    np.testing.assert_array_equal(np.array([1, 2, 3]) * mV >= 2 * mV, [False, True, True])
    assert (3 * mV == None) is False  # noqa: E711  (the == operator itself is under test)
    assert (3 * mV != "x") is True


def test_powers():
    area = 4 * um2
    side = area**0.5
    assert side.dim is METRE and np.asarray(side).item() == pytest.approx(2e-6)
    assert ((3 * mV) ** 2).dim is VOLT**2
    assert ((2 * mV) ** -1).dim is VOLT**-1
    with pytest.raises(DimensionMismatchError):
        _ = 2 ** (3 * mV)
    with pytest.raises(DimensionMismatchError):
        _ = (np.array([1.0, 2.0]) * mV) ** np.array([1, 2])


def test_unary_operations():
    x = np.array([-1.0, 2.0]) * mV
    assert (-x).dim is VOLT and np.asarray(-x)[0] == pytest.approx(1e-3)
    assert abs(x).dim is VOLT and np.all(np.asarray(abs(x)) > 0)


def test_in_place_operations():
    x = np.array([1.0, 2.0]) * mV
    x += 1 * mV
    assert x.dim is VOLT
    np.testing.assert_allclose(np.asarray(x), [2e-3, 3e-3])
    x /= ms
    assert isinstance(x, Quantity) and x.dim is (volt / second).dim
    y = np.zeros(2) * mV
    with pytest.raises(DimensionMismatchError):
        y += 1 * ms


def test_float_and_int_conversion():
    """As in Brian2, float() and int() give the SI value whatever the dimensions (lists of
    quantities become arrays of SI values); an index must still be dimensionless."""
    assert float(Quantity(2.5)) == 2.5
    assert int((5 * ms) / ms) == 5
    assert float(3 * mV) == pytest.approx(0.003)
    assert int(3 * second) == 3
    assert np.array_equal(np.array([1 * mV, 2 * mV]), [0.001, 0.002])
    with pytest.raises(DimensionMismatchError):
        [10, 20][1 * mV]


def test_zero_is_compatible_with_any_unit():
    """Brian2's rule: a plain 0 can be added to, subtracted from or compared with a quantity of
    any dimensions, so v > 0 and sum(quantities) work; any other plain number cannot."""
    assert (3 * mV + 0).dim is VOLT and (0 - 3 * mV).dim is VOLT
    assert (3 * mV > 0) and not (-3 * mV > 0) and (3 * mV != 0)
    assert sum([1 * mV, 2 * mV]) == 3 * mV
    assert np.array_equal(np.maximum([-1, 2] * mV, 0), [0, 2] * mV)
    assert (np.zeros(3) + 2 * mV).dim is VOLT


def test_a_temporary_array_times_a_unit():
    """NumPy may reuse a temporary as the output of the next operation ((a*2)*mV): the result
    still has the unit (it used to raise for large arrays)."""
    big = (np.ones(200_000) * 2) * mV
    assert big.dim is VOLT and big[0] == 2 * mV
    plain = np.ones(3)
    result = np.multiply(plain, mV, out=plain)
    assert result.dim is VOLT and np.all(plain == 1e-3)


# --------------------------------------------------------------------------- numpy


def test_ufuncs_on_dimensions():
    assert np.sqrt(4 * um2).dim is METRE
    assert np.asarray(np.sqrt(4 * um2)).item() == pytest.approx(2 * 1e-6)
    assert np.square(3 * mV).dim is VOLT**2
    assert np.abs(-3 * mV).dim is VOLT
    assert type(np.exp((10 * ms) / ms)) in (float, np.float64)
    assert np.sin(radian) == pytest.approx(np.sin(1.0))
    assert type(np.sin(radian)) is float
    np.testing.assert_array_equal(np.isnan(np.array([1.0, np.nan]) * mV), [False, True])


@pytest.mark.parametrize("func", [np.exp, np.log, np.sin, np.cos, np.tanh, np.log10])
def test_transcendental_functions_need_dimensionless(func):
    with pytest.raises(DimensionMismatchError):
        func(3 * mV)


def test_reductions_keep_dimensions():
    x = np.array([1.0, 2.0, 3.0]) * nA
    for result, expected in [
        (np.mean(x), 2e-9),
        (np.sum(x), 6e-9),
        (np.max(x), 3e-9),
        (np.min(x), 1e-9),
        (x.mean(), 2e-9),
        (x.sum(), 6e-9),
        (x.max(), 3e-9),
        (x.min(), 1e-9),
    ]:
        assert isinstance(result, Quantity) and result.dim is amp.dim and result.ndim == 0
        assert np.asarray(result).item() == pytest.approx(expected)
    assert x.std().dim is amp.dim
    assert np.asarray(x.std()).item() == pytest.approx(np.std([1e-9, 2e-9, 3e-9]))
    assert x.var().dim is amp.dim**2
    assert np.std(x).dim is amp.dim
    scalar = 3 * mV
    assert isinstance(np.mean(scalar), Quantity) and np.mean(scalar).ndim == 0
    assert np.sum(scalar).dim is VOLT


def test_axis_reductions_and_prod():
    x = np.arange(6.0).reshape(2, 3) * mV
    m = x.mean(axis=0)
    assert m.shape == (3,) and m.dim is VOLT
    assert x.prod(axis=0).dim is VOLT**2
    assert np.prod(x).dim is VOLT**6


def test_index_results_are_plain():
    x = np.array([3.0, 1.0, 2.0]) * mV
    assert type(x.argmax()) is int and x.argmax() == 0
    assert type(np.argsort(x)) is np.ndarray
    np.testing.assert_array_equal(np.argsort(x), [1, 2, 0])


def test_clip_diff_cumsum():
    x = np.array([1.0, 2.0, 4.0]) * mV
    clipped = np.clip(x, 1.5 * mV, 3 * mV)
    assert clipped.dim is VOLT
    np.testing.assert_allclose(np.asarray(clipped), [1.5e-3, 2e-3, 3e-3])
    with pytest.raises(DimensionMismatchError):
        np.clip(x, 1, 3)
    d = np.diff(x)
    assert d.dim is VOLT and np.allclose(np.asarray(d), [1e-3, 2e-3])
    c = np.cumsum(x)
    assert c.dim is VOLT and np.allclose(np.asarray(c), [1e-3, 3e-3, 7e-3])


def test_indexing_slicing_iteration():
    x = np.array([1.0, 2.0, 3.0]) * mV
    assert isinstance(x[0], Quantity) and x[0].dim is VOLT and x[0].ndim == 0
    assert x[1:].dim is VOLT and len(x[1:]) == 2
    assert x[x > 1.5 * mV].shape == (2,)
    items = list(x)
    assert len(items) == 3 and all(isinstance(i, Quantity) and i.dim is VOLT for i in items)
    assert len(x) == 3
    with pytest.raises(TypeError):
        len(3 * mV)


def test_setitem_checks_dimensions():
    x = np.zeros(3) * mV
    x[0] = 3 * mV
    x[1:] = [1 * mV, 2 * mV]
    np.testing.assert_allclose(np.asarray(x), [3e-3, 1e-3, 2e-3])
    with pytest.raises(DimensionMismatchError):
        x[0] = 5
    with pytest.raises(DimensionMismatchError):
        x[0] = 5 * ms


def test_asarray_gives_si_values():
    x = np.array([1.0, 2.0]) * mV
    plain = np.asarray(x)
    assert type(plain) is np.ndarray
    np.testing.assert_allclose(plain, [1e-3, 2e-3])


def test_allclose_and_array_equal():
    a = np.array([1.0, 2.0]) * pA
    assert np.allclose(a, np.array([1.0, 2.0 + 1e-7]) * pA) is True
    # no absolute tolerance in SI units silently swallowing small quantities
    assert np.allclose(1 * pA, 2 * pA) is False
    assert np.allclose(1 * pA, 1.1 * pA, atol=0.2 * pA) is True
    assert np.array_equal(a, a.copy()) is True
    assert np.array_equal(a, np.asarray(a)) is False
    with pytest.raises(DimensionMismatchError):
        np.allclose(1 * mV, 1 * ms)
    np.testing.assert_array_equal(np.isclose(a, np.array([1.0, 3.0]) * pA), [True, False])


def test_concatenate_and_where():
    x = np.array([1.0, 2.0]) * mV
    joined = np.concatenate([x, x])
    assert joined.dim is VOLT and joined.shape == (4,)
    assert np.vstack([x, x]).dim is VOLT
    with pytest.raises(DimensionMismatchError):
        np.concatenate([x, np.ones(2)])
    chosen = np.where(x > 1.5 * mV, x, 0 * mV)
    assert chosen.dim is VOLT and np.asarray(chosen)[0] == 0


def test_pickle_round_trip():
    x = np.array([1.0, 2.0]) * mV
    loaded = pickle.loads(pickle.dumps(x))
    assert isinstance(loaded, Quantity) and loaded.dim is VOLT
    np.testing.assert_array_equal(np.asarray(loaded), np.asarray(x))
    scalar = pickle.loads(pickle.dumps(5 * nS))
    assert scalar.dim is siemens.dim and scalar.ndim == 0
    assert copy.deepcopy(x).dim is VOLT


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize(
    "value, text",
    [
        (10 * ms, "10. * msecond"),
        (0.01 * volt, "10. * mvolt"),
        (-70 * mV, "-70. * mvolt"),
        (np.array([1.0, 2.0]) * mV, "array([1., 2.]) * mvolt"),
        (200 * pF, "200. * pfarad"),
        (2.5 * kHz, "2.5 * khertz"),
        (3 * kilogram, "3. * kilogram"),
        (2 * mM, "2. * mmolar"),
    ],
)
def test_repr_picks_prefix(value, text):
    assert repr(value) == text


def test_str_and_format():
    assert str(10 * ms) == "10. ms"
    assert str(np.array([1.0, 2.0]) * mV) == "[1. 2.] mV"
    assert f"{3 * mV:.2f}" == "3.00 mV"
    assert repr(5 * um2).endswith("metre ** 2")
    assert str(5 * metre**2 * kilogram) == "5. m^2 kg"
    assert in_unit(0.01 * volt, mV) == "10. mV"


# --------------------------------------------------------------------------- helpers


def test_get_dimensions():
    assert get_dimensions(3 * mV) is VOLT
    assert get_dimensions(3) is DIMENSIONLESS
    assert get_dimensions(2.5) is DIMENSIONLESS
    assert get_dimensions(True) is DIMENSIONLESS
    assert get_dimensions(np.ones(3)) is DIMENSIONLESS
    assert get_dimensions(np.float32(1)) is DIMENSIONLESS
    assert get_dimensions(VOLT) is VOLT
    assert get_dimensions([1 * mV, 2 * mV]) is VOLT
    with pytest.raises(TypeError):
        get_dimensions("volt")


def test_have_same_dimensions_and_fail():
    assert have_same_dimensions(3 * mV, volt)
    assert not have_same_dimensions(3 * mV, ms)
    assert have_same_dimensions(1, 2.0)
    assert fail_for_dimension_mismatch(3 * mV, 1 * volt) == (VOLT, VOLT)
    fail_for_dimension_mismatch(3.0)
    with pytest.raises(DimensionMismatchError, match="expected second, found volt"):
        fail_for_dimension_mismatch(3 * mV, 1 * ms)
    with pytest.raises(DimensionMismatchError, match="dimensionless"):
        fail_for_dimension_mismatch(3 * mV)
    with pytest.raises(DimensionMismatchError, match="custom"):
        fail_for_dimension_mismatch(3 * mV, 1, "custom")


def test_get_unit():
    assert get_unit(VOLT) is volt
    assert get_unit(3 * nS) is siemens
    unit = get_unit((volt / second).dim)
    assert unit.dim is (volt / second).dim and np.asarray(unit).item() == 1.0
    assert get_unit(DIMENSIONLESS).dim is DIMENSIONLESS


# --------------------------------------------------------------------------- check_units


@check_units(v=volt, t=second, flag=bool, n=1, result=amp)
def _current(v, t, flag=False, n=1):
    return v / (1 * ohm)


@check_units(a=volt, b="a")
def _same(a, b):
    return a + b


def test_check_units_accepts_correct_arguments():
    assert _current(3 * mV, 1 * ms, flag=True, n=2).dim is amp.dim
    assert _same(1 * mV, 2 * mV).dim is VOLT
    assert _current._return_unit is amp


def test_check_units_rejects_wrong_dimensions():
    with pytest.raises(DimensionMismatchError) as info:
        _current(3 * ms, 1 * ms)
    message = str(info.value)
    assert "_current" in message and "'v'" in message and "volt" in message
    with pytest.raises(DimensionMismatchError):
        _current(3 * mV, 1 * ms, n=1 * mV)
    with pytest.raises(DimensionMismatchError):
        _same(1 * mV, 2 * ms)


def test_check_units_bool_is_strict():
    with pytest.raises(TypeError):
        _current(3 * mV, 1 * ms, flag=1)


def test_check_units_result():
    @check_units(x=volt, result=second)
    def wrong(x):
        return x

    with pytest.raises(DimensionMismatchError, match="result"):
        wrong(1 * mV)


def test_check_units_unknown_argument():
    with pytest.raises(ValueError):

        @check_units(y=volt)
        def f(x):
            return x


# --------------------------------------------------------------------------- unit strings


@pytest.mark.parametrize(
    "text, expected",
    [
        ("volt", VOLT),
        ("1", DIMENSIONLESS),
        ("volt/second", (volt / second).dim),
        ("siemens/meter**2", (siemens / metre**2).dim),
        ("amp/meter**2", (amp / metre**2).dim),
        ("metre", METRE),
        ("(mV)", VOLT),
        ("1/second", hertz.dim),
        ("Hz", hertz.dim),
        ("  farad / metre ** 2 ", (farad / metre**2).dim),
        ("meter**-2", METRE**-2),
        ("metre**(1/2)", METRE**0.5),
        ("(volt*second)/(amp)", (volt * second / amp).dim),
    ],
)
def test_parse_unit_string_accepts(text, expected):
    assert parse_unit_string(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "volt; import os",
        "volt.__class__",
        "foo",
        "2*volt",
        "volt**volt",
        "volt + volt",
        "",
        "lambda: 1",
        "volt if 1 else second",
        "[volt]",
        "True",
        "'volt'",
        "volt**'2'",
        "boolean",
        "integer",
    ],
)
def test_parse_unit_string_rejects(text):
    with pytest.raises(ValueError):
        parse_unit_string(text)


def test_parse_unit_string_error_names_offending_text():
    with pytest.raises(ValueError, match="__class__"):
        parse_unit_string("volt.__class__")
    with pytest.raises(ValueError, match="wibble"):
        parse_unit_string("volt/wibble")


def test_um_alias_is_micrometre():
    assert um.dim is METRE and np.asarray(um).item() == pytest.approx(1e-6)


def test_numpy_testing_helpers_and_round():
    a = np.array([1.0, 2.0]) * mV
    np.testing.assert_allclose(a, a * (1 + 1e-9))
    with pytest.raises((AssertionError, DimensionMismatchError)):
        np.testing.assert_allclose(a, a * 1.1)
    rounded = np.round(np.array([1.23456]) * mV, 4)
    assert rounded.dim is VOLT and np.asarray(rounded)[0] == pytest.approx(1.2e-3)
    assert np.allclose(a, a, atol=0) is True


def test_in_place_arithmetic_on_a_scalar_quantity_makes_a_new_value():
    # Brian2's units guide: `x = 1*mV; y = x; x *= 2` leaves y at 1 mV, while arrays change in
    # place for every name bound to them.
    x = 1 * mV
    y = x
    x *= 2
    assert x == 2 * mV and y == 1 * mV
    for operation, expected in [
        (lambda v: v.__iadd__(1 * mV), 4 * mV),
        (lambda v: v.__isub__(1 * mV), 2 * mV),
        (lambda v: v.__itruediv__(3), 1 * mV),
        (lambda v: v.__ifloordiv__(2 * mV), 1),
        (lambda v: v.__imod__(2 * mV), 1 * mV),
        (lambda v: v.__ipow__(2), 9 * mV**2),
    ]:
        before = 3 * mV
        result = operation(before)
        assert result is not before and before == 3 * mV
        assert np.allclose(np.asarray(result), np.asarray(expected))
        assert units.get_dimensions(result) is units.get_dimensions(expected)
    # a unit bound to another name is never changed (it used to refuse: read-only)
    u = mV
    u *= 2
    assert u == 2 * mV and mV == 0.001 * volt
    with pytest.raises(DimensionMismatchError):
        x += 1 * second
    q = [1, 2] * mV
    r = q
    q += 1 * mV
    assert r is q and list(np.asarray(r)) == [0.002, 0.003]


def test_in_unit_and_in_best_unit_methods():
    assert (3 * mV).in_unit(mV) == units.in_unit(3 * mV, mV) == "3. mV"
    assert ([1, 2] * nA).in_unit(pA) == "[1000. 2000.] pA"
    assert (3.14159 * mV).in_best_unit() == str(3.14159 * mV)
    assert (3.14159 * mV).in_best_unit(2) == "3.14 mV"
    with pytest.raises(DimensionMismatchError):
        (3 * mV).in_unit(second)

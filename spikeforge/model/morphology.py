"""Morphologies: the tree of sections a :class:`~spikeforge.model.spatialneuron.SpatialNeuron`
is made of (Brian2's ``Morphology``, ``Soma``, ``Section`` and ``Cylinder``).

A morphology is a tree of *sections*; each section is an unbranched chain of ``n``
*compartments*.  A child section starts at the end of its parent.  Sections are attached by
name (``morpho.dend = Cylinder(...)``, ``morpho['dend'] = ...``) and get a number too (``'1'``,
``'2'``... in the order they were attached); ``morpho.LR`` is ``morpho.L.R`` when every letter
is one of ``LR123456789``.

Compartments are numbered depth first: a section's compartments, then each child's subtree in
the order the children were attached (Brian2's numbering).  Geometry is stored in SI units as
plain floats and returned as quantities:

- a :class:`Soma` is one isopotential sphere: ``area = pi d**2``, ``length = diameter``, and a
  very small axial resistance to its children;
- a :class:`Section` is a chain of truncated cones, given ``n + 1`` diameters (at the start and
  at the end of every compartment) and either ``n`` lengths or ``n + 1`` points;
- a :class:`Cylinder` has one diameter and a total length (or a start and an end point).

The conductance between the middle of a compartment and either of its ends is
``r_length / Ri``, with ``r_length_1`` (start half) and ``r_length_2`` (end half) in meters:
``pi/2 * d_a * d_b / length`` of the cone between the two diameters ``d_a`` and ``d_b`` of the
half (a cylinder: ``pi d**2 / (2 length)``).
"""

from __future__ import annotations

import copy
import numbers
from pathlib import Path

import numpy as np

from spikeforge.units import Quantity, get_dimensions, have_same_dimensions, meter

#: Letters of the shorthand ``morpho.LR`` for ``morpho.L.R``.
SHORTHAND = set("LR123456789")

#: ``r_length`` of a soma: a fixed, large value (an axial resistance close to zero).
SOMA_R_LENGTH = 1.0

_METER_DIM = get_dimensions(meter)


def _meters(value, what: str, owner: str) -> np.ndarray:
    """``value`` (a length quantity, or a sequence of them) as floats in meters."""
    if not (isinstance(value, Quantity) or _is_length_sequence(value)) or not have_same_dimensions(
        value, meter
    ):
        raise TypeError(f"{owner}: {what} must be a length (e.g. 10*um), not {value!r}")
    return np.asarray(np.asarray(value, dtype=float) if not isinstance(value, Quantity) else value)


def _is_length_sequence(value) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, Quantity) for v in value)


def _as_meters(value) -> Quantity:
    return np.asarray(value, dtype=float) * meter


class Children:
    """The children of a section: a mapping from names to subtrees that iterates over the
    subtrees, in the order they were attached.  Each child has the name it was given and a
    number (``'1'``, ``'2'``...)."""

    def __init__(self, owner: Morphology):
        self._owner = owner
        self._list: list[Morphology] = []
        self._names: dict[str, Morphology] = {}
        self._given: list[str] = []  # the name each child was attached with, in order

    def __iter__(self):
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def __contains__(self, name) -> bool:
        return name in self._names

    def __getitem__(self, name: str) -> Morphology:
        if not isinstance(name, str):
            raise TypeError(f"a child is named by a string, not {name!r}")
        return self._names[name]

    def name(self, child: Morphology) -> str | None:
        """The name ``child`` was attached with."""
        for given, c in zip(self._given, self._list):
            if c is child:
                return given
        return None

    def add(self, name: str, child: Morphology) -> None:
        """Attach ``child`` under ``name`` (and its number)."""
        if not isinstance(child, Morphology):
            raise TypeError(f"only a Soma, Section or Cylinder can be attached, not {child!r}")
        if name in self._names and self._names[name] is not child:
            raise AttributeError(f"the name {name!r} is already used for a subtree")
        if child._parent is not None and child._parent is not self._owner:
            raise ValueError(
                f"this {type(child).__name__} is already attached to another section; "
                "attach a copy (a morphology is a tree)"
            )
        ancestor: Morphology | None = self._owner
        while ancestor is not None:
            if ancestor is child:
                raise ValueError(
                    f"attaching {name!r} would make a loop: the section is an ancestor of "
                    "the one it is attached to (a morphology is a tree)"
                )
            ancestor = ancestor._parent
        if all(c is not child for c in self._list):
            self._list.append(child)
            self._given.append(name)
            self._names[str(len(self._list))] = child
        self._names[name] = child
        child._parent = self._owner

    def remove(self, name: str) -> None:
        """Detach the child called ``name``."""
        if name not in self._names:
            raise AttributeError(f"there is no subtree {name!r}")
        child = self._names[name]
        kept = [(g, c) for g, c in zip(self._given, self._list) if c is not child]
        self._given = [g for g, _ in kept]
        self._list = [c for _, c in kept]
        self._names = {k: v for k, v in self._names.items() if v is not child}
        child._parent = None

    def __repr__(self) -> str:
        names = {self.name(c): c for c in self._list}
        return f"<{len(self._list)} children{': ' + repr(names) if names else ''}>"


class MorphologyIndexWrapper:
    """``morpho.indices[...]``: the absolute compartment indices of ``morpho[...]``."""

    def __init__(self, morphology):
        self._morphology = morphology

    def __getitem__(self, item):
        if isinstance(item, str):
            raise NotImplementedError("a morphology cannot be indexed with a string condition")
        return self._morphology._indices(item)


class Morphology:
    """A section of a neuron's tree and, through its children, the subtree below it.

    Do not make a ``Morphology`` itself: make a :class:`Soma`, :class:`Section` or
    :class:`Cylinder`, and attach children by name (``morpho.axon = Cylinder(...)``).
    """

    def __init__(self, n, type=None):
        if isinstance(n, str):
            raise TypeError(
                "n is the number of compartments; to load a morphology from a file use "
                "Morphology.from_file(filename)"
            )
        if isinstance(n, Quantity) and not have_same_dimensions(n, 1):
            raise TypeError(f"the number of compartments n must be a number, not {n!r}")
        if int(n) != n:
            raise TypeError(f"the number of compartments n must be an integer, not {n!r}")
        if int(n) <= 0:
            raise ValueError(f"a section needs at least one compartment, not n={n!r}")
        object.__setattr__(self, "_n", int(n))
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "_children", Children(self))
        object.__setattr__(self, "indices", MorphologyIndexWrapper(self))

    # the tree -------------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """The number of compartments of this section."""
        return self._n

    def __len__(self):
        raise TypeError(
            "the 'length' of a morphology is ambiguous: use .n for the compartments of this "
            "section or .total_compartments for those of the whole subtree"
        )

    @property
    def parent(self) -> Morphology | None:
        """The section this one is attached to (None for the root)."""
        return self._parent

    @property
    def children(self) -> Children:
        """The sections attached to this one."""
        return self._children

    @property
    def total_compartments(self) -> int:
        """The compartments of this section and of every section below it."""
        return self.n + sum(child.total_compartments for child in self.children)

    @property
    def total_sections(self) -> int:
        """This section and every section below it."""
        return 1 + sum(child.total_sections for child in self.children)

    def _root(self) -> Morphology:
        root = self
        while root._parent is not None:
            root = root._parent
        return root

    def _path(self) -> str:
        """The section's name in its tree (``'dend.L'``; ``''`` for the root)."""
        names = []
        section = self
        while section._parent is not None:
            names.append(section._parent.children.name(section) or "?")
            section = section._parent
        return ".".join(reversed(names))

    def _label(self) -> str:
        """The section for messages: ``section 'dend.L' (Cylinder, 30 compartments)``."""
        path = self._path()
        where = f"section {path!r}" if path else "the root section"
        return f"{where} ({type(self).__name__}, {self.n} compartment{'s' * (self.n != 1)})"

    def _start_index(self) -> int:
        """The absolute index of this section's first compartment (depth-first numbering from
        the root of its tree)."""
        index = 0
        for section in self._root()._sections():
            if section is self:
                return index
            index += section.n
        raise AssertionError("a section is not in its own tree")  # pragma: no cover

    def _sections(self):
        """This section and the sections below it, depth first (compartment order)."""
        yield self
        for child in self.children:
            yield from child._sections()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except (AttributeError, KeyError):
            raise AttributeError(
                f"{type(self).__name__} has no attribute or subtree {name!r}"
            ) from None

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, Morphology) and not name.startswith("_"):
            self[name] = value
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __setitem__(self, name, child) -> None:
        name = str(name)
        if len(name) > 1 and set(name) <= SHORTHAND:
            self.children[name[0]][name[1:]] = child
        else:
            self.children.add(name, child)

    def __delitem__(self, name) -> None:
        name = str(name)
        if len(name) > 1 and set(name) <= SHORTHAND:
            del self.children[name[0]][name[1:]]
        else:
            self.children.remove(name)

    def __getitem__(self, item):
        """A subtree by name (``morpho['axon']``, ``morpho['LR']``), or compartments of this
        section: ``morpho[3]``, ``morpho[2:5]``, ``morpho[10*um]`` (the compartment at that
        distance from the section's start), ``morpho[10*um:50*um]``."""
        if isinstance(item, str):
            if len(item) > 1 and set(item) <= SHORTHAND and item not in self.children:
                return self.children[item[0]][item[1:]]
            if item in self.children:
                return self.children[item]
            raise AttributeError(f"there is no subtree {item!r}")
        start, stop = self._compartment_range(item)
        return SubMorphology(self, start, stop)

    def _compartment_range(self, item) -> tuple[int, int]:
        """``(i, j)``: the compartments ``i..j-1`` of this section that ``item`` selects."""
        ends = np.cumsum(self._length_)  # end of each compartment along the section
        total = ends[-1]
        what = self._label()
        if isinstance(item, slice):
            if item.step not in (None, 1):
                raise TypeError(f"{what}: a slice of compartments cannot have a step")
            bounds = (item.start, item.stop)
            if all(b is None or isinstance(b, Quantity) for b in bounds) and any(
                b is not None for b in bounds
            ):
                for bound in bounds:
                    if bound is not None and not have_same_dimensions(bound, meter):
                        raise TypeError(f"{what}: slice by lengths or by integers, not {bound!r}")
                if item.start is None:
                    i = 0
                else:
                    start = float(item.start)
                    near = np.abs(start - ends)
                    i = (
                        int(np.argmin(near)) + 1
                        if near.min() < 1e-12 * total
                        else int(np.searchsorted(ends, start))
                    )
                if item.stop is None:
                    j = self.n
                else:
                    stop = float(item.stop)
                    near = np.abs(stop - ends)
                    j = (
                        int(np.argmin(near)) + 1
                        if near.min() < 1e-12 * total
                        else int(np.searchsorted(ends, stop)) + 1
                    )
                j = min(j, self.n)
            else:
                for bound in bounds:
                    if bound is not None and (
                        not isinstance(bound, numbers.Integral) or isinstance(bound, bool)
                    ):
                        raise TypeError(f"{what}: slice by lengths or by integers, not {bound!r}")
                i, j, _ = item.indices(self.n)
            if j <= i:
                raise IndexError(f"{what}: the slice {item!r} selects no compartment")
            return i, j
        if isinstance(item, Quantity):
            if not have_same_dimensions(item, meter) or np.ndim(item) != 0:
                raise TypeError(f"{what}: index by a single length (e.g. 10*um), not {item!r}")
            position = float(item)
            if position < 0 or position > (1 + 1e-12) * total:
                raise IndexError(
                    f"{what}: the position {item} is outside the section (0 to {total * meter})"
                )
            points = np.concatenate([[0.0], ends])
            near = np.abs(position - points)
            if near.min() < 1e-12 * total:
                i = int(np.argmin(near))
            else:
                i = int(np.searchsorted(points, position)) - 1
            i = min(i, self.n - 1)
            return i, i + 1
        if isinstance(item, numbers.Integral) and not isinstance(item, bool):
            index = int(item) + (self.n if item < 0 else 0)
            if not 0 <= index < self.n:
                raise IndexError(f"{what}: compartment {item} does not exist")
            return index, index + 1
        raise TypeError(f"{what}: cannot index with {item!r}")

    def _indices(self, item=None, index_var="_idx"):
        """Absolute compartment indices of this section (one int for a one-compartment
        section), or of ``self[item]``."""
        if item is not None and item != slice(None):
            return self[item]._indices()
        start = self._start_index()
        if self.n == 1 and item is None:
            return start
        return np.arange(start, start + self.n)

    def topology(self) -> Topology:
        """A printable picture of the tree (``print(morpho.topology())``)."""
        return Topology(self)

    def generate_coordinates(
        self,
        section_randomness: float = 0.0,
        compartment_randomness: float = 0.0,
        overwrite_existing: bool = False,
    ) -> Morphology:
        """A copy of this morphology with coordinates for the sections that have none (all of
        them with ``overwrite_existing``), for plotting; the electrical properties stay.

        The root starts at the origin along x; a soma's children leave it evenly spread in the
        x-y plane, another section's children fan out within 45 degrees of their parent's
        direction.  ``section_randomness`` and ``compartment_randomness`` (degrees) turn each
        section, and each compartment within its section, away from that direction by an angle
        drawn from an exponential distribution of that mean (NumPy's global generator), about a
        random axis; 0 (the default) is deterministic and keeps everything in the x-y plane.
        """
        for name, value in (
            ("section_randomness", section_randomness),
            ("compartment_randomness", compartment_randomness),
        ):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative angle in degrees, not {value!r}")
        copy_ = copy.deepcopy(self)
        object.__setattr__(copy_, "_parent", None)
        _place(
            copy_,
            np.zeros(3),
            np.array([1.0, 0.0, 0.0]),
            np.radians(section_randomness),
            np.radians(compartment_randomness),
            overwrite_existing,
        )
        return copy_

    # geometry -------------------------------------------------------------------------------------
    @property
    def length(self) -> Quantity:
        """The length of each compartment of this section."""
        return _as_meters(self._length_)

    @property
    def diameter(self) -> Quantity:
        """The diameter at the middle of each compartment."""
        return _as_meters(self._diameter_)

    @property
    def area(self) -> Quantity:
        """The membrane area of each compartment."""
        return _as_meters(self._area_) * meter

    @property
    def volume(self) -> Quantity:
        """The volume of each compartment."""
        return _as_meters(self._volume_) * meter**2

    @property
    def r_length_1(self) -> Quantity:
        """``r_length`` of the first half of each compartment (see the module's text)."""
        return _as_meters(self._r_length_1_)

    @property
    def r_length_2(self) -> Quantity:
        """``r_length`` of the second half of each compartment."""
        return _as_meters(self._r_length_2_)

    @property
    def distance(self) -> Quantity:
        """The distance from the root to the middle of each compartment, along the tree."""
        return _as_meters(self._distance_)

    @property
    def end_distance(self) -> Quantity:
        """The distance from the root to the end of this section."""
        return float(self._end_distance_) * meter

    @property
    def _parent_end_distance_(self) -> float:
        return self._parent._end_distance_ if self._parent is not None else 0.0

    @property
    def _distance_(self) -> np.ndarray:
        lengths = self._length_
        return self._parent_end_distance_ + np.cumsum(lengths) - 0.5 * lengths

    @property
    def _end_distance_(self) -> float:
        return float(self._parent_end_distance_ + np.sum(self._length_))

    def _coordinate(self, axis: int, where: str):
        points = self._points_(axis)
        if points is None:
            return None
        start, end = points[:-1], points[1:]
        values = {"start": start, "end": end, "middle": 0.5 * (start + end)}[where]
        return _as_meters(values)

    def _points_(self, axis: int):
        """The absolute coordinates along ``axis`` of the ``n + 1`` points of this section, or
        None without coordinates."""
        return None

    @property
    def x(self):
        """The x coordinate of the middle of each compartment (None without coordinates)."""
        return self._coordinate(0, "middle")

    @property
    def start_x(self):
        """The x coordinate of the start of each compartment (None without coordinates)."""
        return self._coordinate(0, "start")

    @property
    def end_x(self):
        """The x coordinate of the end of each compartment (None without coordinates)."""
        return self._coordinate(0, "end")

    @property
    def y(self):
        """The y coordinate of the middle of each compartment (None without coordinates)."""
        return self._coordinate(1, "middle")

    @property
    def start_y(self):
        """The y coordinate of the start of each compartment (None without coordinates)."""
        return self._coordinate(1, "start")

    @property
    def end_y(self):
        """The y coordinate of the end of each compartment (None without coordinates)."""
        return self._coordinate(1, "end")

    @property
    def z(self):
        """The z coordinate of the middle of each compartment (None without coordinates)."""
        return self._coordinate(2, "middle")

    @property
    def start_z(self):
        """The z coordinate of the start of each compartment (None without coordinates)."""
        return self._coordinate(2, "start")

    @property
    def end_z(self):
        """The z coordinate of the end of each compartment (None without coordinates)."""
        return self._coordinate(2, "end")

    # loading --------------------------------------------------------------------------------------
    @staticmethod
    def from_points(points, spherical_soma: bool = True) -> Morphology:
        """A morphology from SWC-style points: a sequence of ``(index, type, x, y, z,
        diameter, parent)`` with coordinates and diameters in µm and ``parent`` the index of
        the parent point (-1 for the root).  Unbranched runs of points become sections;
        a single soma point becomes a :class:`Soma` (with ``spherical_soma``)."""
        return _from_points(list(points), spherical_soma)

    @staticmethod
    def from_swc_file(filename, spherical_soma: bool = True) -> Morphology:
        """Load a morphology from an SWC file (the NeuroMorpho format)."""
        return _from_points(_read_swc(Path(filename)), spherical_soma)

    @staticmethod
    def from_file(filename, spherical_soma: bool = True) -> Morphology:
        """Load a morphology from a file; only SWC (``.swc``) is supported."""
        path = Path(filename)
        if path.suffix.lower() != ".swc":
            raise NotImplementedError(
                f"cannot load {path.name!r}: only SWC files (.swc) are supported"
            )
        return Morphology.from_swc_file(path, spherical_soma)


class Soma(Morphology):
    """A spherical, isopotential soma of the given ``diameter`` (one compartment)."""

    def __init__(self, diameter, x=None, y=None, z=None, type="soma"):
        super().__init__(1, type)
        d = _meters(diameter, "the diameter", "Soma")
        if d.size != 1:
            raise TypeError("Soma: the diameter is one value")
        if float(d.reshape(-1)[0]) <= 0:
            raise ValueError(f"Soma: the diameter must be positive, not {diameter!r}")
        object.__setattr__(self, "_d", float(d.reshape(-1)[0]))
        coordinates = [x, y, z]
        if any(c is not None for c in coordinates):
            coordinates = [
                0.0 if c is None else float(_meters(c, "a coordinate", "Soma").reshape(-1)[0])
                for c in coordinates
            ]
            object.__setattr__(self, "_xyz", coordinates)
        else:
            object.__setattr__(self, "_xyz", None)

    def __repr__(self) -> str:
        return f"Soma(diameter={self._d * meter!r})"

    @property
    def _length_(self) -> np.ndarray:
        return np.array([self._d])

    @property
    def _diameter_(self) -> np.ndarray:
        return np.array([self._d])

    @property
    def _area_(self) -> np.ndarray:
        return np.array([np.pi * self._d**2])

    @property
    def _volume_(self) -> np.ndarray:
        return np.array([np.pi * self._d**3 / 6])

    @property
    def _r_length_1_(self) -> np.ndarray:
        return np.array([SOMA_R_LENGTH])

    _r_length_2_ = _r_length_1_

    @property
    def _distance_(self) -> np.ndarray:
        # a soma is a point: at its parent's end, or at the root
        return np.array([self._parent_end_distance_])

    @property
    def _end_distance_(self) -> float:
        return float(self._parent_end_distance_)

    def _points_(self, axis: int):
        if self._xyz is None:
            return None
        return np.array([self._xyz[axis], self._xyz[axis]])


class Section(Morphology):
    """An unbranched section of ``n`` compartments, each a truncated cone.

    ``diameter`` has ``n + 1`` values (at the start, then at the end of every compartment).
    Give either ``length`` (``n`` values, one per compartment) or ``x``/``y``/``z`` (``n + 1``
    points each, relative to the end of the parent section).
    """

    def __init__(self, diameter, n=1, length=None, x=None, y=None, z=None, type=None):
        super().__init__(n, type)
        owner = type_name = f"{self.__class__.__name__}"
        d = _meters(diameter, "the diameter", owner).reshape(-1)
        if d.size != self.n + 1:
            raise TypeError(f"{type_name}: give n + 1 = {self.n + 1} diameters, not {d.size}")
        self._init_geometry(d, length, (x, y, z), self.n + 1, owner)

    def _init_geometry(self, diameters, length, coordinates, n_points, owner) -> None:
        if np.any(~np.isfinite(diameters)) or np.any(diameters <= 0):
            raise ValueError(f"{owner}: every diameter must be positive")
        object.__setattr__(self, "_diameters", diameters)
        given = [c is not None for c in coordinates]
        if any(given) and length is not None:
            raise TypeError(f"{owner}: give a length or coordinates, not both")
        if length is not None:
            lengths = self._lengths_from(_meters(length, "the length", owner), owner)
            object.__setattr__(self, "_lengths", lengths)
            object.__setattr__(self, "_relative", None)
        elif any(given):
            relative = []
            for name, c in zip("xyz", coordinates):
                if c is None:
                    relative.append(np.zeros(self.n + 1))
                    continue
                values = _meters(c, f"{name}", owner).reshape(-1)
                if values.size != n_points:
                    raise TypeError(f"{owner}: {name} needs {n_points} values, not {values.size}")
                relative.append(self._points_from(values))
            relative_array = np.array(relative)
            lengths = np.sqrt(np.sum(np.diff(relative_array, axis=1) ** 2, axis=0))
            object.__setattr__(self, "_lengths", lengths)
            object.__setattr__(self, "_relative", relative_array)
        else:
            raise TypeError(f"{owner}: give the length, or x, y and/or z coordinates")
        if np.any(~np.isfinite(self._lengths)) or np.any(self._lengths <= 0):
            raise ValueError(
                f"{owner}: every compartment needs a positive length (a zero-length "
                "compartment has no axial resistance)"
            )

    def _lengths_from(self, length: np.ndarray, owner: str) -> np.ndarray:
        length = length.reshape(-1)
        if length.size != self.n:
            raise TypeError(f"{owner}: give n = {self.n} lengths, not {length.size}")
        return length.astype(float)

    def _points_from(self, values: np.ndarray) -> np.ndarray:
        return values.astype(float)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, length={np.sum(self._lengths) * meter!r})"

    @property
    def start_diameter(self) -> Quantity:
        """The diameter at the start of each compartment."""
        return _as_meters(self._diameters[:-1])

    @property
    def end_diameter(self) -> Quantity:
        """The diameter at the end of each compartment."""
        return _as_meters(self._diameters[1:])

    @property
    def _length_(self) -> np.ndarray:
        return self._lengths

    @property
    def _diameter_(self) -> np.ndarray:
        return 0.5 * (self._diameters[:-1] + self._diameters[1:])

    @property
    def _area_(self) -> np.ndarray:
        d1, d2 = self._diameters[:-1], self._diameters[1:]
        # the lateral surface of a truncated cone (without its two disks)
        return np.pi / 2 * (d1 + d2) * np.sqrt((d1 - d2) ** 2 / 4 + self._lengths**2)

    @property
    def _volume_(self) -> np.ndarray:
        d1, d2 = self._diameters[:-1], self._diameters[1:]
        return np.pi * self._lengths * (d1**2 + d1 * d2 + d2**2) / 12

    @property
    def _r_length_1_(self) -> np.ndarray:
        d1 = self._diameters[:-1]
        return np.pi / 2 * d1 * self._diameter_ / self._lengths

    @property
    def _r_length_2_(self) -> np.ndarray:
        d2 = self._diameters[1:]
        return np.pi / 2 * self._diameter_ * d2 / self._lengths

    def _points_(self, axis: int):
        if self._relative is None:
            return None
        parent = self._parent
        origin = 0.0
        if parent is not None:
            parent_points = parent._points_(axis)
            origin = parent_points[-1] if parent_points is not None else np.nan
        return origin + self._relative[axis]


class Cylinder(Section):
    """A cylindrical section: one ``diameter``, and either the total ``length`` (split into
    ``n`` equal compartments) or the start and end points (``x=[0, 100]*um``...)."""

    def __init__(self, diameter, n=1, length=None, x=None, y=None, z=None, type=None):
        Morphology.__init__(self, n, type)
        d = _meters(diameter, "the diameter", "Cylinder").reshape(-1)
        if d.size != 1:
            raise TypeError("Cylinder: the diameter is one value (use Section for a taper)")
        self._init_geometry(np.full(self.n + 1, float(d[0])), length, (x, y, z), 2, "Cylinder")

    def _lengths_from(self, length: np.ndarray, owner: str) -> np.ndarray:
        if length.size != 1:
            raise TypeError(f"{owner}: the length is one value (the total length)")
        return np.full(self.n, float(length.reshape(-1)[0]) / self.n)

    def _points_from(self, values: np.ndarray) -> np.ndarray:
        return np.linspace(values[0], values[1], self.n + 1)

    def __repr__(self) -> str:
        return (
            f"Cylinder(diameter={self._diameters[0] * meter!r}, n={self.n}, "
            f"length={np.sum(self._lengths) * meter!r})"
        )

    @property
    def _area_(self) -> np.ndarray:
        return np.pi * self._diameter_ * self._lengths

    @property
    def _volume_(self) -> np.ndarray:
        return np.pi * self._diameter_**2 / 4 * self._lengths

    @property
    def _r_length_1_(self) -> np.ndarray:
        return np.pi / 2 * self._diameter_**2 / self._lengths

    _r_length_2_ = _r_length_1_


class SubMorphology:
    """Compartments ``i..j-1`` of one section (``morpho[10*um:50*um]``, ``morpho[3]``)."""

    def __init__(self, section: Morphology, i: int, j: int):
        self._section = section
        self._i = i
        self._j = j
        self.indices = MorphologyIndexWrapper(self)

    @property
    def n(self) -> int:
        return self._j - self._i

    def __len__(self) -> int:
        return self.n

    def _indices(self, item=None, index_var="_idx"):
        if item is not None and item != slice(None):
            raise TypeError("a part of a section cannot be indexed further")
        start = self._section._start_index() + self._i
        if self.n == 1 and item is None:
            return start
        return np.arange(start, start + self.n)

    def __int__(self) -> int:
        if self.n != 1:
            raise TypeError(f"{self.n} compartments are not one index")
        return int(self._indices())

    __index__ = __int__

    def __repr__(self) -> str:
        return f"<compartments {self._i}..{self._j - 1} of {self._section!r}>"

    def _part(self, values):
        return values[self._i : self._j]

    length = property(lambda self: self._part(self._section.length), doc="Lengths.")
    diameter = property(lambda self: self._part(self._section.diameter), doc="Diameters.")
    area = property(lambda self: self._part(self._section.area), doc="Membrane areas.")
    volume = property(lambda self: self._part(self._section.volume), doc="Volumes.")
    distance = property(lambda self: self._part(self._section.distance), doc="Distances.")
    r_length_1 = property(lambda self: self._part(self._section.r_length_1), doc="r_length_1.")
    r_length_2 = property(lambda self: self._part(self._section.r_length_2), doc="r_length_2.")


class Topology:
    """The tree of a morphology as text, one line per section."""

    def __init__(self, morphology: Morphology):
        self.morphology = morphology

    def __str__(self) -> str:
        lines: list[str] = []

        def walk(section: Morphology, name: str, depth: int) -> None:
            label = f"{name} " if name else ""
            lines.append(
                f"{'  ' * depth}{label}{type(section).__name__} "
                f"({section.n} compartment{'s' if section.n != 1 else ''})"
            )
            for child in section.children:
                walk(child, section.children.name(child) or "", depth + 1)

        walk(self.morphology, "", 0)
        return "\n".join(lines)

    __repr__ = __str__


# flattening for the cable solver ------------------------------------------------------------------
class FlatMorphology:
    """A morphology's compartments as arrays (absolute indices), and the tree the cable
    solver eliminates on.

    The solver's unknowns are the compartments' voltages and one node at every branch point
    (the end of a section with children): a node has no capacitance, it joins the end half of
    the parent's last compartment and the start halves of the children's first compartments.
    ``order`` lists the unknowns parents first (compartment ``k`` is unknown ``k``, node ``m``
    is unknown ``N + m``); ``parent[p]`` is the position in ``order`` of the parent of the
    unknown at position ``p`` (-1 for the root), and ``link[p]`` says which conductance joins
    them: ``('inner', k)`` between compartments ``k - 1`` and ``k`` of one section,
    ``('start', k)`` the start half of compartment ``k``, ``('end', k)`` its end half.
    """

    def __init__(self, morphology: Morphology):
        sections = list(morphology._sections())
        self.sections = sections
        self.n = sum(s.n for s in sections)
        self.length = np.concatenate([s._length_ for s in sections])
        self.diameter = np.concatenate([s._diameter_ for s in sections])
        self.area = np.concatenate([s._area_ for s in sections])
        self.volume = np.concatenate([s._volume_ for s in sections])
        self.distance = np.concatenate([s._distance_ for s in sections])
        self.r_length_1 = np.concatenate([s._r_length_1_ for s in sections])
        self.r_length_2 = np.concatenate([s._r_length_2_ for s in sections])
        has = [s._points_(0) is not None for s in sections]
        self.has_coordinates = any(has)
        if self.has_coordinates:
            self.coordinates = [
                np.concatenate(
                    [
                        0.5 * (p[:-1] + p[1:])
                        if (p := s._points_(axis)) is not None
                        else np.full(s.n, np.nan)
                        for s in sections
                    ]
                )
                for axis in range(3)
            ]
        starts, index = {}, 0
        for section in sections:
            starts[id(section)] = index
            index += section.n
        order: list[int] = []
        parent_of: dict[int, int] = {}  # unknown -> parent unknown
        link_of: dict[int, tuple[str, int]] = {}
        nodes = 0

        def visit(section: Morphology, attach: int | None, via_start: bool) -> None:
            nonlocal nodes
            first = starts[id(section)]
            for k in range(first, first + section.n):
                order.append(k)
                if k == first:
                    if attach is not None:
                        parent_of[k] = attach
                        link_of[k] = ("start", k)
                else:
                    parent_of[k] = k - 1
                    link_of[k] = ("inner", k)
            last = first + section.n - 1
            if len(section.children):
                node = self.n + nodes
                nodes += 1
                order.append(node)
                parent_of[node] = last
                link_of[node] = ("end", last)
                for child in section.children:
                    visit(child, node, True)

        visit(morphology, None, False)
        self.n_nodes = nodes
        position = {unknown: p for p, unknown in enumerate(order)}
        self.order = np.array(order, dtype=np.int32)
        self.parent = np.array(
            [position[parent_of[u]] if u in parent_of else -1 for u in order],
            dtype=np.int32,
        )
        self.links = [link_of.get(u) for u in order]

    def conductances(self, Ri: float) -> np.ndarray:
        """The conductance (siemens) between each unknown and its parent (0 for the root)."""
        r1, r2 = self.r_length_1, self.r_length_2
        g = np.zeros(len(self.order))
        for p, link in enumerate(self.links):
            if link is None:
                continue
            kind, k = link
            if kind == "inner":
                g[p] = 1.0 / (Ri * (1.0 / r2[k - 1] + 1.0 / r1[k]))
            elif kind == "start":
                g[p] = r1[k] / Ri
            else:
                g[p] = r2[k] / Ri
        return g


# coordinates for plotting -------------------------------------------------------------------------
def _turned(direction: np.ndarray, mean_angle: float) -> np.ndarray:
    """``direction`` turned by an angle drawn from an exponential distribution of mean
    ``mean_angle`` (radians), about a random axis perpendicular to it."""
    if mean_angle <= 0:
        return direction
    angle = np.random.exponential(mean_angle)
    axis = np.cross(direction, np.random.normal(size=3))
    axis /= np.linalg.norm(axis)
    return _rotated(direction, axis, angle)


def _rotated(vector: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation of ``vector`` about the unit ``axis``."""
    return (
        vector * np.cos(angle)
        + np.cross(axis, vector) * np.sin(angle)
        + axis * np.dot(axis, vector) * (1 - np.cos(angle))
    )


def _place(section, start, direction, section_turn, compartment_turn, overwrite) -> None:
    """Give ``section`` (starting at ``start``, heading along ``direction``) and its subtree
    coordinates where they have none (or all, with ``overwrite``)."""
    if isinstance(section, Soma):
        if section._xyz is None or overwrite:
            object.__setattr__(section, "_xyz", list(map(float, start)))
        end = np.array([section._points_(axis)[-1] for axis in range(3)])
        children = list(section.children)
        for k, child in enumerate(children):  # evenly around the soma, in the x-y plane
            angle = 2 * np.pi * k / len(children)
            heading = _rotated(direction, np.array([0.0, 0.0, 1.0]), angle)
            _place(child, end, heading, section_turn, compartment_turn, overwrite)
        return
    if section._relative is None or overwrite:
        heading = _turned(direction, section_turn)
        steps = [_turned(heading, compartment_turn) * length for length in section._length_]
        relative = np.vstack([np.zeros(3), np.cumsum(steps, axis=0)]).T
        object.__setattr__(section, "_relative", relative)
    else:
        points = section._relative
        heading = points[:, -1] - points[:, -2]
        heading = heading / np.linalg.norm(heading)
    end = start + section._relative[:, -1]
    children = list(section.children)
    for k, child in enumerate(children):  # fanned out within 45 degrees of the parent
        angle = 0.0 if len(children) == 1 else np.radians(-45 + 90 * k / (len(children) - 1))
        _place(
            child,
            end,
            _rotated(heading, np.array([0.0, 0.0, 1.0]), angle),
            section_turn,
            compartment_turn,
            overwrite,
        )


# SWC --------------------------------------------------------------------------------------------
def _read_swc(path: Path) -> list[tuple]:
    points = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            fields = text.split()
            if len(fields) != 7:
                raise ValueError(
                    f"{path.name}, line {number}: an SWC line has 7 fields (index, type, x, y, "
                    f"z, radius, parent), not {len(fields)}"
                )
            try:
                index, kind = int(fields[0]), int(fields[1])
                x, y, z, radius = (float(v) for v in fields[2:6])
                parent = int(fields[6])
            except ValueError:
                raise ValueError(f"{path.name}, line {number}: cannot read {text!r}") from None
            points.append((index, kind, x, y, z, 2 * radius, parent))
    return points


_SWC_TYPES = {1: "soma", 2: "axon", 3: "dend", 4: "apic"}


def _from_points(points: list[tuple], spherical_soma: bool) -> Morphology:
    """Sections from SWC-style points (µm): runs of points without branching."""
    if not points:
        raise ValueError("a morphology needs at least one point")
    by_index = {}
    children: dict[int, list[int]] = {}
    root = None
    for point in points:
        if len(point) != 7:
            raise ValueError(f"a point is (index, type, x, y, z, diameter, parent), not {point!r}")
        index, kind, x, y, z, diameter, parent = point
        if index in by_index:
            raise ValueError(f"the point index {index} appears twice")
        by_index[index] = (kind, float(x), float(y), float(z), float(diameter), parent)
        if parent == -1:
            if root is not None:
                raise ValueError("a morphology has one root point (parent -1), this one has more")
            root = index
        else:
            children.setdefault(parent, []).append(index)
    if root is None:
        raise ValueError("no root point (a point with parent -1): the points form a loop")
    for index, (*_, parent) in by_index.items():
        if parent != -1 and parent not in by_index:
            raise ValueError(f"point {index} names a parent {parent} that does not exist")
    seen: set[int] = set()

    def run_from(start: int) -> list[int]:
        run = [start]
        while len(children.get(run[-1], [])) == 1:
            nxt = children[run[-1]][0]
            if by_index[nxt][0] != by_index[start][0]:
                break
            run.append(nxt)
        return run

    def build(run: list[int], origin: tuple[float, float, float], parent_d: float):
        for p in run:
            if p in seen:
                raise ValueError(f"point {p} is reached twice: the points form a loop")
            seen.add(p)
        kind = _SWC_TYPES.get(by_index[run[0]][0], f"type{by_index[run[0]][0]}")
        xyz = np.array([[by_index[p][1], by_index[p][2], by_index[p][3]] for p in run])
        diameters = np.array([by_index[p][4] for p in run])
        if kind == "soma" and spherical_soma and len(run) == 1:
            section: Morphology = Soma(
                diameters[0] * 1e-6 * meter,
                x=xyz[0, 0] * 1e-6 * meter,
                y=xyz[0, 1] * 1e-6 * meter,
                z=xyz[0, 2] * 1e-6 * meter,
            )
        else:
            points = np.vstack([origin, xyz])
            relative = points - points[0]
            section = Section(
                diameter=np.concatenate([[parent_d], diameters]) * 1e-6 * meter,
                n=len(run),
                x=relative[:, 0] * 1e-6 * meter,
                y=relative[:, 1] * 1e-6 * meter,
                z=relative[:, 2] * 1e-6 * meter,
                type=kind,
            )
        end = tuple(xyz[-1])
        counter: dict[str, int] = {}
        for child in children.get(run[-1], []):
            child_run = run_from(child)
            sub = build(child_run, end, diameters[-1])
            base = _SWC_TYPES.get(by_index[child][0], "section")
            counter[base] = counter.get(base, 0) + 1
            name = base if counter[base] == 1 else f"{base}{counter[base]}"
            section.children.add(name, sub)
        return section

    root_run = run_from(root)
    first = by_index[root]
    morphology = build(root_run, (first[1], first[2], first[3]), first[4])
    if len(seen) != len(by_index):
        raise ValueError("some points are not connected to the root")
    return morphology

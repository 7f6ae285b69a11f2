"""The kinds of runtime C++ containers that generated code reaches through capsules.

One table, :data:`CONTAINERS`: for each kind, the Cython type a generated module declares its
pointer with and the name of the capsule that carries the pointer.  The owners in
``containers.pyx`` name their capsules from it, and code generation declares module arguments
from it (:data:`CAPSULE_TYPES`), so the two cannot disagree.  The C++ types themselves are
declared once, in ``cpp_containers.pxd``.

Imports nothing from spikeforge: ``containers.pyx`` reads it however it was built.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContainerKind:
    """One kind of container: ``ctype`` as declared in ``cpp_containers.pxd`` and the
    ``capsule_name`` that both the owner and generated code use."""

    kind: str
    ctype: str
    capsule_name: str


#: Every kind, by the name owners report as their ``dtype`` (a spike queue has none: ``queue``).
CONTAINERS: dict[str, ContainerKind] = {
    kind.kind: kind
    for kind in (
        ContainerKind("float64", "vector[double]", "spikeforge.vector<double>"),
        ContainerKind("float32", "vector[float]", "spikeforge.vector<float>"),
        ContainerKind("int32", "vector[int32_t]", "spikeforge.vector<int32_t>"),
        ContainerKind("queue", "SpikeQueue", "spikeforge.SpikeQueue"),
        ContainerKind("2d", "DynamicArray2D", "spikeforge.DynamicArray2D"),
    )
}

#: kind -> (Cython type, capsule name), the form module arguments are declared from.
CAPSULE_TYPES: dict[str, tuple[str, str]] = {
    kind: (container.ctype, container.capsule_name) for kind, container in CONTAINERS.items()
}

"""The registry of runtime containers: one table of capsule names and Cython types, one .pxd of
C++ declarations, shared by the owners (``containers.pyx``) and generated modules."""

import ctypes
import pickle
import re
import shutil

import numpy as np

from spikeforge.codegen.render import TEMPLATE_DIR
from spikeforge.runtime import RUNTIME_DIR, containers
from spikeforge.runtime.registry import CAPSULE_TYPES, CONTAINERS
from spikeforge.runtime.sources import containers_sources_hash


def capsule_name(capsule) -> bytes:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    return get_name(capsule)


def owners():
    module = containers()
    return {
        "float64": module.DynamicArray1D("float64"),
        "float32": module.DynamicArray1D("float32"),
        "int32": module.DynamicArray1D("int32"),
        "queue": module.SpikeQueue(),
        "2d": module.DynamicArray2D(3),
    }


def test_every_owner_names_its_capsule_from_the_registry():
    made = owners()
    assert set(made) == set(CONTAINERS)
    for kind, owner in made.items():
        assert capsule_name(owner.capsule()) == CONTAINERS[kind].capsule_name.encode()
        # the kind an owner reports is the registry's key (a queue has no dtype)
        assert getattr(owner, "dtype", "queue") == kind


def test_capsule_types_are_the_table_in_the_form_of_module_arguments():
    assert CAPSULE_TYPES == {k: (c.ctype, c.capsule_name) for k, c in CONTAINERS.items()}


def test_every_container_type_is_declared_once_and_cimported_by_generated_modules():
    pxd = (RUNTIME_DIR / "cpp_containers.pxd").read_text()
    template = (TEMPLATE_DIR / "network.pyx.j2").read_text()
    (cimport,) = re.findall(r"^from cpp_containers cimport (.*)$", template, re.M)
    cimported = {name.strip() for name in cimport.split(",")}
    for container in CONTAINERS.values():
        cls = container.ctype.split("[")[0]
        assert len(re.findall(rf"^    cdef cppclass {cls}\b", pxd, re.M)) == 1, cls
        assert cls in cimported
    # the owners use the same declarations, not copies of their own
    owners_source = (RUNTIME_DIR / "containers.pyx").read_text()
    assert "from cpp_containers cimport" in owners_source
    assert "cdef cppclass" not in owners_source
    assert "cdef cppclass" not in template


def test_the_sources_hash_covers_the_declarations(tmp_path):
    copy = tmp_path / "runtime"
    shutil.copytree(RUNTIME_DIR, copy, ignore=shutil.ignore_patterns("*.so", "*.cpp"))
    before = containers_sources_hash(copy)
    assert before == containers_sources_hash(RUNTIME_DIR)
    pxd = copy / "cpp_containers.pxd"
    pxd.write_text(pxd.read_text() + "\n# changed\n")
    assert containers_sources_hash(copy) != before


def test_append_array_grows_a_vector_in_one_copy():
    module = containers()
    values = module.DynamicArray1D("float64")
    values.append_array(np.array([1.0, 2.5]))
    values.append_array(np.zeros(0))
    values.append_array([[3.0]])  # any shape: the elements in order
    assert values.to_numpy().tolist() == [1.0, 2.5, 3.0]
    indices = module.DynamicArray1D("int32")
    indices.append_array([7, -1])
    indices.append_array(np.array([5], dtype=np.int64))
    assert indices.to_numpy().dtype == np.int32
    assert indices.to_numpy().tolist() == [7, -1, 5]


def test_a_float32_vector_rounds_what_it_is_given_and_keeps_its_type():
    module = containers()
    values = module.DynamicArray1D("float32")
    values.append_array(np.array([0.1, 2.5]))
    values.resize(3)
    values.reserve(10)
    view = values.view()
    assert view.dtype == np.float32 and len(values) == 3
    assert view.tolist() == [np.float32(0.1), 2.5, 0.0] and float(view[0]) != 0.1
    view[2] = 7.0  # the view writes the vector's own memory
    copied = pickle.loads(pickle.dumps(values))
    assert copied.dtype == "float32" and copied.to_numpy().tolist() == values.to_numpy().tolist()
    assert copied.to_numpy()[2] == 7.0

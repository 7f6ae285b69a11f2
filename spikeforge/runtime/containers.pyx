# cython: language_level=3, boundscheck=False, wraparound=False
"""Owners of the C++ containers that generated modules fill directly.

Each owner allocates one C++ object and hands out a PyCapsule holding its address; a generated
module takes the pointer from the capsule once per call into native code and then calls the
container's inline methods with no Python in between.
"""
from cpython.pycapsule cimport PyCapsule_New
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport int32_t
from libcpp.vector cimport vector

import numpy as np

#: Capsule names per element type; generated code asks for the same names.
CAPSULE_NAMES = {"float64": b"spikeforge.vector<double>", "int32": b"spikeforge.vector<int32_t>"}


cdef class DynamicArray1D:
    """A growable 1-D array of ``float64`` or ``int32`` in a C++ ``std::vector``.

    Monitors record into these from generated code; ``to_numpy()`` copies the contents out.
    """
    cdef vector[double]* _doubles
    cdef vector[int32_t]* _ints
    cdef readonly str dtype

    def __cinit__(self, str dtype="float64"):
        if dtype == "float64":
            self._doubles = new vector[double]()
        elif dtype == "int32":
            self._ints = new vector[int32_t]()
        else:
            raise ValueError(f"DynamicArray1D holds float64 or int32, not {dtype!r}")
        self.dtype = dtype

    def __dealloc__(self):
        del self._doubles
        del self._ints

    def capsule(self):
        """A PyCapsule with the address of the ``std::vector`` (valid while this owner lives)."""
        if self._doubles != NULL:
            return PyCapsule_New(<void*>self._doubles, CAPSULE_NAMES["float64"], NULL)
        return PyCapsule_New(<void*>self._ints, CAPSULE_NAMES["int32"], NULL)

    def __len__(self):
        return self._doubles.size() if self._doubles != NULL else self._ints.size()

    def resize(self, Py_ssize_t size):
        """Grow (with zeros) or shrink to ``size`` elements."""
        if self._doubles != NULL:
            self._doubles.resize(size)
        else:
            self._ints.resize(size)

    def clear(self):
        """Remove every element (the memory is kept for the next run)."""
        self.resize(0)

    def to_numpy(self):
        """A NumPy copy of the contents."""
        cdef Py_ssize_t n = len(self)
        if n == 0:
            return np.zeros(0, dtype=self.dtype)
        if self._doubles != NULL:
            raw = PyBytes_FromStringAndSize(<char*>self._doubles.data(), n * sizeof(double))
        else:
            raw = PyBytes_FromStringAndSize(<char*>self._ints.data(), n * sizeof(int32_t))
        return np.frombuffer(raw, dtype=self.dtype).copy()

    def append_array(self, values):
        """Append the elements of a NumPy array (used when restoring a monitor)."""
        cdef Py_ssize_t k
        values = np.ascontiguousarray(values, dtype=self.dtype)
        if self._doubles != NULL:
            for k in range(values.shape[0]):
                self._doubles.push_back(values[k])
        else:
            for k in range(values.shape[0]):
                self._ints.push_back(values[k])

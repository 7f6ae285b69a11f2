# cython: language_level=3, boundscheck=False, wraparound=False
"""Owners of the C++ containers that generated modules fill directly.

Each owner allocates one C++ object and hands out a PyCapsule holding its address; a generated
module takes the pointer from the capsule once per call into native code and then calls the
container's inline methods with no Python in between.
"""
from cpython.pycapsule cimport PyCapsule_New
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.memoryview cimport PyMemoryView_FromMemory
from cpython.buffer cimport PyBUF_WRITE
from libc.stdint cimport int32_t, int64_t, uint64_t, uintptr_t
from libc.string cimport memcpy
from cpp_containers cimport (vector, DynamicArray2D as CppDynamicArray2D,
                             SpikeQueue as CppSpikeQueue)

import numpy as np

from spikeforge.runtime.registry import CONTAINERS

cdef extern from *:
    """
    #ifndef SPIKEFORGE_SOURCES_HASH
    #define SPIKEFORGE_SOURCES_HASH ""
    #endif
    """
    const char* SPIKEFORGE_SOURCES_HASH

#: The hash of the sources this module was built from (sources.containers_sources_hash), set
#: when it is built by the package's installation; empty when built through the cache.
SOURCES_HASH = SPIKEFORGE_SOURCES_HASH.decode()

#: Capsule names per container kind (registry.CONTAINERS); generated code asks for the same
#: names.  Kept here as bytes for the life of the module: a capsule holds a pointer to its name.
CAPSULE_NAMES = {kind: container.capsule_name.encode() for kind, container in CONTAINERS.items()}
#: The name of a SpikeQueue capsule.
SPIKEQUEUE_CAPSULE_NAME = CAPSULE_NAMES["queue"]


cdef class DynamicArray1D:
    """A growable 1-D array of ``float64``, ``float32`` or ``int32`` in a C++ ``std::vector``.

    Monitors record into these from generated code, and synapses keep their variables in them;
    ``to_numpy()`` copies the contents out.  Exactly one of the three vectors exists.
    """
    cdef vector[double]* _doubles
    cdef vector[float]* _floats
    cdef vector[int32_t]* _ints
    cdef readonly str dtype
    cdef Py_ssize_t _itemsize

    def __cinit__(self, str dtype="float64"):
        if dtype == "float64":
            self._doubles = new vector[double]()
            self._itemsize = sizeof(double)
        elif dtype == "float32":
            self._floats = new vector[float]()
            self._itemsize = sizeof(float)
        elif dtype == "int32":
            self._ints = new vector[int32_t]()
            self._itemsize = sizeof(int32_t)
        else:
            raise ValueError(f"DynamicArray1D holds float64, float32 or int32, not {dtype!r}")
        self.dtype = dtype

    def __dealloc__(self):
        del self._doubles
        del self._floats
        del self._ints

    def capsule(self):
        """A PyCapsule with the address of the ``std::vector`` (valid while this owner lives)."""
        if self._doubles != NULL:
            return PyCapsule_New(<void*>self._doubles, CAPSULE_NAMES["float64"], NULL)
        if self._floats != NULL:
            return PyCapsule_New(<void*>self._floats, CAPSULE_NAMES["float32"], NULL)
        return PyCapsule_New(<void*>self._ints, CAPSULE_NAMES["int32"], NULL)

    def __len__(self):
        if self._doubles != NULL:
            return self._doubles.size()
        if self._floats != NULL:
            return self._floats.size()
        return self._ints.size()

    cdef char* _data(self):
        if self._doubles != NULL:
            return <char*>self._doubles.data()
        if self._floats != NULL:
            return <char*>self._floats.data()
        return <char*>self._ints.data()

    def resize(self, Py_ssize_t size):
        """Grow (with zeros) or shrink to ``size`` elements."""
        if self._doubles != NULL:
            self._doubles.resize(size)
        elif self._floats != NULL:
            self._floats.resize(size)
        else:
            self._ints.resize(size)

    def clear(self):
        """Remove every element (the memory is kept for the next run)."""
        self.resize(0)

    def reserve(self, Py_ssize_t size):
        """Make room for ``size`` elements, so that appending up to there never reallocates
        (``MemoryError`` if it cannot)."""
        if size < 0:
            raise ValueError("cannot reserve a negative number of elements")
        if self._doubles != NULL:
            self._doubles.reserve(size)
        elif self._floats != NULL:
            self._floats.reserve(size)
        else:
            self._ints.reserve(size)

    def to_numpy(self):
        """A NumPy copy of the contents."""
        cdef Py_ssize_t n = len(self)
        if n == 0:
            return np.zeros(0, dtype=self.dtype)
        raw = PyBytes_FromStringAndSize(self._data(), n * self._itemsize)
        return np.frombuffer(raw, dtype=self.dtype).copy()

    def view(self):
        """A writable NumPy array over the vector's memory, without copying.

        Valid until the vector next changes size (``resize``, ``append_array``, or generated
        code appending): take a new view after that.
        """
        cdef Py_ssize_t n = len(self)
        if n == 0:
            return np.zeros(0, dtype=self.dtype)
        return np.frombuffer(
            PyMemoryView_FromMemory(self._data(), n * self._itemsize, PyBUF_WRITE),
            dtype=self.dtype)

    def __reduce__(self):
        # pickled with its contents (simulations sent to other processes)
        return (DynamicArray1D, (self.dtype,), self.to_numpy())

    def __setstate__(self, values):
        self.resize(0)
        self.append_array(values)

    def append_array(self, values):
        """Append the elements of a NumPy array (used when restoring a monitor)."""
        cdef Py_ssize_t old = len(self), n
        values = np.ascontiguousarray(values, dtype=self.dtype).reshape(-1)
        n = values.shape[0]
        if n == 0:
            return
        self.resize(old + n)
        memcpy(self._data() + old * self._itemsize, <void*><uintptr_t>values.ctypes.data,
               n * self._itemsize)


cdef class DynamicArray2D:
    """A growable 2-D array of ``float64``: rows of fixed width appended at the end.

    A ``StateMonitor`` appends one row (its recorded neurons) per time step from generated code.
    """
    cdef CppDynamicArray2D* _array
    cdef readonly str dtype

    def __cinit__(self, int64_t columns):
        if columns < 0:
            raise ValueError("DynamicArray2D needs a non-negative number of columns")
        self._array = new CppDynamicArray2D(columns)
        self.dtype = "2d"

    def __dealloc__(self):
        del self._array

    def capsule(self):
        """A PyCapsule with the address of the C++ array (valid while this owner lives)."""
        return PyCapsule_New(<void*>self._array, CAPSULE_NAMES["2d"], NULL)

    @property
    def shape(self):
        """``(rows, columns)``."""
        return (self._array.rows(), self._array.columns())

    def __len__(self):
        return self._array.rows()

    def resize_rows(self, int64_t rows):
        """Keep the first ``rows`` rows (or add zero rows)."""
        self._array.resize_rows(rows)

    def reserve_rows(self, int64_t rows):
        """Reserve memory for ``rows`` rows (recording then never reallocates)."""
        self._array.reserve_rows(rows)

    def to_numpy(self):
        """A NumPy copy, shape ``(rows, columns)``."""
        cdef int64_t rows = self._array.rows(), columns = self._array.columns()
        if rows * columns == 0:
            return np.zeros((rows, columns))
        raw = PyBytes_FromStringAndSize(<char*>self._array.data(), rows * columns * sizeof(double))
        return np.frombuffer(raw, dtype=np.float64).reshape(rows, columns).copy()

    def __reduce__(self):
        return (DynamicArray2D, (self._array.columns(),), self.to_numpy())

    def __setstate__(self, values):
        self._array.resize_rows(0)
        self.append_rows(values)

    def append_rows(self, values):
        """Append the rows of a 2-D array with this array's number of columns (used when
        restoring a StateMonitor)."""
        cdef int64_t columns = self._array.columns(), old = self._array.rows(), n
        array = np.ascontiguousarray(values, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != columns:
            raise ValueError(f"append_rows needs an array of shape (rows, {columns}), "
                             f"not {array.shape}")
        n = array.shape[0]
        if n == 0 or columns == 0:
            return
        self._array.resize_rows(old + n)
        memcpy(self._array.data() + old * columns, <void*><uintptr_t>array.ctypes.data,
               n * columns * sizeof(double))


cdef inline const int32_t* _int32_pointer(array):
    """The address of the first element of a C-contiguous int32 array (kept alive by the caller)."""
    return <const int32_t*><uintptr_t>array.ctypes.data


def _delay_vector(delay_seconds, int64_t n):
    """The delays in seconds as a contiguous float64 vector of n entries, or None."""
    if delay_seconds is None:
        return None
    delay_array = np.ascontiguousarray(delay_seconds, dtype=np.float64)
    if delay_array.ndim != 1 or delay_array.shape[0] != n:
        raise ValueError(f"delay_seconds needs one value per synapse ({n})")
    return delay_array


def _int32_vector(values, str what):
    """``values`` as a 1-D C-contiguous int32 array, refusing values that do not fit."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, not of shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"{what} must hold integers, not {array.dtype}")
    if array.size and (array.min() < -2**31 or array.max() >= 2**31):
        raise ValueError(f"{what} must fit in int32")
    return np.ascontiguousarray(array, dtype=np.int32)


cdef class SpikeQueue:
    """The spike queue of one synaptic pathway, a ring of time slots of synapse indices.

    Each step: ``push(sources)`` with the sources that spiked, ``peek()`` for the synapses whose
    spikes arrive now, ``advance()`` to the next step.  A spike pushed at step ``n`` through a
    synapse with a delay of ``d`` steps comes out of ``peek()`` at step ``n + d``, after ``d``
    calls to ``advance()``.  Generated code drives the same C++ queue through ``capsule()``.

    Within a step's slot, indices come in the order they were pushed: earlier steps first, then
    the order of sources in ``push``, then the order of a source's synapses in
    ``synapses_by_source`` (synapse index order when that is not given).
    """
    cdef CppSpikeQueue* _queue
    cdef object _values  # the values the C++ queue may read at push(), kept alive here

    def __cinit__(self):
        self._queue = new CppSpikeQueue()

    def __dealloc__(self):
        del self._queue

    def prepare(self, delay_steps, offsets, synapses_by_source=None):
        """Set up the synapses and their delays (in whole time steps).

        ``offsets`` has one entry per source plus one: the synapses of source ``s`` sit at
        positions ``offsets[s]`` to ``offsets[s+1] - 1`` of ``synapses_by_source`` (or are the
        synapse indices themselves when it is ``None``).  ``delay_steps[i]`` is the delay of
        synapse ``i``.  May be called again between runs: the ring grows to the largest delay
        plus one and never shrinks, and spikes already pushed keep their delivery step.
        """
        delays = _int32_vector(delay_steps, "delay_steps")
        offsets_array = _int32_vector(offsets, "offsets")
        if offsets_array.shape[0] < 1:
            raise ValueError("offsets needs one entry per source plus one (at least [0])")
        cdef const int32_t* order = NULL
        if synapses_by_source is not None:
            order_array = _int32_vector(synapses_by_source, "synapses_by_source")
            if order_array.shape[0] != delays.shape[0]:
                raise ValueError(
                    f"synapses_by_source has {order_array.shape[0]} entries for "
                    f"{delays.shape[0]} synapses"
                )
            if order_array.shape[0]:
                order = _int32_pointer(order_array)
        self._queue.prepare(_int32_pointer(delays), delays.shape[0],
                            _int32_pointer(offsets_array), offsets_array.shape[0] - 1, order)

    def prepare_from_sources(self, sources, int64_t n_sources, delay_seconds=None,
                             double uniform_delay_seconds=0.0, double dt=1e-4, values=None):
        """Set up the queue from the source of each synapse, without copying what it can derive.

        ``sources[i]`` is the source of synapse ``i``; ``delay_seconds[i]`` its delay in seconds,
        or ``None`` when all synapses have ``uniform_delay_seconds``.  A delay becomes
        ``int(d / dt + 0.5)`` steps.  When ``sources`` does not decrease the queue keeps no
        index per synapse, and with one common delay no delay per synapse.  With ``values`` (one
        per synapse), slots hold ``values[i]`` instead of the synapse index ``i``; when the
        sources do not decrease, ``push()`` reads them from the array given (if it is C-contiguous
        int32; else from a copy), which must not change until the next ``prepare()``.
        """
        source_array = _int32_vector(sources, "sources")
        cdef int64_t n = source_array.shape[0]
        delay_array = _delay_vector(delay_seconds, n)
        cdef const double* delays = NULL
        if delay_array is not None and n:
            delays = <const double*><uintptr_t>delay_array.ctypes.data
        value_array = _int32_vector(values, "values") if values is not None else None
        if value_array is not None and value_array.shape[0] != n:
            raise ValueError(f"values needs one value per synapse ({n})")
        self._queue.prepare_from_sources(_int32_pointer(source_array) if n else NULL, n,
                                         n_sources, delays, uniform_delay_seconds, dt,
                                         _int32_pointer(value_array) if values is not None
                                         else NULL)
        self._values = value_array

    def prepare_grouped(self, offsets, delay_seconds=None, double uniform_delay_seconds=0.0,
                        double dt=1e-4, values=None):
        """As :meth:`prepare_from_sources`, for synapses grouped by source and given as ranges:
        the synapses of source ``s`` are ``offsets[s]`` to ``offsets[s+1] - 1``."""
        offsets_array = _int32_vector(offsets, "offsets")
        if offsets_array.shape[0] < 1:
            raise ValueError("offsets needs one entry per source plus one (at least [0])")
        cdef int64_t n = offsets_array[offsets_array.shape[0] - 1]
        delay_array = _delay_vector(delay_seconds, n)
        cdef const double* delays = NULL
        if delay_array is not None and n:
            delays = <const double*><uintptr_t>delay_array.ctypes.data
        value_array = _int32_vector(values, "values") if values is not None else None
        if value_array is not None and value_array.shape[0] != n:
            raise ValueError(f"values needs one value per synapse ({n})")
        self._queue.prepare_grouped(_int32_pointer(offsets_array), offsets_array.shape[0] - 1,
                                    delays, uniform_delay_seconds, dt,
                                    _int32_pointer(value_array) if values is not None
                                    else NULL)
        self._values = value_array

    @property
    def holds_values(self) -> bool:
        """Whether slots hold the ``values`` given to prepare instead of synapse indices."""
        return self._queue.holds_values()

    @property
    def stores_synapse_order(self) -> bool:
        """Whether the queue keeps an index per synapse (its synapses are not grouped by source)."""
        return self._queue.stores_synapse_order()

    def push(self, sources):
        """Push the spikes of ``sources`` (indices of presynaptic sources, checked here)."""
        array = _int32_vector(sources, "sources")
        cdef int64_t n = array.shape[0]
        if n == 0:
            return
        if array.min() < 0 or array.max() >= self._queue.n_sources():
            raise IndexError(
                f"spiking sources must be in 0..{self._queue.n_sources() - 1} (after prepare())"
            )
        self._queue.push(_int32_pointer(array), n)

    def peek(self):
        """A NumPy int32 copy of the synapse indices whose spikes arrive at this step."""
        cdef vector[int32_t]* slot = self._queue.peek()
        cdef size_t n = slot.size()
        result = np.empty(n, dtype=np.int32)
        if n:
            memcpy(<void*><uintptr_t>result.ctypes.data, slot.data(), n * sizeof(int32_t))
        return result

    def advance(self):
        """Empty the current slot and move to the next step."""
        self._queue.advance()

    def __reduce__(self):
        # pickled with its pending spikes only: the synapses and delays are given again by
        # prepare() before every run
        return (SpikeQueue, (), self.pending_spikes())

    def __setstate__(self, state):
        self.set_pending_spikes(*state)

    def clear(self):
        """Drop every pending spike (needed when synapse indices change meaning)."""
        self._queue.clear()

    def capsule(self):
        """A PyCapsule named ``spikeforge.SpikeQueue`` with the address of the C++ queue.

        Valid while this owner lives.
        """
        return PyCapsule_New(<void*>self._queue, CAPSULE_NAMES["queue"], NULL)

    @property
    def address(self) -> int:
        """The address of the C++ queue, for generated code that reaches several queues through
        one array of addresses (a pathway's queues per block of targets, ``queues.py``).  Valid
        while this owner lives."""
        return <uintptr_t>self._queue

    @property
    def n_slots(self) -> int:
        """The number of time slots in the ring (the largest delay prepared so far, plus one)."""
        return self._queue.n_slots()

    @property
    def n_sources(self) -> int:
        """The number of presynaptic sources of the last ``prepare()``."""
        return self._queue.n_sources()

    @property
    def n_synapses(self) -> int:
        """The number of synapses of the last ``prepare()``."""
        return self._queue.n_synapses()

    @property
    def is_homogeneous(self) -> bool:
        """Whether all synapses have the same delay (``push`` then copies whole ranges)."""
        return self._queue.is_homogeneous()

    @property
    def n_pending(self) -> int:
        """The number of synapse indices waiting in the queue, this step's included."""
        return self._queue.n_pending()

    def pending_spikes(self):
        """The pending spikes as ``(counts, synapses)``, for saving a network's state.

        ``counts[k]`` synapse indices arrive after ``k`` more calls to ``advance()`` (``k = 0``:
        at the current step); ``synapses`` lists them slot after slot, each slot in delivery
        order.  Empty slots at the end are left out.  When the queue holds values
        (:attr:`holds_values`), they are values, not synapse indices.
        """
        cdef int64_t n = self._queue.n_slots(), k, used = 0
        cdef size_t position = 0, size
        cdef char* out
        counts = np.zeros(n, dtype=np.int64)
        for k in range(n):
            size = self._queue.slot_after(k).size()
            counts[k] = size
            if size:
                used = k + 1
        counts = counts[:used].copy()
        synapses = np.empty(int(counts.sum()), dtype=np.int32)
        out = <char*><uintptr_t>synapses.ctypes.data
        for k in range(used):
            size = self._queue.slot_after(k).size()
            if size:
                memcpy(out + position * sizeof(int32_t), self._queue.slot_after(k).data(),
                       size * sizeof(int32_t))
                position += size
        return counts, synapses

    def set_pending_spikes(self, counts, synapses, bint values=False):
        """Replace every pending spike by those given as ``pending_spikes()`` returns them:
        synapse indices, or values (``values=True``) as a queue prepared with values holds.

        The ring grows when it has fewer slots than ``counts`` has entries; a later
        ``prepare()`` keeps the spikes at their step, turns synapse indices into values if it
        is given values, and refuses pending values if it is not.  Call it before ``push()``.
        """
        counts_array = np.asarray(counts)
        if counts_array.ndim != 1 or (counts_array.size and counts_array.dtype.kind not in "iu"):
            raise TypeError("counts must be a one-dimensional array of integers")
        counts_array = counts_array.astype(np.int64)
        synapses_array = _int32_vector(synapses, "synapses")
        if counts_array.size and counts_array.min() < 0:
            raise ValueError("counts cannot be negative")
        if counts_array.sum() != synapses_array.shape[0]:
            raise ValueError(f"counts add up to {counts_array.sum()}, but "
                             f"{synapses_array.shape[0]} synapse indices are given")
        if synapses_array.shape[0] and synapses_array.min() < 0:
            raise ValueError("synapse indices cannot be negative")
        cdef int64_t k, n = counts_array.shape[0]
        cdef size_t position = 0, size
        cdef vector[int32_t]* slot
        cdef const char* source = <const char*><uintptr_t>synapses_array.ctypes.data
        self._queue.reserve_slots(n)
        self._queue.clear()
        self._queue.set_holds_values(values)
        for k in range(n):
            size = <size_t>counts_array[k]
            slot = self._queue.slot_after(k)
            slot.resize(size)
            if size:
                memcpy(slot.data(), source + position * sizeof(int32_t), size * sizeof(int32_t))
                position += size


cdef extern from "random_numbers.h" nogil:
    void spikeforge_philox4x64(const uint64_t* counter, const uint64_t* key, uint64_t* out)


def philox4x64(counter, key):
    """The four 64-bit words of Philox4x64-10 for ``counter`` (four words) under ``key`` (two
    words): one block of the random numbers generated code draws (``random_numbers.h``), exposed
    so that tests can compare it with other implementations."""
    cdef uint64_t c[4]
    cdef uint64_t k[2]
    cdef uint64_t out[4]
    for n in range(4):
        c[n] = counter[n]
    for n in range(2):
        k[n] = key[n]
    spikeforge_philox4x64(c, k, out)
    return [out[0], out[1], out[2], out[3]]


cdef extern from "random_numbers.h" nogil:
    ctypedef struct spikeforge_binomial:
        pass
    ctypedef struct spikeforge_random_cache:
        pass
    ctypedef struct spikeforge_stream:
        pass
    void spikeforge_binomial_setup_table(spikeforge_binomial* b, int64_t n, double p,
                                         int64_t table_limit)
    int64_t spikeforge_binomial_draw(const spikeforge_binomial* b, spikeforge_stream* s)
    spikeforge_random_cache spikeforge_random_cache_for(const uint64_t* key, uint64_t role,
                                                        uint64_t step)
    spikeforge_stream spikeforge_stream_for(spikeforge_random_cache* cache, uint64_t element)
    int SPIKEFORGE_BINOMIAL_TABLE


def binomial_draws(int64_t n, double p, int64_t count, key, int64_t table_limit=-1):
    """One draw from Binomial(n, p) for each of ``count`` elements (the element's stream of
    role 0 at step 0 under ``key``), as a PoissonInput draws them; ``table_limit`` caps the
    inversion's table (default: its full size), so that tests can compare the table with the
    walk beyond it."""
    if table_limit < 0:
        table_limit = SPIKEFORGE_BINOMIAL_TABLE
    if not 1 <= table_limit <= SPIKEFORGE_BINOMIAL_TABLE:
        raise ValueError(f"table_limit must be in 1..{SPIKEFORGE_BINOMIAL_TABLE}")
    cdef uint64_t k[2]
    k[0] = key[0]
    k[1] = key[1]
    cdef spikeforge_binomial b
    spikeforge_binomial_setup_table(&b, n, p, table_limit)
    cdef spikeforge_random_cache cache = spikeforge_random_cache_for(k, 0, 0)
    cdef spikeforge_stream stream
    out = np.empty(count, dtype=np.int64)
    cdef int64_t[::1] view = out
    cdef int64_t e
    for e in range(count):
        stream = spikeforge_stream_for(&cache, <uint64_t>e)
        view[e] = spikeforge_binomial_draw(&b, &stream)
    return out

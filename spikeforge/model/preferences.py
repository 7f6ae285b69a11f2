"""``prefs``: Brian2's preferences, accepted under Brian2's names.

Scripts written for Brian2 set preferences (``prefs.codegen.target = 'numpy'``,
``prefs.core.default_float_dtype = float32``...).  spikeforge has one code generator and one way
to run, so most of them change nothing here: they are stored and read back, silently.  Those it
cannot honour yet are refused by ``run()`` with an error naming the preference
(:data:`NOT_HONOURED`).  A name Brian2 does not know raises ``KeyError``, as in Brian2.

Attribute paths and item access both work: ``prefs.codegen.target``,
``prefs['codegen.target']``, ``prefs.codegen['target']``.
"""

from __future__ import annotations

import numpy as np

from spikeforge.pipeline import SCHEDULE

#: Brian2 2.11's preferences and their default values.
DEFAULTS: dict[str, object] = {
    "GSL.directory": None,
    "codegen.loop_invariant_optimisations": True,
    "codegen.max_cache_dir_size": 1000,
    "codegen.string_expression_target": "numpy",
    "codegen.synapse_connect_target": None,
    "codegen.target": "auto",
    "codegen.cpp.compiler": "",
    "codegen.cpp.define_macros": [],
    "codegen.cpp.extra_compile_args": None,
    "codegen.cpp.extra_compile_args_gcc": ["-w", "-O3", "-march=native", "-std=c++17"],
    "codegen.cpp.extra_compile_args_msvc": [],
    "codegen.cpp.extra_link_args": [],
    "codegen.cpp.headers": [],
    "codegen.cpp.include_dirs": [],
    "codegen.cpp.libraries": [],
    "codegen.cpp.library_dirs": [],
    "codegen.cpp.msvc_architecture": "",
    "codegen.cpp.msvc_vars_location": "",
    "codegen.cpp.runtime_library_dirs": [],
    "codegen.generators.cpp.flush_denormals": False,
    "codegen.generators.cpp.restrict_keyword": "__restrict",
    "codegen.runtime.cython.cache_dir": None,
    "codegen.runtime.cython.delete_source_files": True,
    "codegen.runtime.cython.multiprocess_safe": True,
    "codegen.runtime.numpy.discard_units": False,
    "core.default_float_dtype": np.float64,
    "core.default_integer_dtype": np.int32,
    "core.outdated_dependency_error": None,
    "core.stop_on_keyboard_interrupt": True,
    "core.network.default_schedule": list(SCHEDULE),
    "devices.cpp_standalone.extra_make_args_unix": [],
    "devices.cpp_standalone.extra_make_args_windows": [],
    "devices.cpp_standalone.make_cmd_unix": "make",
    "devices.cpp_standalone.openmp_spatialneuron_strategy": None,
    "devices.cpp_standalone.openmp_threads": 0,
    "devices.cpp_standalone.run_cmd_unix": "./main",
    "devices.cpp_standalone.run_environment_variables": {},
    "legacy.refractory_timing": False,
    "logging.console_log_level": "INFO",
    "logging.delete_log_on_exit": True,
    "logging.display_brian_error_message": True,
    "logging.file_log": True,
    "logging.file_log_level": "DEBUG",
    "logging.file_log_max_size": 10000000,
    "logging.save_script": True,
    "logging.std_redirection": True,
    "logging.std_redirection_to_file": True,
    "logging.warn_for_unused_objects": True,
}

#: Preferences whose non-default values spikeforge cannot honour yet: ``run()`` refuses them,
#: saying why (a value that only changes how Brian2 works, not the results, is not listed).
NOT_HONOURED: dict[str, tuple[object, str]] = {
    "core.default_integer_dtype": (np.int32, "integer variables are 32-bit"),
    "core.network.default_schedule": (
        list(SCHEDULE),
        "spikeforge's schedule is Brian2's default one",
    ),
    "legacy.refractory_timing": (False, "only Brian2's current refractory timing exists"),
}


class PreferenceError(KeyError):
    """A preference name that Brian2 does not have."""


class Preferences:
    """Brian2's ``prefs``: a tree of preference names with values (see the module's text)."""

    def __init__(self, prefix: str = "", values: dict | None = None):
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_values", {} if values is None else values)

    def _full(self, name: str) -> str:
        return f"{self._prefix}.{name}" if self._prefix else name

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __setattr__(self, name: str, value) -> None:
        self[name] = value

    def __getitem__(self, name: str):
        full = self._full(name)
        if full in DEFAULTS:
            if full in self._values:
                return self._values[full]
            default = DEFAULTS[full]
            # a copy of a list or dict: `prefs.x += [...]` must not change the default
            return type(default)(default) if isinstance(default, (list, dict)) else default
        if any(known.startswith(full + ".") for known in DEFAULTS):
            return Preferences(full, self._values)
        raise PreferenceError(f"there is no preference {full!r} (Brian2 has none of that name)")

    def __setitem__(self, name: str, value) -> None:
        full = self._full(name)
        if full not in DEFAULTS:
            raise PreferenceError(f"there is no preference {full!r} (Brian2 has none of that name)")
        self._values[full] = value

    def reset_to_defaults(self) -> None:
        """Forget every value set."""
        self._values.clear()

    def check_honoured(self) -> None:
        """Raise ``NotImplementedError`` for a preference set to a value spikeforge cannot
        honour yet (called by ``run()``)."""
        for name, (default, reason) in NOT_HONOURED.items():
            value = self._values.get(name, default)
            same = value == default if not isinstance(value, type) else value is default
            if not same:
                raise NotImplementedError(f"prefs.{name} = {value!r} is not supported: {reason}")

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._values.items() if k.startswith(self._prefix)}
        return f"<preferences {self._prefix or '(all)'}: {len(shown)} set>"


#: The preferences (Brian2's ``prefs``).
prefs = Preferences()
#: Brian2's older name.
brian_prefs = prefs

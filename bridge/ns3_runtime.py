"""Load ns-3 and our compiled `qkd` module into this process through cppyy.

Why not `from ns import ns`: the wheel's loader parses the headers of *all* ~40 ns-3 modules (wifi,
lte, ...) at import, which costs 8-13 s per process; qkdnet needs six of them, which parse in about
1.5 s. Every pytest session, vector-env worker and sweep process pays this, so we load only what we
use and keep the few conveniences of the wheel's loader that matter (smart-pointer registration for
`Ptr<>`, Python not deleting ns-3-owned `Node`s). Code that wants the rest of ns-3 can still run
`from ns import ns` afterwards: re-including a header or re-loading a library is a no-op.

ns-3's Simulator is a process-wide singleton, so this module is too: `load_ns()` is idempotent and
there is one running scenario per process (see `bridge.scenario`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from bridge.module_build import (
    NS3_MODULES,
    ModuleArtifacts,
    ModuleBuildError,
    build_module,
    find_ns3_wheel,
)

#: The only line cppyy prints on every ns-3 import; it concerns a header-level static
#: (`g_timeInitHelper`) whose real initialiser already ran inside libns3-core.
_HARMLESS_CLING_NOISE = ("Failed to materialize symbols",)

_loaded: dict[str, Any] = {}


@contextlib.contextmanager
def _filtered_stderr() -> Iterator[None]:
    """Hide cling's known-harmless static-initialiser message, pass everything else through.

    The message is written by C++ to file descriptor 2, so sys.stderr redirection cannot catch
    it; we swap the descriptor itself for a temporary file while headers are parsed.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [
                line
                for line in text.splitlines()
                if line.strip() and not any(noise in line for noise in _HARMLESS_CLING_NOISE)
            ]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def load_ns(extra_modules: Sequence[str] = ()) -> Any:
    """Return the `ns3` C++ namespace with ns-3 and the qkd module loaded (builds it if needed).

    `extra_modules` names further ns-3 modules to make available (e.g. "topology-read").
    Raises ModuleBuildError (with the compiler's output) if the qkd module cannot be built.
    """
    wanted = tuple(m for m in extra_modules if m not in _loaded.get("modules", ()))
    if "ns3" in _loaded and not wanted:
        return _loaded["ns3"]

    artifacts: ModuleArtifacts = _loaded.get("artifacts") or build_module()
    wheel = find_ns3_wheel()
    import cppyy
    import libcppyy

    with _filtered_stderr():
        if "ns3" not in _loaded:
            libcppyy.AddSmartPtrType("Ptr")
            cppyy.add_include_path(str(wheel.include_dir))
            cppyy.add_library_path(str(wheel.lib_dir))
        modules = (*NS3_MODULES, *wanted) if "ns3" not in _loaded else wanted
        for module in modules:
            header = wheel.include_dir / "ns3" / f"{module}-module.h"
            if not header.is_file():
                raise ModuleBuildError(f"the ns3 wheel has no module named {module!r}")
            cppyy.include(f"ns3/{module}-module.h")
        for module in modules:
            cppyy.load_library(str(wheel.lib_dir / f"libns{wheel.version}-{module}.so"))
        if "ns3" not in _loaded:
            cppyy.add_include_path(str(artifacts.include_dir))
            cppyy.include("ns3/qkd-module.h")
            cppyy.load_library(str(artifacts.library))

    ns3 = cppyy.gbl.ns3
    if "ns3" not in _loaded:
        _keep_nodes_alive(ns3)
    _loaded["ns3"] = ns3
    _loaded["artifacts"] = artifacts
    _loaded["modules"] = (*_loaded.get("modules", NS3_MODULES), *wanted)
    return ns3


def _keep_nodes_alive(ns3: Any) -> None:
    """ns-3's NodeList owns every Node until Simulator::Destroy; Python must not delete one.

    Same guard as the wheel's own loader, so both loaders can coexist in one process.
    """
    pending: list[Any] = getattr(ns3, "__nodes_pending_deletion", [])
    ns3.__nodes_pending_deletion = pending

    def node_del(self: Any) -> None:
        pending.append(self)

    ns3.Node.__del__ = node_del


def module_artifacts() -> ModuleArtifacts:
    """The build the running process loaded (building it first if nothing is loaded yet)."""
    return _loaded.get("artifacts") or build_module()


def decode_names(names: Any) -> list[str]:
    """std::vector<std::string> from cppyy arrives as bytes; field names are ASCII."""
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]

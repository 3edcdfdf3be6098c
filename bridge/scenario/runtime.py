"""Python handle on a running `ns3::QkdNetwork`: set link inputs, step, read counters.

The C++ side exchanges flat arrays (see `QkdNetwork::Step`), so this class owns two numpy arrays
that cppyy passes by pointer: `inputs` (one row per link, columns = `input_fields`) and `outputs`
(simulation time, then one row per link, columns = `output_fields`). Setting an input only writes
numpy memory; `step()` is the single crossing into C++ per step.

ns-3's Simulator is one per process, so only one runtime may be live at a time: opening a new one
while another is open is an error rather than a silent corruption of the first. A runtime that is
dropped without `close()` (an env garbage-collected mid-episode) releases the Simulator through a
`weakref.finalize`, and the registry of live runtimes holds only weak references, so a later
runtime in the same process can start.
"""

from __future__ import annotations

import contextlib
import gc
import math
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bridge.ns3_runtime import decode_names, load_ns

_live: weakref.WeakSet[NetworkRuntime] = weakref.WeakSet()
NS3_MAX_TIME_S = (2**63 - 1) * 1e-9  # ns-3's Time is int64 nanoseconds
MIN_STEP_S = 1e-9  # one tick: a shorter step would not advance the clock


def _destroy(network: Any) -> None:
    """Finaliser of a dropped runtime: free the ns-3 network so the Simulator can be reused."""
    with contextlib.suppress(Exception):
        network.Destroy()


def _release_gil_while_stepping(ns: Any) -> None:
    """Let other Python threads (the watchdog) run while ns-3 steps: these calls never call back
    into Python (control events stop the run and return instead)."""
    for name in ("Step", "RunUntil", "Build"):
        method = getattr(ns.QkdNetwork, name, None)
        if method is not None:
            with contextlib.suppress(AttributeError, TypeError):
                method.__release_gil__ = True


@contextlib.contextmanager
def _cpp_errors_as_value_errors() -> Iterator[None]:
    """C++ std::invalid_argument/out_of_range surface from cppyy with the C++ signature in front;
    keep only the message, as a ValueError, so callers and the CLI show one clear line."""
    import cppyy

    try:
        yield
    except (cppyy.gbl.std.invalid_argument, cppyy.gbl.std.out_of_range) as exc:
        text = str(exc).strip().splitlines()[-1].strip()
        for prefix in ("invalid_argument:", "out_of_range:"):
            text = text.removeprefix(prefix).strip()
        raise ValueError(text) from None


class SimulatorBusyError(RuntimeError):
    """A second scenario was opened while one is still running in this process."""


class NetworkRuntime:
    """Owns one built `ns3::QkdNetwork` and the arrays exchanged with it each step."""

    def __init__(self, network: Any, seed: int) -> None:
        """Wrap an unbuilt QkdNetwork (nodes/links added), build it with `seed` and take it over."""
        if _live:
            gc.collect()  # a dropped runtime caught in a reference cycle is finalised here
        if _live:
            raise SimulatorBusyError(
                "an ns-3 scenario is already running in this process; close() it first"
            )
        ns = load_ns()
        _release_gil_while_stepping(ns)
        self._ns = ns
        self.network = network
        self.input_fields: list[str] = decode_names(ns.QkdNetwork.LinkInputFields())
        self.output_fields: list[str] = decode_names(ns.QkdNetwork.LinkOutputFields())
        self.demand_fields: list[str] = decode_names(ns.QkdNetwork.DemandOutputFields())
        self.node_fields: list[str] = decode_names(ns.QkdNetwork.NodeOutputFields())
        with _cpp_errors_as_value_errors():
            network.Build(int(seed))
        self._finalizer = weakref.finalize(self, _destroy, network)
        self._finalizer.atexit = False  # at interpreter exit ns-3 tears itself down
        _live.add(self)
        self.n_links = int(network.GetNLinks())
        self.n_nodes = int(network.GetNNodes())
        self.n_demands = int(network.GetNDemands())
        self.inputs = np.zeros((self.n_links, len(self.input_fields)), dtype=np.float64)
        self.outputs = np.zeros(int(network.GetOutputSize()), dtype=np.float64)
        self._input_index = {name: i for i, name in enumerate(self.input_fields)}
        self._output_index = {name: i for i, name in enumerate(self.output_fields)}
        self._demand_index = {name: i for i, name in enumerate(self.demand_fields)}
        self._node_index = {name: i for i, name in enumerate(self.node_fields)}
        links_end = 1 + self.n_links * len(self.output_fields)
        demands_end = links_end + self.n_demands * len(self.demand_fields)
        # Views into the one output array: reading them costs no copy and no C++ call.
        self._links_view = self.outputs[1:links_end].reshape(self.n_links, len(self.output_fields))
        self._demands_view = self.outputs[links_end:demands_end].reshape(
            self.n_demands, len(self.demand_fields)
        )
        self._nodes_view = self.outputs[demands_end:].reshape(self.n_nodes, len(self.node_fields))
        self._applied = self.inputs.copy()
        self._closed = False

    # inputs ---------------------------------------------------------------------------------
    def set_link_input(self, link: int | Sequence[int] | slice, field: str, value: Any) -> None:
        """Write one input column for some links; applied at the next `step()`."""
        self.inputs[link, self._input_index[field]] = value

    def link_input(self, field: str) -> np.ndarray:
        """View of one input column (one value per link)."""
        return self.inputs[:, self._input_index[field]]

    # stepping -------------------------------------------------------------------------------
    def step(self, dt_s: float) -> np.ndarray:
        """Apply the inputs, advance `dt_s` simulated seconds, return the output array."""
        self._require_open()
        dt_s = float(dt_s)
        if not (math.isfinite(dt_s) and dt_s >= MIN_STEP_S):
            raise ValueError(f"step of {dt_s!r} s: needs a finite value >= 1 ns")
        if self.now_s + dt_s >= NS3_MAX_TIME_S:  # ns-3 would die with NS_FATAL on the overflow
            raise ValueError(
                f"step to {self.now_s + dt_s:.3g} s passes ns-3's largest time "
                f"({NS3_MAX_TIME_S:.3g} s of int64 nanoseconds)"
            )
        with self._rollback_rejected_inputs():
            self.network.Step(dt_s, self.inputs, self.inputs.size, self.outputs, self.outputs.size)
        return self.outputs

    def apply_inputs(self) -> None:
        """Push the inputs into the links without advancing time.

        Inputs the C++ side rejects raise ValueError and leave the links on their previous inputs;
        the rejected values are rolled back here too so the next step does not resend them.
        """
        self._require_open()
        with self._rollback_rejected_inputs():
            self.network.SetLinkInputs(self.inputs, self.inputs.size)

    @contextlib.contextmanager
    def _rollback_rejected_inputs(self) -> Iterator[None]:
        try:
            with _cpp_errors_as_value_errors():
                yield
        except ValueError:
            self.inputs[:] = self._applied
            raise
        self._applied = self.inputs.copy()

    # outputs --------------------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        return float(self.outputs[0])

    def link_counters(self) -> np.ndarray:
        """(n_links, n_link_fields) view of the latest outputs."""
        return self._links_view

    def demand_counters(self) -> np.ndarray:
        """(n_demands, n_demand_fields) view of the latest outputs."""
        return self._demands_view

    def node_counters(self) -> np.ndarray:
        """(n_nodes, n_node_fields) view of the latest outputs."""
        return self._nodes_view

    def link_counter(self, field: str) -> np.ndarray:
        """One link output column: that counter for every link."""
        return self._links_view[:, self._output_index[field]]

    def demand_counter(self, field: str) -> np.ndarray:
        return self._demands_view[:, self._demand_index[field]]

    def node_counter(self, field: str) -> np.ndarray:
        return self._nodes_view[:, self._node_index[field]]

    def link_frame(self) -> pd.DataFrame:
        """Latest per-link counters as a DataFrame indexed by link."""
        return self._frame(self._links_view, self.output_fields, "link")

    def demand_frame(self) -> pd.DataFrame:
        return self._frame(self._demands_view, self.demand_fields, "demand")

    def node_frame(self) -> pd.DataFrame:
        return self._frame(self._nodes_view, self.node_fields, "node")

    def _frame(self, view: np.ndarray, columns: list[str], index: str) -> pd.DataFrame:
        frame = pd.DataFrame(view.copy(), columns=columns)
        frame.index.name = index
        frame.insert(0, "time_s", self.now_s)
        return frame

    # lifetime -------------------------------------------------------------------------------
    def _require_open(self) -> None:
        if self._closed:
            raise RuntimeError("this ns-3 scenario is closed")

    def close(self) -> None:
        """Destroy the simulation so the process can run another scenario."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        _live.discard(self)
        self.network.Destroy()

    def __enter__(self) -> NetworkRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The simulated network behind the KMEs: SAEs attached to nodes, and the key each demand delivers
moved, once per step, from ns-3 into the SAE pair's key store.

Why here and not in the HTTP layer: the only thing the API needs from the simulation is "these
bytes were delivered for this demand". The C++ model keeps the bytes of each served key (a key the
destination rebuilt equal to the source's: the end-to-end key confirmation) and hands them over in
one buffer per step, so a Byzantine relay that starves or corrupts a demand simply puts no key
here, and the API answers 503 once the store runs dry: a wrong key is never handed out.
"""

from __future__ import annotations

import struct
import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from bridge.scenario import QkdScenario, StepResult
from bridge.scenario.config import ScenarioConfig
from bridge.scenario.plan import ScenarioPlan
from kme.store import PairKeyStore

_RECORD = struct.Struct("<IIQ")  # demand, key length, simulation key id (see QkdNetwork)


@dataclass(frozen=True)
class Sae:
    """An application attached to a trusted node; its KME is that node's key manager."""

    sae_id: str
    node: int
    kme_id: str


@dataclass(frozen=True)
class SaeDirectory:
    """Every SAE, every KME (trusted node label -> node index) and which demands feed which pair."""

    saes: dict[str, Sae]
    kmes: dict[str, int]
    pair_demands: dict[frozenset[str], tuple[int, ...]]

    def pair(self, a: str, b: str) -> frozenset[str]:
        return frozenset((a, b))


def default_sae_id(label: str) -> str:
    return f"sae-{label}"


def sae_directory(config: ScenarioConfig, plan: ScenarioPlan) -> SaeDirectory:
    """SAEs from the scenario's demands (`saes:` or the default sae-<node label> names).

    Raises ValueError naming the SAE when one ID is attached to two nodes or both ends of a
    demand have the same SAE.
    """
    labels = {node.index: node.label for node in plan.nodes}
    kmes = {node.label: node.index for node in plan.nodes if node.trusted}
    saes: dict[str, Sae] = {}
    pairs: dict[frozenset[str], list[int]] = defaultdict(list)
    named = config.demands if isinstance(config.demands, list) else [None] * len(plan.demands)
    for spec, demand in zip(named, plan.demands, strict=True):
        names = (spec.saes if spec is not None else None) or (
            default_sae_id(labels[demand.src]),
            default_sae_id(labels[demand.dst]),
        )
        if names[0] == names[1]:
            raise ValueError(f"demand {demand.index}: both ends are SAE {names[0]!r}")
        for name, node in zip(names, (demand.src, demand.dst), strict=True):
            known = saes.get(name)
            if known is not None and known.node != node:
                raise ValueError(
                    f"SAE {name!r} is attached to both {known.kme_id} and {labels[node]}"
                )
            saes[name] = Sae(name, node, labels[node])
        pairs[frozenset(names)].append(demand.index)
    return SaeDirectory(saes, kmes, {k: tuple(v) for k, v in pairs.items()})


def parse_delivered_keys(buffer: np.ndarray) -> list[tuple[int, int, bytes]]:
    """(demand, simulation key id, key bytes) records of QkdNetwork::CopyDeliveredKeys."""
    raw = buffer.tobytes()
    out = []
    at = 0
    while at < len(raw):
        demand, length, key_id = _RECORD.unpack_from(raw, at)
        at += _RECORD.size
        out.append((demand, key_id, raw[at : at + length]))
        at += length
    return out


class KeyDeliveryNetwork:
    """A running scenario (with its control plane) whose delivered keys fill SAE pair stores.

    Only the thread that built it may call `step` (ns-3's simulator belongs to one thread); the
    stores are read and changed by the API threads under `lock`.
    """

    def __init__(
        self,
        config: ScenarioConfig,
        *,
        steps: int | None = None,
        store_capacity_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        from control.plane import ControlPlane

        self.config = config
        self.max_steps = config.steps if steps is None else int(steps)
        self.scenario = QkdScenario(config)
        try:
            self.scenario.attach_control(ControlPlane(config, self.scenario.plan, self.scenario))
            self.directory = sae_directory(config, self.scenario.plan)
            self.scenario.runtime.network.SetRecordDeliveredKeys(True)
        except BaseException:
            self.scenario.close()
            raise
        self.lock = threading.Lock()
        self.stores: dict[frozenset[str], PairKeyStore] = {}
        self._demand_store: dict[int, PairKeyStore] = {}
        for pair, demands in self.directory.pair_demands.items():
            a, b = sorted(pair)
            store = PairKeyStore(a, b, demands, capacity_bytes=store_capacity_bytes)
            self.stores[pair] = store
            for demand in demands:
                self._demand_store[demand] = store
        self.last_result: StepResult | None = None

    @property
    def steps_done(self) -> int:
        return self.scenario.step_index

    @property
    def finished(self) -> bool:
        return self.steps_done >= self.max_steps

    @property
    def now_s(self) -> float:
        return self.steps_done * self.config.step_s

    def store_for(self, a: str, b: str) -> PairKeyStore | None:
        return self.stores.get(frozenset((a, b)))

    def step(self) -> StepResult | None:
        """One simulation step, then its delivered keys into the stores (None once finished)."""
        if self.finished:
            return None
        result = self.scenario.step()
        self.last_result = result
        for demand, key_id, key in self.take_delivered_keys():
            store = self._demand_store.get(demand)
            if store is not None:
                with self.lock:
                    store.add_block(demand, key_id, key)
        return result

    def take_delivered_keys(self) -> list[tuple[int, int, bytes]]:
        """Keys served since the last call, from ns-3 (two calls into C++)."""
        network = self.scenario.runtime.network
        size = int(network.CollectDeliveredKeys())
        buffer = np.empty(size, dtype=np.uint8)
        if size:
            network.CopyDeliveredKeys(buffer, size)
        return parse_delivered_keys(buffer)

    def close(self) -> None:
        self.scenario.close()

    def __enter__(self) -> KeyDeliveryNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

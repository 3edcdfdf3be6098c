"""The key-rate-optimal signal intensity over channel loss, tabulated once per link hardware.

Why: a drifting fibre changes every link's loss every step, and finding the optimal intensity
anew (a 24-point grid plus 32 golden-section rounds through the protocol's formulas) costs ~1.5 ms
per link per step, 170x what the same optimisation costs per link inside one big call. The
optimum depends on the loss and on the link's hardware, which never changes during a run, so it
is computed once on a grid of losses per distinct hardware (one vectorised call per table) and
read back by linear interpolation; the operating point is then evaluated exactly at that
intensity. `OptimalMuTables.STEP_DB` is the grid spacing; `tests/qchannel` bounds the key rate
lost by interpolating (the rate is flat at its maximum, so the loss is second order in the
intensity's interpolation error).

What a table depends on: protocol, detector efficiency and dark counts, misalignment, error
correction inefficiency, basis sifting, decoy intensity and the intercept-resend fraction. The
pulse rate is not among them because the links' detectors have no dead time here, so the rate
only scales the key per second (`LinkPhysics._evaluate` builds them that way).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Optimise `protocol` for hardware row `row` under `attack` at every loss in `loss_db`.
Optimiser = Callable[[str, Array, float, Array], Array]


def hardware_operating_point(
    protocol: str, row: Array, attack: float, loss_db: Array, mu: Array | None = None
):
    """qchannel's operating point of one hardware row (efficiency, dark count probability,
    misalignment, EC inefficiency, basis sifting, decoy mu) at every loss in `loss_db`: at `mu`,
    or at the optimal mu when None. No dead time, so the pulse rate does not matter."""
    from qchannel import Detector, Source, db_to_transmittance, link_operating_point

    efficiency, dark, misalignment, ec, sifting, decoy = (float(v) for v in row)
    return link_operating_point(
        protocol,
        channel_transmittance=db_to_transmittance(loss_db),
        detector=Detector(efficiency=efficiency, dark_count_probability=dark),
        misalignment_error=misalignment,
        source=Source(repetition_rate_hz=1e9, signal_mu=mu, decoy_mu=decoy),
        ec_inefficiency=ec,
        basis_sifting=sifting,
        intercept_resend_fraction=attack,
    )


def optimal_mu(protocol: str, row: Array, attack: float, loss_db: Array) -> Array:
    """The `Optimiser` of qkdnet's links: qchannel's optimum for one hardware row."""
    point = hardware_operating_point(protocol, row, attack, loss_db)
    return np.asarray(point.mu, dtype=np.float64)


class OptimalMuTables:
    """Optimal mu as a function of loss, one lazily built table per (protocol, hardware, attack)."""

    STEP_DB = 0.05  #: grid spacing of every table
    MARGIN_DB = 2.0  #: a table is built this far beyond the losses that asked for it
    MAX_LOSS_DB = 120.0  #: beyond this (deep fading) the optimum is computed directly
    MAX_SPLITS = 256  #: link groupings remembered (`_split`)

    def __init__(self, hardware: Array, optimise: Optimiser) -> None:
        """`hardware`: one row per link of the values a table depends on (see module doc)."""
        self._rows, inverse = np.unique(hardware, axis=0, return_inverse=True)
        self._hardware_id = inverse.reshape(-1)
        self._optimise = optimise
        self._tables: dict[tuple[str, int, float], tuple[Array, Array]] = {}
        self._splits: dict[tuple[str, bytes, bytes], list] = {}

    def optimal_mu(self, protocol: str, links: np.ndarray, loss_db: Array, attack: Array) -> Array:
        """Optimal mu for `links` (indices) at their `loss_db` under `attack` (arrays alike)."""
        out = np.empty(links.size)
        for key, chosen in self._split(protocol, links, attack):
            out[chosen] = self._lookup(key, loss_db[chosen])
        return out

    def _split(
        self, protocol: str, links: np.ndarray, attack: Array
    ) -> list[tuple[tuple[str, int, float], np.ndarray]]:
        """(table key, mask over `links`) per distinct (hardware, attack) among `links`.

        Remembered per (protocol, links, attack): the same links ask every step, and finding
        the distinct pairs anew (`np.unique` over columns) cost more than the lookups."""
        memo_key = (protocol, links.tobytes(), np.asarray(attack, dtype=np.float64).tobytes())
        split = self._splits.get(memo_key)
        if split is None:
            keys = np.stack([self._hardware_id[links].astype(np.float64), attack])
            unique, inverse = np.unique(keys, axis=1, return_inverse=True)
            inverse = inverse.reshape(-1)
            split = [
                ((protocol, int(unique[0, j]), float(unique[1, j])), inverse == j)
                for j in range(unique.shape[1])
            ]
            if len(self._splits) >= self.MAX_SPLITS:
                self._splits.clear()  # link sets that keep changing: stay bounded
            self._splits[memo_key] = split
        return split

    def covers(self, protocol: str, links: np.ndarray, loss_db: Array) -> bool:
        """Whether `optimal_mu` (no attack) would answer from the tables as they are, building
        or extending none."""
        for key, chosen in self._split(protocol, links, np.zeros(links.size)):
            loss = loss_db[chosen]
            inside = loss[loss <= self.MAX_LOSS_DB]
            if inside.size == 0:
                continue
            table = self._tables.get(key)
            if table is None or not self._covered(table, float(inside.min()), float(inside.max())):
                return False
        return True

    def _covered(self, table: tuple[Array, Array], low: float, high: float) -> bool:
        grid, values = table
        start = float(grid[0])
        return start <= low and high <= start + self.STEP_DB * (values.size - 1)

    def _lookup(self, key: tuple[str, int, float], loss_db: Array) -> Array:
        inside = loss_db <= self.MAX_LOSS_DB
        mu = np.empty(loss_db.size)
        if not inside.all():
            far = ~inside
            mu[far] = self._optimise(key[0], self._rows[key[1]], key[2], loss_db[far])
        if inside.any():
            grid, values = self._table(key, loss_db[inside])
            mu[inside] = np.interp(loss_db[inside], grid, values)
        return mu

    def _table(self, key: tuple[str, int, float], loss_db: Array) -> tuple[Array, Array]:
        """(losses, optimal mu) of the table for `key`, (re)built to cover `loss_db` if it does
        not yet."""
        low, high = float(loss_db.min()), float(loss_db.max())
        table = self._tables.get(key)
        if table is not None:
            if self._covered(table, low, high):
                return table
            grid, values = table
            start = float(grid[0])
            low = min(low, start)
            high = max(high, start + self.STEP_DB * (values.size - 1))
        start = self.STEP_DB * np.floor(max(low - self.MARGIN_DB, 0.0) / self.STEP_DB)
        stop = min(high + self.MARGIN_DB, self.MAX_LOSS_DB + self.MARGIN_DB)
        grid = start + self.STEP_DB * np.arange(int(np.ceil((stop - start) / self.STEP_DB)) + 1)
        values = self._optimise(key[0], self._rows[key[1]], key[2], grid)
        self._tables[key] = (grid, values)
        return self._tables[key]

    @property
    def tables_built(self) -> int:
        return len(self._tables)

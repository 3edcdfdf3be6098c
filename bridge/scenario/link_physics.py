"""Every link's channel, hardware and protocol -> what ns-3 samples, once per step, vectorised.

Why here and not in C++: the physics lives in `qchannel` (numpy, checked against the papers); the
ns-3 model only samples from its numbers. This class holds each link's hardware as arrays (from
the scenario's preset + overrides + the topology's fibre data), moves the time-varying channel
processes (fibre drift, atmospheric fading), and asks qchannel for every link's operating point in
a handful of vectorised calls (one per protocol and intensity mode), never one per link.

The optimal intensity of BB84 links comes from `OptimalMuTables` (tabulated over loss once per
hardware, interpolated): a drifting fibre changes the loss every step, and optimising anew each
step was most of a small scenario's step. MDI links (two arm losses) are still optimised directly.

Intercept-resend by a Byzantine end is applied here too (qchannel's attack model), so the QBER
the network measures rises exactly as the physics says; the attack-free QBER is kept alongside as
the "expected" value the control plane compares against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bridge.scenario.mu_table import OptimalMuTables, optimal_mu
from bridge.scenario.plan import ScenarioPlan

Array = NDArray[np.float64]


@dataclass(frozen=True)
class LinkPoints:
    """Operating points of all links for one step (arrays over links)."""

    gain: Array
    qber: Array
    sifting_ratio: Array
    secret_fraction: Array
    pulse_rate_hz: Array
    loss_db: Array  # the channel loss these points were computed for
    mu: Array
    key_rate_bits_per_pulse: Array
    intercept_fraction: Array
    qber_no_attack: Array


class LinkPhysics:
    """Link hardware and channel state as arrays; operating points from qchannel."""

    #: Take the optimal intensity of BB84 links whose channel moves (fibre drift, source-rate
    #: drift, free-space fading) from `OptimalMuTables` (False: optimise them every step, as
    #: before the tables). A still link is optimised exactly, once (operating points are cached).
    tabulate_mu = True

    #: Steps of fibre and source-rate drift sampled ahead, whose operating points are then
    #: computed in one call (1: one step at a time; free-space fading is always stepped).
    lookahead_steps = 16
    #: ... but no more steps than keep a call's arrays this long (links x steps): past it the
    #: arrays leave the CPU caches and one call costs more than the steps one at a time; and
    #: fewer than `lookahead_min_steps` do not pay (bench_floor: 1973 links gained nothing
    #: from 4 steps at once).
    lookahead_elements = 8192
    lookahead_min_steps = 8

    def __init__(self, plan: ScenarioPlan, seed: int) -> None:
        from qchannel import get_preset
        from qchannel.operating_point import check_link_inputs

        links = plan.links
        n = len(links)
        self.n_links = n
        self.protocol = np.array([link.hardware.protocol for link in links], dtype=object)
        self.has_relay = np.array([link.relay is not None for link in links])
        presets = [get_preset(link.hardware.preset) for link in links]

        def pick(values, fallback) -> Array:
            return np.array(
                [v if v is not None else f for v, f in zip(values, fallback, strict=True)],
                dtype=np.float64,
            )

        hw = [link.hardware for link in links]
        self.attenuation_db_per_km = pick(
            [h.attenuation_db_per_km for h in hw],
            [
                link.attenuation_db_per_km
                if link.attenuation_db_per_km is not None
                else p.attenuation_db_per_km
                for link, p in zip(links, presets, strict=True)
            ],
        )
        self.insertion_loss_db = np.array(
            [h.insertion_loss_db + p.insertion_loss_db for h, p in zip(hw, presets, strict=True)]
        )
        self.detector_efficiency = pick(
            [h.detector_efficiency for h in hw], [p.detector.efficiency for p in presets]
        )
        self.dark_count_probability = pick(
            [h.dark_count_probability for h in hw],
            [p.detector.dark_count_probability for p in presets],
        )
        self.misalignment_error = pick(
            [h.misalignment_error for h in hw], [p.misalignment_error for p in presets]
        )
        self.ec_inefficiency = np.array([p.ec_inefficiency for p in presets])
        self.basis_sifting = np.array([p.basis_sifting for p in presets])
        self.decoy_mu = np.array([float(np.asarray(p.source.decoy_mu)) for p in presets])
        self.nominal_pulse_rate_hz = np.array([h.pulse_rate_hz for h in hw], dtype=np.float64)
        self.pulse_rate_hz = self.nominal_pulse_rate_hz.copy()
        self.fixed_mu = np.array([np.nan if h.mu is None else h.mu for h in hw], dtype=np.float64)
        self.arm_a_km = np.array([link.arm_a_km for link in links])
        self.arm_b_km = np.array([link.arm_b_km for link in links])
        length = self.arm_a_km + self.arm_b_km
        # drift is shared between a relay link's arms in proportion to their lengths
        self._arm_a_share = np.divide(
            self.arm_a_km, length, out=np.full_like(length, 0.5), where=length > 0
        )
        self.mu = np.full(n, np.nan)
        # The hardware qchannel reads, by its argument names; checked once here, so that every
        # step may ask qchannel's unchecked entry point.
        self._hardware = {
            "efficiency": self.detector_efficiency,
            "dark_count_probability": self.dark_count_probability,
            "misalignment_error": self.misalignment_error,
            "decoy_mu": self.decoy_mu,
            "ec_inefficiency": self.ec_inefficiency,
            "basis_sifting": self.basis_sifting,
        }
        check_link_inputs(repetition_rate_hz=self.nominal_pulse_rate_hz, **self._hardware)
        self._mu_tables = OptimalMuTables(
            np.column_stack(
                [
                    self.detector_efficiency,
                    self.dark_count_probability,
                    self.misalignment_error,
                    self.ec_inefficiency,
                    self.basis_sifting,
                    self.decoy_mu,
                ]
            ),
            optimal_mu,
        )
        self._cache: tuple[tuple, LinkPoints] | None = None
        self._groups_cache: tuple[tuple, list[tuple[str, str, np.ndarray]]] | None = None
        self._window: _Window | None = None
        self._batch: _Batch | None = None
        self._held: tuple | None = None  # intensities, protocols, attack at the previous call
        self._drift = _OuGroups(
            [h.drift.sigma_db for h in hw], [h.drift.correlation_time_s for h in hw], seed, 1
        )
        self._rate_drift = _OuGroups(
            [h.rate_drift.sigma_fraction for h in hw],
            [h.rate_drift.correlation_time_s for h in hw],
            seed,
            3,
        )
        self._fading = _FadingGroups([h.free_space for h in hw], seed)
        # links whose operating point moves every step (so it is found anew every step)
        self._point_moves = np.array(
            [
                h.drift.sigma_db > 0.0
                or h.rate_drift.sigma_fraction > 0.0
                or h.free_space is not None
                for h in hw
            ],
            dtype=bool,
        )
        self._update_losses()

    # state -------------------------------------------------------------------------------
    def advance(self, dt_s: float) -> None:
        """Move the channel processes on by dt_s.

        Drifting channels are sampled `lookahead_steps` ahead (one call per process, the same
        values step by step calls give) so that `operating_points` can evaluate those steps in
        one call; the processes are rewound if the step length changes in between."""
        window = self._window
        if not self._looks_ahead():
            if window is not None:  # look-ahead turned off: back to the step it was at
                self._rewind(window)
                self._window = None
            self._drift.step(dt_s)
            self._fading.step(dt_s)
            self._rate_drift.step(dt_s)
            self._update_losses()
            if self._rate_drift.groups:
                factor = np.maximum(1.0 + self._rate_drift.offset, 0.1)
                self.pulse_rate_hz = self.nominal_pulse_rate_hz * factor
            return
        if window is not None and window.dt_s == dt_s and window.row + 1 < window.rows:
            window.row += 1
        else:
            if window is not None:
                self._rewind(window)  # a new step length: back to where step by step would be
            window = self._window = self._sample_ahead(dt_s)
        self._arm_loss_db = (window.arm_a[window.row], window.arm_b[window.row])
        self._loss_db = window.loss[window.row]
        if self._rate_drift.groups:
            self.pulse_rate_hz = window.pulse_rate_hz[window.row]

    def _looks_ahead(self) -> bool:
        """Channels sampled ahead: drifting ones, unless a free-space link fades (its process
        is stepped per link) or look-ahead is off (or too long to pay off)."""
        drifting = bool(self._drift.groups or self._rate_drift.groups)
        rows = self._lookahead_rows()
        long_enough = rows > 1 and rows >= self.lookahead_min_steps
        return drifting and long_enough and not self._fading.processes

    def _lookahead_rows(self) -> int:
        fit = int(self.lookahead_elements) // max(self.n_links, 1)
        return max(1, min(int(self.lookahead_steps), fit))

    def _sample_ahead(self, dt_s: float) -> _Window:
        rows = self._lookahead_rows()
        checkpoints = (self._drift.checkpoint(), self._rate_drift.checkpoint())
        arm_a, arm_b, loss = self._fibre_losses(self._drift.ahead(rows, dt_s))
        rate_offset = self._rate_drift.ahead(rows, dt_s)
        rate = self.nominal_pulse_rate_hz * np.maximum(1.0 + rate_offset, 0.1)
        return _Window(dt_s, rows, 0, checkpoints, arm_a, arm_b, loss, rate)

    def _rewind(self, window: _Window) -> None:
        """Processes back to the window's current step (they were sampled to its end)."""
        if window.row + 1 == window.rows:
            return  # they are there already
        for groups, checkpoint in zip(
            (self._drift, self._rate_drift), window.checkpoints, strict=True
        ):
            groups.rewind(checkpoint)
            for _ in range(window.row + 1):
                groups.step(window.dt_s)

    def _update_losses(self) -> None:
        """Recompute the losses from the channel processes; they change only in `advance`, and
        the step reads them several times (cache key, operating points, records)."""
        arm_a, arm_b, fibre = self._fibre_losses(self._drift.offset)
        self._arm_loss_db = (arm_a, arm_b)
        if self._fading.processes:
            free = self._fading.loss_db
            self._loss_db = np.where(np.isnan(free), fibre, free)
        else:
            self._loss_db = fibre  # no free-space link

    def _fibre_losses(self, drift_db: Array) -> tuple[Array, Array, Array]:
        """(arm A, arm B, total) fibre loss for drift offsets (links, or steps x links)."""
        share_a = self._arm_a_share
        base_a = self.attenuation_db_per_km * self.arm_a_km + drift_db * share_a
        base_b = self.attenuation_db_per_km * self.arm_b_km + drift_db * (1.0 - share_a)
        arm_a, arm_b = np.maximum(base_a, 0.0), np.maximum(base_b, 0.0)
        return arm_a, arm_b, arm_a + arm_b + self.insertion_loss_db

    def arm_loss_db(self) -> tuple[Array, Array]:
        """Fibre loss of each arm (A side, B side) now, drift shared in proportion to length."""
        return self._arm_loss_db

    @property
    def loss_db(self) -> Array:
        """Channel loss of each link now (fibre + insertion + drift, or the free-space channel)."""
        return self._loss_db

    # actions -----------------------------------------------------------------------------
    def set_mu(self, link: int, mu: float | None) -> None:
        """Fix a link's signal intensity (None: optimal again)."""
        if mu is not None and not (0.0 < mu < 10.0):
            raise ValueError(f"link {link}: signal intensity {mu} must be in (0, 10)")
        self.fixed_mu[link] = np.nan if mu is None else float(mu)

    def set_protocol(self, link: int, protocol: str) -> None:
        if protocol == "mdi" and not self.has_relay[link]:
            raise ValueError(f"link {link} has no relay node: it cannot run MDI-QKD")
        self.protocol[link] = protocol

    # physics -----------------------------------------------------------------------------
    def operating_points(self, intercept_fraction: Array | None = None) -> LinkPoints:
        """Every link's operating point now, with `intercept_fraction` of pulses attacked.

        The result is reused while nothing it depends on changed (a static channel costs one
        optimisation per scenario, not one per step). While the channel drifts and the rest
        stays as it was at the previous call (intensities, protocols, attack), the points of
        every step sampled ahead are computed in one call and read back step by step: each is
        used only if everything it depends on is exactly what this step has.
        """
        n = self.n_links
        attack = np.zeros(n) if intercept_fraction is None else np.asarray(intercept_fraction)
        held = (
            self.fixed_mu.tobytes(),
            tuple(self.protocol),
            attack.astype(np.float64).tobytes(),
            bool(self.tabulate_mu),
        )
        key = (self.loss_db.tobytes(), *held, self.pulse_rate_hz.tobytes())
        if self._cache is not None and self._cache[0] == key:
            self.mu = self._cache[1].mu
            return self._cache[1]
        points = self._from_batch(key)
        if points is None:
            window = self._window if self._looks_ahead() else None
            if window is not None and held == self._held and self._tables_cover(window, attack):
                points = self._compute_ahead(window, attack, held, key)
            else:
                rows = self._compute(
                    attack,
                    self.loss_db[None],
                    (self._arm_loss_db[0][None], self._arm_loss_db[1][None]),
                    self.pulse_rate_hz[None],
                )
                points = _row_points(rows, 0, attack)
        self._held = held
        self._cache = (key, points)
        self.mu = points.mu
        return points

    def _from_batch(self, key: tuple) -> LinkPoints | None:
        """This step's points from the batch computed ahead, if it holds them for exactly `key`."""
        batch, window = self._batch, self._window
        if batch is None or window is None or batch.window is not window:
            return None
        r = window.row - batch.first
        if not 0 <= r < batch.loss.shape[0]:
            return None
        row_key = (batch.loss[r].tobytes(), *batch.held, batch.pulse_rate_hz[r].tobytes())
        return _row_points(batch.rows, r, batch.attack) if row_key == key else None

    def _tables_cover(self, window: _Window, attack: Array) -> bool:
        """Whether the mu tables already cover the window's remaining losses: a batch must not
        build or extend a table earlier than step by step would (that moves the grid)."""
        loss = window.loss[window.row :]
        for protocol, mode, idx in self._groups():
            if mode == "tabled" and not self._mu_tables.covers(
                protocol, np.tile(idx, loss.shape[0]), loss[:, idx].ravel()
            ):
                return False
        return True

    def _compute_ahead(self, window: _Window, attack: Array, held: tuple, key: tuple):
        first = window.row
        loss = window.loss[first:]
        rate = window.pulse_rate_hz[first:]
        if not self._rate_drift.groups:  # the rate the links have now, as step by step uses
            rate = np.broadcast_to(self.pulse_rate_hz, loss.shape).copy()
        rows = self._compute(attack, loss, (window.arm_a[first:], window.arm_b[first:]), rate)
        self._batch = _Batch(window, first, held, attack.copy(), loss, rate, rows)
        points = self._from_batch(key)
        assert points is not None, "a batch computed for this step holds its points"
        return points

    def _groups(self) -> list[tuple[str, str, np.ndarray]]:
        """(protocol, how its intensity is chosen, link indices) of every non-empty group.

        "tabled": optimal mu read from the tables (BB84 links whose channel moves);
        "optimal": optimised exactly (still links, MDI links); "fixed": set by an action.
        Rebuilt only when a protocol, a fixed intensity or `tabulate_mu` changed."""
        optimal_mu = np.isnan(self.fixed_mu)
        key = (tuple(self.protocol), optimal_mu.tobytes(), bool(self.tabulate_mu))
        if self._groups_cache is not None and self._groups_cache[0] == key:
            return self._groups_cache[1]
        tabled = optimal_mu & self._point_moves & (self.protocol != "mdi") & self.tabulate_mu
        groups = []
        for protocol in ("bb84-decoy", "bb84-vacuum-weak", "mdi"):
            mine = self.protocol == protocol
            for mode, chosen in (
                ("tabled", tabled),
                ("optimal", optimal_mu & ~tabled),
                ("fixed", ~optimal_mu),
            ):
                idx = np.flatnonzero(mine & chosen)
                if idx.size:
                    groups.append((protocol, mode, idx))
        self._groups_cache = (key, groups)
        return groups

    def _compute(
        self, attack: Array, loss: Array, arms: tuple[Array, Array], pulse_rate_hz: Array
    ) -> dict[str, Array]:
        """Operating points of every link for `steps` channel states at once: (steps, links)
        arrays by field (`loss` etc. are (steps, links)); one qchannel call per group."""
        steps, n = loss.shape
        out = {name: np.zeros((steps, n)) for name in _ROW_FIELDS}
        channel = (loss, arms[0], arms[1], pulse_rate_hz)
        for protocol, mode, idx in self._groups():
            # The intensity is chosen for the clean channel: the source does not know that
            # someone taps the fibre (optimising against the attack would leak it). The
            # attacked links then run at that intensity under the attack.
            k = idx.size
            hit = np.flatnonzero(attack[idx] > 0.0)
            links = idx[hit]
            clean_links, tapped_links = np.tile(idx, steps), np.tile(links, steps)
            clean_channel = [c[:, idx].ravel() for c in channel]
            tapped_channel = [c[:, links].ravel() for c in channel]
            tapped_attack = np.tile(attack[links], steps)
            if mode == "optimal":
                clean = self._evaluate(
                    protocol, clean_links, np.zeros(steps * k), None, clean_channel
                )
                clean_mu = clean.mu
                parts = [(clean, idx, slice(None))]
                if hit.size:
                    attacked = self._evaluate(
                        protocol,
                        tapped_links,
                        tapped_attack,
                        clean_mu.reshape(steps, k)[:, hit].ravel(),
                        tapped_channel,
                    )
                    parts.append((attacked, links, slice(None)))
            else:
                # the intensity is known before evaluating: clean and attacked links in one call
                if mode == "tabled":
                    clean_mu = self._mu_tables.optimal_mu(
                        protocol, clean_links, clean_channel[0], np.zeros(steps * k)
                    )
                else:
                    clean_mu = np.tile(self.fixed_mu[idx], steps)
                both = self._evaluate(
                    protocol,
                    np.concatenate([clean_links, tapped_links]),
                    np.concatenate([np.zeros(steps * k), tapped_attack]),
                    np.concatenate([clean_mu, clean_mu.reshape(steps, k)[:, hit].ravel()]),
                    [np.concatenate(p) for p in zip(clean_channel, tapped_channel, strict=True)],
                )
                parts = [(both, idx, slice(0, steps * k)), (both, links, slice(steps * k, None))]
            out["mu"][:, idx] = np.reshape(clean_mu, (steps, k))
            out["qber_no_attack"][:, idx] = parts[0][0].qber[parts[0][2]].reshape(steps, k)
            for point, where, part in parts:
                for name, field in _POINT_FIELDS.items():
                    out[name][:, where] = getattr(point, field)[part].reshape(steps, where.size)
        out["gain"] = np.clip(out["gain"], 0.0, 1.0)
        out["qber"] = np.clip(out["qber"], 0.0, 0.5)
        out["qber_no_attack"] = np.clip(out["qber_no_attack"], 0.0, 0.5)
        out["pulse_rate_hz"], out["loss_db"] = pulse_rate_hz, loss
        return out

    def _evaluate(
        self,
        protocol: str,
        idx: np.ndarray,
        attack: Array,
        mu: Array | None,
        channel: list[Array],
    ):
        """Operating points of links `idx` (repeats allowed: one per step) under `attack` in
        `channel` (their loss, arm A and B losses, pulse rate): at `mu`, or the optimal when None.

        qchannel's unchecked entry: the hardware was checked once in `__init__`, the losses are
        >= 0 by construction, attack fractions come from the checked scenario and intensities
        from the optimiser or `set_mu` (checked there). Re-checking all of it every step was
        most of the physics' cost on a small network."""
        from qchannel.channels import db_to_transmittance_unchecked as transmittance
        from qchannel.operating_point import link_operating_point_unchecked

        loss, arm_a, arm_b, pulse_rate_hz = channel
        common = {name: values[idx] for name, values in self._hardware.items()}
        common.update(
            repetition_rate_hz=pulse_rate_hz, intercept_resend_fraction=attack, signal_mu=mu
        )
        if protocol == "mdi":
            half = self.insertion_loss_db[idx] / 2.0
            arms = (transmittance(arm_a + half), transmittance(arm_b + half))
            return link_operating_point_unchecked(protocol, arm_transmittances=arms, **common)
        return link_operating_point_unchecked(
            protocol, channel_transmittance=transmittance(loss), **common
        )


#: LinkPoints fields computed per row, and where they come from in qchannel's OperatingPoint.
_POINT_FIELDS = {
    "gain": "gain",
    "qber": "qber",
    "sifting_ratio": "sifting_ratio",
    "secret_fraction": "secret_fraction",
    "key_rate_bits_per_pulse": "key_rate_bits_per_pulse",
}
_ROW_FIELDS = (*_POINT_FIELDS, "mu", "qber_no_attack")


def _row_points(rows: dict[str, Array], r: int, attack: Array) -> LinkPoints:
    """Step `r` of `LinkPhysics._compute`'s arrays as the step's LinkPoints."""
    return LinkPoints(
        gain=rows["gain"][r],
        qber=rows["qber"][r],
        sifting_ratio=rows["sifting_ratio"][r],
        secret_fraction=rows["secret_fraction"][r],
        pulse_rate_hz=rows["pulse_rate_hz"][r].copy(),
        loss_db=rows["loss_db"][r].copy(),
        mu=rows["mu"][r],
        key_rate_bits_per_pulse=rows["key_rate_bits_per_pulse"][r],
        intercept_fraction=attack.astype(np.float64),
        qber_no_attack=rows["qber_no_attack"][r],
    )


@dataclass
class _Window:
    """Channel states of the next `rows` steps of `dt_s`, sampled ahead; `row` is now."""

    dt_s: float
    rows: int
    row: int
    checkpoints: tuple  # the drift and rate-drift processes before the first row
    arm_a: Array
    arm_b: Array
    loss: Array
    pulse_rate_hz: Array


@dataclass
class _Batch:
    """Operating points computed for the window's rows from `first` on, for `held` (intensities,
    protocols, attack) as they were; each row is used only under exactly its inputs."""

    window: _Window
    first: int
    held: tuple
    attack: Array
    loss: Array
    pulse_rate_hz: Array
    rows: dict[str, Array]


class _OuGroups:
    """Seeded OU processes for every link, sigma_i * x_i(t): one vectorised process per distinct
    correlation time (fibre drift in dB, source-rate drift as a fraction)."""

    def __init__(self, sigmas: list[float], taus: list[float], seed: int, stream: int) -> None:
        from qchannel.processes import OrnsteinUhlenbeck

        self.n = len(sigmas)
        self.sigma = np.array(sigmas, dtype=np.float64)
        self.groups: list[tuple[np.ndarray, OrnsteinUhlenbeck]] = []
        distinct = sorted({tau for sigma, tau in zip(sigmas, taus, strict=True) if sigma > 0.0})
        for g, tau in enumerate(distinct):
            idx = np.flatnonzero(
                [(s > 0.0 and t == tau) for s, t in zip(sigmas, taus, strict=True)]
            )
            process = OrnsteinUhlenbeck(tau, seed=_sub_seed(seed, stream, g), size=idx.size)
            self.groups.append((idx, process))

    @property
    def offset(self) -> Array:
        offset = np.zeros(self.n)
        for idx, process in self.groups:
            offset[idx] = self.sigma[idx] * np.asarray(process.state)
        return offset

    def step(self, dt_s: float) -> None:
        for _, process in self.groups:
            process.step(dt_s)

    def ahead(self, steps: int, dt_s: float) -> Array:
        """Offsets of the next `steps` steps of dt_s, (steps, links): one `sample` per process,
        bit for bit what as many `step` calls give; the processes end at the last one."""
        offset = np.zeros((steps, self.n))
        for idx, process in self.groups:
            offset[:, idx] = self.sigma[idx] * process.sample(steps, dt_s)
        return offset

    def checkpoint(self) -> list[tuple]:
        return [process.checkpoint() for _, process in self.groups]

    def rewind(self, checkpoints: list[tuple]) -> None:
        for (_, process), checkpoint in zip(self.groups, checkpoints, strict=True):
            process.rewind(checkpoint)


class _FadingGroups:
    """Atmospheric fading of free-space links (one process per link: their laws differ)."""

    def __init__(self, configs: list, seed: int) -> None:
        from qchannel import AtmosphericFading

        self.n = len(configs)
        self.processes: list[tuple[int, object]] = []
        for i, cfg in enumerate(configs):
            if cfg is None:
                continue
            self.processes.append(
                (
                    i,
                    AtmosphericFading(
                        cfg.mean_loss_db,
                        cfg.scintillation_index,
                        cfg.correlation_time_s,
                        seed=_sub_seed(seed, 2, i),
                    ),
                )
            )

    @property
    def loss_db(self) -> Array:
        """Loss of free-space links now (NaN for fibre links)."""
        from qchannel import transmittance_to_db

        loss = np.full(self.n, np.nan)
        for i, process in self.processes:
            loss[i] = float(transmittance_to_db(max(process.transmittance, 1e-300)))
        return loss

    def step(self, dt_s: float) -> None:
        for _, process in self.processes:
            process.step(dt_s)


def _sub_seed(seed: int, kind: int, index: int) -> int:
    """Independent, reproducible seeds for each process from the scenario seed."""
    return int(np.random.SeedSequence([seed, kind, index]).generate_state(1)[0])

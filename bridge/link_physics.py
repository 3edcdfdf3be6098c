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

from bridge.mu_table import OptimalMuTables, optimal_mu
from bridge.scenario_plan import ScenarioPlan

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
        """Move the channel processes on by dt_s."""
        self._drift.step(dt_s)
        self._fading.step(dt_s)
        self._rate_drift.step(dt_s)
        self._update_losses()
        if self._rate_drift.groups:
            factor = np.maximum(1.0 + self._rate_drift.offset, 0.1)
            self.pulse_rate_hz = self.nominal_pulse_rate_hz * factor

    def _update_losses(self) -> None:
        """Recompute the losses from the channel processes; they change only in `advance`, and
        the step reads them several times (cache key, operating points, records)."""
        share_a = self._arm_a_share
        drift = self._drift.offset
        base_a = self.attenuation_db_per_km * self.arm_a_km + drift * share_a
        base_b = self.attenuation_db_per_km * self.arm_b_km + drift * (1.0 - share_a)
        self._arm_loss_db = (np.maximum(base_a, 0.0), np.maximum(base_b, 0.0))
        fibre = self._arm_loss_db[0] + self._arm_loss_db[1] + self.insertion_loss_db
        if self._fading.processes:
            free = self._fading.loss_db
            self._loss_db = np.where(np.isnan(free), fibre, free)
        else:
            self._loss_db = fibre  # no free-space link

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
        optimisation per scenario, not one per step).
        """
        n = self.n_links
        attack = np.zeros(n) if intercept_fraction is None else np.asarray(intercept_fraction)
        key = (
            self.loss_db.tobytes(),
            self.fixed_mu.tobytes(),
            tuple(self.protocol),
            attack.astype(np.float64).tobytes(),
            self.pulse_rate_hz.tobytes(),
        )
        if self._cache is not None and self._cache[0] == key:
            self.mu = self._cache[1].mu
            return self._cache[1]
        points = self._compute(attack)
        self._cache = (key, points)
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

    def _compute(self, attack: Array) -> LinkPoints:
        n = self.n_links
        gain, qber, sifting, secret, mu_now, rate, qber_clean = (np.zeros(n) for _ in range(7))
        for protocol, mode, idx in self._groups():
            # The intensity is chosen for the clean channel: the source does not know that
            # someone taps the fibre (optimising against the attack would leak it). The
            # attacked links then run at that intensity under the attack.
            k = idx.size
            hit = np.flatnonzero(attack[idx] > 0.0)
            links = idx[hit]
            if mode == "optimal":
                clean = self._evaluate(protocol, idx, np.zeros(k), None)
                clean_mu, clean_qber = clean.mu, clean.qber
                points = [(clean, idx, slice(None))]
                if hit.size:
                    attacked = self._evaluate(protocol, links, attack[links], clean.mu[hit])
                    points.append((attacked, links, slice(None)))
            else:
                # the intensity is known before evaluating: clean and attacked links in one call
                if mode == "tabled":
                    mu = self._mu_tables.optimal_mu(protocol, idx, self.loss_db[idx], np.zeros(k))
                else:
                    mu = self.fixed_mu[idx]
                both = self._evaluate(
                    protocol,
                    np.concatenate([idx, links]),
                    np.concatenate([np.zeros(k), attack[links]]),
                    np.concatenate([mu, mu[hit]]),
                )
                clean_mu, clean_qber = both.mu[:k], both.qber[:k]
                points = [(both, idx, slice(0, k)), (both, links, slice(k, None))]
            mu_now[idx] = clean_mu
            qber_clean[idx] = clean_qber
            for point, where, part in points:
                gain[where] = point.gain[part]
                qber[where] = point.qber[part]
                sifting[where] = point.sifting_ratio[part]
                secret[where] = point.secret_fraction[part]
                rate[where] = point.key_rate_bits_per_pulse[part]
        self.mu = mu_now
        return LinkPoints(
            gain=np.clip(gain, 0.0, 1.0),
            qber=np.clip(qber, 0.0, 0.5),
            sifting_ratio=sifting,
            secret_fraction=secret,
            pulse_rate_hz=self.pulse_rate_hz.copy(),
            loss_db=self.loss_db.copy(),
            mu=mu_now,
            key_rate_bits_per_pulse=rate,
            intercept_fraction=attack.astype(np.float64),
            qber_no_attack=np.clip(qber_clean, 0.0, 0.5),
        )

    def _evaluate(self, protocol: str, idx: np.ndarray, attack: Array, mu: Array | None):
        """Operating points of links `idx` under `attack`: at `mu`, or the optimal when None.

        qchannel's unchecked entry: the hardware was checked once in `__init__`, the losses are
        >= 0 by construction, attack fractions come from the checked scenario and intensities
        from the optimiser or `set_mu` (checked there). Re-checking all of it every step was
        most of the physics' cost on a small network."""
        from qchannel.channels import db_to_transmittance_unchecked as transmittance
        from qchannel.operating_point import link_operating_point_unchecked

        common = {name: values[idx] for name, values in self._hardware.items()}
        common.update(
            repetition_rate_hz=self.pulse_rate_hz[idx],
            intercept_resend_fraction=attack,
            signal_mu=mu,
        )
        if protocol == "mdi":
            arm_a, arm_b = self.arm_loss_db()
            half = self.insertion_loss_db[idx] / 2.0
            arms = (transmittance(arm_a[idx] + half), transmittance(arm_b[idx] + half))
            return link_operating_point_unchecked(protocol, arm_transmittances=arms, **common)
        return link_operating_point_unchecked(
            protocol, channel_transmittance=transmittance(self.loss_db[idx]), **common
        )


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

"""One entry point from a link's hardware to what the network model samples per pulse.

Why: the bridge (per link, per step) and the CLI (per distance) both need the same numbers —
gain, QBER, sifting ratio, secret fraction, key rate — from a transmittance and the devices, with
detector non-idealities and attacks folded in the same way. Everything is numpy and broadcasts:
pass arrays of transmittances (one per link, or a distance sweep) and get arrays back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qchannel._validate import as_float_array, check_range
from qchannel.attacks import attacked_misalignment, intercept_resend_qber_unchecked
from qchannel.channels import db_to_transmittance, fiber_loss_db
from qchannel.devices import (
    Detector,
    Source,
    background_with_afterpulses,
    check_misalignment,
    dead_time_live_fraction,
)
from qchannel.entropy import EC_INEFFICIENCY
from qchannel.errors import QChannelParameterError, UnknownProtocolError
from qchannel.optimize import (
    MU_SEARCH_HIGH,
    MU_SEARCH_LOW,
    maximize_over_mu,
    rate_grid_score,
)
from qchannel.presets import Preset, get_preset
from qchannel.protocols import PROTOCOLS
from qchannel.protocols.bb84 import (
    FiniteSize,
    bb84_decoy_infinite_unchecked,
    bb84_vacuum_weak_unchecked,
)
from qchannel.protocols.mdi import mdi_decoy_infinite_unchecked
from qchannel.protocols.result import ProtocolResult

BB84_RECEIVER_DETECTORS = 2
"""Bob's detectors in BB84 with active basis choice: the background Y0 = 1 - (1 - p_d)^2."""


@dataclass(frozen=True)
class OperatingPoint:
    """Per-pulse figures of a link (arrays of one broadcast shape; 0-d for a single link).

    gain: detections per pulse (MDI: successful Bell-state announcements per pulse pair),
        dead time included. qber: error rate of the key-basis detections.
    sifting_ratio: fraction of detections kept after basis sifting (1/2 for standard BB84).
    secret_fraction: secret bits per sifted bit, R / (sifting_ratio * gain), 0 where no key.
    key_rate_bits_per_pulse: R = gain * sifting_ratio * secret_fraction.
    eta_total: end-to-end transmittance including detector efficiency (MDI: eta_a * eta_b).
    """

    protocol: str
    mu: NDArray[np.float64]
    gain: NDArray[np.float64]
    qber: NDArray[np.float64]
    sifting_ratio: NDArray[np.float64]
    secret_fraction: NDArray[np.float64]
    key_rate_bits_per_pulse: NDArray[np.float64]
    eta_total: NDArray[np.float64]

    def key_rate_bps(self, repetition_rate_hz: ArrayLike) -> NDArray[np.float64]:
        """Secret key rate in bit/s at a source repetition rate."""
        return self.key_rate_bits_per_pulse * np.asarray(repetition_rate_hz, dtype=np.float64)

    def records(self) -> list[dict[str, float]]:
        """One dict per point (flattened), e.g. for JSON output."""
        fields = ("mu", "gain", "qber", "sifting_ratio", "secret_fraction")
        columns = {name: np.ravel(getattr(self, name)) for name in fields}
        columns["key_rate_bits_per_pulse"] = np.ravel(self.key_rate_bits_per_pulse)
        columns["eta_total"] = np.ravel(self.eta_total)
        size = len(columns["gain"])
        return [{k: float(v[i]) for k, v in columns.items()} for i in range(size)]


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise UnknownProtocolError(
            f"unknown protocol {protocol!r}; known protocols: {', '.join(PROTOCOLS)}"
        )
    return protocol


class DeviceArrays(NamedTuple):
    """The device figures the formulas read, already checked: taken from a validated `Detector`
    and `Source`, or from arrays a caller checked once with `check_link_inputs`."""

    efficiency: ArrayLike
    dark_count_probability: ArrayLike
    afterpulse_probability: ArrayLike
    dead_time_s: ArrayLike
    repetition_rate_hz: ArrayLike
    decoy_mu: ArrayLike


def link_operating_point(
    protocol: str,
    *,
    detector: Detector,
    misalignment_error: ArrayLike,
    channel_transmittance: ArrayLike | None = None,
    arm_transmittances: tuple[ArrayLike, ArrayLike] | None = None,
    source: Source | None = None,
    ec_inefficiency: ArrayLike = EC_INEFFICIENCY,
    basis_sifting: ArrayLike = 0.5,
    intercept_resend_fraction: ArrayLike = 0.0,
    finite_size: FiniteSize | None = None,
) -> OperatingPoint:
    """Gain, QBER, sifting ratio, secret fraction and key rate of a link.

    protocol: 'bb84-decoy' (infinite decoys), 'bb84-vacuum-weak' (vacuum + source.decoy_mu), or
        'mdi' (untrusted relay between two trusted ends; same intensity from both senders).
    channel_transmittance: BB84 Alice-to-Bob channel transmittance (detector not included).
    arm_transmittances: MDI (Alice-to-relay, Bob-to-relay) channel transmittances.
    source.signal_mu: the intensity to use; None picks the key-rate-optimal one per point.
    intercept_resend_fraction: share of pulses under a gain-preserving intercept-resend attack
        (see qchannel.attacks); raises QBER and lowers the secret fraction consistently.
    finite_size: statistical fluctuations of a finite block (bb84-vacuum-weak only; see
        qchannel.protocols.bb84.FiniteSize). None: asymptotic.

    Every input is checked here, once; the formulas (and the intensity optimiser, which runs them
    ~60 times) then work on the checked arrays without checking them again.
    """
    check_protocol(protocol)
    if finite_size is not None and protocol != "bb84-vacuum-weak":
        raise QChannelParameterError("finite_size is implemented for bb84-vacuum-weak only")
    source = source if source is not None else Source()
    check_range("ec_inefficiency", ec_inefficiency, 1.0, np.inf)
    check_range("basis_sifting", basis_sifting, 0.0, 1.0, low_open=True)
    e_d = attacked_misalignment(check_misalignment(misalignment_error), intercept_resend_fraction)
    channels = _checked_channels(protocol, channel_transmittance, arm_transmittances)
    shape = _broadcast_shape(channels, e_d, ec_inefficiency, basis_sifting, detector, source)
    mu = None
    if source.signal_mu is not None:
        mu = np.broadcast_to(as_float_array("signal_mu", source.signal_mu), shape)
    devices = DeviceArrays(
        efficiency=detector.efficiency,
        dark_count_probability=detector.dark_count_probability,
        afterpulse_probability=detector.afterpulse_probability,
        dead_time_s=detector.dead_time_s,
        repetition_rate_hz=source.repetition_rate_hz,
        decoy_mu=source.decoy_mu,
    )
    return _operating_point(
        protocol,
        tuple(channels.values()),
        devices,
        e_d,
        ec_inefficiency,
        basis_sifting,
        mu,
        finite_size,
        shape,
    )


def _checked_channels(
    protocol: str,
    channel_transmittance: ArrayLike | None,
    arm_transmittances: tuple[ArrayLike, ArrayLike] | None,
) -> dict[str, NDArray[np.float64]]:
    """The protocol's channel transmittances, checked, by name (MDI: two arms; BB84: one)."""
    if protocol == "mdi":
        if arm_transmittances is None or channel_transmittance is not None:
            raise QChannelParameterError("mdi needs arm_transmittances=(to_relay_a, to_relay_b)")
        return {
            "arm transmittance a": check_range("arm transmittance a", arm_transmittances[0], 0, 1),
            "arm transmittance b": check_range("arm transmittance b", arm_transmittances[1], 0, 1),
        }
    if channel_transmittance is None or arm_transmittances is not None:
        raise QChannelParameterError(f"{protocol} needs channel_transmittance")
    return {
        "channel_transmittance": check_range(
            "channel_transmittance", channel_transmittance, 0.0, 1.0
        )
    }


def check_link_inputs(
    *,
    efficiency: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
    repetition_rate_hz: ArrayLike,
    decoy_mu: ArrayLike,
    ec_inefficiency: ArrayLike,
    basis_sifting: ArrayLike,
) -> None:
    """Check a link's hardware once (the ranges `link_operating_point` checks on every call),
    so that `link_operating_point_unchecked` may be called on it every step without checks.
    Raises QChannelParameterError naming the first bad field."""
    Detector(efficiency=efficiency, dark_count_probability=dark_count_probability)
    Source(repetition_rate_hz=repetition_rate_hz, decoy_mu=decoy_mu)
    check_misalignment(misalignment_error)
    check_range("ec_inefficiency", ec_inefficiency, 1.0, np.inf)
    check_range("basis_sifting", basis_sifting, 0.0, 1.0, low_open=True)


def link_operating_point_unchecked(
    protocol: str,
    *,
    efficiency: NDArray[np.float64],
    dark_count_probability: NDArray[np.float64],
    misalignment_error: NDArray[np.float64],
    repetition_rate_hz: NDArray[np.float64],
    decoy_mu: NDArray[np.float64],
    ec_inefficiency: NDArray[np.float64],
    basis_sifting: NDArray[np.float64],
    intercept_resend_fraction: NDArray[np.float64],
    channel_transmittance: NDArray[np.float64] | None = None,
    arm_transmittances: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    signal_mu: NDArray[np.float64] | None = None,
) -> OperatingPoint:
    """`link_operating_point` for a caller that checked its inputs already: the link physics,
    which checks every link's hardware once at load (`check_link_inputs`) and derives the
    per-step inputs itself (transmittances of losses >= 0, intercept fractions in [0, 1] from
    the scenario, intensities from the optimiser or a checked action), then asks for the
    operating points every step. No detector afterpulses or dead time, no finite-size effects.

    Every argument is a float64 array of one shape (one value per link), nothing is broadcast
    or checked except the protocol's name and, for bb84-vacuum-weak, that the signal exceeds
    the decoy. The numbers are those of `link_operating_point` on the same inputs, bit for bit
    (`tests/qchannel/test_unchecked.py`).
    """
    check_protocol(protocol)
    if protocol == "mdi":
        if arm_transmittances is None:
            raise QChannelParameterError("mdi needs arm_transmittances=(to_relay_a, to_relay_b)")
        channels = tuple(arm_transmittances)
    else:
        if channel_transmittance is None:
            raise QChannelParameterError(f"{protocol} needs channel_transmittance")
        channels = (channel_transmittance,)
    devices = DeviceArrays(
        efficiency=efficiency,
        dark_count_probability=dark_count_probability,
        afterpulse_probability=0.0,
        dead_time_s=0.0,
        repetition_rate_hz=repetition_rate_hz,
        decoy_mu=decoy_mu,
    )
    e_d = intercept_resend_qber_unchecked(misalignment_error, intercept_resend_fraction)
    return _operating_point(
        protocol,
        channels,
        devices,
        e_d,
        ec_inefficiency,
        basis_sifting,
        signal_mu,
        None,
        np.shape(channels[0]),
    )


def _operating_point(
    protocol: str,
    channels: tuple[NDArray[np.float64], ...],
    devices: DeviceArrays,
    e_d: NDArray[np.float64],
    ec_inefficiency: ArrayLike,
    basis_sifting: ArrayLike,
    mu: NDArray[np.float64] | None,
    finite_size: FiniteSize | None,
    shape: tuple[int, ...],
) -> OperatingPoint:
    """The operating point from checked inputs: at `mu`, or at the optimal mu when None."""
    efficiency = np.asarray(devices.efficiency)
    if protocol == "mdi":
        eta_a, eta_b = (t * efficiency for t in channels)
        eta_total = eta_a * eta_b

        def evaluate(mu: NDArray[np.float64]) -> tuple[ProtocolResult, NDArray[np.float64]]:
            return _mdi(eta_a, eta_b, mu, devices, e_d, ec_inefficiency, basis_sifting)

    else:
        eta = eta_total = channels[0] * efficiency

        def evaluate(mu: NDArray[np.float64]) -> tuple[ProtocolResult, NDArray[np.float64]]:
            return _bb84(
                protocol,
                eta,
                mu,
                devices,
                e_d,
                ec_inefficiency,
                basis_sifting,
                finite_size,
            )

    if mu is None:
        mu = _optimal_mu(protocol, evaluate, shape, devices.decoy_mu)
    elif protocol == "bb84-vacuum-weak" and np.any(mu <= np.asarray(devices.decoy_mu)):
        raise QChannelParameterError("signal_mu must exceed decoy_mu for bb84-vacuum-weak")
    result, live = evaluate(mu)
    return _to_operating_point(protocol, result, live, eta_total, shape)


def _broadcast_shape(channels, e_d, ec_inefficiency, basis_sifting, detector, source):
    """The common shape of every array input, or an error naming the inputs and their shapes."""
    shapes = {name: np.shape(value) for name, value in channels.items()}
    shapes.update(
        {
            "misalignment_error": np.shape(e_d),
            "ec_inefficiency": np.shape(ec_inefficiency),
            "basis_sifting": np.shape(basis_sifting),
            "repetition_rate_hz": np.shape(source.repetition_rate_hz),
            "decoy_mu": np.shape(source.decoy_mu),
            "signal_mu": np.shape(source.signal_mu) if source.signal_mu is not None else (),
        }
    )
    shapes.update(
        {
            f"detector {f.name}": np.shape(getattr(detector, f.name))
            for f in dataclasses.fields(detector)
        }
    )
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = ", ".join(f"{k} {v}" for k, v in shapes.items() if v)
        raise QChannelParameterError(
            f"parameter arrays do not broadcast together: {listed}"
        ) from None


def _optimal_mu(
    protocol: str, evaluate: Callable, shape: tuple[int, ...], decoy_mu: ArrayLike
) -> NDArray[np.float64]:
    low = MU_SEARCH_LOW
    if protocol == "bb84-vacuum-weak":
        low = np.asarray(decoy_mu) * (1.0 + 1e-6)
        if np.any(low >= MU_SEARCH_HIGH):
            raise QChannelParameterError(f"decoy_mu must be below {MU_SEARCH_HIGH} to optimise mu")

    def objective(mu: NDArray[np.float64]) -> NDArray[np.float64]:
        result, live = evaluate(mu)
        return live * result.rate_bound_bits_per_pulse

    def score(mu: NDArray[np.float64]) -> NDArray[np.float64]:
        result, live = evaluate(mu)
        return rate_grid_score(live * result.rate_bound_bits_per_pulse, live * result.gain)

    return maximize_over_mu(objective, shape, low=low, high=MU_SEARCH_HIGH, grid_score=score)


def _bb84(protocol, eta, mu, devices: DeviceArrays, e_d, f_ec, q, finite_size=None):
    """BB84 yields with afterpulses (extra background) and dead time (fewer live gates)."""
    p_d = np.asarray(devices.dark_count_probability)
    y0 = 1.0 - (1.0 - p_d) ** BB84_RECEIVER_DETECTORS
    if np.any(np.asarray(devices.afterpulse_probability) > 0.0):
        first = bb84_decoy_infinite_unchecked(eta, mu, y0, e_d, f_ec, q)
        y0 = background_with_afterpulses(y0, devices.afterpulse_probability, first.gain)
    if protocol == "bb84-decoy":
        result = bb84_decoy_infinite_unchecked(eta, mu, y0, e_d, f_ec, q)
    else:
        result = bb84_vacuum_weak_unchecked(
            eta, mu, devices.decoy_mu, y0, e_d, f_ec, q, finite_size
        )
    live = dead_time_live_fraction(result.gain, devices.repetition_rate_hz, devices.dead_time_s)
    return result, live


def _mdi(eta_a, eta_b, mu, devices: DeviceArrays, e_d, f_ec, q):
    """MDI yields; each of the relay's four detectors sees about a quarter of the light."""
    p_d = np.asarray(devices.dark_count_probability)
    click = 1.0 - (1.0 - p_d) * np.exp(-(eta_a * mu + eta_b * mu) / 4.0)
    p_d = background_with_afterpulses(p_d, devices.afterpulse_probability, click)
    result = mdi_decoy_infinite_unchecked(eta_a, eta_b, mu, mu, p_d, e_d, f_ec, q)
    # A coincidence needs two live detectors.
    live = dead_time_live_fraction(click, devices.repetition_rate_hz, devices.dead_time_s) ** 2
    return result, live


def _to_operating_point(protocol, result: ProtocolResult, live, eta_total, shape) -> OperatingPoint:
    def full(a):
        a = np.asarray(a, dtype=np.float64)
        # a copy either way (the caller owns the result); broadcast only where needed
        return a.copy() if a.shape == shape else np.array(np.broadcast_to(a, shape))

    gain = full(result.gain * live)
    rate = full(result.key_rate_bits_per_pulse * live)
    sifting = full(result.basis_sifting)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(gain > 0.0, rate / (sifting * gain), 0.0)
    return OperatingPoint(
        protocol=protocol,
        mu=full(result.mu),
        gain=gain,
        qber=full(result.qber),
        sifting_ratio=sifting,
        secret_fraction=np.clip(fraction, 0.0, 1.0),
        key_rate_bits_per_pulse=rate,
        eta_total=full(eta_total),
    )


def operating_point_from_preset(
    preset: str | Preset,
    length_km: ArrayLike,
    *,
    protocol: str | None = None,
    mu: ArrayLike | None = None,
    relay_position: ArrayLike = 0.5,
    extra_loss_db: ArrayLike = 0.0,
    intercept_resend_fraction: ArrayLike = 0.0,
    finite_size: FiniteSize | None = None,
) -> OperatingPoint:
    """Operating point of a fibre link of `length_km` built from a named preset.

    protocol defaults to the preset's own. For MDI, `length_km` is the Alice-Bob distance and the
    relay sits at `relay_position` (0.5: midway, as in LCQ12); the preset's insertion loss applies
    to each arm. extra_loss_db (e.g. a FiberDrift sample) adds to the fibre loss (floored at 0).
    mu None keeps the preset's source.signal_mu (None there: the optimal intensity per point).
    """
    preset = get_preset(preset)
    protocol = check_protocol(protocol or preset.protocol)
    length = check_range("length_km", length_km, 0.0, np.inf)
    extra = as_float_array("extra_loss_db", extra_loss_db)
    source = preset.source if mu is None else dataclasses.replace(preset.source, signal_mu=mu)
    common = dict(
        detector=preset.detector,
        misalignment_error=preset.misalignment_error,
        source=source,
        ec_inefficiency=preset.ec_inefficiency,
        basis_sifting=preset.basis_sifting,
        intercept_resend_fraction=intercept_resend_fraction,
        finite_size=finite_size,
    )

    def transmittance(arm_length_km, share_of_extra):
        loss = fiber_loss_db(arm_length_km, preset.attenuation_db_per_km, preset.insertion_loss_db)
        return db_to_transmittance(np.maximum(loss + share_of_extra * extra, 0.0))

    if protocol == "mdi":
        x = check_range("relay_position", relay_position, 0.0, 1.0)
        arms = (transmittance(length * x, x), transmittance(length * (1.0 - x), 1.0 - x))
        return link_operating_point(protocol, arm_transmittances=arms, **common)
    return link_operating_point(
        protocol, channel_transmittance=transmittance(length, 1.0), **common
    )

"""qchannel: QKD link physics in plain numpy (gain, QBER, secret key rate, bounds, fading).

Every function broadcasts over numpy arrays (distance, intensity, device parameters); there are
no Python loops over points. Names are re-exported lazily, so `import qchannel` (and the CLI
that registers `cli.physics`) stays light until a name is used.

Public API (all key rates are asymptotic, in secret bits per pulse):

Operating point (what the bridge calls per link and step)
    link_operating_point(protocol, *, detector, misalignment_error, channel_transmittance=None,
        arm_transmittances=None, source=None, ec_inefficiency=EC_INEFFICIENCY,
        basis_sifting=0.5, intercept_resend_fraction=0.0, finite_size=None) -> OperatingPoint
    operating_point_from_preset(preset, length_km, *, protocol=None, mu=None,
        relay_position=0.5, extra_loss_db=0.0, intercept_resend_fraction=0.0,
        finite_size=None) -> OperatingPoint
    OperatingPoint(protocol, mu, gain, qber, sifting_ratio, secret_fraction,
        key_rate_bits_per_pulse, eta_total); .key_rate_bps(rate_hz), .records()
    PROTOCOLS = ('bb84-decoy', 'bb84-vacuum-weak', 'mdi'); max_secure_distance_km(preset, ...)
Protocols (raw formulas; transmittance includes detector efficiency) -> ProtocolResult
    bb84_decoy_infinite(transmittance, mu, dark_count_probability, misalignment_error,
        ec_inefficiency, basis_sifting)                       Lo, Ma & Chen, PRL 94, 230504 (2005)
    bb84_vacuum_weak(transmittance, mu, decoy_mu, ..., finite_size=None)  Ma, Qi, Zhao & Lo,
        PRA 72, 012326 (2005); FiniteSize(pulses, ..., standard_deviations=10) for a finite block
    mdi_decoy_infinite(transmittance_a, transmittance_b, mu_a, mu_b, ...)  Lo, Curty & Qi 2012
    vacuum_weak_bounds(mu, nu, signal_gain, decoy_gain, decoy_error_gain, vacuum_gain)
    maximize_over_mu(objective, shape, low, high)              vectorised intensity optimiser
Devices and channels (frozen dataclasses, validated, fields may be arrays)
    Source(repetition_rate_hz, signal_mu=None, decoy_mu=0.1)
    Detector(efficiency, dark_count_probability, afterpulse_probability=0, dead_time_s=0)
    FiberLink(length_km, attenuation_db_per_km, insertion_loss_db); fiber_transmittance(...),
    fiber_loss_db(...), db_to_transmittance(loss_db), transmittance_to_db(t)
    FreeSpaceLink(mean_loss_db, scintillation_index, correlation_time_s, distribution)
Time variation (seeded numpy Generator; step(dt_s) -> value, sample(n_steps, dt_s) -> array)
    FiberDrift(sigma_db, correlation_time_s, seed, size=None)          loss offset in dB (OU)
    AtmosphericFading(mean_loss_db, scintillation_index, correlation_time_s, seed,
        distribution='lognormal'|'beta', size=None)                   transmittance
Attacks
    intercept_resend(gain, qber, fraction) -> (gain, qber); intercept_resend_qber(qber, fraction);
    attacked_misalignment(misalignment_error, fraction)
Bounds, entropy, post-processing constants
    plob_bound(transmittance); h2(p); error_correction_leak(qber, f_ec) = f_ec * h2(qber);
    EC_INEFFICIENCY (1.16); qber_abort_threshold(f_ec=1); BB84_QBER_ABORT_THRESHOLD (0.1100)
Presets
    PRESETS, get_preset(name) -> Preset, preset_names(): 'gys-2004', 'lcq-2012'
Errors
    QChannelParameterError(ValueError), UnknownPresetError, UnknownProtocolError
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "qchannel.operating_point": (
        "OperatingPoint",
        "PROTOCOLS",
        "link_operating_point",
        "operating_point_from_preset",
    ),
    "qchannel.distance": ("max_secure_distance_km",),
    "qchannel.protocols.bb84": (
        "bb84_decoy_infinite",
        "bb84_vacuum_weak",
        "vacuum_weak_bounds",
        "FiniteSize",
    ),
    "qchannel.protocols.mdi": ("mdi_decoy_infinite",),
    "qchannel.protocols.result": ("ProtocolResult",),
    "qchannel.optimize": ("maximize_over_mu",),
    "qchannel.devices": ("Detector", "Source"),
    "qchannel.channels": (
        "FiberLink",
        "fiber_transmittance",
        "fiber_loss_db",
        "db_to_transmittance",
        "transmittance_to_db",
    ),
    "qchannel.processes": ("FiberDrift", "AtmosphericFading", "FreeSpaceLink"),
    "qchannel.attacks": ("intercept_resend", "intercept_resend_qber", "attacked_misalignment"),
    "qchannel.bounds": ("plob_bound",),
    "qchannel.entropy": (
        "h2",
        "error_correction_leak",
        "EC_INEFFICIENCY",
        "qber_abort_threshold",
        "BB84_QBER_ABORT_THRESHOLD",
    ),
    "qchannel.presets": ("PRESETS", "Preset", "get_preset", "preset_names"),
    "qchannel.errors": ("QChannelParameterError", "UnknownPresetError", "UnknownProtocolError"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'qchannel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Published hardware parameter sets, selectable by name.

Why presets: reproducing a paper's curve needs its exact numbers, and a scenario file should say
`preset: gys-2004` rather than copy five constants. Each preset records where its numbers come
from; values marked "ours" are not in the paper and do not affect per-pulse key rates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from qchannel._validate import check_range
from qchannel.devices import Detector, Source, check_misalignment
from qchannel.errors import QChannelParameterError, UnknownPresetError
from qchannel.protocols import PROTOCOLS


def per_detector_dark_count(system_background: float, detectors: int = 2) -> float:
    """Per-detector dark-count probability giving a receiver background Y0 over `detectors`.

    Papers on decoy BB84 quote Bob's whole-system background Y0 (two detectors); qchannel's
    `Detector` is per detector so one preset serves BB84 (2 detectors) and MDI (4 at the relay).
    """
    return float(1.0 - (1.0 - system_background) ** (1.0 / detectors))


@dataclass(frozen=True)
class Preset:
    """A complete published link setup: channel, source, detector, misalignment, post-processing."""

    name: str
    protocol: str
    description: str
    reference: str
    attenuation_db_per_km: float
    detector: Detector
    misalignment_error: float
    ec_inefficiency: float
    basis_sifting: float
    source: Source = field(default_factory=Source)
    insertion_loss_db: float = 0.0

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise QChannelParameterError(
                f"preset {self.name!r}: unknown protocol {self.protocol!r}; known: "
                f"{', '.join(PROTOCOLS)}"
            )
        check_misalignment(self.misalignment_error)
        check_range("attenuation_db_per_km", self.attenuation_db_per_km, 0.0, np.inf)
        check_range("insertion_loss_db", self.insertion_loss_db, 0.0, np.inf)
        check_range("ec_inefficiency", self.ec_inefficiency, 1.0, np.inf)
        check_range("basis_sifting", self.basis_sifting, 0.0, 1.0, low_open=True)

    def with_overrides(
        self,
        *,
        attenuation_db_per_km: float | None = None,
        insertion_loss_db: float | None = None,
        detector_efficiency: float | None = None,
        dark_count_probability: float | None = None,
        misalignment_error: float | None = None,
        ec_inefficiency: float | None = None,
        repetition_rate_hz: float | None = None,
        signal_mu: float | None = None,
        decoy_mu: float | None = None,
    ) -> Preset:
        """This preset with some fields replaced; None keeps the preset's value.

        Mirrors a scenario file's per-link hardware overrides (None = "use the preset"), so the
        bridge can pass them straight through; every value is validated again.
        """
        detector = self.detector
        if detector_efficiency is not None:
            detector = dataclasses.replace(detector, efficiency=detector_efficiency)
        if dark_count_probability is not None:
            detector = dataclasses.replace(detector, dark_count_probability=dark_count_probability)
        source = self.source
        for name, value in (
            ("repetition_rate_hz", repetition_rate_hz),
            ("signal_mu", signal_mu),
            ("decoy_mu", decoy_mu),
        ):
            if value is not None:
                source = dataclasses.replace(source, **{name: value})
        changes = {
            name: value
            for name, value in (
                ("attenuation_db_per_km", attenuation_db_per_km),
                ("insertion_loss_db", insertion_loss_db),
                ("misalignment_error", misalignment_error),
                ("ec_inefficiency", ec_inefficiency),
            )
            if value is not None
        }
        return dataclasses.replace(self, detector=detector, source=source, **changes)


GYS_2004 = Preset(
    name="gys-2004",
    protocol="bb84-decoy",
    description="Gobby-Yuan-Shields 122 km BB84 experiment, as used for decoy-state BB84",
    reference=(
        "C. Gobby, Z. L. Yuan, A. J. Shields, APL 84, 3762 (2004); parameters as listed in "
        "H.-K. Lo, X. Ma, K. Chen, PRL 94, 230504 (2005) and X. Ma, B. Qi, Y. Zhao, H.-K. Lo, "
        "PRA 72, 012326 (2005): alpha = 0.21 dB/km, eta_Bob = 4.5 %, Y0 = 1.7e-6, "
        "e_detector = 3.3 %, f(e) = 1.22, q = 1/2"
    ),
    attenuation_db_per_km=0.21,
    detector=Detector(efficiency=0.045, dark_count_probability=per_detector_dark_count(1.7e-6)),
    misalignment_error=0.033,
    ec_inefficiency=1.22,
    basis_sifting=0.5,
    # GYS clocked at 2 MHz; weak decoy nu = 0.1 is ours (MQZL05 treat nu as a free parameter).
    source=Source(repetition_rate_hz=2e6, decoy_mu=0.1),
)

LCQ_2012 = Preset(
    name="lcq-2012",
    protocol="mdi",
    description="Lo-Curty-Qi MDI-QKD simulation parameters (detectors of Ursin et al. 2007)",
    reference=(
        "H.-K. Lo, M. Curty, B. Qi, PRL 108, 130503 (2012), Fig. 2: e_d = 1.5 %, "
        "Y0 = 3e-6 per detector, eta_d = 14.5 %, f = 1.16, 0.2 dB/km; rate formula Eq. (1) "
        "without a basis-sifting factor (q = 1)"
    ),
    attenuation_db_per_km=0.2,
    detector=Detector(efficiency=0.145, dark_count_probability=3e-6),
    misalignment_error=0.015,
    ec_inefficiency=1.16,
    basis_sifting=1.0,
    # Repetition rate is ours (LCQ12 give rates per pulse); decoy nu = 0.1 likewise.
    source=Source(repetition_rate_hz=1e9, decoy_mu=0.1),
)

PRESETS: dict[str, Preset] = {p.name: p for p in (GYS_2004, LCQ_2012)}


def get_preset(name: str | Preset) -> Preset:
    """The preset called `name` (a `Preset` passes through); UnknownPresetError lists the names."""
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(PRESETS))
        raise UnknownPresetError(f"unknown preset {name!r}; known presets: {known}") from None


def preset_names() -> list[str]:
    return sorted(PRESETS)

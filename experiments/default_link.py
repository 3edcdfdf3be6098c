"""The built-in default link of `qkdnet demo`: decoy-state BB84 with the GYS 2004 hardware.

Why GYS: it is the parameter set of the decoy-state papers (Lo, Ma & Chen 2005) that qchannel is
checked against, so the demo's numbers can be traced to a publication. The source is clocked at
1 GHz (a modern rate; GYS ran at 2 MHz) so a few simulated seconds make a readable table; the
per-pulse figures do not depend on the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PRESET = "gys-2004"
DEFAULT_PULSE_RATE_HZ = 1e9


@dataclass(frozen=True)
class DefaultLinkPoint:
    """qchannel's operating point for the demo link, as the two-node scenario's inputs."""

    length_km: float
    mu: float
    gain: float
    qber: float
    sifting_ratio: float
    secret_fraction: float
    pulse_rate_hz: float

    def as_link_inputs(self) -> dict[str, float]:
        return {
            "gain": self.gain,
            "qber": self.qber,
            "sifting_ratio": self.sifting_ratio,
            "secret_fraction": self.secret_fraction,
            "pulse_rate_hz": self.pulse_rate_hz,
        }

    def describe(self) -> str:
        return (
            f"BB84 decoy, {DEFAULT_PRESET} hardware, mu={self.mu:.3f}, "
            f"{self.pulse_rate_hz / 1e9:g} GHz"
        )


def default_operating_point(length_km: float) -> DefaultLinkPoint:
    """Optimal-intensity decoy-BB84 operating point of the demo link at `length_km`."""
    import dataclasses

    from qchannel import get_preset, link_operating_point
    from qchannel.channels import fiber_transmittance

    if not length_km >= 0.0:
        raise ValueError(f"--length-km must be >= 0, got {length_km}")
    preset = get_preset(DEFAULT_PRESET)
    source = dataclasses.replace(preset.source, repetition_rate_hz=DEFAULT_PULSE_RATE_HZ)
    point = link_operating_point(
        "bb84-decoy",
        detector=preset.detector,
        misalignment_error=preset.misalignment_error,
        channel_transmittance=fiber_transmittance(
            length_km, preset.attenuation_db_per_km, preset.insertion_loss_db
        ),
        source=source,
        ec_inefficiency=preset.ec_inefficiency,
        basis_sifting=preset.basis_sifting,
    )
    return DefaultLinkPoint(
        length_km=float(length_km),
        mu=float(point.mu),
        gain=float(point.gain),
        qber=float(point.qber),
        sifting_ratio=float(point.sifting_ratio),
        secret_fraction=float(point.secret_fraction),
        pulse_rate_hz=DEFAULT_PULSE_RATE_HZ,
    )

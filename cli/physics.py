"""`qkdnet keyrate` and `qkdnet fading`: key rate versus distance, and a fading time series.

Top-level imports stay light (typer, stdlib): numpy, scipy and matplotlib load inside the command
bodies so `qkdnet --help` stays instant (see cli/main.py).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import user_errors


class ProtocolName(StrEnum):
    bb84_decoy = "bb84-decoy"
    bb84_vacuum_weak = "bb84-vacuum-weak"
    mdi = "mdi"


class FadingLaw(StrEnum):
    lognormal = "lognormal"
    beta = "beta"


def parse_distance_range(spec: str) -> list[float]:
    """`START:STOP:STEP` in km -> the grid START, START+STEP, ... up to STOP inclusive.

    STOP is included when it lies on the grid (within 1e-9 of a step); a clear ValueError names
    the problem otherwise (bad number, negative start, step <= 0, STOP < START).
    """
    parts = spec.split(":")
    if len(parts) != 3:
        raise ValueError(f"--distance {spec!r}: expected START:STOP:STEP in km, e.g. 0:150:10")
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--distance {spec!r}: START, STOP and STEP must be numbers") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ValueError(f"--distance {spec!r}: values must be finite")
    if start < 0.0:
        raise ValueError(f"--distance {spec!r}: START must be >= 0 km")
    if step <= 0.0:
        raise ValueError(f"--distance {spec!r}: STEP must be > 0 km")
    if stop < start:
        raise ValueError(f"--distance {spec!r}: STOP must be >= START")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 1_000_000:
        raise ValueError(f"--distance {spec!r}: {count} points; at most 1000000")
    return [start + i * step for i in range(count)]


def keyrate(
    protocol: Annotated[
        ProtocolName | None,
        typer.Option("--protocol", help="Protocol (default: the preset's own)."),
    ] = None,
    preset: Annotated[
        str, typer.Option("--preset", help="Hardware preset: gys-2004 or lcq-2012.")
    ] = "gys-2004",
    distance: Annotated[
        str,
        typer.Option("--distance", help="START:STOP:STEP in km (MDI: Alice-Bob, relay midway)."),
    ] = "0:150:10",
    mu: Annotated[
        float | None,
        typer.Option("--mu", help="Fixed signal intensity (default: optimal per distance)."),
    ] = None,
    pulses: Annotated[
        float | None,
        typer.Option(
            "--pulses",
            help="Finite block of this many pulses (bb84-vacuum-weak; 10-sigma fluctuations).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list instead of a table.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw key rate vs distance with the PLOB bound here."),
    ] = None,
) -> None:
    """Asymptotic secret key rate per pulse versus distance, with the PLOB bound."""
    with user_errors():
        import numpy as np

        from qchannel.bounds import plob_bound
        from qchannel.distance import max_secure_distance_km
        from qchannel.operating_point import operating_point_from_preset
        from qchannel.presets import get_preset
        from qchannel.protocols.bb84 import FiniteSize

        hardware = get_preset(preset)
        name = protocol.value if protocol is not None else hardware.protocol
        if mu is not None and not (math.isfinite(mu) and mu > 0.0):
            raise ValueError(f"--mu must be a positive number, got {mu:g}")
        finite = None
        if pulses is not None:
            if name != "bb84-vacuum-weak":
                raise ValueError("--pulses needs --protocol bb84-vacuum-weak")
            finite = FiniteSize(pulses=pulses)
        lengths = np.asarray(parse_distance_range(distance))
        if plot is not None:
            _check_plot_path(plot)
        point = operating_point_from_preset(
            hardware, lengths, protocol=name, mu=mu, finite_size=finite
        )
        channel_loss_db = lengths * hardware.attenuation_db_per_km + hardware.insertion_loss_db
        plob = plob_bound(10.0 ** (-channel_loss_db / 10.0))
        rows = [
            {
                "distance_km": float(d),
                "gain": float(g),
                "qber": float(e),
                "key_rate_bits_per_pulse": float(r),
                "mu": float(m),
            }
            for d, g, e, r, m in zip(
                lengths,
                point.gain,
                point.qber,
                point.key_rate_bits_per_pulse,
                point.mu,
                strict=True,
            )
        ]
        reach_km = max_secure_distance_km(hardware, name, mu=mu, finite_size=finite, tol_km=1e-3)
        if plot is not None:
            # The curve is drawn on a fine grid (the table's STEP may be coarse).
            fine = np.union1d(lengths, np.linspace(lengths[0], lengths[-1], 400))
            fine_point = operating_point_from_preset(
                hardware, fine, protocol=name, mu=mu, finite_size=finite
            )
            fine_loss_db = fine * hardware.attenuation_db_per_km + hardware.insertion_loss_db
            fine_plob = plob_bound(10.0 ** (-fine_loss_db / 10.0))
            rates = fine_point.key_rate_bits_per_pulse
            _draw(plot, fine, rates, fine_plob, name, hardware.name, reach_km)

    if as_json:
        print(json.dumps(rows))
        return
    _print_table(rows, plob, name, hardware, reach_km, fixed_mu=mu, pulses=pulses)
    if plot is not None:
        print(f"plot written to {plot}")


def _print_table(rows, plob, protocol, hardware, reach_km, fixed_mu, pulses) -> None:
    from rich.console import Console
    from rich.table import Table

    mu_label = f"mu = {fixed_mu:g}" if fixed_mu is not None else "optimal mu"
    if pulses is not None:
        mu_label += f", block of {pulses:.3g} pulses"
    table = Table(
        title=f"{protocol}, preset {hardware.name} ({mu_label})",
        caption="distance in km; gain, key rate and PLOB bound in bits per pulse",
    )
    for column in ("distance", "mu", "gain", "QBER", "key rate", "PLOB"):
        table.add_column(column, justify="right")
    for row, bound in zip(rows, plob, strict=True):
        table.add_row(
            f"{row['distance_km']:g}",
            f"{row['mu']:.4f}",
            f"{row['gain']:.4e}",
            f"{row['qber']:.4f}",
            f"{row['key_rate_bits_per_pulse']:.4e}",
            f"{bound:.4e}",
        )
    console = Console()
    console.print(table)
    console.print(f"maximum secure distance: {reach_km:.2f} km")
    console.print(f"preset {hardware.name}: {hardware.reference}")


def _check_plot_path(path: Path) -> None:
    if not path.parent.exists():
        raise ValueError(f"--plot {path}: directory {path.parent} does not exist")
    if path.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ValueError(f"--plot {path}: use a .png, .pdf or .svg file name")


def _draw(path: Path, lengths, rates, plob, protocol, preset_name, reach_km) -> None:
    """Log plot of key rate and PLOB; written to a temp file then renamed (never half-written)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    positive = rates > 0.0
    ax.semilogy(lengths[positive], rates[positive], label=f"{protocol} ({preset_name})")
    ax.semilogy(lengths, plob, "k--", label="PLOB bound $-\\log_2(1-\\eta)$")
    if reach_km > 0.0:
        ax.axvline(reach_km, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("distance [km]")
    ax.set_ylabel("secret key rate [bit / pulse]")
    low = rates[positive].min() if positive.any() else np.min(plob)
    ax.set_ylim(bottom=max(low / 10.0, 1e-14))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def fading(
    mean_loss_db: Annotated[
        float, typer.Option("--mean-loss-db", help="Mean loss of the free-space link.")
    ] = 30.0,
    scintillation_index: Annotated[
        float, typer.Option("--scintillation-index", help="var(T) / mean(T)^2.")
    ] = 0.1,
    correlation_time_s: Annotated[
        float, typer.Option("--correlation-time-s", help="Correlation time of the fading.")
    ] = 0.01,
    distribution: Annotated[
        FadingLaw, typer.Option("--distribution", help="Marginal law of the transmittance.")
    ] = FadingLaw.lognormal,
    dt_s: Annotated[float, typer.Option("--dt-s", help="Sampling step in seconds.")] = 0.001,
    steps: Annotated[
        int, typer.Option("--steps", min=1, max=10_000_000, help="Number of samples.")
    ] = 10_000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the process.")] = 1,
    protocol: Annotated[
        ProtocolName, typer.Option("--protocol", help="BB84 protocol run over the link.")
    ] = ProtocolName.bb84_decoy,
    preset: Annotated[
        str, typer.Option("--preset", help="Source/detector hardware preset.")
    ] = "gys-2004",
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write time_s, transmittance, ... per step.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sample a seeded atmospheric fading process and the key rate it allows, step by step."""
    with user_errors():
        import numpy as np

        from qchannel.operating_point import link_operating_point
        from qchannel.presets import get_preset
        from qchannel.processes import AtmosphericFading

        if protocol is ProtocolName.mdi:
            raise ValueError("--protocol mdi: fading is modelled for one free-space link (BB84)")
        if not (math.isfinite(dt_s) and dt_s > 0.0):
            raise ValueError(f"--dt-s must be a positive number, got {dt_s:g}")
        if csv is not None and not csv.parent.exists():
            raise ValueError(f"--csv {csv}: directory {csv.parent} does not exist")
        hardware = get_preset(preset)
        process = AtmosphericFading(
            mean_loss_db,
            scintillation_index,
            correlation_time_s,
            seed,
            distribution=distribution.value,
        )
        transmittance = process.sample(steps, dt_s)
        common = dict(
            detector=hardware.detector,
            misalignment_error=hardware.misalignment_error,
            source=hardware.source,
            ec_inefficiency=hardware.ec_inefficiency,
            basis_sifting=hardware.basis_sifting,
        )
        point = link_operating_point(protocol.value, channel_transmittance=transmittance, **common)
        mean_t = process.link.mean_transmittance
        static = link_operating_point(protocol.value, channel_transmittance=mean_t, **common)
        summary = _fading_summary(
            np, transmittance, point, static, mean_t, scintillation_index, dt_s, process
        )
        if csv is not None:
            _write_csv(csv, dt_s, transmittance, point)

    if as_json:
        print(json.dumps(summary))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{distribution.value} fading, {steps} steps of {dt_s:g} s, seed {seed}")
    for column in ("quantity", "sampled", "model"):
        table.add_column(column, justify="right")
    for label, key in (
        ("mean transmittance", "mean_transmittance"),
        ("scintillation index", "scintillation_index"),
        ("lag-1 autocorrelation", "lag1_autocorrelation"),
        ("key rate [bit/pulse]", "key_rate_bits_per_pulse"),
    ):
        table.add_row(label, f"{summary[key]['sampled']:.4e}", f"{summary[key]['model']:.4e}")
    table.add_row("time without key", f"{summary['outage_fraction']:.2%}", "")
    Console().print(table)
    print("model key rate: at the mean transmittance (no fading)")
    if csv is not None:
        print(f"series written to {csv}")


def _fading_summary(np, t, point, static, mean_t, si, dt_s, process) -> dict:
    lag1 = float(np.corrcoef(t[:-1], t[1:])[0, 1]) if len(t) > 2 and np.std(t) > 0 else 1.0
    rho = math.exp(-dt_s / process.link.correlation_time_s)
    if process.link.distribution == "lognormal" and si > 0.0:
        sigma2 = math.log1p(si)
        model_lag1 = math.expm1(sigma2 * rho) / math.expm1(sigma2)
    else:
        model_lag1 = rho  # Gaussian copula: close to, not exactly, the OU correlation
    mean_sampled = float(np.mean(t))
    return {
        "mean_transmittance": {"sampled": mean_sampled, "model": mean_t},
        "scintillation_index": {
            "sampled": float(np.var(t) / mean_sampled**2) if mean_sampled > 0 else 0.0,
            "model": si,
        },
        "lag1_autocorrelation": {"sampled": lag1, "model": model_lag1},
        "key_rate_bits_per_pulse": {
            "sampled": float(np.mean(point.key_rate_bits_per_pulse)),
            "model": float(static.key_rate_bits_per_pulse),
        },
        "outage_fraction": float(np.mean(point.key_rate_bits_per_pulse <= 0.0)),
    }


def _write_csv(path: Path, dt_s, transmittance, point) -> None:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "time_s": dt_s * np.arange(1, len(transmittance) + 1),
            "transmittance": transmittance,
            "loss_db": -10.0 * np.log10(np.maximum(transmittance, 1e-300)),
            "gain": point.gain,
            "qber": point.qber,
            "mu": point.mu,
            "key_rate_bits_per_pulse": point.key_rate_bits_per_pulse,
        }
    )
    fd, tmp = tempfile.mkstemp(suffix=".csv", dir=path.parent)
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


__all__ = ["fading", "keyrate", "parse_distance_range"]

"""The smallest qkdnet scenario: two trusted nodes, one QKD link, one classical channel.

It is the foundation's end-to-end slice (and `qkdnet demo`): Python sets the link's operating
point (gain, QBER, sifting ratio, secret fraction, pulse rate), ns-3 samples frames and fills the
two key buffers, and after each step Python reads the counters. Everything a bigger scenario does
per link happens here too, so its tests pin down the link model itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.ns3_runtime import load_ns
from bridge.scenario.runtime import NetworkRuntime


class TwoNodeConfig(BaseModel):
    """Everything the two-node scenario needs; validated so bad values fail before ns-3 runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    length_km: float = Field(25.0, ge=0.0, allow_inf_nan=False, description="fibre length")
    pulse_rate_hz: float = Field(1e9, ge=1.0, allow_inf_nan=False)
    frame_pulses: int = Field(1_000_000, ge=1, description="pulses per sampled frame")
    block_size_bits: int = Field(100_000, ge=1, description="sifted bits per block")
    abort_qber: float = Field(0.11, ge=0.0, le=0.5)
    gain: float = Field(2.0e-3, ge=0.0, le=1.0, description="detection probability per pulse")
    qber: float = Field(0.02, ge=0.0, le=0.5)
    sifting_ratio: float = Field(0.5, ge=0.0, le=1.0)
    secret_fraction: float = Field(0.4, ge=0.0, le=1.0, description="secret bits per sifted bit")
    step_s: float = Field(0.1, gt=0.0, allow_inf_nan=False)
    seed: int = Field(1, ge=0)
    buffer_capacity_bits: int = Field(100_000_000, ge=1)
    buffer_minimum_bits: int = Field(0, ge=0)
    buffer_threshold_bits: int = Field(1_000_000, ge=0)
    buffer_initial_bits: int = Field(0, ge=0)
    classical_data_rate: str = Field("1Gbps", pattern=r"^\d+(\.\d+)?\s*[kKMG]?(bps|b/s|Bps|B/s)$")

    @model_validator(mode="after")
    def _buffer_order(self) -> TwoNodeConfig:
        if not (
            self.buffer_minimum_bits <= self.buffer_threshold_bits <= self.buffer_capacity_bits
        ):
            raise ValueError(
                "buffer needs buffer_minimum_bits <= buffer_threshold_bits <= buffer_capacity_bits"
            )
        return self


@dataclass(frozen=True)
class StepRecord:
    """What one step of the two-node scenario produced."""

    time_s: float
    key_bits_a: int
    key_bits_b: int
    secret_bits_total: int
    detections: int
    sifted_bits: int
    error_bits: int
    qber_measured: float  # over this step's sifted bits (NaN if none)
    blocks_aborted_total: int


class TwoNodeScenario:
    """Two trusted nodes joined by one QKD link, stepped from Python."""

    def __init__(self, config: TwoNodeConfig | None = None) -> None:
        self.config = config or TwoNodeConfig()
        cfg = self.config
        ns = load_ns()
        net = ns.QkdNetwork()
        net.SetLinkConfig(cfg.frame_pulses, cfg.block_size_bits, cfg.abort_qber)
        net.SetBufferConfig(
            cfg.buffer_capacity_bits,
            cfg.buffer_minimum_bits,
            cfg.buffer_threshold_bits,
            cfg.buffer_initial_bits,
        )
        net.SetClassicalChannel(cfg.classical_data_rate, 1000)
        a, b = net.AddTrustedNode(), net.AddTrustedNode()
        net.AddLink(a, b, cfg.length_km, -1)
        self.runtime = NetworkRuntime(net, seed=cfg.seed)
        self.set_operating_point(
            gain=cfg.gain,
            qber=cfg.qber,
            sifting_ratio=cfg.sifting_ratio,
            secret_fraction=cfg.secret_fraction,
            pulse_rate_hz=cfg.pulse_rate_hz,
        )
        self._previous = self.runtime.link_counters()[0].copy()

    def set_operating_point(
        self,
        *,
        gain: float | None = None,
        qber: float | None = None,
        sifting_ratio: float | None = None,
        secret_fraction: float | None = None,
        pulse_rate_hz: float | None = None,
    ) -> None:
        """Change the link's inputs; they apply from the next frame (validated in C++ too)."""
        values = {
            "gain": gain,
            "qber": qber,
            "sifting_ratio": sifting_ratio,
            "secret_fraction": secret_fraction,
            "pulse_rate_hz": pulse_rate_hz,
        }
        for field, value in values.items():
            if value is not None:
                self.runtime.set_link_input(0, field, float(value))
        self.runtime.apply_inputs()

    def step(self) -> StepRecord:
        """Advance one step and report it."""
        self.runtime.step(self.config.step_s)
        now = self.runtime.link_counters()[0]
        field = self.runtime.output_fields.index
        delta = now - self._previous
        self._previous = now.copy()
        sifted = int(delta[field("sifted_bits")])
        errors = int(delta[field("error_bits")])
        return StepRecord(
            time_s=self.runtime.now_s,
            key_bits_a=int(now[field("buffer_a_bits")]),
            key_bits_b=int(now[field("buffer_b_bits")]),
            secret_bits_total=int(now[field("secret_bits")]),
            detections=int(delta[field("detections")]),
            sifted_bits=sifted,
            error_bits=errors,
            qber_measured=errors / sifted if sifted else float("nan"),
            blocks_aborted_total=int(now[field("blocks_aborted")]),
        )

    def run(self, steps: int, on_step: Callable[[StepRecord], None] | None = None) -> pd.DataFrame:
        """Run `steps` steps; returns one row per step."""
        records = []
        for _ in range(steps):
            record = self.step()
            records.append(record)
            if on_step is not None:
                on_step(record)
        return pd.DataFrame([r.__dict__ for r in records])

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> TwoNodeScenario:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

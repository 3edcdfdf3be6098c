"""The scenario file: one YAML that says everything a qkdnet run needs.

Why pydantic with `extra="forbid"` everywhere: a researcher's typo (`rate_bsp`) must stop the run
with the field's name, not be silently ignored and give plausible-looking wrong numbers. Every
check that can be made before ns-3 starts is made here, so nothing half-built reaches ns-3.

Physics stays out of this file: links name a `qchannel` preset and hardware overrides; the bridge
turns them into gain/QBER/secret fraction with qchannel whenever a link's parameters change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

NodeRef = int | str  # a node's index in the topology or its label


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftConfig(_Strict):
    """Slow random drift of a fibre's loss (an Ornstein-Uhlenbeck process in dB)."""

    sigma_db: float = Field(0.0, ge=0.0, description="stationary standard deviation of the drift")
    correlation_time_s: float = Field(60.0, gt=0.0)


class SourceRateDriftConfig(_Strict):
    """Slow random drift of the source's repetition rate (an Ornstein-Uhlenbeck process), e.g. a
    laser that needs re-locking: rate = nominal * (1 + sigma_fraction * x(t)), at least 10 %."""

    sigma_fraction: float = Field(0.0, ge=0.0, le=0.5, description="stationary relative std")
    correlation_time_s: float = Field(10.0, gt=0.0)


class FreeSpaceConfig(_Strict):
    """Atmospheric (free-space) channel with fading transmittance instead of fibre loss."""

    mean_loss_db: float = Field(..., ge=0.0)
    scintillation_index: float = Field(0.1, ge=0.0, description="variance of T / mean(T)^2")
    correlation_time_s: float = Field(0.01, gt=0.0)


class LinkHardware(_Strict):
    """Hardware of a QKD link; every field may be overridden per link."""

    protocol: Literal["bb84-decoy", "bb84-vacuum-weak", "mdi"] = "bb84-decoy"
    preset: str = Field("gys-2004", description="qchannel preset naming detector/source values")
    attenuation_db_per_km: float | None = Field(
        None, ge=0.0, description="fibre loss; default: the topology edge's, else the preset's"
    )
    insertion_loss_db: float = Field(0.0, ge=0.0)
    detector_efficiency: float | None = Field(None, gt=0.0, le=1.0)
    dark_count_probability: float | None = Field(None, ge=0.0, lt=1.0)
    misalignment_error: float | None = Field(None, ge=0.0, le=0.5)
    pulse_rate_hz: float = Field(1e9, ge=1.0, allow_inf_nan=False)
    mu: float | None = Field(None, gt=0.0, description="signal intensity; None = optimal")
    frame_pulses: int = Field(1_000_000, ge=1)
    block_size_bits: int = Field(100_000, ge=1)
    abort_qber: float = Field(0.11, ge=0.0, le=0.5)
    drift: DriftConfig = DriftConfig()
    rate_drift: SourceRateDriftConfig = SourceRateDriftConfig()
    free_space: FreeSpaceConfig | None = None


class LinkOverride(_Strict):
    """Hardware for the link between two named nodes (fields not given keep the defaults)."""

    between: tuple[NodeRef, NodeRef]
    protocol: Literal["bb84-decoy", "bb84-vacuum-weak", "mdi"] | None = None
    preset: str | None = None
    attenuation_db_per_km: float | None = Field(None, ge=0.0)
    insertion_loss_db: float | None = Field(None, ge=0.0)
    detector_efficiency: float | None = Field(None, gt=0.0, le=1.0)
    dark_count_probability: float | None = Field(None, ge=0.0, lt=1.0)
    misalignment_error: float | None = Field(None, ge=0.0, le=0.5)
    pulse_rate_hz: float | None = Field(None, ge=1.0, allow_inf_nan=False)
    mu: float | None = Field(None, gt=0.0)
    drift: DriftConfig | None = None
    rate_drift: SourceRateDriftConfig | None = None
    free_space: FreeSpaceConfig | None = None


class BufferConfig(_Strict):
    """Key buffer at each link end (QKDNetSim's M_max, M_min, M_thr and the pre-shared key)."""

    capacity_bits: int = Field(100_000_000, ge=1)
    minimum_bits: int = Field(10_000, ge=0)
    threshold_bits: int = Field(1_000_000, ge=0)
    initial_bits: int = Field(100_000, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> BufferConfig:
        if not self.minimum_bits <= self.threshold_bits <= self.capacity_bits:
            raise ValueError("needs minimum_bits <= threshold_bits <= capacity_bits")
        return self


class ClassicalConfig(_Strict):
    """The classical network beside the QKD links (post-processing, relay, consensus traffic).

    `routing`: "global" fills every IP routing table when the network is built (ns-3's global
    routing; its cost grows about as n^3, 104 s at 1000 nodes), "nix-vector" finds fewest-hop
    routes when first used (for large networks)."""

    data_rate: str = Field("1Gbps", pattern=r"^\d+(\.\d+)?\s*[kKMG]?bps$")
    queue_packets: int = Field(1000, ge=1)
    routing: Literal["global", "nix-vector"] = "global"


class PostProcessingConfig(_Strict):
    enabled: bool = True
    ec_efficiency: float = Field(1.16, ge=1.0, description="f_EC of error correction")
    ec_rounds: int = Field(4, ge=1)
    auth_tag_bits: int = Field(64, ge=0)
    timeout_s: float = Field(10.0, gt=0.0)


class RoutingConfig(_Strict):
    """How a demand's key travels: over `paths` node-disjoint routes, any `threshold` of which
    rebuild it (1 path = hop-by-hop relay); `authenticate` tags each share (off = baseline)."""

    paths: int = Field(1, ge=1, le=4)
    threshold: int | None = Field(None, ge=1, description="default: all paths (XOR n-of-n)")
    authenticate: bool = True

    @model_validator(mode="after")
    def _threshold(self) -> RoutingConfig:
        if self.threshold is not None and self.threshold > self.paths:
            raise ValueError(f"threshold {self.threshold} exceeds paths {self.paths}")
        return self


class DemandConfig(_Strict):
    src: NodeRef
    dst: NodeRef
    rate_bps: float = Field(..., ge=0.0, allow_inf_nan=False)
    routing: RoutingConfig = RoutingConfig()


class ByzantineBehaviourConfig(_Strict):
    """What a compromised node does from `onset_s` on (intensities are probabilities)."""

    onset_s: float = Field(0.0, ge=0.0)
    onset_max_s: float | None = Field(
        None,
        ge=0.0,
        description="if set, each seed draws the onset uniformly from [onset_s, onset_max_s]",
    )
    intercept_resend: float = Field(0.0, ge=0.0, le=1.0, description="fraction of pulses attacked")
    tamper: float = Field(0.0, ge=0.0, le=1.0)
    drop: float = Field(0.0, ge=0.0, le=1.0)
    delay_s: float = Field(0.0, ge=0.0)
    report_qber_offset: float = Field(0.0, ge=-0.5, le=0.5)
    report_buffer_scale: float = Field(1.0, ge=0.0)
    false_announcement: float = Field(0.0, ge=0.0, le=1.0, description="MDI relays only")

    @model_validator(mode="after")
    def _onset_range(self) -> ByzantineBehaviourConfig:
        if self.onset_max_s is not None and self.onset_max_s < self.onset_s:
            raise ValueError(f"onset_max_s ({self.onset_max_s}) is below onset_s ({self.onset_s})")
        return self


class ByzantineConfig(_Strict):
    """Which nodes are Byzantine: listed by name, or a fraction of trusted nodes picked by seed."""

    nodes: list[NodeRef] = Field(default_factory=list)
    fraction: float = Field(0.0, ge=0.0, le=1.0)
    exclude_demand_ends: bool = Field(
        True, description="never pick a demand's own endpoints when drawing by fraction"
    )
    behaviour: ByzantineBehaviourConfig = ByzantineBehaviourConfig()

    @model_validator(mode="after")
    def _one_way(self) -> ByzantineConfig:
        if self.nodes and self.fraction > 0.0:
            raise ValueError("give either nodes or fraction, not both")
        return self


class ControlConfig(_Strict):
    """Control plane: the ABFT coordinator, or the no-ABFT baseline (every report trusted)."""

    mode: Literal["abft", "baseline"] = "abft"
    alpha: float = Field(0.3, gt=0.0, lt=1.0, description="weight decay w <- w (1 - alpha |err|)")
    expected_qber_margin: float = Field(0.02, ge=0.0)


class RewardConfig(_Strict):
    """Reward of the Gymnasium env: delivered key minus penalties (weights are yours to set)."""

    key_weight: float = 1.0
    insecure_penalty: float = 1.0
    unserved_penalty: float = 0.5
    key_scale_bps: float = Field(1e5, gt=0.0, description="bit/s that count as reward 1")
    insecure_qber: float = Field(
        0.08, ge=0.0, le=0.5, description="key made on a link measuring more QBER is penalised"
    )
    unserved_by_demand_size: bool = Field(
        False,
        description="weight each demand's unserved fraction by its rate / key_scale_bps "
        "(unserved key in reward units) instead of counting every demand as 1",
    )
    abort_penalty: float = Field(
        0.0, ge=0.0, description="per block aborted (QBER above abort_qber) in the step"
    )
    qber_variance_penalty: float = Field(
        0.0,
        ge=0.0,
        description="times the sum over links of (step QBER - its running mean)^2 / 0.01^2",
    )
    qber_mean_decay: float = Field(
        0.9, gt=0.0, lt=1.0, description="per-step decay of the running mean QBER of each link"
    )


class ScenarioConfig(_Strict):
    """A whole qkdnet scenario."""

    name: str = "scenario"
    seed: int = Field(1, ge=0)
    step_s: float = Field(0.1, gt=0.0, allow_inf_nan=False)
    steps: int = Field(100, ge=1)
    topology: str = Field(..., description="built-in name, synthetic spec, or file path")
    default_length_km: float | None = Field(None, gt=0.0)
    link: LinkHardware = LinkHardware()
    links: list[LinkOverride] = Field(default_factory=list)
    buffer: BufferConfig = BufferConfig()
    classical: ClassicalConfig = ClassicalConfig()
    post_processing: PostProcessingConfig = PostProcessingConfig()
    demand_interval_s: float = Field(0.1, gt=0.0)
    demands: list[DemandConfig] = Field(default_factory=list)
    byzantine: ByzantineConfig = ByzantineConfig()
    control: ControlConfig = ControlConfig()
    reward: RewardConfig = RewardConfig()

    @property
    def duration_s(self) -> float:
        return self.steps * self.step_s


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


ScenarioSource = Annotated[str | Path, "path to a scenario YAML"]


def load_scenario(path: ScenarioSource, **overrides: object) -> ScenarioConfig:
    """Read and validate a scenario YAML; `overrides` replace top-level fields (e.g. seed)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ScenarioError(f"{path}:{where} {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a YAML mapping of fields")
    data.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(data.get("topology"), str):
        data["topology"] = _resolve_topology_path(data["topology"], path.parent)
    return parse_scenario(data, source=str(path))


def _resolve_topology_path(spec: str, base: Path) -> str:
    """Make a topology file named relative to the scenario file work from any directory.

    Built-in names and synthetic specs pass through; `<format>:<path>` keeps its prefix.
    A relative path is taken from the scenario's folder when the file exists there, so a
    scenario and its topology can be moved together.
    """
    from bridge.topology.builtin import canonical_name
    from bridge.topology.detect import FORMATS
    from bridge.topology.synthetic import is_synthetic_spec

    text = spec.strip()
    if canonical_name(text) is not None or is_synthetic_spec(text):
        return spec
    prefix, rest = "", text
    head, sep, tail = text.partition(":")
    if sep and head.lower() in FORMATS:
        prefix, rest = f"{head}:", tail
    candidate = Path(rest)
    if not candidate.is_absolute() and (base / candidate).exists():
        return prefix + str((base / candidate).resolve())
    return spec


def parse_scenario(data: dict, source: str = "scenario") -> ScenarioConfig:
    """Validate a scenario given as a dict; errors name the source and the field."""
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "scenario"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ScenarioError(f"{source}: {where}: {first.get('msg', 'invalid')}{more}") from None

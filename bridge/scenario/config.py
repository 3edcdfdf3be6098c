"""The scenario file: one YAML that says everything a qkdnet run needs.

Why pydantic with `extra="forbid"` everywhere: a researcher's typo (`rate_bsp`) must stop the run
with the field's name, not be silently ignored and give plausible-looking wrong numbers. Every
check that can be made before ns-3 starts is made here, so nothing half-built reaches ns-3.

Physics stays out of this file: links name a `qchannel` preset and hardware overrides; the bridge
turns them into gain/QBER/secret fraction with qchannel whenever a link's parameters change.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from bridge.topology.scenario_options import TopologyOptionsConfig
from bridge.yaml_unique import load_unique_yaml

NodeRef = int | str  # a node's index in the topology or its label

# Limits that follow from the simulator and from what hardware can be. Why here: a value past one
# of them passes every type check and then kills ns-3 natively (an NS_FATAL on time overflow, a
# division by a zero data rate) or hangs it (a frame shorter than ns-3's 1 ns tick never advances
# the clock), so each is refused with the field's name before anything is built.
NS3_TICK_S = 1e-9  # ns-3 counts simulated time in integer nanoseconds ...
NS3_MAX_TIME_S = (2**63 - 1) * NS3_TICK_S  # ... in an int64: about 292 years
MAX_SIMULATED_S = 1e9  # ceiling on a run's simulated time (~32 years), well inside ns-3's range
MIN_STEP_S = 1e-6  # 1000 ticks: rounding a step to whole ns changes it by < 0.1 %
MIN_INTERVAL_S = 1e-6  # demand interval, timeouts: at least 1000 ticks
MAX_INTERVAL_S = 1e6  # ~11.6 days: longer timeouts/intervals/delays never fire within a study
MAX_PULSE_RATE_HZ = 1e11  # 100 GHz: ten times the fastest QKD sources reported
MAX_BITS = 2**53  # counters are float64 on the Python side: exact integers up to 2^53
MAX_BLOCK_BITS = 100_000_000  # one post-processing block: its messages must fit 65535 datagrams
MAX_FRAME_PULSES = 10**12
MAX_DATA_RATE_BPS = 1e12  # 1 Tbit/s
MIN_DATA_RATE_BPS = 1e3  # below 1 kbit/s post-processing of one block takes hours of sim time
MAX_EC_ROUNDS = 64  # Cascade runs 4-10 passes; each round is one round trip
MAX_SEED = 2**63 - 1
_DATA_RATE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kKMG]?)bps$")
_RATE_UNIT = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


class _Strict(BaseModel):
    # allow_inf_nan=False: every float must be finite; no field gives infinity a meaning, and a NaN
    # or inf passes `ge=0` checks and then poisons keys, rewards or ns-3 times.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DriftConfig(_Strict):
    """Slow random drift of a fibre's loss (an Ornstein-Uhlenbeck process in dB)."""

    sigma_db: float = Field(
        0.0, ge=0.0, le=100.0, description="stationary standard deviation of the drift"
    )
    correlation_time_s: float = Field(60.0, ge=MIN_INTERVAL_S, le=MAX_SIMULATED_S)


class SourceRateDriftConfig(_Strict):
    """Slow random drift of the source's repetition rate (an Ornstein-Uhlenbeck process), e.g. a
    laser that needs re-locking: rate = nominal * (1 + sigma_fraction * x(t)), at least 10 %."""

    sigma_fraction: float = Field(0.0, ge=0.0, le=0.5, description="stationary relative std")
    correlation_time_s: float = Field(10.0, ge=MIN_INTERVAL_S, le=MAX_SIMULATED_S)


class FreeSpaceConfig(_Strict):
    """Atmospheric (free-space) channel with fading transmittance instead of fibre loss."""

    mean_loss_db: float = Field(..., ge=0.0, le=1000.0)
    scintillation_index: float = Field(
        0.1, ge=0.0, le=100.0, description="variance of T / mean(T)^2"
    )
    correlation_time_s: float = Field(0.01, ge=MIN_INTERVAL_S, le=MAX_SIMULATED_S)


class LinkHardware(_Strict):
    """Hardware of a QKD link; every field may be overridden per link."""

    protocol: Literal["bb84-decoy", "bb84-vacuum-weak", "mdi"] = "bb84-decoy"
    preset: str = Field("gys-2004", description="qchannel preset naming detector/source values")
    attenuation_db_per_km: float | None = Field(
        None,
        ge=0.0,
        le=100.0,
        description="fibre loss; default: the topology edge's, else the preset's",
    )
    insertion_loss_db: float = Field(0.0, ge=0.0, le=1000.0)
    detector_efficiency: float | None = Field(None, gt=0.0, le=1.0)
    dark_count_probability: float | None = Field(None, ge=0.0, lt=1.0)
    misalignment_error: float | None = Field(None, ge=0.0, le=0.5)
    pulse_rate_hz: float = Field(1e9, ge=1.0, le=MAX_PULSE_RATE_HZ)
    mu: float | None = Field(None, gt=0.0, le=100.0, description="signal intensity; None = optimal")
    frame_pulses: int = Field(1_000_000, ge=1, le=MAX_FRAME_PULSES)
    block_size_bits: int = Field(100_000, ge=1, le=MAX_BLOCK_BITS)
    abort_qber: float = Field(0.11, ge=0.0, le=0.5)
    drift: DriftConfig = DriftConfig()
    rate_drift: SourceRateDriftConfig = SourceRateDriftConfig()
    free_space: FreeSpaceConfig | None = None


class LinkOverride(_Strict):
    """Hardware for the link between two named nodes (fields not given keep the defaults)."""

    between: tuple[NodeRef, NodeRef]
    protocol: Literal["bb84-decoy", "bb84-vacuum-weak", "mdi"] | None = None
    preset: str | None = None
    attenuation_db_per_km: float | None = Field(None, ge=0.0, le=100.0)
    insertion_loss_db: float | None = Field(None, ge=0.0, le=1000.0)
    detector_efficiency: float | None = Field(None, gt=0.0, le=1.0)
    dark_count_probability: float | None = Field(None, ge=0.0, lt=1.0)
    misalignment_error: float | None = Field(None, ge=0.0, le=0.5)
    pulse_rate_hz: float | None = Field(None, ge=1.0, le=MAX_PULSE_RATE_HZ)
    mu: float | None = Field(None, gt=0.0, le=100.0)
    drift: DriftConfig | None = None
    rate_drift: SourceRateDriftConfig | None = None
    free_space: FreeSpaceConfig | None = None


class BufferConfig(_Strict):
    """Key buffer at each link end (QKDNetSim's M_max, M_min, M_thr and the pre-shared key)."""

    capacity_bits: int = Field(100_000_000, ge=1, le=MAX_BITS)
    minimum_bits: int = Field(10_000, ge=0, le=MAX_BITS)
    threshold_bits: int = Field(1_000_000, ge=0, le=MAX_BITS)
    initial_bits: int = Field(100_000, ge=0, le=MAX_BITS)

    @model_validator(mode="after")
    def _ordered(self) -> BufferConfig:
        if not self.minimum_bits <= self.threshold_bits <= self.capacity_bits:
            raise ValueError(
                f"needs minimum_bits <= threshold_bits <= capacity_bits, got {self.minimum_bits}"
                f" / {self.threshold_bits} / {self.capacity_bits}"
            )
        if self.initial_bits > self.capacity_bits:
            raise ValueError(
                f"initial_bits {self.initial_bits} exceeds capacity_bits {self.capacity_bits}"
            )
        return self


class ClassicalConfig(_Strict):
    """The classical network beside the QKD links (post-processing, relay, consensus traffic).

    `routing`: "global" fills every IP routing table when the network is built (ns-3's global
    routing; its cost grows about as n^3, 104 s at 1000 nodes), "nix-vector" finds fewest-hop
    routes when first used (for large networks)."""

    data_rate: str = Field("1Gbps", description="ns-3 DataRate string, 1kbps .. 1000Gbps")
    queue_packets: int = Field(1000, ge=1, le=1_000_000)
    routing: Literal["global", "nix-vector"] = "global"

    @field_validator("data_rate")
    @classmethod
    def _rate_in_range(cls, value: str) -> str:
        bps = data_rate_bps(value)
        if not MIN_DATA_RATE_BPS <= bps <= MAX_DATA_RATE_BPS:
            raise ValueError(f"{value!r} is {bps:g} bit/s; needs 1kbps .. 1000Gbps")
        return value


class PostProcessingConfig(_Strict):
    enabled: bool = True
    ec_efficiency: float = Field(1.16, ge=1.0, le=10.0, description="f_EC of error correction")
    ec_rounds: int = Field(4, ge=1, le=MAX_EC_ROUNDS)
    auth_tag_bits: int = Field(64, ge=0, le=4096)
    timeout_s: float = Field(10.0, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)


class RoutingConfig(_Strict):
    """How a demand's key travels: as shares over `paths` node-disjoint routes, any `threshold`
    of which rebuild it (1 path = hop-by-hop relay); `authenticate` tags each share (off =
    the "no ABFT" baseline).

    Defaults (`bridge.scenario.sharing_policy`): a relayed demand uses up to 3 node-disjoint
    routes with threshold max(2, paths - 1), i.e. (2, 3) Shamir where the graph has 3 disjoint
    routes, so one dropping or lying relay costs nothing and no single relay holds the key; with
    only 2 routes (2, 2), with 1 route hop by hop (the plan records the fallback). Neighbours use
    their link's key directly. A configured `paths` is a requirement. Threshold 1 over several
    routes lets any one relay rebuild the key and is refused unless
    `allow_single_share_reconstruction` is true.

    `when_short`: what a reroute does when the control plane finds fewer trusted node-disjoint
    routes than t. "fewer_shares" (default) serves the demand over the routes that remain with
    every share needed (t = their number; one route = hop by hop through trusted nodes), so an
    excluded relay does not stop the demand; "refuse" keeps t and the current routes. Either
    way it is recorded per step (`routes_short`, `threshold_lowered`, `reroutes_refused`).
    """

    paths: int | None = Field(
        None, ge=1, le=4, description="default: up to 3 node-disjoint routes, as the graph allows"
    )
    threshold: int | None = Field(None, ge=1, description="default: max(2, paths - 1)")
    allow_single_share_reconstruction: bool = False
    when_short: Literal["fewer_shares", "refuse"] = "fewer_shares"
    authenticate: bool = True

    @model_validator(mode="after")
    def _threshold(self) -> RoutingConfig:
        if self.threshold is None:
            return self
        if self.paths is not None and self.threshold > self.paths:
            raise ValueError(f"threshold {self.threshold} exceeds paths {self.paths}")
        multipath = self.paths is None or self.paths > 1
        if self.threshold == 1 and multipath and not self.allow_single_share_reconstruction:
            raise ValueError(
                "threshold 1 over several paths lets any single relay rebuild the key; "
                "set allow_single_share_reconstruction: true to ask for it"
            )
        return self


#: An application's (SAE's) ID in the ETSI GS QKD 014 API: it goes into URL paths and certificates.
SaeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class DemandConfig(_Strict):
    src: NodeRef
    dst: NodeRef
    rate_bps: float = Field(..., ge=0.0, le=MAX_DATA_RATE_BPS)
    routing: RoutingConfig = RoutingConfig()
    saes: tuple[SaeId, SaeId] | None = Field(
        None,
        description="IDs of the applications (SAEs) at src and dst that get this demand's key "
        "through `qkdnet kme`; default sae-<src label>, sae-<dst label>",
    )


class DemandGeneratorConfig(_Strict):
    """Demands picked from whatever topology the scenario runs on
    (`bridge.scenario.demand_generator`): `pairs` endpoint pairs, each asking `rate_bps`, chosen
    at random (seeded), farthest apart, or among the best-connected nodes."""

    pairs: int = Field(..., ge=1)
    rate_bps: float = Field(..., ge=0.0, allow_inf_nan=False)
    pick: Literal["random", "farthest", "top-degree"] = "random"
    seed: int | None = Field(None, ge=0, description="random pick; default: the scenario's seed")
    routing: RoutingConfig = RoutingConfig()


def _demands_kind(value: object) -> str:
    return "generate" if isinstance(value, dict | DemandGeneratorConfig) else "list"


Demands = Annotated[
    Annotated[list[DemandConfig], Tag("list")] | Annotated[DemandGeneratorConfig, Tag("generate")],
    Discriminator(_demands_kind),
]


class ByzantineBehaviourConfig(_Strict):
    """What a compromised node does from `onset_s` on (intensities are probabilities)."""

    onset_s: float = Field(0.0, ge=0.0, le=MAX_SIMULATED_S)
    onset_max_s: float | None = Field(
        None,
        ge=0.0,
        le=MAX_SIMULATED_S,
        description="if set, each seed draws the onset uniformly from [onset_s, onset_max_s]",
    )
    intercept_resend: float = Field(0.0, ge=0.0, le=1.0, description="fraction of pulses attacked")
    tamper: float = Field(0.0, ge=0.0, le=1.0)
    drop: float = Field(0.0, ge=0.0, le=1.0)
    delay_s: float = Field(0.0, ge=0.0, le=MAX_INTERVAL_S)
    report_qber_offset: float = Field(0.0, ge=-0.5, le=0.5)
    report_buffer_scale: float = Field(1.0, ge=0.0, le=1e6)
    false_announcement: float = Field(0.0, ge=0.0, le=1.0, description="MDI relays only")
    forge_copy: float = Field(
        0.0, ge=0.0, le=1.0, description="send a bit-flipped copy ahead of each relayed share"
    )

    @model_validator(mode="after")
    def _onset_range(self) -> ByzantineBehaviourConfig:
        if self.onset_max_s is not None and self.onset_max_s < self.onset_s:
            raise ValueError(f"onset_max_s ({self.onset_max_s}) is below onset_s ({self.onset_s})")
        return self


class ByzantineProtocolConfig(_Strict):
    """What a Byzantine node does inside the ABFT consensus (next to what it does to links).

    `none`: follows the protocol (it may still lie in its reports: `behaviour`); `equivocate`:
    sends different proposals/votes to different halves of the honest nodes; `censor`: as
    primary, leaves reports out of its batches (`victims`, default: every honest node); `silent`:
    sends nothing; `crash`: stops at `at_s`; `delay`: delays every message by `delay_s`;
    `invalid-proposal`: as primary, proposes garbage. Only used with `control.mode: abft`."""

    strategy: Literal[
        "none", "equivocate", "censor", "silent", "crash", "delay", "invalid-proposal"
    ] = "none"
    victims: list[NodeRef] | None = None
    at_s: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    delay_s: float = Field(0.05, ge=0.0, allow_inf_nan=False)


class ByzantineConfig(_Strict):
    """Which nodes are Byzantine: listed by name, or a fraction of trusted nodes picked by seed."""

    nodes: list[NodeRef] = Field(default_factory=list)
    fraction: float = Field(0.0, ge=0.0, le=1.0)
    exclude_demand_ends: bool = Field(
        True, description="never pick a demand's own endpoints when drawing by fraction"
    )
    behaviour: ByzantineBehaviourConfig = ByzantineBehaviourConfig()
    protocol: ByzantineProtocolConfig = ByzantineProtocolConfig()

    @model_validator(mode="after")
    def _one_way(self) -> ByzantineConfig:
        if self.nodes and self.fraction > 0.0:
            raise ValueError("give either nodes or fraction, not both")
        return self


class ControlConfig(_Strict):
    """Control plane: the ABFT coordinator, or the no-ABFT baseline (every report trusted)."""

    mode: Literal["abft", "baseline"] = "abft"
    alpha: float = Field(0.3, gt=0.0, lt=1.0, description="weight decay w <- w (1 - alpha |err|)")
    expected_qber_margin: float = Field(0.02, ge=0.0, le=0.5)
    quiet_interval_steps: int = Field(
        4,
        ge=1,
        le=10_000,
        description="ABFT decides every step while trust moves and every this many steps while "
        "it stands still; a report voting against a trusted link is decided in its own step "
        "(1: decide every step, as the paper does)",
    )


class RewardConfig(_Strict):
    """Reward of the Gymnasium env: delivered key minus penalties (weights are yours to set)."""

    # bounded so that a step's reward stays a finite float64 whatever the network delivers
    key_weight: float = Field(1.0, ge=-1e6, le=1e6)
    insecure_penalty: float = Field(1.0, ge=-1e6, le=1e6)
    unserved_penalty: float = Field(0.5, ge=-1e6, le=1e6)
    key_scale_bps: float = Field(
        1e5, ge=1e-3, le=MAX_DATA_RATE_BPS, description="bit/s that count as reward 1"
    )
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

    name: str = Field(
        "scenario",
        pattern=r"^[\w+-][\w .+-]{0,99}$",
        description="names the default run directory: letters, digits, ' ._+-', no path",
    )
    seed: int = Field(1, ge=0, le=MAX_SEED)
    step_s: float = Field(0.1, ge=MIN_STEP_S, le=MAX_SIMULATED_S)
    steps: int = Field(100, ge=1, le=1_000_000_000)
    topology: str = Field(..., description="built-in name, synthetic spec, or file path")
    default_length_km: float | None = Field(None, gt=0.0, le=100_000.0)
    topology_options: TopologyOptionsConfig = TopologyOptionsConfig()
    link: LinkHardware = LinkHardware()
    links: list[LinkOverride] = Field(default_factory=list)
    buffer: BufferConfig = BufferConfig()
    classical: ClassicalConfig = ClassicalConfig()
    post_processing: PostProcessingConfig = PostProcessingConfig()
    demand_interval_s: float = Field(0.1, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)
    demands: Demands = Field(default_factory=list)
    byzantine: ByzantineConfig = ByzantineConfig()
    control: ControlConfig = ControlConfig()
    reward: RewardConfig = RewardConfig()
    allow_expensive: bool = Field(
        False,
        description="run even when the cost estimate (bridge.scenario.cost) says it would take "
        "hours or exhaust memory (also `qkdnet run --allow-expensive`)",
    )
    _source: str = PrivateAttr("scenario")

    @field_validator("topology")
    @classmethod
    def _topology_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty: give a built-in name, a synthetic spec or a file path")
        return value

    @model_validator(mode="after")
    def _fits_ns3_time(self) -> ScenarioConfig:
        if self.duration_s > MAX_SIMULATED_S:
            raise ValueError(
                f"steps x step_s = {self.steps} x {self.step_s:g} s = {self.duration_s:.3g} s of "
                f"simulated time exceeds the {MAX_SIMULATED_S:.0e} s ceiling (ns-3 counts "
                "time in int64 nanoseconds)"
            )
        return self

    @property
    def duration_s(self) -> float:
        return self.steps * self.step_s

    @property
    def max_demand_rate_bps(self) -> float:
        """The largest rate any demand asks for, named or generated (0 without demands)."""
        if isinstance(self.demands, DemandGeneratorConfig):
            return self.demands.rate_bps
        return max((d.rate_bps for d in self.demands), default=0.0)

    @property
    def source(self) -> str:
        """The file (or "options") this scenario came from, for error messages."""
        return self._source


def data_rate_bps(text: str) -> float:
    """Bit/s of an ns-3 DataRate string such as "1Gbps" or "100 kbps" (ValueError if not one)."""
    match = _DATA_RATE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a data rate like 1Gbps, 100Mbps or 10kbps")
    value = float(match.group(1)) * _RATE_UNIT[match.group(2)]
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite data rate")
    return value


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


ScenarioSource = Annotated[str | Path, "path to a scenario YAML"]


def load_scenario(path: ScenarioSource, **overrides: object) -> ScenarioConfig:
    """Read and validate a scenario YAML; `overrides` replace top-level fields (e.g. seed)."""
    path = Path(path)
    text = read_text_file(path, "scenario file", ScenarioError)
    try:
        data = load_unique_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ScenarioError(f"{path}:{where} {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a YAML mapping of fields")
    data.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(data.get("topology"), str) and data["topology"].strip():
        data["topology"] = _resolve_topology_path(data["topology"], path.parent)
    return parse_scenario(data, source=str(path))


def read_text_file(path: Path, what: str, error: type[Exception]) -> str:
    """The UTF-8 text of `path`; every failure is one line naming the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


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
        config = ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first.get("loc", ()))
        if loc[:2] in (["demands", "list"], ["demands", "generate"]):
            del loc[1]  # the union's tag is not a field the user wrote
        where = ".".join(str(p) for p in loc) or "scenario"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        message = first.get("msg", "invalid").removeprefix("Value error, ")
        raise ScenarioError(f"{source}: {where}: {message}{more}") from None
    config._source = source
    return config

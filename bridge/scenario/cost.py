"""What a scenario will cost before it runs: frames, blocks and requests per step, build time.

Why: a scenario can be valid field by field and still ask for a run that takes days or never
advances: `pulse_rate_hz: 1e300` makes a frame shorter than ns-3's 1 ns tick (the clock stops and
the event queue fills memory), `frame_pulses: 1e15` closes a block of 1e12 bits whose messages
cannot be sent, `demand_interval_s: 1e-9` asks for 10^8 requests per step, `waxman:n=1000000`
asks global routing for ~10^11 s of work. These checks turn such runs into one line with the
estimate, before ns-3 is touched. A run that is only slow can go ahead with `allow_expensive:
true` in the scenario (or `qkdnet run --allow-expensive`); one that cannot work at all (a frame
shorter than the tick, a block too large to send) is always refused.

The wall-time rates below come from benchmarks/bench_scenario_cost.py on the development machine
and are deliberately rough: they decide between "seconds" and "hours", not between 10 and 12
minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.scenario.config import MAX_BLOCK_BITS, ScenarioConfig, ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from bridge.scenario.link_physics import LinkPhysics
    from bridge.scenario.plan import ScenarioPlan

MIN_FRAME_S = 1e-6  # a frame's duration is rounded to whole ns: >= 1000 ticks keeps that < 0.1 %
MAX_WALL_S = 3600.0  # a run estimated above this is refused unless allow_expensive
MAX_NODES = 20_000  # topology size ceiling (ns-3 memory: ~0.5 MB per node with its stack)
# Wall seconds per unit of simulated work. benchmarks/bench_scenario_cost.py measured 12.5 us per
# frame, 5.6 us per block and 171 us per request on the 2-core development machine at load ~16
# (its processes got ~1/8 of a core: 6.8 s CPU in 62.7 s wall), i.e. ~1.6, ~0.7 and ~21 us of
# CPU. The values below sit between the two, on the cheap side: a run is refused only when even
# an optimistic estimate says hours.
WALL_S_PER_FRAME = 2e-6
WALL_S_PER_BLOCK = 1e-5  # sifting, EC rounds, verification, PA over the classical network
WALL_S_PER_REQUEST = 1e-4  # one key request relayed over a few hops
GLOBAL_ROUTING_S_AT_1000 = 104.0  # ns-3 global routing grows ~ n^3 (README: 104 s at 1000 nodes)
NIX_ROUTING_S_AT_1000 = 1.0


@dataclass(frozen=True)
class CostEstimate:
    """Simulated work per step and the wall time it implies."""

    frames_per_step: float
    blocks_per_step: float
    requests_per_step: float
    build_s: float
    wall_s: float

    def describe(self) -> str:
        return (
            f"{self.frames_per_step:.3g} frames, {self.blocks_per_step:.3g} blocks and "
            f"{self.requests_per_step:.3g} key requests per step; build ~{_duration(self.build_s)}"
            f", whole run ~{_duration(self.wall_s)}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def routing_build_s(n_nodes: int, routing: str) -> float:
    """Rough wall time to build the classical network's routing for `n_nodes` nodes."""
    if routing == "global":
        return GLOBAL_ROUTING_S_AT_1000 * (n_nodes / 1000.0) ** 3
    return NIX_ROUTING_S_AT_1000 * (n_nodes / 1000.0)


def check_topology_size(config: ScenarioConfig, n_nodes: int, what: str) -> None:
    """Refuse a topology past the node ceiling or whose routing would take hours to build."""
    build = routing_build_s(n_nodes, config.classical.routing)
    if config.allow_expensive:
        return
    if n_nodes > MAX_NODES:
        raise ScenarioError(
            f"{config.source}: topology: {what} has {n_nodes} nodes, above the {MAX_NODES} ceiling"
            " (set allow_expensive: true to try anyway)"
        )
    if build > MAX_WALL_S:
        raise ScenarioError(
            f"{config.source}: topology: {what} has {n_nodes} nodes; building "
            f"classical.routing {config.classical.routing!r} would take ~{_duration(build)}"
            " (use routing: nix-vector, or allow_expensive: true)"
        )


def check_synthetic_size(config: ScenarioConfig) -> None:
    """A synthetic spec's node count is known before the graph is drawn: check it first."""
    from bridge.topology.synthetic import is_synthetic_spec, parse_spec

    if not is_synthetic_spec(config.topology):
        return
    try:
        _, params = parse_spec(config.topology)
    except ValueError:
        return  # the topology loader reports a malformed spec with its own message
    check_topology_size(config, int(params["n"]), config.topology.strip())


def estimate_cost(config: ScenarioConfig, plan: ScenarioPlan, physics: LinkPhysics) -> CostEstimate:
    """Frames, blocks and requests per step of `config` on `plan`, and the wall time implied."""
    point = physics.operating_points()
    step = config.step_s
    frames = float(physics.pulse_rate_hz.sum()) * step / config.link.frame_pulses
    sifted_bps = physics.pulse_rate_hz * point.gain * point.sifting_ratio
    blocks = float(sifted_bps.sum()) * step / config.link.block_size_bits
    requests = len(plan.demands) * step / config.demand_interval_s
    build = routing_build_s(len(plan.nodes), config.classical.routing)
    per_step = frames * WALL_S_PER_FRAME + blocks * WALL_S_PER_BLOCK
    per_step += requests * WALL_S_PER_REQUEST
    return CostEstimate(frames, blocks, requests, build, build + per_step * config.steps)


def check_cost(config: ScenarioConfig, plan: ScenarioPlan, physics: LinkPhysics) -> CostEstimate:
    """Refuse what cannot run (always) and what would take hours (unless allow_expensive)."""
    src = config.source
    rates = physics.pulse_rate_hz
    fastest = float(rates.max()) if len(rates) else 0.0
    if fastest > 0:
        frame_s = config.link.frame_pulses / fastest
        if frame_s < MIN_FRAME_S:
            raise ScenarioError(
                f"{src}: link.frame_pulses: a frame of {config.link.frame_pulses} pulses at "
                f"{fastest:.3g} Hz lasts {frame_s:.3g} s; needs >= {MIN_FRAME_S:g} s (ns-3 "
                "counts whole nanoseconds); raise frame_pulses or lower pulse_rate_hz"
            )
    point = physics.operating_points()
    per_frame = config.link.frame_pulses * point.gain * point.sifting_ratio
    worst = float(per_frame.max()) if len(per_frame) else 0.0
    if not math.isfinite(worst) or worst > MAX_BLOCK_BITS:
        raise ScenarioError(
            f"{src}: link.frame_pulses: one frame of {config.link.frame_pulses} pulses sifts "
            f"~{worst:.3g} bits, more than one post-processing block can carry "
            f"({MAX_BLOCK_BITS:.0e} bits); lower frame_pulses"
        )
    estimate = estimate_cost(config, plan, physics)
    if not config.allow_expensive and estimate.wall_s > MAX_WALL_S:
        raise ScenarioError(
            f"{src}: too expensive: {estimate.describe()} (ceiling {_duration(MAX_WALL_S)}); "
            "fewer steps, a longer demand_interval_s or larger frame_pulses, or set "
            "allow_expensive: true"
        )
    return estimate

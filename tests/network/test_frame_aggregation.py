"""Aggregated frames (one ns-3 event per closed block) give exactly the frame-by-frame counters.

QkdLink draws a link's frames ahead from its own random stream, up to the frame that closes the
open block or the end of the step, and schedules one event there (`AggregateFrames`, on by
default). Frames that have happened are counted when the counters are read; an input change
(a new operating point, a relay turning Byzantine mid-step) puts the stream back to the first
frame that has not happened. Here each scenario runs twice, with aggregation on and off, and
every step's link, demand and node output arrays must be identical, bit for bit:

- the six-node SECOQC scenario with the ABFT control plane (consensus traffic, Byzantine node);
- the same scenario with the baseline control plane, its fibres drifting (a new operating point
  for every link at every step);
- an MDI link whose relay starts flipping its announcements mid-step, off the step grid (the
  draws already made for the frames after the onset are put back and drawn again).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bridge.ns3_runtime import load_ns
from bridge.scenario.config import ScenarioConfig, load_scenario

from ._scenarios import relay_topology, scenario

SIX_NODE = Path(__file__).resolve().parents[2] / "experiments" / "configs" / "six-node.yaml"
ATTRIBUTE = "ns3::QkdLink::AggregateFrames"


def _run(config: ScenarioConfig, steps: int, aggregate: bool) -> tuple[list[np.ndarray], int, int]:
    """Every step's outputs (links, demands, nodes), the links' frame events, redrawn frames."""
    from bridge.scenario import QkdScenario
    from control.plane import ControlPlane

    ns = load_ns()
    ns.Config.SetDefault(ATTRIBUTE, ns.BooleanValue(aggregate))
    try:
        frame_events0 = int(ns.QkdLink.GetFrameEventCount())
        redrawn0 = int(ns.QkdLink.GetRedrawnFrameCount())
        outputs = []
        with QkdScenario(config) as sim:
            sim.attach_control(ControlPlane(config, sim.plan, sim))
            runtime = sim.runtime
            assert runtime.output_fields[0] == "frames"
            for _ in range(steps):
                sim.step()
                outputs.append(runtime.link_counters().copy())
                outputs.append(runtime.demand_counters().copy())
                outputs.append(runtime.node_counters().copy())
        return (
            outputs,
            int(ns.QkdLink.GetFrameEventCount()) - frame_events0,
            int(ns.QkdLink.GetRedrawnFrameCount()) - redrawn0,
        )
    finally:
        ns.Config.SetDefault(ATTRIBUTE, ns.BooleanValue(True))


def _assert_identical(config: ScenarioConfig, steps: int) -> int:
    """Run both ways, compare every step; returns how many drawn-ahead frames were put back."""
    framed, framed_events, _ = _run(config, steps, aggregate=False)
    aggregated, aggregated_events, redrawn = _run(config, steps, aggregate=True)
    assert len(framed) == len(aggregated) == 3 * steps
    for i, (a, b) in enumerate(zip(framed, aggregated, strict=True)):
        table = ("links", "demands", "nodes")[i % 3]
        # NaN marks "no measurement" in some columns: equal_nan keeps those comparable.
        assert np.array_equal(a, b, equal_nan=True), f"step {i // 3}, {table} differ"
    frames = int(framed[-3][:, 0].sum())  # a link row starts with its frame count
    assert frames > 0 and framed_events >= frames
    assert aggregated_events < framed_events / 2, "aggregation should fold frames into blocks"
    return redrawn


def _six_node(mode: str, onset_s: float) -> ScenarioConfig:
    config = load_scenario(SIX_NODE)
    behaviour = config.byzantine.behaviour.model_copy(update={"onset_s": onset_s})
    return config.model_copy(
        update={
            "control": config.control.model_copy(update={"mode": mode}),
            "byzantine": config.byzantine.model_copy(update={"behaviour": behaviour}),
        }
    )


def test_six_node_abft_counters_are_identical():
    _assert_identical(_six_node("abft", onset_s=0.55), steps=12)


def test_six_node_baseline_with_drift_counters_are_identical():
    config = _six_node("baseline", onset_s=0.55)
    assert config.link.drift.sigma_db > 0
    _assert_identical(config, steps=20)


@pytest.mark.parametrize("onset_s", [0.25, 0.2537])
def test_byzantine_relay_onset_mid_step_counters_are_identical(tmp_path, onset_s):
    config = scenario(
        relay_topology(tmp_path / "relay.yaml"),
        link={"protocol": "mdi", "preset": "lcq-2012"},
        byzantine={
            "nodes": ["R"],
            "behaviour": {"false_announcement": 0.2, "onset_s": onset_s},
        },
    )
    redrawn = _assert_identical(config, steps=6)
    assert redrawn > 0, "the onset fell inside frames already drawn: they must have been redrawn"

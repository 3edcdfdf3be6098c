"""Small scenarios for the network-model tests, built from dicts (no YAML needed).

Each is a few trusted nodes and short links so a test runs a handful of 0.1 s steps in well
under a second; the topology files are qkdnet YAML written next to the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bridge.scenario.config import ScenarioConfig, parse_scenario

FAST_LINK = {"frame_pulses": 1_000_000, "block_size_bits": 20_000}


def write_topology(path: Path, nodes: list[dict], links: list[dict]) -> str:
    """Write a qkdnet topology YAML and return its path as a scenario `topology:` value."""
    path.write_text(yaml.safe_dump({"name": path.stem, "nodes": nodes, "links": links}))
    return str(path)


def chain_topology(path: Path, n: int = 3, length_km: float = 20.0) -> str:
    """N0 - N1 - ... - N(n-1): a demand end to end is relayed over every inner node."""
    nodes = [{"id": f"N{i}"} for i in range(n)]
    links = [{"a": f"N{i}", "b": f"N{i + 1}", "length_km": length_km} for i in range(n - 1)]
    return write_topology(path, nodes, links)


def three_path_topology(path: Path, length_km: float = 15.0) -> str:
    """S and D joined through three node-disjoint relays X0, X1, X2."""
    nodes = [{"id": "S"}, {"id": "D"}] + [{"id": f"X{i}"} for i in range(3)]
    links = []
    for i in range(3):
        links.append({"a": "S", "b": f"X{i}", "length_km": length_km})
        links.append({"a": f"X{i}", "b": "D", "length_km": length_km})
    return write_topology(path, nodes, links)


def relay_topology(path: Path, arm_km: float = 20.0) -> str:
    """A - R - B where R is an untrusted MDI-QKD relay (it measures, holds no key)."""
    nodes = [{"id": "A"}, {"id": "R", "role": "relay"}, {"id": "B"}]
    links = [
        {"a": "A", "b": "R", "length_km": arm_km},
        {"a": "R", "b": "B", "length_km": arm_km},
    ]
    return write_topology(path, nodes, links)


def ring_with_relay_topology(path: Path, n: int, length_km: float, step_km: float) -> str:
    """A ring N0 - N1 - ... - N(n-1) - N0 whose N2 - N3 hop runs through an untrusted relay R
    (an MDI-capable link); the i-th fibre is length_km + i * step_km long."""
    nodes = [{"id": f"N{i}"} for i in range(n)] + [{"id": "R", "role": "relay"}]
    pairs = [(f"N{i}", f"N{(i + 1) % n}") for i in range(n)]
    pairs[2:3] = [("N2", "R"), ("R", "N3")]
    links = [
        {"a": a, "b": b, "length_km": length_km + step_km * i} for i, (a, b) in enumerate(pairs)
    ]
    return write_topology(path, nodes, links)


def scenario(topology: str, **fields: Any) -> ScenarioConfig:
    """A validated scenario on `topology` with fast links; `fields` replace or extend."""
    data: dict[str, Any] = {"topology": topology, "seed": 3, "step_s": 0.1, "steps": 20}
    data["link"] = dict(FAST_LINK) | fields.pop("link", {})
    data.update(fields)
    return parse_scenario(data, source="test scenario")


def run_steps(config: ScenarioConfig, steps: int, control: bool = False):
    """Step a scenario `steps` times; returns (list of StepResult, plan)."""
    from bridge.scenario import QkdScenario

    with QkdScenario(config) as sim:
        if control:
            from control.plane import ControlPlane

            sim.attach_control(ControlPlane(config, sim.plan, sim))
        results = [sim.step() for _ in range(steps)]
        return results, sim.plan

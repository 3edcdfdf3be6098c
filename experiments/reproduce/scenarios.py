"""The scenario and sweep files `qkdnet reproduce` runs, written out so anyone can rerun one cell
with `qkdnet run` or `qkdnet sweep` by hand.

Every network shares the six-node default scenario's hardware (GYS 2004 decoy BB84, buffers,
post-processing) and the same Byzantine behaviour (intercept-resend, tampering, lying reports from
the onset on); fluctuations are on everywhere: fibre loss drifts (0.5 dB, 2 s correlation) and
the sources' repetition rates drift (10 %, 2 s). Networks without named applications get demands
picked from the graph (`pick_demands`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from experiments.reproduce.profiles import NetworkSetup, Profile

DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "configs" / "six-node.yaml"
DRIFT = {"sigma_db": 0.5, "correlation_time_s": 2.0}
RATE_DRIFT = {"sigma_fraction": 0.1, "correlation_time_s": 2.0}
MAX_DEMAND_HOPS = 4  # longer trusted-node chains starve the relay within a short run


def pick_demands(topology: str, pairs: int, rate_bps: float) -> list[dict[str, Any]]:
    """`pairs` demands between the nodes farthest apart in hops (at most MAX_DEMAND_HOPS, so a
    short run can serve them), no node used twice, ties broken by node order: deterministic.

    On a chain (Beijing-Shanghai) this picks segments of the backbone; a demand's endpoints are
    never drawn Byzantine, so the relays between them are what the attack hits.
    """
    from bridge.topology import load_topology

    graph = load_topology(topology).graph
    labels = {n: str(graph.nodes[n].get("label", n)) for n in graph.nodes}
    hops = dict(nx.all_pairs_shortest_path_length(graph))
    order = sorted(graph.nodes, key=str)
    candidates = [
        (min(hops[a][b], MAX_DEMAND_HOPS), a, b)
        for i, a in enumerate(order)
        for b in order[i + 1 :]
        if hops[a][b] <= MAX_DEMAND_HOPS
    ]
    candidates.sort(key=lambda c: (-c[0], str(c[1]), str(c[2])))
    used: set = set()
    chosen = []
    for _, a, b in candidates:
        if a in used or b in used:
            continue
        chosen.append({"src": labels[a], "dst": labels[b], "rate_bps": rate_bps})
        used |= {a, b}
        if len(chosen) == pairs:
            break
    return chosen


def base_scenario(profile: Profile, net: NetworkSetup) -> dict[str, Any]:
    """The network's scenario (fraction 0, ABFT); the sweep grid changes fraction and plane."""
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    demands = (
        list(net.demands)
        if net.demands is not None
        else pick_demands(net.topology, net.demand_pairs, net.demand_rate_bps)
    )
    data.update(
        name=f"repro-{net.name}",
        topology=net.topology,
        steps=net.steps,
        step_s=profile.step_s,
        demand_interval_s=profile.demand_interval_s,
        demands=demands,
    )
    data["link"]["drift"] = dict(DRIFT)
    data["link"]["rate_drift"] = dict(RATE_DRIFT)
    data["byzantine"]["nodes"] = []
    data["byzantine"]["fraction"] = 0.0
    data["byzantine"]["behaviour"]["onset_s"] = onset_of(profile, net)
    # the paper's ABFT decides every step (the scenario default skips quiet steps)
    data["control"]["quiet_interval_steps"] = 1
    if net.topology.startswith(("waxman", "rgg")) or net.name == "beijing-shanghai":
        data["classical"] = {"routing": "nix-vector"}
    return data


def onset_of(profile: Profile, net: NetworkSetup) -> float:
    return profile.onset_s if net.onset_s is None else net.onset_s


def sweep_spec(
    profile: Profile, net: NetworkSetup, scenario_file: Path, arm: str, checkpoint: Path | None
) -> dict[str, Any]:
    """The sweep file of one arm on one network."""
    spec: dict[str, Any] = {
        "name": f"{profile.name}-{net.name}-{arm}",
        "scenario": str(scenario_file),
        "grid": {"byzantine.fraction": list(net.fractions)},
        "seeds": {"count": net.seeds, "first": 1},
        "metrics": {
            "warmup_steps": profile.warmup_steps if net.warmup_steps is None else net.warmup_steps
        },
        "set": {"control.mode": "baseline" if arm == "baseline" else "abft"},
    }
    if arm == "abft+agent":
        assert checkpoint is not None
        spec["grid"]["agent"] = [str(checkpoint)]
    return spec


def training_scenario(profile: Profile, base: dict[str, Any]) -> dict[str, Any]:
    """The scenario the agent trains on: the six-node network under attack, shorter episodes,
    a different seed range from the evaluation's (seeds are drawn by the trainer)."""
    data = dict(base)
    data["name"] = f"{base['name']}-train"
    data["steps"] = profile.training.steps_per_episode
    data["byzantine"] = dict(base["byzantine"], fraction=profile.training.byzantine_fraction)
    data["seed"] = 1000
    return data


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path

"""`qkdnet run` end to end: the default scenario shows the attack, writes Parquet, reproduces.

Also the topology promise: one scenario runs on every built-in network and on a Topology-Zoo
style GML file by changing its `topology:` line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import qkdnet_command

pytestmark = pytest.mark.ns3

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "experiments" / "configs" / "six-node.yaml"
ZOO_GML = REPO / "tests" / "topology" / "data" / "zoo_style.gml"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*qkdnet_command(), "run", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    """The default scenario without ABFT (every report trusted): the attack's plain effect."""
    out = tmp_path_factory.mktemp("run") / "six-node"
    done = _run(DEFAULT, "--steps", "60", "--control", "baseline", "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_the_attacked_links_qber_rises_and_the_demands_delivered_key_falls(baseline_run):
    from bridge.scenario.metrics import read_run
    from experiments.run import attacked_link_report, demand_report

    out, stdout = baseline_run
    tables = read_run(out)
    links = tables["links"]
    assert links.step.nunique() == 60 and links.link.nunique() == 8
    report = attacked_link_report(tables, onset_s=3.0)
    # SECOQC links in file order; GUD (node 2) is an end of links 1, 2, 4 and 5
    attacked = [1, 2, 4, 5]
    honest = [0, 3, 6, 7]
    assert (report.qber_after[attacked] > report.qber_before[attacked] + 0.08).all()
    assert (report.qber_after[honest] - report.qber_before[honest]).abs().max() < 0.01
    delivered = demand_report(tables, onset_s=3.0)
    assert delivered.delivered_bps_after[0] < 0.9 * delivered.delivered_bps_before[0]
    assert tables["demands"].groupby("demand").shares_rejected.max()[0] > 0
    assert "links whose QBER changed after the Byzantine onset" in stdout
    assert "key delivered per demand" in stdout


def test_a_run_writes_parquet_and_refuses_to_overwrite_it(baseline_run):
    out, _ = baseline_run
    import pandas as pd

    for table in ("links", "demands", "nodes", "control_nodes", "control_links"):
        parts = sorted((out / table).glob("part-*.parquet"))
        assert parts, table
        assert pd.read_parquet(out / table).step.max() == 60  # a plain Parquet dataset
    before = {p: p.stat().st_mtime_ns for p in out.glob("**/*.parquet")}
    again = _run(DEFAULT, "--steps", "5", "--out", out)
    assert again.returncode != 0
    assert "--overwrite" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert {p: p.stat().st_mtime_ns for p in out.glob("**/*.parquet")} == before


def test_a_bad_scenario_field_is_one_line_naming_the_field(tmp_path):
    data = yaml.safe_load(DEFAULT.read_text())
    data["link"]["rate_bsp"] = 5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    done = _run(bad, "--out", tmp_path / "out")
    assert done.returncode != 0
    assert "link.rate_bsp" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_same_seed_same_tables_bit_for_bit(tmp_path):
    from bridge.scenario.config import load_scenario
    from bridge.scenario.metrics import read_run
    from experiments.run import run_scenario

    config = load_scenario(DEFAULT, steps=35)  # past the onset, with the ABFT control plane
    tables = []
    for name in ("a", "b"):
        run_scenario(config, tmp_path / name, progress=False)
        tables.append(read_run(tmp_path / name))
    assert set(tables[0]) == set(tables[1])
    for name, frame in tables[0].items():
        other = tables[1][name]
        assert frame.equals(other), name


@pytest.mark.parametrize(
    "topology",
    ["secoqc-vienna", "tokyo-qkd", "swissquantum", "beijing-shanghai", str(ZOO_GML)],
)
def test_one_scenario_runs_on_every_builtin_network_and_a_zoo_gml(tmp_path, topology):
    from bridge.scenario import QkdScenario
    from bridge.scenario.config import load_scenario

    scenario_file = tmp_path / "any-network.yaml"
    data = {
        "name": "any-network",
        "topology": "secoqc-vienna",
        "steps": 3,
        "default_length_km": 20.0,
        "demands": [{"src": 0, "dst": 2, "rate_bps": 1000}],
    }
    text = yaml.safe_dump(data).replace("topology: secoqc-vienna", f"topology: {topology}")
    scenario_file.write_text(text)
    config = load_scenario(scenario_file)
    with QkdScenario(config) as sim:
        results = [sim.step() for _ in range(config.steps)]
    assert len(results[-1].link("secret_bits")) == len(sim.plan.links) > 1
    # the shortest links make key within 0.3 s; every demand has a route
    assert np.max(results[-1].link("sifted_bits")) > 0
    assert sim.plan.demands[0].candidate_routes

"""`qkdnet topologies` and `qkdnet topologies show`: the installed console script end to end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import qkdnet_command

DATA = Path(__file__).parent / "data"


def _qkdnet(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*qkdnet_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_topologies_lists_the_builtins_with_counts_and_fibre() -> None:
    table = _qkdnet("topologies")
    assert table.returncode == 0, table.stderr
    for name in ("secoqc-vienna", "tokyo-qkd", "swissquantum", "beijing-shanghai"):
        assert name in table.stdout
    listed = _qkdnet("topologies", "--json")
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert (rows["secoqc-vienna"]["nodes"], rows["secoqc-vienna"]["links"]) == (6, 8)
    assert rows["tokyo-qkd"]["total_length_km"] == 71.0
    assert rows["beijing-shanghai"]["nodes"] == 36
    assert rows["swissquantum"]["citation"].startswith("D. Stucki et al.")


def test_show_a_file_as_json_and_write_it(tmp_path: Path) -> None:
    out = tmp_path / "copy.graphml"
    shown = _qkdnet(
        "topologies", "show", str(DATA / "mixed.graphml"), "--default-length-km", "30",
        "--json", "--write", str(out),
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "qkdnet: warning:" in shown.stderr and "default_length_km=30 km" in shown.stderr
    details = json.loads(shown.stdout)
    assert (details["nodes"], details["links"]) == (5, 5)
    assert details["link_list"][-1]["source"] == "default"
    again = json.loads(_qkdnet("topologies", "show", str(out), "--json").stdout)
    assert again["link_list"] == details["link_list"]


def test_show_a_builtin_as_tables() -> None:
    shown = _qkdnet("topologies", "show", "Tokyo")
    assert shown.returncode == 0, shown.stderr
    assert "tokyo-qkd: 4 nodes, 4 links, 71.0 km of fibre" in shown.stdout
    assert "Koganei" in shown.stdout and "Sasaki" in shown.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gml"
    bad.write_text(
        "graph [ node [ id 0 ] node [ id 1 ] edge [ source 0 target 1 length_km -4.0 ] ]"
    )
    failed = _qkdnet("topologies", "show", str(bad))
    assert failed.returncode == 2
    assert failed.stderr.strip() == f"qkdnet: error: {bad}: edge 0-1: negative length_km -4.0"
    unknown = _qkdnet("topologies", "show", "atlantis")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1
    assert unknown.stderr.startswith("qkdnet: error: atlantis: unknown topology")

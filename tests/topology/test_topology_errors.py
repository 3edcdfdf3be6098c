"""Bad input: every case gives a TopologyError whose one line names the file and the line or
element, and nothing is returned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.topology import TopologyError, load_topology

GML_HEAD = 'graph [ node [ id 0 label "A" ] node [ id 1 label "B" ] node [ id 2 label "C" ] '


def _error(spec, **kwargs) -> str:
    with pytest.raises(TopologyError) as info:
        load_topology(spec, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        # malformed files
        (
            "t.gml",
            'graph [\n node [ id 0 label "A" ]\n node [ id 1\n',
            r"t.gml: line 4, .*expected",
        ),
        (
            "t.gml",
            "graph [\n node [ id 0 ]\n edge [ source 0 target 5 ]\n]\n",
            r"t.gml: edge #0 has undefined target 5",
        ),
        (
            "t.graphml",
            '<?xml version="1.0"?>\n<graphml>\n<graph>\n<node id="a">\n</graphml>\n',
            r"t.graphml: line 5, column \d+: mismatched tag",
        ),
        ("t.inet", "3 2\n0 1 1\n1 2 2\n2 3 3\n0 1 5\n", r"t.inet: line 1: the header promises"),
        ("t.inet", "two 2\n", r"t.inet: line 1: expected the Inet header"),
        ("t.inet", "2 1\n0 1 1\n1 x 2\n0 1\n", r"t.inet: line 3: y 'x'|t.inet: line 3: x 'x'"),
        ("t.inet", "2 1\n0 1 1\n1 2 2\n0 7\n", r"t.inet: line 4: link end 7 is not in the node"),
        ("t.inet", "3 1\n0 1 1\n1 2 2\n2 3 3\n0 1\n", r"t.inet: line 4: node 2 has no links"),
        ("t.orbis", "1 2\n2 3 4\n", r"t.orbis: line 2: expected '<from> <to>'"),
        (
            "t.cch",
            "1 @A,+B bb (1) -> <2> =a r0\nnot a maps line\n",
            r"t.cch: line 2: not a Rocketfuel maps line",
        ),
        ("t.weights", "a b 1.0\nb c x\n", r"t.weights: line 2: not a Rocketfuel weights line"),
        ("t.weights", "a b c d\n", r"t.weights: line 1: neither a Rocketfuel maps line"),
        (
            "t.yaml",
            "nodes: [{id: A}, {id: B}]\nlinks: [{a: A, b: B, lenght_km: 3}]\n",
            r"t.yaml: links\[0\]: unknown key 'lenght_km'",
        ),
        (
            "t.yaml",
            "nodes: [{id: A}, {id: B}]\nlinks: [{a: A, b: Z, length_km: 3}]\n",
            r"t.yaml: links\[0\] \(A-Z\): unknown node 'Z'",
        ),
        ("t.yaml", "nodes: [{id: A}\nlinks: []\n", r"t.yaml: line \d+: "),
        (  # a key given twice would silently keep the last (here: a link's length)
            "t.yaml",
            "nodes: [{id: A}, {id: B}]\nlinks: [{a: A, b: B, length_km: 3,\n  length_km: 30}]\n",
            r"t.yaml: line 3: duplicate key 'length_km' \(first on line 2\)",
        ),
        ("t.txt", "%%%\n", r"t.txt: cannot tell the topology format"),
        # graph-level faults
        (
            "t.gml",
            GML_HEAD + "edge [ source 0 target 1 length_km 5 ] ]",
            r"t.gml: the graph is disconnected \(2 parts\): node 'A' cannot reach node 'C'",
        ),
        (
            "t.gml",
            GML_HEAD + "edge [ source 0 target 1 length_km 5 ] edge [ source 1 target 2 "
            "length_km 5 ] edge [ source 2 target 2 length_km 1 ] ]",
            r"t.gml: edge 2-2: self-loop on node '2'",
        ),
        (
            "t.gml",
            GML_HEAD + "edge [ source 0 target 1 length_km 5 ] edge [ source 1 target 2 "
            "length_km -4.0 ] ]",
            r"t.gml: edge 1-2: negative length_km -4",
        ),
        (
            "t.gml",
            GML_HEAD + "edge [ source 0 target 1 length_km 0 ] edge [ source 1 target 2 "
            "length_km 4 ] ]",
            r"t.gml: edge 0-1: length_km is 0",
        ),
        (
            "t.gml",
            GML_HEAD + 'edge [ source 0 target 1 length_km "far" ] ]',
            r"t.gml: edge 0-1: length_km 'far' is not a finite number",
        ),
        (
            "t.gml",
            GML_HEAD + "edge [ source 0 target 1 length_km 5 ] edge [ source 1 target 2 ] ]",
            r"t.gml: edge 1-2: no length_km and no coordinates at 'B' and 'C'; give a length for "
            r"such links with --default-length-km KM \(scenario: default_length_km\)",
        ),
        (
            "t.gml",
            'graph [ node [ id 0 role "spy" ] node [ id 1 ] edge [ source 0 target 1 '
            "length_km 1 ] ]",
            r"t.gml: node 0: role 'spy' is not one of trusted, relay",
        ),
        (
            "t.gml",
            "graph [ node [ id 0 ] node [ id 1 ] edge [ source 0 target 1 length_km 1 "
            'protocol "bb85" ] ]',
            r"t.gml: edge 0-1: protocol 'bb85' is not one of",
        ),
        (
            "t.gml",
            "graph [ node [ id 0 Latitude 91 Longitude 0 ] node [ id 1 ] edge [ source 0 "
            "target 1 length_km 1 ] ]",
            r"t.gml: node 0: lat_deg 91.0 is outside \[-90, 90\]",
        ),
        (
            "t.gml",
            "graph [ node [ id 0 Latitude 45 ] node [ id 1 ] edge [ source 0 "
            "target 1 length_km 1 ] ]",
            r"t.gml: node 0: has lat_deg but no lon_deg",
        ),
        (
            "t.gml",
            "graph [ node [ id 0 ] node [ id 1 ] edge [ source 0 target 1 length_km 1 "
            "attenuation_db_per_km -0.2 ] ]",
            r"t.gml: edge 0-1: negative attenuation_db_per_km -0.2",
        ),
        ("t.gml", 'graph [ node [ id 0 label "A" ] ]', r"t.gml: the topology has no links"),
    ],
)
def test_bad_files_give_one_line_naming_file_and_element(tmp_path, name, text, expected) -> None:
    path = _write(tmp_path, name, text)
    message = _error(path)
    assert re.search(expected, message.replace(str(tmp_path) + "/", "")), message


def test_unknown_name_lists_the_builtins() -> None:
    message = _error("atlantis-qkd")
    assert message.startswith("atlantis-qkd: unknown topology: not a built-in (secoqc-vienna")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "nope.gml")
    assert _error(tmp_path).endswith(": not a file")


def test_bad_default_length(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.orbis", "a b\n")
    assert "default_length_km must be a positive number, got -1" in _error(
        path, default_length_km=-1
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("waxman:seed=1", "needs n=<number of nodes>"),
        ("waxman:n=ten", "n='ten' is not a number"),
        ("waxman:n=10,gamma=2", "unknown parameter 'gamma' for waxman"),
        ("rgg:n=1", "n must be at least 2"),
        ("rgg:n=10,radius_km=-3", "radius_km must be > 0"),
        ("waxman:n=10,beta=1.5", "beta must be in (0, 1]"),
        ("waxman:n=10,seed", "'seed' is not key=value"),
    ],
)
def test_bad_synthetic_specs(spec: str, expected: str) -> None:
    assert expected in _error(spec)


def test_bad_engine_and_format(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.orbis", "a b\n")
    assert "engine must be 'python' or 'ns3'" in _error(path, engine="fast")
    assert "unknown format 'pajek'" in _error(path, format="pajek")

"""Broken topology files end with exit != 0 and one line naming the file (issue 14's corpus).

Each case is written (or generated, for the large ones) into a temporary folder and given to the
installed `qkdnet topologies show`; the test asserts a non-zero exit, exactly one line on stderr
that names the file and the problem, and no traceback. A time limit on the subprocess stands
for "within seconds" (the assertion is on the outcome, never on the time taken).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import qkdnet_command

GRAPHML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n<key attr.name="label" attr.type="string" for="node" id="d0"/>\n<graph edgedefault="undirected">\n'  # noqa: E501
GRAPHML_TAIL = "</graph>\n</graphml>\n"


def _graphml(body: str) -> str:
    return GRAPHML_HEAD + body + GRAPHML_TAIL


def _deep_gml(depth: int) -> str:
    return (
        "graph [ node [ id 0 ] node [ id 1 ] edge [ source 0 target 1 ] x "
        + ("[ a " * depth)
        + "1"
        + " ]" * depth
        + " ]"
    )


def _orbis(n_nodes: int) -> str:
    # a ring: every node appears, n_nodes lines
    return "".join(f"{i} {(i + 1) % n_nodes}\n" for i in range(n_nodes))


#: name, file content (str or bytes, or a function of nothing), words the one line must hold
CASES: list[tuple[str, str | bytes | Callable[[], str], tuple[str, ...]]] = [
    (
        "dup_node.graphml",
        _graphml(
            '<node id="a"/><node id="b"><data key="d0">B</data></node>'
            '<node id="b"><data key="d0">C</data></node>'
            '<edge source="a" target="b"/>'
        ),
        ("<node id='b'> is declared twice",),
    ),
    (
        "undeclared_end.graphml",
        _graphml('<node id="a"/><node id="b"/><edge source="a" target="bb"/>'),
        ("node 'bb' is not declared",),
    ),
    (
        "undeclared_end.gml",
        "graph [ node [ id 0 ] node [ id 1 ] edge [ source 0 target 7 ] ]",
        ("undefined target 7",),
    ),
    (
        "dup_node.gml",
        "graph [ node [ id 0 ] node [ id 0 ] node [ id 1 ] edge [ source 0 target 1 ] ]",
        ("node id 0 is duplicated",),
    ),
    (
        "undeclared_end.yaml",
        "nodes:\n  - {id: A, x_km: 0, y_km: 0}\n  - {id: B, x_km: 3, y_km: 4}\n"
        "links:\n  - {a: A, b: Bee}\n",
        ("links[0] (A-Bee): unknown node 'Bee",),
    ),
    (
        "dup_node.yaml",
        "nodes:\n  - {id: A, x_km: 0, y_km: 0}\n  - {id: A, x_km: 3, y_km: 4}\n"
        "links:\n  - {a: A, b: A}\n",
        ("node id 'A' repeats",),
    ),
    (
        "undeclared_end.inet",
        "2 1\n0 1 1\n1 2 2\n0 9 3\n",
        ("link end 9 is not in the node list",),
    ),
    ("deep.gml", lambda: _deep_gml(20_000), ("nested more than 64 deep",)),
    ("huge.orbis", lambda: _orbis(150_000), ("above the ceiling of 5,000", "--max-nodes")),
    (
        "huge.graphml",
        lambda: _graphml("".join(f'<node id="n{i}"/>' for i in range(6000))),
        ("above the ceiling of 5,000", "--max-nodes"),
    ),
    (
        "huge.gml",
        lambda: "graph [\n" + "".join(f"node [ id {i} ]\n" for i in range(6000)) + "]\n",
        ("6,000 nodes is above the ceiling of 5,000",),
    ),
    ("latin1.gml", 'graph [ node [ id 0 label "Z\xfcrich" ] ]'.encode("latin-1"), ("UTF-8",)),
    ("latin1.orbis", "0 1\n1 M\xfcnchen\n".encode("latin-1"), ("not UTF-8 text",)),
    ("latin1.yaml", "name: Z\xfcrich\nnodes: []\n".encode("latin-1"), ("not UTF-8",)),
    ("latin1.inet", "2 1\n0 1 1\n1 2 2\n0 1 \xe9\n".encode("latin-1"), ("not UTF-8 text",)),
    (
        "latin1.graphml",
        _graphml('<node id="Z\xfcrich"/><node id="b"/><edge source="b" target="b"/>').encode(
            "latin-1"
        ),
        ("not well-formed",),
    ),
]


@pytest.mark.parametrize(("name", "content", "words"), CASES, ids=[c[0] for c in CASES])
def test_broken_topology_file_is_one_line_and_nonzero(
    tmp_path: Path, name: str, content: str | bytes | Callable[[], str], words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    data = content() if callable(content) else content
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    shown = subprocess.run(
        [*qkdnet_command(), "topologies", "show", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode != 0
    lines = shown.stderr.strip().splitlines()
    assert len(lines) == 1, shown.stderr
    assert lines[0].startswith(f"qkdnet: error: {path}")
    assert "Traceback" not in shown.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_the_ceiling_can_be_raised(tmp_path: Path) -> None:
    path = tmp_path / "ring.orbis"
    path.write_text(_orbis(6000))
    shown = subprocess.run(
        [*qkdnet_command(), "topologies", "show", str(path), "--default-length-km", "10",
         "--max-nodes", "6000", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert '"nodes": 6000' in shown.stdout


def test_a_synthetic_spec_above_the_ceiling_is_refused_before_it_is_generated() -> None:
    shown = subprocess.run(
        [*qkdnet_command(), "topologies", "show", "waxman:n=1000000,seed=1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode != 0
    lines = shown.stderr.strip().splitlines()
    assert lines == [
        "qkdnet: error: waxman:n=1000000,seed=1: 1,000,000 nodes is above the ceiling of 5,000 "
        "(ns-3 routing and consensus grow as n^2-n^3); to go ahead anyway raise it with "
        "--max-nodes N (scenario: topology_options.max_nodes)"
    ]

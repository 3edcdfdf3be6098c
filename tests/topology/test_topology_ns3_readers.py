"""ns-3's own TopologyReaderHelper on the sample files, against qkdnet's parsers.

ns-3 runs in one subprocess for the whole module (the fixture below): loading its core, network
and topology-read libraries costs about a second, and in ns-3.44 reading topology files in
this process would leave Nodes in the global NodeList and names in the global Names table (see
bridge/topology/ns3_reader.py).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from bridge.topology import TopologyError, load_topology
from bridge.topology.detect import detect_format
from bridge.topology.ns3_reader import Ns3Read, check_agreement, read_with_ns3
from bridge.topology.text_formats import read_inet, read_orbis, read_rocketfuel

pytestmark = pytest.mark.ns3

DATA = Path(__file__).parent / "data"
SAMPLES = {
    "inet_sample.inet": read_inet,
    "orbis_sample.orbis": read_orbis,
    "rocketfuel_maps.cch": read_rocketfuel,
    "rocketfuel_weights.txt": read_rocketfuel,
}


@pytest.fixture(scope="module")
def ns3_reads() -> dict[str, Ns3Read]:
    """Every sample read by ns-3, in one subprocess; the Inet file twice (needs our reset)."""
    names = [*SAMPLES, "inet_sample.inet"]
    files = [(DATA / name, detect_format(DATA / name, name)) for name in names]
    reads = read_with_ns3(files)
    assert [r.path.name for r in reads] == names
    assert reads[0] == reads[-1]  # a second read of the same names did not abort ns-3
    return {r.path.name: r for r in reads}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_ns3_and_qkdnet_read_the_same_nodes_in_the_same_order_and_links(ns3_reads, name):
    raw = SAMPLES[name](DATA / name, name)
    result = ns3_reads[name]
    assert list(result.node_names) == [node.source_id for node in raw.nodes]
    assert result.link_pairs == {frozenset((e.u, e.v)) for e in raw.edges}
    check_agreement(raw, result)  # the check load_topology(engine="ns3") makes


def test_ns3_counts_on_the_samples(ns3_reads) -> None:
    counts = {name: (len(r.node_names), len(r.links)) for name, r in ns3_reads.items()}
    assert counts == {
        "inet_sample.inet": (6, 8),
        "orbis_sample.orbis": (7, 9),
        # the maps format lists a link on the line of each end that has a line: 6 links are
        # listed 11 times (106 -> 104 once, as 104's line does not name 106)
        "rocketfuel_maps.cch": (6, 11),
        # ns-3 drops a weights line whose reverse it has already read
        "rocketfuel_weights.txt": (5, 5),
    }


def test_ns3_gives_inet_weights_as_strings_and_no_positions(ns3_reads) -> None:
    links = ns3_reads["inet_sample.inet"].links
    assert links[3] == ("3", "0", {"Weight": "1310"})


def test_load_with_the_ns3_engine_matches_the_python_engine() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        via_ns3 = load_topology(DATA / "orbis_sample.orbis", default_length_km=10, engine="ns3")
        via_python = load_topology(DATA / "orbis_sample.orbis", default_length_km=10)
    assert via_ns3.labels == via_python.labels
    assert sorted(via_ns3.graph.edges(data=True)) == sorted(via_python.graph.edges(data=True))
    assert any("TopologyReaderHelper (Orbis)" in note for note in via_ns3.notes)


def test_disagreement_between_ns3_and_qkdnet_is_an_error(ns3_reads) -> None:
    raw = read_orbis(DATA / "orbis_sample.orbis", "orbis_sample.orbis")
    raw.edges.pop()  # pretend our parser missed the last line
    with pytest.raises(TopologyError, match="disagree on links"):
        check_agreement(raw, ns3_reads["orbis_sample.orbis"])


def test_ns3_engine_refuses_formats_ns3_cannot_read() -> None:
    with pytest.raises(TopologyError, match="engine 'ns3' reads inet, orbis, rocketfuel"):
        load_topology(DATA / "zoo_style.gml", engine="ns3")


def test_a_file_ns3_reads_nothing_from_is_an_error(tmp_path: Path) -> None:
    """ns-3's Rocketfuel reader stops at a first line it does not recognise and returns nothing."""
    odd = tmp_path / "odd.cch"
    odd.write_text("this is not rocketfuel\n")
    with pytest.raises(TopologyError, match=r"odd.cch: ns-3's Rocketfuel reader read no links"):
        read_with_ns3([(odd, "rocketfuel")])


def test_an_ns3_abort_is_reported_with_its_message() -> None:
    """The stderr of the ns-3.44 abort this design avoids (reading the same names twice)."""
    from bridge.topology.ns3_reader import _ns3_reason

    stderr = (
        "[runStaticInitializersOnce]: Failed to materialize symbols: { (main, { x }) }\n"
        'aborted. cond="!(result)", msg="Names::Add(): Error adding name OrbisTopology/NodeName/0",'
        " +0.000000000s -1 file=/gcl-builds/src/core/model/names.cc, line=768\n"
        "NS_FATAL, terminating\n"
    )
    assert _ns3_reason(stderr) == "Names::Add(): Error adding name OrbisTopology/NodeName/0"

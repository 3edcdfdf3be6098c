"""`qkdnet topologies` (list the built-in networks) and `qkdnet topologies show NAME|PATH`.

Top-level imports stay light (typer and the CLI error helper); networkx and the readers are
imported inside the commands, so `qkdnet --help` stays instant.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from bridge.topology.options import CO_LOCATED_KM_DEFAULT, MAX_NODES_DEFAULT
from cli.errors import user_errors

app = typer.Typer(
    help="Built-in QKD networks, topology files and synthetic specs.",
    invoke_without_command=True,
    add_completion=False,
)


@app.callback()
def topologies(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """List the built-in networks: nodes, links, total fibre and where they come from."""
    if ctx.invoked_subcommand is not None:
        return
    from bridge.topology import builtin_names, load_topology

    with user_errors():
        rows = [load_topology(name).summary() for name in builtin_names()]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="built-in QKD networks (qkdnet topologies show NAME for details)")
    for column, justify in (
        ("name", "left"),
        ("nodes", "right"),
        ("links", "right"),
        ("total fibre (km)", "right"),
        ("citation", "left"),
    ):
        table.add_column(column, justify=justify)
    for row in rows:
        table.add_row(
            row["name"],
            str(row["nodes"]),
            str(row["links"]),
            f"{row['total_length_km']:,.1f}",
            row["citation"],
        )
    Console().print(table)


@app.command("show")
def show(
    spec: str = typer.Argument(..., help="built-in name, synthetic spec or file path"),
    default_length_km: float | None = typer.Option(
        None, "--default-length-km", help="length of links the file gives no length for"
    ),
    fmt: str | None = typer.Option(None, "--format", help="force a reader (gml, inet, ...)"),
    engine: str = typer.Option(
        "python", "--engine", help="'ns3' also reads Inet/Orbis/Rocketfuel with ns-3's reader"
    ),
    seed: int | None = typer.Option(None, "--seed", help="seed for synthetic specs"),
    max_link_km: float | None = typer.Option(
        None, "--max-link-km", help="split longer links into chains of trusted repeaters"
    ),
    component: str | None = typer.Option(
        None, "--component", help="disconnected file: keep 'largest' part or a node label's"
    ),
    parallel_links: str = typer.Option(
        "merge", "--parallel-links", help="merge parallel fibres into one link, or keep them"
    ),
    co_located_km: float = typer.Option(
        CO_LOCATED_KM_DEFAULT, "--co-located-km", help="length of links between co-located PoPs"
    ),
    max_nodes: int = typer.Option(
        MAX_NODES_DEFAULT, "--max-nodes", help="refuse bigger topologies (documented ceiling)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
    write: str | None = typer.Option(
        None, "--write", help="also write the topology to this .graphml or .gml file"
    ),
) -> None:
    """Show one topology: its summary, provenance notes, nodes and links."""
    import warnings

    from bridge.topology import load_topology, write_topology
    from bridge.topology.options import TopologyOptions

    options = TopologyOptions(
        default_length_km=default_length_km,
        co_located_km=co_located_km,
        parallel_links=parallel_links,  # type: ignore[arg-type]
        component=component,
        max_link_km=max_link_km,
        max_nodes=max_nodes,
    )
    with user_errors(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        topology = load_topology(
            spec,
            seed=seed,
            format=fmt,
            engine=engine,  # type: ignore[arg-type]
            options=options,
        )
        if write:
            write_topology(topology, write)
    for warning in caught:
        print(f"qkdnet: warning: {warning.message}", file=sys.stderr)
    details = _details(topology)
    if as_json:
        print(json.dumps(details, indent=2))
        return
    _print_details(details)


def _details(topology: Any) -> dict[str, Any]:
    graph = topology.graph
    return {
        **topology.summary(),
        "notes": list(topology.notes),
        "adjustments": list(topology.adjustments),
        "node_list": [{"index": i, **graph.nodes[i]} for i in range(topology.n_nodes)],
        "link_list": [{"a": a, "b": b, **data} for a, b, data in sorted(graph.edges(data=True))],
    }


def _print_details(details: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{details['name']}[/bold]: {details['nodes']} nodes, {details['links']} links, "
        f"{details['total_length_km']:,.1f} km of fibre "
        f"(links {details['min_link_km']:.3g}-{details['max_link_km']:.3g} km)"
    )
    if details["citation"]:
        console.print(f"source: {details['citation']}")
    for note in details["notes"]:
        console.print(f"note: {note}")
    for change in details["adjustments"]:
        console.print(f"changed: {change}", markup=False)
    labels = {n["index"]: n["label"] for n in details["node_list"]}
    nodes = Table(title="nodes")
    for column in ("#", "label", "role", "lat", "lon", "approx.", "ref / inserted"):
        nodes.add_column(column)
    for n in details["node_list"]:
        nodes.add_row(
            str(n["index"]),
            n["label"],
            n["role"],
            _num(n.get("lat_deg")),
            _num(n.get("lon_deg")),
            _flag(n.get("approximate")),
            n.get("ref", "") or n.get("inserted", ""),
        )
    links = Table(title="links")
    for column in ("a", "b", "length (km)", "from", "fibres", "dB/km", "approx.", "ref / split"):
        links.add_column(column)
    for e in details["link_list"]:
        links.add_row(
            labels[e["a"]],
            labels[e["b"]],
            f"{e['length_km']:.1f}",
            e["source"],
            str(e.get("parallel_links", "")),
            _num(e.get("attenuation_db_per_km")),
            _flag(e.get("approximate")),
            e.get("ref", "") or e.get("split_from", ""),
        )
    console.print(nodes)
    console.print(links)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _flag(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "") if value is not None else ""

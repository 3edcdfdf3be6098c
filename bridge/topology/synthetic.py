"""Seeded synthetic topologies for scale tests: Waxman and random geometric graphs.

Specs (the `topology:` string of a scenario, or `--topology`):

    waxman:n=1000,seed=3[,degree=4][,alpha=0.1][,beta=...][,side_km=...]
    rgg:n=200,seed=1[,radius_km=...][,side_km=...]

Nodes are placed uniformly in a side_km x side_km square (default side_km = 20 * sqrt(n), so the
node density - one node per 400 km^2 - and the typical link length stay the same as n grows).
Every link's length is the straight-line distance of its ends (`source` = "euclidean").

 * Waxman (1988): nodes u, v are joined with probability beta * exp(-d(u, v) / (alpha * L)),
   L the largest distance between two nodes (the Waxman-1 model, as networkx's). alpha defaults
   to 30 km / L, so the chance of a link falls off over about 30 km whatever n is (QKD links
   much longer than ~150 km carry no key). Unless beta is given, it is set so the expected mean
   degree is `degree` (default 4, backbone-like): with S the sum of exp(-d/(alpha L)) over all
   pairs, beta = degree * n / (2 S), capped at 1 (with a warning if that cap bites).
 * Random geometric: nodes closer than radius_km are joined (default radius_km =
   side_km * sqrt(6 / (pi n)), an expected mean degree of about 6 away from the square's edges).

Neither model guarantees a connected graph, and a QKD topology must be connected: each component
other than the largest is joined to the rest by one link between its closest pair of nodes,
smallest component first (`notes` say how many such links were added). Same spec, same graph:
positions and draws come from numpy's Generator seeded with the spec's seed.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import networkx as nx
import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree
from scipy.spatial.distance import pdist

from bridge.topology.assemble import RawEdge, RawGraph, RawNode, assemble
from bridge.topology.errors import TopologyError, TopologyWarning
from bridge.topology.model import QkdTopology

MODELS = ("waxman", "rgg")
_PARAMS: dict[str, dict[str, type]] = {
    "waxman": {
        "n": int,
        "seed": int,
        "degree": float,
        "alpha": float,
        "beta": float,
        "side_km": float,
    },
    "rgg": {"n": int, "seed": int, "radius_km": float, "side_km": float},
}
DEFAULT_DECAY_KM = 30.0  # Waxman: default alpha * L
_CHUNK_ROWS = 512  # rows of the pair matrix drawn at a time (bounds memory at large n)


def is_synthetic_spec(spec: str) -> bool:
    return spec.split(":", 1)[0].strip().lower() in MODELS and ":" in spec


def parse_spec(spec: str, seed: int | None = None) -> tuple[str, dict[str, Any]]:
    """('waxman' | 'rgg', parameters) from "model:key=value,..."; TopologyError naming the key."""
    model, _, body = spec.partition(":")
    model = model.strip().lower()
    if model not in MODELS:
        raise TopologyError(f"{spec}: unknown synthetic model {model!r} ({', '.join(MODELS)})")
    params: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in body.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise TopologyError(f"{spec}: {item!r} is not key=value")
        if key not in _PARAMS[model]:
            raise TopologyError(
                f"{spec}: unknown parameter {key!r} for {model} ({', '.join(_PARAMS[model])})"
            )
        kind = _PARAMS[model][key]
        try:
            params[key] = kind(value.strip())
        except ValueError:
            raise TopologyError(f"{spec}: {key}={value.strip()!r} is not a number") from None
        if kind is float and not math.isfinite(params[key]):
            raise TopologyError(f"{spec}: {key} must be finite")
    if "n" not in params:
        raise TopologyError(f"{spec}: needs n=<number of nodes>")
    if params["n"] < 2:
        raise TopologyError(f"{spec}: n must be at least 2, got {params['n']}")
    params.setdefault("seed", 0 if seed is None else seed)
    if params["seed"] < 0:
        raise TopologyError(f"{spec}: seed must be >= 0")
    params.setdefault("side_km", 20.0 * math.sqrt(params["n"]))
    for key in ("side_km", "radius_km", "alpha", "degree"):
        if key in params and not params[key] > 0:
            raise TopologyError(f"{spec}: {key} must be > 0, got {params[key]:g}")
    if "beta" in params and not 0 < params["beta"] <= 1:
        raise TopologyError(f"{spec}: beta must be in (0, 1], got {params['beta']:g}")
    if model == "waxman":
        if "beta" not in params:
            params.setdefault("degree", 4.0)
    else:
        params.setdefault("radius_km", params["side_km"] * math.sqrt(6.0 / (math.pi * params["n"])))
    return model, params


def canonical_spec(model: str, params: dict[str, Any]) -> str:
    """The spec with every parameter spelled out (the topology's name)."""
    parts = [
        f"{k}={params[k]:g}" if isinstance(params[k], float) else f"{k}={params[k]}"
        for k in _PARAMS[model]
        if k in params
    ]
    return f"{model}:" + ",".join(parts)


def generate(spec: str, seed: int | None = None) -> QkdTopology:
    """Build the synthetic topology a spec describes (see module doc)."""
    model, params = parse_spec(spec, seed)
    rng = np.random.default_rng(params["seed"])
    n, side = params["n"], params["side_km"]
    xy = rng.uniform(0.0, side, size=(n, 2))
    notes: list[str] = []
    if model == "waxman":
        pairs, beta = _waxman_pairs(xy, rng, params)
        notes.append(f"Waxman beta = {beta:.6g}")
    else:
        pairs = cKDTree(xy).query_pairs(params["radius_km"], output_type="ndarray")
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(map(tuple, pairs))
    joined = _join_components(graph, xy)
    if joined:
        notes.append(f"{joined} link(s) added between closest nodes to connect the graph")
    name = canonical_spec(model, params)
    raw = RawGraph(
        where=name,
        format="synthetic",
        name=name,
        citation=(
            "B. M. Waxman, IEEE J. Sel. Areas Commun. 6, 1617 (1988)"
            if model == "waxman"
            else "random geometric graph (E. N. Gilbert, J. SIAM 9, 533 (1961))"
        ),
        notes=notes,
        origin=name,
    )
    for i in range(n):
        raw.nodes.append(
            RawNode(str(i), f"node {i}", {"label": f"n{i}", "x_km": xy[i, 0], "y_km": xy[i, 1]})
        )
    for a, b in sorted(tuple(sorted(e)) for e in graph.edges):
        raw.edges.append(RawEdge(str(a), str(b), f"edge {a}-{b}"))
    return assemble(raw)


def _waxman_pairs(
    xy: np.ndarray, rng: np.random.Generator, params: dict[str, Any]
) -> tuple[np.ndarray, float]:
    """Pairs (i < j) joined by the Waxman rule, drawn row block by row block."""
    n = len(xy)
    longest = float(pdist(_hull_points(xy)).max())
    alpha = params.setdefault("alpha", DEFAULT_DECAY_KM / longest)
    scale = alpha * longest
    beta = params.get("beta")
    if beta is None:
        total = 0.0
        for start in range(0, n, _CHUNK_ROWS):
            d = _block_distances(xy, start)
            total += float(np.exp(-d[np.isfinite(d)] / scale).sum())
        beta = params["degree"] * n / (2.0 * total)
        if beta > 1.0:
            warnings.warn(
                f"waxman: mean degree {params['degree']:g} is out of reach with alpha {alpha:g} "
                f"for n={n}; using beta = 1 (expected mean degree {2.0 * total / n:.3g})",
                TopologyWarning,
                stacklevel=4,
            )
            beta = 1.0
    found = []
    for start in range(0, n, _CHUNK_ROWS):
        d = _block_distances(xy, start)
        draw = rng.random(d.shape)
        rows, cols = np.nonzero(draw < beta * np.exp(-d / scale))
        found.append(np.column_stack((rows + start, cols)))
    return np.concatenate(found), beta


def _hull_points(xy: np.ndarray) -> np.ndarray:
    """The convex hull's corners (the farthest pair is among them); all points if degenerate."""
    if len(xy) < 3:
        return xy
    try:
        return xy[ConvexHull(xy).vertices]
    except QhullError:
        return xy


def _block_distances(xy: np.ndarray, start: int) -> np.ndarray:
    """Distances from rows start.. to every node; inf on and below the diagonal (pairs i < j)."""
    block = xy[start : start + _CHUNK_ROWS]
    d = np.sqrt(((block[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    rows = np.arange(start, start + len(block))[:, None]
    d[np.arange(len(xy))[None, :] <= rows] = np.inf
    return d


def _join_components(graph: nx.Graph, xy: np.ndarray) -> int:
    """Join every component to the rest by its closest node pair, smallest component first."""
    parts = sorted(nx.connected_components(graph), key=lambda c: (len(c), min(c)))
    added = 0
    while len(parts) > 1:
        part = sorted(parts.pop(0))
        rest = np.array(sorted(set().union(*parts)))
        distances, nearest = cKDTree(xy[rest]).query(xy[part])
        best = int(np.argmin(distances))
        a, b = part[best], int(rest[nearest[best]])
        graph.add_edge(a, b)
        added += 1
        parts = sorted(nx.connected_components(graph), key=lambda c: (len(c), min(c)))
    return added

"""`load_topology`: one entry point from a scenario's `topology:` string to a QkdTopology.

How a spec is read, in order:
 1. a built-in name (case-insensitive): secoqc-vienna, tokyo-qkd, swissquantum, beijing-shanghai;
 2. a synthetic spec: "waxman:n=...,seed=..." or "rgg:n=...,seed=..." (see `synthetic`);
 3. "<format>:<path>" with format one of graphml, gml, yaml, inet, orbis, rocketfuel, to force
    a reader (the `format=` argument does the same);
 4. a path; its format comes from the extension, else from the content (see `detect`).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal

from bridge.topology.assemble import RawGraph, assemble
from bridge.topology.builtin import BUILTINS, builtin_path, canonical_name
from bridge.topology.detect import FORMATS, detect_format
from bridge.topology.errors import TopologyError
from bridge.topology.model import QkdTopology
from bridge.topology.networkx_io import read_gml, read_graphml
from bridge.topology.ns3_reader import NS3_FILE_TYPES, check_agreement, read_with_ns3
from bridge.topology.options import TopologyOptions, too_many_nodes
from bridge.topology.repeaters import split_long_links
from bridge.topology.synthetic import generate, is_synthetic_spec, parse_spec
from bridge.topology.text_formats import read_inet, read_orbis, read_rocketfuel
from bridge.topology.yaml_format import read_yaml

Engine = Literal["python", "ns3"]

_READERS = {
    "graphml": read_graphml,
    "gml": read_gml,
    "yaml": read_yaml,
    "inet": read_inet,
    "orbis": read_orbis,
    "rocketfuel": read_rocketfuel,
}
_FORMAT_PREFIX = re.compile(r"^(" + "|".join(FORMATS) + r"):(.+)$", re.IGNORECASE)


def load_topology(
    spec: str | Path,
    *,
    default_length_km: float | None = None,
    seed: int | None = None,
    format: str | None = None,
    engine: Engine = "python",
    options: TopologyOptions | None = None,
) -> QkdTopology:
    """Load a built-in network, a synthetic spec or a file; TopologyError (one line) if unusable.

    `default_length_km` is the length of links the file gives no length or coordinates for (a
    TopologyWarning lists them); without it such a link is an error. `seed` seeds synthetic specs
    that do not name one. `engine="ns3"` also reads Inet/Orbis/Rocketfuel files with ns-3's
    TopologyReaderHelper in a subprocess and fails unless ns-3 and qkdnet's parser agree.
    `options` (parallel links, co-located PoPs, components, max_link_km, the node ceiling; see
    `bridge.topology.options`) make real networks usable; `default_length_km`, when given,
    replaces the options' own.
    """
    options = options or TopologyOptions()
    if default_length_km is not None:
        options = dataclasses.replace(options, default_length_km=default_length_km)
    options = options.checked(str(spec))
    topology = _load(spec, seed, format, engine, options)
    return split_long_links(topology, options.max_link_km)


def _load(
    spec: str | Path,
    seed: int | None,
    format: str | None,
    engine: Engine,
    options: TopologyOptions,
) -> QkdTopology:
    if engine not in ("python", "ns3"):
        raise TopologyError(f"{spec}: engine must be 'python' or 'ns3', not {engine!r}")
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            raise TopologyError("topology: empty name or path")
        name = canonical_name(text) if format is None else None
        if name is not None:
            path = builtin_path(name)
            raw = read_yaml(path, path.name)
            raw.format, raw.origin = "builtin", name
            return assemble(raw, options=options)
        if format is None and is_synthetic_spec(text):
            n = parse_spec(text, seed)[1].get("n")
            if isinstance(n, int) and n > options.max_nodes:
                raise too_many_nodes(text, n, options.max_nodes)
            return generate(text, seed)
        match = _FORMAT_PREFIX.match(text)
        if match and format is None:
            format, spec = match.group(1).lower(), match.group(2)
    path = Path(spec)
    where = str(spec)
    if not path.is_file():
        if path.exists():
            raise TopologyError(f"{where}: not a file")
        raise TopologyError(
            f"{where}: unknown topology: not a built-in ({', '.join(BUILTINS)}), not a synthetic "
            "spec (waxman:n=...,seed=... or rgg:n=...,seed=...) and no such file"
        )
    fmt = format.lower() if format else detect_format(path, where)
    if fmt not in _READERS:
        raise TopologyError(f"{where}: unknown format {fmt!r} ({', '.join(FORMATS)})")
    raw = _READERS[fmt](path, where, max_nodes=options.max_nodes)
    raw.origin = str(path)
    if not raw.name:
        raw.name = path.stem
    if engine == "ns3":
        _cross_check_with_ns3(raw, path, fmt)
    return assemble(raw, options=options)


def _cross_check_with_ns3(raw: RawGraph, path: Path, fmt: str) -> None:
    if fmt not in NS3_FILE_TYPES:
        raise TopologyError(
            f"{raw.where}: engine 'ns3' reads {', '.join(NS3_FILE_TYPES)} files, not {fmt}"
        )
    (result,) = read_with_ns3([(path, fmt)])
    check_agreement(raw, result)
    raw.notes.append(
        f"structure read by ns-3's TopologyReaderHelper ({result.file_type}) and checked "
        "against qkdnet's parser"
    )

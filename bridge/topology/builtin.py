"""The built-in real QKD networks: names, aliases and their data files.

Each network is a YAML file in `bridge/topology/data/` whose header cites the paper(s) and whose
nodes and links each carry a `ref` and, where we could not take a value from a source, an
`approximate: true` flag. The files say what is approximated and how.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bridge.topology.errors import TopologyError

#: Canonical name -> data file.
BUILTINS: dict[str, str] = {
    "secoqc-vienna": "secoqc_vienna.yaml",
    "tokyo-qkd": "tokyo_qkd.yaml",
    "swissquantum": "swissquantum.yaml",
    "beijing-shanghai": "beijing_shanghai.yaml",
}
#: Other spellings accepted (compared after lower-casing and mapping "_" and " " to "-").
ALIASES: dict[str, str] = {
    "secoqc": "secoqc-vienna",
    "vienna": "secoqc-vienna",
    "tokyo": "tokyo-qkd",
    "tokyo-qkd-network": "tokyo-qkd",
    "swiss-quantum": "swissquantum",
    "geneva": "swissquantum",
    "beijing-shanghai-backbone": "beijing-shanghai",
}


def builtin_names() -> list[str]:
    """Canonical names of the built-in networks."""
    return list(BUILTINS)


def canonical_name(spec: str) -> str | None:
    """The built-in's canonical name for `spec` (case-insensitive), or None if it is not one."""
    key = spec.strip().lower().replace("_", "-").replace(" ", "-")
    if key in BUILTINS:
        return key
    return ALIASES.get(key)


def builtin_path(name: str) -> Path:
    """The data file of a built-in network."""
    canonical = canonical_name(name)
    if canonical is None:
        raise TopologyError(f"{name}: not a built-in topology ({', '.join(BUILTINS)})")
    return Path(str(resources.files("bridge.topology") / "data" / BUILTINS[canonical]))

"""YAML as every qkdnet input file is read: PyYAML's safe loader, with duplicate keys refused.

One module that imports nothing of qkdnet, so every layer (scenario, topology, sweep, training
configs) reads its files the same way.
"""

from __future__ import annotations

from typing import Any

import yaml


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error.

    Why: YAML says keys are unique, but PyYAML keeps the last one silently, so `steps: 100`
    written twice ran 3 steps. Merge keys (`<<: *anchor`) still override as YAML intends."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first on line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, UniqueKeyLoader.construct_mapping
)


def load_unique_yaml(text: str) -> Any:
    """Parse `text` like `yaml.safe_load`, except that a key given twice in a mapping raises
    `yaml.constructor.ConstructorError` (a `yaml.YAMLError`) naming the key and both lines."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass

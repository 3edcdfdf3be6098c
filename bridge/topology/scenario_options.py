"""The scenario file's `topology_options:` block, validated by pydantic like the rest of it.

Kept apart from `options` so that `qkdnet --help` (which imports the topology CLI and its
defaults) does not import pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.topology.options import (
    CO_LOCATED_KM_DEFAULT,
    MAX_NODES_DEFAULT,
    ParallelLinks,
    TopologyOptions,
)


class TopologyOptionsConfig(BaseModel):
    """The scenario's `topology_options:` block (each field as in `TopologyOptions`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_link_km: float | None = Field(
        None, gt=0.0, allow_inf_nan=False, description="split longer links by trusted repeaters"
    )
    component: str | None = Field(
        None, min_length=1, description="'largest' or a node label: keep that connected part"
    )
    parallel_links: ParallelLinks = Field("merge", description="merge | keep parallel fibres")
    co_located_km: float = Field(
        CO_LOCATED_KM_DEFAULT, gt=0.0, allow_inf_nan=False, description="PoPs at one position"
    )
    max_nodes: int = Field(MAX_NODES_DEFAULT, ge=2, description="ceiling on topology size")

    def to_options(self, default_length_km: float | None) -> TopologyOptions:
        return TopologyOptions(
            default_length_km=default_length_km,
            co_located_km=self.co_located_km,
            parallel_links=self.parallel_links,
            component=self.component,
            max_link_km=self.max_link_km,
            max_nodes=self.max_nodes,
        )

"""Threshold-shared key relay over node-disjoint paths, and the single-path baseline.

A key K for endpoints (src, dst) is split into n shares (Shamir (t, n) or XOR n-of-n), one per
node-disjoint path, so each intermediate trusted node sees at most one share: fewer than t
compromised relays (on fewer than t paths) learn nothing about K. Each share carries a tag
HMAC-SHA256(mac_key, key_id | path | x | share) under an authentication key the endpoints
already share (QKD links are authenticated from a pre-shared secret, and so is this end-to-end
channel). A relay that alters a share cannot produce a valid tag, so the receiver discards it,
reports the path as lying, and reconstructs from any t shares with valid tags; with fewer than t
valid shares it refuses the key rather than accepting a wrong one.

`single_path_relay` is the baseline (the "no ABFT" mode): the key crosses every node of one path
in the clear of each trusted node, unauthenticated, so any relay on it learns and can alter it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx
import numpy as np

from control.abft.errors import ConfigurationError, KeyRelayError, SharingError
from control.abft.sharing import (
    Share,
    check_threshold,
    default_threshold,
    shamir_combine,
    shamir_split,
    xor_combine,
    xor_split,
)


class RelayBehaviour:
    """What a compromised relay does to a share passing through it (base: reads it only)."""

    name = "eavesdrop"

    def handle(self, share: TaggedShare, rng: np.random.Generator) -> TaggedShare | None:
        return share


class Tamper(RelayBehaviour):
    """Flips bits of the share (and optionally replaces the tag by a guess)."""

    name = "tamper"

    def __init__(self, forge_tag: bool = True) -> None:
        self.forge_tag = forge_tag

    def handle(self, share: TaggedShare, rng: np.random.Generator) -> TaggedShare | None:
        data = np.frombuffer(share.data, dtype=np.uint8) ^ rng.integers(
            1, 256, size=len(share.data), dtype=np.uint8
        )
        tag = rng.bytes(len(share.tag)) if self.forge_tag else share.tag
        return TaggedShare(share.path_index, share.x, data.tobytes(), tag)


class Drop(RelayBehaviour):
    name = "drop"

    def handle(self, share: TaggedShare, rng: np.random.Generator) -> TaggedShare | None:
        return None


@dataclass(frozen=True)
class TaggedShare:
    path_index: int
    x: int
    data: bytes
    tag: bytes


def share_tag(mac_key: bytes, key_id: bytes, path_index: int, x: int, data: bytes) -> bytes:
    header = b"qkdnet-share|" + key_id + b"|" + path_index.to_bytes(2, "big") + bytes([x])
    return hmac.new(mac_key, header + data, hashlib.sha256).digest()


@dataclass
class RelayResult:
    key: bytes | None
    used_paths: list[list[int]]
    lying_paths: list[int] = field(default_factory=list)
    missing_paths: list[int] = field(default_factory=list)
    observed: dict[int, list[TaggedShare]] = field(default_factory=dict)
    failure: str | None = None

    @property
    def delivered(self) -> bool:
        return self.key is not None


def disjoint_paths(
    graph: nx.Graph,
    src: int,
    dst: int,
    max_paths: int | None = None,
    trusted_links: Iterable[tuple[int, int]] | None = None,
) -> list[list[int]]:
    """Node-disjoint src-dst paths (shortest first) over the trusted links only, if given."""
    g = graph
    if trusted_links is not None:
        g = nx.Graph()
        g.add_nodes_from(graph.nodes)
        g.add_edges_from(trusted_links)
    if src not in g or dst not in g or src == dst:
        raise ConfigurationError(f"no relay between {src} and {dst} in this graph")
    if g.has_edge(src, dst):  # a direct link is its own (relay-free) path
        h = g.copy()
        h.remove_edge(src, dst)
        others = list(nx.node_disjoint_paths(h, src, dst)) if nx.has_path(h, src, dst) else []
        paths = [[src, dst]] + others
    else:
        paths = list(nx.node_disjoint_paths(g, src, dst)) if nx.has_path(g, src, dst) else []
    paths.sort(key=lambda p: (len(p), p))
    return paths[:max_paths] if max_paths else paths


class MultipathRelay:
    """Relays keys as tagged threshold shares over node-disjoint paths.

    `threshold` None is the project default (`control.abft.sharing.default_threshold`):
    max(2, n - 1) of the n paths given, so one failed path costs nothing and no single relay
    holds the key. Threshold 1 over several paths is refused unless `allow_single_share`.
    """

    def __init__(
        self,
        threshold: int | None = None,
        scheme: Literal["shamir", "xor"] = "shamir",
        *,
        allow_single_share: bool = False,
    ) -> None:
        if threshold is not None and threshold < 1:
            raise ConfigurationError(f"threshold must be >= 1, got {threshold}")
        if scheme not in ("shamir", "xor"):
            raise ConfigurationError(f"unknown sharing scheme {scheme!r}; use 'shamir' or 'xor'")
        self.threshold = threshold
        self.scheme = scheme
        self.allow_single_share = allow_single_share

    def threshold_for(self, n: int) -> int:
        """t used over n paths (XOR: all n)."""
        if self.scheme == "xor":
            return n
        t = default_threshold(n) if self.threshold is None else self.threshold
        if t > n:
            raise ConfigurationError(f"{n} disjoint paths cannot carry a threshold-{t} sharing")
        try:
            check_threshold(t, n, allow_single_share=self.allow_single_share)
        except SharingError as exc:
            raise ConfigurationError(str(exc)) from None
        return t

    def relay(
        self,
        key: bytes,
        paths: Sequence[Sequence[int]],
        mac_key: bytes,
        key_id: bytes,
        rng: np.random.Generator,
        compromised: Mapping[int, RelayBehaviour] | None = None,
    ) -> RelayResult:
        """Send `key` from paths[*][0] to paths[*][-1]; compromised relays act on their shares."""
        n = len(paths)
        t = self.threshold_for(n)
        compromised = dict(compromised or {})
        shares = xor_split(key, n, rng) if self.scheme == "xor" else shamir_split(key, n, t, rng)
        result = RelayResult(key=None, used_paths=[list(p) for p in paths])
        valid: list[Share] = []
        for index, (path, share) in enumerate(zip(paths, shares, strict=True)):
            msg: TaggedShare | None = TaggedShare(
                index, share.x, share.data, share_tag(mac_key, key_id, index, share.x, share.data)
            )
            for hop in path[1:-1]:
                behaviour = compromised.get(hop)
                if behaviour is None or msg is None:
                    continue
                result.observed.setdefault(hop, []).append(msg)
                msg = behaviour.handle(msg, rng)
            if msg is None:
                result.missing_paths.append(index)
                continue
            expected = share_tag(mac_key, key_id, index, msg.x, msg.data)
            if msg.x != share.x or not hmac.compare_digest(expected, msg.tag):
                result.lying_paths.append(index)
                continue
            valid.append(Share(msg.x, msg.data))
        if len(valid) < t:
            result.failure = (
                f"only {len(valid)} of {n} shares arrived intact (need {t}); "
                f"lying paths {result.lying_paths}, missing {result.missing_paths}"
            )
            return result
        result.key = xor_combine(valid, n) if self.scheme == "xor" else shamir_combine(valid, t)
        return result

    def relay_or_raise(
        self,
        key: bytes,
        paths: Sequence[Sequence[int]],
        mac_key: bytes,
        key_id: bytes,
        rng: np.random.Generator,
        compromised: Mapping[int, RelayBehaviour] | None = None,
    ) -> RelayResult:
        """Like `relay`, but a key that cannot be reconstructed raises KeyRelayError."""
        result = self.relay(key, paths, mac_key, key_id, rng, compromised)
        if result.key is None:
            raise KeyRelayError(result.failure or "key not delivered")
        return result


def single_path_relay(
    key: bytes,
    path: Sequence[int],
    rng: np.random.Generator,
    compromised: Mapping[int, RelayBehaviour] | None = None,
) -> RelayResult:
    """Baseline: the whole key hop by hop along one path, no sharing, no tag."""
    compromised = dict(compromised or {})
    result = RelayResult(key=None, used_paths=[list(path)])
    msg: TaggedShare | None = TaggedShare(0, 1, key, b"")
    for hop in path[1:-1]:
        behaviour = compromised.get(hop)
        if behaviour is None or msg is None:
            continue
        result.observed.setdefault(hop, []).append(msg)
        msg = behaviour.handle(msg, rng)
    if msg is None:
        result.missing_paths.append(0)
    else:
        result.key = msg.data
    return result

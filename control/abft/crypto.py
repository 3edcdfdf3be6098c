"""Signatures of the key-management nodes (Ed25519, via the `cryptography` package).

Why signatures and not only per-link MACs: view changes and state transfer forward other nodes'
messages (prepared certificates, checkpoint proofs, signed reports inside a proposal). A forwarded
message must convince a third node of its author, which a pairwise MAC cannot do without PBFT's
much more intricate MAC-only view change. Ed25519 signatures are deterministic, so runs stay
reproducible bit for bit. Keys are derived from the scenario seed: this is a simulation, and the
point is that a Byzantine node holds only its own private key, so it can equivocate but cannot
forge an honest node's message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGNATURE_BYTES = 64
_DOMAIN = b"qkdnet-abft-v1|"


class Signer:
    """One node's private signing key."""

    def __init__(self, node_id: int, private_key: Ed25519PrivateKey) -> None:
        self.node_id = node_id
        self._key = private_key

    def sign(self, body: bytes) -> bytes:
        return self._key.sign(_DOMAIN + body)

    def public_bytes(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class Verifier:
    """Public keys of every node, with a cache of signatures already checked.

    The cache matters because certificates are forwarded: the same prepare can be checked on
    receipt, again inside a view-change message and again inside a new-view message. Those
    re-checks concern the sequence numbers still in the window, so a few thousand entries hold
    them; 200,000 (the old limit) grew memory ~2.8 KB per six-node step for ~8,000 steps (issue 14).
    """

    def __init__(self, public_keys: Sequence[bytes], cache_limit: int = 8192) -> None:
        self._keys = [Ed25519PublicKey.from_public_bytes(k) for k in public_keys]
        self._cache: dict[bytes, bool] = {}
        self._cache_limit = cache_limit

    @property
    def n_nodes(self) -> int:
        return len(self._keys)

    def verify(self, node_id: int, body: bytes, signature: bytes) -> bool:
        """True iff `signature` is node_id's signature of `body`."""
        if not 0 <= node_id < len(self._keys) or len(signature) != SIGNATURE_BYTES:
            return False
        key = hashlib.sha256(node_id.to_bytes(4, "big") + signature + body).digest()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        try:
            self._keys[node_id].verify(signature, _DOMAIN + body)
            ok = True
        except InvalidSignature:
            ok = False
        if len(self._cache) >= self._cache_limit:
            self._cache.clear()
        self._cache[key] = ok
        return ok


def derive_signers(n_nodes: int, seed: int) -> list[Signer]:
    """Deterministic key pairs for nodes 0..n-1 from the scenario seed."""
    signers = []
    for node in range(n_nodes):
        material = hashlib.sha256(f"qkdnet-abft-key|{seed}|{node}".encode()).digest()
        signers.append(Signer(node, Ed25519PrivateKey.from_private_bytes(material)))
    return signers


def verifier_for(signers: Sequence[Signer]) -> Verifier:
    return Verifier([s.public_bytes() for s in signers])


def digest(data: bytes) -> bytes:
    """SHA-256, the digest used for values, states and reports."""
    return hashlib.sha256(data).digest()

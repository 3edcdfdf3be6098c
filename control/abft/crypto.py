"""Signatures of the key-management nodes (Ed25519, via PyNaCl / libsodium).

Why signatures and not only per-link MACs: view changes and state transfer forward other nodes'
messages (prepared certificates, checkpoint proofs, signed reports inside a proposal). A forwarded
message must convince a third node of its author, which a pairwise MAC cannot do without PBFT's
much more intricate MAC-only view change. Ed25519 signatures are deterministic, so runs stay
reproducible bit for bit. Keys are derived from the scenario seed: this is a simulation, and the
point is that a Byzantine node holds only its own private key, so it can equivocate but cannot
forge an honest node's message.

Why libsodium: every simulated node's signatures are made and checked in this one process (~4
per node per decision), and on the development machine libsodium verifies in ~50 us where
OpenSSL (the `cryptography` package) took ~110 us; both implement RFC 8032, so the keys and
signatures are the same bytes.

Why signatures made here are not verified again: every node's signing happens in this process,
and Ed25519 is correct (RFC 8032: a signature made with a key pair verifies under its public key,
always), so a (public key, body, signature) triple this process signed is known valid without
libsodium's ~45 us check. `Signer.sign` records the triple's digest; `Verifier.verify` accepts a
triple it finds there and verifies everything else: a tampered body or signature, a signature
claimed for another node's key, bytes from outside. The answers are the ones libsodium gives
(`tests/abft/test_crypto.py` checks both paths); only the CPU time changes. At six nodes the 27
distinct signatures of a decision were ~5 % of an ABFT step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32
_DOMAIN = b"qkdnet-abft-v1|"


def _triple_digest(public_key: bytes, body: bytes, signature: bytes) -> bytes:
    return hashlib.sha256(public_key + signature + body).digest()


class _SignedHere:
    """Digests of the (public key, body, signature) triples signed in this process, bounded
    (cleared when full: a triple no longer here is simply verified by libsodium)."""

    limit = 65536
    digests: set[bytes] = set()

    @classmethod
    def add(cls, digest_: bytes) -> None:
        if len(cls.digests) >= cls.limit:
            cls.digests.clear()
        cls.digests.add(digest_)


class Signer:
    """One node's private signing key (from a 32-byte RFC 8032 seed)."""

    def __init__(self, node_id: int, seed: bytes) -> None:
        self.node_id = node_id
        self._public, self._secret = crypto_sign_seed_keypair(seed)

    def sign(self, body: bytes) -> bytes:
        signature = crypto_sign(_DOMAIN + body, self._secret)[:SIGNATURE_BYTES]
        _SignedHere.add(_triple_digest(self._public, body, signature))
        return signature

    def public_bytes(self) -> bytes:
        return self._public


class Verifier:
    """Public keys of every node, with a cache of signatures already checked.

    The cache matters because certificates are forwarded: the same prepare can be checked on
    receipt, again inside a view-change message and again inside a new-view message. Those
    re-checks concern the sequence numbers still in the window, so a few thousand entries hold
    them; 200,000 (the old limit) grew memory ~2.8 KB per six-node step for ~8,000 steps (issue 14).
    """

    def __init__(self, public_keys: Sequence[bytes], cache_limit: int = 8192) -> None:
        for key in public_keys:
            if len(key) != PUBLIC_KEY_BYTES:
                raise ValueError(
                    f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes, got {len(key)}"
                )
        self._keys = [bytes(k) for k in public_keys]
        self._cache: dict[bytes, bool] = {}
        self._cache_limit = cache_limit

    @property
    def n_nodes(self) -> int:
        return len(self._keys)

    def verify(self, node_id: int, body: bytes, signature: bytes) -> bool:
        """True iff `signature` is node_id's signature of `body`."""
        if not 0 <= node_id < len(self._keys) or len(signature) != SIGNATURE_BYTES:
            return False
        public_key = self._keys[node_id]
        key = _triple_digest(public_key, body, signature)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if key in _SignedHere.digests:
            ok = True  # made in this process with this key: valid (see the module docstring)
        else:
            try:
                crypto_sign_open(signature + _DOMAIN + body, public_key)
                ok = True
            except BadSignatureError:
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
        signers.append(Signer(node, material))
    return signers


def verifier_for(signers: Sequence[Signer]) -> Verifier:
    return Verifier([s.public_bytes() for s in signers])


def digest(data: bytes) -> bytes:
    """SHA-256, the digest used for values, states and reports."""
    return hashlib.sha256(data).digest()

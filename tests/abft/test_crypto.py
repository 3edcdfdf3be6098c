"""The ABFT nodes' Ed25519 (libsodium) against RFC 8032 and against OpenSSL's implementation.

Why: the signatures decide which messages count; switching the library must not change a byte
(runs stay reproducible across the change) and must reject what RFC 8032 rejects."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.bindings import crypto_sign

from control.abft.crypto import _DOMAIN, Signer, Verifier, derive_signers, verifier_for

# RFC 8032, section 7.1, TEST 2 (one-byte message 0x72)
RFC_SECRET = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
RFC_PUBLIC = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
RFC_SIGNATURE = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)


def test_keys_and_signature_match_rfc_8032() -> None:
    signer = Signer(0, RFC_SECRET)
    assert signer.public_bytes() == RFC_PUBLIC
    assert crypto_sign(b"\x72", signer._secret)[:64] == RFC_SIGNATURE


@settings(max_examples=50, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), body=st.binary(max_size=300))
def test_same_signatures_as_openssl(seed: bytes, body: bytes) -> None:
    signer = Signer(1, seed)
    assert signer.sign(body) == Ed25519PrivateKey.from_private_bytes(seed).sign(_DOMAIN + body)


def test_verifier_accepts_authors_and_rejects_forgeries() -> None:
    signers = derive_signers(4, seed=7)
    verifier = verifier_for(signers)
    body = hashlib.sha256(b"vote").digest()
    signature = signers[2].sign(body)
    assert verifier.verify(2, body, signature)
    assert verifier.verify(2, body, signature)  # cached answer, same result
    assert not verifier.verify(1, body, signature)  # someone else's name
    assert not verifier.verify(2, body + b"x", signature)  # altered body
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verifier.verify(2, body, tampered)
    assert not verifier.verify(9, body, signature)  # no such node
    assert not verifier.verify(2, body, signature[:63])  # short signature


def test_verifier_refuses_malformed_public_keys() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Verifier([b"\x00" * 31])

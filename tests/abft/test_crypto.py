"""The ABFT nodes' Ed25519 (libsodium) against RFC 8032 and against OpenSSL's implementation.

Why: the signatures decide which messages count; switching the library must not change a byte
(runs stay reproducible across the change) and must reject what RFC 8032 rejects."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.bindings import crypto_sign, crypto_sign_open
from nacl.exceptions import BadSignatureError

from control.abft import crypto
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


class _CountingOpen:
    """libsodium's verification, counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, signed: bytes, public_key: bytes) -> bytes:
        self.calls += 1
        return crypto_sign_open(signed, public_key)


def test_signatures_made_here_are_known_valid_and_everything_else_is_verified(monkeypatch) -> None:
    """A triple signed in this process skips libsodium (Ed25519 is correct, so the answer is
    True either way); a changed body, signature or claimed author is still checked by it."""
    counting = _CountingOpen()
    monkeypatch.setattr(crypto, "crypto_sign_open", counting)
    signers = derive_signers(3, seed=11)
    body = b"prepare|view 0|seq 7"
    signature = signers[1].sign(body)
    assert verifier_for(signers).verify(1, body, signature)
    assert counting.calls == 0
    checks = [
        (0, body, signature),  # someone else's name
        (1, body + b"!", signature),  # altered body
        (1, body, bytes([signature[5] ^ 4]) + signature[:5] + signature[6:]),  # altered signature
    ]
    for node, b, sig in checks:
        assert not verifier_for(signers).verify(node, b, sig)
    assert counting.calls == len(checks)
    # a genuine signature made outside the Signer (not recorded) is verified, and holds
    outside = crypto_sign(_DOMAIN + b"from elsewhere", signers[2]._secret)[:64]
    assert verifier_for(signers).verify(2, b"from elsewhere", outside)
    assert counting.calls == len(checks) + 1


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=200),
    author=st.integers(0, 2),
    claimed=st.integers(0, 2),
    flip=st.one_of(st.none(), st.integers(0, 64 + 199)),
)
def test_verify_answers_as_libsodium_does(body: bytes, author: int, claimed: int, flip) -> None:
    """Whatever the triple, `Verifier.verify` gives libsodium's answer for it."""
    signers = derive_signers(3, seed=5)
    signature = signers[author].sign(body)
    if flip is not None and flip < 64:
        signature = signature[:flip] + bytes([signature[flip] ^ 1]) + signature[flip + 1 :]
    elif flip is not None and flip - 64 < len(body):
        i = flip - 64
        body = body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]
    try:
        crypto_sign_open(signature + _DOMAIN + body, signers[claimed].public_bytes())
        expected = True
    except BadSignatureError:
        expected = False
    assert (
        Verifier([s.public_bytes() for s in signers]).verify(claimed, body, signature) is expected
    )

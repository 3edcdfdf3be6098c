"""Wire encoding of protocol messages: round trips, and garbage from peers is rejected cleanly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from control.abft.crypto import derive_signers, verifier_for
from control.abft.errors import MessageDecodeError
from control.abft.messages import (
    AppMessage,
    Checkpoint,
    Commit,
    FetchState,
    Forward,
    NewView,
    Prepare,
    PreparedProof,
    PrePrepare,
    StateReply,
    Status,
    ViewChange,
    decode_envelope,
    decode_message,
    encode_envelope,
    encode_message,
    sign,
)

SIGNERS = derive_signers(4, seed=7)
VERIFIER = verifier_for(SIGNERS)
D = bytes(range(32))


def _examples():
    pp = sign(SIGNERS[0], PrePrepare(3, 9, b"value"))
    prep = sign(SIGNERS[1], Prepare(3, 9, PrePrepare(3, 9, b"value").digest))
    ck = sign(SIGNERS[2], Checkpoint(8, D))
    vc = ViewChange(4, 8, D, (ck,), (PreparedProof(pp, (prep,)),))
    return [
        PrePrepare(1, 2, b"abc"),
        PrePrepare(0, 1, b""),
        Prepare(1, 2, D),
        Commit(5, 2**40, D),
        Checkpoint(7, D),
        vc,
        NewView(4, (sign(SIGNERS[3], vc),), (sign(SIGNERS[0], PrePrepare(4, 9, b"value")),)),
        Status(2, 8, 9),
        FetchState(8, D),
        StateReply(8, b"snapshot bytes"),
        Forward((pp, prep)),
        AppMessage(b"payload"),
    ]


@pytest.mark.parametrize("message", _examples(), ids=lambda m: type(m).__name__)
def test_every_message_type_round_trips(message):
    assert decode_message(encode_message(message)) == message
    env = sign(SIGNERS[1], message)
    back = decode_envelope(encode_envelope(env))
    assert back == env and back.message == message and back.valid(VERIFIER)


def test_signatures_bind_author_and_content():
    env = sign(SIGNERS[1], Prepare(1, 2, D))
    assert env.valid(VERIFIER)
    forged_author = type(env)(2, env.body, env.signature)
    assert not forged_author.valid(VERIFIER)
    tampered = type(env)(1, encode_message(Prepare(1, 3, D)), env.signature)
    assert not tampered.valid(VERIFIER)


@pytest.mark.parametrize("message", _examples(), ids=lambda m: type(m).__name__)
def test_truncated_or_padded_bytes_raise_decode_error(message):
    body = encode_message(message)
    with pytest.raises(MessageDecodeError):
        decode_message(body[:-1])
    with pytest.raises(MessageDecodeError, match="trailing"):
        decode_message(body + b"\x00")


def test_unknown_type_is_named_in_the_error():
    with pytest.raises(MessageDecodeError, match="unknown protocol message type 99"):
        decode_message(bytes([99]))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=200))
def test_random_bytes_either_decode_exactly_or_raise_decode_error(data):
    try:
        env = decode_envelope(data)
    except MessageDecodeError:
        return  # the only exception a peer's garbage may cause
    assert encode_envelope(env) == data

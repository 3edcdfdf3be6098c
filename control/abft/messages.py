"""Weighted-PBFT protocol messages and their wire encoding.

Every message travels inside a `Signed` envelope (author id, encoded body, Ed25519 signature over
the body). Authorship comes from the signature, never from the transport's source address, so a
message forwarded by a third node (a prepare inside a view-change certificate, a checkpoint proof
sent to a lagging node) is as good as one received directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from control.abft.codec import Reader, Writer
from control.abft.crypto import SIGNATURE_BYTES, Signer, Verifier, digest
from control.abft.errors import MessageDecodeError

DIGEST_BYTES = 32
MAX_LIST = 100_000


@dataclass(frozen=True)
class PrePrepare:
    """The primary of `view` assigns `value` to sequence number `seq` (b"" = null request)."""

    view: int
    seq: int
    value: bytes

    @cached_property
    def digest(self) -> bytes:
        return digest(self.value)


@dataclass(frozen=True)
class Prepare:
    view: int
    seq: int
    digest: bytes


@dataclass(frozen=True)
class Commit:
    view: int
    seq: int
    digest: bytes


@dataclass(frozen=True)
class Checkpoint:
    """The author's application state after executing `seq` hashes to `state_digest`."""

    seq: int
    state_digest: bytes


@dataclass(frozen=True)
class PreparedProof:
    """A pre-prepare and prepares from a weighted quorum for the same (view, seq, digest)."""

    preprepare: Signed
    prepares: tuple[Signed, ...]


@dataclass(frozen=True)
class ViewChange:
    """Author wants `new_view`; carries its stable checkpoint and what it prepared after it."""

    new_view: int
    ckpt_seq: int
    ckpt_digest: bytes
    ckpt_proof: tuple[Signed, ...]
    prepared: tuple[PreparedProof, ...]


@dataclass(frozen=True)
class NewView:
    """The new primary's proof (view changes it used) and the pre-prepares they force."""

    view: int
    view_changes: tuple[Signed, ...]
    preprepares: tuple[Signed, ...]


@dataclass(frozen=True)
class Status:
    """ "I am stuck here": lets peers send a lagging node what it missed."""

    view: int
    low: int
    last_executed: int


@dataclass(frozen=True)
class FetchState:
    seq: int
    state_digest: bytes


@dataclass(frozen=True)
class StateReply:
    seq: int
    snapshot: bytes


@dataclass(frozen=True)
class Forward:
    """Signed messages of other nodes, relayed: a collector's quorum bundle, or what a lagging
    node missed."""

    messages: tuple[Signed, ...]

    def genuine(self, verifier: Verifier) -> tuple[tuple[Signed, ...], int]:
        """The envelopes whose signatures verify, and how many do not. Memoised per verifier:
        a decoded bundle is shared by all n - 1 simulated receivers of the same bytes."""
        memo = self.__dict__.get("_genuine")
        if memo is None or memo[0] is not verifier:
            good = tuple(env for env in self.messages if env.valid(verifier))
            memo = (verifier, good, len(self.messages) - len(good))
            self.__dict__["_genuine"] = memo
        return memo[1], memo[2]


@dataclass(frozen=True)
class AppMessage:
    """Payload for the replicated application (e.g. a node's signed step report)."""

    payload: bytes


Message = (
    PrePrepare
    | Prepare
    | Commit
    | Checkpoint
    | ViewChange
    | NewView
    | Status
    | FetchState
    | StateReply
    | Forward
    | AppMessage
)


@dataclass(frozen=True)
class Signed:
    """An encoded message body with its author and the author's signature over it."""

    sender: int
    body: bytes
    signature: bytes = field(repr=False)

    @cached_property
    def message(self) -> Message:
        return decode_message(self.body)

    def valid(self, verifier: Verifier) -> bool:
        """Checked once per envelope and verifier: a decoded envelope is shared by every
        simulated node that receives the same bytes (`decode_envelope`), and the answer is a
        pure function of the immutable fields and the verifier's keys."""
        memo = self.__dict__.get("_validity")
        if memo is not None and memo[0] is verifier:
            return memo[1]
        ok = verifier.verify(self.sender, self.body, self.signature)
        self.__dict__["_validity"] = (verifier, ok)
        return ok


def sign(signer: Signer, message: Message) -> Signed:
    body = encode_message(message)
    return Signed(signer.node_id, body, signer.sign(body))


# encoding -------------------------------------------------------------------------------------
_TAGS: dict[type, int] = {
    PrePrepare: 1,
    Prepare: 2,
    Commit: 3,
    Checkpoint: 4,
    ViewChange: 5,
    NewView: 6,
    Status: 7,
    FetchState: 8,
    StateReply: 9,
    Forward: 10,
    AppMessage: 11,
}
TYPE_NAMES = {tag: cls.__name__ for cls, tag in _TAGS.items()}


def message_type_name(body: bytes) -> str:
    """Name of the message type encoded in `body` (for per-type traffic statistics)."""
    return TYPE_NAMES.get(body[0], "unknown") if body else "empty"


def _write_signed(w: Writer, s: Signed) -> None:
    w.u16(s.sender).blob(s.body).raw(s.signature)


def _read_signed(r: Reader) -> Signed:
    sender = r.u16()
    body = r.blob()
    return Signed(sender, body, r.raw(SIGNATURE_BYTES))


def _write_signed_list(w: Writer, items: tuple[Signed, ...]) -> None:
    """A list of envelopes with each distinct body written once.

    Why: the lists on the wire are certificates - a quorum of PREPAREs, COMMITs or CHECKPOINTs
    that all sign the same body - so listing (sender, body index, signature) after the distinct
    bodies cuts a forwarded vote from ~119 bytes to 68 (the signature is then most of it). The
    decoded envelopes are the same `Signed` values, so nothing above the codec changes."""
    bodies: dict[bytes, int] = {}
    for s in items:
        bodies.setdefault(s.body, len(bodies))
    if len(bodies) > 0xFFFF:
        raise ValueError(
            f"a list of envelopes holds at most 65535 distinct bodies, not {len(bodies)}"
        )
    w.u32(len(items)).u16(len(bodies))
    for body in bodies:
        w.blob(body)
    for s in items:
        w.u16(s.sender).u16(bodies[s.body]).raw(s.signature)


def _read_count(r: Reader) -> int:
    count = r.u32()
    if count > MAX_LIST:
        raise MessageDecodeError(f"list of {count} items exceeds the limit of {MAX_LIST}")
    return count


def _read_signed_list(r: Reader) -> tuple[Signed, ...]:
    count = _read_count(r)
    n_bodies = r.u16()
    if n_bodies > count:
        raise MessageDecodeError(f"a list of {count} envelopes cannot have {n_bodies} bodies")
    bodies = [r.blob() for _ in range(n_bodies)]
    items = []
    for _ in range(count):
        sender, index = r.u16(), r.u16()
        if index >= n_bodies:
            raise MessageDecodeError(f"envelope body {index} of {n_bodies}")
        items.append(Signed(sender, bodies[index], r.raw(SIGNATURE_BYTES)))
    return tuple(items)


def encode_message(m: Message) -> bytes:
    w = Writer()
    w.u8(_TAGS[type(m)])
    match m:
        case PrePrepare():
            w.u32(m.view).u64(m.seq).blob(m.value)
        case Prepare() | Commit():
            w.u32(m.view).u64(m.seq).raw(_digest_field(m.digest))
        case Checkpoint():
            w.u64(m.seq).raw(_digest_field(m.state_digest))
        case ViewChange():
            w.u32(m.new_view).u64(m.ckpt_seq).raw(_digest_field(m.ckpt_digest))
            _write_signed_list(w, m.ckpt_proof)
            w.u32(len(m.prepared))
            for proof in m.prepared:
                _write_signed(w, proof.preprepare)
                _write_signed_list(w, proof.prepares)
        case NewView():
            w.u32(m.view)
            _write_signed_list(w, m.view_changes)
            _write_signed_list(w, m.preprepares)
        case Status():
            w.u32(m.view).u64(m.low).u64(m.last_executed)
        case FetchState():
            w.u64(m.seq).raw(_digest_field(m.state_digest))
        case StateReply():
            w.u64(m.seq).blob(m.snapshot)
        case Forward():
            _write_signed_list(w, m.messages)
        case AppMessage():
            w.blob(m.payload)
    return w.getvalue()


def _digest_field(value: bytes) -> bytes:
    if len(value) != DIGEST_BYTES:
        raise ValueError(f"a digest is {DIGEST_BYTES} bytes, got {len(value)}")
    return value


def decode_message(body: bytes) -> Message:
    """Parse a message body; MessageDecodeError on anything malformed."""
    r = Reader(body, "protocol message")
    tag = r.u8()
    m: Message
    if tag == 1:
        m = PrePrepare(r.u32(), r.u64(), r.blob())
    elif tag in (2, 3):
        cls = Prepare if tag == 2 else Commit
        m = cls(r.u32(), r.u64(), r.raw(DIGEST_BYTES))
    elif tag == 4:
        m = Checkpoint(r.u64(), r.raw(DIGEST_BYTES))
    elif tag == 5:
        new_view, ckpt_seq, ckpt_digest = r.u32(), r.u64(), r.raw(DIGEST_BYTES)
        proof = _read_signed_list(r)
        prepared = tuple(
            PreparedProof(_read_signed(r), _read_signed_list(r)) for _ in range(_read_count(r))
        )
        m = ViewChange(new_view, ckpt_seq, ckpt_digest, proof, prepared)
    elif tag == 6:
        m = NewView(r.u32(), _read_signed_list(r), _read_signed_list(r))
    elif tag == 7:
        m = Status(r.u32(), r.u64(), r.u64())
    elif tag == 8:
        m = FetchState(r.u64(), r.raw(DIGEST_BYTES))
    elif tag == 9:
        m = StateReply(r.u64(), r.blob())
    elif tag == 10:
        m = Forward(_read_signed_list(r))
    elif tag == 11:
        m = AppMessage(r.blob())
    else:
        raise MessageDecodeError(f"unknown protocol message type {tag}")
    r.done()
    return m


def encode_envelope(s: Signed) -> bytes:
    """Wire form of a signed message (what the transport carries)."""
    w = Writer()
    _write_signed(w, s)
    return w.getvalue()


_DECODED: dict[bytes, Signed] = {}
_DECODED_LIMIT = 4096  # entries
_DECODED_BYTES_LIMIT = 16 << 20  # and bytes held (a 200-node batch is ~40 kB)
_decoded_bytes = 0


def decode_envelope(payload: bytes) -> Signed:
    """Parse the wire form; the body is decoded too, so a bad body fails here.

    Memoised on the bytes: every simulated node runs in this one process, and a broadcast or a
    forwarded certificate reaches n of them with the same bytes. Parsing is a pure function of
    the bytes and `Signed` is immutable, so sharing the result changes nothing but the cost."""
    hit = _DECODED.get(payload)
    if hit is not None:
        return hit
    r = Reader(payload, "envelope")
    s = _read_signed(r)
    r.done()
    _ = s.message
    global _decoded_bytes
    if len(_DECODED) >= _DECODED_LIMIT or _decoded_bytes > _DECODED_BYTES_LIMIT:
        _DECODED.clear()
        _decoded_bytes = 0
    _DECODED[payload] = s
    _decoded_bytes += len(payload)
    return s

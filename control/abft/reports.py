"""Per-step node reports and the batches of them that consensus orders.

A node's report for a step holds, per named quantity (e.g. "qber", "buffer_bits"), one float per
link (NaN where the node does not report that link) and one trust vote per link (+1 trust,
-1 distrust, 0 abstain). The node signs it; the primary orders a *batch* of signed reports, so it
can leave reports out (at most f, the batch needs n - f) but cannot alter one.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from control.abft.codec import Reader, Writer
from control.abft.errors import MessageDecodeError
from control.abft.messages import Signed, decode_envelope, encode_envelope

_F64 = np.dtype("<f8")


@dataclass(frozen=True, eq=False)
class NodeReport:
    """What node `node` claims about every link at `step`."""

    node: int
    step: int
    values: Mapping[str, np.ndarray]
    votes: np.ndarray

    def encode(self) -> bytes:
        """Sparse: only the links the node says anything about (an endpoint reports its own
        links, so a report costs O(degree) bytes, not O(links) - what keeps a batch O(n)).

        Compact, because the primary's proposal carries n of them to n nodes: the quantity
        names travel as a 4-byte fingerprint (the receiver knows which it expects) and link
        indices take 2 bytes when the network has at most 65,535 links."""
        names = sorted(self.values)
        arrays = [np.asarray(self.values[name], dtype=_F64) for name in names]
        votes = np.asarray(self.votes, dtype=np.int8)
        said = votes != 0
        for arr in arrays:
            said = said | ~np.isnan(arr)
        links = np.flatnonzero(said).astype(_index_dtype(len(votes)))
        w = Writer().u16(self.node).u64(self.step).u32(len(votes))
        w.u8(len(names)).u32(quantities_fingerprint(names))
        w.u32(len(links)).raw(links.tobytes())
        for arr in arrays:
            w.raw(arr[links].tobytes())
        w.raw(votes[links].tobytes())
        return w.getvalue()

    @classmethod
    def decode(cls, payload: bytes, quantities: Sequence[str], n_links: int) -> NodeReport:
        """Parse and check against the expected quantities and link count."""
        r = Reader(payload, "node report")
        node, step, links, count = r.u16(), r.u64(), r.u32(), r.u8()
        if links != n_links:
            raise MessageDecodeError(f"report covers {links} links, expected {n_links}")
        names = sorted(quantities)
        if count != len(names) or r.u32() != quantities_fingerprint(names):
            raise MessageDecodeError(f"report quantities differ from the expected {names}")
        said = r.u32()
        if said > n_links:
            raise MessageDecodeError(f"report names {said} links of {n_links}")
        width = _index_dtype(n_links)
        index = np.frombuffer(r.raw(width.itemsize * said), dtype=width).astype(np.int64)
        if said and (np.any(np.diff(index) <= 0) or index[-1] >= n_links):
            raise MessageDecodeError("report link indices must be increasing and in range")
        values = {}
        for name in names:
            arr = np.frombuffer(r.raw(8 * said), dtype=_F64).astype(np.float64)
            if np.any(np.isinf(arr)):
                raise MessageDecodeError(f"report quantity {name!r} contains infinities")
            full = np.full(n_links, np.nan)
            full[index] = arr
            values[name] = full
        sparse_votes = np.frombuffer(r.raw(said), dtype=np.int8).astype(np.int64)
        if np.any(np.abs(sparse_votes) > 1):
            raise MessageDecodeError("report votes must be -1, 0 or +1")
        votes = np.zeros(n_links, dtype=np.int64)
        votes[index] = sparse_votes
        r.done()
        return cls(node, step, values, votes)


def quantities_fingerprint(names: Sequence[str]) -> int:
    """CRC-32 of the sorted quantity names: a report and its reader must agree on them."""
    return zlib.crc32("\0".join(sorted(names)).encode())


def _index_dtype(n_links: int) -> np.dtype:
    return np.dtype("<u2") if n_links <= 0xFFFF else np.dtype("<u4")


def report_message(payload: bytes) -> bytes:
    """Application payload carrying an encoded report (tagged, so other kinds can coexist)."""
    return b"R" + payload


def report_payload(app_payload: bytes) -> bytes | None:
    """The report inside an application payload, or None if it is another kind."""
    return app_payload[1:] if app_payload[:1] == b"R" else None


@dataclass(frozen=True)
class ReportBatch:
    """Signed reports for one step, as proposed by the primary (sorted by sender), plus `late`:
    signed reports of earlier steps that their own batch left out (see ledger.py: censorship)."""

    step: int
    reports: tuple[Signed, ...]
    late: tuple[Signed, ...] = ()

    def encode(self) -> bytes:
        w = Writer().u8(0xB8).u64(self.step).u32(len(self.reports))
        for env in self.reports:
            w.blob(encode_envelope(env))
        w.u32(len(self.late))
        for env in self.late:
            w.blob(encode_envelope(env))
        return w.getvalue()

    @classmethod
    def decode(cls, value: bytes) -> ReportBatch:
        r = Reader(value, "report batch")
        if r.u8() != 0xB8:
            raise MessageDecodeError("not a report batch")
        step, count = r.u64(), r.u32()
        if count > 65535:
            raise MessageDecodeError(f"report batch claims {count} reports")
        reports = tuple(decode_envelope(r.blob()) for _ in range(count))
        late_count = r.u32()
        if late_count > 65535 * 16:
            raise MessageDecodeError(f"report batch claims {late_count} late reports")
        late = tuple(decode_envelope(r.blob()) for _ in range(late_count))
        r.done()
        return cls(step, reports, late)

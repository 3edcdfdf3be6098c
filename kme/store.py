"""The key store of one pair of SAEs: the key the simulated network delivered for their demand(s),
cut into keys of the size an application asks for, each handed out exactly once to each side.

ETSI GS QKD 014's model: the master SAE asks its KME for keys (enc_keys) and gets key IDs and key
bytes; it tells the slave the IDs; the slave asks its own KME for those IDs (dec_keys) and gets the
same bytes. Both KMEs hold the same key because the QKD network put it there. Here the two KMEs
are one process, so one store per SAE pair stands for both ends' copies:

  delivered blocks --enc_keys--> awaiting the slave --dec_keys--> gone
  (the pool)                     (by key ID)

Every byte is accounted for: delivered = handed to masters + still in the pool + overflowed
(arrived while the pool was full); `check_accounting` asserts it, and the load test uses it to
show that no key is lost or handed out twice.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field

#: Namespace of key IDs: uuid5(namespace, "<pair>/<demand>/<sim key id>/<offset>/<bytes>") makes
#: IDs unique per key and the same in every run with the same seed (determinism).
KEY_ID_NAMESPACE = uuid.UUID("8f6a3c1e-5b2d-4e7a-9c10-2f4b6d8e0a13")


class StoreEmptyError(Exception):
    """Not enough key in the store for the request (the API answers 503)."""


class UnknownKeysError(Exception):
    """Key IDs not waiting for this slave (never issued, already fetched, or someone else's)."""

    def __init__(self, key_ids: list[str]) -> None:
        super().__init__(f"{len(key_ids)} key ID(s) not found")
        self.key_ids = key_ids


@dataclass
class _Block:
    demand: int
    sim_key_id: int
    data: bytes
    offset: int = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.offset


@dataclass(frozen=True)
class IssuedKey:
    """A key handed to a master and waiting for its slave."""

    key_id: str
    key: bytes
    master: str
    slave: str


@dataclass
class StoreCounters:
    """Bytes and keys through one store (all cumulative)."""

    delivered_bytes: int = 0
    delivered_blocks: int = 0
    overflowed_bytes: int = 0
    issued_keys: int = 0  # handed to a master (enc_keys)
    issued_bytes: int = 0
    claimed_keys: int = 0  # handed to the slave (dec_keys)
    claimed_bytes: int = 0
    empty_answers: int = 0  # enc_keys answered 503


@dataclass
class PairKeyStore:
    """Key shared by SAEs `sae_a` and `sae_b` (either may be master), from demands `demands`."""

    sae_a: str
    sae_b: str
    demands: tuple[int, ...]
    capacity_bytes: int = 64 * 1024 * 1024
    counters: StoreCounters = field(default_factory=StoreCounters)
    _pool: deque[_Block] = field(default_factory=deque)
    _pool_bytes: int = 0
    _awaiting: dict[str, IssuedKey] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.sae_a}~{self.sae_b}"

    @property
    def pool_bytes(self) -> int:
        """Key bytes not yet handed to anyone."""
        return self._pool_bytes

    @property
    def awaiting_keys(self) -> int:
        return len(self._awaiting)

    def add_block(self, demand: int, sim_key_id: int, data: bytes) -> None:
        """Key the simulation delivered (and confirmed) for `demand`."""
        self.counters.delivered_bytes += len(data)
        self.counters.delivered_blocks += 1
        room = self.capacity_bytes - self._pool_bytes
        if len(data) > room:
            self.counters.overflowed_bytes += len(data) - max(room, 0)
            data = data[: max(room, 0)]
        if data:
            self._pool.append(_Block(demand, sim_key_id, bytes(data)))
            self._pool_bytes += len(data)

    def stored_keys(self, size_bytes: int) -> int:
        return self._pool_bytes // size_bytes

    def issue(self, master: str, slave: str, number: int, size_bytes: int) -> list[IssuedKey]:
        """Take `number` keys of `size_bytes` from the pool for `master`; all or none."""
        if number * size_bytes > self._pool_bytes:
            self.counters.empty_answers += 1
            raise StoreEmptyError(
                f"{self._pool_bytes * 8} key bits stored, {number * size_bytes * 8} asked"
            )
        out = []
        for _ in range(number):
            first = self._pool[0]
            key_id = str(
                uuid.uuid5(
                    KEY_ID_NAMESPACE,
                    f"{self.name}/{first.demand}/{first.sim_key_id}/{first.offset}/{size_bytes}",
                )
            )
            key = self._take(size_bytes)
            issued = IssuedKey(key_id, key, master, slave)
            self._awaiting[key_id] = issued
            out.append(issued)
        self.counters.issued_keys += number
        self.counters.issued_bytes += number * size_bytes
        return out

    def _take(self, n: int) -> bytes:
        parts = []
        while n > 0:
            block = self._pool[0]
            take = min(n, block.left)
            parts.append(block.data[block.offset : block.offset + take])
            block.offset += take
            n -= take
            self._pool_bytes -= take
            if block.left == 0:
                self._pool.popleft()
        return b"".join(parts)

    def awaiting(self, key_id: str) -> IssuedKey | None:
        """The key issued under `key_id` if its slave has not fetched it yet."""
        return self._awaiting.get(key_id)

    def claim(self, master: str, slave: str, key_ids: list[str]) -> list[IssuedKey]:
        """The keys `master` was given for `slave` under `key_ids`; all or none, each once."""
        missing = [
            k
            for k in key_ids
            if k not in self._awaiting
            or self._awaiting[k].master != master
            or self._awaiting[k].slave != slave
        ]
        if missing or len(set(key_ids)) != len(key_ids):
            raise UnknownKeysError(missing or [k for k in key_ids if key_ids.count(k) > 1])
        out = [self._awaiting.pop(k) for k in key_ids]
        self.counters.claimed_keys += len(out)
        self.counters.claimed_bytes += sum(len(k.key) for k in out)
        return out

    def check_accounting(self) -> None:
        """Every delivered byte is handed out, still stored, or counted as overflow."""
        c = self.counters
        total = c.issued_bytes + self._pool_bytes + c.overflowed_bytes
        if total != c.delivered_bytes:
            raise AssertionError(
                f"store {self.name}: delivered {c.delivered_bytes} B != issued {c.issued_bytes}"
                f" + stored {self._pool_bytes} + overflowed {c.overflowed_bytes}"
            )

"""A small binary codec (struct-based) for protocol messages.

Messages become bytes so that the simulated classical network can carry them as packets whose size
is the real encoded size. Every read is bounds-checked: a truncated or padded buffer from a
(possibly Byzantine) peer raises MessageDecodeError instead of producing a half-parsed message.
"""

from __future__ import annotations

import struct

from control.abft.errors import MessageDecodeError

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_F64 = struct.Struct(">d")


class Writer:
    """Appends big-endian fields to a growing buffer."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, value: int) -> Writer:
        self._parts.append(_U8.pack(value))
        return self

    def u16(self, value: int) -> Writer:
        self._parts.append(_U16.pack(value))
        return self

    def u32(self, value: int) -> Writer:
        self._parts.append(_U32.pack(value))
        return self

    def u64(self, value: int) -> Writer:
        self._parts.append(_U64.pack(value))
        return self

    def f64(self, value: float) -> Writer:
        self._parts.append(_F64.pack(value))
        return self

    def raw(self, data: bytes) -> Writer:
        """Fixed-size field: the reader must know the length."""
        self._parts.append(bytes(data))
        return self

    def blob(self, data: bytes) -> Writer:
        """Variable-size field, u32 length prefix."""
        self._parts.append(_U32.pack(len(data)))
        self._parts.append(bytes(data))
        return self

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    """Reads what Writer wrote; any overrun or leftover is a MessageDecodeError."""

    def __init__(self, data: bytes, what: str = "message") -> None:
        self._data = memoryview(bytes(data))
        self._pos = 0
        self._what = what

    def _take(self, size: int) -> memoryview:
        end = self._pos + size
        if size < 0 or end > len(self._data):
            raise MessageDecodeError(
                f"truncated {self._what}: wanted {size} bytes at offset {self._pos}, "
                f"have {len(self._data) - self._pos}"
            )
        view = self._data[self._pos : end]
        self._pos = end
        return view

    def u8(self) -> int:
        return _U8.unpack(self._take(1))[0]

    def u16(self) -> int:
        return _U16.unpack(self._take(2))[0]

    def u32(self) -> int:
        return _U32.unpack(self._take(4))[0]

    def u64(self) -> int:
        return _U64.unpack(self._take(8))[0]

    def f64(self) -> float:
        return _F64.unpack(self._take(8))[0]

    def raw(self, size: int) -> bytes:
        return bytes(self._take(size))

    def blob(self) -> bytes:
        return bytes(self._take(self.u32()))

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def done(self) -> None:
        if self._pos != len(self._data):
            raise MessageDecodeError(
                f"{self._what} has {len(self._data) - self._pos} unexpected trailing bytes"
            )

"""Gymnasium spaces and values <-> ns3-gym protobuf messages.

A `Codec` is built once per space and then encodes/decodes every value of that space, so the
per-step path does no space inspection. Both sides use them: the simulation builds codecs from
its env's own spaces (encode observations, decode actions back to the env's native types); the
agent rebuilds spaces from the wire descriptions with `space_from_pb` and builds codecs from those.

What the wire can and cannot say (ns3-gym's schema):
- Discrete(n, start=s): the wire has only n; values travel as `value - s`, so the agent sees
  Discrete(n) and the simulation adds s back to actions.
- Box: ONE scalar low/high (float32) for the whole box plus a dtype and shape. A Box with
  per-element bounds is sent as the tightest scalar box that contains it (low = min(low),
  high = max(high), rounded outward to float32); the agent reconstructs
  Box(low, high, shape, dtype) with those scalars, i.e. a superset of the original. The
  per-element bounds are lost (CartPole's observation box arrives as [-inf, inf]).
- Box dtypes: signed ints -> INT (int32), unsigned ints and bool -> UINT (uint32), float16/32 ->
  FLOAT (float32), float64 -> DOUBLE. The agent reconstructs int32/uint32/float32/float64 boxes.
  Values that do not fit the wire type (an int64 beyond int32) raise `Ns3GymSpaceError`.
- MultiBinary -> Box(0, 1, shape, UINT); MultiDiscrete(nvec) -> Tuple of Discrete(n) over the
  flattened nvec. The agent sees those wire forms; the simulation converts actions back.
- Tuple and Dict nest; a Dict element's `name` is its key. Data is decoded by key, not position.
- Other spaces (Text, Graph, Sequence, OneOf) cannot be expressed and raise `Ns3GymSpaceError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from google.protobuf.message import Message

from bridge.ns3gym import schema as pb
from bridge.ns3gym.errors import Ns3GymProtocolError, Ns3GymSpaceError
from bridge.ns3gym.schema import Dtype, SpaceType

WIRE_NUMPY_DTYPE: dict[Dtype, np.dtype] = {
    Dtype.INT: np.dtype(np.int32),
    Dtype.UINT: np.dtype(np.uint32),
    Dtype.FLOAT: np.dtype(np.float32),
    Dtype.DOUBLE: np.dtype(np.float64),
}
DATA_FIELD: dict[Dtype, str] = {
    Dtype.INT: "intData",
    Dtype.UINT: "uintData",
    Dtype.FLOAT: "floatData",
    Dtype.DOUBLE: "doubleData",
}
_PAYLOAD: dict[SpaceType, tuple[type[Message], type[Message]]] = {
    SpaceType.Discrete: (pb.DiscreteSpace, pb.DiscreteDataContainer),
    SpaceType.Box: (pb.BoxSpace, pb.BoxDataContainer),
    SpaceType.Tuple: (pb.TupleSpace, pb.TupleDataContainer),
    SpaceType.Dict: (pb.DictSpace, pb.DictDataContainer),
}
_INT32 = np.iinfo(np.int32)


def wire_dtype(dtype: np.dtype) -> Dtype:
    """The wire Dtype a numpy dtype travels as (see module docstring)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "i":
        return Dtype.INT
    if dtype.kind in "ub":
        return Dtype.UINT
    if dtype.kind == "f":
        return Dtype.DOUBLE if dtype.itemsize > 4 else Dtype.FLOAT
    raise Ns3GymSpaceError(f"Box dtype {dtype} has no ns3-gym wire type (int, uint, float)")


def _unpack(any_msg: Message, cls: type[Message], what: str) -> Message:
    """Unpack an `Any`, insisting on the expected type URL (a wrong one is a protocol error)."""
    out = cls()
    if not any_msg.Unpack(out):
        got = any_msg.type_url or "nothing"
        raise Ns3GymProtocolError(f"{what} carries {got}, expected {pb.type_url(cls)}")
    return out


def _unpack_container(dc: Message, expected: SpaceType, what: str) -> Message:
    if dc.type != expected:
        raise Ns3GymProtocolError(
            f"{what} is a {_space_type_name(dc.type)} container, expected {expected.name}"
        )
    return _unpack(dc.data, _PAYLOAD[expected][1], what)


def _space_type_name(value: int) -> str:
    try:
        return SpaceType(value).name
    except ValueError:
        return f"unknown space type {value}"


class Codec:
    """Converts the values of one space to and from `DataContainer` messages."""

    space: gym.Space

    def describe(self, name: str = "") -> Message:
        """The `SpaceDescription` of this space."""
        raise NotImplementedError

    def encode(self, value: Any, name: str = "") -> Message:
        """A `DataContainer` holding `value`; `Ns3GymSpaceError` if it does not fit the space."""
        raise NotImplementedError

    def decode(self, dc: Message, what: str = "data") -> Any:
        """The value in `dc`; `Ns3GymProtocolError` if `dc` does not match this space."""
        raise NotImplementedError


class DiscreteCodec(Codec):
    """Discrete(n, start): the wire carries `value - start` as int32."""

    def __init__(self, space: gym.spaces.Discrete):
        self.space = space
        self.n = int(space.n)
        self.start = int(space.start)
        if not 0 < self.n <= _INT32.max:
            raise Ns3GymSpaceError(f"Discrete({self.n}) does not fit the wire's int32 n")

    def describe(self, name: str = "") -> Message:
        desc = pb.SpaceDescription(type=SpaceType.Discrete, name=name)
        desc.space.Pack(pb.DiscreteSpace(n=self.n))
        return desc

    def encode(self, value: Any, name: str = "") -> Message:
        index = _as_int(value, "Discrete value") - self.start
        if not 0 <= index < self.n:
            raise Ns3GymSpaceError(f"value {index + self.start} is outside {self.space}")
        dc = pb.DataContainer(type=SpaceType.Discrete, name=name)
        dc.data.Pack(pb.DiscreteDataContainer(data=index))
        return dc

    def decode(self, dc: Message, what: str = "data") -> int:
        index = _unpack_container(dc, SpaceType.Discrete, what).data
        if not 0 <= index < self.n:
            raise Ns3GymProtocolError(f"{what}: discrete value {index} outside Discrete({self.n})")
        return index + self.start


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        arr = np.asarray(value)
        if arr.shape != () or arr.dtype.kind not in "iu":
            raise Ns3GymSpaceError(f"{what} must be an integer, got {value!r}")
        value = arr.item()
    return int(value)


def _scalar_bounds(low: np.ndarray, high: np.ndarray, wire: Dtype) -> tuple[float, float]:
    """Tightest float32 scalars with low <= every low[i] and high >= every high[i]."""
    lo = float(np.min(low)) if low.size else 0.0
    hi = float(np.max(high)) if high.size else 0.0
    if wire == Dtype.INT:
        lo, hi = max(lo, float(_INT32.min)), min(hi, float(_INT32.max))
    elif wire == Dtype.UINT:
        lo, hi = max(lo, 0.0), min(hi, float(np.iinfo(np.uint32).max))
    lo32, hi32 = np.float32(lo), np.float32(hi)
    if float(lo32) > lo:
        lo32 = np.nextafter(lo32, np.float32(-np.inf))
    if float(hi32) < hi:
        hi32 = np.nextafter(hi32, np.float32(np.inf))
    return float(lo32), float(hi32)


class BoxCodec(Codec):
    """Box: data flattened into the repeated field of its wire dtype, with its shape."""

    def __init__(self, space: gym.spaces.Box | gym.spaces.MultiBinary):
        self.space = space
        self.shape = tuple(int(d) for d in space.shape)
        self.size = math.prod(self.shape)
        self.dtype = np.dtype(space.dtype)
        binary = isinstance(space, gym.spaces.MultiBinary)
        self.wire = Dtype.UINT if binary else wire_dtype(self.dtype)
        self.wire_np = WIRE_NUMPY_DTYPE[self.wire]
        self.field = DATA_FIELD[self.wire]
        if binary:
            low, high = np.zeros(self.shape), np.ones(self.shape)
        else:
            low, high = np.asarray(space.low), np.asarray(space.high)
        self.low, self.high = _scalar_bounds(low, high, self.wire)
        self._is_binary = binary or self.dtype.kind == "b"

    def describe(self, name: str = "") -> Message:
        desc = pb.SpaceDescription(type=SpaceType.Box, name=name)
        desc.space.Pack(
            pb.BoxSpace(low=self.low, high=self.high, dtype=self.wire, shape=self.shape)
        )
        return desc

    def encode(self, value: Any, name: str = "") -> Message:
        arr = np.asarray(value)
        if arr.shape != self.shape:
            if arr.size != self.size:
                raise Ns3GymSpaceError(
                    f"value of shape {arr.shape} does not fit a Box of shape {self.shape}"
                )
            arr = arr.reshape(self.shape)
        if arr.dtype != self.wire_np:
            self._check_castable(arr)
        box = pb.BoxDataContainer(dtype=self.wire, shape=self.shape)
        getattr(box, self.field).extend(arr.astype(self.wire_np, copy=False).ravel().tolist())
        dc = pb.DataContainer(type=SpaceType.Box, name=name)
        dc.data.Pack(box)
        return dc

    def _check_castable(self, arr: np.ndarray) -> None:
        """Refuse values that casting to the wire dtype would change (ints out of range...)."""
        if arr.dtype.kind not in "iubf":
            raise Ns3GymSpaceError(f"Box value of dtype {arr.dtype} is not numeric")
        if self.wire_np.kind == "f" or not arr.size:
            return
        if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
            raise Ns3GymSpaceError(f"non-integer values for an integer Box ({self.dtype})")
        info = np.iinfo(self.wire_np)
        if arr.min() < info.min or arr.max() > info.max:
            raise Ns3GymSpaceError(
                f"Box values in [{arr.min()}, {arr.max()}] do not fit the wire's {info.dtype}"
            )

    def decode(self, dc: Message, what: str = "data") -> np.ndarray:
        box = _unpack_container(dc, SpaceType.Box, what)
        field = DATA_FIELD.get(box.dtype)
        if field is None:  # NoDType: use whichever field holds the data (ns3-gym reads floats)
            filled = [f for f in DATA_FIELD.values() if len(getattr(box, f))]
            if len(filled) > 1:
                raise Ns3GymProtocolError(f"{what}: Box data without dtype fills {filled}")
            field = filled[0] if filled else DATA_FIELD[self.wire]
        values = getattr(box, field)
        if len(values) != self.size:
            raise Ns3GymProtocolError(
                f"{what}: Box data has {len(values)} values, the space's shape {self.shape} "
                f"needs {self.size}"
            )
        declared = tuple(box.shape)
        if declared and math.prod(declared) != self.size:
            raise Ns3GymProtocolError(
                f"{what}: Box data declares shape {declared}, the space's shape is {self.shape}"
            )
        arr = np.array(values, dtype=WIRE_NUMPY_DTYPE[Dtype(_field_dtype(field))])
        arr = arr.reshape(self.shape)
        if self._is_binary:
            if np.any((arr != 0) & (arr != 1)):
                raise Ns3GymProtocolError(f"{what}: values other than 0/1 for a bool/binary Box")
        elif self.dtype.kind in "iu" and arr.size and arr.dtype != self.dtype:
            if arr.dtype.kind == "f" and (
                not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))
            ):
                raise Ns3GymProtocolError(f"{what}: non-integer values for a {self.dtype} Box")
            info = np.iinfo(self.dtype)
            if arr.min() < info.min or arr.max() > info.max:
                raise Ns3GymProtocolError(f"{what}: Box values do not fit {self.dtype}")
        return arr.astype(self.dtype, copy=False)


def _field_dtype(field: str) -> Dtype:
    return next(d for d, f in DATA_FIELD.items() if f == field)


class TupleCodec(Codec):
    """Tuple: one element per sub-space, in order."""

    def __init__(self, space: gym.spaces.Tuple):
        self.space = space
        self.children = [codec_for(s) for s in space.spaces]

    def describe(self, name: str = "") -> Message:
        desc = pb.SpaceDescription(type=SpaceType.Tuple, name=name)
        desc.space.Pack(pb.TupleSpace(element=[c.describe() for c in self.children]))
        return desc

    def encode(self, value: Any, name: str = "") -> Message:
        items = tuple(value)
        if len(items) != len(self.children):
            raise Ns3GymSpaceError(
                f"Tuple value has {len(items)} elements, the space has {len(self.children)}"
            )
        dc = pb.DataContainer(type=SpaceType.Tuple, name=name)
        elements = [c.encode(v) for c, v in zip(self.children, items, strict=True)]
        dc.data.Pack(pb.TupleDataContainer(element=elements))
        return dc

    def decode(self, dc: Message, what: str = "data") -> tuple:
        elements = _unpack_container(dc, SpaceType.Tuple, what).element
        if len(elements) != len(self.children):
            raise Ns3GymProtocolError(
                f"{what}: Tuple data has {len(elements)} elements, the space has "
                f"{len(self.children)}"
            )
        return tuple(
            c.decode(e, f"{what}[{i}]")
            for i, (c, e) in enumerate(zip(self.children, elements, strict=True))
        )


class DictCodec(Codec):
    """Dict: one named element per key (the element's `name` is the key)."""

    def __init__(self, space: gym.spaces.Dict):
        self.space = space
        self.children = {str(k): codec_for(s) for k, s in space.spaces.items()}
        if len(self.children) != len(space.spaces):
            raise Ns3GymSpaceError(f"Dict keys {list(space.spaces)} are not distinct as strings")

    def describe(self, name: str = "") -> Message:
        desc = pb.SpaceDescription(type=SpaceType.Dict, name=name)
        desc.space.Pack(pb.DictSpace(element=[c.describe(k) for k, c in self.children.items()]))
        return desc

    def encode(self, value: Any, name: str = "") -> Message:
        if not isinstance(value, Mapping):
            raise Ns3GymSpaceError(f"Dict value must be a mapping, got {type(value).__name__}")
        by_name = {str(k): v for k, v in value.items()}
        if by_name.keys() != self.children.keys():
            raise Ns3GymSpaceError(
                f"Dict value has keys {sorted(by_name)}, the space has {sorted(self.children)}"
            )
        dc = pb.DataContainer(type=SpaceType.Dict, name=name)
        elements = [c.encode(by_name[k], k) for k, c in self.children.items()]
        dc.data.Pack(pb.DictDataContainer(element=elements))
        return dc

    def decode(self, dc: Message, what: str = "data") -> dict[str, Any]:
        elements = _unpack_container(dc, SpaceType.Dict, what).element
        names = [e.name for e in elements]
        if len(set(names)) != len(names) or set(names) != self.children.keys():
            raise Ns3GymProtocolError(
                f"{what}: Dict data has keys {names}, the space has {sorted(self.children)}"
            )
        by_name = {e.name: e for e in elements}
        return {k: c.decode(by_name[k], f"{what}[{k!r}]") for k, c in self.children.items()}


class MultiDiscreteCodec(Codec):
    """MultiDiscrete(nvec, start) travels as a Tuple of Discrete over the flattened nvec."""

    def __init__(self, space: gym.spaces.MultiDiscrete):
        self.space = space
        self.nvec = np.asarray(space.nvec)
        self.start = np.asarray(space.start)
        flat = [
            gym.spaces.Discrete(int(n), start=int(s))
            for n, s in zip(self.nvec.ravel(), self.start.ravel(), strict=True)
        ]
        self.inner = TupleCodec(gym.spaces.Tuple(flat))

    def describe(self, name: str = "") -> Message:
        return self.inner.describe(name)

    def encode(self, value: Any, name: str = "") -> Message:
        arr = np.asarray(value)
        if arr.shape != self.nvec.shape:
            raise Ns3GymSpaceError(f"value of shape {arr.shape} does not fit {self.space}")
        return self.inner.encode(arr.ravel().tolist(), name)

    def decode(self, dc: Message, what: str = "data") -> np.ndarray:
        values = self.inner.decode(dc, what)
        return np.array(values, dtype=self.space.dtype).reshape(self.nvec.shape)


def codec_for(space: gym.Space) -> Codec:
    """The codec of a space; `Ns3GymSpaceError` for spaces the wire cannot express."""
    if isinstance(space, gym.spaces.Discrete):
        return DiscreteCodec(space)
    if isinstance(space, gym.spaces.Box | gym.spaces.MultiBinary):
        return BoxCodec(space)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return MultiDiscreteCodec(space)
    if isinstance(space, gym.spaces.Tuple):
        return TupleCodec(space)
    if isinstance(space, gym.spaces.Dict):
        return DictCodec(space)
    raise Ns3GymSpaceError(
        f"{type(space).__name__} spaces cannot be expressed in the ns3-gym protocol "
        "(Discrete, Box, Tuple, Dict, MultiBinary, MultiDiscrete can)"
    )


def space_to_pb(space: gym.Space, name: str = "") -> Message:
    """The `SpaceDescription` of a Gymnasium space."""
    return codec_for(space).describe(name)


def space_from_pb(desc: Message, what: str = "space") -> gym.Space:
    """The Gymnasium space a `SpaceDescription` describes (the agent-side reconstruction)."""
    if desc.type == SpaceType.Discrete:
        n = _unpack(desc.space, pb.DiscreteSpace, what).n
        if n <= 0:
            raise Ns3GymProtocolError(f"{what}: Discrete space with n={n}")
        return gym.spaces.Discrete(n)
    if desc.type == SpaceType.Box:
        return _box_from_pb(_unpack(desc.space, pb.BoxSpace, what), what)
    if desc.type == SpaceType.Tuple:
        elements = _unpack(desc.space, pb.TupleSpace, what).element
        return gym.spaces.Tuple([space_from_pb(e, f"{what}[{i}]") for i, e in enumerate(elements)])
    if desc.type == SpaceType.Dict:
        elements = _unpack(desc.space, pb.DictSpace, what).element
        names = [e.name for e in elements]
        if len(set(names)) != len(names) or "" in names:
            raise Ns3GymProtocolError(f"{what}: Dict space element names {names} are not unique")
        return gym.spaces.Dict({e.name: space_from_pb(e, f"{what}[{e.name!r}]") for e in elements})
    raise Ns3GymProtocolError(f"{what}: {_space_type_name(desc.type)} is not a space")


def _box_from_pb(box: Message, what: str) -> gym.spaces.Box:
    try:
        wire = Dtype(box.dtype)
        dtype = WIRE_NUMPY_DTYPE[wire]
    except (ValueError, KeyError):
        raise Ns3GymProtocolError(f"{what}: Box with dtype {box.dtype}") from None
    shape = tuple(int(d) for d in box.shape)
    low, high = float(box.low), float(box.high)
    if math.isnan(low) or math.isnan(high) or low > high:
        raise Ns3GymProtocolError(f"{what}: Box bounds [{low}, {high}]")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        low = info.min if low == -math.inf else max(info.min, math.ceil(low))
        high = info.max if high == math.inf else min(info.max, math.floor(high))
    return gym.spaces.Box(
        low=np.full(shape, low, dtype=dtype),
        high=np.full(shape, high, dtype=dtype),
        shape=shape,
        dtype=dtype,
    )

"""Space and data conversion: every space kind and dtype survives the wire both ways.

Observation path: the simulation encodes with its own space's codec; the agent decodes with the
codec of the space it rebuilt from the wire description (after real serialisation). Action path:
the agent encodes in its rebuilt space; the simulation decodes back to its native types.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.ns3gym import schema as pb
from bridge.ns3gym.errors import Ns3GymProtocolError, Ns3GymSpaceError
from bridge.ns3gym.spaces import codec_for, space_from_pb

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]


def over_the_wire(space: gym.Space) -> gym.Space:
    desc = codec_for(space).describe()
    return space_from_pb(pb.SpaceDescription.FromString(desc.SerializeToString()))


def transmit(value, sender, receiver):
    dc = sender.encode(value)
    return receiver.decode(pb.DataContainer.FromString(dc.SerializeToString()))


def assert_same(a, b, *, dtypes: bool):
    """Recursive equality; with dtypes=True numpy dtypes must match too."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k], dtypes=dtypes)
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y, dtypes=dtypes)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape
        assert np.array_equal(a.astype(np.float64), b.astype(np.float64), equal_nan=True)
        if dtypes:
            assert a.dtype == b.dtype
    else:
        assert int(a) == int(b)


def wire_form(space: gym.Space, value):
    """What the agent receives for a simulation value (Discrete start removed, MultiDiscrete as
    a tuple of indices)."""
    if isinstance(space, spaces.Discrete):
        return int(value) - int(space.start)
    if isinstance(space, spaces.MultiDiscrete):
        return tuple(int(v) for v in (np.asarray(value) - space.start).ravel())
    if isinstance(space, spaces.Tuple):
        return tuple(wire_form(s, v) for s, v in zip(space.spaces, value, strict=True))
    if isinstance(space, spaces.Dict):
        return {k: wire_form(s, value[k]) for k, s in space.spaces.items()}
    return np.asarray(value)


@st.composite
def boxes(draw):
    dtype = np.dtype(draw(st.sampled_from(INT_DTYPES + FLOAT_DTYPES + [np.bool_])))
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    if dtype.kind == "b":
        return spaces.Box(0, 1, shape, dtype)
    if dtype.kind == "f":
        low = st.one_of(st.floats(-1e3, 0, width=16), st.just(-math.inf))
        high = st.one_of(st.floats(0, 1e3, width=16), st.just(math.inf))
    elif dtype.kind == "i":
        low, high = st.integers(-100, 0), st.integers(0, 100)
    else:
        low, high = st.integers(0, 50), st.integers(50, 100)
    n = math.prod(shape) if draw(st.booleans()) else 1  # per-element or scalar bounds
    lows = np.array([draw(low) for _ in range(n)], dtype=np.float64)
    highs = np.array([draw(high) for _ in range(n)], dtype=np.float64)
    if n > 1 or shape == ():
        lows, highs = lows.reshape(shape), highs.reshape(shape)
    else:
        lows, highs = np.full(shape, lows[0]), np.full(shape, highs[0])
    if dtype.kind in "iu":
        lows, highs = lows.astype(dtype), highs.astype(dtype)
    return spaces.Box(low=lows.astype(dtype), high=highs.astype(dtype), shape=shape, dtype=dtype)


leaf_spaces = st.one_of(
    st.builds(spaces.Discrete, st.integers(1, 50), start=st.integers(-5, 5)),
    boxes(),
    st.builds(spaces.MultiBinary, st.integers(1, 4)),
    st.lists(st.integers(1, 5), min_size=1, max_size=3).map(spaces.MultiDiscrete),
)
all_spaces = st.recursive(
    leaf_spaces,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: spaces.Tuple(xs)),
        st.dictionaries(
            st.text("abcxyz_", min_size=1, max_size=4), inner, min_size=1, max_size=3
        ).map(spaces.Dict),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=all_spaces, seed=st.integers(0, 2**32 - 1))
def test_values_round_trip_both_ways(space, seed):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium warns about float16 bounds precision
        space.seed(seed)
        value = space.sample()
        sim_codec = codec_for(space)
        agent_space = over_the_wire(space)
        agent_codec = codec_for(agent_space)

        received = transmit(value, sim_codec, agent_codec)
        assert_same(wire_form(space, value), received, dtypes=False)
        assert agent_space.contains(received), (agent_space, received)

        back = transmit(received, agent_codec, sim_codec)
        assert_same(value, back, dtypes=True)
        assert space.contains(back)


@pytest.mark.parametrize(
    ("dtype", "wire", "agent_dtype"),
    [
        (np.int8, pb.Dtype.INT, np.int32),
        (np.int64, pb.Dtype.INT, np.int32),
        (np.uint16, pb.Dtype.UINT, np.uint32),
        (np.uint64, pb.Dtype.UINT, np.uint32),
        (np.float16, pb.Dtype.FLOAT, np.float32),
        (np.float32, pb.Dtype.FLOAT, np.float32),
        (np.float64, pb.Dtype.DOUBLE, np.float64),
        (np.bool_, pb.Dtype.UINT, np.uint32),
    ],
)
def test_box_dtype_mapping(dtype, wire, agent_dtype):
    space = spaces.Box(0, 1, (2,), dtype)
    box = pb.BoxSpace()
    codec_for(space).describe().space.Unpack(box)
    assert box.dtype == wire
    assert over_the_wire(space).dtype == np.dtype(agent_dtype)


def test_per_element_bounds_become_the_enclosing_scalar_box():
    space = spaces.Box(
        low=np.array([-4.8, -np.inf, 0.1], np.float32),
        high=np.array([4.8, 2.0, 0.3], np.float32),
        dtype=np.float32,
    )
    agent = over_the_wire(space)
    assert agent.shape == (3,) and agent.dtype == np.float32
    assert np.all(agent.low == -np.inf) and np.all(agent.high == np.float32(4.8))
    # bounds that float32 cannot hold are rounded outward, so the agent's box still contains
    # every value of the simulation's
    precise = spaces.Box(low=0.1, high=0.3, shape=(1,), dtype=np.float64)
    agent = over_the_wire(precise)
    assert agent.low[0] <= 0.1 and agent.high[0] >= 0.3
    assert agent.contains(np.array([0.1])) and agent.contains(np.array([0.3]))


def test_integer_boxes_keep_integer_bounds():
    agent = over_the_wire(spaces.Box(-7, 9, (2,), np.int64))
    assert agent.dtype == np.int32 and agent.low.tolist() == [-7, -7] and agent.high[0] == 9
    int64 = np.iinfo(np.int64)
    unbounded = over_the_wire(spaces.Box(int64.min, int64.max, (1,), np.int64))
    int32 = np.iinfo(np.int32)
    assert unbounded.low[0] == int32.min and unbounded.high[0] == int32.max


def test_discrete_start_and_multidiscrete_wire_forms():
    assert over_the_wire(spaces.Discrete(4, start=-1)) == spaces.Discrete(4)
    assert over_the_wire(spaces.MultiDiscrete([2, 3])) == spaces.Tuple(
        (spaces.Discrete(2), spaces.Discrete(3))
    )
    assert over_the_wire(spaces.MultiBinary(3)) == spaces.Box(0, 1, (3,), np.uint32)


def test_values_that_do_not_fit_the_wire_are_refused():
    codec = codec_for(spaces.Box(np.iinfo(np.int64).min, np.iinfo(np.int64).max, (1,), np.int64))
    with pytest.raises(Ns3GymSpaceError, match="do not fit the wire's int32"):
        codec.encode(np.array([2**40]))
    with pytest.raises(Ns3GymSpaceError, match="shape"):
        codec_for(spaces.Box(0, 1, (2,), np.float32)).encode(np.zeros(3))
    with pytest.raises(Ns3GymSpaceError, match="outside"):
        codec_for(spaces.Discrete(3)).encode(3)
    with pytest.raises(Ns3GymSpaceError, match="keys"):
        codec_for(spaces.Dict({"a": spaces.Discrete(2)})).encode({"b": 0})
    with pytest.raises(Ns3GymSpaceError, match="cannot be expressed"):
        codec_for(spaces.Text(5))


def test_data_that_does_not_match_the_space_is_a_protocol_error():
    box = codec_for(spaces.Box(0, 1, (2,), np.float32))
    discrete = codec_for(spaces.Discrete(3))
    with pytest.raises(Ns3GymProtocolError, match="is a Box container, expected Discrete"):
        discrete.decode(box.encode(np.zeros(2, np.float32)))
    with pytest.raises(Ns3GymProtocolError, match="3 values"):
        box.decode(codec_for(spaces.Box(0, 1, (3,), np.float32)).encode(np.zeros(3)))
    with pytest.raises(Ns3GymProtocolError, match="outside Discrete"):
        discrete.decode(codec_for(spaces.Discrete(9)).encode(7))
    wrong_url = pb.DataContainer(type=pb.SpaceType.Discrete)
    wrong_url.data.Pack(pb.BoxDataContainer())
    with pytest.raises(Ns3GymProtocolError, match="expected type.googleapis.com/ns3opengym"):
        discrete.decode(wrong_url)
    named = codec_for(spaces.Dict({"a": spaces.Discrete(2), "b": spaces.Discrete(2)}))
    dc = named.encode({"a": 0, "b": 1})
    inner = pb.DictDataContainer()
    dc.data.Unpack(inner)
    inner.element[1].name = "a"  # duplicate key
    dc.data.Pack(inner)
    with pytest.raises(Ns3GymProtocolError, match="keys"):
        named.decode(dc)


def test_box_data_from_ns3_without_shape_or_dtype_is_accepted():
    """ns-3's C++ containers may leave shape empty, and ns3-gym reads float data by default."""
    codec = codec_for(spaces.Box(-1, 1, (2, 2), np.float32))
    dc = pb.DataContainer(type=pb.SpaceType.Box)
    dc.data.Pack(pb.BoxDataContainer(floatData=[0.5, -0.5, 0.25, 1.0]))
    assert codec.decode(dc).tolist() == [[0.5, -0.5], [0.25, 1.0]]


def test_space_descriptions_that_make_no_space_are_protocol_errors():
    with pytest.raises(Ns3GymProtocolError, match="not a space"):
        space_from_pb(pb.SpaceDescription())
    bad = pb.SpaceDescription(type=pb.SpaceType.Discrete)
    bad.space.Pack(pb.DiscreteSpace(n=0))
    with pytest.raises(Ns3GymProtocolError, match="n=0"):
        space_from_pb(bad)
    mislabeled = pb.SpaceDescription(type=pb.SpaceType.Box)
    mislabeled.space.Pack(pb.DiscreteSpace(n=2))
    with pytest.raises(Ns3GymProtocolError, match="BoxSpace"):
        space_from_pb(mislabeled)

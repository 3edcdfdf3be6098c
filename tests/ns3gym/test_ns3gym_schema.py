"""The protobuf schema matches ns3-gym's: field numbers, types, package, type URLs, bytes.

The reference is ns3-gym's `src/opengym/model/messages.proto` (tkn-tub/ns3-gym), as tabulated in
shared/ns3gym-protocol.md. `data/ns3opengym.protoset` was compiled from our .proto by protoc:
    cd bridge/ns3gym && python -m grpc_tools.protoc -I. \
        --descriptor_set_out=../../tests/ns3gym/data/ns3opengym.protoset ns3opengym.proto
(grpcio-tools 1.85.1 in a scratch venv; the same compile of ns3-gym's own messages.proto gave an
identical descriptor apart from the file name).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import descriptor_pb2
from gymnasium import spaces

from bridge.ns3gym import schema as pb
from bridge.ns3gym.spaces import space_to_pb

DATA = Path(__file__).parent / "data"
PROTO = Path(pb.__file__).with_name("ns3opengym.proto")
F = descriptor_pb2.FieldDescriptorProto

# Transcribed from the protocol table (message, field) -> (number, type, repeated).
SPEC_FIELDS = {
    ("SpaceDescription", "type"): (1, F.TYPE_ENUM, False),
    ("SpaceDescription", "space"): (2, F.TYPE_MESSAGE, False),
    ("SpaceDescription", "name"): (3, F.TYPE_STRING, False),
    ("DiscreteSpace", "n"): (1, F.TYPE_INT32, False),
    ("BoxSpace", "low"): (1, F.TYPE_FLOAT, False),
    ("BoxSpace", "high"): (2, F.TYPE_FLOAT, False),
    ("BoxSpace", "dtype"): (3, F.TYPE_ENUM, False),
    ("BoxSpace", "shape"): (4, F.TYPE_UINT32, True),
    ("TupleSpace", "element"): (1, F.TYPE_MESSAGE, True),
    ("DictSpace", "element"): (1, F.TYPE_MESSAGE, True),
    ("DataContainer", "type"): (1, F.TYPE_ENUM, False),
    ("DataContainer", "data"): (2, F.TYPE_MESSAGE, False),
    ("DataContainer", "name"): (3, F.TYPE_STRING, False),
    ("DiscreteDataContainer", "data"): (1, F.TYPE_INT32, False),
    ("BoxDataContainer", "dtype"): (1, F.TYPE_ENUM, False),
    ("BoxDataContainer", "shape"): (2, F.TYPE_UINT32, True),
    ("BoxDataContainer", "intData"): (3, F.TYPE_INT32, True),
    ("BoxDataContainer", "uintData"): (4, F.TYPE_UINT32, True),
    ("BoxDataContainer", "floatData"): (5, F.TYPE_FLOAT, True),
    ("BoxDataContainer", "doubleData"): (6, F.TYPE_DOUBLE, True),
    ("TupleDataContainer", "element"): (1, F.TYPE_MESSAGE, True),
    ("DictDataContainer", "element"): (1, F.TYPE_MESSAGE, True),
    ("SimInitMsg", "simProcessId"): (1, F.TYPE_UINT64, False),
    ("SimInitMsg", "wafShellProcessId"): (2, F.TYPE_UINT64, False),
    ("SimInitMsg", "obsSpace"): (3, F.TYPE_MESSAGE, False),
    ("SimInitMsg", "actSpace"): (4, F.TYPE_MESSAGE, False),
    ("SimInitAck", "done"): (1, F.TYPE_BOOL, False),
    ("SimInitAck", "stopSimReq"): (2, F.TYPE_BOOL, False),
    ("EnvStateMsg", "obsData"): (1, F.TYPE_MESSAGE, False),
    ("EnvStateMsg", "reward"): (2, F.TYPE_FLOAT, False),
    ("EnvStateMsg", "isGameOver"): (3, F.TYPE_BOOL, False),
    ("EnvStateMsg", "reason"): (4, F.TYPE_ENUM, False),
    ("EnvStateMsg", "info"): (5, F.TYPE_STRING, False),
    ("EnvActMsg", "actData"): (1, F.TYPE_MESSAGE, False),
    ("EnvActMsg", "stopSimReq"): (2, F.TYPE_BOOL, False),
}
SPEC_ENUMS = {
    "ns3opengym.SpaceType": {"NoSpaceType": 0, "Discrete": 1, "Box": 2, "Tuple": 3, "Dict": 4},
    "ns3opengym.Dtype": {"NoDType": 0, "INT": 1, "UINT": 2, "FLOAT": 3, "DOUBLE": 4},
    "ns3opengym.EnvStateMsg.Reason": {"SimulationEnd": 0, "GameOver": 1},
    "ns3opengym.MsgType": {
        "Unknown": 0, "Init": 1, "ActionSpace": 2, "ObservationSpace": 3, "IsGameOver": 4,
        "Observation": 5, "Reward": 6, "ExtraInfo": 7, "Action": 8, "StopEnv": 9,
    },
}  # fmt: skip


def test_every_field_has_the_spec_number_and_type():
    seen = set()
    for message_desc in pb.FILE_DESCRIPTOR.message_types_by_name.values():
        assert message_desc.full_name == f"ns3opengym.{message_desc.name}"
        for field in message_desc.fields:
            key = (message_desc.name, field.name)
            number, ftype, repeated = SPEC_FIELDS[key]
            assert field.number == number, key
            assert field.type == ftype, key
            assert field.is_repeated == repeated, key
            seen.add(key)
    assert seen == set(SPEC_FIELDS)


def test_message_fields_point_at_the_right_types():
    sim_init = pb.SimInitMsg.DESCRIPTOR.fields_by_name
    assert sim_init["obsSpace"].message_type.full_name == "ns3opengym.SpaceDescription"
    assert pb.SpaceDescription.DESCRIPTOR.fields_by_name["space"].message_type.full_name == (
        "google.protobuf.Any"
    )
    assert pb.DictSpace.DESCRIPTOR.fields_by_name["element"].message_type.full_name == (
        "ns3opengym.SpaceDescription"
    )
    assert pb.EnvStateMsg.DESCRIPTOR.fields_by_name["reason"].enum_type.full_name == (
        "ns3opengym.EnvStateMsg.Reason"
    )


def test_enums_have_the_spec_values():
    enums = {e.full_name: e for e in pb.FILE_DESCRIPTOR.enum_types_by_name.values()}
    enums["ns3opengym.EnvStateMsg.Reason"] = pb.EnvStateMsg.DESCRIPTOR.enum_types_by_name["Reason"]
    for full_name, values in SPEC_ENUMS.items():
        assert {v.name: v.number for v in enums[full_name].values} == values


def test_descriptor_equals_protoc_compile_of_the_proto_file():
    compiled = descriptor_pb2.FileDescriptorSet.FromString(
        (DATA / "ns3opengym.protoset").read_bytes()
    ).file[0]
    for message in compiled.message_type:
        for field in message.field:
            field.ClearField("json_name")  # protoc adds it; it is not part of the wire
    assert compiled == pb.build_file_descriptor_proto()


def test_committed_proto_file_is_the_rendered_schema():
    assert PROTO.read_text() == pb.render_proto()
    text = PROTO.read_text()
    assert "package ns3opengym;" in text and 'import "google/protobuf/any.proto";' in text


@pytest.mark.parametrize(
    ("space", "payload"),
    [
        (spaces.Discrete(4), "DiscreteSpace"),
        (spaces.Box(0, 1, (2,), np.float32), "BoxSpace"),
        (spaces.Tuple((spaces.Discrete(2),)), "TupleSpace"),
        (spaces.Dict({"k": spaces.Discrete(2)}), "DictSpace"),
    ],
)
def test_space_payloads_carry_ns3opengym_type_urls(space, payload):
    desc = pb.SpaceDescription.FromString(space_to_pb(space).SerializeToString())
    assert desc.space.type_url == f"type.googleapis.com/ns3opengym.{payload}"


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _any(name: str, value: bytes) -> bytes:
    return _len_field(1, f"type.googleapis.com/ns3opengym.{name}".encode()) + _len_field(2, value)


def test_discrete_space_description_bytes_by_hand():
    # SpaceDescription{type=Discrete(1), space=Any(DiscreteSpace{n=5})}
    expected = b"\x08\x01" + _len_field(2, _any("DiscreteSpace", b"\x08\x05"))
    assert space_to_pb(spaces.Discrete(5)).SerializeToString() == expected


def test_box_space_description_bytes_by_hand():
    desc = space_to_pb(spaces.Box(-2.0, 3.5, (2, 3), np.float64))
    box = (
        b"\x0d" + struct.pack("<f", -2.0)  # low: field 1, fixed32
        + b"\x15" + struct.pack("<f", 3.5)  # high: field 2, fixed32
        + b"\x18\x04"  # dtype DOUBLE
        + _len_field(4, b"\x02\x03")  # packed shape
    )  # fmt: skip
    assert desc.SerializeToString() == b"\x08\x02" + _len_field(2, _any("BoxSpace", box))


def test_env_state_bytes_by_hand():
    obs = pb.DataContainer(type=pb.SpaceType.Box)
    obs.data.Pack(pb.BoxDataContainer(dtype=pb.Dtype.FLOAT, shape=[2], floatData=[1.5, -0.25]))
    msg = pb.EnvStateMsg(obsData=obs, reward=0.5, isGameOver=True, reason=1, info='{"a":1}')
    box = b"\x08\x03" + _len_field(2, b"\x02") + _len_field(5, struct.pack("<2f", 1.5, -0.25))
    expected = (
        _len_field(1, b"\x08\x02" + _len_field(2, _any("BoxDataContainer", box)))
        + b"\x15" + struct.pack("<f", 0.5)
        + b"\x18\x01"
        + b"\x20\x01"
        + _len_field(5, b'{"a":1}')
    )  # fmt: skip
    assert msg.SerializeToString() == expected


def test_messages_live_in_a_private_pool():
    from google.protobuf import descriptor_pool

    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("ns3opengym.SimInitMsg")
    assert pb.type_url(pb.EnvActMsg) == "type.googleapis.com/ns3opengym.EnvActMsg"

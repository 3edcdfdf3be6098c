"""The ns3-gym protobuf schema (`package ns3opengym;`), built at import time.

Why not generated `*_pb2.py`: generated code is tied to the protoc version that wrote it and the
protobuf runtime refuses gencode from another major version; building the descriptor from the
tables below with `descriptor_pb2` + `message_factory` works with any runtime and needs no
codegen tool. The tables are the single source: `ns3opengym.proto` beside this file is rendered
from them (`python -m bridge.ns3gym.schema > bridge/ns3gym/ns3opengym.proto`), a test checks
that the committed file matches, and another test checks the descriptor against a
`FileDescriptorSet` compiled from that `.proto` by protoc.

The messages live in a private `DescriptorPool`, so importing this module never clashes with an
ns3-gym `messages_pb2` that defines the same `ns3opengym.*` names in the default pool. Type URLs
inside `Any` depend only on the full names, so they are the ns3-gym ones:
`type.googleapis.com/ns3opengym.BoxSpace` and so on.

Field numbers, types and names below are those of ns3-gym's `messages.proto` (tkn-tub/ns3-gym,
`src/opengym/model/messages.proto`); do not change them or existing peers cannot decode us.
"""

from __future__ import annotations

from enum import IntEnum

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

PACKAGE = "ns3opengym"
PROTO_FILE_NAME = "ns3opengym.proto"
TYPE_URL_PREFIX = "type.googleapis.com/"


class MsgType(IntEnum):
    """Declared by ns3-gym for its old request/reply protocol; unused on today's wire."""

    Unknown = 0
    Init = 1
    ActionSpace = 2
    ObservationSpace = 3
    IsGameOver = 4
    Observation = 5
    Reward = 6
    ExtraInfo = 7
    Action = 8
    StopEnv = 9


class SpaceType(IntEnum):
    """Which kind of space a `SpaceDescription` / `DataContainer` carries in its `Any`."""

    NoSpaceType = 0
    Discrete = 1
    Box = 2
    Tuple = 3
    Dict = 4


class Dtype(IntEnum):
    """Element type of a Box: INT=int32, UINT=uint32, FLOAT=float32, DOUBLE=float64 on the wire."""

    NoDType = 0
    INT = 1
    UINT = 2
    FLOAT = 3
    DOUBLE = 4


class Reason(IntEnum):
    """`EnvStateMsg.Reason`: why a game-over state ends the episode."""

    SimulationEnd = 0
    GameOver = 1


# (enum class, name in the schema, name of the enclosing message or None for file level)
_ENUMS: list[tuple[type[IntEnum], str, str | None]] = [
    (MsgType, "MsgType", None),
    (SpaceType, "SpaceType", None),
    (Dtype, "Dtype", None),
    (Reason, "Reason", "EnvStateMsg"),
]

_R = "repeated"
# message -> [(field name, number, type, label)], in ns3-gym's order. A type that is not a
# scalar keyword names a message or enum of this package (or google.protobuf.Any).
_MESSAGES: list[tuple[str, list[tuple[str, int, str, str]]]] = [
    ("SpaceDescription", [("type", 1, "SpaceType", ""), ("space", 2, "google.protobuf.Any", ""),
                          ("name", 3, "string", "")]),
    ("DiscreteSpace", [("n", 1, "int32", "")]),
    ("BoxSpace", [("low", 1, "float", ""), ("high", 2, "float", ""), ("dtype", 3, "Dtype", ""),
                  ("shape", 4, "uint32", _R)]),
    ("TupleSpace", [("element", 1, "SpaceDescription", _R)]),
    ("DictSpace", [("element", 1, "SpaceDescription", _R)]),
    ("DataContainer", [("type", 1, "SpaceType", ""), ("data", 2, "google.protobuf.Any", ""),
                       ("name", 3, "string", "")]),
    ("DiscreteDataContainer", [("data", 1, "int32", "")]),
    ("BoxDataContainer", [("dtype", 1, "Dtype", ""), ("shape", 2, "uint32", _R),
                          ("intData", 3, "int32", _R), ("uintData", 4, "uint32", _R),
                          ("floatData", 5, "float", _R), ("doubleData", 6, "double", _R)]),
    ("TupleDataContainer", [("element", 1, "DataContainer", _R)]),
    ("DictDataContainer", [("element", 1, "DataContainer", _R)]),
    ("SimInitMsg", [("simProcessId", 1, "uint64", ""), ("wafShellProcessId", 2, "uint64", ""),
                    ("obsSpace", 3, "SpaceDescription", ""),
                    ("actSpace", 4, "SpaceDescription", "")]),
    ("SimInitAck", [("done", 1, "bool", ""), ("stopSimReq", 2, "bool", "")]),
    ("EnvStateMsg", [("obsData", 1, "DataContainer", ""), ("reward", 2, "float", ""),
                     ("isGameOver", 3, "bool", ""), ("reason", 4, "Reason", ""),
                     ("info", 5, "string", "")]),
    ("EnvActMsg", [("actData", 1, "DataContainer", ""), ("stopSimReq", 2, "bool", "")]),
]  # fmt: skip

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "int32": _FDP.TYPE_INT32,
    "uint32": _FDP.TYPE_UINT32,
    "uint64": _FDP.TYPE_UINT64,
    "float": _FDP.TYPE_FLOAT,
    "double": _FDP.TYPE_DOUBLE,
    "bool": _FDP.TYPE_BOOL,
    "string": _FDP.TYPE_STRING,
}


def build_file_descriptor_proto() -> descriptor_pb2.FileDescriptorProto:
    """The schema as a `FileDescriptorProto` (what protoc would produce from the .proto)."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name=PROTO_FILE_NAME,
        package=PACKAGE,
        syntax="proto3",
        dependency=["google/protobuf/any.proto"],
    )
    enum_scope = {name: outer for _, name, outer in _ENUMS}
    for enum_cls, name, outer in _ENUMS:
        if outer is None:
            _add_enum(fdp.enum_type.add(), enum_cls, name)
    for msg_name, fields in _MESSAGES:
        msg = fdp.message_type.add(name=msg_name)
        for enum_cls, name, outer in _ENUMS:
            if outer == msg_name:
                _add_enum(msg.enum_type.add(), enum_cls, name)
        for field_name, number, type_name, label in fields:
            field = msg.field.add(name=field_name, number=number)
            field.label = _FDP.LABEL_REPEATED if label == _R else _FDP.LABEL_OPTIONAL
            if type_name in _SCALARS:
                field.type = _SCALARS[type_name]
            elif type_name == "google.protobuf.Any":
                field.type = _FDP.TYPE_MESSAGE
                field.type_name = ".google.protobuf.Any"
            elif type_name in enum_scope:
                field.type = _FDP.TYPE_ENUM
                outer = enum_scope[type_name]
                scope = f"{PACKAGE}.{outer}" if outer else PACKAGE
                field.type_name = f".{scope}.{type_name}"
            else:
                field.type = _FDP.TYPE_MESSAGE
                field.type_name = f".{PACKAGE}.{type_name}"
    return fdp


def _add_enum(
    enum_proto: descriptor_pb2.EnumDescriptorProto, enum_cls: type[IntEnum], name: str
) -> None:
    enum_proto.name = name
    for member in enum_cls:
        enum_proto.value.add(name=member.name, number=int(member))


def render_proto() -> str:
    """The `.proto` text of the schema, rendered from the same tables as the descriptor."""
    fdp = build_file_descriptor_proto()
    type_names = {v: k for k, v in _SCALARS.items()}
    lines = [
        "// ns3-gym wire schema (tkn-tub/ns3-gym, src/opengym/model/messages.proto), as spoken by",
        "// qkdnet. Rendered from bridge/ns3gym/schema.py by",
        "//   python -m bridge.ns3gym.schema > bridge/ns3gym/ns3opengym.proto",
        "// Field numbers, types and the package name must stay exactly as they are.",
        f'syntax = "{fdp.syntax}";',
        "",
        f"package {fdp.package};",
        "",
    ]
    lines += [f'import "{dep}";' for dep in fdp.dependency] + [""]

    def render_enum(enum: descriptor_pb2.EnumDescriptorProto, indent: str) -> None:
        lines.append(f"{indent}enum {enum.name} {{")
        lines.extend(f"{indent}  {v.name} = {v.number};" for v in enum.value)
        lines.append(f"{indent}}}")

    for enum in fdp.enum_type:
        render_enum(enum, "")
        lines.append("")
    for msg in fdp.message_type:
        lines.append(f"message {msg.name} {{")
        for enum in msg.enum_type:
            render_enum(enum, "  ")
        for field in msg.field:
            if field.type in type_names:
                type_name = type_names[field.type]
            else:
                type_name = field.type_name.removeprefix(f".{PACKAGE}.").lstrip(".")
                type_name = type_name.removeprefix(f"{msg.name}.")
            label = "repeated " if field.label == _FDP.LABEL_REPEATED else ""
            lines.append(f"  {label}{type_name} {field.name} = {field.number};")
        lines.append("}")
        lines.append("")
    return "\n".join(lines)


def _build_classes() -> tuple[descriptor_pool.DescriptorPool, dict[str, type[Message]]]:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(build_file_descriptor_proto())
    classes = {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name, _ in _MESSAGES
    }
    return pool, classes


POOL, _CLASSES = _build_classes()
FILE_DESCRIPTOR = POOL.FindFileByName(PROTO_FILE_NAME)

SpaceDescription = _CLASSES["SpaceDescription"]
DiscreteSpace = _CLASSES["DiscreteSpace"]
BoxSpace = _CLASSES["BoxSpace"]
TupleSpace = _CLASSES["TupleSpace"]
DictSpace = _CLASSES["DictSpace"]
DataContainer = _CLASSES["DataContainer"]
DiscreteDataContainer = _CLASSES["DiscreteDataContainer"]
BoxDataContainer = _CLASSES["BoxDataContainer"]
TupleDataContainer = _CLASSES["TupleDataContainer"]
DictDataContainer = _CLASSES["DictDataContainer"]
SimInitMsg = _CLASSES["SimInitMsg"]
SimInitAck = _CLASSES["SimInitAck"]
EnvStateMsg = _CLASSES["EnvStateMsg"]
EnvActMsg = _CLASSES["EnvActMsg"]


def type_url(message_cls: type[Message]) -> str:
    """The `Any.type_url` a message of this class is packed under."""
    return TYPE_URL_PREFIX + message_cls.DESCRIPTOR.full_name


if __name__ == "__main__":  # pragma: no cover - the generator entry point named above
    print(render_proto(), end="")

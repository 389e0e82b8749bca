"""Protobuf descriptors to the IR `Api`, following the proto3 JSON mapping.

Messages become objects whose wire names are the fields' `json_name`; no field is required (proto3
omits default values on the wire), a `oneof`'s members are optional fields of their message; enums
are open string enums of their value names; 64-bit integers are quoted int64; well-known types map
to what their JSON is (Timestamp → date-time, Duration and FieldMask → string, Struct, Value,
ListValue and Any → free-form JSON, wrappers → nullable scalars). Services become operations: a
method with a `google.api.http` annotation is transcoded REST, one without is the Connect protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2

from polysdk import ir, walks
from polysdk.decisions.operations import CONNECT_STREAM_MEDIA
from polysdk.frontends.proto.descriptors import Descriptors
from polysdk.names import camel, pascal, split_words

FDP = descriptor_pb2.FieldDescriptorProto
_JSON = "application/json"
_BEARER = "bearer"

_SCALARS: dict[int, ir.PrimitiveType] = {
    FDP.TYPE_DOUBLE: ir.PrimitiveType(ir.Prim.DOUBLE),
    FDP.TYPE_FLOAT: ir.PrimitiveType(ir.Prim.FLOAT),
    FDP.TYPE_INT32: ir.PrimitiveType(ir.Prim.INT32),
    FDP.TYPE_SINT32: ir.PrimitiveType(ir.Prim.INT32),
    FDP.TYPE_SFIXED32: ir.PrimitiveType(ir.Prim.INT32),
    # uint32 exceeds int32; the IR's width-less integer is a 64-bit integer in every SDK.
    FDP.TYPE_UINT32: ir.PrimitiveType(ir.Prim.INTEGER),
    FDP.TYPE_FIXED32: ir.PrimitiveType(ir.Prim.INTEGER),
    FDP.TYPE_INT64: ir.PrimitiveType(ir.Prim.INT64, quoted=True),
    FDP.TYPE_SINT64: ir.PrimitiveType(ir.Prim.INT64, quoted=True),
    FDP.TYPE_SFIXED64: ir.PrimitiveType(ir.Prim.INT64, quoted=True),
    FDP.TYPE_UINT64: ir.PrimitiveType(ir.Prim.INT64, quoted=True),
    FDP.TYPE_FIXED64: ir.PrimitiveType(ir.Prim.INT64, quoted=True),
    FDP.TYPE_BOOL: ir.PrimitiveType(ir.Prim.BOOLEAN),
    FDP.TYPE_STRING: ir.PrimitiveType(ir.Prim.STRING),
    FDP.TYPE_BYTES: ir.PrimitiveType(ir.Prim.BYTES),
}
_UNSIGNED_64 = (FDP.TYPE_UINT64, FDP.TYPE_FIXED64)
_ANY = ir.PrimitiveType(ir.Prim.ANY)
_STRING = ir.PrimitiveType(ir.Prim.STRING)
_WELL_KNOWN: dict[str, ir.Type] = {
    ".google.protobuf.Timestamp": ir.PrimitiveType(ir.Prim.DATE_TIME),
    ".google.protobuf.Duration": _STRING,  # "1.5s"
    ".google.protobuf.FieldMask": _STRING,  # "name,labels"
    ".google.protobuf.Struct": ir.MapType(_ANY),
    ".google.protobuf.Value": _ANY,
    ".google.protobuf.ListValue": ir.ArrayType(_ANY),
    ".google.protobuf.Any": _ANY,
    ".google.protobuf.DoubleValue": ir.Nullable(ir.PrimitiveType(ir.Prim.DOUBLE)),
    ".google.protobuf.FloatValue": ir.Nullable(ir.PrimitiveType(ir.Prim.FLOAT)),
    ".google.protobuf.Int64Value": ir.Nullable(ir.PrimitiveType(ir.Prim.INT64, quoted=True)),
    ".google.protobuf.UInt64Value": ir.Nullable(ir.PrimitiveType(ir.Prim.INT64, quoted=True)),
    ".google.protobuf.Int32Value": ir.Nullable(ir.PrimitiveType(ir.Prim.INT32)),
    ".google.protobuf.UInt32Value": ir.Nullable(ir.PrimitiveType(ir.Prim.INTEGER)),
    ".google.protobuf.BoolValue": ir.Nullable(ir.PrimitiveType(ir.Prim.BOOLEAN)),
    ".google.protobuf.StringValue": ir.Nullable(_STRING),
    ".google.protobuf.BytesValue": ir.Nullable(ir.PrimitiveType(ir.Prim.BYTES)),
}
_EMPTY = ".google.protobuf.Empty"
# Imports whose types are mapped (well-known types) or are options (annotations), never generated.
_LIBRARY_FILES = ("google/protobuf/", "google/api/")
_IDEMPOTENT_LEVELS = (
    descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
    descriptor_pb2.MethodOptions.IDEMPOTENT,
)
# SourceCodeInfo path numbers (descriptor.proto field numbers).
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _NESTED_ENUM, _ENUM_VALUE, _METHOD = 2, 3, 4, 2, 2


@dataclass
class _Message:
    full: str  # ".pkg.Outer.Inner"
    proto: descriptor_pb2.DescriptorProto
    path: tuple[int, ...]  # SourceCodeInfo path
    file: descriptor_pb2.FileDescriptorProto


@dataclass
class _Enum:
    full: str
    proto: descriptor_pb2.EnumDescriptorProto
    path: tuple[int, ...]
    file: descriptor_pb2.FileDescriptorProto


class _Builder:
    def __init__(self, descriptors: Descriptors) -> None:
        self.descriptors = descriptors
        self.messages: dict[str, _Message] = {}
        self.enums: dict[str, _Enum] = {}
        self.comments: dict[tuple[str, tuple[int, ...]], str] = {}
        self.warnings: list[str] = []
        self.names: dict[str, str] = {}  # full proto name → IR type name
        self.synthesized: list[ir.NamedType] = []
        self.defined: dict[str, ir.NamedType] = {}  # full proto name → its object, built once
        for file in descriptors.files:
            self._index_file(file)

    # Index -----------------------------------------------------------------------------------

    def _index_file(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        prefix = f".{file.package}" if file.package else ""
        for location in file.source_code_info.location:
            text = location.leading_comments or location.trailing_comments
            if text:
                self.comments[(file.name, tuple(location.path))] = text
        for i, message in enumerate(file.message_type):
            self._index_message(file, f"{prefix}.{message.name}", message, (_MESSAGE, i))
        for i, enum in enumerate(file.enum_type):
            self.enums[f"{prefix}.{enum.name}"] = _Enum(f"{prefix}.{enum.name}", enum, (_ENUM, i), file)

    def _index_message(
        self,
        file: descriptor_pb2.FileDescriptorProto,
        full: str,
        proto: descriptor_pb2.DescriptorProto,
        path: tuple[int, ...],
    ) -> None:
        self.messages[full] = _Message(full, proto, path, file)
        for i, nested in enumerate(proto.nested_type):
            self._index_message(file, f"{full}.{nested.name}", nested, (*path, _NESTED, i))
        for i, enum in enumerate(proto.enum_type):
            self.enums[f"{full}.{enum.name}"] = _Enum(
                f"{full}.{enum.name}", enum, (*path, _NESTED_ENUM, i), file
            )

    def docs(
        self, file: descriptor_pb2.FileDescriptorProto, path: tuple[int, ...], deprecated: bool = False
    ) -> ir.Docs:
        text = self.comments.get((file.name, path), "")
        lines = [line[1:] if line.startswith(" ") else line for line in text.strip("\n").split("\n")]
        return ir.Docs(description="\n".join(lines).strip(), deprecated=deprecated)

    # Names -----------------------------------------------------------------------------------

    def type_name(self, full: str) -> str:
        """The IR name of a message or enum: its name, nested names joined (`PlanStepKind`), made
        unique across packages by the package's last word when two packages share a name."""
        if full not in self.names:
            package = self._package_of(full)
            local = full[len(package) + 1 :] if package else full.lstrip(".")
            name = "".join(part[:1].upper() + part[1:] for part in local.split("."))
            taken = set(self.names.values())
            if name in taken:
                name = pascal(split_words(package.split(".")[-1])) + name
            while name in taken:
                name += "_"
            self.names[full] = name
        return self.names[full]

    def _package_of(self, full: str) -> str:
        found = self.messages.get(full) or self.enums.get(full)
        package = found.file.package if found else ""
        return f".{package}" if package else ""

    # Types -----------------------------------------------------------------------------------

    def field_type(self, field: descriptor_pb2.FieldDescriptorProto) -> ir.Type:
        if field.type == FDP.TYPE_MESSAGE and field.type_name in self.messages:
            entry = self.messages[field.type_name].proto
            if entry.options.map_entry:
                return ir.MapType(self.field_type(entry.field[1]))
        single = self.single_type(field)
        if field.label == FDP.LABEL_REPEATED:
            return ir.ArrayType(walks.unwrap_nullable(single))
        return single

    def single_type(self, field: descriptor_pb2.FieldDescriptorProto) -> ir.Type:
        if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_GROUP):
            return self.message_ref(field.type_name)
        if field.type == FDP.TYPE_ENUM:
            return ir.NamedRef(self.type_name(field.type_name))
        return _SCALARS[field.type]

    def message_ref(self, full: str) -> ir.Type:
        if full in _WELL_KNOWN:
            return _WELL_KNOWN[full]
        return ir.NamedRef(self.type_name(full))

    def message_def(self, message: _Message) -> ir.NamedType:
        """The message as an object, built (and its warnings given) once."""
        if message.full not in self.defined:
            self.defined[message.full] = self._object(message)
        return self.defined[message.full]

    def _object(self, message: _Message) -> ir.NamedType:
        fields = []
        proto = message.proto
        for i, field in enumerate(proto.field):
            docs = self.docs(message.file, (*message.path, _FIELD, i), field.options.deprecated)
            in_oneof = field.HasField("oneof_index") and not field.proto3_optional
            if in_oneof:
                group = proto.oneof_decl[field.oneof_index].name
                note = f"At most one field of the `{group}` group is set."
                docs = ir.Docs(
                    description=f"{docs.description}\n\n{note}".strip(), deprecated=docs.deprecated
                )
            if field.type in _UNSIGNED_64:
                self.warnings.append(
                    f"{message.full.lstrip('.')}.{field.name}: unsigned 64-bit values above 2^63-1 do "
                    "not fit the SDKs' int64 and are decode errors"
                )
            behaviors = field.options.Extensions[field_behavior_pb2.field_behavior]
            fields.append(
                ir.Field(
                    wire_name=field.json_name or field.name,
                    type=self.field_type(field),
                    required=False,
                    docs=docs,
                    read_only=field_behavior_pb2.OUTPUT_ONLY in behaviors,
                    write_only=field_behavior_pb2.INPUT_ONLY in behaviors,
                )
            )
        return ir.NamedType(
            name=self.type_name(message.full),
            definition=ir.ObjectDef(tuple(fields)),
            docs=self.docs(message.file, message.path, proto.options.deprecated),
            source=message.full.lstrip("."),
        )

    def enum_def(self, enum: _Enum) -> ir.NamedType:
        values = tuple(
            ir.EnumValue(
                value.name, self.docs(enum.file, (*enum.path, _ENUM_VALUE, i), value.options.deprecated)
            )
            for i, value in enumerate(enum.proto.value)
        )
        return ir.NamedType(
            name=self.type_name(enum.full),
            definition=ir.EnumDef(ir.Prim.STRING, values),
            docs=self.docs(enum.file, enum.path, enum.proto.options.deprecated),
            source=enum.full.lstrip("."),
        )

    # Services --------------------------------------------------------------------------------

    def operations(self) -> Iterator[ir.Operation]:
        targets = set(self.descriptors.targets)
        used: set[str] = set()
        for file in self.descriptors.files:
            if file.name not in targets:
                continue
            for s, service in enumerate(file.service):
                for m, method in enumerate(service.method):
                    op = self.operation(file, service, method, (_SERVICE, s, _METHOD, m), used)
                    if op is not None:
                        used.add(op.id)
                        yield op

    def operation(
        self,
        file: descriptor_pb2.FileDescriptorProto,
        service: descriptor_pb2.ServiceDescriptorProto,
        method: descriptor_pb2.MethodDescriptorProto,
        path: tuple[int, ...],
        used: set[str],
    ) -> ir.Operation | None:
        rpc = (
            f"{file.package}.{service.name}/{method.name}"
            if file.package
            else f"{service.name}/{method.name}"
        )
        if method.client_streaming:
            kind = "bidirectional" if method.server_streaming else "client"
            self.warnings.append(
                f"{rpc}: {kind}-streaming methods need HTTP/2 end to end; "
                "the HTTP/1.1 SDKs leave this method out"
            )
            return None
        op_id = camel(split_words(method.name))
        if op_id in used:
            op_id = camel(split_words(service.name + method.name))
        tag = service.name.removesuffix("Service") or service.name
        level = method.options.idempotency_level
        idempotent = True if level in _IDEMPOTENT_LEVELS else None
        docs = self.docs(file, path, method.options.deprecated)
        rule = (
            method.options.Extensions[annotations_pb2.http]
            if method.options.HasExtension(annotations_pb2.http)
            else None
        )
        if rule is not None and method.server_streaming:
            self.warnings.append(
                f"{rpc}: a server stream has no transcoded REST wire the SDKs share; "
                "it is called over the Connect protocol"
            )
            rule = None
        common = {
            "id": op_id,
            "tags": (tag,),
            "security": ((_BEARER,),),
            "docs": docs,
            "idempotent": idempotent,
        }
        if rule is None:
            return self.connect_operation(rpc, method, common)
        return self.rest_operation(rpc, method, rule, common)

    def connect_operation(
        self, rpc: str, method: descriptor_pb2.MethodDescriptorProto, common: dict[str, Any]
    ) -> ir.Operation:
        media = CONNECT_STREAM_MEDIA if method.server_streaming else _JSON
        request = self.request_type(method.input_type)
        output = self.output_content(method.output_type, media, method.server_streaming)
        return ir.Operation(
            http=ir.HttpBinding("POST", f"/{rpc}", ir.Protocol.CONNECT),
            params=(),
            body=ir.RequestBody(required=True, contents=(ir.Content(media, request),)),
            responses=(ir.Response("200", output),),
            **common,
        )

    def request_type(self, full: str) -> ir.Type:
        """The request message as a body type; Empty is an object without fields (sent as {})."""
        if full == _EMPTY:
            return self._synthesize("Empty", ir.ObjectDef(()), "google.protobuf.Empty")
        return self.message_ref(full)

    def output_content(self, full: str, media: str, streaming: bool) -> tuple[ir.Content, ...]:
        if full == _EMPTY and not streaming:
            return ()
        return (ir.Content(media, self.request_type(full)),)

    def rest_operation(
        self,
        rpc: str,
        method: descriptor_pb2.MethodDescriptorProto,
        rule: http_pb2.HttpRule,
        common: dict[str, Any],
    ) -> ir.Operation:
        verb = rule.WhichOneof("pattern")
        template = rule.custom.path if verb == "custom" else getattr(rule, verb or "get")
        http_method = (rule.custom.kind if verb == "custom" else (verb or "get")).upper()
        if rule.additional_bindings:
            self.warnings.append(f"{rpc}: additional_bindings are left out; the SDKs use the first binding")
        request = self.messages.get(method.input_type)
        fields = {f.name: f for f in request.proto.field} if request else {}
        path, variables = self.path_template(rpc, template)
        params = [self.path_param(rpc, method.input_type, var) for var in variables]
        # The fields the path or the body carries; the others are query parameters.
        carried = {var.split(".")[0] for var in variables}
        body = None
        if rule.body == "*":
            body_type = self.star_body(method.input_type, carried)
            body = ir.RequestBody(required=True, contents=(ir.Content(_JSON, body_type),))
            carried = set(fields)
        elif rule.body:
            body_field = fields.get(rule.body)
            if body_field is None:
                self.warnings.append(
                    f"{rpc}: body {rule.body!r} names no field of the request; no body is sent"
                )
            else:
                body = ir.RequestBody(
                    required=True, contents=(ir.Content(_JSON, self.field_type(body_field)),)
                )
            carried.add(rule.body)
        if request is not None:
            for index, field in enumerate(request.proto.field):
                param = None if field.name in carried else self.query_param(rpc, request, index, field)
                params += [param] if param is not None else []
        return ir.Operation(
            http=ir.HttpBinding(http_method, path, status_errors=True),
            params=tuple(params),
            body=body,
            responses=(ir.Response("200", self.rest_output(rpc, method.output_type, rule.response_body)),),
            **common,
        )

    def path_template(self, rpc: str, template: str) -> tuple[str, list[str]]:
        """`/v1/{name=agents/*}/x` → (`/v1/{name}/x`, ["name"]); a pattern with slashes is
        noted, as the SDKs percent-encode a variable's slashes."""
        out, variables, i = [], [], 0
        while i < len(template):
            if template[i] == "{":
                end = template.find("}", i)
                if end < 0:
                    break
                var, _, pattern = template[i + 1 : end].partition("=")
                if "/" in pattern or "**" in pattern:
                    self.warnings.append(
                        f"{rpc}: path variable {var!r} matches {pattern!r}; "
                        "the SDKs percent-encode '/' in its value"
                    )
                variables.append(var)
                out.append("{" + var + "}")
                i = end + 1
            else:
                out.append(template[i])
                i += 1
        return "".join(out), variables

    def path_param(self, rpc: str, input_type: str, var: str) -> ir.Param:
        field = self.field_path(input_type, var)
        if field is None:
            self.warnings.append(
                f"{rpc}: path variable {var!r} names no field of the request; sent as a string"
            )
        param_type = _STRING if field is None else walks.unwrap_nullable(self.single_type(field))
        return ir.Param(var, ir.ParamLocation.PATH, param_type, True, "simple", False)

    def field_path(self, input_type: str, var: str) -> descriptor_pb2.FieldDescriptorProto | None:
        message = self.messages.get(input_type)
        field = None
        for part in var.split("."):
            if message is None:
                return None
            field = next((f for f in message.proto.field if f.name == part), None)
            if field is None:
                return None
            message = self.messages.get(field.type_name)
        return field

    def star_body(self, input_type: str, bound: set[str]) -> ir.Type:
        """`body: "*"`: the request message, without the fields the path carries."""
        message = self.messages.get(input_type)
        if message is None or not bound & {f.name for f in message.proto.field}:
            return self.request_type(input_type)
        full = self.message_def(message)
        assert isinstance(full.definition, ir.ObjectDef)
        kept = tuple(
            f
            for f, proto in zip(full.definition.fields, message.proto.field, strict=True)
            if proto.name not in bound
        )
        return self._synthesize(f"{full.name}Body", ir.ObjectDef(kept), full.source, full.docs)

    def query_param(
        self, rpc: str, request: _Message, index: int, field: descriptor_pb2.FieldDescriptorProto
    ) -> ir.Param | None:
        param_type = self.field_type(field)
        scalar = walks.unwrap_nullable(
            param_type.items if isinstance(param_type, ir.ArrayType) else param_type
        )
        if isinstance(scalar, ir.NamedRef) and field.type != FDP.TYPE_ENUM:
            self.warnings.append(
                f"{rpc}: message field {field.name!r} cannot be a query parameter in the SDKs; left out"
            )
            return None
        if isinstance(scalar, ir.MapType | ir.ArrayType) or scalar == _ANY:
            self.warnings.append(
                f"{rpc}: field {field.name!r} cannot be a query parameter in the SDKs; left out"
            )
            return None
        docs = self.docs(request.file, (*request.path, _FIELD, index))
        return ir.Param(
            field.json_name or field.name, ir.ParamLocation.QUERY, param_type, False, "form", True, docs
        )

    def rest_output(self, rpc: str, output_type: str, response_body: str) -> tuple[ir.Content, ...]:
        if not response_body:
            return self.output_content(output_type, _JSON, False)
        field = self.field_path(output_type, response_body)
        if field is None:
            self.warnings.append(f"{rpc}: response_body {response_body!r} names no field of the response")
            return self.output_content(output_type, _JSON, False)
        return (ir.Content(_JSON, self.field_type(field)),)

    def _synthesize(
        self, name: str, definition: ir.ObjectDef, source: str, docs: ir.Docs | None = None
    ) -> ir.Type:
        if not any(t.name == name for t in self.synthesized):
            self.synthesized.append(ir.NamedType(name, definition, docs or ir.Docs(), source))
        return ir.NamedRef(name)

    # The API ---------------------------------------------------------------------------------

    def build(self) -> ir.Api:
        targets = [f for f in self.descriptors.files if f.name in self.descriptors.targets]
        self._name_target_types()
        operations = tuple(self.operations())
        package = targets[0].package if targets else ""
        title, version = _title_and_version(package)
        tags = tuple(
            ir.Tag(s.name.removesuffix("Service") or s.name, self.docs(f, (_SERVICE, i)))
            for f in targets
            for i, s in enumerate(f.service)
        )
        return ir.Api(
            title=title,
            version=version,
            docs=ir.Docs(description=f"Generated from the protobuf package {package}." if package else ""),
            servers=(),
            tags=tags,
            types=self._types(operations),
            operations=operations,
            security_schemes=(
                ir.SecurityScheme(
                    _BEARER, "http-bearer", docs=ir.Docs(description="A bearer token, when configured.")
                ),
            ),
            warnings=tuple(self.warnings),
        )

    def _name_target_types(self) -> None:
        """Name the target files' types first, so they keep their plain names."""
        for full, message in self.messages.items():
            if message.file.name in self.descriptors.targets and not message.proto.options.map_entry:
                self.type_name(full)
        for full, enum in self.enums.items():
            if enum.file.name in self.descriptors.targets:
                self.type_name(full)

    def _types(self, operations: tuple[ir.Operation, ...]) -> tuple[ir.NamedType, ...]:
        """The operations' types; for a contract without services, the target files' own types."""
        types = [
            self.message_def(m)
            for m in self.messages.values()
            if not m.proto.options.map_entry and not m.file.name.startswith(_LIBRARY_FILES)
        ]
        types += [self.enum_def(e) for e in self.enums.values() if not e.file.name.startswith(_LIBRARY_FILES)]
        types += self.synthesized
        if operations:
            types = _reachable_types(types, operations)
        else:
            targets = self.descriptors.targets
            own = {self.type_name(m.full) for m in self.messages.values() if m.file.name in targets}
            own |= {self.type_name(e.full) for e in self.enums.values() if e.file.name in targets}
            types = [t for t in types if t.name in own]
        return tuple(sorted(types, key=lambda t: t.name))


def _title_and_version(package: str) -> tuple[str, str]:
    """`polysdk.orchestrator.v1` → ("Orchestrator", "v1"): the SDK is named after the package's
    last word that is not a version."""
    parts = [p for p in package.split(".") if p]
    versions = [p for p in parts if p[:1] == "v" and p[1:2].isdigit()]
    words = [p for p in parts if p not in versions]
    title = pascal(split_words(words[-1])) if words else "Api"
    return title, versions[-1] if versions else "1"


def _reachable_types(types: list[ir.NamedType], operations: tuple[ir.Operation, ...]) -> list[ir.NamedType]:
    """Only the types the operations use: a request message bound to a path and query is not a
    type of the SDK."""
    edges = {t.name: walks.definition_refs(t.definition) for t in types}
    used: list[ir.Type | None] = []
    for op in operations:
        used += [param.type for param in op.params]
        used += [content.type for content in (op.body.contents if op.body else ())]
        used += [content.type for response in op.responses for content in response.contents]
    reached = walks.reachable(edges, [name for t in used for name in walks.type_refs(t)])
    return [t for t in types if t.name in reached]


def build_api(descriptors: Descriptors) -> ir.Api:
    return _Builder(descriptors).build()

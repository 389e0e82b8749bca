"""The protobuf front end: given a .proto, want this IR (and these decisions).

Each test writes a small contract and checks one part of the mapping: the proto3 JSON mapping of
messages and well-known types, the two HTTP bindings (google.api.http transcoding and the Connect
protocol), and how a contract that protoc refuses is reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from polysdk import ir
from polysdk.decisions import PageStyle, ResultKind, build_decisions
from polysdk.errors import ContractError
from polysdk.frontends import ReadOptions, read_api
from polysdk.frontends.proto.descriptors import include_paths

from .conftest import PROTO_SPEC

HEADER = """syntax = "proto3";
package acme.shop.v2;
import "google/api/annotations.proto";
import "google/api/field_behavior.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
"""

MESSAGES = """
// An order.
// Second line.
message Order {
  string order_id = 1 [(google.api.field_behavior) = OUTPUT_ONLY];
  int64 total_cents = 2;
  uint32 items = 3;
  optional int32 priority = 4;
  repeated string tags = 5;
  map<string, int64> counts = 6;
  Status status = 7;
  google.protobuf.Timestamp placed_at = 8;
  google.protobuf.Duration ttl = 9;
  google.protobuf.Struct extra = 10;
  google.protobuf.Value anything = 11;
  google.protobuf.StringValue note = 12;
  bytes blob = 13;
  google.protobuf.FieldMask mask = 14;
  string secret = 15 [(google.api.field_behavior) = INPUT_ONLY];
  string old = 16 [deprecated = true];
  string custom = 17 [json_name = "custom_name"];
  oneof payment {
    Card card = 18;
    string voucher = 19;
  }
  Line.Kind line_kind = 20;
}
message Card { string number = 1; }
message Line {
  enum Kind { KIND_UNSPECIFIED = 0; KIND_GOOD = 1; }
}
enum Status {
  STATUS_UNSPECIFIED = 0;
  // Paid in full.
  STATUS_PAID = 1;
}
"""


def _write(tmp_path: Path, body: str, name: str = "shop.proto") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _api(tmp_path: Path, body: str) -> ir.Api:
    return read_api(_write(tmp_path, body))


def _fields(api: ir.Api, name: str) -> dict[str, ir.Field]:
    definition = api.types_by_name[name].definition
    assert isinstance(definition, ir.ObjectDef)
    return {f.wire_name: f for f in definition.fields}


def _op(api: ir.Api, op_id: str) -> ir.Operation:
    return next(op for op in api.operations if op.id == op_id)


def test_messages_follow_the_proto3_json_mapping(tmp_path: Path) -> None:
    api = _api(tmp_path, MESSAGES)
    fields = _fields(api, "Order")
    quoted = ir.PrimitiveType(ir.Prim.INT64, quoted=True)
    want: dict[str, ir.Type] = {
        "orderId": ir.PrimitiveType(ir.Prim.STRING),  # json_name: lowerCamelCase
        "totalCents": quoted,  # 64-bit integers are JSON strings
        "items": ir.PrimitiveType(ir.Prim.INTEGER),
        "priority": ir.PrimitiveType(ir.Prim.INT32),
        "tags": ir.ArrayType(ir.PrimitiveType(ir.Prim.STRING)),
        "counts": ir.MapType(quoted),
        "status": ir.NamedRef("Status"),
        "placedAt": ir.PrimitiveType(ir.Prim.DATE_TIME),
        "ttl": ir.PrimitiveType(ir.Prim.STRING),
        "extra": ir.MapType(ir.PrimitiveType(ir.Prim.ANY)),
        "anything": ir.PrimitiveType(ir.Prim.ANY),
        "note": ir.Nullable(ir.PrimitiveType(ir.Prim.STRING)),
        "blob": ir.PrimitiveType(ir.Prim.BYTES),
        "mask": ir.PrimitiveType(ir.Prim.STRING),
        "custom_name": ir.PrimitiveType(ir.Prim.STRING),  # an explicit json_name wins
        "card": ir.NamedRef("Card"),
        "voucher": ir.PrimitiveType(ir.Prim.STRING),
        "lineKind": ir.NamedRef("LineKind"),  # nested names are joined
    }
    assert {name: f.type for name, f in fields.items() if name in want} == want
    assert not any(f.required for f in fields.values()), "proto3 omits defaults: nothing is required"
    assert fields["orderId"].read_only and fields["secret"].write_only
    assert fields["old"].docs.deprecated
    assert "At most one field of the `payment` group is set." in fields["card"].docs.description
    assert api.types_by_name["Order"].docs.description == "An order.\nSecond line."
    status = api.types_by_name["Status"].definition
    assert isinstance(status, ir.EnumDef) and status.base is ir.Prim.STRING
    assert [v.value for v in status.values] == ["STATUS_UNSPECIFIED", "STATUS_PAID"]
    assert status.values[1].docs.description == "Paid in full."


def test_annotated_methods_are_transcoded_rest(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        MESSAGES
        + """
message GetOrderRequest { string order_id = 1; }
message UpdateOrderRequest { Order order = 1; google.protobuf.FieldMask update_mask = 2; }
message ListOrdersRequest { int32 page_size = 1; string page_token = 2; repeated Status statuses = 3;
  google.protobuf.Timestamp since = 4; Card card = 5; }
message ListOrdersResponse { repeated Order orders = 1; string next_page_token = 2; }
message ShipRequest { string order_id = 1; string carrier = 2; }
message Receipt { google.protobuf.Struct data = 1; }
// Orders of the shop.
service OrderService {
  rpc GetOrder(GetOrderRequest) returns (Order) {
    option (google.api.http) = {get: "/v2/{order_id=orders/*}"};
  }
  rpc UpdateOrder(UpdateOrderRequest) returns (Order) {
    option (google.api.http) = {patch: "/v2/orders/{order.order_id}" body: "order"};
  }
  rpc ListOrders(ListOrdersRequest) returns (ListOrdersResponse) {
    option (google.api.http) = {get: "/v2/orders"};
  }
  rpc Ship(ShipRequest) returns (google.protobuf.Empty) {
    option (google.api.http) = {post: "/v2/orders/{order_id}:ship" body: "*"};
    option idempotency_level = IDEMPOTENT;
  }
  rpc GetReceipt(GetOrderRequest) returns (Receipt) {
    option (google.api.http) = {get: "/v2/orders/{order_id}/receipt" response_body: "data"};
  }
}
""",
    )
    get = _op(api, "getOrder")
    assert (get.http.method, get.http.path, get.http.protocol) == ("GET", "/v2/{order_id}", ir.Protocol.REST)
    assert get.http.status_errors, "transcoders write google.rpc.Status error bodies"
    assert get.tags == ("Order",)
    update = _op(api, "updateOrder")
    assert update.http.path == "/v2/orders/{order.order_id}"
    assert [(p.wire_name, p.location) for p in update.params] == [
        ("order.order_id", ir.ParamLocation.PATH),
        ("updateMask", ir.ParamLocation.QUERY),
    ]
    assert update.body is not None and update.body.contents[0].type == ir.NamedRef("Order")
    listing = _op(api, "listOrders")
    assert [p.wire_name for p in listing.params] == ["pageSize", "pageToken", "statuses", "since"]
    statuses = next(p for p in listing.params if p.wire_name == "statuses")
    assert (statuses.style, statuses.explode) == ("form", True)
    ship = _op(api, "ship")
    body = ship.body.contents[0].type if ship.body else None
    assert body == ir.NamedRef("ShipRequestBody")  # the request without the path's field
    assert list(_fields(api, "ShipRequestBody")) == ["carrier"]
    assert ship.responses[0].contents == () and ship.idempotent is True
    receipt = _op(api, "getReceipt").responses[0].contents[0].type
    assert receipt == ir.MapType(ir.PrimitiveType(ir.Prim.ANY))  # response_body: the field's type
    assert any("'order_id' matches 'orders/*'" in w for w in api.warnings)
    assert any("'card' cannot be a query parameter" in w for w in api.warnings)
    assert "GetOrderRequest" not in api.types_by_name  # bound to path and query, not a type

    decisions = build_decisions(api)
    pages = next(s for s in decisions.operations if s.operation.id == "listOrders").pagination
    assert pages is not None and pages.style is PageStyle.CURSOR and not pages.cursor_in_body
    assert (pages.cursor_param, pages.next_cursor_field, pages.items_field) == (
        "pageToken",
        "nextPageToken",
        "orders",
    )
    retryable = {s.operation.id: s.retryable for s in decisions.operations}
    assert retryable["ship"] and retryable["getOrder"] and not retryable["updateOrder"]


def test_unannotated_methods_use_the_connect_protocol(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        MESSAGES
        + """
message ListRequest { int32 page_size = 1; string page_token = 2; }
message ListResponse { repeated Order orders = 1; string next_page_token = 2; }
service Orders {
  rpc List(ListRequest) returns (ListResponse) { option idempotency_level = NO_SIDE_EFFECTS; }
  rpc Watch(google.protobuf.Empty) returns (stream Order);
  rpc Place(Order) returns (google.protobuf.Empty);
  rpc Upload(stream Order) returns (Order);
  rpc Chat(stream Order) returns (stream Order);
}
""",
    )
    assert [op.id for op in api.operations] == ["list", "watch", "place"]
    listing = _op(api, "list")
    assert listing.http == ir.HttpBinding("POST", "/acme.shop.v2.Orders/List", ir.Protocol.CONNECT)
    assert listing.body is not None and listing.body.contents[0].media_type == "application/json"
    watch = _op(api, "watch")
    assert watch.body is not None and watch.body.contents[0].media_type == "application/connect+json"
    assert watch.body.contents[0].type == ir.NamedRef("Empty")  # sent as {}
    assert _op(api, "place").responses[0].contents == ()
    assert any("Orders/Upload: client-streaming" in w for w in api.warnings)
    assert any("Orders/Chat: bidirectional-streaming" in w for w in api.warnings)

    shapes = {s.operation.id: s for s in build_decisions(api).operations}
    assert shapes["watch"].result.kind is ResultKind.CONNECT_STREAM and shapes["watch"].streaming
    assert shapes["list"].retryable and not shapes["place"].retryable
    pages = shapes["list"].pagination
    assert pages is not None and pages.cursor_in_body and pages.cursor_param == "pageToken"


def test_the_orchestrator_contract_reads_with_one_warning() -> None:
    api = read_api(PROTO_SPEC)
    assert len(api.operations) == 23
    assert list(api.warnings) == [
        "polysdk.orchestrator.v1.MessagingService/Converse: bidirectional-streaming methods need HTTP/2 "
        "end to end; the HTTP/1.1 SDKs leave this method out"
    ]
    assert {op.http.protocol for op in api.operations} == {ir.Protocol.REST, ir.Protocol.CONNECT}
    assert api.title == "Orchestrator" and api.version == "v1"


def test_a_syntax_error_is_one_located_message_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.proto"
    path.write_text('syntax = "proto3";\n\nmessage A {\n  strin name = 1;\n}\n', encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        read_api(path)
    assert str(caught.value.location) == f"{path}:4"
    result = subprocess.run(
        [sys.executable, "-m", "polysdk", "generate", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "bad.proto:4" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_imports_resolve_through_dash_i(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "money.proto").write_text(
        'syntax = "proto3";\npackage acme.common;\nmessage Money { int64 units = 1; }\n', encoding="utf-8"
    )
    body = 'syntax = "proto3";\npackage acme.pay;\nimport "money.proto";\n'
    body += "message Charge { acme.common.Money amount = 1; }\n"
    body += "service Pay { rpc Create(Charge) returns (Charge); }\n"
    contract = tmp_path / "api" / "pay.proto"
    contract.parent.mkdir()
    contract.write_text(body, encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        read_api(contract)
    assert "-I" in caught.value.hint
    api = read_api(contract, ReadOptions(import_paths=(shared,)))
    assert set(api.types_by_name) == {"Charge", "Money"}


def test_a_descriptor_set_is_read_like_the_proto(tmp_path: Path) -> None:
    out = tmp_path / "api.binpb"
    command = [sys.executable, "-m", "grpc_tools.protoc"]
    command += [f"-I{p}" for p in include_paths((PROTO_SPEC.parent,))]
    command += ["--include_imports", f"--descriptor_set_out={out}", str(PROTO_SPEC)]
    subprocess.run(command, check=True)
    from_set = read_api(out)
    from_proto = read_api(PROTO_SPEC)
    assert [op.id for op in from_set.operations] == [op.id for op in from_proto.operations]
    assert [t.name for t in from_set.types] == [t.name for t in from_proto.types]
    garbage = tmp_path / "garbage.pb"
    garbage.write_bytes(b"\xff\xff\xff")
    with pytest.raises(ContractError, match="not a FileDescriptorSet"):
        read_api(garbage)

"""The Go client: one service per group (`client.Agents`), one method per operation named from its
operationId without the group's words (listAgents → Agents.List), and the client-wide defaults
(base URL, environment variables, credentials) rendered from decisions.client."""

from __future__ import annotations

from dataclasses import dataclass, field

from polysdk.decisions import Decisions, OperationShape
from polysdk.literals import go_string, line_comment
from polysdk.views.common import method_words
from polysdk.views.go.godoc import go_doc
from polysdk.views.go.models import GoModels
from polysdk.views.go.operations import GoOperation, MethodRole, OperationBuilder, write_methods
from polysdk.views.go.types import GoTypes, exported_namer


@dataclass
class GoService:
    field: str  # the Client field
    type: str
    doc: list[str]
    operations: list[GoOperation]


@dataclass
class GoClient:
    package: str
    imports: list[str]
    services: list[GoService]
    base_url: str  # Go literal
    env_prefix: str  # plain, e.g. ORCHESTRATOR
    env_base_url: str
    env_api_key: str
    env_bearer_token: str
    user_agent: str  # Go literal
    bearer: str  # "true" or "false"
    credentials: tuple[str, ...]  # decisions.client.credentials
    api_key_in: str  # Go literal
    api_key_name: str  # Go literal
    warnings: list[str] = field(default_factory=list)  # decisions the Go SDK cannot express

    def operations(self) -> list[tuple[GoService, GoOperation]]:
        return [(service, operation) for service in self.services for operation in service.operations]


def _exported(ident: str) -> str:
    return "N" + ident if not ident[:1].isalpha() else ident


def _unexported(name: str) -> str:
    return name[:1].lower() + name[1:]


def _name_derived(operations: list[GoOperation], taken: set[str]) -> None:
    """Derived method names (XxxPages, XxxAll) must not collide with a base name or each other."""
    for operation in operations:
        for method in operation.methods:
            if method.role in (MethodRole.CALL, MethodRole.STREAM):
                continue
            base, suffix = method.name, 2
            while method.name in taken:
                method.name, suffix = f"{base}{suffix}", suffix + 1
            taken.add(method.name)


def _service(
    decisions: Decisions, group: str, field_name: str, service_type: str, builder: OperationBuilder
) -> GoService:
    method_namer = exported_namer("Call", fix=_exported)
    shapes: list[OperationShape] = list(decisions.by_group(group))
    names = [
        method_namer.claim(" ".join(method_words(s.operation.id, group)) or s.operation.id) for s in shapes
    ]
    for name in names:
        method_namer.reserve(_unexported(name) + "Request")
    operations = [
        builder.operation(shape, name, _unexported(name) + "Request")
        for shape, name in zip(shapes, names, strict=True)
    ]
    _name_derived(operations, set(names))
    for operation in operations:
        write_methods(operation)
    tag_doc = next((tag.docs.text for tag in decisions.api.tags if tag.name == group), "")
    doc = line_comment(f"{service_type} holds the operations tagged {group!r}, as Client.{field_name}.", "//")
    return GoService(
        field=field_name,
        type=service_type,
        doc=doc + (["//", *go_doc(tag_doc)] if tag_doc else []),
        operations=operations,
    )


def _imports(services: list[GoService]) -> list[str]:
    imports = {"context"} if any(s.operations for s in services) else set()
    for service in services:
        for operation in service.operations:
            imports.update(path for f in operation.fields for path in f.type.imports)
            imports.update(path for m in operation.methods for path in (*m.returns.imports, *m.imports))
    return sorted(imports)


def build_client(
    decisions: Decisions, package: str, types: GoTypes, models: GoModels, user_agent: str
) -> GoClient:
    """The client with its services and operations, every method named and written."""
    builder = OperationBuilder(types, models)
    field_namer = exported_namer("Service")
    services = []
    for group in decisions.groups:
        field_name = field_namer.claim(group)
        service_type = types.namer.claim(f"{field_name} service")
        services.append(_service(decisions, group, field_name, service_type, builder))
    defaults = decisions.client
    api_key = defaults.api_key
    return GoClient(
        package=package,
        imports=_imports(services),
        services=services,
        base_url=go_string(defaults.base_url),
        env_prefix=defaults.env_prefix,
        env_base_url=go_string(defaults.env_base_url),
        env_api_key=go_string(defaults.env_api_key),
        env_bearer_token=go_string(defaults.env_bearer_token),
        user_agent=go_string(user_agent),
        bearer="true" if defaults.bearer else "false",
        credentials=defaults.credentials,
        api_key_in=go_string(api_key.location if api_key else ""),
        api_key_name=go_string(api_key.name if api_key else ""),
        warnings=builder.warnings,
    )

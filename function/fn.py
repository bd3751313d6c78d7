"""RunFunction: request -> spec -> plan -> resources -> response. No service knowledge lives here."""

from __future__ import annotations

import hashlib
import marshal
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import grpc
from crossplane.function import logging, request, resource, response
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1
from google.protobuf import struct_pb2

from function import capacity, placements, readiness, recompose, structs, tenancy
from function.input import platform_settings
from function.lru import LRU
from function.memo import MAX_BYTES, Answer, ResponseMemo, request_key
from function.observed import Digest, ObservedResources
from function.observed import summary as observed_summary
from function.observed import value as struct_value
from function.placements import PLACEMENT_ANNOTATION
from function.plan import Flavour, Plan, build_plan, integrations, with_existing_names, workspace_from_xr
from function.resources import (
    COMPONENT_ANNOTATION,
    EXTERNAL_NAME_ANNOTATION,
    HOLDS_DATA_ANNOTATION,
    RESOURCE_LABEL,
    Composed,
    owner_labels,
)
from function.secrets import SEED_KEY, SeedError, check_seed, decode_data, fingerprint_key, names_key, resolve
from function.services import (
    Context,
    Observed,
    SecretValues,
    backups,
    database,
    datastores,
    files,
    firecrawl,
    librechat,
    models,
    monitoring,
    network,
    placement,
    rag,
    searxng,
    speaches,
    speech,
)
from function.spec import SecretKeySelector, SpecError, parse_spec
from function.telemetry import Metrics
from function.xrds import CREDENTIALS_NAME

SERVICES = (datastores, librechat, searxng, firecrawl, speaches, models, database, rag, files, backups, network)
# The parts of the plan, in the order plan.build_plan assembles them: a part reads what the parts before it filled.
PLAN_PARTS = (
    datastores.plan_part,
    models.hosted_part,
    librechat.plan_part,
    network.plan_part,
    searxng.plan_part,
    firecrawl.plan_part,
    librechat.web_search_part,
    speaches.plan_part,
    speech.plan_part,
    rag.plan_part,
    models.plan_part,
    files.plan_part,
    backups.plan_part,
    placement.plan_part,
)
TARGET = fnv1.TARGET_COMPOSITE_AND_CLAIM


class MissingSecretError(SpecError):
    """A Secret or key the team references does not exist."""


def requirement_name(ref: SecretKeySelector) -> str:
    """The requirement under which Crossplane fetches the Secret a reference names (one per Secret)."""
    return f"secret-{ref.name}"


# Conditions of the XR (and its claim) a tool can wait on, e.g. `kubectl wait --for=condition=WorkspaceAvailable`;
# Crossplane's own Ready and Synced stay as they are.
AVAILABLE = "WorkspaceAvailable"  # every part ready, or what waits for what
DATA_RETAINED = "DataRetained"  # a resource holding data kept after the spec stopped wanting it
CONDITION_MESSAGE_LIMIT = 4096
# How long Crossplane may reuse a response instead of calling again (its alpha response cache); the SDK's default,
# stated here: a workspace's readiness is read from observed state on every call.
RESPONSE_TTL = timedelta(seconds=60)


def _condition(rsp: fnv1.RunFunctionResponse, kind: str, status: bool, reason: str, message: str) -> None:
    if len(message) > CONDITION_MESSAGE_LIMIT:
        message = message[: CONDITION_MESSAGE_LIMIT - 3] + "..."
    rsp.conditions.append(
        fnv1.Condition(
            type=kind,
            status=fnv1.STATUS_CONDITION_TRUE if status else fnv1.STATUS_CONDITION_FALSE,
            reason=reason,
            message=message,
            target=fnv1.TARGET_COMPOSITE_AND_CLAIM,
        )
    )


def _result(rsp: fnv1.RunFunctionResponse, severity: fnv1.Severity, reason: str, message: str) -> None:
    rsp.results.append(fnv1.Result(severity=severity, reason=reason, message=message, target=TARGET))


# Bounds of the work one workspace may ask of the shared function: the bytes of the Secret values it references
# (each copied once into LibreChat's env Secret) and of its response, well below gRPC's default 4 MiB message.
MAX_REFERENCED_VALUE = 64 * 1024
MAX_REFERENCED_TOTAL = 256 * 1024
MAX_RESPONSE_BYTES = 3 * 1024 * 1024
# What LibreChat reads as more than text in a header value: a placeholder it fills with a user's fields or
# tokens ({{...}}), an env reference (${...}), or a line break that would start another header.
_HEADER_UNSAFE = re.compile(r"[{][{]|[$][{]|[\x00-\x1f\x7f]")


def _referenced_values(req: fnv1.RunFunctionRequest, plan: Plan) -> dict[tuple[str, str], str] | None:
    """Values of the Secret keys the team references; None while Crossplane has yet to fetch them. Each Secret is
    read once, only the referenced keys are decoded, and their sizes are bounded before decoding."""
    fields: dict[tuple[str, str], str] = {}
    headers: set[tuple[str, str]] = set()
    for ref, field, sent_as_header in plan.references():
        fields.setdefault((ref.name, ref.key), field)
        if sent_as_header:
            headers.add((ref.name, ref.key))
    keys: dict[str, list[str]] = defaultdict(list)
    for ref in plan.referenced_secrets():
        keys[ref.name].append(ref.key)
    values: dict[tuple[str, str], str] = {}
    total = 0
    for secret_name, secret_keys in keys.items():
        requirement = requirement_name(SecretKeySelector(name=secret_name, key=secret_keys[0]))
        if requirement not in req.required_resources:
            return None
        found = req.required_resources[requirement].items
        where = f"Secret {plan.workspace.namespace}/{secret_name}"
        if not found:
            raise MissingSecretError(
                f"{where} does not exist; create it with key '{secret_keys[0]}', or fix the reference to it in the "
                f"spec ({fields[(secret_name, secret_keys[0])]})"
            )
        data_value = found[0].resource.fields.get("data")
        data = data_value.struct_value.fields if data_value and data_value.HasField("struct_value") else {}
        for key in secret_keys:
            field = fields[(secret_name, key)]
            encoded = data[key].string_value if key in data else ""
            if len(encoded) > (MAX_REFERENCED_VALUE * 4) // 3 + 4:
                raise SpecError(
                    f"{field}: {where} key '{key}' holds {len(encoded) * 3 // 4 // 1024} KiB; a referenced value "
                    f"may hold at most {MAX_REFERENCED_VALUE // 1024} KiB"
                )
            value = decode_data({key: encoded}).get(key) if encoded else None
            if not value:
                raise MissingSecretError(
                    f"{where} has no key '{key}' (it has: {', '.join(sorted(data)) or 'none'}); "
                    f"add the key or fix the reference to it in the spec ({field})"
                )
            if (secret_name, key) in headers and _HEADER_UNSAFE.search(value):
                raise SpecError(
                    f"{field}: {where} key '{key}' holds '{{{{', '${{' or a control character, which LibreChat "
                    f"would read as a placeholder or another header; store the header's value alone"
                )
            total += len(value)
            if total > MAX_REFERENCED_TOTAL:
                raise SpecError(
                    f"{field}: the Secret values the workspace references add up to more than "
                    f"{MAX_REFERENCED_TOTAL // 1024} KiB; reference fewer or smaller values"
                )
            values[(secret_name, key)] = value
    # What LibreChat reads is the header's prefix and the value together: '{' + '{X}}' is a placeholder too.
    for i, server in enumerate(plan.spec.librechat.mcp_servers):
        for j, header in enumerate(server.headers):
            sent = header.secret_ref
            if sent is not None and _HEADER_UNSAFE.search((header.prefix or "") + values[(sent.name, sent.key)]):
                raise SpecError(
                    f"spec.librechat.mcpServers[{i}].headers[{j}].secretRef: its prefix and the value of Secret "
                    f"{plan.workspace.namespace}/{sent.name} key '{sent.key}' together hold '{{{{' or '${{', which "
                    f"LibreChat would read as a placeholder; store the header's value alone"
                )
    return values


def _observed_secret_data(summaries: dict[str, dict[str, Any]], plan: Plan) -> dict[str, dict[str, str]]:
    names = {secret.secret for secret in plan.generated_secrets}
    out: dict[str, dict[str, str]] = {}
    for body in summaries.values():
        meta = body.get("metadata", {})
        if (
            body.get("kind") == "Secret"
            and meta.get("name") in names
            and meta.get("namespace") == plan.workspace.namespace
        ):
            out[meta["name"]] = decode_data(body.get("data"))
    return out


def _external_names(summaries: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The external name of each observed composed resource that has one, by key."""
    out = {}
    for key, body in summaries.items():
        name = (body.get("metadata", {}).get("annotations") or {}).get(EXTERNAL_NAME_ANNOTATION)
        if name:
            out[key] = name
    return out


def _connections(resources: Mapping[str, fnv1.Resource]) -> Callable[[str], dict[str, str]]:
    """A resource's decoded connection details by key ({} until published), each decoded once per call."""
    decoded: dict[str, dict[str, str]] = {}

    def connection(key: str) -> dict[str, str]:
        found = decoded.get(key)
        if found is None:
            details = resources[key].connection_details if key in resources else {}
            found = decoded[key] = {k: v.decode(errors="replace") for k, v in sorted(details.items())}
        return found

    return connection


KEPT_METADATA = ("name", "namespace", "labels", "annotations")


def _truthy(value: struct_pb2.Value) -> bool:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return bool(value.struct_value.fields)
    if kind == "list_value":
        return bool(value.list_value.values)
    return kind is not None and kind != "null_value" and bool(getattr(value, kind))


def _keep_as_observed(target: fnv1.Resource, observed: struct_pb2.Struct, key: str, owner: dict[str, str]) -> None:
    """A desired body that leaves an observed resource exactly as it is: Crossplane's own fields (status, and
    metadata but for the non-empty name, namespace, labels and annotations) dropped, the resource label added.
    Built in protobuf from the observed Struct: such a resource is usually large (a database, a bucket), and
    never needs converting to Python."""
    body = target.resource
    body.CopyFrom(observed)
    body.fields.pop("status", None)
    metadata = body.fields["metadata"].struct_value
    for name in list(metadata.fields):
        if name not in KEPT_METADATA or not _truthy(metadata.fields[name]):
            del metadata.fields[name]
    labels = metadata.fields["labels"].struct_value.fields
    for name, value in {**owner, RESOURCE_LABEL: key}.items():
        labels[name].string_value = value


def _retained(summaries: dict[str, dict[str, Any]], desired_keys: set[str]) -> list[Composed]:
    """Observed resources that hold data but the plan no longer wants: kept, never silently deleted."""
    kept = []
    for key, summary in summaries.items():
        annotations = summary.get("metadata", {}).get("annotations", {}) or {}
        if key in desired_keys or annotations.get(HOLDS_DATA_ANNOTATION) != "true":
            continue
        component = annotations.get(COMPONENT_ANNOTATION, "retained")
        kept.append(Composed(key, {}, component, holds_data=True, as_observed=True))
    return kept


def _non_finite(value: Any, path: str) -> str | None:
    """The path of the first NaN or infinite number in a Struct or Value, which JSON cannot carry."""
    if isinstance(value, struct_pb2.Struct):
        return next((p for k in sorted(value.fields) if (p := _non_finite(value.fields[k], f"{path}.{k}"))), None)
    kind = value.WhichOneof("kind")
    if kind == "number_value" and not math.isfinite(value.number_value):
        return path
    if kind == "struct_value":
        return _non_finite(value.struct_value, path)
    if kind == "list_value":
        items = value.list_value.values
        return next((p for i, v in enumerate(items) if (p := _non_finite(v, f"{path}[{i}]"))), None)
    return None


def _within_ceilings(plan: Plan, wanted: list[Composed]) -> None:
    """Refuse a workspace that takes more of the cluster than the platform lets one take, naming its largest parts."""
    per_part = capacity.totals(plan, wanted)
    over = tenancy.over_ceiling(capacity.summed(per_part), plan.platform.tenancy)
    if over:
        kind, message = over
        parts = ", ".join(capacity.largest(per_part, kind))
        raise SpecError(
            f"spec: {message}; the largest parts are {parts}: lower their replicas, autoscaling.maxReplicas, "
            f"resources.requests or storage, or ask the platform team to raise the ceiling"
        )


# A plan holds its parsed spec and what is derived from it: about 40 KiB for the examples (measured), more for
# a larger spec (its key holds the spec's and the Input's wire forms). At most 1.5 MiB (some 35 workspaces), none
# above 512 KiB.
PLAN_WEIGHT = 40 * 2**10
_plans: LRU[bytes, Plan] = LRU(3 * 2**19, largest=2**19)


def _plan(req: fnv1.RunFunctionRequest, name_key: bytes) -> tuple[Plan, bytes]:
    """The workspace's plan, and the key it is kept under: from the XR's identity, its spec, the Composition's
    input and the key of global names.

    A plan depends on nothing else, and Crossplane sends the same spec and input on call after call (every
    change to a composed resource's status is a new request), so plans are kept per distinct (workspace, spec
    wire form, input wire form, key). A spec that fails is refused afresh every time; only plans are kept."""
    composite = req.observed.composite.resource
    workspace = workspace_from_xr(observed_summary(composite))
    spec = composite.fields.get("spec")
    key = marshal.dumps(
        (
            (workspace.name, workspace.namespace, workspace.flavour.value),
            b"" if spec is None else spec.SerializeToString(deterministic=True),
            req.input.SerializeToString(deterministic=True),
            name_key,
        )
    )
    plan = _plans.get(key)
    if plan is None:
        raw: Any = {}
        if spec is not None:
            # A number JSON cannot hold (NaN, infinity) is the request's fault.
            where = _non_finite(spec, "spec")
            if where:
                raise SpecError(f"{where}: must be a finite number")
            raw = struct_value(spec)
        platform = platform_settings(resource.struct_to_dict(req.input))
        tenancy.check_pins(raw, workspace.flavour is Flavour.NAMESPACED, platform.tenancy)
        plan = build_plan(workspace, parse_spec(raw), platform, PLAN_PARTS, name_key=name_key)
        _plans.put(key, plan, weight=PLAN_WEIGHT + 8 * len(key))
    return plan, key


@dataclass(frozen=True)
class Output:
    """What a step composed: its resources without their bodies (what every call reads of them), the bodies in
    marshal form (read only by a step that reads other steps' output; several times smaller than Python data),
    and each resource's desired body in wire form (None for one kept as observed or held, whose body the response
    takes from what is observed)."""

    items: tuple[Composed, ...]
    bodies: bytes
    wires: tuple[bytes | None, ...]

    def composed(self) -> list[Composed]:
        """The resources with their bodies."""
        bodies = marshal.loads(self.bodies)
        return [replace(item, body=body) for item, body in zip(self.items, bodies, strict=True)]


_NO_BODY: dict[str, Any] = {}


def _output(plan: Plan, items: list[Composed]) -> Output:
    return Output(
        tuple(replace(item, body=_NO_BODY) for item in items),
        marshal.dumps(tuple(item.body for item in items)),
        tuple(_desired_wire(plan, item) for item in items),
    )


def _composed(outputs: list[recompose.Kept[Output]]) -> list[Composed]:
    return [item for kept in outputs for item in kept.value.composed()]


def _desired_wire(plan: Plan, item: Composed) -> bytes | None:
    """The wire form of the item's desired body as the response carries it: its key and its workspace as labels
    (Usages and selectors find it by its key, operators and tests by its workspace, in both flavours alike), and
    in a placement, where it was composed for (a later change of placement names it when refusing to leave data)."""
    if item.hold or item.as_observed:
        return None
    body = item.body
    labels = {**body.get("metadata", {}).get("labels", {}), **owner_labels(plan), RESOURCE_LABEL: item.key}
    metadata = {**body.get("metadata", {}), "labels": labels}
    if plan.placement is not None:
        placed = {PLACEMENT_ANNOTATION: plan.placement.name}
        metadata["annotations"] = {**metadata.get("annotations", {}), **placed}
    return structs.wire({**body, "metadata": metadata})


def _output_weight(output: Output) -> int:
    """About what a kept output weighs in memory: its bodies' marshal and wire forms, and its items."""
    return 512 + len(output.bodies) + sum(384 + len(wire or b"") for wire in output.wires)


def _message_weight(message: str | None) -> int:
    return 256 + len(message or "")


def _service_step(service: Any) -> Callable[[Context], Output]:
    def step(ctx: Context) -> Output:
        return _output(ctx.plan, service.compose(ctx))

    return step


_SERVICE_STEPS = tuple((service.__name__, _service_step(service)) for service in SERVICES)


def _refusal(check: Callable[[], None]) -> str | None:
    """The message of the SpecError `check` raises, None if it passes: a refusal is kept like any output."""
    try:
        check()
    except SpecError as err:
        return str(err)
    return None


def compose(
    req: fnv1.RunFunctionRequest, rsp: fnv1.RunFunctionResponse, digests: Mapping[str, Digest] | None = None
) -> tuple[bytes, int]:
    """Everything between the request and the response: the response's deterministic wire form (rsp holds all
    of it but the desired resources, spliced in wire form) and how many resources it desires; raises SpecError
    for requests it cannot serve. `digests` are the observed resources' own (function/observed.py), where the
    caller computed them already."""
    seed = check_seed(request.get_credentials(req, CREDENTIALS_NAME).data.get(SEED_KEY))
    plan, plan_key = _plan(req, names_key(seed))
    workspace = plan.workspace

    # Declare every requirement on every call: Crossplane resolves them until they stop changing.
    for ref in plan.referenced_secrets():
        response.require_resources(
            rsp, requirement_name(ref), "v1", "Secret", match_name=ref.name, namespace=workspace.namespace
        )
    referenced = _referenced_values(req, plan)
    if referenced is None:
        # Crossplane fetches the Secrets and calls again before applying anything.
        return rsp.SerializeToString(deterministic=True), 0

    observed = ObservedResources(req.observed.resources, digests)
    summaries = observed.summaries
    external_names = _external_names(summaries)
    plan = with_existing_names(plan, external_names)
    generated = resolve(seed, workspace, plan.generated_secrets, _observed_secret_data(summaries, plan))
    secrets = SecretValues(generated=generated, referenced=referenced, fingerprint_key=fingerprint_key(seed, workspace))
    view = Observed(summaries, observed, _connections(req.observed.resources))
    # Steps are kept per plan: its key, and the observed names with_existing_names may have taken.
    identity = hashlib.sha256(plan_key + marshal.dumps(sorted(external_names.items()))).digest()
    steps = recompose.Steps(plan, identity, view, secrets)

    outputs = [steps.run(name, (), step, _output_weight) for name, step in _SERVICE_STEPS]
    # Monitoring watches exactly what the services composed, so it reads their output; in a placement, the
    # Secrets they composed are carried to its cluster. Both read the bodies only when they run.
    services = list(outputs)
    outputs.append(
        steps.run(
            "monitoring",
            tuple(kept.serial for kept in services),
            lambda ctx: _output(ctx.plan, monitoring.compose(ctx, _composed(services))),
            _output_weight,
        )
    )
    monitored = list(outputs)
    outputs.append(
        steps.run(
            "placement",
            tuple(kept.serial for kept in monitored),
            lambda ctx: _output(ctx.plan, placement.compose(ctx, _composed(monitored))),
            _output_weight,
        )
    )
    wanted = [item for kept in outputs for item in kept.value.items]
    wires = [wire for kept in outputs for wire in kept.value.wires]
    serials = tuple(kept.serial for kept in outputs)
    for check in (
        steps.run(
            "ceilings",
            serials,
            lambda ctx: _refusal(lambda: _within_ceilings(ctx.plan, _composed(outputs))),
            _message_weight,
        ),
        steps.run(
            "check_move",
            serials,
            lambda ctx: _refusal(
                lambda: placements.check_move(
                    ctx.plan.spec,
                    [(item.key, item.body) for item in _composed(outputs) if item.holds_data],
                    ctx.observed,
                )
            ),
            _message_weight,
        ),
    ):
        if check.value is not None:
            raise SpecError(check.value)
    retained = _retained(summaries, {item.key for item in wanted})
    for item in retained:
        _result(
            rsp,
            fnv1.SEVERITY_WARNING,
            "DataRetained",
            f"{item.key} is no longer part of the workspace but holds data, so it is kept; "
            f"delete it explicitly once its data is no longer needed",
        )
    wanted += retained
    wires += [None] * len(retained)

    components: dict[str, list[tuple[str, bool, str]]] = defaultdict(list)
    held_back: list[str] = []
    owner = owner_labels(plan)
    entries: dict[str, bytes] = {}  # the desired resources in wire form, by key
    for item, wire in zip(wanted, wires, strict=True):
        waiting_on = [dep for dep in item.depends_on if dep not in observed]
        if item.key not in observed and (waiting_on or item.hold):
            why = f"waits for {item.hold or ', '.join(waiting_on)}"
            held_back.append(f"{item.key} {why}")
            components[item.component].append((item.key, False, why))
            continue
        ready = readiness.is_ready(summaries.get(item.key)) and not item.hold
        state = fnv1.READY_TRUE if ready else fnv1.READY_FALSE
        if item.hold or item.as_observed or item.key in entries or wire is None:
            desired = fnv1.Resource.FromString(entries.get(item.key, b""))
            if item.hold or item.as_observed:
                # Already exists: keep it exactly as observed (until what it waits for is there).
                _keep_as_observed(desired, req.observed.resources[item.key].resource, item.key, owner)
                if item.hold:
                    held_back.append(f"{item.key} keeps its current state until {item.hold}")
            else:
                desired.resource.MergeFromString(wire or b"")
            desired.ready = state
            entries[item.key] = desired.SerializeToString(deterministic=True)
        else:
            # Resource{resource: the body's Struct, ready}, as its deterministic serialization writes it.
            entries[item.key] = _RESOURCE_FIELD + _varint(len(wire)) + wire + _READY_FIELD + _varint(state)
        why = ""
        if not ready:
            why = f"waits for {item.hold}" if item.hold else readiness.waiting_reason(summaries.get(item.key))
        components[item.component].append((item.key, ready, why))

    if held_back:
        rsp.desired.composite.ready = fnv1.READY_FALSE

    statuses = []
    for name in sorted(components):
        parts = components[name]
        ready = all(ok for _, ok, _ in parts)
        entry: dict[str, Any] = {"name": name, "ready": ready}
        if not ready:
            entry["message"] = "; ".join(f"{key}: {why}" for key, ok, why in parts if not ok)
        statuses.append(entry)
    ready_count = sum(1 for s in statuses if s["ready"])
    component_ready = {s["name"]: s["ready"] for s in statuses}
    wired = [
        {
            "name": i.name,
            "provider": i.provider,
            "url": i.url,
            "ready": all(component_ready.get(c, False) for c in i.components),
        }
        for i in integrations(plan)
    ]
    structs.update(
        rsp.desired.composite,
        {
            "status": {
                "chatUrl": plan.chat_url,
                "readyComponents": f"{ready_count}/{len(statuses)}",
                "components": statuses,
                "integrations": wired,
            }
        },
    )

    waiting = [s for s in statuses if not s["ready"]]
    if waiting:
        message = "Waiting for " + "; ".join(f"{s['name']} ({s['message']})" for s in waiting)
        _result(rsp, fnv1.SEVERITY_NORMAL, "Waiting", message)
        _condition(rsp, AVAILABLE, False, "Waiting", message)
    else:
        _result(rsp, fnv1.SEVERITY_NORMAL, "Available", f"Workspace is ready at {plan.chat_url}")
        _condition(rsp, AVAILABLE, True, "Available", f"Workspace is ready at {plan.chat_url}")
    if retained:
        keys = ", ".join(item.key for item in retained)
        message = f"{keys}: no longer part of the workspace but holding data, so kept; delete explicitly when done"
        _condition(rsp, DATA_RETAINED, True, "DataRetained", message)
    else:
        _condition(rsp, DATA_RETAINED, False, "NothingRetained", "Every resource holding data is in the workspace")
    sent = _assembled(rsp, entries)
    if len(sent) > MAX_RESPONSE_BYTES:
        for key, resource_wire in entries.items():
            rsp.desired.resources[key].MergeFromString(resource_wire)
        raise SpecError(
            f"spec: the workspace composes {len(sent) // 1024} KiB of resources, more than the "
            f"{MAX_RESPONSE_BYTES // 1024} KiB one response may carry; compose fewer parts or smaller values"
        )
    return sent, len(entries)


# Tags of the fields the response is spliced from: RunFunctionResponse.desired (2), State.resources (2, a map
# entry: key 1, value 2), Resource.resource (1) and Resource.ready (3).
_ONE_BYTE = tuple(bytes((number,)) for number in range(0x80))
_RESOURCE_FIELD = b"\x0a"
_READY_FIELD = b"\x18"
_DESIRED_FIELD = b"\x12"
_ENTRY_FIELD = b"\x12"
_KEY_FIELD = b"\x0a"
_VALUE_FIELD = b"\x12"


def _varint(number: int) -> bytes:
    if number < 0x80:
        return _ONE_BYTE[number]
    if number < 0x4000:
        return bytes(((number & 0x7F) | 0x80, number >> 7))
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _upb_order(name: bytes) -> bytes:
    """The order of map keys in protobuf's (upb's) deterministic serialization: byte-wise, but a key before every
    key it is a prefix of (UTF-8 never holds 0xff). tests/test_recompose.py holds the splice to that form."""
    return name + b"\xff"


def _assembled(rsp: fnv1.RunFunctionResponse, entries: dict[str, bytes]) -> bytes:
    """rsp with `entries` as its desired resources, in the deterministic wire form (map entries by key) that
    rsp.SerializeToString(deterministic=True) gives once they are added, without parsing them into it: the
    fields in number order, desired (2) holding the composite (1) and then the resources (2) in upb's key order."""
    state: list[bytes] = [rsp.desired.SerializeToString(deterministic=True)]
    for name in sorted((key.encode() for key in entries), key=_upb_order):
        value = entries[name.decode()]
        name_size, value_size = _varint(len(name)), _varint(len(value))
        size = 2 + len(name_size) + len(name) + len(value_size) + len(value)
        state += (_ENTRY_FIELD, _varint(size), _KEY_FIELD, name_size, name, _VALUE_FIELD, value_size, value)
    desired = b"".join(state)
    head: bytes = fnv1.RunFunctionResponse(meta=rsp.meta).SerializeToString(deterministic=True)
    rest = fnv1.RunFunctionResponse()
    rest.CopyFrom(rsp)
    rest.ClearField("meta")
    rest.ClearField("desired")
    tail: bytes = rest.SerializeToString(deterministic=True)
    return head + _DESIRED_FIELD + _varint(len(desired)) + desired + tail


class FunctionRunner(grpcv1.FunctionRunnerServiceServicer):
    """Serves RunFunction for the AIWorkspace composition."""

    def __init__(self, memo_bytes: int = MAX_BYTES, metrics: Metrics | None = None) -> None:
        self.log = logging.get_logger()
        self.memo = ResponseMemo(memo_bytes)
        self.metrics = metrics

    async def RunFunction(
        self, req: fnv1.RunFunctionRequest, _: grpc.aio.ServicerContext | None
    ) -> fnv1.RunFunctionResponse:
        rsp: fnv1.RunFunctionResponse = fnv1.RunFunctionResponse.FromString(self.answer(req).wire)
        return rsp

    async def run_function_wire(self, req: fnv1.RunFunctionRequest, _: grpc.aio.ServicerContext | None) -> bytes:
        """RunFunction, the response in wire form: what the server sends as it is (function/server.py)."""
        return self.answer(req).wire

    def answer(self, req: fnv1.RunFunctionRequest) -> Answer:
        started = time.perf_counter()
        answer = self._run(req)
        if self.metrics is not None:
            self.metrics.observe(
                answer.severities, answer.resources, time.perf_counter() - started, memo=answer.from_memo
            )
            self.metrics.memo_size(self.memo.size, len(self.memo))
        return answer

    def _run(self, req: fnv1.RunFunctionRequest) -> Answer:
        """The response, from the memo or composed."""
        key, digests = request_key(req)
        answered = self.memo.get(key)
        if answered is not None:
            return answered
        log = self.log.bind(tag=req.meta.tag)
        rsp = response.to(req, ttl=RESPONSE_TTL)
        try:
            wire, resources = compose(req, rsp, digests)
        except (SpecError, SeedError) as err:
            # Nothing is applied on a fatal result, so existing resources stay exactly as they are.
            del rsp.results[:]
            del rsp.conditions[:]
            _result(rsp, fnv1.SEVERITY_FATAL, "InvalidWorkspace", str(err))
            log.info("cannot compose workspace", error=str(err))
            wire, resources = rsp.SerializeToString(deterministic=True), len(rsp.desired.resources)
        except Exception as err:
            del rsp.results[:]
            del rsp.conditions[:]
            _result(
                rsp,
                fnv1.SEVERITY_FATAL,
                "InternalError",
                f"function-ai-workspace failed to compose the workspace ({type(err).__name__}: {err}); "
                f"no resources were changed",
            )
            log.exception("unexpected error")
            wire, resources = rsp.SerializeToString(deterministic=True), len(rsp.desired.resources)
        answer = Answer(wire, tuple(result.severity for result in rsp.results), resources)
        self.memo.put(key, answer)
        return answer

"""A change to one part recomposes only what reads it, and the answer is the one a full compose gives, byte for byte
(function/recompose.py).

For every example (both flavours), from the request Crossplane sends once the workspace exists (`make bench`'s,
hack/bench.py), every single change Crossplane may send next: each observed resource's readiness flipped, its
status.atProvider changed, one field of its spec changed, its external name changed, the resource gone; each
connection detail changed or all of them gone; each generated Secret's value and each referenced Secret's value
changed; the XR's spec changed in one field. Each changed request is answered with the kept outputs of the request
before it, and then the unchanged request again (the change undone); both answers must equal those composed with
nothing kept. Services read the request only through the views that record their questions, which is what makes
reuse sound: a test reads every service module to hold it to that.
"""

from __future__ import annotations

import ast
import base64
import copy
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bench
import pytest
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function import fn, recompose, structs, yamltext
from function import observed as observed_resources
from function.fn import FunctionRunner
from function.resources import EXTERNAL_NAME_ANNOTATION
from function.services import Observed, SecretValues
from tests.helpers import fatal

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/xr.yaml"))
# Changes of one kind per example, at most (a fixed sample of the rest): enough to meet every service's questions
# while `make test` stays quick. Readiness flips, connection details and Secret values are all tried.
SAMPLED = 12

Change = tuple[str, Callable[[fnv1.RunFunctionRequest], None]]


def _answer(runner: FunctionRunner, req: fnv1.RunFunctionRequest) -> bytes:
    """The response as the function sends it, which is the deterministic wire form of the message it holds."""
    wire = runner.answer(req).wire
    assert fnv1.RunFunctionResponse.FromString(wire).SerializeToString(deterministic=True) == wire
    return wire


def _cold(req: fnv1.RunFunctionRequest) -> bytes:
    """The answer of a function that has kept nothing."""
    recompose.clear()
    return _answer(FunctionRunner(memo_bytes=0), req)


def _body(req: fnv1.RunFunctionRequest, key: str) -> dict[str, Any]:
    return resource.struct_to_dict(req.observed.resources[key].resource)


def _set_body(req: fnv1.RunFunctionRequest, key: str, body: dict[str, Any]) -> None:
    req.observed.resources[key].resource.CopyFrom(resource.dict_to_struct(body))


def _flip_ready(key: str) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        body = _body(req, key)
        conditions = body.setdefault("status", {}).setdefault("conditions", [])
        ready = next((c for c in conditions if c.get("type") == "Ready"), None)
        if ready is None:
            conditions.append({"type": "Ready", "status": "False", "reason": "Creating"})
        else:
            ready["status"] = "False" if ready.get("status") == "True" else "True"
            ready["reason"] = "Flipped"
        _set_body(req, key, body)

    return f"{key} readiness flipped", change


def _at_provider(key: str) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        body = _body(req, key)
        at_provider = body.setdefault("status", {}).setdefault("atProvider", {})
        for name, value in list(at_provider.items()):
            if isinstance(value, str):
                at_provider[name] = value + "-changed"
        at_provider.setdefault("id", "changed")
        _set_body(req, key, body)

    return f"{key} status.atProvider changed", change


def _first_string(data: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    if isinstance(data, str):
        return path
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for name, value in sorted(items, key=lambda item: str(item[0])):
        found = _first_string(value, (*path, name))
        if found is not None:
            return found
    return None


def _spec_field(key: str) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        body = _body(req, key)
        spec = body.setdefault("spec", {})
        path = _first_string(spec)
        if path is None:
            spec["changed"] = "field"
        else:
            parent = spec
            for name in path[:-1]:
                parent = parent[name]
            parent[path[-1]] += "-changed"
        _set_body(req, key, body)

    return f"{key} spec changed in one field", change


def _external_name(key: str) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        body = _body(req, key)
        annotations = body.setdefault("metadata", {}).setdefault("annotations", {})
        annotations[EXTERNAL_NAME_ANNOTATION] = (annotations.get(EXTERNAL_NAME_ANNOTATION) or key) + "-changed"
        _set_body(req, key, body)

    return f"{key} external name changed", change


def _removed(key: str) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        del req.observed.resources[key]

    return f"{key} gone", change


def _connection(key: str, name: str | None) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        details = req.observed.resources[key].connection_details
        if name is None:
            details.clear()
        else:
            details[name] = details[name] + b"-changed"

    return f"{key} connection {'details gone' if name is None else f'detail {name} changed'}", change


def _observed_secret(key: str, name: str) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        body = _body(req, key)
        body["data"][name] = base64.b64encode(b"another-value-0123456789abcdef").decode()
        _set_body(req, key, body)

    return f"{key} Secret value {name} changed", change


def _referenced_secret(requirement: str, name: str) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        item = req.required_resources[requirement].items[0]
        body = resource.struct_to_dict(item.resource)
        body["data"][name] = base64.b64encode(b"sk-another-value-0123456789").decode()
        item.resource.CopyFrom(resource.dict_to_struct(body))

    return f"referenced {requirement} value {name} changed", change


def _xr_field(path: tuple[str, ...], value: Any) -> Change:
    def change(req: fnv1.RunFunctionRequest) -> None:
        xr = resource.struct_to_dict(req.observed.composite.resource)
        parent = xr
        for name in path[:-1]:
            parent = parent.setdefault(name, {})
        parent[path[-1]] = value
        req.observed.composite.resource.CopyFrom(resource.dict_to_struct(xr))

    return f"XR {'.'.join(path)} changed", change


def _sampled(changes: list[Change], rng: random.Random) -> list[Change]:
    return changes if len(changes) <= SAMPLED else rng.sample(changes, SAMPLED)


def changes(req: fnv1.RunFunctionRequest, example: str) -> Iterator[Change]:
    """Every kind of single change to the request, each kind sampled to SAMPLED (readiness, connection details and
    Secret values in full)."""
    rng = random.Random(example)
    keys = sorted(req.observed.resources)
    yield from (_flip_ready(key) for key in keys)
    yield from (
        _connection(key, name) for key in keys for name in sorted(req.observed.resources[key].connection_details)
    )
    yield from (_connection(key, None) for key in keys if req.observed.resources[key].connection_details)
    for key in keys:
        body = _body(req, key)
        if body.get("kind") == "Secret":
            yield from (_observed_secret(key, name) for name in sorted(body.get("data") or {}))
    for requirement in sorted(req.required_resources):
        for item in req.required_resources[requirement].items[:1]:
            yield from (
                _referenced_secret(requirement, name)
                for name in sorted(resource.struct_to_dict(item.resource).get("data") or {})
            )
    managed = [key for key in keys if "status" in _body(req, key) and "atProvider" in _body(req, key)["status"]]
    yield from _sampled([_at_provider(key) for key in managed], rng)
    yield from _sampled([_spec_field(key) for key in keys], rng)
    yield from _sampled([_external_name(key) for key in keys], rng)
    yield from _sampled([_removed(key) for key in keys], rng)
    yield _xr_field(("spec", "librechat", "interface", "welcomeMessage"), "Changed welcome")
    yield _xr_field(("metadata", "labels", "changed"), "label")


@pytest.fixture(scope="module")
def converged() -> dict[str, fnv1.RunFunctionRequest]:
    return {name: bench.build_request(ROOT / "examples" / name) for name in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_change_recomposes_as_a_full_compose_does(
    example: str, converged: dict[str, fnv1.RunFunctionRequest]
) -> None:
    """Each single change, answered from the outputs kept for the request before it, and the request before it
    answered again after the change: each equal to the answer composed with nothing kept, byte for byte; and most
    steps are reused."""
    base = converged[example]
    base_answer = _cold(base)
    runner = FunctionRunner(memo_bytes=0)
    assert _answer(runner, base) == base_answer
    tried = 0
    for what, change in changes(base, example):
        req = fnv1.RunFunctionRequest()
        req.CopyFrom(base)
        change(req)
        warm = _answer(runner, req)
        undone = _answer(runner, base)
        assert warm == _cold(req), f"{example}: {what}: the kept outputs gave another answer"
        if what.startswith("XR "):
            assert fatal(fnv1.RunFunctionResponse.FromString(warm)) is None, f"{example}: {what} was refused"
        assert undone == base_answer, f"{example}: {what}, then undone: the kept outputs gave another answer"
        tried += 1
    assert tried >= len(base.observed.resources)


def test_a_status_change_reuses_the_services_outputs(converged: dict[str, fnv1.RunFunctionRequest]) -> None:
    """A resource's readiness that no service asks about recomposes no step; the readiness an AWS database's
    connection Secret waits on recomposes that service alone, and the steps that read every service's output
    (monitoring, placement, the ceilings, the placement-move check), since its output changed."""
    base = converged["aws-namespaced"]
    recompose.clear()
    runner = FunctionRunner(memo_bytes=0)
    _answer(runner, base)
    counted: list[recompose.Steps] = []
    original = recompose.Steps.__init__

    def counting(self: recompose.Steps, *args: Any) -> None:
        original(self, *args)
        counted.append(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recompose.Steps, "__init__", counting)
        for key, run_afresh in (("searxng-deployment", 0), ("aws-database-instance", 5)):
            req = fnv1.RunFunctionRequest()
            req.CopyFrom(base)
            _flip_ready(key)[1](req)
            _answer(runner, req)
            assert counted[-1].run_afresh == run_afresh, key
            assert counted[-1].reused == len(fn.SERVICES) + 4 - run_afresh, key


def test_the_kept_outputs_keep_within_their_budget(converged: dict[str, fnv1.RunFunctionRequest]) -> None:
    """Many distinct workspaces never grow the kept outputs past their budget."""
    recompose.clear()
    runner = FunctionRunner(memo_bytes=0)
    for number in range(40):
        for example in ("operations-namespaced", "plan-mixed-claims"):
            req = fnv1.RunFunctionRequest()
            req.CopyFrom(converged[example])
            xr = resource.struct_to_dict(req.observed.composite.resource)
            xr["metadata"]["name"] = f"{xr['metadata']['name']}-{number}"
            req.observed.composite.resource.CopyFrom(resource.dict_to_struct(xr))
            _answer(runner, req)
    kept = recompose._kept
    assert len(kept) and kept.size <= kept.budget
    assert all(weight <= kept.largest for _, weight in kept._entries.values())


VIEW_METHODS = {
    "observed": {name for name in vars(Observed) if not name.startswith("_") and name != "recording"},
    "secrets": {name for name in vars(SecretValues) if not name.startswith("_") and name != "recording"},
}
SERVICE_MODULES = sorted([*(ROOT / "function" / "services").glob("*.py"), *(ROOT / "function" / "clouds").glob("*.py")])


def _reads_outside_the_views(path: Path) -> list[str]:
    """Where a service module reads the request but through a view's question: ctx.observed.<anything but a
    question>, ctx.secrets.<likewise>, a private attribute, or the request's protobuf types."""
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            view = node.value.attr
            if view in VIEW_METHODS and node.attr not in VIEW_METHODS[view]:
                found.append(f"{path.name}:{node.lineno}: .{view}.{node.attr}")
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in VIEW_METHODS
        ):
            found.append(f"{path.name}:{node.lineno}: private .{node.attr}")
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and ("proto" in node.module or node.module in ("function.observed", "function.fn", "function.memo"))
        ):
            found.append(f"{path.name}:{node.lineno}: imports {node.module}")
        if isinstance(node, ast.Import) and any("proto" in alias.name for alias in node.names):
            found.append(f"{path.name}:{node.lineno}: imports the request's types")
    return found


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=[p.name for p in SERVICE_MODULES])
def test_services_read_the_request_only_through_the_views(path: Path) -> None:
    """A service that read the observed resources, their summaries or the Secret values otherwise than by a
    recorded question would be reused for a request that answers it otherwise: none does."""
    assert _reads_outside_the_views(path) == []


def test_the_view_check_finds_a_direct_read(tmp_path: Path) -> None:
    """The check above finds what it looks for: a module reading ctx.observed.summaries, ctx.observed._summaries,
    ctx.secrets.generated or the request's types."""
    module = tmp_path / "sneaky.py"
    module.write_text(
        "from crossplane.function.proto.v1 import run_function_pb2\n"
        "def compose(ctx):\n"
        "    a = ctx.observed.summaries\n"
        "    b = ctx.observed._summaries\n"
        "    c = ctx.secrets.generated\n"
        "    return ctx.observed.ready('x')\n"
    )
    found = _reads_outside_the_views(module)
    assert len(found) == 5, found


def test_caches_cleared_alike(converged: dict[str, fnv1.RunFunctionRequest]) -> None:
    """With every other cache emptied too (plans, Struct forms, YAML texts, summaries), a changed request answered
    from the kept outputs still equals a full compose: the kept outputs hold all they need."""
    base = converged["plan-mixed-namespaced"]
    runner = FunctionRunner(memo_bytes=0)
    _answer(runner, base)
    for cache in (fn._plans, structs._wire, yamltext._texts, observed_resources._summaries):
        cache.clear()
    req = copy.deepcopy(base)
    _flip_ready(sorted(base.observed.resources)[0])[1](req)
    assert _answer(runner, req) == _cold(req)

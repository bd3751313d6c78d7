"""The function's fast paths never change an answer: what it keeps between calls (the response memo, plans,
YAML text, Struct forms), the summaries of observed resources, and resources held as observed built in
protobuf (function/memo.py, lru.py, observed.py, fn.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import bench
import pytest
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from function import fn, recompose, structs, yamltext
from function import observed as observed_resources
from function.fn import KEPT_METADATA, RESOURCE_LABEL, FunctionRunner, _keep_as_observed
from function.lru import LRU
from function.memo import ResponseMemo
from function.observed import SUMMARY_METADATA, ObservedResources, summary, value
from tests.helpers import basic_spec, fatal, full_request, namespaced_xr, run, secret, yaml_docs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/xr.yaml"))


def _clear_caches() -> None:
    for cache in (fn._plans, structs._wire, yamltext._texts, observed_resources._summaries):
        cache.clear()
    recompose.clear()


def _answer(runner: FunctionRunner, req: fnv1.RunFunctionRequest) -> bytes:
    return asyncio.run(runner.RunFunction(req, None)).SerializeToString(deterministic=True)


@pytest.fixture(scope="module")
def converged() -> dict[str, fnv1.RunFunctionRequest]:
    """Each example's request once its workspace exists (every composed resource observed), as `make bench`
    sends it."""
    return {name: bench.build_request(ROOT / "examples" / name) for name in EXAMPLES}


def test_caches_never_change_a_response(converged: dict[str, fnv1.RunFunctionRequest]) -> None:
    """Every example answered with every cache empty, then again in the reverse order with the caches full of
    all the others (and from the memo): byte-identical."""
    cold = {}
    for name in EXAMPLES:
        _clear_caches()
        cold[name] = _answer(FunctionRunner(memo_bytes=0), converged[name])
    runner = FunctionRunner()
    for name in reversed(EXAMPLES):
        assert _answer(runner, converged[name]) == cold[name], name
        assert _answer(runner, converged[name]) == cold[name], f"{name} from the memo"


def test_a_repeated_request_is_answered_from_the_memo() -> None:
    runner = FunctionRunner()
    req = full_request(namespaced_xr())
    first = _answer(runner, req)
    assert len(runner.memo) == 1
    again = asyncio.run(runner.RunFunction(req, None))
    assert again.SerializeToString(deterministic=True) == first
    again.desired.resources.clear()  # the caller's copy: the memo keeps its own
    assert _answer(runner, req) == first
    assert len(runner.memo) == 1


def test_any_change_to_a_request_is_composed_afresh() -> None:
    """The spec, a Secret's value, the seed, an observed resource, the tag: each a new answer, equal to the
    answer of a function that never saw the first request."""
    runner = FunctionRunner()
    base = full_request(namespaced_xr())
    _answer(runner, base)
    spec = namespaced_xr()
    spec["spec"]["librechat"]["domain"] = "other.team-a.example.com"
    changed_secret = full_request(namespaced_xr())
    changed_secret.required_resources["secret-openai"].items[0].resource.CopyFrom(
        resource.dict_to_struct(secret("openai", {"api-key": "sk-another-key"}))
    )
    observed = full_request(namespaced_xr(), observed={"librechat-env": {"apiVersion": "v1", "kind": "Secret"}})
    tagged = full_request(namespaced_xr())
    tagged.meta.tag = "another"
    variants = [
        full_request(spec),
        changed_secret,
        full_request(namespaced_xr(), seed="another-seed-0123456789abcdef0123456789"),
        observed,
        tagged,
    ]
    for number, req in enumerate(variants, start=2):
        assert _answer(runner, req) == _answer(FunctionRunner(memo_bytes=0), req)
        assert len(runner.memo) == number


def test_fatal_answers_are_not_kept() -> None:
    runner = FunctionRunner()
    spec = namespaced_xr()
    spec["spec"]["librechat"]["domain"] = "not a domain"
    rsp = asyncio.run(runner.RunFunction(full_request(spec), None))
    assert fatal(rsp)
    assert len(runner.memo) == 0


def test_the_memo_keeps_within_its_budget() -> None:
    answer = FunctionRunner(memo_bytes=0).answer(full_request(namespaced_xr()))
    size = len(answer.wire)
    memo = ResponseMemo(max_bytes=2 * size + size // 2)
    for number in range(4):
        memo.put(bytes([number]), answer)
    assert len(memo) == 2 and memo.size <= memo._responses.budget
    assert memo.get(bytes([0])) is None and memo.get(bytes([3])) is not None
    off = ResponseMemo(max_bytes=0)
    off.put(b"k", answer)
    assert len(off) == 0 and off.get(b"k") is None


def test_lru_forgets_the_least_recently_used() -> None:
    cache: LRU[str, str] = LRU(2)
    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"  # now b is the oldest
    cache.put("c", "3")
    assert cache.get("b") is None and cache.get("a") == "1" and cache.get("c") == "3"
    weighed: LRU[str, str] = LRU(5, len)
    weighed.put("big", "123456")  # alone over the budget: not kept
    weighed.put("x", "123")
    weighed.put("x", "1234")  # replacing an entry re-weighs it
    assert len(weighed) == 1 and weighed.size == 4


def test_large_specs_never_grow_the_caches_past_their_budgets() -> None:
    """Caches of what a team writes weigh their entries in bytes: many distinct specs as large as admission
    allows keep every cache within its budget, and an entry larger than its cache's largest is not kept."""
    _clear_caches()
    for n in range(24):
        spec = basic_spec()
        spec["librechat"]["mcpServers"] = [
            {
                "name": f"tools{i}",
                "url": "https://mcp.example.com",
                "headers": [{"name": f"X-{j}", "value": f"{n}-" + "v" * 1000} for j in range(20)],
            }
            for i in range(12)
        ]
        assert fatal(run(full_request(namespaced_xr(spec)))) is None
    assert len(structs._wire), "the workspaces were composed and cached"
    assert not len(fn._plans), "a plan of a spec this large weighs more than the plans' cache keeps"
    for cache in (fn._plans, structs._wire, yamltext._texts, observed_resources._summaries):
        assert cache.size <= cache.budget and all(w <= cache.largest for _, w in cache._entries.values())
    assert fn._plans.size < 24 * 4 * 240_000, "the large plans were weighed, not counted"
    _clear_caches()


def test_observed_summaries_hold_what_the_function_reads(converged: dict[str, fnv1.RunFunctionRequest]) -> None:
    """A summary is the whole body's apiVersion, kind, metadata identity, conditions and a Secret's data; the
    whole body, read on demand, is what the SDK's struct_to_dict gives."""
    stored = yaml_docs(ROOT / "examples" / "ready-namespaced" / "observed-resources.yaml")
    stored.append(secret("generated", {"k": "v"}))
    for body in stored:
        struct = resource.dict_to_struct(body)
        whole = resource.struct_to_dict(struct)
        got = summary(struct)
        assert got["kind"] == whole["kind"] and got["apiVersion"] == whole["apiVersion"]
        assert got["metadata"] == {k: v for k, v in whole["metadata"].items() if k in SUMMARY_METADATA}
        assert got.get("status", {}).get("conditions") == whole.get("status", {}).get("conditions")
        assert got.get("data") == (whole.get("data") if whole["kind"] == "Secret" else None)
        wrapped = struct_pb2.Value()
        wrapped.struct_value.CopyFrom(struct)
        assert value(wrapped) == whole
    for req in converged.values():
        observed = ObservedResources(req.observed.resources)
        assert list(observed) == sorted(req.observed.resources)
        for key in observed:
            assert observed[key] == resource.struct_to_dict(req.observed.resources[key].resource)
        with pytest.raises(KeyError):
            observed["not-observed"]


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {},
        {"name": "db", "namespace": "team-a", "labels": {"a": "b"}, "annotations": {"x": "y"}},
        {"name": "db", "labels": {}, "annotations": None, "uid": "1", "resourceVersion": "7", "generation": 3},
        {"name": "", "namespace": "team-a", "managedFields": [{"manager": "crossplane"}], "finalizers": ["f"]},
    ],
)
def test_a_resource_kept_as_observed_loses_only_crossplanes_own_fields(metadata: dict[str, Any] | None) -> None:
    """Held back or retained, a resource's desired body is its observed body without status and without the
    metadata Crossplane and the API server own (or empty fields), plus the resource and workspace labels."""
    body: dict[str, Any] = {
        "apiVersion": "rds.aws.upbound.io/v1beta1",
        "kind": "Instance",
        "spec": {"forProvider": {"allocatedStorage": 20.0, "tags": [], "flag": False}},
        "status": {"atProvider": {"id": "db"}, "conditions": [{"type": "Ready", "status": "False"}]},
    }
    if metadata is not None:
        body["metadata"] = metadata
    kept = fnv1.Resource()
    owner = {"aiworkspace.io/workspace": "chat", "aiworkspace.io/namespace": "team-a"}
    _keep_as_observed(kept, resource.dict_to_struct(body), "database", owner)
    meta = {k: v for k, v in (metadata or {}).items() if k in KEPT_METADATA and v}
    labels = {**meta.get("labels", {}), **owner, RESOURCE_LABEL: "database"}
    expected = {k: v for k, v in body.items() if k not in ("metadata", "status")} | {
        "metadata": {**meta, "labels": labels}
    }
    assert resource.struct_to_dict(kept.resource) == expected

"""`make bench` measures the request Crossplane sends once a workspace exists (hack/bench.py build_request).

For every example, that request makes the function compose what the converged render through the real crossplane
CLI composes (`make render`, hack/xp.py converge): the same resources, the same bodies and the same XR status, so
nothing that waits (for a resource to exist, or for the connection details a provider publishes) is left out of
what is measured. Where an example's golden holds what providers report (its observed resources and connection
Secrets), the golden is that converged render and is held to it too; the other goldens are a first reconcile, whose
every resource the request composes as well.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Any

import bench
import pytest
import xp
import yaml
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.fn import FunctionRunner
from tests.helpers import fatal

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted(path.parent for path in (ROOT / "examples").glob("*/xr.yaml"))


def _documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@cache
def _converged(example: Path, address: str) -> list[dict[str, Any]]:
    return _documents(xp.converge(example, address))


def _answer(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
    return asyncio.run(FunctionRunner(memo_bytes=0).RunFunction(req, None))


def _body(doc: dict[str, Any]) -> dict[str, Any]:
    """What the function composes of a resource: all but the metadata Crossplane adds and the status."""
    return {k: v for k, v in doc.items() if k not in ("metadata", "status")}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_bench_request_composes_the_converged_render(example: Path, function_address: str, tools: xp.Tools) -> None:
    """The bench's request composes exactly the converged render's resources, bodies and XR status; the golden's
    resources are all among them, and they are the golden's own where the golden holds what providers report."""
    rsp = _answer(bench.build_request(example))
    assert fatal(rsp) is None
    desired = {key: resource.struct_to_dict(r.resource) for key, r in rsp.desired.resources.items()}
    xr, *composed = _converged(example, function_address)
    rendered = {xp.resource_key(doc): doc for doc in composed}
    assert sorted(desired) == sorted(rendered), (
        f"only in the bench's request: {sorted(set(desired) - set(rendered))}; "
        f"only in the converged render: {sorted(set(rendered) - set(desired))}"
    )
    changed = sorted(key for key in desired if _body(desired[key]) != _body(rendered[key]))
    assert not changed, f"composed otherwise than in the converged render: {changed}"
    status = resource.struct_to_dict(rsp.desired.composite.resource)["status"]
    assert status == {field: xr["status"].get(field) for field in status}

    golden = {xp.resource_key(doc) for doc in _documents((GOLDEN / f"{example.name}.yaml").read_text())[1:]}
    assert golden <= set(desired), f"in the golden, not in the bench's request: {sorted(golden - set(desired))}"
    if (example / "observed-resources.yaml").exists():
        assert golden == set(desired), f"waiting in the golden only: {sorted(set(desired) - golden)}"


def test_bench_request_carries_the_connection_details(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every observed resource whose connection Secret the example holds carries its details in the request, so
    what waits for them is composed: aws-namespaced's MongoDB backup and restore CronJobs, which wait for the
    bucket's access key. Built without the details (as the bench once did), the request leaves them out."""
    example = ROOT / "examples" / "aws-namespaced"
    observed, connections = xp.example_state(example)
    assert {"aws-files-access-key", "aws-database-instance"} <= set(connections)
    req = bench.build_request(example)
    for key, details in connections.items():
        got = req.observed.resources[key].connection_details
        assert {name: value.decode() for name, value in got.items()} == details, key
    waiting = {"backup-cronjob", "mongodb-restore-cronjob"}
    assert waiting <= set(_answer(req).desired.resources)

    monkeypatch.setattr(xp, "example_state", lambda _: (observed, {}))
    assert not waiting & set(_answer(bench.build_request(example)).desired.resources)

"""`make bench`: speed and memory of RunFunction on each example's request, measured, never asserted.

Builds the request render would send (XR, observed resources, resolved Secrets, credentials), runs
RunFunction in-process N times, and prints wall time per call (min/median/p95) and peak Python memory.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crossplane.function import logging, resource  # noqa: E402
from crossplane.function.proto.v1 import run_function_pb2 as fnv1  # noqa: E402

from function.fn import FunctionRunner, requirement_name  # noqa: E402
from function.input import platform_settings  # noqa: E402
from function.plan import build_plan, workspace_from_xr  # noqa: E402
from function.spec import parse_spec  # noqa: E402

ROUNDS = 200


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d] if path.exists() else []


def build_request(example: Path) -> fnv1.RunFunctionRequest:
    xr = yaml.safe_load((example / "xr.yaml").read_text())
    req = fnv1.RunFunctionRequest(observed=fnv1.State(composite=fnv1.Resource(resource=resource.dict_to_struct(xr))))
    for body in _docs(example / "observed-resources.yaml"):
        key = body["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
        req.observed.resources[key].resource.CopyFrom(resource.dict_to_struct(body))
    secrets = {d["metadata"]["name"]: d for d in _docs(example / "required-resources.yaml")}
    plan = build_plan(workspace_from_xr(xr), parse_spec(xr["spec"]), platform_settings({}))
    for ref in plan.referenced_secrets():
        bucket = req.required_resources[requirement_name(ref)]
        if ref.name in secrets:
            bucket.items.append(fnv1.Resource(resource=resource.dict_to_struct(secrets[ref.name])))
    req.credentials["workspace-seed"].credential_data.data["seed"] = b"bench-seed-0123456789abcdef0123456789"
    return req


async def measure(req: fnv1.RunFunctionRequest) -> tuple[list[float], int, int]:
    runner = FunctionRunner()
    await runner.RunFunction(req, None)  # warm up imports and caches
    times = []
    tracemalloc.start()
    for _ in range(ROUNDS):
        start = time.perf_counter()
        rsp = await runner.RunFunction(req, None)
        times.append(time.perf_counter() - start)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return times, peak, rsp.ByteSize()


def main() -> int:
    logging.configure(logging.Level.DISABLED)
    print(f"{'example':<22} {'min ms':>8} {'median ms':>10} {'p95 ms':>8} {'peak KiB':>9} {'response KiB':>13}")
    for example in sorted(p.parent for p in (ROOT / "examples").glob("*/xr.yaml")):
        times, peak, size = asyncio.run(measure(build_request(example)))
        ms = sorted(t * 1000 for t in times)
        p95 = ms[int(len(ms) * 0.95) - 1]
        print(
            f"{example.name:<22} {ms[0]:>8.2f} {statistics.median(ms):>10.2f} {p95:>8.2f} "
            f"{peak / 1024:>9.0f} {size / 1024:>13.1f}"
        )
    print(f"({ROUNDS} calls each, in-process, {sys.implementation.name} {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

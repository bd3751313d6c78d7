"""`make bench`: the function against the SDK's floor, over loopback gRPC, measured and never asserted.

    python hack/bench.py [--json FILE] [--markdown FILE] [--calls N] [--seconds S] [--workspaces W] [EXAMPLE...]

Serves two functions on the same runtime (`crossplane.function.cli`, insecure, loopback): this one
(`function.main`) and a no-op (`hack/noop_function.py`, an empty RunFunction). Both get the same request per
example: what Crossplane sends once the workspace exists (the XR, the resolved Secrets, the seed credentials,
and every composed resource observed: the example's observed resources as written there, with their status and
the connection details their providers publish, and the rest as composed, fed back until the desired set stops
changing, as `make render` converges; tests/test_bench.py holds it to the converged render). For each example,
each on a server of its own:

- repeated: the same request every call, as Crossplane sends while a workspace is steady, which the function
  answers from its memo of recent responses (function/memo.py): p50 and p99 of `--calls` sequential calls after
  a warm-up, and completed calls per second at 100 concurrent streams for `--seconds`;
- fresh: every call one observed resource's status changed from the call before (its Ready condition flipped,
  with a reason never sent before; the resources in turn): what a provider reporting a change costs, which the
  function answers by recomposing only the steps that asked about that resource (function/recompose.py);
  latency and throughput as for repeated;
- tag: every call a new meta.tag, nothing else changed: latency only;
- cold: `--workspaces` workspaces the server has not seen, one call each (the example under another name, its
  observed resources relabelled), then the server's steady RSS: composing from nothing, and memory with every
  cache as full as so many workspaces make it. The no-op gets the same calls for its RSS.

The no-op's latency and throughput are measured with the repeated request. It prints one row per example with
the ratios to the no-op and the issue 18 targets each row misses, and with `--json` a machine-readable summary.
Speed is measured here, never asserted by a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import grpc
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "hack"))

import xp  # noqa: E402
from crossplane.function import resource  # noqa: E402
from crossplane.function.proto.v1 import run_function_pb2 as fnv1  # noqa: E402
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

from function.fn import PLAN_PARTS, FunctionRunner, requirement_name  # noqa: E402
from function.input import platform_settings  # noqa: E402
from function.plan import build_plan, workspace_from_xr  # noqa: E402
from function.spec import parse_spec  # noqa: E402

STREAMS = 100
PASSES = 5  # renders fed back as observed, at most (as `make render`)
SERVERS = {
    # metrics served as in a cluster, on a port of its own
    "function": [sys.executable, "-m", "function.main", "--metrics-address", "127.0.0.1:0"],
    "noop": [sys.executable, str(ROOT / "hack" / "noop_function.py")],
}
# With --floor only: a server that answers with the example's response, composing nothing.
FLOOR = [sys.executable, str(ROOT / "hack" / "floor_function.py")]


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d] if path.exists() else []


def build_request(example: Path) -> fnv1.RunFunctionRequest:
    """What Crossplane sends once the example's workspace exists: the XR, the Secrets it references, the seed
    render uses (examples/function-credentials.yaml), the example's observed resources as written there with the
    connection details their providers publish (the example's connection Secrets, as `make render` feeds them),
    and every other composed resource as composed, fed back until the desired set stops changing."""
    return converge(example)[0]


def converge(
    example: Path, xr: dict[str, Any] | None = None, step_input: dict[str, Any] | None = None
) -> tuple[fnv1.RunFunctionRequest, fnv1.RunFunctionResponse]:
    """The converged request for the example (its XR, or `xr`; the input of the example's Composition, or
    `step_input`) and the function's response to it, composed in-process; a Fatal result raises."""
    xr = xr or yaml.safe_load((example / "xr.yaml").read_text())
    step_input = step_input or xp.step_input(example)
    req = fnv1.RunFunctionRequest(
        observed=fnv1.State(composite=fnv1.Resource(resource=resource.dict_to_struct(xr))),
        input=resource.dict_to_struct(step_input),
    )
    observed, connections = xp.example_state(example)
    for key, body in observed.items():
        req.observed.resources[key].resource.CopyFrom(resource.dict_to_struct(body))
    for key, details in connections.items():
        for name, value in sorted(details.items()):
            req.observed.resources[key].connection_details[name] = value.encode()
    secrets = {d["metadata"]["name"]: d for d in _docs(example / "required-resources.yaml")}
    plan = build_plan(workspace_from_xr(xr), parse_spec(xr["spec"]), platform_settings(step_input), PLAN_PARTS)
    for ref in plan.referenced_secrets():
        bucket = req.required_resources[requirement_name(ref)]
        if ref.name in secrets:
            bucket.items.append(fnv1.Resource(resource=resource.dict_to_struct(secrets[ref.name])))
    req.credentials["workspace-seed"].credential_data.data["seed"] = xp.render_seed()
    given = {
        key: fnv1.Resource(resource=r.resource, connection_details=r.connection_details)
        for key, r in req.observed.resources.items()
    }
    for _ in range(PASSES):
        rsp = asyncio.run(FunctionRunner(memo_bytes=0).RunFunction(req, None))
        fatal = [r.message for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL]
        if fatal:
            raise RuntimeError(f"the function refused {example.name}: {fatal[0]}")
        fed = {
            key: given[key] if key in given else fnv1.Resource(resource=r.resource)
            for key, r in rsp.desired.resources.items()
        }
        if fed.keys() == req.observed.resources.keys() and all(
            req.observed.resources[key] == r for key, r in fed.items()
        ):
            break
        req.observed.ClearField("resources")
        for key, r in sorted(fed.items()):
            req.observed.resources[key].CopyFrom(r)
    return req, rsp


@contextlib.contextmanager
def served(kind: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """(address, pid) of a freshly started server of `kind` (one of SERVERS, or "floor")."""
    address = f"127.0.0.1:{xp._free_port()}"
    proc = subprocess.Popen(
        [*(FLOOR if kind == "floor" else SERVERS[kind]), "--insecure", "--address", address],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        xp.wait_listening(proc, address, f"the {kind} server")
        yield address, proc.pid
    finally:
        xp.stop(proc)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _flip_status(body: struct_pb2.Struct, mark: str) -> None:
    """The resource's Ready condition flipped (added, not ready, where it has none), its reason `mark`: a change
    of the resource's status as a provider reports it."""
    conditions = body.fields["status"].struct_value.fields["conditions"].list_value
    for condition in conditions.values:
        fields = condition.struct_value.fields
        if "type" in fields and fields["type"].string_value == "Ready":
            fields["status"].string_value = "False" if fields["status"].string_value == "True" else "True"
            fields["reason"].string_value = mark
            return
    added = conditions.values.add().struct_value.fields
    added["type"].string_value = "Ready"
    added["status"].string_value = "False"
    added["reason"].string_value = mark


MODES = {
    "repeated": "the same request every call",
    "status": "every call one observed resource's status changed from the call before (resources in turn)",
    "tag": "every call a new meta.tag, nothing else changed",
    "workspace": "every call a workspace the function has not seen (another name, observed labels changed)",
}


class Requests:
    """The example's request as one stream sends it, call after call, in one of MODES."""

    def __init__(self, req: fnv1.RunFunctionRequest, mode: str, stream: int = 0) -> None:
        self.base = req
        self.req = fnv1.RunFunctionRequest()
        self.req.CopyFrom(req)
        self.mode, self.stream, self.count = mode, stream, 0
        self.keys = sorted(req.observed.resources)
        self.changed: str | None = None

    def next(self) -> fnv1.RunFunctionRequest:
        self.count += 1
        mark = f"Bench{self.stream}x{self.count}"
        if self.mode == "tag":
            self.req.meta.tag = mark
        elif self.mode == "status":
            if self.changed is not None:  # the previous change undone: one resource differs from the base
                self.req.observed.resources[self.changed].CopyFrom(self.base.observed.resources[self.changed])
            self.changed = self.keys[(self.stream + self.count) % len(self.keys)]
            _flip_status(self.req.observed.resources[self.changed].resource, mark)
        elif self.mode == "workspace":
            # Another name in the same namespace: the namespace's tenancy rules (a resource group named after
            # it) hold alike.
            metadata = self.base.observed.composite.resource.fields["metadata"].struct_value.fields
            named = self.req.observed.composite.resource.fields["metadata"].struct_value.fields
            name = f"w{self.stream}x{self.count}"
            if "namespace" in metadata:
                named["name"].string_value = f"{metadata['name'].string_value}-{name}"
            else:
                claim = metadata["labels"].struct_value.fields["crossplane.io/claim-name"].string_value
                named["labels"].struct_value.fields["crossplane.io/claim-name"].string_value = f"{claim}-{name}"
            for observed in self.req.observed.resources.values():
                labels = observed.resource.fields["metadata"].struct_value.fields["labels"].struct_value.fields
                labels["bench.aiworkspace.io/workspace"].string_value = name
        return self.req


async def _latencies(address: str, req: fnv1.RunFunctionRequest, calls: int, mode: str) -> tuple[list[float], int]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        requests = Requests(req, mode)
        rsp = await stub.RunFunction(req)
        for _ in range(20):  # warm up: imports, caches, the channel
            rsp = await stub.RunFunction(requests.next())
        times = []
        for _ in range(calls):
            message = requests.next()
            start = time.perf_counter()
            rsp = await stub.RunFunction(message)
            times.append(time.perf_counter() - start)
        return times, len(rsp.desired.resources)


async def _throughput(address: str, req: fnv1.RunFunctionRequest, seconds: float, mode: str) -> float:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        for _ in range(5):
            await stub.RunFunction(req)
        done = 0
        stop = time.perf_counter() + seconds

        async def stream(number: int) -> None:
            nonlocal done
            requests = Requests(req, mode, number)
            while time.perf_counter() < stop:
                await stub.RunFunction(requests.next())
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(stream(number) for number in range(STREAMS)))
        return done / (time.perf_counter() - start)


async def _workspaces(address: str, pid: int, req: fnv1.RunFunctionRequest, count: int) -> tuple[list[float], int]:
    """Latencies of `count` workspaces the server has not seen, one call each, and its RSS after them (every
    cache as full as they make it)."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        requests = Requests(req, "workspace")
        times = []
        for _ in range(count):
            message = requests.next()
            start = time.perf_counter()
            rsp = await stub.RunFunction(message)
            times.append(time.perf_counter() - start)
            refused = [r.message for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL]
            if refused:
                raise RuntimeError(f"a new workspace was refused: {refused[0]}")
    await asyncio.sleep(0.5)
    return times, rss_kib(pid)


@dataclass
class Row:
    example: str
    resources: int
    p50_ms: float
    p99_ms: float
    noop_p50_ms: float
    noop_p99_ms: float
    calls_per_s: float
    noop_calls_per_s: float
    fresh_p50_ms: float
    fresh_p99_ms: float
    fresh_calls_per_s: float
    tag_p50_ms: float
    cold_p50_ms: float
    cold_p99_ms: float
    workspaces: int
    rss_kib: int
    noop_rss_kib: int
    response_bytes: int = 0
    floor_p50_ms: float | None = None  # a server answering with this response, composing nothing (--floor)

    @property
    def p50_ratio(self) -> float:
        return self.p50_ms / self.noop_p50_ms

    @property
    def throughput_share(self) -> float:
        return self.calls_per_s / self.noop_calls_per_s

    @property
    def rss_ratio(self) -> float:
        return self.rss_kib / self.noop_rss_kib

    @property
    def fresh_p50_ratio(self) -> float:
        return self.fresh_p50_ms / self.noop_p50_ms

    @property
    def fresh_throughput_share(self) -> float:
        return self.fresh_calls_per_s / self.noop_calls_per_s

    @property
    def tag_p50_ratio(self) -> float:
        return self.tag_p50_ms / self.noop_p50_ms

    @property
    def cold_p50_ratio(self) -> float:
        return self.cold_p50_ms / self.noop_p50_ms

    @property
    def floor_p50_ratio(self) -> float | None:
        return None if self.floor_p50_ms is None else self.floor_p50_ms / self.noop_p50_ms

    @property
    def ms_per_resource(self) -> float:
        """The cold p50 above the no-op's, per composed resource: what composing costs when nothing is kept."""
        return (self.cold_p50_ms - self.noop_p50_ms) / max(self.resources, 1)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(example: Path, calls: int, seconds: float, workspaces: int, floor: bool = False) -> Row:
    req, rsp = converge(example)
    floor_p50 = None
    if floor:
        with tempfile.TemporaryDirectory() as scratch:
            answer = Path(scratch) / "response.bin"
            answer.write_bytes(rsp.SerializeToString(deterministic=True))
            with served("floor", {"FLOOR_RESPONSE": str(answer)}) as (address, _):
                times, _ = asyncio.run(_latencies(address, req, calls, "repeated"))
                floor_p50 = statistics.median(t * 1000 for t in times)
    timing: dict[tuple[str, str], dict[str, Any]] = {}
    runs = (
        ("function", "repeated", True),
        ("function", "status", True),
        ("function", "tag", False),
        ("noop", "repeated", True),
    )
    for kind, mode, saturate in runs:
        with served(kind) as (address, _):
            times, resources = asyncio.run(_latencies(address, req, calls, mode))
            ms = [t * 1000 for t in times]
            timing[kind, mode] = {
                "p50": statistics.median(ms),
                "p99": _pct(ms, 0.99),
                "resources": resources,
                "throughput": asyncio.run(_throughput(address, req, seconds, mode)) if saturate else 0.0,
            }
    memory = {}
    cold: list[float] = []
    for kind in SERVERS:
        with served(kind) as (address, pid):
            times, memory[kind] = asyncio.run(_workspaces(address, pid, req, workspaces))
            if kind == "function":
                cold = [t * 1000 for t in times]
    fn, fresh, noop = timing["function", "repeated"], timing["function", "status"], timing["noop", "repeated"]
    return Row(
        example=example.name,
        resources=fn["resources"],
        p50_ms=fn["p50"],
        p99_ms=fn["p99"],
        noop_p50_ms=noop["p50"],
        noop_p99_ms=noop["p99"],
        calls_per_s=fn["throughput"],
        noop_calls_per_s=noop["throughput"],
        fresh_p50_ms=fresh["p50"],
        fresh_p99_ms=fresh["p99"],
        fresh_calls_per_s=fresh["throughput"],
        tag_p50_ms=timing["function", "tag"]["p50"],
        cold_p50_ms=statistics.median(cold),
        cold_p99_ms=_pct(cold, 0.99),
        workspaces=workspaces,
        rss_kib=memory["function"],
        noop_rss_kib=memory["noop"],
        response_bytes=rsp.ByteSize(),
        floor_p50_ms=floor_p50,
    )


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({cpu}), {platform.python_implementation()} {platform.python_version()}"


# Issue 18's targets, each a (figure, bound, at most?) on every row.
TARGETS = {
    "fresh p50": ("fresh_p50_ratio", 2.5, True),
    "fresh throughput": ("fresh_throughput_share", 0.30, False),
    "repeated p50": ("p50_ratio", 1.3, True),
    "RSS": ("rss_ratio", 1.6, True),
}


def missed(row: Row) -> list[str]:
    """The targets the row misses."""
    out = []
    for name, (figure, bound, at_most) in TARGETS.items():
        value = getattr(row, figure)
        if (value > bound) if at_most else (value < bound):
            out.append(name)
    return out


def markdown(rows: list[Row]) -> str:
    """The README's table: the repeated request, a changed status (fresh), a new tag, a new workspace (cold),
    memory after the new workspaces, and the targets missed."""
    lines = [
        "| example | res | no-op p50 ms | repeated p50 | ratio | share | fresh p50 | ratio | fresh calls/s | share "
        "| tag p50 | ratio | cold p50 | ratio | RSS MiB | no-op MiB | ratio | missed |",
        "|---|" + "---|" * 17,
    ]
    for r in rows:
        lines.append(
            f"| `{r.example}` | {r.resources} | {r.noop_p50_ms:.2f} | {r.p50_ms:.2f} | {r.p50_ratio:.2f}x "
            f"| {r.throughput_share:.0%} | {r.fresh_p50_ms:.2f} | {r.fresh_p50_ratio:.2f}x | {r.fresh_calls_per_s:.0f} "
            f"| {r.fresh_throughput_share:.0%} | {r.tag_p50_ms:.2f} | {r.tag_p50_ratio:.2f}x | {r.cold_p50_ms:.2f} "
            f"| {r.cold_p50_ratio:.1f}x | {r.rss_kib / 1024:.1f} | {r.noop_rss_kib / 1024:.1f} | {r.rss_ratio:.2f}x "
            f"| {', '.join(missed(r)) or '-'} |"
        )
    floors = [r for r in rows if r.floor_p50_ms is not None]
    if floors:
        lines += [
            "",
            "| example | response KiB | no-op p50 ms | floor p50 ms | ratio | repeated p50 ms | ratio |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| `{r.example}` | {r.response_bytes / 1024:.0f} | {r.noop_p50_ms:.2f} | {r.floor_p50_ms:.2f} "
            f"| {r.floor_p50_ratio:.2f}x | {r.p50_ms:.2f} | {r.p50_ratio:.2f}x |"
            for r in floors
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write a machine-readable summary here")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown (the README's) here")
    parser.add_argument("--calls", type=int, default=300, help="sequential calls per example, server and mode")
    parser.add_argument("--seconds", type=float, default=3.0, help="saturation time per example, server and mode")
    parser.add_argument("--workspaces", type=int, default=1000, help="new workspaces per example and server")
    parser.add_argument(
        "--floor", action="store_true", help="also a server answering with the example's response (repeated p50)"
    )
    parser.add_argument("examples", nargs="*", help="example directory names (default: all)")
    args = parser.parse_args(argv)
    examples = sorted(p.parent for p in (ROOT / "examples").glob("*/xr.yaml"))
    if args.examples:
        examples = [e for e in examples if e.name in args.examples]
    print(
        f"{'example':<28} {'res':>4} {'noop p50':>8} {'rep p50':>7} {'x noop':>6} {'% noop':>6} {'fresh':>7} "
        f"{'x noop':>6} {'c/s':>5} {'% noop':>6} {'tag':>6} {'x noop':>6} {'cold':>6} {'x noop':>6} {'RSS MiB':>7} "
        f"{'noop':>6} {'x noop':>6}  missed"
    )
    rows = []
    for example in examples:
        row = measure(example, args.calls, args.seconds, args.workspaces, args.floor)
        rows.append(row)
        print(
            f"{row.example:<28} {row.resources:>4} {row.noop_p50_ms:>8.2f} {row.p50_ms:>7.2f} {row.p50_ratio:>6.2f} "
            f"{row.throughput_share * 100:>5.0f}% {row.fresh_p50_ms:>7.2f} {row.fresh_p50_ratio:>6.2f} "
            f"{row.fresh_calls_per_s:>5.0f} {row.fresh_throughput_share * 100:>5.0f}% {row.tag_p50_ms:>6.2f} "
            f"{row.tag_p50_ratio:>6.2f} {row.cold_p50_ms:>6.2f} {row.cold_p50_ratio:>6.1f} "
            f"{row.rss_kib / 1024:>7.1f} {row.noop_rss_kib / 1024:>6.1f} {row.rss_ratio:>6.2f}  "
            f"{', '.join(missed(row)) or '-'}"
            + ("" if row.floor_p50_ms is None else f"  (floor p50 {row.floor_p50_ms:.2f}, {row.floor_p50_ratio:.2f}x)"),
            flush=True,
        )
    print(
        f"({args.calls} sequential calls per mode, then {STREAMS} streams for {args.seconds:g}s, then "
        f"{args.workspaces} new workspaces, per example and server; loopback gRPC; {machine()}; load average "
        f"{' '.join(f'{load:.1f}' for load in os.getloadavg())} at the end)"
    )
    if args.markdown:
        args.markdown.write_text(markdown(rows))
    if args.json:
        ratios = (
            "p50_ratio",
            "throughput_share",
            "fresh_p50_ratio",
            "fresh_throughput_share",
            "tag_p50_ratio",
            "cold_p50_ratio",
            "floor_p50_ratio",
            "rss_ratio",
            "ms_per_resource",
        )
        summary = {
            "machine": machine(),
            "load_average": os.getloadavg(),
            "calls": args.calls,
            "streams": STREAMS,
            "seconds": args.seconds,
            "workspaces": args.workspaces,
            "modes": MODES,
            "targets": {name: {"figure": f, "bound": b, "at_most": m} for name, (f, b, m) in TARGETS.items()},
            "rows": [
                {**asdict(row), **{name: getattr(row, name) for name in ratios}, "missed": missed(row)} for row in rows
            ],
            "worst": {
                "p50_ratio": max(r.p50_ratio for r in rows),
                "throughput_share": min(r.throughput_share for r in rows),
                "fresh_p50_ratio": max(r.fresh_p50_ratio for r in rows),
                "fresh_throughput_share": min(r.fresh_throughput_share for r in rows),
                "rss_ratio": max(r.rss_ratio for r in rows),
            },
        }
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

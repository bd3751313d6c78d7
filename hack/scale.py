"""`make scale`: many workspaces on the control plane of `make e2e`, and where the cost goes.

On the fixture (hack/fixture.py: etcd, kube-apiserver, kube-controller-manager, core Crossplane with the
function installed from the loopback registry, provider-kubernetes; no node, so no pods), create N workspaces
(a mix of the in-cluster examples, each in a namespace of its own with its team's Secrets) and report:
- the time until every workspace is Synced with as many composed resources as its converged render;
- RunFunction as core Crossplane saw it (function_run_function_request_total and _seconds, internal/xfn at
  v2.3.4) and as the function served it (its own metrics: composed or from the memo);
- CPU seconds and peak resident memory (VmHWM) of each process: etcd, the API server, the controller manager,
  Crossplane, provider-kubernetes, the function;
- the objects the API server stores (apiserver_storage_objects);
then the same after one spec change to every workspace (its welcome message), until every workspace's
librechat.yaml ConfigMap carries it.

    hack/scale.py [--workspaces N] [--flavour namespaced|claims] [--json out.json] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fixture
import scenarios
import xp
from fixture import E2EError, log, say
from prometheus_client.parser import text_string_to_metric_families

EXAMPLES = {
    "namespaced": ("basic-namespaced", "plan-basic-namespaced", "plan-mixed-namespaced", "operations-namespaced"),
    "claims": ("basic-claims", "plan-basic-claims", "plan-mixed-claims", "operations-claims"),
}
MARKER = "Welcome to the scale run, second spec"
TIMEOUT = 3600.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Process:
    name: str
    cpu_seconds: float
    peak_rss_mib: float


@dataclass
class Phase:
    seconds: float
    crossplane_calls: int
    crossplane_mean_ms: float
    function_composed: int
    function_from_memo: int
    function_mean_ms: float
    processes: list[Process]
    objects: int
    objects_by_resource: dict[str, int] = field(default_factory=dict)


@dataclass
class Report:
    flavour: str
    workspaces: int
    examples: dict[str, int]
    composed_resources: int
    create: Phase
    change: Phase


def _total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(
        v for (n, ls), v in samples.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items())
    )


def _process(proc: fixture.Process) -> Process:
    """CPU seconds (user and system, children reaped included) and peak RSS of a fixture process."""
    pid = proc.proc.pid
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(stat[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    return Process(proc.name, ticks / CLOCK_TICKS, peak / 1024)


def _objects(cp: fixture.ControlPlane) -> dict[str, int]:
    """Objects stored, by resource (apiserver_storage_objects, which the API server refreshes about every minute:
    read once the count has caught up with the namespaces created)."""
    deadline = time.monotonic() + 120
    while True:
        text = cp.kubectl("get", "--raw", "/metrics").stdout
        out: dict[str, int] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "apiserver_storage_objects":
                    out[s.labels.get("resource", "?")] = int(s.value)
        namespaces = len((cp.get("namespaces") or {}).get("items", []))
        if out.get("namespaces", 0) >= namespaces or time.monotonic() > deadline:
            return out
        time.sleep(5)


def _snapshot(fx: fixture.Fixture) -> tuple[dict[Any, float], dict[Any, float], dict[str, Process]]:
    crossplane = fixture.scrape([f"http://127.0.0.1:{fx.cp.crossplane_metrics_port}/metrics"])
    function = fixture.scrape(fx.function_metrics_urls())
    processes = {p.name: _process(p) for p in fx.cp.processes if p.proc.poll() is None}
    return crossplane, function, processes


def _phase(fx: fixture.Fixture, before: tuple[Any, Any, Any], seconds: float, *, count: bool = False) -> Phase:
    crossplane0, function0, processes0 = before
    crossplane, function, processes = _snapshot(fx)

    def grew(samples: dict[Any, float], samples0: dict[Any, float], name: str, **labels: str) -> float:
        return _total(samples, name, **labels) - _total(samples0, name, **labels)

    calls = grew(crossplane, crossplane0, "function_run_function_seconds_count")
    spent = grew(crossplane, crossplane0, "function_run_function_seconds_sum")
    name = "function_ai_workspace_run_function_seconds"
    composed = grew(function, function0, f"{name}_count", outcome="composed")
    memo = grew(function, function0, f"{name}_count", outcome="memo")
    served = grew(function, function0, f"{name}_count")
    served_seconds = grew(function, function0, f"{name}_sum")
    objects = _objects(fx.cp) if count else {}
    return Phase(
        seconds=round(seconds, 1),
        crossplane_calls=int(calls),
        crossplane_mean_ms=round(1000 * spent / calls, 1) if calls else 0.0,
        function_composed=int(composed),
        function_from_memo=int(memo),
        function_mean_ms=round(1000 * served_seconds / served, 1) if served else 0.0,
        processes=[
            Process(n, round(p.cpu_seconds - processes0[n].cpu_seconds, 1), round(p.peak_rss_mib, 1))
            for n, p in sorted(processes.items())
            if n in processes0
        ],
        objects=sum(objects.values()),
        objects_by_resource=dict(sorted(objects.items(), key=lambda kv: -kv[1])[:8]),
    )


def _workspaces(flavour: str, n: int) -> tuple[list[dict[str, Any]], dict[str, int], dict[str, str]]:
    """The documents that create N workspaces, the composed count each namespace expects, and its example."""
    tool = xp.tools()
    counts: dict[str, int] = {}
    with xp.function_server() as address:
        for name in EXAMPLES[flavour]:
            counts[name] = len(scenarios.expected(xp.EXAMPLES / name, address, tool)) - 1
    docs: list[dict[str, Any]] = []
    expected: dict[str, int] = {}
    examples: dict[str, str] = {}
    for i in range(n):
        name = EXAMPLES[flavour][i % len(EXAMPLES[flavour])]
        example = xp.EXAMPLES / name
        namespace = f"scale-{i:03d}"
        created = scenarios._docs(example / ("claim.yaml" if flavour == "claims" else "xr.yaml"))[0]
        own = created["metadata"].get("namespace", "team-a")
        created = scenarios.renamespaced(copy.deepcopy(created), own, namespace)
        created["metadata"]["namespace"] = namespace
        golden = scenarios._docs(scenarios.GOLDEN / f"{name}.yaml")
        team = [
            {**d, "metadata": {**d["metadata"], "namespace": namespace}}
            for d in scenarios._team_secrets(example, golden[1:])
        ]
        docs += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, *team, created]
        expected[namespace] = counts[name]
        examples[namespace] = name
    return docs, expected, examples


def _synced(fx: fixture.Fixture, expected: dict[str, int]) -> int:
    """How many workspaces are Synced with as many composed resources as expected."""
    if fx.flavour == "namespaced":
        items = (fx.cp.get("aiworkspaces.aiworkspace.io", "-A") or {}).get("items", [])
        refs = {
            i["metadata"]["namespace"]: len(i["spec"].get("crossplane", {}).get("resourceRefs") or []) for i in items
        }
    else:
        items = (fx.cp.get("compositeaiworkspaces.aiworkspace.io") or {}).get("items", [])
        refs = {
            i["metadata"].get("labels", {}).get("crossplane.io/claim-namespace", ""): len(
                i["spec"].get("resourceRefs") or []
            )
            for i in items
        }
    synced = {
        (i["metadata"].get("namespace") or i["metadata"].get("labels", {}).get("crossplane.io/claim-namespace"))
        for i in items
        if any(c["type"] == "Synced" and c["status"] == "True" for c in i.get("status", {}).get("conditions", []))
    }
    return sum(1 for ns, want in expected.items() if ns in synced and refs.get(ns, 0) >= want)


def _changed(fx: fixture.Fixture) -> int:
    items = (fx.cp.get("configmaps", "-A") or {}).get("items", [])
    return sum(1 for i in items if MARKER in (i.get("data") or {}).get("librechat.yaml", ""))


def _wait(what: str, count: Any, want: int) -> float:
    started = time.monotonic()
    last = -1
    while True:
        done = count()
        if done != last:
            log(f"scale: {what}: {done}/{want} after {time.monotonic() - started:.0f}s")
            last = done
        if done >= want:
            return time.monotonic() - started
        if time.monotonic() - started > TIMEOUT:
            raise E2EError(f"{what}: {done}/{want} after {TIMEOUT:.0f}s")
        time.sleep(3)


def run(flavour: str, n: int) -> Report:
    docs, expected, examples = _workspaces(flavour, n)
    with fixture.Fixture.up(flavour, scenarios.kinds(flavour), node=False) as fx:
        before = _snapshot(fx)
        started = time.monotonic()
        for i in range(0, len(docs), 40):  # one POST each (kubectl create), in batches the CLI's timeout allows
            fx.cp.kubectl("create", "-f", "-", stdin=yaml.safe_dump_all(docs[i : i + 40], sort_keys=False))
        _wait("Synced and composed as rendered", lambda: _synced(fx, expected), n)
        create = _phase(fx, before, time.monotonic() - started)
        say(f"ok   {flavour:<10} {n} workspaces Synced and composed as rendered in {create.seconds:.0f}s")

        before = _snapshot(fx)
        started = time.monotonic()
        kind = "aiworkspaces.aiworkspace.io"
        for namespace in expected:
            name = next(d for d in docs if d["kind"] == "AIWorkspace" and d["metadata"]["namespace"] == namespace)
            patch = {"spec": {"librechat": {"interface": {"welcomeMessage": MARKER}}}}
            fx.cp.kubectl(
                "-n", namespace, "patch", kind, name["metadata"]["name"], "--type=merge", "-p", json.dumps(patch)
            )
        _wait("welcome message changed in librechat.yaml", lambda: _changed(fx), n)
        change = _phase(fx, before, time.monotonic() - started, count=True)
        say(f"ok   {flavour:<10} one spec change to every workspace converged in {change.seconds:.0f}s")
    mix: dict[str, int] = {}
    for name in examples.values():
        mix[name] = mix.get(name, 0) + 1
    return Report(flavour, n, mix, sum(expected.values()), create, change)


def markdown(reports: list[Report]) -> str:
    lines = [
        "| flavour | N | composed | phase | seconds | RunFunction calls (Crossplane) | mean ms (Crossplane) | "
        "composed / from memo (function) | mean ms (function) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        for label, p in (("create", r.create), ("change", r.change)):
            lines.append(
                f"| {r.flavour} | {r.workspaces} | {r.composed_resources} | {label} | {p.seconds:.0f} | "
                f"{p.crossplane_calls} | {p.crossplane_mean_ms} | {p.function_composed} / {p.function_from_memo} | "
                f"{p.function_mean_ms} |"
            )
    lines += [""] + [
        f"{r.flavour}, N={r.workspaces}: {r.change.objects} objects stored, most: "
        + ", ".join(f"{k} {v}" for k, v in r.change.objects_by_resource.items())
        for r in reports
    ]
    lines += ["", "| flavour | N | phase | " + " | ".join(p.name for p in reports[0].create.processes) + " |"]
    lines.append("|---|---|---|" + "---|" * len(reports[0].create.processes))
    for r in reports:
        for label, p in (("create", r.create), ("change", r.change)):
            cells = " | ".join(f"{q.cpu_seconds:.0f} s, {q.peak_rss_mib:.0f} MiB" for q in p.processes)
            lines.append(f"| {r.flavour} | {r.workspaces} | {label} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    # A terminated run still stops its control plane (the fixture's finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspaces", type=int, default=100, nargs="+")
    parser.add_argument("--flavour", choices=sorted(EXAMPLES), default="namespaced")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    counts = args.workspaces if isinstance(args.workspaces, list) else [args.workspaces]
    reports: list[Report] = []
    for n in counts:
        try:
            reports.append(run(args.flavour, n))
        except E2EError as error:
            say(f"FAIL scale: {error}")
            return 1
        text = markdown(reports)  # written after each run, so a later failure keeps what was measured
        if args.json:
            args.json.write_text(json.dumps([asdict(r) for r in reports], indent=2) + "\n")
        if args.markdown:
            args.markdown.write_text(text)
    sys.stdout.write(markdown(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

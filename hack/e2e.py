"""`make e2e`: both API flavours' scenarios on a real control plane and node, on loopback.

    python hack/e2e.py [claims|namespaced ...] [example ...]   # both flavours and every scenario when none named

For each flavour, the fixture (hack/fixture.py: etcd, kube-apiserver, kube-controller-manager, core Crossplane,
the function installed from a loopback registry and served, provider-kubernetes, a node, the core Configuration)
comes up, hack/scenarios.py writes the flavour's Chainsaw tests (one per example, the hostile sample, and the
hand-written ones of e2e/scenarios/), and Chainsaw runs them against it: one line per scenario. Each flavour's run
also brings up a second API server, reached by provider-kubernetes as every placement of the flavour's placed
examples, for the two-cluster scenarios (scenarios.PLACED_EXAMPLES), and publishes the Secrets chart where its
composed name leads Helm (fixture.publish_secrets_chart). Then one cloud's Configuration is installed
on top of the core (CLOUD_ON_TOP). Naming examples (or the two-cluster scenarios) runs only their scenarios. Where
it may (root, `unshare`), the whole run lives in a private network namespace, so nothing listens beyond its own
loopback and the node's bridge.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fixture
import runtime_image
import scenarios
import upgrade
import xp
from fixture import (
    FLAVOURS,
    ROOT,
    E2EError,
    E2ETools,
    e2e_tools,
    log,
    say,
)

from function import release

# The cloud whose Configuration each flavour installs on top of its core after the scenarios.
CLOUD_ON_TOP = {"namespaced": "aws", "claims": "gcp"}


def run_scenarios(tools: E2ETools, flavour: str, only: list[str], previous: upgrade.Previous | None) -> list[str]:
    """The flavour's scenarios (hack/scenarios.py, e2e/scenarios/) run by Chainsaw against the fixture; one line
    per scenario, its failures with what Chainsaw said."""
    why_not = fixture.Node.possible()
    if why_not and os.environ.get("CI"):
        return [f"{flavour} node: {why_not}"]
    if why_not:
        log(f"no node ({why_not}): pods are not run")
    failures: list[str] = []
    try:
        with (
            fixture.Fixture.up(
                flavour, scenarios.kinds(flavour), node=not why_not, tools=tools, previous=previous
            ) as fx,
            tempfile.TemporaryDirectory(prefix="aiworkspace-scenarios-") as tmp,
        ):
            workload, charts = None, None
            placed = placed_examples(flavour)
            if placed and (not only or any(name in only for name in placed)):
                workload = fx.second_api_server()  # the two-cluster scenarios' workload cluster
                proc = fx.extra[-1].kubectl("get", "--raw", "/readyz", check=False)
                if proc.returncode != 0:
                    raise E2EError(f"a second API server did not come up: {proc.stderr.strip()}")
                reach_workload_cluster(fx, workload)
                say(
                    f"ok   {flavour:<10} a second API server on loopback (Fixture.second_api_server), ready, reached "
                    f"by provider-kubernetes as placements {', '.join(p['name'] for p in workload_placements(flavour))}"
                )
                charts = fixture.publish_secrets_chart(fx.cp, fx.registry)
                say(
                    f"ok   {flavour:<10} charts/{release.SECRETS_CHART_NAME} packaged and pushed by helm, served to "
                    f"Helm as {release.SECRETS_CHART_REPOSITORY}/{release.SECRETS_CHART_NAME}:"
                    f"{release.SECRETS_CHART_VERSION} (fixture.PublishedChartRegistry)"
                )
            tests = Path(tmp) / "tests"
            try:
                names = scenarios.write(
                    flavour,
                    tests,
                    node=fx.node is not None,
                    only=only,
                    workload=workload,
                    helm_env=charts.env() if charts else None,
                )
                failures = chainsaw(fx, tests, Path(tmp), names)
            finally:
                if charts:
                    charts.stop()
            failures += function_metrics(fx)
            failures += cloud_on_top(fx)
            if failures and (os.environ.get("E2E_LOGS") or os.environ.get("CI")):
                log(fx.logs())
    except E2EError as error:
        say(f"FAIL {flavour:<10} {str(error).splitlines()[0]}")
        failures.append(f"{flavour}: {error}")
    return failures


# The placement of examples/placement-remote-namespaced: its kubernetesProviderConfigName names the
# ClusterProviderConfig that reaches the second API server.
WORKLOAD_PLACEMENT = "workload-eu"


def placed_examples(flavour: str) -> dict[str, Path]:
    """The flavour's placed examples (scenarios.PLACED_EXAMPLES), by scenario name."""
    return {n: e for n, e in scenarios.PLACED_EXAMPLES.items() if scenarios.flavour_of(e) == flavour}


def workload_placements(flavour: str) -> list[dict[str, Any]]:
    """The placements of the flavour's placed examples, each once by name: what the platform writes in the
    Composition's input for them."""
    placements: dict[str, dict[str, Any]] = {}
    for example in placed_examples(flavour).values():
        for placement in xp.step_input(example)["placements"]:
            if placements.setdefault(placement["name"], placement) != placement:
                raise E2EError(f"placement {placement['name']} differs between the placed examples")
    return list(placements.values())


def reach_workload_cluster(fx: fixture.Fixture, kubeconfig: Path) -> None:
    """What a platform does for its placements: them in the input of the Composition the XRD enforces (the
    installed one, patched as a platform edits it), and for each provider-kubernetes config they name a
    ClusterProviderConfig whose credentials are the workload cluster's kubeconfig (every placement reaches the one
    second API server; provider-helm's are not made: none runs here, the scenario installs the Secrets chart with
    helm in its place)."""
    placements = workload_placements(fx.flavour)
    patch = [{"op": "add", "path": "/spec/pipeline/0/input/placements", "value": placements}]
    composition = f"aiworkspace-{fx.flavour}"
    fx.cp.kubectl("patch", "composition", composition, "--type=json", "-p", json.dumps(patch))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "workload-cluster-kubeconfig", "namespace": fixture.SYSTEM},
        "data": {"kubeconfig": base64.b64encode(kubeconfig.read_bytes()).decode()},
    }
    configs = [
        {
            **(
                {"apiVersion": "kubernetes.crossplane.io/v1alpha1", "kind": "ProviderConfig"}
                if fx.flavour == "claims"
                else {"apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "ClusterProviderConfig"}
            ),
            "metadata": {"name": name},
            "spec": {
                "credentials": {
                    "source": "Secret",
                    "secretRef": {"namespace": fixture.SYSTEM, "name": secret["metadata"]["name"], "key": "kubeconfig"},
                }
            },
        }
        for name in sorted({p["kubernetesProviderConfigName"] for p in placements})
    ]
    fx.cp.apply([secret, *configs])


def cloud_on_top(fx: fixture.Fixture) -> list[str]:
    """After the scenarios ran on the core alone: one cloud's Configuration installed on top (E2E_CLOUD, else aws for
    the namespaced flavour and gcp for claims), its dependencies resolved and its activation policy in force."""
    cloud = os.environ.get("E2E_CLOUD") or CLOUD_ON_TOP[fx.flavour]
    try:
        lines = fx.cloud_on_top(cloud)
    except E2EError as error:
        say(f"FAIL {fx.flavour:<10} {cloud} on top of the core: {str(error).splitlines()[0]}")
        return [f"{fx.flavour} {cloud} on top of the core: {error}"]
    for line in lines:
        say(f"ok   {fx.flavour:<10} {line}")
    return []


def function_metrics(fx: fixture.Fixture) -> list[str]:
    """What the function's metrics say after the scenarios: Crossplane's calls, composed and answered from the
    memo, counted; the memo holding responses."""
    urls = fx.function_metrics_urls()
    samples = fixture.scrape(urls)
    calls = "function_ai_workspace_run_function_seconds_count"
    composed = samples.get((calls, (("outcome", "composed"),)), 0)
    memo = samples.get((calls, (("outcome", "memo"),)), 0)
    fatal = samples.get((calls, (("outcome", "fatal"),)), 0)
    held = samples.get(("function_ai_workspace_memo_bytes", ()), 0)
    if composed < 1 or held <= 0:
        say(f"FAIL {fx.flavour:<10} the function's metrics: {composed:.0f} composed calls, memo {held:.0f} bytes")
        return [f"{fx.flavour}: the function's metrics do not show Crossplane's calls: {sorted(samples)[:20]}"]
    say(
        f"ok   {fx.flavour:<10} the function's metrics ({len(urls)} pod(s)): {composed:.0f} calls "
        f"composed, {memo:.0f} from the memo, "
        f"{fatal:.0f} refused; memo {held / 1024:.0f} KiB"
    )
    return []


def chainsaw(fx: fixture.Fixture, tests: Path, tmp: Path, names: list[str]) -> list[str]:
    """Run the scenarios; say one line per scenario from Chainsaw's report."""
    flavour = fx.flavour
    started = time.monotonic()
    # Scenarios' scripts run the README's commands as written: `kubectl` is the pinned one.
    path = tmp / "path"
    path.mkdir(exist_ok=True)
    (path / "kubectl").unlink(missing_ok=True)
    (path / "kubectl").symlink_to(fx.cp.tools.kubectl)
    # ... and `helm` the pinned one (the two-cluster scenario installs the Secrets chart with it).
    (path / "helm").unlink(missing_ok=True)
    (path / "helm").symlink_to(fx.cp.tools.helm)
    proc = subprocess.run(
        [
            fx.cp.tools.chainsaw,
            "test",
            "--test-dir",
            str(tests),
            "--config",
            str(ROOT / "e2e" / "chainsaw.yaml"),
            "--values",
            str(tests / "values.yaml"),
            "--report-format",
            "JSON",
            "--report-path",
            str(tmp),
            "--report-name",
            "report",
            "--no-color",
        ],
        env={**os.environ, "KUBECONFIG": str(fx.cp.kubeconfig), "PATH": f"{path}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    report_file = tmp / "report.json"
    if not report_file.exists():
        return [f"{flavour} chainsaw: no report ({proc.returncode}):\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}"]
    report = json.loads(report_file.read_text())
    failures = []
    seen = set()
    for test in report.get("tests") or []:
        name = str(test.get("name", "")).rsplit("/", 1)[-1]
        seen.add(name)
        failed = [
            f"{step.get('name')}: {operation.get('failure', {}).get('message') or operation.get('failure')}"
            for step in test.get("steps") or []
            for operation in step.get("operations") or []
            if operation.get("failure")
        ]
        duration = test.get("duration") or ""
        if failed or test.get("failure"):
            failures.append(f"{flavour} {name}: {'; '.join(failed) or test.get('failure')}")
            say(f"FAIL {flavour:<10} {name}: {(failed or [str(test.get('failure'))])[0].splitlines()[0][:300]}")
        else:
            steps = [str(step.get("name")) for step in test.get("steps") or []]
            say(f"ok   {flavour:<10} {name} ({len(steps)} steps{', ' + duration if duration else ''})")
    for name in sorted(set(names) - {n.rsplit("/", 1)[-1] for n in seen}):
        failures.append(f"{flavour} {name}: not run by chainsaw")
        say(f"FAIL {flavour:<10} {name}: not run by chainsaw")
    if proc.returncode != 0 and not failures:
        failures.append(f"{flavour} chainsaw exited {proc.returncode}:\n{proc.stdout[-3000:]}")
    log(f"{flavour}: chainsaw ran {len(seen)} scenarios in {time.monotonic() - started:.0f}s")
    return failures


def in_private_network() -> None:
    """Re-run this script in a network namespace of its own, when the machine allows it."""
    if os.environ.get("E2E_NETNS") or os.environ.get("E2E_NO_NETNS"):
        return
    if os.geteuid() != 0 or not shutil.which("unshare"):
        log("no private network namespace (needs root and unshare): running on the host's loopback")
        return
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        log("unshare --net is not permitted here: running on the host's loopback")
        return
    script = "ip link set lo up && exec " + " ".join(
        [f"'{sys.executable}'", f"'{Path(__file__).resolve()}'", *(f"'{arg}'" for arg in sys.argv[1:])]
    )
    os.environ["E2E_NETNS"] = "1"
    os.execvp("unshare", ["unshare", "--net", "sh", "-c", script])


def main(argv: list[str]) -> int:
    # A terminated run still stops its control plane (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    flavours = [a for a in argv if a in FLAVOURS] or list(FLAVOURS)
    only = [a for a in argv if a not in FLAVOURS]
    try:
        tools = e2e_tools()
    except E2EError as error:
        say(f"FAIL control plane: {error}")
        return 1
    try:
        xp.crd_source()  # fetches the provider packages, if it must, before the network is left behind
    except xp.MissingCRDsError as error:
        say(f"FAIL provider CRDs: {error}")
        return 1
    # The previous release the fixture upgrades from (upgrade.py), built before the network is left behind; not
    # when only some scenarios are asked for.
    previous = None
    if not only:
        try:
            previous = upgrade.previous_release(tools.crossplane)
        except (upgrade.UpgradeError, runtime_image.BuildError) as error:
            say(f"FAIL the previous release: {error}")
            return 1
    in_private_network()
    failures: list[str] = []
    for flavour in flavours:
        failures += run_scenarios(tools, flavour, only, previous)
    if failures:
        say(f"e2e: {len(failures)} failure(s)")
        for failure in failures:
            log(failure)
        return 1
    say(f"e2e: passed ({', '.join(flavours)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

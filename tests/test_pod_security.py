"""Restricted pods and disruption budgets: every pod of every example meets the restricted Pod Security Standard,
except the workloads named with their reason in k8s.RUNS_AS_ROOT (which meet all of it but running as non-root:
they too drop every capability, and add none beyond what the baseline standard allows), and every workload that may
run several pods has a PodDisruptionBudget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import xp
import yaml

from function.k8s import RUNS_AS_ROOT
from tests.helpers import basic_spec, namespaced_xr, secret
from tests.test_wiring import full_state

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.stem for p in (ROOT / "tests" / "golden").glob("*.yaml"))
# Pod Security Standards (Kubernetes 1.33), baseline, "Capabilities": adding any other is refused; restricted
# allows adding NET_BIND_SERVICE only, after dropping ALL.
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
RESTRICTED_CAPABILITIES = {"NET_BIND_SERVICE"}
ALLOWED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def _pods(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(app label, pod spec) of every Deployment and CronJob inside the Objects, and LibreChat's chart pod as its
    values shape it (the aiworkspace-secrets chart of a placement runs no pod)."""
    out = []
    for doc in docs:
        if doc.get("kind") == "Object":
            manifest = doc["spec"]["forProvider"]["manifest"]
            if manifest["kind"] == "Deployment":
                template = manifest["spec"]["template"]
            elif manifest["kind"] == "CronJob":
                template = manifest["spec"]["jobTemplate"]["spec"]["template"]
            else:
                continue
            out.append((template["metadata"]["labels"]["app.kubernetes.io/name"], template["spec"]))
        elif doc.get("kind") == "Release" and doc["spec"]["forProvider"]["chart"]["name"] == "librechat":
            values = doc["spec"]["forProvider"]["values"]
            chart_pod = {
                "securityContext": values.get("podSecurityContext", {}),
                "containers": [{"name": "librechat", "securityContext": values.get("securityContext", {})}],
                "volumes": values.get("volumes", []),
            }
            out.append(("librechat", chart_pod))
    return out


def restricted_violations(pod: dict[str, Any], *, as_root: bool = False) -> list[str]:
    """What in a pod spec the restricted Pod Security Standard (Kubernetes 1.33) refuses; with as_root, only the
    checks of running as non-root are waived: a root container must still drop ALL capabilities, and may add back
    only what the baseline standard allows."""
    problems = []
    pod_security = pod.get("securityContext", {})
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(field)
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            problems.append(f"volume {volume['name']}: {sorted(kinds)}")
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        security = container.get("securityContext", {})
        name = container["name"]
        if security.get("privileged"):
            problems.append(f"{name}: privileged")
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        seccomp = security.get("seccompProfile") or pod_security.get("seccompProfile") or {}
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: no RuntimeDefault seccomp profile")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            problems.append(f"{name}: hostPort")
        capabilities = security.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{name}: does not drop ALL capabilities")
        added = set(capabilities.get("add", [])) - (BASELINE_CAPABILITIES if as_root else RESTRICTED_CAPABILITIES)
        if added:
            problems.append(f"{name}: adds capabilities {sorted(added)}")
        if as_root:
            continue
        if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot is not set")
        if 0 in (security.get("runAsUser"), pod_security.get("runAsUser")):
            problems.append(f"{name}: runs as uid 0")
    return problems


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_pod_is_restricted_or_a_named_exception(example: str) -> None:
    """Every pod meets the restricted standard, or its workload is in RUNS_AS_ROOT and meets the rest of it."""
    docs = [d for d in yaml.safe_load_all((ROOT / "tests" / "golden" / f"{example}.yaml").read_text()) if d]
    pods = _pods(docs)
    assert pods
    for app, pod in pods:
        problems = restricted_violations(pod, as_root=app in RUNS_AS_ROOT)
        assert not problems, f"{app}: {problems}"


def token_mounted(pod: dict[str, Any], service_account: dict[str, Any] | None) -> bool:
    """Whether the kubelet mounts a service account token into the pod: the pod's own setting wins, else its
    ServiceAccount's, else it does (Kubernetes' default)."""
    if "automountServiceAccountToken" in pod:
        return bool(pod["automountServiceAccountToken"])
    return bool((service_account or {}).get("automountServiceAccountToken", True))


@pytest.mark.parametrize("example", EXAMPLES)
def test_no_pod_gets_a_service_account_token(example: str) -> None:
    """No workload calls the Kubernetes API, so none gets a token: every pod the Objects hold says so itself."""
    docs = [d for d in yaml.safe_load_all((ROOT / "tests" / "golden" / f"{example}.yaml").read_text()) if d]
    pods = [(app, pod) for app, pod in _pods(docs) if app != "librechat"]
    assert all(pod.get("automountServiceAccountToken") is False for _, pod in pods), [
        app for app, pod in pods if pod.get("automountServiceAccountToken") is not False
    ]


# The examples whose observed state lets LibreChat's Release be composed (the others wait for its datastores).
LIBRECHAT_EXAMPLES = [e for e in EXAMPLES if "kind: Release" in (ROOT / "tests" / "golden" / f"{e}.yaml").read_text()]


@pytest.mark.parametrize("example", LIBRECHAT_EXAMPLES)
def test_librechat_chart_pod_is_restricted_and_tokenless(example: str, tools: xp.Tools) -> None:
    """LibreChat's pod as the pinned chart really renders it from the composed values (`helm template`, as
    provider-helm installs it): restricted, and no service account token (the chart mounts one by default)."""
    docs = [d for d in yaml.safe_load_all((ROOT / "tests" / "golden" / f"{example}.yaml").read_text()) if d]
    releases = [
        d for d in docs if d.get("kind") == "Release" and d["spec"]["forProvider"]["chart"]["name"] == "librechat"
    ]
    assert len(releases) == 1
    release = releases[0]
    name = release["metadata"]["annotations"]["crossplane.io/external-name"]
    rendered = [
        d
        for d in yaml.safe_load_all(xp.helm_template(name, release["spec"]["forProvider"]["namespace"],
                                                     release["spec"]["forProvider"]["values"], tools))
        if d
    ]  # fmt: skip
    accounts = {d["metadata"]["name"]: d for d in rendered if d["kind"] == "ServiceAccount"}
    deployments = [d for d in rendered if d["kind"] == "Deployment"]
    assert len(deployments) == 1, [d["kind"] for d in rendered]
    pod = deployments[0]["spec"]["template"]["spec"]
    assert not restricted_violations(pod), restricted_violations(pod)
    account = accounts.get(pod.get("serviceAccountName", "default"))
    assert not token_mounted(pod, account), (pod.get("serviceAccountName"), account)


def test_token_check_is_real() -> None:
    """A pod that says nothing gets a token unless its ServiceAccount says no; the pod's own word wins."""
    assert token_mounted({}, None)
    assert token_mounted({}, {"automountServiceAccountToken": True})
    assert not token_mounted({}, {"automountServiceAccountToken": False})
    assert token_mounted({"automountServiceAccountToken": True}, {"automountServiceAccountToken": False})


def test_the_checker_catches_a_root_pod() -> None:
    """The check is real: a pod without a non-root user or capability drop fails it; a root exception that keeps
    its capabilities, or adds one the baseline standard refuses, fails it too."""
    pod = {"containers": [{"name": "x", "securityContext": {"allowPrivilegeEscalation": False}}]}
    problems = restricted_violations(pod)
    assert any("runAsNonRoot" in p for p in problems) and any("capabilities" in p for p in problems)
    assert restricted_violations({"hostNetwork": True, "containers": [{"name": "y"}]}, as_root=True)
    seccomp = {"seccompProfile": {"type": "RuntimeDefault"}}
    root_pod = {"securityContext": seccomp, "containers": pod["containers"]}
    assert restricted_violations(root_pod, as_root=True) == ["x: does not drop ALL capabilities"]
    sys_admin = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}
    root_pod = {"securityContext": seccomp, "containers": [{"name": "z", "securityContext": sys_admin}]}
    assert restricted_violations(root_pod, as_root=True) == ["z: adds capabilities ['SYS_ADMIN']"]
    chown = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}
    root_pod = {"securityContext": seccomp, "containers": [{"name": "w", "securityContext": chown}]}
    assert not restricted_violations(root_pod, as_root=True)
    assert restricted_violations(root_pod) == [
        "w: adds capabilities ['CHOWN']",
        "w: runAsNonRoot is not set",
    ]


def test_root_exceptions_keep_no_capability() -> None:
    """Every container of a RUNS_AS_ROOT workload, in every example, drops ALL capabilities and adds none back:
    none of those images needs one (the evidence is beside each entry of RUNS_AS_ROOT)."""
    seen = set()
    for example in EXAMPLES:
        docs = [d for d in yaml.safe_load_all((ROOT / "tests" / "golden" / f"{example}.yaml").read_text()) if d]
        for app, pod in _pods(docs):
            if app in RUNS_AS_ROOT:
                seen.add(app)
                for container in [*pod.get("initContainers", []), *pod["containers"]]:
                    capabilities = container.get("securityContext", {}).get("capabilities")
                    assert capabilities == {"drop": ["ALL"]}, (example, app, container["name"], capabilities)
    assert seen == set(RUNS_AS_ROOT)


def test_the_exceptions_are_only_images_that_need_them() -> None:
    """Every exception is a workload some example really runs, with a reason."""
    apps = {app for example in EXAMPLES for app, _ in _pods(list(yaml.safe_load_all(
        (ROOT / "tests" / "golden" / f"{example}.yaml").read_text())))}  # fmt: skip
    assert set(RUNS_AS_ROOT) <= apps
    assert all(reason for reason in RUNS_AS_ROOT.values())


def _state(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return full_state(namespaced_xr(spec), [secret("openai", {"api-key": "sk-test-0123456789abcdef"})])


def _budgets(state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key: body["spec"]["forProvider"]["manifest"] for key, body in state.items() if key.endswith("-pdb")}


def test_multi_pod_workloads_have_a_disruption_budget() -> None:
    """Several replicas or an autoscaler that may add pods: a PodDisruptionBudget (maxUnavailable 1) selecting
    exactly the workload's pods; a single pod gets none."""
    spec = basic_spec()
    spec["librechat"] |= {"replicas": 2, "storage": {"accessMode": "ReadWriteMany"}}
    spec["searxng"] = {"enabled": True, "autoscaling": {"enabled": True, "maxReplicas": 3}}
    spec["firecrawl"] = {"enabled": True, "workers": 2}
    state = _state(spec)
    budgets = _budgets(state)
    assert sorted(budgets) == [
        "firecrawl-nuq-worker-pdb",
        "firecrawl-worker-pdb",
        "librechat-pdb",
        "searxng-pdb",
    ]
    searxng = state["searxng-deployment"]["spec"]["forProvider"]["manifest"]
    assert budgets["searxng-pdb"]["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": searxng["spec"]["selector"]["matchLabels"]},
    }
    values = state["librechat-release"]["spec"]["forProvider"]["values"]
    assert budgets["librechat-pdb"]["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": values["fullnameOverride"],
        "app.kubernetes.io/instance": values["fullnameOverride"],
    }
    assert not _budgets(_state(basic_spec()))

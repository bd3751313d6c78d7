"""The composed alerting rules, checked and unit-tested the ecosystem's way: with Prometheus's own promtool.

For every example, each PrometheusRule's groups are written to a rule file that `promtool check rules` must accept,
and `promtool test rules` runs unit tests generated from what the example composed (its Deployments, volumes,
backup CronJobs and vLLM Services, never names written here), on series shaped as kube-state-metrics, the kubelet
and vLLM export them:
- AIWorkspaceComponentDown fires after its `for` for every Deployment with no available pod of the replicas it
  wants, and clears when a pod is available; not for a Deployment scaled to zero, nor another namespace's or
  another workspace's Deployment;
- AIWorkspaceComponentDegraded likewise for fewer pods than wanted;
- AIWorkspaceVolumeFillingUp fires while the volume still has free space, AIWorkspaceVolumeFull when it is near
  full, and both clear when the volume is expanded;
- AIWorkspaceBackupFailed fires after a failed run of a backup CronJob, resolves after a later successful run
  while the failed Job stays in the CronJob's history, fires when no run has succeeded yet, and never fires for a
  run that failed a pod but succeeded on a retry, nor for a Job made by hand from a restore CronJob;
- AIWorkspaceModelQueueGrowing fires when requests wait at the workspace's vLLM server, summed over its pods.
An example whose golden render has no PrometheusRule is composed in-process with `spec.monitoring.enabled`, so
every example's alerts are tested (gpu-models-namespaced for the vLLM queue, the cloud examples for backups into a
bucket). A rule whose expression is broken fails these tests (test_a_broken_rule_fails_its_unit_tests).
"""

from __future__ import annotations

import copy
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import xp
import yaml

from function import resources
from function.plan import CRON_JOB_NAME_LIMIT, RELEASE_NAME_LIMIT, fit, object_name, workspace_from_xr
from function.services import monitoring
from tests.helpers import example_observed, yaml_docs
from tests.test_wiring import full_state

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/xr.yaml"))
START = 1_767_225_600  # 2026-01-01T00:00:00Z: every test group's start_timestamp, so Job times are real times
MINUTES = 180  # every input series has a sample each minute from 0 to MINUTES
KSM = {"job": "kube-state-metrics", "instance": "10.0.0.7:8080"}  # the scrape labels of kube-state-metrics
KUBELET = {"job": "kubelet", "metrics_path": "/metrics", "node": "gpu-node-1"}
GIB = 2**30

At = Callable[[int], float | None]  # a series' value at a minute, None while it does not exist


@dataclass
class Composed:
    """What an example composed, as its alerts see it."""

    example: str
    source: str
    namespace: str
    rules: dict[str, dict[str, Any]]  # alert name -> rule
    groups: list[dict[str, Any]]
    deployments: list[str]
    volumes: list[str]
    backup_cron_jobs: list[str]
    restore_cron_jobs: list[str]
    vllm_services: list[str]


def _manifests_of(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b["spec"]["forProvider"]["manifest"] for b in bodies if b["kind"] == "Object"]


def _app(manifest: dict[str, Any]) -> str:
    return str(manifest["metadata"].get("labels", {}).get("app.kubernetes.io/name", ""))


@cache
def composed(example: str) -> Composed:
    """The example's golden render when it has a PrometheusRule; else the example composed in-process with
    spec.monitoring.enabled (the render's XR and its manifests either way)."""
    docs = yaml_docs(GOLDEN / f"{example}.yaml")
    xr, manifests, source = docs[0], _manifests_of(docs[1:]), "golden render"
    if not any(m["kind"] == "PrometheusRule" for m in manifests):
        where = ROOT / "examples" / example
        xr = yaml.safe_load((where / "xr.yaml").read_text())
        xr["spec"]["monitoring"] = {**xr["spec"].get("monitoring", {}), "enabled": True}
        observed, connections = example_observed(where)
        secrets = yaml_docs(where / "required-resources.yaml")
        state = full_state(xr, secrets, observed, connections, xp.step_input(where))
        manifests, source = _manifests_of(list(state.values())), "composed with spec.monitoring.enabled"
    prometheus_rules = [m for m in manifests if m["kind"] == "PrometheusRule"]
    assert len(prometheus_rules) == 1, f"{example}: {len(prometheus_rules)} PrometheusRules"
    groups = prometheus_rules[0]["spec"]["groups"]
    cron_jobs = [m for m in manifests if m["kind"] == "CronJob"]
    backups = [m for m in cron_jobs if _app(m) == "backup" or _app(m).endswith("-backup")]
    restores = [m["metadata"]["name"] for m in cron_jobs if _app(m).endswith("-restore")]
    # Without restore CronJobs composed, a Job made by hand from a CronJob named like one stands in for it.
    restores = restores or [f"{m['metadata']['name'].removesuffix('-backup')}-restore" for m in backups]
    workspace = workspace_from_xr(xr)
    return Composed(
        example=example,
        source=source,
        namespace=prometheus_rules[0]["metadata"]["namespace"],
        rules={r["alert"]: r for g in groups for r in g["rules"]},
        groups=groups,
        deployments=sorted(
            {m["metadata"]["name"] for m in manifests if m["kind"] == "Deployment"}
            # LibreChat's Deployment is the chart's, named by its release: the fullname the function gives it.
            | {object_name(workspace.name, "librechat", RELEASE_NAME_LIMIT)}
        ),
        volumes=sorted(m["metadata"]["name"] for m in manifests if m["kind"] == "PersistentVolumeClaim"),
        backup_cron_jobs=sorted(m["metadata"]["name"] for m in backups),
        restore_cron_jobs=sorted(restores),
        vllm_services=sorted(m["metadata"]["name"] for m in manifests if m["kind"] == "Service" and _app(m) == "vllm"),
    )


# Series and expected alerts ------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """A float as Go's fmt prints it in a template ({{ $value }}) and as promtool reads it."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e21 else repr(float(value))


def _series(name: str, labels: dict[str, str], at: At) -> dict[str, str]:
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    values = " ".join("_" if (v := at(m)) is None else _number(v) for m in range(MINUTES + 1))
    return {"series": f"{name}{{{selector}}}", "values": values}


def _expand(template: str, labels: dict[str, str], value: float) -> str:
    """An annotation as Prometheus expands it, for the three forms the rules use."""
    out = re.sub(r"\{\{ \$labels\.([a-z_]+) \}\}", lambda m: labels[m.group(1)], template)
    out = out.replace("{{ $value | humanizePercentage }}", f"{value * 100:.4g}%")  # Go: fmt.Sprintf("%.4g%%")
    out = out.replace("{{ $value }}", _number(value))
    assert "{{" not in out, f"a template form this test does not expand: {template}"
    return out


def _alert(rule: dict[str, Any], labels: dict[str, str], value: float) -> dict[str, Any]:
    """The firing alert promtool must report: the expression's labels with the rule's, annotations expanded."""
    every = {**labels, **rule.get("labels", {})}
    return {
        "exp_labels": every,
        "exp_annotations": {k: _expand(v, every, value) for k, v in rule.get("annotations", {}).items()},
    }


@dataclass
class Group:
    """One promtool test group: its input series and the alerts expected at each evaluation time."""

    name: str
    series: list[dict[str, str]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, labels: dict[str, str], at: At) -> None:
        self.series.append(_series(name, labels, at))

    def expect(self, minute: int, alert: str, alerts: list[dict[str, Any]]) -> None:
        self.cases.append({"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": alerts})

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "interval": "1m",
            "start_timestamp": START,
            "input_series": self.series,
            "alert_rule_test": self.cases,
        }


def _constant(value: float) -> At:
    return lambda m: value


def _deployment_groups(c: Composed) -> list[Group]:
    ns, down, degraded = c.namespace, c.rules["AIWorkspaceComponentDown"], c.rules["AIWorkspaceComponentDegraded"]
    mine = [{**KSM, "namespace": ns, "deployment": d} for d in c.deployments]
    # The same names in another namespace, and another workspace's Deployments in this one: never alerted on.
    strangers = [{**KSM, "namespace": f"{ns}-other", "deployment": d} for d in c.deployments] + [
        {**KSM, "namespace": ns, "deployment": f"x{d}"} for d in c.deployments
    ]

    # No pod available of the one wanted until minute 40, then one.
    outage = Group("a part without an available pod: down after 10 minutes, back when a pod is available")
    for labels in mine:
        outage.add("kube_deployment_spec_replicas", labels, _constant(1))
        outage.add("kube_deployment_status_replicas_available", labels, lambda m: 0 if m < 40 else 1)
    for labels in strangers:
        outage.add("kube_deployment_spec_replicas", labels, _constant(1))
        outage.add("kube_deployment_status_replicas_available", labels, _constant(0))
    firing = [_alert(down, labels, 0) for labels in mine]
    outage.expect(5, "AIWorkspaceComponentDown", [])  # pending: `for` is 10m
    outage.expect(15, "AIWorkspaceComponentDown", firing)
    outage.expect(39, "AIWorkspaceComponentDown", firing)
    outage.expect(45, "AIWorkspaceComponentDown", [])  # a pod is available
    assert down["for"] == "10m"

    # One pod of the two wanted until minute 90, then two.
    short = Group("a part with fewer pods than wanted: degraded after 30 minutes, clear when all are available")
    for labels in mine:
        short.add("kube_deployment_spec_replicas", labels, _constant(2))
        short.add("kube_deployment_status_replicas_available", labels, lambda m: 1 if m < 90 else 2)
    for labels in strangers:
        short.add("kube_deployment_spec_replicas", labels, _constant(2))
        short.add("kube_deployment_status_replicas_available", labels, _constant(1))
    short.expect(20, "AIWorkspaceComponentDegraded", [])  # pending: `for` is 30m
    short.expect(40, "AIWorkspaceComponentDegraded", [_alert(degraded, labels, 1) for labels in mine])
    short.expect(40, "AIWorkspaceComponentDown", [])  # it has a pod
    short.expect(100, "AIWorkspaceComponentDegraded", [])
    assert degraded["for"] == "30m"

    # Scaled to zero on purpose: nothing wanted, nothing missing.
    idle = Group("a part scaled to zero is neither down nor degraded")
    for labels in mine:
        idle.add("kube_deployment_spec_replicas", labels, _constant(0))
        idle.add("kube_deployment_status_replicas_available", labels, _constant(0))
    for minute in (15, 60, 120):
        idle.expect(minute, "AIWorkspaceComponentDown", [])
        idle.expect(minute, "AIWorkspaceComponentDegraded", [])
    return [outage, short, idle]


def _volume_groups(c: Composed) -> list[Group]:
    ns, filling, full = c.namespace, c.rules["AIWorkspaceVolumeFillingUp"], c.rules["AIWorkspaceVolumeFull"]
    capacity = 100 * GIB

    # 50% free, then 10% from minute 20, 3% from minute 60; expanded to twice the size (55% free) at minute 90.
    def available(m: int) -> float:
        return capacity // 2 if m < 20 else capacity // 10 if m < 60 else capacity * 3 // 100 if m < 90 else 110 * GIB

    def size(m: int) -> float:
        return capacity if m < 90 else 2 * capacity

    group = Group("a filling volume warns while it still has free space, and is critical near full")
    mine = [{**KUBELET, "namespace": ns, "persistentvolumeclaim": v} for v in c.volumes]
    for labels in mine:
        group.add("kubelet_volume_stats_capacity_bytes", labels, size)
        group.add("kubelet_volume_stats_available_bytes", labels, available)
    for v in c.volumes:  # another namespace's and another workspace's volumes, 1% free
        for labels in ({**KUBELET, "namespace": f"{ns}-other", "persistentvolumeclaim": v},
                       {**KUBELET, "namespace": ns, "persistentvolumeclaim": f"x{v}"}):  # fmt: skip
            group.add("kubelet_volume_stats_capacity_bytes", labels, _constant(capacity))
            group.add("kubelet_volume_stats_available_bytes", labels, _constant(capacity // 100))
    group.expect(10, "AIWorkspaceVolumeFillingUp", [])
    group.expect(30, "AIWorkspaceVolumeFillingUp", [])  # pending: `for` is 15m
    assert available(40) > 0, "FillingUp must be proven before the volume is full"
    group.expect(
        40, "AIWorkspaceVolumeFillingUp", [_alert(filling, labels, available(40) / size(40)) for labels in mine]
    )
    group.expect(40, "AIWorkspaceVolumeFull", [])
    group.expect(62, "AIWorkspaceVolumeFull", [])  # pending: `for` is 5m
    assert available(70) > 0
    group.expect(70, "AIWorkspaceVolumeFull", [_alert(full, labels, available(70) / size(70)) for labels in mine])
    group.expect(
        70, "AIWorkspaceVolumeFillingUp", [_alert(filling, labels, available(70) / size(70)) for labels in mine]
    )
    group.expect(100, "AIWorkspaceVolumeFillingUp", [])
    group.expect(100, "AIWorkspaceVolumeFull", [])
    assert (filling["for"], full["for"]) == ("15m", "5m")
    return [group]


@dataclass
class Job:
    """A Job as kube-state-metrics exports it (internal/store/job.go at v2.20.0)."""

    name: str
    owner: str  # the CronJob that is its controller
    start: int  # minute
    end: int  # minute it completed or failed
    succeeded: bool
    failed_pods: int = 0
    pods_failed_at: int | None = None  # minute its pods had failed, while it was still running (default: its end)


def _job_series(group: Group, ns: str, job: Job) -> None:
    labels = {**KSM, "namespace": ns, "job_name": job.name}

    def since(minute: int, value: float | Callable[[int], float]) -> At:
        return lambda m: None if m < minute else (value(m) if callable(value) else value)

    group.add(
        "kube_job_owner",
        {**labels, "owner_kind": "CronJob", "owner_name": job.owner, "owner_is_controller": "true"},
        since(job.start, 1),
    )
    group.add("kube_job_status_start_time", labels, since(job.start, START + job.start * 60))
    failed_from = job.end if job.pods_failed_at is None else job.pods_failed_at
    group.add("kube_job_status_failed", labels, since(job.start, lambda m: job.failed_pods if m >= failed_from else 0))
    condition = "kube_job_complete" if job.succeeded else "kube_job_failed"
    for status in ("true", "false", "unknown"):
        group.add(condition, {**labels, "condition": status}, since(job.end, 1 if status == "true" else 0))
    if job.succeeded:
        group.add("kube_job_status_completion_time", labels, since(job.end, START + job.end * 60))


def _scheduled(cron_job: str, minute: int) -> str:
    """The name the CronJob controller gives a scheduled run: <cronjob>-<scheduled time in minutes>
    (kubernetes v1.34.1 pkg/controller/cronjob/cronjob_controllerv2.go, getJobName)."""
    return f"{cron_job}-{START // 60 + minute}"


def _backup_groups(c: Composed) -> list[Group]:
    ns, rule = c.namespace, c.rules["AIWorkspaceBackupFailed"]
    history = Group("a failed backup fires, a later success resolves it; retries and restores never fire")
    failed: list[Job] = []
    for backup in c.backup_cron_jobs:
        retried = Job(_scheduled(backup, 0), backup, start=1, end=15, succeeded=True, failed_pods=1, pods_failed_at=2)
        bad = Job(_scheduled(backup, 60), backup, start=60, end=70, succeeded=False, failed_pods=3)
        good = Job(_scheduled(backup, 120), backup, start=120, end=125, succeeded=True)
        for job in (retried, bad, good):
            _job_series(history, ns, job)
        failed.append(bad)
    for i, restore in enumerate(c.restore_cron_jobs):
        # Made by hand from a restore CronJob (kubectl create job NAME --from=cronjob/...), under any name, even
        # one like a scheduled backup's; it fails after the backups' last success.
        name = _scheduled(c.backup_cron_jobs[0], 90 + i)
        _job_series(history, ns, Job(name, restore, start=90 + i, end=95 + i, succeeded=False, failed_pods=3))
    firing = [_alert(rule, {**KSM, "namespace": ns, "job_name": j.name, "owner_name": j.owner}, 0) for j in failed]
    history.expect(12, "AIWorkspaceBackupFailed", [])  # a pod failed 10 minutes ago, the Job is retrying it
    history.expect(20, "AIWorkspaceBackupFailed", [])  # and the retry succeeded
    history.expect(72, "AIWorkspaceBackupFailed", [])  # pending: `for` is 5m
    history.expect(80, "AIWorkspaceBackupFailed", firing)
    history.expect(100, "AIWorkspaceBackupFailed", firing)  # the restore Job that failed is not a backup
    history.expect(130, "AIWorkspaceBackupFailed", [])  # a later run succeeded; the failed one stays in history
    history.expect(175, "AIWorkspaceBackupFailed", [])
    assert rule["for"] == "5m"

    first = Group("a backup that fails before any has succeeded fires")
    jobs = [Job(_scheduled(b, 0), b, start=0, end=5, succeeded=False, failed_pods=3) for b in c.backup_cron_jobs]
    for job in jobs:
        _job_series(first, ns, job)
    first.expect(15, "AIWorkspaceBackupFailed", [
        _alert(rule, {**KSM, "namespace": ns, "job_name": j.name, "owner_name": j.owner}, 0) for j in jobs
    ])  # fmt: skip
    return [history, first]


def _queue_groups(c: Composed) -> list[Group]:
    ns, rule = c.namespace, c.rules["AIWorkspaceModelQueueGrowing"]
    group = Group("requests waiting at vLLM, summed over its pods, fire after 10 minutes")
    for service in c.vllm_services:
        for pod in ("0", "1"):  # 4 waiting at each pod from minute 20 to 60: 8 at the server, over 5
            labels = {"job": service, "namespace": ns, "service": service, "pod": f"{service}-{pod}"}
            group.add("vllm:num_requests_waiting", labels, lambda m: 4 if 20 <= m < 60 else 1)
            group.add("vllm:num_requests_waiting", {**labels, "namespace": f"{ns}-other"}, _constant(50))
    group.expect(25, "AIWorkspaceModelQueueGrowing", [])  # pending: `for` is 10m
    group.expect(35, "AIWorkspaceModelQueueGrowing", [_alert(rule, {}, 8 * len(c.vllm_services))])
    group.expect(70, "AIWorkspaceModelQueueGrowing", [])
    assert rule["for"] == "10m"
    return [group]


def unit_tests(c: Composed) -> list[Group]:
    groups = _deployment_groups(c)
    if c.volumes:
        groups += _volume_groups(c)
    if c.backup_cron_jobs:
        groups += _backup_groups(c)
    if c.vllm_services:
        groups += _queue_groups(c)
    return groups


# promtool ------------------------------------------------------------------------------------------------------------


def _write(tmp: Path, groups: list[dict[str, Any]], tests: list[Group]) -> tuple[Path, Path]:
    rules = tmp / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    suite = tmp / "rules_test.yaml"
    suite.write_text(
        yaml.safe_dump(
            {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": [t.body() for t in tests]},
            sort_keys=False,
            width=1 << 20,
        )
    )
    return rules, suite


def promtool(tools: xp.Tools, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tools.promtool, *map(str, args)], capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize("example", EXAMPLES)
def test_rules_check_and_pass_their_unit_tests(example: str, tools: xp.Tools, tmp_path: Path) -> None:
    """The example's rules pass `promtool check rules`, hold an alert for each kind of thing it composed, and pass
    the unit tests generated from what it composed."""
    c = composed(example)
    alerts = set(c.rules)
    assert {"AIWorkspaceComponentDown", "AIWorkspaceComponentDegraded"} <= alerts, c.source
    assert ({"AIWorkspaceVolumeFillingUp", "AIWorkspaceVolumeFull"} <= alerts) == bool(c.volumes)
    assert ("AIWorkspaceBackupFailed" in alerts) == bool(c.backup_cron_jobs)
    assert ("AIWorkspaceModelQueueGrowing" in alerts) == bool(c.vllm_services)
    rules, suite = _write(tmp_path, c.groups, unit_tests(c))
    checked = promtool(tools, "check", "rules", rules)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(c.rules)} rules found" in checked.stdout, checked.stdout
    tested = promtool(tools, "test", "rules", suite)
    assert tested.returncode == 0, f"{c.source}:\n{tested.stdout}{tested.stderr}"
    assert "SUCCESS" in tested.stdout, tested.stdout


def test_every_alert_is_tested_somewhere() -> None:
    """Across the examples, every alert the function can compose is unit-tested, the vLLM queue included."""
    tested = {name for example in EXAMPLES for name in composed(example).rules}
    assert tested == {
        "AIWorkspaceComponentDown",
        "AIWorkspaceComponentDegraded",
        "AIWorkspaceVolumeFillingUp",
        "AIWorkspaceVolumeFull",
        "AIWorkspaceBackupFailed",
        "AIWorkspaceModelQueueGrowing",
    }


LONG = "a-workspace-name-long-enough-that-its-cron-jobs-are-fitted"
SHAPES = {
    # name, app.kubernetes.io/name, whether it takes backups
    "a backup CronJob per database": [
        ("chat-mongodb-backup", "mongodb-backup", True),
        ("chat-pgvector-backup", "pgvector-backup", True),
    ],
    "one backup CronJob and suspended restore CronJobs": [
        ("chat-backup", "backup", True),
        ("chat-mongodb-restore", "mongodb-restore", False),
        ("chat-pgvector-restore", "pgvector-restore", False),
    ],
    "names fitted to the CronJob limit": [
        (fit(f"{LONG}-backup", CRON_JOB_NAME_LIMIT), "backup", True),
        (fit(f"{LONG}-mongodb-restore", CRON_JOB_NAME_LIMIT), "mongodb-restore", False),
    ],
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_backup_alert_covers_backup_cron_jobs_only(shape: str, tools: xp.Tools, tmp_path: Path) -> None:
    """Whichever CronJobs the backups compose (one per database, or one with restore CronJobs beside it, whose
    Jobs are made by hand), the alert covers exactly the backup CronJobs, chosen by their app label or name."""
    cron_jobs = SHAPES[shape]
    items = []
    for i, (name, app, _) in enumerate(cron_jobs):
        manifest = {"kind": "CronJob", "metadata": {"name": name, "labels": {"app.kubernetes.io/name": app}}}
        items.append(resources.Composed(f"cronjob-{i}", {"spec": {"forProvider": {"manifest": manifest}}}, "backups"))
    backups = monitoring._backup_cron_jobs(items)
    assert backups == sorted(name for name, _, backup in cron_jobs if backup)
    # The alert of operations-namespaced, for these CronJobs, through the same unit tests as every example's.
    c = copy.deepcopy(composed("operations-namespaced"))
    expr = monitoring._backup_failed('namespace="team-a"', monitoring._alternatives(backups))
    c.groups = _with_expr(c, "AIWorkspaceBackupFailed", expr)
    c.rules = {r["alert"]: r for g in c.groups for r in g["rules"]}
    c.backup_cron_jobs = backups
    c.restore_cron_jobs = sorted(name for name, _, backup in cron_jobs if not backup) or c.restore_cron_jobs
    rules, suite = _write(tmp_path, c.groups, _backup_groups(c))
    assert promtool(tools, "check", "rules", rules).returncode == 0
    tested = promtool(tools, "test", "rules", suite)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _with_expr(c: Composed, alert: str, expr: str) -> list[dict[str, Any]]:
    groups = copy.deepcopy(c.groups)
    for group in groups:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                rule["expr"] = expr
    return groups


def _broken(c: Composed) -> list[tuple[str, str, str]]:
    """(alert, how it is broken, expression): each alert made to never fire and to always fire, and the backup
    alert as it was before issue 20 (failed pods of Jobs named like scheduled runs, which never clears)."""
    out = []
    for alert, rule in c.rules.items():
        out.append((alert, "never fires", "vector(1) == 0"))
        out.append((alert, "always fires", "vector(1)"))
        out.append((alert, "its condition moved", _moved(rule["expr"])))
    if c.backup_cron_jobs:
        expr = c.rules["AIWorkspaceBackupFailed"]["expr"]
        out.append(("AIWorkspaceBackupFailed", "any Job of the namespace", re.sub(r',owner_name=~"[^"]*"', "", expr)))
        names = "|".join(c.backup_cron_jobs)
        old = f'kube_job_status_failed{{namespace="{c.namespace}",job_name=~"({names})-[0-9]+"}} > 0'
        out.append(("AIWorkspaceBackupFailed", "as before issue 20", old))
    return out


def _moved(expr: str) -> str:
    """The expression with its condition moved, so the alert fires where it should not or not where it should."""
    for old, new in (
        (" == 0 and ", " == 1 and "),  # down: one pod available
        (" < kube_deployment_spec_replicas", " <= kube_deployment_spec_replicas"),  # degraded: all available
        (" < 0.15", " < 0.05"),  # filling up: only when nearly full
        (" < 0.05", " < 0.01"),  # full: only when all but full
        (" > 5", " > 9"),  # the queue: only a longer one
    ):
        if old in expr:
            return expr.replace(old, new, 1)
    # The backup alert: failed pods (a retry that succeeded) instead of a failed Job.
    moved = re.sub(r'kube_job_failed\{([^}]*),condition="true"\} == 1', r"kube_job_status_failed{\1} > 0", expr)
    assert moved != expr, f"no condition to move in {expr}"
    return moved


@pytest.mark.parametrize("example", ["operations-namespaced", "gpu-models-namespaced"])
def test_a_broken_rule_fails_its_unit_tests(example: str, tools: xp.Tools, tmp_path: Path) -> None:
    """The unit tests can fail: each alert's expression broken in turn (never firing, always firing, its threshold
    moved, the backup alert as it was) makes `promtool test rules` fail, naming that alert."""
    c = composed(example)
    tests = unit_tests(c)
    for i, (alert, how, expr) in enumerate(_broken(c)):
        where = tmp_path / str(i)
        where.mkdir()
        rules, suite = _write(where, _with_expr(c, alert, expr), tests)
        assert promtool(tools, "check", "rules", rules).returncode == 0, expr
        tested = promtool(tools, "test", "rules", suite)
        assert tested.returncode != 0, f"{alert} {how} ({expr}) passed its unit tests"
        assert f"alertname: {alert}" in tested.stdout + tested.stderr, tested.stdout + tested.stderr

"""Monitoring through the Prometheus Operator: what is scraped, and the alerts a workspace owner acts on.

Scraped, where the upstream exposes Prometheus metrics without a secret in the scrape config:
- Meilisearch v1.35.1 serves /metrics when MEILI_EXPERIMENTAL_ENABLE_METRICS is set, behind a key with
  metrics.get (crates/meilisearch/src/routes/metrics.rs); the ServiceMonitor reads, by reference, a key allowed
  only that (datastores.METRICS_KEY_UID), never the master key.
- vLLM v0.33.0 serves /metrics on its API port; its API key guards /v1, /v2, /inference and /cohere only
  (vllm/entrypoints/serve/middleware/authenticate.py), so /metrics and /health need none.
Not scraped: Ollama v0.32.15 has no metrics route; SearXNG (541c6c3cb) takes its /metrics password only in
settings.yml (general.open_metrics, no env var), which would put it in a ConfigMap; Firecrawl's metrics route
carries BULL_AUTH_KEY in its path. Their health shows in the alerts below, as every part's does.

Alerts come from kube-state-metrics and the kubelet's volume statistics, for exactly the Deployments and
volumes the services composed (read from their manifests) and LibreChat's chart Deployment.
"""

from __future__ import annotations

from typing import Any

from function import k8s
from function.plan import Plan
from function.resources import Composed, kubernetes_object, secret
from function.services import Context
from function.services.datastores import meilisearch_metrics_key

COMPONENT = "monitoring"
API_VERSION = "monitoring.coreos.com/v1"


def _labels(plan: Plan, component: str) -> dict[str, str]:
    return {**k8s.labels(plan.workspace.name, component), **dict(sorted(plan.spec.monitoring.labels.items()))}


def _service_monitor(plan: Plan, key: str, service: str, component: str, endpoint: dict[str, Any]) -> Composed:
    manifest = {
        "apiVersion": API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": {"name": service, "namespace": plan.workspace.namespace, "labels": _labels(plan, component)},
        "spec": {
            "selector": {"matchLabels": k8s.selector(plan.workspace.name, component)},
            "endpoints": [
                {"port": component, "path": "/metrics", "interval": plan.spec.monitoring.interval, **endpoint}
            ],
        },
    }
    return kubernetes_object(plan, key, COMPONENT, manifest)


def _composed_manifests(composed: list[Composed], kind: str) -> list[dict[str, Any]]:
    """The manifests of `kind` the services composed (inside Objects)."""
    manifests = []
    for item in composed:
        manifest = item.body.get("spec", {}).get("forProvider", {}).get("manifest", {})
        if manifest.get("kind") == kind:
            manifests.append(manifest)
    return manifests


def _manifests(composed: list[Composed], kind: str) -> list[str]:
    """Names of the manifests of `kind` the services composed (inside Objects)."""
    return sorted({manifest["metadata"]["name"] for manifest in _composed_manifests(composed, kind)})


def _backup_cron_jobs(composed: list[Composed]) -> list[str]:
    """Names of the CronJobs that take backups: app.kubernetes.io/name `backup` or `<datastore>-backup`, or a name
    ending in -backup. Never CronJobs in general: a restore CronJob's Jobs are made by hand and are no backup."""
    names = set()
    for manifest in _composed_manifests(composed, "CronJob"):
        app = manifest["metadata"].get("labels", {}).get("app.kubernetes.io/name", "")
        name = manifest["metadata"]["name"]
        if app == "backup" or app.endswith("-backup") or name.endswith("-backup"):
            names.add(name)
    return sorted(names)


def _alternatives(names: list[str]) -> str:
    # Kubernetes names are DNS labels or subdomains: only '.' is special in a regular expression.
    return "|".join(name.replace(".", "\\\\.") for name in names)


def _backup_failed(where: str, cron_jobs: str) -> str:
    """Each failed Job of the backup CronJobs that started after the newest successful Job of its CronJob
    completed, or whose CronJob has no successful Job in its history: a later success resolves the alert.

    From kube-state-metrics v2.20.0, internal/store/job.go, every series labelled namespace and job_name:
    kube_job_owner{owner_kind, owner_name, owner_is_controller} (1 per owner reference); kube_job_failed{condition}
    (one series per condition status, 1 on the status of the Job's Failed condition: a Job that failed a pod and
    succeeded on a retry has no Failed condition, unlike kube_job_status_failed, which counts failed pods);
    kube_job_status_start_time and kube_job_status_completion_time (status.completionTime, which batch/v1 sets
    "when the job finishes successfully, and only then": k8s.io/api v0.34.1 batch/v1/types.go). Jobs are tied to
    their CronJob by the controller owner reference that both the CronJob controller (kubernetes v1.34.1
    pkg/controller/cronjob/utils.go, getJobFromTemplate2) and `kubectl create job --from=cronjob/...` (kubectl
    v0.34.1 pkg/cmd/create/create_job.go) set, so a Job made by hand from another CronJob is never counted.
    """
    owner = f'kube_job_owner{{{where},owner_kind="CronJob",owner_name=~"{cron_jobs}"}}'
    failed_jobs = f'kube_job_failed{{{where},condition="true"}} == 1'
    failed = (
        f"(kube_job_status_start_time{{{where}}} and on (namespace, job_name) {failed_jobs}) "
        f"* on (namespace, job_name) group_left (owner_name) {owner}"
    )
    succeeded = (
        f"max by (namespace, owner_name) (kube_job_status_completion_time{{{where}}} "
        f"* on (namespace, job_name) group_left (owner_name) {owner})"
    )
    return (
        f"({failed} > on (namespace, owner_name) group_left () {succeeded}) "
        f"or ({failed} unless on (namespace, owner_name) {succeeded})"
    )


def _rules(plan: Plan, composed: list[Composed]) -> list[dict[str, Any]]:
    ns, ws = plan.workspace.namespace, plan.workspace.name
    deployments = _alternatives(sorted({*_manifests(composed, "Deployment"), plan.librechat_fullname}))
    volumes = _alternatives(_manifests(composed, "PersistentVolumeClaim"))
    where = f'namespace="{ns}"'
    available = f'kube_deployment_status_replicas_available{{{where},deployment=~"{deployments}"}}'
    wanted = f'kube_deployment_spec_replicas{{{where},deployment=~"{deployments}"}}'
    workspace = f"{ns}/{ws}"
    rules: list[dict[str, Any]] = [
        {
            "alert": "AIWorkspaceComponentDown",
            "expr": f"{available} == 0 and {wanted} > 0",
            "for": "10m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": f"A part of AI workspace {workspace} has no available pod.",
                "description": "Deployment {{ $labels.deployment }} has had no available pod for 10 minutes: "
                f"see `kubectl -n {ns} describe deployment {{{{ $labels.deployment }}}}` and the workspace's "
                "status.components.",
            },
        },
        {
            "alert": "AIWorkspaceComponentDegraded",
            "expr": f"{available} < {wanted}",
            "for": "30m",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": f"A part of AI workspace {workspace} runs with fewer pods than it wants.",
                "description": "Deployment {{ $labels.deployment }} has had {{ $value }} available pods, fewer "
                "than its replicas, for 30 minutes.",
            },
        },
    ]
    if volumes:
        free = (
            f'kubelet_volume_stats_available_bytes{{{where},persistentvolumeclaim=~"{volumes}"}} / '
            f'kubelet_volume_stats_capacity_bytes{{{where},persistentvolumeclaim=~"{volumes}"}}'
        )
        for alert, ratio, duration, severity in (
            ("AIWorkspaceVolumeFillingUp", "0.15", "15m", "warning"),
            ("AIWorkspaceVolumeFull", "0.05", "5m", "critical"),
        ):
            rules.append(
                {
                    "alert": alert,
                    "expr": f"{free} < {ratio}",
                    "for": duration,
                    "labels": {"severity": severity},
                    "annotations": {
                        "summary": f"A volume of AI workspace {workspace} is almost full.",
                        "description": "PersistentVolumeClaim {{ $labels.persistentvolumeclaim }} has "
                        "{{ $value | humanizePercentage }} free. Raise its storage size in the workspace's spec "
                        "(where the storage class allows expansion) before it fills.",
                    },
                }
            )
    cron_jobs = _alternatives(_backup_cron_jobs(composed))
    if cron_jobs:
        rules.append(
            {
                "alert": "AIWorkspaceBackupFailed",
                "expr": _backup_failed(where, cron_jobs),
                "for": "5m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": f"A backup of AI workspace {workspace} failed.",
                    "description": "Job {{ $labels.job_name }} of CronJob {{ $labels.owner_name }} failed, and no "
                    f"run of it has succeeded since: see `kubectl -n {ns} logs job/{{{{ $labels.job_name }}}} "
                    "--all-containers`.",
                },
            }
        )
    if plan.vllm is not None:
        waiting = f'sum(vllm:num_requests_waiting{{{where},service="{plan.vllm.endpoint.service}"}})'
        rules.append(
            {
                "alert": "AIWorkspaceModelQueueGrowing",
                "expr": f"{waiting} > 5",
                "for": "10m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": f"Requests queue at the vLLM server of AI workspace {workspace}.",
                    "description": "{{ $value }} requests have waited for the model for 10 minutes: add GPUs or "
                    "replicas, or lower the load.",
                },
            }
        )
    return rules


def compose(ctx: Context, composed: list[Composed]) -> list[Composed]:
    """The ServiceMonitors and PrometheusRule of the workspace, from what the services composed."""
    plan = ctx.plan
    if not plan.spec.monitoring.enabled:
        return []
    # Prometheus reads a key that may only read metrics (datastores.METRICS_KEY_UID), in a Secret of its own.
    metrics_secret = plan.object_name("meilisearch-metrics")
    master_key = ctx.secrets.get(plan.librechat_env_secret, "MEILI_MASTER_KEY")
    out = [
        secret(
            plan,
            "meilisearch-metrics-secret",
            COMPONENT,
            name=metrics_secret,
            values={"key": meilisearch_metrics_key(master_key)},
        ),
        _service_monitor(
            plan,
            "meilisearch-servicemonitor",
            plan.meilisearch.service,
            "meilisearch",
            {"authorization": {"type": "Bearer", "credentials": k8s.secret_key(metrics_secret, "key")}},
        ),
    ]
    if plan.vllm is not None:
        out.append(_service_monitor(plan, "vllm-servicemonitor", plan.vllm.endpoint.service, "vllm", {}))
    rules = _rules(plan, composed)
    rule = {
        "apiVersion": API_VERSION,
        "kind": "PrometheusRule",
        "metadata": {
            "name": plan.object_name("alerts"),
            "namespace": plan.workspace.namespace,
            "labels": _labels(plan, COMPONENT),
        },
        "spec": {
            "groups": [
                {
                    "name": f"aiworkspace.{plan.workspace.namespace}.{plan.workspace.name}",
                    "rules": rules,
                }
            ]
        },
    }
    out.append(kubernetes_object(plan, "monitoring-rules", COMPONENT, rule))
    return out

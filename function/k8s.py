"""Plain Kubernetes manifests (Deployment, Service, PVC) with the defaults every workload gets.

Flavour-free: resources.py decides how a manifest is composed (wrapped in an Object or not).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from function.spec import GPU, AccessMode, Autoscaling, Resources, Storage, quantity_value

PART_OF = "aiworkspace"


_LABEL_VALUE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def label_value(value: str) -> str:
    """`value` when it is a valid label value (at most 63 characters), else a prefix of it and a stable hash."""
    if len(value) <= 63 and _LABEL_VALUE.fullmatch(value):
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    prefix = re.sub(r"[^-A-Za-z0-9_.]+", "-", value)[:54].strip("-_.")
    return f"{prefix}-{digest}" if prefix else digest


def labels(workspace: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": label_value(workspace),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "crossplane",
    }


def selector(workspace: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": label_value(workspace)}


def resources(spec: Resources | None, default: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Container resources: the team's values where given, the service's defaults for the rest."""
    out = {kind: dict(values) for kind, values in default.items()}
    if spec is not None:
        for kind, given in (("requests", spec.requests), ("limits", spec.limits)):
            if given is None:
                continue
            for name, value in (("cpu", given.cpu), ("memory", given.memory)):
                if value is not None:
                    out.setdefault(kind, {})[name] = str(value)
    # A request above a default limit raises that limit to it (the team's own limits are checked in spec.py).
    for name, request in out.get("requests", {}).items():
        limit = out.get("limits", {}).get(name)
        if limit is not None and quantity_value(request) > quantity_value(limit):
            out["limits"][name] = request
    return out


def pvc(
    name: str, namespace: str, workspace: str, component: str, storage: Storage, default_size: str
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": [storage.access_mode.value],
        "resources": {"requests": {"storage": str(storage.size or default_size)}},
    }
    if storage.storage_class_name:
        spec["storageClassName"] = storage.storage_class_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(workspace, component)},
        "spec": spec,
    }


# The only workloads not run under the restricted Pod Security Standard, each for its image's reason: they start as
# root (their images have no USER). They still get everything else of it: every capability dropped, no privilege
# escalation, the RuntimeDefault seccomp profile and no service account token. Root without capabilities keeps what
# root owns (the image's files, its home, its volumes) and nothing more, which is all these processes need: each
# listens above port 1024, runs its program directly (the composed command or the image's CMD, never an entrypoint
# that changes users or owners) and never calls chown, setuid or setgid. The evidence, per image:
RUNS_AS_ROOT: dict[str, str] = {
    # firecrawl/firecrawl@61e38dc8 apps/api/Dockerfile: no USER; its ENTRYPOINT docker-entrypoint.sh only raises
    # `ulimit -n` when root and starts node, and the composed `command: [node, <script>]` replaces it. The API
    # listens on 3002, the workers on 3005, 3006 and 3004 (apps/api/src/index.ts, services/queue-worker.ts).
    "firecrawl-api": "Firecrawl's image has no USER (apps/api/Dockerfile at 61e38dc8): root-owned /app",
    "firecrawl-worker": "the Firecrawl API image (no USER)",
    "firecrawl-nuq-worker": "the Firecrawl API image (no USER)",
    "firecrawl-extract-worker": "the Firecrawl API image (no USER)",
    # firecrawl/firecrawl@61e38dc8 apps/playwright-service-ts/Dockerfile: no USER, CMD npm start (node dist/api.js)
    # on PORT 3000; api.ts launches Chromium with --no-sandbox --disable-setuid-sandbox, so no setuid sandbox.
    "firecrawl-playwright": "Firecrawl's Playwright image has no USER (apps/playwright-service-ts/Dockerfile)",
    # vllm-project/vllm docker/Dockerfile at v0.33.0 (read in the PyPI source distribution of that release): the
    # vllm-openai target, which the release pipeline publishes, leaves `USER vllm` commented out ("The default
    # `vllm-openai` image keeps `USER root`") with ENTRYPOINT ["vllm", "serve"]; a non-root image is the opt-in
    # vllm-openai-nonroot target. The composed `command: [vllm, serve]` is the same: the server listens on 8000 and
    # writes under /root/.cache (the models volume) and /dev/shm.
    "vllm": "the vLLM image runs as root and keeps its model cache under /root",
    # danny-avila/rag_api@v0.9.0 Dockerfile.lite: no USER, no ENTRYPOINT, CMD python main.py, which serves
    # uvicorn on RAG_PORT 8000 (app/config.py) and writes uploads to RAG_UPLOAD_DIR (an emptyDir).
    "rag-api": "the RAG API image runs as root",
}


def restricted_container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
    }


def root_container_security() -> dict[str, Any]:
    """A container of a RUNS_AS_ROOT workload: root, but without a single capability or a way to gain one."""
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def shared(storage: Storage) -> bool:
    """Whether several pods may mount the volume (and so roll instead of being replaced)."""
    return storage.access_mode is AccessMode.READ_WRITE_MANY


def gpu_pod_settings(gpu: GPU | None) -> tuple[dict[str, str], dict[str, Any]]:
    """(resource limits, pod spec fields) for a pod that needs GPUs; nothing when gpu is None."""
    if gpu is None:
        return {}, {}
    pod: dict[str, Any] = {}
    if gpu.node_selector:
        pod["nodeSelector"] = dict(sorted(gpu.node_selector.items()))
    if gpu.tolerate_gpu_taint:
        pod["tolerations"] = [{"key": gpu.resource_name, "operator": "Exists", "effect": "NoSchedule"}]
    return {gpu.resource_name: str(gpu.count)}, pod


def deployment(
    *,
    name: str,
    namespace: str,
    workspace: str,
    component: str,
    container: dict[str, Any],
    run_as_user: int | None,
    volumes: list[dict[str, Any]],
    annotations: dict[str, str] | None = None,
    replicas: int | None = 1,
    stateless: bool = False,
    pod: dict[str, Any] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Deployment with a restricted security context (its init containers get the same).

    Stateful ones (the default) run one pod and replace it (never two writers on one volume); stateless ones
    roll, with `replicas` pods, or as many as their autoscaler sets when replicas is None. run_as_user None is
    for images that must start as root (RUNS_AS_ROOT); they still drop every capability.
    """
    if run_as_user is None and component not in RUNS_AS_ROOT:
        raise ValueError(f"{component} would run as root without a reason in k8s.RUNS_AS_ROOT")
    pod_metadata: dict[str, Any] = {"labels": labels(workspace, component)}
    if annotations:
        pod_metadata["annotations"] = annotations
    pod_spec = restricted_pod(container, run_as_user, volumes, pod=pod, init_containers=init_containers)
    spec: dict[str, Any] = {
        "replicas": replicas if stateless else 1,
        "strategy": {"type": "RollingUpdate"} if stateless else {"type": "Recreate"},
        "selector": {"matchLabels": selector(workspace, component)},
        "template": {"metadata": pod_metadata, "spec": pod_spec},
    }
    if spec["replicas"] is None:
        del spec["replicas"]  # the autoscaler's to set: a fixed count here would be reapplied over it
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(workspace, component)},
        "spec": spec,
    }


def pod_disruption_budget(
    *, name: str, namespace: str, workspace: str, component: str, pods: dict[str, str]
) -> dict[str, Any]:
    """A policy/v1 PodDisruptionBudget: a voluntary disruption (a node drain) takes down one pod at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(workspace, component)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": pods}},
    }


def several_pods(fixed: int | None, autoscaling: Autoscaling | None) -> bool:
    """Whether a workload may run more than one pod (so a disruption budget means something)."""
    if autoscaling is not None and autoscaling.enabled:
        return autoscaling.max_replicas > 1
    return (fixed or 1) > 1


def replicas(fixed: int, autoscaling: Autoscaling) -> int | None:
    """The Deployment's replica count: the fixed one, or None when an autoscaler owns it."""
    return None if autoscaling.enabled else fixed


def horizontal_pod_autoscaler(
    *, deployment: str, namespace: str, workspace: str, component: str, autoscaling: Autoscaling
) -> dict[str, Any]:
    """An autoscaling/v2 HorizontalPodAutoscaler of a Deployment on average CPU use (of its requests)."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": deployment, "namespace": namespace, "labels": labels(workspace, component)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
            "minReplicas": autoscaling.min_replicas,
            "maxReplicas": autoscaling.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": autoscaling.target_cpu_utilization},
                    },
                }
            ],
        },
    }


def restricted_pod(
    container: dict[str, Any] | list[dict[str, Any]],
    run_as_user: int | None,
    volumes: list[dict[str, Any]],
    *,
    pod: dict[str, Any] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A pod spec with a restricted security context for every container; no service account token, no
    service links. run_as_user None is for images that must start as root: everything else stays restricted."""
    security: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    container_security = root_container_security()
    if run_as_user is not None:
        security |= {"runAsNonRoot": True, "runAsUser": run_as_user, "runAsGroup": run_as_user, "fsGroup": run_as_user}
        container_security = restricted_container_security()
    containers = [_literal(c) for c in (container if isinstance(container, list) else [container])]
    init_containers = [_literal(c) for c in init_containers or []]
    pod_spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": security,
        "containers": [
            {**c, "securityContext": {**container_security, **c.get("securityContext", {})}} for c in containers
        ],
        "volumes": volumes,
    }
    if init_containers:
        pod_spec["initContainers"] = [
            {**init, "securityContext": {**container_security, **init.get("securityContext", {})}}
            for init in init_containers
        ]
    pod_spec.update(pod or {})
    return pod_spec


_REFERENCE = re.compile(r"[$][(]([A-Za-z_][A-Za-z0-9_]*)[)]")


def kubelet_literal(text: str, references: frozenset[str] = frozenset()) -> str:
    """`text` as the kubelet must be given it to pass it on as written: it replaces $(NAME) with the container's
    env var NAME and $$ with $, so every '$' before '(' or '$' is doubled, but for $(NAME) of `references` (the
    container's own Secret-backed vars, which are meant to be expanded)."""
    out, cursor = [], 0
    for match in _REFERENCE.finditer(text):
        if match.group(1) in references:
            out += [re.sub(r"[$](?=[$(])", "$$", text[cursor : match.start()]), match.group(0)]
            cursor = match.end()
    out.append(re.sub(r"[$](?=[$(])", "$$", text[cursor:]))
    return "".join(out)


def _literal(container: dict[str, Any]) -> dict[str, Any]:
    """A container whose command, args, env values and probe commands reach the process as written
    (kubelet_literal): a team's value, or a shell script's own $(...), is never expanded into another var's
    secret."""
    own = frozenset(env["name"] for env in container.get("env", []) if "valueFrom" in env)
    out = dict(container)
    for field in ("command", "args"):
        if field in out:
            out[field] = [kubelet_literal(text, own) for text in out[field]]
    if "env" in out:
        out["env"] = [{**env, "value": kubelet_literal(env["value"])} if "value" in env else env for env in out["env"]]
    # Probes' exec commands are expanded too (with the literal env values; prober.go); lifecycle hooks' are not.
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        command = (out.get(probe) or {}).get("exec", {}).get("command")
        if command:
            out[probe] = {
                **out[probe],
                "exec": {**out[probe]["exec"], "command": [kubelet_literal(c) for c in command]},
            }
    return out


def cron_job(
    *,
    name: str,
    namespace: str,
    workspace: str,
    component: str,
    schedule: str,
    pod_spec: dict[str, Any],
    suspend: bool = False,
    backoff_limit: int = 2,
    restart_policy: str = "OnFailure",
    deadline_seconds: int | None = None,
) -> dict[str, Any]:
    """A batch/v1 CronJob that never overlaps itself, retries a failed run (twice by default) and keeps a short
    history. A suspended one never runs on its schedule: it is a template for `kubectl create job --from`. With a
    deadline, a run still active then is stopped and fails (reason DeadlineExceeded), whatever its retries."""
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(workspace, component)},
        "spec": {
            "schedule": schedule,
            **({"suspend": True} if suspend else {}),
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels(workspace, component)},
                "spec": {
                    "backoffLimit": backoff_limit,
                    **({"activeDeadlineSeconds": deadline_seconds} if deadline_seconds else {}),
                    "template": {
                        "metadata": {"labels": labels(workspace, component)},
                        "spec": {**pod_spec, "restartPolicy": restart_policy},
                    },
                },
            },
        },
    }


def secret_key(secret: str, key: str) -> dict[str, str]:
    return {"name": secret, "key": key}


def secret_env(env: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": env, "valueFrom": {"secretKeyRef": secret_key(secret, key)}}


def checksum(text: str) -> str:
    """sha256 of non-secret config, as a pod annotation that rolls pods when the config changes."""
    return hashlib.sha256(text.encode()).hexdigest()

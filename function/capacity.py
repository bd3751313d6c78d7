"""What a workspace takes of the cluster, read from what it composes (not from the spec, so no default and no
part is missed): CPU and memory requested and GPUs by its pods at their most replicas, and the storage of its
volumes and cloud database. tenancy.over_ceiling compares the totals with the platform's ceilings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from function.plan import Plan
from function.resources import Composed
from function.spec import DatabaseProvider, quantity_value

KINDS = ("cpu", "memory", "gpus", "storage")
_NOT_GPUS = ("cpu", "memory", "ephemeral-storage")


def _container_totals(containers: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for container in containers:
        resources = container.get("resources", {})
        for name in ("cpu", "memory"):
            if name in resources.get("requests", {}):
                out[name] += quantity_value(resources["requests"][name])
        for name, value in resources.get("limits", {}).items():
            if name not in _NOT_GPUS and not name.startswith("hugepages-"):
                out["gpus"] += quantity_value(value)
    return out


def _pod(pod: dict[str, Any], pods: int) -> dict[str, Decimal]:
    """A pod's requests, times its replicas: its containers', or its largest init container's when larger."""
    running = _container_totals(pod.get("containers", []))
    for init in pod.get("initContainers", []):
        for name, value in _container_totals([init]).items():
            running[name] = max(running[name], value)
    return {name: value * pods for name, value in running.items()}


def totals(plan: Plan, composed: list[Composed]) -> dict[str, dict[str, Decimal]]:
    """Per composed part (its component), what it takes: cpu, memory, gpus, storage (bytes for the last)."""
    manifests = [(c.component, c.body.get("spec", {}).get("forProvider", {})) for c in composed]
    most: dict[str, int] = {}  # a Deployment's name -> its autoscaler's maxReplicas
    for _, provider in manifests:
        manifest = provider.get("manifest", {})
        if manifest.get("kind") == "HorizontalPodAutoscaler":
            most[manifest["spec"]["scaleTargetRef"]["name"]] = manifest["spec"]["maxReplicas"]
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for component, provider in manifests:
        manifest = provider.get("manifest", {})
        kind = manifest.get("kind")
        if kind == "Deployment":
            name = manifest["metadata"]["name"]
            pods = most.get(name, manifest["spec"].get("replicas", 1))
            for what, value in _pod(manifest["spec"]["template"]["spec"], pods).items():
                out[component][what] += value
        elif kind == "PersistentVolumeClaim":
            out[component]["storage"] += quantity_value(manifest["spec"]["resources"]["requests"]["storage"])
        elif "values" in provider and "chart" in provider:  # LibreChat's Release
            values = provider["values"]
            pods = most.get(values.get("fullnameOverride", ""), values.get("replicaCount", 1))
            for what, value in _pod({"containers": [{"resources": values.get("resources", {})}]}, pods).items():
                out[component][what] += value
    if plan.rag and plan.rag.database is not DatabaseProvider.IN_CLUSTER:
        out["database"]["storage"] += Decimal(plan.spec.database.storage_gb) * 2**30
    return out


def summed(per_part: dict[str, dict[str, Decimal]]) -> dict[str, Decimal]:
    return {kind: sum((part.get(kind, Decimal(0)) for part in per_part.values()), Decimal(0)) for kind in KINDS}


# The spec section of each composed part, for messages that name the fields to change.
SECTIONS = {
    "mongodb": "spec.librechat.mongodb",
    "meilisearch": "spec.librechat.meilisearch",
    "redis": "spec.librechat.redis",
    "rag-api": "spec.rag",
    "files": "spec.objectStorage",
}


def largest(per_part: dict[str, dict[str, Decimal]], kind: str, count: int = 3) -> list[str]:
    """The spec sections of the parts that take the most of `kind`, largest first."""
    ranked = sorted(per_part, key=lambda part: (-per_part[part].get(kind, Decimal(0)), part))
    parts = [part for part in ranked if per_part[part].get(kind, Decimal(0)) > 0][:count]
    return [SECTIONS.get(part, f"spec.{part}") for part in parts]

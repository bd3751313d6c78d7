"""Plain Kubernetes manifests (Deployment, Service, PVC) with the defaults every workload gets.

Flavour-free: resources.py decides how a manifest is composed (wrapped in an Object or not).
"""

from __future__ import annotations

from typing import Any

from function.spec import Resources, Storage

PART_OF = "aiworkspace"


def labels(workspace: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": workspace,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "crossplane",
    }


def selector(workspace: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": workspace}


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


def service(name: str, namespace: str, workspace: str, component: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(workspace, component)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector(workspace, component),
            "ports": [{"name": component, "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }


def restricted_container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
    }


def deployment(
    *,
    name: str,
    namespace: str,
    workspace: str,
    component: str,
    container: dict[str, Any],
    run_as_user: int,
    volumes: list[dict[str, Any]],
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A single-replica Deployment that replaces its pod (never two writers on one volume)."""
    pod_metadata: dict[str, Any] = {"labels": labels(workspace, component)}
    if annotations:
        pod_metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(workspace, component)},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector(workspace, component)},
            "template": {
                "metadata": pod_metadata,
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": run_as_user,
                        "runAsGroup": run_as_user,
                        "fsGroup": run_as_user,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [{**container, "securityContext": restricted_container_security()}],
                    "volumes": volumes,
                },
            },
        },
    }


def secret_env(env: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": env, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}

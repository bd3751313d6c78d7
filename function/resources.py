"""Builders for composed resources: the only module that knows the API flavour.

Claims flavour (LegacyCluster XR): cluster-scoped managed resources (helm.crossplane.io,
kubernetes.crossplane.io). Namespaced flavour: namespaced managed resources (helm.m.crossplane.io,
kubernetes.m.crossplane.io) plus plain ConfigMaps. In both flavours a Secret holding generated or copied
credentials is composed as a plain v1 Secret in the workspace's namespace, because wrapping it in an Object
would write its values into the Object's spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from function.plan import Flavour, Plan
from function.secrets import b64
from function.versions import Chart

COMPONENT_ANNOTATION = "aiworkspace.io/component"
HOLDS_DATA_ANNOTATION = "aiworkspace.io/holds-data"
EXTERNAL_NAME_ANNOTATION = "crossplane.io/external-name"

# Object readiness for a Deployment: its Available condition (Deployments have no Ready condition).
DEPLOYMENT_AVAILABLE = "object.status.conditions.exists(c, c.type == 'Available' && c.status == 'True')"


@dataclass(frozen=True)
class Composed:
    """One desired composed resource, keyed by its composition-resource-name."""

    key: str
    body: dict[str, Any]
    component: str
    holds_data: bool = False
    depends_on: tuple[str, ...] = field(default=())  # keys that must exist before this one is created


def _metadata(component: str, holds_data: bool, extra: dict[str, str] | None = None) -> dict[str, Any]:
    annotations = {COMPONENT_ANNOTATION: component}
    if holds_data:
        annotations[HOLDS_DATA_ANNOTATION] = "true"
    annotations.update(extra or {})
    return {"annotations": annotations}


def _provider_config(plan: Plan, name: str) -> dict[str, str]:
    if plan.workspace.flavour is Flavour.CLAIMS:
        return {"name": name}
    return {"kind": "ClusterProviderConfig", "name": name}


def _protect(plan: Plan, spec: dict[str, Any], holds_data: bool) -> None:
    """Data-holding resources survive the workspace's deletion unless the team chose Delete."""
    if not (holds_data and plan.retain_data):
        return
    if plan.workspace.flavour is Flavour.CLAIMS:
        spec["deletionPolicy"] = "Orphan"
    else:
        spec["managementPolicies"] = ["Observe", "Create", "Update", "LateInitialize"]


def kubernetes_object(
    plan: Plan,
    key: str,
    component: str,
    manifest: dict[str, Any],
    *,
    ready_when: str | None = None,
    holds_data: bool = False,
) -> Composed:
    """A Kubernetes manifest applied by provider-kubernetes.

    ready_when is a CEL query over `object`; without one the Object is ready once applied.
    """
    readiness = (
        {"policy": "DeriveFromCelQuery", "celQuery": ready_when} if ready_when else {"policy": "SuccessfulCreate"}
    )
    spec: dict[str, Any] = {
        "forProvider": {"manifest": manifest},
        "readiness": readiness,
        "providerConfigRef": _provider_config(plan, plan.provider_configs.kubernetes),
    }
    _protect(plan, spec, holds_data)
    api_version = (
        "kubernetes.crossplane.io/v1alpha2"
        if plan.workspace.flavour is Flavour.CLAIMS
        else "kubernetes.m.crossplane.io/v1alpha1"
    )
    body = {
        "apiVersion": api_version,
        "kind": "Object",
        "metadata": _metadata(component, holds_data),
        "spec": spec,
    }
    return Composed(key, body, component, holds_data)


def helm_release(
    plan: Plan,
    key: str,
    component: str,
    *,
    release_name: str,
    chart: Chart,
    values: dict[str, Any],
    depends_on: tuple[str, ...] = (),
) -> Composed:
    for_provider: dict[str, Any] = {
        "chart": {"repository": chart.repository, "name": chart.name, "version": chart.version},
        "namespace": plan.workspace.namespace,
        "skipCreateNamespace": True,
        "wait": True,
        "waitTimeout": "10m",
        "values": values,
    }
    api_version = (
        "helm.crossplane.io/v1beta1" if plan.workspace.flavour is Flavour.CLAIMS else "helm.m.crossplane.io/v1beta1"
    )
    body = {
        "apiVersion": api_version,
        "kind": "Release",
        "metadata": _metadata(component, False, {EXTERNAL_NAME_ANNOTATION: release_name}),
        "spec": {
            "forProvider": for_provider,
            "rollbackLimit": 3,
            "providerConfigRef": _provider_config(plan, plan.provider_configs.helm),
        },
    }
    return Composed(key, body, component, depends_on=depends_on)


def secret(plan: Plan, key: str, component: str, *, name: str, values: dict[str, str]) -> Composed:
    """A plain v1 Secret in the workspace's namespace; values are stored base64-encoded in data."""
    metadata = _metadata(component, False)
    metadata["name"] = name
    metadata["namespace"] = plan.workspace.namespace
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "Opaque",
        "data": {k: b64(v) for k, v in sorted(values.items())},
    }
    return Composed(key, body, component)


def config_map(plan: Plan, key: str, component: str, *, name: str, data: dict[str, str]) -> Composed:
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": plan.workspace.namespace},
        "data": dict(sorted(data.items())),
    }
    if plan.workspace.flavour is Flavour.CLAIMS:
        return kubernetes_object(plan, key, component, manifest)
    manifest["metadata"].update(_metadata(component, False))
    return Composed(key, manifest, component)


def workload(
    plan: Plan,
    key: str,
    component: str,
    *,
    deployment: dict[str, Any],
    port: int,
    pvc: dict[str, Any] | None = None,
) -> list[Composed]:
    """A service's volume (if any), Deployment and Service, keyed <key>-pvc, <key>-deployment, <key>-service.

    The Service takes the Deployment's name and selects its pods; the volume is protected as data.
    """
    name = deployment["metadata"]["name"]
    namespace = deployment["metadata"]["namespace"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": deployment["metadata"]["labels"]},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [
                {"name": selector["app.kubernetes.io/name"], "port": port, "targetPort": port, "protocol": "TCP"}
            ],
        },
    }
    out = []
    if pvc is not None:
        out.append(kubernetes_object(plan, f"{key}-pvc", component, pvc, holds_data=True))
    out.append(kubernetes_object(plan, f"{key}-deployment", component, deployment, ready_when=DEPLOYMENT_AVAILABLE))
    out.append(kubernetes_object(plan, f"{key}-service", component, service))
    return out

"""Builders for composed resources: the only module that knows the API flavour.

Claims flavour (LegacyCluster XR): cluster-scoped managed resources (helm.crossplane.io,
kubernetes.crossplane.io). Namespaced flavour: namespaced managed resources (helm.m.crossplane.io,
kubernetes.m.crossplane.io) plus plain ConfigMaps. In both flavours a Secret holding generated or copied
credentials is composed as a plain v1 Secret in the workspace's namespace, because wrapping it in an Object
would write its values into the Object's spec. In a placement every Object and Release uses the placement's
provider configs (ConfigMaps become Objects there too), and services/placement.py carries the Secrets to its
cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from function import k8s
from function.plan import Flavour, Plan
from function.secrets import b64
from function.spec import Autoscaling, ProviderConfigRef
from function.versions import Chart

COMPONENT_ANNOTATION = "aiworkspace.io/component"
HOLDS_DATA_ANNOTATION = "aiworkspace.io/holds-data"
EXTERNAL_NAME_ANNOTATION = "crossplane.io/external-name"

# Object readiness for a Deployment: its Available condition (Deployments have no Ready condition).
OBJECT_API_VERSION = "kubernetes.m.crossplane.io/v1alpha1"
DEPLOYMENT_AVAILABLE = "object.status.conditions.exists(c, c.type == 'Available' && c.status == 'True')"


@dataclass(frozen=True)
class Composed:
    """One desired composed resource, keyed by its composition-resource-name."""

    key: str
    body: dict[str, Any]
    component: str
    holds_data: bool = False
    depends_on: tuple[str, ...] = field(default=())  # keys that must exist before this one is created
    # Why it must wait (e.g. for a database's connection details): not created yet, or kept as observed.
    hold: str | None = None
    # Kept exactly as observed (Crossplane's own fields dropped), its body unused: data nobody wants any more.
    as_observed: bool = False


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
        "providerConfigRef": _provider_config(plan, plan.kubernetes_provider_config),
    }
    _protect(plan, spec, holds_data)
    body = {
        "apiVersion": object_api_version(plan),
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
    values_from: tuple[str, str] | None = None,
    depends_on: tuple[str, ...] = (),
) -> Composed:
    """A Helm release by provider-helm. `values_from` (Secret, key) names a Secret in the workspace's namespace whose
    key holds a values document: provider-helm reads it when it installs, and never writes it into the Release."""
    for_provider: dict[str, Any] = {
        "chart": {"repository": chart.repository, "name": chart.name, "version": chart.version},
        "namespace": plan.workspace.namespace,
        "skipCreateNamespace": True,
        "wait": True,
        "waitTimeout": "10m",
        "values": values,
    }
    if values_from is not None:
        for_provider["valuesFrom"] = [{"secretKeyRef": secret_ref(plan, *values_from)}]
    body = {
        "apiVersion": release_api_version(plan),
        "kind": "Release",
        "metadata": _metadata(component, False, {EXTERNAL_NAME_ANNOTATION: release_name}),
        "spec": {
            "forProvider": for_provider,
            "rollbackLimit": 3,
            "providerConfigRef": _provider_config(plan, plan.helm_provider_config),
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
    if plan.placement is not None:
        # An Object, in the placement's cluster, under a key of its own: Crossplane keeps a key's observed name
        # across a change of kind, so a move back to the control plane would name the native ConfigMap after the
        # Object, not as LibreChat's chart and SearXNG's Deployment ask for it.
        return kubernetes_object(plan, f"{key}-object", component, manifest)
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
    autoscaling: Autoscaling | None = None,
) -> list[Composed]:
    """A service's volume (if any), Deployment, Service and autoscaler (if enabled), keyed <key>-pvc,
    <key>-deployment, <key>-service, <key>-hpa.

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
    if autoscaling is not None and autoscaling.enabled:
        out.append(autoscaler(plan, key, component, deployment=name, autoscaling=autoscaling))
    if k8s.several_pods(deployment["spec"].get("replicas"), autoscaling):
        out.append(disruption_budget(plan, key, component, name=name, pods=selector))
    return out


def disruption_budget(plan: Plan, key: str, component: str, *, name: str, pods: dict[str, str]) -> Composed:
    """The PodDisruptionBudget of a workload that runs several pods, keyed <key>-pdb."""
    pdb = k8s.pod_disruption_budget(
        name=name, namespace=plan.workspace.namespace, workspace=plan.workspace.name, component=key, pods=pods
    )
    return kubernetes_object(plan, f"{key}-pdb", component, pdb)


def autoscaler(plan: Plan, key: str, component: str, *, deployment: str, autoscaling: Autoscaling) -> Composed:
    """The HorizontalPodAutoscaler of the Deployment named `deployment` in the workspace, keyed <key>-hpa."""
    hpa = k8s.horizontal_pod_autoscaler(
        deployment=deployment,
        namespace=plan.workspace.namespace,
        workspace=plan.workspace.name,
        component=key,
        autoscaling=autoscaling,
    )
    return kubernetes_object(plan, f"{key}-hpa", component, hpa)


# Storage versions of the cluster-scoped (claims flavour) kinds; every namespaced (.m.) kind is v1beta1.
CLUSTER_VERSIONS = {
    ("rds.aws", "Instance"): "v1beta3",
    ("s3.aws", "Bucket"): "v1beta2",
    ("s3.aws", "BucketOwnershipControls"): "v1beta2",
    ("s3.aws", "BucketServerSideEncryptionConfiguration"): "v1beta2",
    ("s3.aws", "BucketVersioning"): "v1beta2",
    ("sql.gcp", "DatabaseInstance"): "v1beta2",
    ("sql.gcp", "User"): "v1beta2",
    ("storage.gcp", "Bucket"): "v1beta2",
    ("storage.gcp", "BucketIAMMember"): "v1beta2",
    ("dbforpostgresql.azure", "FlexibleServer"): "v1beta2",
    ("storage.azure", "Account"): "v1beta2",
}
RESOURCE_LABEL = "aiworkspace.io/resource"
# The workspace a composed resource belongs to, the same in both flavours (Crossplane's own labels differ: the
# composite's name, or the claim's): `kubectl get managed -l aiworkspace.io/namespace=team-a`.
WORKSPACE_LABEL = "aiworkspace.io/workspace"
NAMESPACE_LABEL = "aiworkspace.io/namespace"


def owner_labels(plan: Plan) -> dict[str, str]:
    return {WORKSPACE_LABEL: k8s.label_value(plan.workspace.name), NAMESPACE_LABEL: plan.workspace.namespace}


def managed(
    plan: Plan,
    key: str,
    component: str,
    group: str,
    kind: str,
    for_provider: dict[str, Any],
    *,
    config: ProviderConfigRef,
    holds_data: bool = False,
    external_name: str | None = None,
    connection_secret: str | None = None,
    depends_on: tuple[str, ...] = (),
) -> Composed:
    """A cloud managed resource (provider-upjet-aws/gcp/azure), group like "rds.aws".

    Namespaced flavour: <group>.m.upbound.io/v1beta1, a typed providerConfigRef, connection Secret in the
    workspace's namespace. Claims flavour: the cluster-scoped kind, its connection Secret written to the
    claim's namespace.
    """
    extra = {EXTERNAL_NAME_ANNOTATION: external_name} if external_name else None
    metadata = _metadata(component, holds_data, extra)
    spec: dict[str, Any] = {"forProvider": for_provider}
    if plan.workspace.flavour is Flavour.CLAIMS:
        api_version = f"{group}.upbound.io/{CLUSTER_VERSIONS.get((group, kind), 'v1beta1')}"
        spec["providerConfigRef"] = {"name": config.name}
        if connection_secret:
            spec["writeConnectionSecretToRef"] = {"name": connection_secret, "namespace": plan.workspace.namespace}
    else:
        api_version = f"{group}.m.upbound.io/v1beta1"
        spec["providerConfigRef"] = {"kind": config.kind.value, "name": config.name}
        if connection_secret:
            spec["writeConnectionSecretToRef"] = {"name": connection_secret}
    _protect(plan, spec, holds_data)
    body = {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}
    return Composed(key, body, component, holds_data, depends_on)


def secret_ref(plan: Plan, name: str, key: str) -> dict[str, str]:
    """A managed resource's reference to a key of a Secret in the workspace's namespace."""
    if plan.workspace.flavour is Flavour.CLAIMS:
        return {"name": name, "namespace": plan.workspace.namespace, "key": key}
    return {"name": name, "key": key}


def team_selector(plan: Plan, match_labels: dict[str, str]) -> dict[str, Any]:
    """A team's selector of managed resources composed elsewhere (a VPC, subnets, a network). A namespaced managed
    resource selects only in its own namespace (crossplane-runtime v2.3.3 pkg/reference/namespaced_reference.go:
    a selector without a namespace lists in the resource's own). A cluster-scoped one (claims flavour) would
    select any team's, so it also requires the platform's tenancy labels (by default the claim namespace label
    Crossplane puts on everything a claim in the team's namespace composes); they win over the team's own."""
    labels = dict(sorted(match_labels.items()))
    if plan.workspace.flavour is Flavour.CLAIMS:
        namespace = plan.workspace.namespace
        labels |= {
            k: v.replace("{namespace}", namespace) for k, v in sorted(plan.platform.tenancy.selector_labels.items())
        }
    return {"matchLabels": labels}


def select(key: str) -> dict[str, Any]:
    """A selector for the managed resource composed under `key` by this same workspace."""
    return {"matchControllerRef": True, "matchLabels": {RESOURCE_LABEL: key}}


def object_api_version(plan: Plan) -> str:
    return "kubernetes.crossplane.io/v1alpha2" if plan.workspace.flavour is Flavour.CLAIMS else OBJECT_API_VERSION


def release_api_version(plan: Plan) -> str:
    return "helm.crossplane.io/v1beta1" if plan.workspace.flavour is Flavour.CLAIMS else "helm.m.crossplane.io/v1beta1"


def usage(plan: Plan, key: str, component: str, *, of: Composed, by: tuple[str, str, str]) -> Composed:
    """Crossplane blocks deleting `of` while `by` (apiVersion, kind, key) exists: the data's user goes first.

    Namespaced flavour: a namespaced Usage; claims flavour: a ClusterUsage (both composed kinds are cluster-scoped).
    Both sides are found by the resource label fn.py puts on every composed resource.
    """
    by_api_version, by_kind, by_key = by

    def ref(api_version: str, kind: str, ref_key: str) -> dict[str, Any]:
        return {"apiVersion": api_version, "kind": kind, "resourceSelector": select(ref_key)}

    kind = "ClusterUsage" if plan.workspace.flavour is Flavour.CLAIMS else "Usage"
    body = {
        "apiVersion": "protection.crossplane.io/v1beta1",
        "kind": kind,
        "metadata": _metadata(component, False),
        "spec": {
            "of": ref(of.body["apiVersion"], of.body["kind"], of.key),
            "by": ref(by_api_version, by_kind, by_key),
            "reason": f"{by_key} uses the data in {of.key}",
            "replayDeletion": True,
        },
    }
    return Composed(key, body, component, depends_on=(of.key, by_key))

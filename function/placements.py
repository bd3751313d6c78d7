"""Placements: where a workspace runs, defined by the platform in the Composition's input.

A placement names the provider-helm and provider-kubernetes ProviderConfigs that reach a workload cluster, the
cloud regions its datastores go to (the first of each cloud by default), the ingress defaults there, and the
cluster's own networks and DNS. A team picks one with spec.placement, among those whose `namespaces` admit its
namespace; without one the workspace runs in the control plane's own cluster, exactly as it always did.

The placement's own values are the platform's: they are not held to the tenancy allow-lists a team's values are
(tenancy.check runs on the team's spec before they are filled in). A team's explicit region must be one of the
placement's, so a workspace's data stays where its placement says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from function.clusterdns import ClusterDNS
from function.spec import AIWorkspaceSpec, DatabaseProvider, ObjectStorageProvider, PlacementChangePolicy, SpecError
from function.strings import (
    CIDR,
    AwsRegion,
    AzureLocation,
    GcpRegion,
    KubernetesName,
    PlacementName,
    UnquotedName,
)
from function.tenancy import Patterns, Settings, allowed

if TYPE_CHECKING:  # services import the plan, which imports this module
    from function.services import Observed

PLACEMENT_ANNOTATION = "aiworkspace.io/placement"


class Regions(Settings):
    """The cloud regions a placement's datastores go to: the first of each cloud by default, the others when a team
    names one. A cloud with none is not offered in the placement."""

    aws: tuple[AwsRegion, ...] = Field(default=(), description="AWS regions of RDS databases and S3 buckets.")
    gcp: tuple[GcpRegion, ...] = Field(
        default=(), description="GCP regions of Cloud SQL instances and Cloud Storage buckets."
    )
    azure: tuple[AzureLocation, ...] = Field(
        default=(), description="Azure locations of flexible servers and storage accounts."
    )


class IngressDefaults(Settings):
    """What a workspace's Ingress uses in the placement's cluster unless its spec says otherwise."""

    class_name: UnquotedName | None = Field(default=None, description="IngressClass of the cluster's controller.")
    cluster_issuer: KubernetesName | None = Field(
        default=None, description="cert-manager ClusterIssuer of the chat's certificate (when TLS is on)."
    )


class Placement(Settings):
    """A workload cluster and the regions of its datastores, as a team picks it with spec.placement."""

    name: PlacementName = Field(description="What spec.placement names.")
    helm_provider_config_name: KubernetesName = Field(
        description="provider-helm (Cluster)ProviderConfig reaching the placement's cluster (LibreChat's chart and "
        "the Secrets carried there)."
    )
    kubernetes_provider_config_name: KubernetesName = Field(
        description="provider-kubernetes (Cluster)ProviderConfig reaching the placement's cluster (every Object)."
    )
    namespaces: Patterns = Field(
        default=("*",), description="Namespaces whose workspaces may pick it ({namespace} patterns as in tenancy)."
    )
    regions: Regions = Field(default_factory=Regions, description="Regions of the workspace's cloud datastores.")
    ingress: IngressDefaults = Field(default_factory=IngressDefaults, description="Ingress defaults there.")
    cluster_networks: tuple[CIDR, ...] = Field(
        min_length=1,
        description="The placement cluster's own pod and service CIDRs, which internet egress excludes (the "
        "input's clusterNetworks are the control plane's, not this cluster's).",
    )
    cluster_dns: ClusterDNS = Field(
        default_factory=ClusterDNS,
        alias="clusterDNS",
        description="Where the placement cluster's DNS answers, the only destination its workspaces reach on port "
        "53 (the input's clusterDNS is the control plane's, not this cluster's): the defaults unless set here.",
    )


def check_unique(placements: tuple[Placement, ...]) -> tuple[Placement, ...]:
    names = [p.name for p in placements]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"placement names must be unique: {', '.join(twice)} named twice")
    return placements


def check_one_cluster_one_network(placements: tuple[Placement, ...]) -> None:
    """Refuse placements that name one provider config (so one cluster) with different clusterNetworks or
    clusterDNS: the networks of that cluster are what a workspace's internet egress excludes, and one of them
    would leave that cluster's own pods open to its workspaces as 'the internet'; its DNS is where they may send
    port 53, and one of them would open port 53 to what is not that cluster's DNS."""
    seen: dict[tuple[str, str], tuple[int, Placement]] = {}
    for i, placement in enumerate(placements):
        for field_name, config in (
            ("helmProviderConfigName", placement.helm_provider_config_name),
            ("kubernetesProviderConfigName", placement.kubernetes_provider_config_name),
        ):
            j, other = seen.setdefault((field_name, config), (i, placement))
            if set(other.cluster_networks) != set(placement.cluster_networks):
                raise ValueError(
                    f"placements.{i}.clusterNetworks: placement {placement.name} names {field_name} {config!r} as "
                    f"placement {other.name} (placements.{j}) does, so the same cluster, with other networks "
                    f"({', '.join(placement.cluster_networks)} against {', '.join(other.cluster_networks)}); give "
                    f"both that cluster's pod and service ranges"
                )
            if other.cluster_dns.destinations() != placement.cluster_dns.destinations():
                raise ValueError(
                    f"placements.{i}.clusterDNS: placement {placement.name} names {field_name} {config!r} as "
                    f"placement {other.name} (placements.{j}) does, so the same cluster, with another DNS "
                    f"({_dns(placement.cluster_dns)} against {_dns(other.cluster_dns)}); give both where that "
                    f"cluster's DNS answers"
                )


def _dns(dns: ClusterDNS) -> str:
    namespace, labels, networks = dns.destinations()
    pods = f"pods {','.join(f'{k}={v}' for k, v in labels)} in {namespace}"
    return " and ".join([pods, *networks])


def check_elsewhere(placements: tuple[Placement, ...], helm: str, kubernetes: str) -> None:
    """Refuse a placement that names a provider config of the control plane's own cluster (the input's): it would
    render the Secrets it carries under the names the function composes them by in the same namespace (Helm and
    Crossplane then own one Secret each), and its workloads would see the control plane's networks as its own. A
    region for a workspace in the control plane's cluster is the team's to write, within the tenancy's rules."""
    for i, placement in enumerate(placements):
        for field_name, mine, theirs in (
            ("helmProviderConfigName", placement.helm_provider_config_name, helm),
            ("kubernetesProviderConfigName", placement.kubernetes_provider_config_name, kubernetes),
        ):
            if mine == theirs:
                raise ValueError(
                    f"placements.{i}.{field_name}: {mine!r} (placement {placement.name}) is the input's own, the "
                    f"control plane's cluster; a placement reaches another cluster: name the provider config that "
                    f"reaches it, or remove the placement and let teams choose regions within tenancy"
                )


def select(spec: AIWorkspaceSpec, namespace: str, placements: tuple[Placement, ...]) -> Placement | None:
    """The placement spec.placement picks, None when it picks none; refused, naming the field, when the platform
    defines no such placement or keeps it from the workspace's namespace."""
    if spec.placement is None:
        return None
    found = next((p for p in placements if p.name == spec.placement), None)
    offered = ", ".join(p.name for p in placements if allowed(namespace, p.namespaces, namespace)) or "none"
    if found is None or not allowed(namespace, found.namespaces, namespace):
        why = "is not a placement the platform defines" if found is None else "is not offered to namespace " + namespace
        raise SpecError(
            f"spec.placement: {spec.placement!r} {why} (placements here: {offered}); choose one of them, or remove "
            f"spec.placement to run the workspace in the control plane's cluster"
        )
    return found


# Each cloud datastore's region: (section of the spec, its attribute, provider, settings attribute, field).
_CLOUD_REGIONS = (
    ("database", "database", DatabaseProvider.AWS, "aws", "region"),
    ("database", "database", DatabaseProvider.GCP, "gcp", "region"),
    ("database", "database", DatabaseProvider.AZURE, "azure", "location"),
    ("objectStorage", "object_storage", ObjectStorageProvider.AWS, "aws", "region"),
    ("objectStorage", "object_storage", ObjectStorageProvider.GCP, "gcp", "location"),
    ("objectStorage", "object_storage", ObjectStorageProvider.AZURE, "azure", "location"),
)


def place(spec: AIWorkspaceSpec, placement: Placement | None) -> AIWorkspaceSpec:
    """The spec with the placement's defaults filled in: each cloud datastore's region (a team's own must be one of
    the placement's) and the Ingress's class and ClusterIssuer where the team set none. Without a placement, the
    spec as it is."""
    if placement is None:
        return spec
    update: dict[str, Any] = {}
    for section_name, attribute, provider, cloud, field_name in _CLOUD_REGIONS:
        section = update.get(attribute, getattr(spec, attribute))
        settings = getattr(section, cloud)
        if section.provider != provider or settings is None:
            continue
        regions: tuple[str, ...] = getattr(placement.regions, cloud)
        where = f"spec.{section_name}.{cloud}.{field_name}"
        chosen = getattr(settings, field_name)
        if not regions:
            raise SpecError(
                f"spec.{section_name}.provider: placement {placement.name} puts no datastores on {cloud} (its "
                f"regions.{cloud} is empty); choose a provider the placement offers, or another placement"
            )
        if chosen is not None and chosen not in regions:
            raise SpecError(
                f"{where}: {chosen!r} is not a region of placement {placement.name} ({', '.join(regions)}); choose "
                f"one of them, or remove it to use {regions[0]}"
            )
        placed = settings.model_copy(update={field_name: chosen or regions[0]})
        update[attribute] = section.model_copy(update={cloud: placed})
    ingress = spec.librechat.ingress
    defaults = placement.ingress
    ingress_update: dict[str, Any] = {}
    if ingress.class_name is None and defaults.class_name:
        ingress_update["class_name"] = defaults.class_name
    # The placement's issuer only where the team named no certificate of its own: on a Secret it names, cert-manager
    # would issue into that Secret and replace the certificate it holds (a shared wildcard, a purchased one).
    tls = ingress.tls
    if tls.enabled and not (tls.cluster_issuer or tls.issuer or tls.secret_name) and defaults.cluster_issuer:
        ingress_update["tls"] = ingress.tls.model_copy(update={"cluster_issuer": defaults.cluster_issuer})
    if ingress_update:
        librechat = spec.librechat.model_copy(update={"ingress": ingress.model_copy(update=ingress_update)})
        update["librechat"] = librechat
    return spec.model_copy(update=update) if update else spec


def _where(body: dict[str, Any]) -> str:
    """Where a data-holding resource keeps its data: the cluster an Object's provider config reaches, or a cloud
    resource's region."""
    spec = body.get("spec") or {}
    if body.get("kind") == "Object":
        return f"the cluster of provider config {(spec.get('providerConfigRef') or {}).get('name', '')}"
    for_provider = spec.get("forProvider") or {}
    return f"region {for_provider.get('region') or for_provider.get('location') or ''}"


def check_move(
    spec: AIWorkspaceSpec,
    desired: list[tuple[str, dict[str, Any]]],
    observed: Observed,
) -> None:
    """Refuse a change of placement that would leave data behind: a data-holding resource that exists where the
    new placement would not put it. A volume (an Object) moves only with placementChangePolicy: DropData, which
    starts it empty in the new cluster; a cloud database or bucket never changes region. A volume whose provider
    config the platform changes in the input (no placement before or after) is refused too. Each resource's
    metadata is read first; its kind and spec only for a volume, or for a workspace placed before or now."""
    for key, body in desired:
        if not observed.exists(key):
            continue
        old = (observed.metadata(key).get("annotations") or {}).get(PLACEMENT_ANNOTATION)
        if old is None and spec.placement is None and body.get("kind") != "Object":
            continue  # no placement before or after: a region the team changes is its own to change, as ever
        # What _where reads of it, converted alone: the rest of a managed resource's body is often large.
        current = {"kind": observed.part(key, "kind"), "spec": observed.part(key, "spec")}
        before, after = _where(current), _where(body)
        if before == after:
            continue
        volume = body.get("kind") == "Object"
        # DropData is the team's consent to one move it asks for: a change of spec.placement. When the platform
        # points the same placement at another cluster, the team asked for nothing, so nothing is dropped.
        if volume and spec.placement_change_policy is PlacementChangePolicy.DROP_DATA and old != spec.placement:
            continue
        if old is None and spec.placement is None:
            raise SpecError(
                f"spec: the Composition's input now names {after} for the workspace's volumes, but the workspace "
                f"holds data in {before} ({key}); the platform changed the input's kubernetesProviderConfigName, and "
                f"the workspace stays where its data is: name the former provider config again, or back up, create "
                f"a new workspace and restore into it (README: Backups, Restore)"
            )
        if old is not None and old == spec.placement:
            raise SpecError(
                f"spec.placement: placement {old} now reaches {after}, but the workspace holds data in {before} "
                f"({key}); the platform changed where the placement points, and the workspace stays where its data "
                f"is: point the placement back, or back up, create a new workspace and restore into it "
                f"(README: Backups, Restore)"
            )
        old_place = f"placement {old}" if old else "the control plane's cluster"
        new_place = f"placement {spec.placement}" if spec.placement else "the control plane's cluster"
        migrate = (
            f"to move it with its data, back up (spec.backups, or the cloud's own snapshot), create a new workspace "
            f"in {new_place} and restore into it (README: Backups, Restore), then delete this one"
        )
        if volume:
            alternative = (
                f"; or set spec.placementChangePolicy: DropData to start empty in {new_place} (the old volumes stay "
                f"in the old cluster, unmanaged, until the platform deletes them)"
            )
        else:
            alternative = f"; a cloud database or bucket never changes region, so keep spec.placement on {old_place}"
        raise SpecError(
            f"spec.placement: the workspace holds data in {old_place} ({key} in {before}), which {new_place} would "
            f"leave behind ({after}); {migrate}{alternative}"
        )

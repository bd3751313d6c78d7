"""Tenancy: what the platform lets a team's workspace use, set in the Composition's input, and the checks of a
spec against it. Every value a team gives that reaches the platform's accounts, the shared ingress controller or
the cluster's capacity is refused, naming the field, unless the platform allows it here.

Allow-lists hold patterns: `*` stands for any run of characters but '/' (a lone `*` for anything),
`{namespace}` for the workspace's
namespace (`{namespace}.*` lets team-a use team-a.ai). A `*` that could continue a namespace's name is refused in
the input: with `{namespace}-*`, namespace `team` would match team-b's `team-b-x`. A domain pattern's `*`
stands for whole DNS labels only, so `*.{namespace}.apps.example.com` admits chat.team-a.apps.example.com, never
chat.team-a-x.apps.example.com.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from function.spec import (
    AIWorkspaceSpec,
    DatabaseProvider,
    ObjectStorageProvider,
    Quantity,
    SpecError,
    Storage,
    quantity_value,
)
from function.strings import CIDR, UNSAFE_URL, UNSAFE_URL_MESSAGE, URL, NamespaceName, unsafe_address, url_host

ALLOW = "ask the platform team to allow it in the Composition's input ({}) or choose an allowed value"

DEFAULT_PROVIDER_CONFIGS = ("default",)
# Database access only from private address ranges, and Ingress annotations that tune the proxy but cannot
# inject configuration into the shared ingress controller.
DEFAULT_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fd00::/8")
DEFAULT_INGRESS_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/proxy-body-size",
    "nginx.ingress.kubernetes.io/proxy-read-timeout",
    "nginx.ingress.kubernetes.io/proxy-send-timeout",
    "nginx.ingress.kubernetes.io/proxy-connect-timeout",
)


class Settings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


def _unambiguous(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        if re.search(r"\{namespace\}[-a-z0-9]*\*", pattern):
            raise ValueError(
                f"{pattern!r}: a * after {{namespace}} and what a namespace name may hold lets namespace team match "
                f"team-b's values; follow {{namespace}} with a character no namespace holds ('.', '_', '/') first"
            )
    return patterns


Patterns = Annotated[tuple[str, ...], AfterValidator(_unambiguous)]


class AWSTenancy(Settings):
    """AWS coordinates a team may name."""

    regions: Patterns = Field(default=("*",), description="Regions of databases and buckets.")
    instance_classes: Patterns = Field(
        default=("db.t3.*", "db.t4g.*", "db.m*.large", "db.m*.xlarge", "db.r*.large", "db.r*.xlarge"),
        description="RDS instance classes.",
    )
    vpc_ids: Patterns = Field(default=("*",), description="VPCs a database's security group may be composed in.")
    subnet_ids: Patterns = Field(default=("*",), description="Subnets a database's subnet group may hold.")
    subnet_group_names: Patterns = Field(default=("*",), description="Existing DB subnet groups.")
    security_group_ids: Patterns = Field(default=("*",), description="Existing security groups of a database.")
    role_arns: Patterns = Field(
        default=("arn:aws*:iam::*:role/{namespace}.*",),
        description="IAM roles LibreChat's pods may assume (roleArn, and the eks.amazonaws.com/role-arn annotation).",
    )


class GCPTenancy(Settings):
    """GCP coordinates a team may name."""

    projects: Patterns = Field(
        default=(), description="Projects a bucket may be created in; none: always the provider config's project."
    )
    regions: Patterns = Field(default=("*",), description="Regions of Cloud SQL instances.")
    locations: Patterns = Field(default=("*",), description="Locations of buckets.")
    tiers: Patterns = Field(
        default=("db-f1-micro", "db-g1-small", "db-custom-1-*", "db-custom-2-*", "db-custom-4-*"),
        description="Cloud SQL machine tiers.",
    )
    networks: Patterns = Field(default=("*",), description="VPC networks (self links) of Cloud SQL's private IP.")


class AzureTenancy(Settings):
    """Azure coordinates a team may name."""

    resource_groups: Patterns = Field(
        default=("{namespace}", "{namespace}.*", "{namespace}_*"),
        description="Resource groups of servers and storage accounts.",
    )
    locations: Patterns = Field(default=("*",), description="Regions.")
    skus: Patterns = Field(
        default=("B_Standard_*", "GP_Standard_D2*", "GP_Standard_D4*"), description="Flexible server SKUs."
    )
    subnet_ids: Patterns = Field(default=("*",), description="Delegated subnets (resource ids).")
    private_dns_zone_ids: Patterns = Field(default=("*",), description="Private DNS zones (resource ids).")


class Ceilings(Settings):
    """What one workspace may take of the cluster, counted over everything it composes."""

    cpu: Quantity = Field(default="64", description="CPU requested by all its pods, at their most replicas.")
    memory: Quantity = Field(default="256Gi", description="Memory requested by all its pods, at their most replicas.")
    gpus: int = Field(default=8, ge=0, description="GPUs of all its pods, at their most replicas.")
    storage: Quantity = Field(default="2Ti", description="Volumes and cloud database storage, in all.")
    replicas: int = Field(default=20, ge=1, description="Pods of any one workload (replicas or maxReplicas).")
    backup_retention_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="Days a backup dump may be kept (spec.backups.retentionDays): dumps are whole copies, stored "
        "in the workspace's bucket or backup volume, one per run.",
    )


class Tenancy(Settings):
    """What the platform lets teams use: anything else in a spec is refused, naming the field."""

    provider_configs: tuple[str, ...] = Field(
        default=DEFAULT_PROVIDER_CONFIGS,
        description="Names of the platform's (Cluster)ProviderConfigs teams may select for cloud databases and "
        "buckets (a namespaced ProviderConfig in the team's own namespace is the team's and always allowed).",
    )
    cidrs: tuple[CIDR, ...] = Field(
        default=DEFAULT_CIDRS,
        description="Address ranges a team's database may be opened to: each CIDR a team gives must lie within one.",
    )
    ingress_annotations: tuple[str, ...] = Field(
        default=DEFAULT_INGRESS_ANNOTATIONS,
        description="Ingress annotation keys teams may set; a key ending in * allows every key with that prefix.",
    )
    domains: Patterns = Field(
        default=("*",),
        description="Chat domains, e.g. *.{namespace}.apps.example.com; the default admits any public DNS name.",
    )
    cluster_issuers: Patterns = Field(
        default=("letsencrypt*",),
        description="cert-manager ClusterIssuers teams may name (an Issuer in the team's namespace is its own).",
    )
    storage_classes: Patterns = Field(default=("*",), description="StorageClasses of the workspace's volumes.")
    ingress_classes: Patterns = Field(default=("*",), description="IngressClasses (ingress controllers) teams may use.")
    team_provider_configs: bool = Field(
        default=False,
        description="Whether a namespaced ProviderConfig in the team's own namespace may be used without being "
        "listed in providerConfigs: only when teams bring their own cloud credentials (a ProviderConfig that uses "
        "the provider's own identity, such as IRSA or InjectedIdentity, would lend them the platform's).",
    )
    network_policies_optional: bool = Field(
        default=False,
        description="Whether a team may switch its workspace's NetworkPolicies off (spec.networkPolicies.enabled: "
        "false), which also drops the egress rule that keeps its pods off the metadata service and the cluster.",
    )
    composition_pins: bool = Field(
        default=False,
        description="Whether a team may pin a Composition revision (compositionUpdatePolicy: Manual, or a "
        "compositionRevisionSelector), which keeps it on an older revision of this input, tenancy included.",
    )
    service_namespaces: tuple[NamespaceName, ...] = Field(
        default=(),
        description="Namespaces besides the workspace's own whose Services a team's URLs may name (e.g. shared "
        "MCP servers); LibreChat and the network policies let the workspace reach exactly those.",
    )
    selector_labels: dict[str, str] = Field(
        default_factory=lambda: {"crossplane.io/claim-namespace": "{namespace}"},
        description="Labels ({namespace} in a value is the team's) every selector a team writes must also match "
        "in the claims flavour, where managed resources are cluster-scoped: by default the claim namespace label, "
        "so a team selects only what its own claims composed.",
    )
    aws: AWSTenancy = Field(default_factory=AWSTenancy, description="AWS coordinates.")
    gcp: GCPTenancy = Field(default_factory=GCPTenancy, description="GCP coordinates.")
    azure: AzureTenancy = Field(default_factory=AzureTenancy, description="Azure coordinates.")
    ceilings: Ceilings = Field(default_factory=Ceilings, description="What one workspace may take of the cluster.")


def _pattern(pattern: str, namespace: str) -> re.Pattern[str]:
    parts = re.split(r"(\*|\{namespace\})", pattern)
    regex = "".join(
        "[^/]*" if p == "*" else re.escape(namespace) if p == "{namespace}" else re.escape(p) for p in parts
    )
    return re.compile(regex)


def allowed(value: str, patterns: Patterns, namespace: str) -> bool:
    """Whether `value` matches one of the platform's patterns for the workspace's namespace (a pattern of `*`
    alone admits anything, '/' included)."""
    return any(p == "*" or _pattern(p, namespace).fullmatch(value) for p in patterns)


def domain_allowed(host: str, patterns: Patterns, namespace: str) -> bool:
    """Whether a DNS name matches a domain pattern, whose `*` stands for one or more whole labels."""
    for pattern in patterns:
        if pattern == "*":
            return True
        parts = re.split(r"(\*|\{namespace\})", pattern)
        regex = "".join(
            r"[a-z0-9-]+(\.[a-z0-9-]+)*" if p == "*" else re.escape(namespace) if p == "{namespace}" else re.escape(p)
            for p in parts
        )
        if re.fullmatch(regex, host):
            return True
    return False


def _refuse(field: str, value: str, what: str, patterns: Patterns, setting: str) -> SpecError:
    shown = ", ".join(patterns) or "none"
    return SpecError(f"{field}: {value!r} is not {what} teams may use (allowed: {shown}); {ALLOW.format(setting)}")


def _fields(model: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every set field below a spec model, as (path as the API server writes it, value), depth first."""
    if isinstance(model, BaseModel):
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            child = f"{path}.{info.alias or name}"
            yield child, value
            yield from _fields(value, child)
    elif isinstance(model, list | tuple):
        for index, item in enumerate(model):
            yield from _fields(item, f"{path}[{index}]")


def check(spec: AIWorkspaceSpec, namespace: str, own_provider_configs: bool, tenancy: Tenancy) -> None:
    """Refuse, naming the field, what the platform does not let teams use. `own_provider_configs`: whether a
    namespaced ProviderConfig is the team's own (the namespaced flavour)."""
    librechat = spec.librechat
    if not domain_allowed(librechat.domain, tenancy.domains, namespace):
        raise _refuse("spec.librechat.domain", librechat.domain, "a domain", tenancy.domains, "tenancy.domains")
    class_name = librechat.ingress.class_name
    if class_name and not allowed(class_name, tenancy.ingress_classes, namespace):
        raise _refuse(
            "spec.librechat.ingress.className",
            class_name,
            "an IngressClass",
            tenancy.ingress_classes,
            "tenancy.ingressClasses",
        )
    if not spec.network_policies.enabled and not tenancy.network_policies_optional:
        raise SpecError(
            "spec.networkPolicies.enabled: the platform keeps every workspace's NetworkPolicies on (they also keep "
            "its pods off the metadata service and the cluster's networks); remove the setting, or ask the "
            "platform team to allow it in the Composition's input (tenancy.networkPoliciesOptional)"
        )
    issuer = librechat.ingress.tls.cluster_issuer
    if issuer and not allowed(issuer, tenancy.cluster_issuers, namespace):
        raise _refuse(
            "spec.librechat.ingress.tls.clusterIssuer",
            issuer,
            "a ClusterIssuer",
            tenancy.cluster_issuers,
            "tenancy.clusterIssuers",
        )
    for key in sorted(librechat.ingress.annotations):
        if not any(key == a or (a.endswith("*") and key.startswith(a[:-1])) for a in tenancy.ingress_annotations):
            raise _refuse(
                "spec.librechat.ingress.annotations",
                key,
                "an annotation",
                tenancy.ingress_annotations,
                "tenancy.ingressAnnotations",
            )
    for path, value in _fields(spec, "spec"):
        storage_class = value.storage_class_name if isinstance(value, Storage) else None
        if storage_class and not allowed(storage_class, tenancy.storage_classes, namespace):
            raise _refuse(
                f"{path}.storageClassName",
                storage_class,
                "a StorageClass",
                tenancy.storage_classes,
                "tenancy.storageClasses",
            )
        pods = path.endswith((".replicas", ".workers", ".maxReplicas")) and isinstance(value, int)
        if pods and value > tenancy.ceilings.replicas:
            raise SpecError(
                f"{path}: {value} pods are more than one workload may run here ({tenancy.ceilings.replicas}); "
                f"{ALLOW.format('tenancy.ceilings.replicas')}"
            )
    retention, most = spec.backups.retention_days, tenancy.ceilings.backup_retention_days
    if spec.backups.enabled and retention > most:
        raise SpecError(
            f"spec.backups.retentionDays: {retention} days are more than a dump may be kept here ({most}); "
            f"{ALLOW.format('tenancy.ceilings.backupRetentionDays')}"
        )
    _check_provider_configs(spec, own_provider_configs, tenancy)
    _check_cidrs(spec, tenancy)
    _check_clouds(spec, namespace, tenancy)


def check_pins(raw: Any, namespaced: bool, tenancy: Tenancy) -> None:
    """Refuse a team's pin of a Composition revision (Manual updates, a revision selector), which keeps the
    workspace on an older revision of the platform's input, unless the platform allows pins. `raw` is the XR's
    spec as sent: Crossplane keeps these in spec.crossplane (namespaced) or in spec (claims)."""
    if tenancy.composition_pins or not isinstance(raw, dict):
        return
    fields = raw.get("crossplane", {}) if namespaced else raw
    where = "spec.crossplane" if namespaced else "spec"
    if not isinstance(fields, dict):
        return
    if fields.get("compositionUpdatePolicy") == "Manual":
        raise SpecError(
            f"{where}.compositionUpdatePolicy: Manual would keep the workspace on an old revision of the platform's "
            f"Composition (its tenancy included); remove it, or ask the platform team to allow pins in the "
            f"Composition's input (tenancy.compositionPins)"
        )
    if fields.get("compositionRevisionSelector"):
        raise SpecError(
            f"{where}.compositionRevisionSelector: a revision selector can keep the workspace on an old revision of "
            f"the platform's Composition (its tenancy included); remove it, or ask the platform team to allow pins "
            f"in the Composition's input (tenancy.compositionPins)"
        )


def _check_provider_configs(spec: AIWorkspaceSpec, own_provider_configs: bool, tenancy: Tenancy) -> None:
    for where, ref, used in (
        (
            "spec.database.providerConfigRef",
            spec.database.provider_config_ref,
            spec.database.provider != DatabaseProvider.IN_CLUSTER,
        ),
        (
            "spec.objectStorage.providerConfigRef",
            spec.object_storage.provider_config_ref,
            spec.object_storage.provider
            in (ObjectStorageProvider.AWS, ObjectStorageProvider.GCP, ObjectStorageProvider.AZURE),
        ),
    ):
        own = own_provider_configs and ref.kind.value == "ProviderConfig" and tenancy.team_provider_configs
        if used and not own and ref.name not in tenancy.provider_configs:
            raise _refuse(
                f"{where}.name", ref.name, "a provider config", tenancy.provider_configs, "tenancy.providerConfigs"
            )


def _check_cidrs(spec: AIWorkspaceSpec, tenancy: Tenancy) -> None:
    allowed_networks = [ipaddress.ip_network(c) for c in tenancy.cidrs]
    aws = spec.database.aws
    for i, cidr in enumerate(aws.allowed_cidrs if aws and spec.database.provider == DatabaseProvider.AWS else []):
        network = ipaddress.ip_network(cidr, strict=False)
        if not any(network.version == a.version and network.subnet_of(a) for a in allowed_networks):  # type: ignore[arg-type]
            raise SpecError(
                f"spec.database.aws.allowedCidrs[{i}]: {cidr} is outside the ranges a database may be opened to "
                f"({', '.join(tenancy.cidrs)}); {ALLOW.format('tenancy.cidrs')}"
            )


ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"


def _cloud_values(spec: AIWorkspaceSpec) -> Iterator[tuple[str, str | None, str, str]]:
    """(field, value, what it is, tenancy setting) of every cloud coordinate the spec uses."""
    database, storage = spec.database, spec.object_storage
    if database.provider == DatabaseProvider.AWS and database.aws:
        aws = database.aws
        yield "spec.database.aws.region", aws.region, "an AWS region", "aws.regions"
        yield "spec.database.aws.instanceClass", aws.instance_class, "an RDS instance class", "aws.instanceClasses"
        yield "spec.database.aws.vpcId", aws.vpc_id, "a VPC", "aws.vpcIds"
        yield "spec.database.aws.subnetGroupName", aws.subnet_group_name, "a DB subnet group", "aws.subnetGroupNames"
        for i, subnet in enumerate(aws.subnet_ids):
            yield f"spec.database.aws.subnetIds[{i}]", subnet, "a subnet", "aws.subnetIds"
        for i, group in enumerate(aws.security_group_ids):
            yield f"spec.database.aws.securityGroupIds[{i}]", group, "a security group", "aws.securityGroupIds"
    if database.provider == DatabaseProvider.GCP and database.gcp:
        gcp = database.gcp
        yield "spec.database.gcp.region", gcp.region, "a GCP region", "gcp.regions"
        yield "spec.database.gcp.tier", gcp.tier, "a Cloud SQL tier", "gcp.tiers"
        yield "spec.database.gcp.privateNetwork", gcp.private_network, "a VPC network", "gcp.networks"
    if database.provider == DatabaseProvider.AZURE and database.azure:
        az = database.azure
        yield "spec.database.azure.location", az.location, "an Azure region", "azure.locations"
        yield (
            "spec.database.azure.resourceGroupName",
            az.resource_group_name,
            "a resource group",
            "azure.resourceGroups",
        )
        yield "spec.database.azure.skuName", az.sku_name, "a server SKU", "azure.skus"
        yield "spec.database.azure.delegatedSubnetId", az.delegated_subnet_id, "a subnet", "azure.subnetIds"
        yield (
            "spec.database.azure.privateDnsZoneId",
            az.private_dns_zone_id,
            "a private DNS zone",
            "azure.privateDnsZoneIds",
        )
    if storage.provider == ObjectStorageProvider.AWS and storage.aws:
        yield "spec.objectStorage.aws.region", storage.aws.region, "an AWS region", "aws.regions"
        yield "spec.objectStorage.aws.roleArn", storage.aws.role_arn, "an IAM role", "aws.roleArns"
        annotated = storage.aws.service_account_annotations.get(ROLE_ARN_ANNOTATION)
        yield (
            f"spec.objectStorage.aws.serviceAccountAnnotations.{ROLE_ARN_ANNOTATION}",
            annotated,
            "an IAM role",
            "aws.roleArns",
        )
    if storage.provider == ObjectStorageProvider.GCP and storage.gcp:
        yield "spec.objectStorage.gcp.location", storage.gcp.location, "a bucket location", "gcp.locations"
        yield "spec.objectStorage.gcp.project", storage.gcp.project, "a GCP project", "gcp.projects"
    if storage.provider == ObjectStorageProvider.AZURE and storage.azure:
        az_blob = storage.azure
        yield "spec.objectStorage.azure.location", az_blob.location, "an Azure region", "azure.locations"
        yield (
            "spec.objectStorage.azure.resourceGroupName",
            az_blob.resource_group_name,
            "a resource group",
            "azure.resourceGroups",
        )


def _check_clouds(spec: AIWorkspaceSpec, namespace: str, tenancy: Tenancy) -> None:
    for field, value, what, setting in _cloud_values(spec):
        if value is None:
            continue
        cloud, key = setting.split(".")
        patterns: Patterns = getattr(getattr(tenancy, cloud), _snake(key))
        if not allowed(value, patterns, namespace):
            raise _refuse(field, value, what, patterns, f"tenancy.{setting}")


def _snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), name)


# --- In-cluster hosts ----------------------------------------------------------------------------------------
def service_namespace(url: str) -> str | None:
    """The namespace of the in-cluster Service a URL names (<service>.<namespace>.svc[.cluster.local], or a pod
    of a headless Service, <pod>.<service>.<namespace>.svc[.cluster.local]), None for any other host."""
    match = re.fullmatch(r"([a-z0-9-]+\.)?[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.cluster\.local)?", url_host(url))
    return match.group(2) if match else None


def check_host(field: str, url: str, namespace: str, tenancy: Tenancy) -> None:
    """A URL the team gives through a Secret (an existing MongoDB's hosts) held to the rules of a URL it writes in
    its spec: the URL type's pattern, UNSAFE_URL and the address (strings.public_url), then check_url."""
    shown = url_host(url) or url
    if not re.fullmatch(URL, url) or re.match(UNSAFE_URL, url):
        raise SpecError(f"{field}: the URI names {shown}; {UNSAFE_URL_MESSAGE}")
    reason = unsafe_address(url)
    if reason:
        raise SpecError(f"{field}: the URI {reason}; name a public host or an in-cluster Service by DNS name")
    check_url(field, url, namespace, tenancy)


def check_url(field: str, url: str, namespace: str, tenancy: Tenancy) -> None:
    """A team URL that names an in-cluster host must name a Service of the workspace's own namespace or of one the
    platform allows; any other cluster name (another team's Service, a pod's name) is refused."""
    host = url_host(url)
    if not re.search(r"(^|\.)(svc|cluster\.local)$", host):
        return
    target = service_namespace(url)
    if target is None:
        raise SpecError(
            f"{field}: {host} is an in-cluster name but not a Service's; name a Service as "
            f"<service>.<namespace>.svc in the workspace's namespace ({namespace})"
        )
    if target != namespace and target not in tenancy.service_namespaces:
        raise SpecError(
            f"{field}: {host} is a Service of namespace {target}, not of the workspace's ({namespace}); "
            f"{ALLOW.format('tenancy.serviceNamespaces')}"
        )


# --- Ceilings ---------------------------------------------------------------------------------------------
def over_ceiling(totals: dict[str, Decimal], tenancy: Tenancy) -> tuple[str, str] | None:
    """The first ceiling the workspace's totals pass, (its kind, a message naming it); None within all of them."""
    ceilings = tenancy.ceilings
    limits = {
        "cpu": (quantity_value(ceilings.cpu), "CPU"),
        "memory": (quantity_value(ceilings.memory), "memory"),
        "gpus": (Decimal(ceilings.gpus), "GPUs"),
        "storage": (quantity_value(ceilings.storage), "storage"),
    }
    for name, (limit, what) in limits.items():
        if totals.get(name, Decimal(0)) > limit:
            return name, (
                f"the workspace takes {_shown(totals[name], name)} of {what} in all, above the "
                f"{_shown(limit, name)} one workspace may take here (tenancy.ceilings.{name})"
            )
    return None


def _shown(value: Decimal, name: str) -> str:
    if name in ("memory", "storage"):
        return f"{(value / 2**30).quantize(Decimal('0.1'))}Gi"
    return f"{value.quantize(Decimal('0.01')).normalize():f}"

"""NetworkPolicies from the wiring plan: one per workload, allowing exactly the calls plan.connections() lists.

Each workload's policy selects its pods and isolates them both ways. Ingress: from the workloads that call it,
on the port they call; LibreChat also from the ingress controller's namespace, and the scraped parts from
Prometheus's. Egress: DNS (port 53 to the cluster's DNS pods and the DNS addresses the platform names, nowhere
else: function/clusterdns.py), the endpoints it calls, the in-cluster Services the team's URLs name (its own
namespace's, or one the platform allows, by namespace selector), and the internet only for the parts that need
it. An in-cluster destination is allowed by selector, never by address: CNIs such as Cilium do not match pods
with ipBlock rules. The internet rule (0.0.0.0/0, ::/0) excludes link-local and metadata addresses and the
cluster's own pod and service ranges (the platform names them), so on CNIs that do match cluster addresses with
ipBlock (Calico) "the internet" never means another team's pods; it still covers addresses outside the cluster,
such as a cloud database.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

from function import k8s, tenancy
from function.plan import (
    BACKUP,
    BACKUP_JOBS,
    FIRECRAWL_PROCESSES,
    LIBRECHAT,
    ClusterService,
    Draft,
    Endpoint,
    Part,
    Plan,
    url_host_port,
)
from function.resources import Composed, kubernetes_object
from function.services import Context
from function.spec import AIWorkspaceSpec, ObjectStorageProvider

COMPONENT = "network"
# Workloads that call out of the cluster: model providers, sign-in, MCP and buckets (LibreChat), search engines,
# the pages scraped and the LLM (Firecrawl, Playwright), model downloads (Speaches, Ollama, vLLM), embeddings
# and cloud databases (RAG API). The datastores reach nothing but the cluster's DNS.
INTERNET = {LIBRECHAT, "searxng", *FIRECRAWL_PROCESSES, "firecrawl-playwright", "speaches", "ollama", "vllm", "rag-api"}
SCRAPED = {"meilisearch", "vllm"}  # what spec.monitoring's ServiceMonitors scrape
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
# Never "the internet": link-local addresses (the cloud metadata services at 169.254.169.254 and
# 169.254.170.2, EKS Pod Identity's agent at 169.254.170.23), AWS's IPv6 instance metadata (fd00:ec2::254) and
# Pod Identity agent (fd00:ec2::23, "Set up the Amazon EKS Pod Identity Agent"), Alibaba's metadata at
# 100.100.100.200, and loopback.
METADATA_V4 = ("100.100.100.200/32", "127.0.0.0/8", "169.254.0.0/16")
METADATA_V6 = ("::1/128", "fd00:ec2::23/128", "fd00:ec2::254/128", "fe80::/10")


def _team_urls(spec: AIWorkspaceSpec) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every URL a team gives: (field, URL, the workloads that call it)."""
    librechat = spec.librechat
    auth = librechat.authentication
    urls: list[tuple[str, str, tuple[str, ...]]] = [
        (f"spec.librechat.mcpServers[{i}].url", s.url, (LIBRECHAT,)) for i, s in enumerate(librechat.mcp_servers)
    ]
    if auth.github and auth.github.enterprise_base_url:
        urls.append(
            ("spec.librechat.authentication.github.enterpriseBaseUrl", auth.github.enterprise_base_url, (LIBRECHAT,))
        )
    if auth.openid:
        urls.append(("spec.librechat.authentication.openid.issuer", auth.openid.issuer, (LIBRECHAT,)))
    storage = spec.object_storage
    if storage.provider == ObjectStorageProvider.S3 and storage.s3:
        urls.append(("spec.objectStorage.s3.endpoint", storage.s3.endpoint, (LIBRECHAT, *BACKUP_JOBS)))
    return urls


def plan_part(draft: Draft) -> Part:
    """The in-cluster Services the team's URLs name, each checked against the namespaces the platform allows (the
    policies let their callers reach exactly those), and the ones LibreChat's SSRF guard exempts for MCP: it
    refuses in-cluster and private addresses unless exempted, and a public host needs no exemption."""
    services: list[ClusterService] = []
    for where, url, callers in _team_urls(draft.spec):
        tenancy.check_url(where, url, draft.workspace.namespace, draft.platform.tenancy)
        namespace = tenancy.service_namespace(url)
        if namespace is None:
            continue
        host_port = url_host_port(url)
        port = int(host_port.rsplit(":", 1)[1])
        services += [ClusterService(caller, namespace, port, host_port) for caller in callers]
    cluster_services = tuple(sorted(set(services), key=lambda s: (s.caller, s.namespace, s.port, s.host_port)))
    mcp_hosts = {url_host_port(server.url) for server in draft.spec.librechat.mcp_servers}
    allowed = {s.host_port for s in cluster_services if s.caller == LIBRECHAT and s.host_port in mcp_hosts}
    return Part({"cluster_services": cluster_services, "mcp_allowed_addresses": tuple(sorted(allowed))})


def internet(plan: Plan) -> list[dict[str, Any]]:
    """0.0.0.0/0 and ::/0 but the metadata ranges and the cluster's own networks."""
    cluster = [ipaddress.ip_network(c, strict=False) for c in plan.cluster_networks]
    v4 = sorted({*METADATA_V4, *(str(n) for n in cluster if n.version == 4)})
    v6 = sorted({*METADATA_V6, *(str(n) for n in cluster if n.version == 6)})
    return [{"ipBlock": {"cidr": "0.0.0.0/0", "except": v4}}, {"ipBlock": {"cidr": "::/0", "except": v6}}]


def dns(plan: Plan) -> dict[str, Any]:
    """The one DNS rule: port 53 to the DNS pods of the cluster the workspace runs in (by namespace and labels) and
    the addresses the platform names for a DNS outside the pod network; never to anywhere else."""
    namespace, labels, networks = plan.cluster_dns.destinations()
    pods = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": dict(labels)},
    }
    return {"to": [pods, *({"ipBlock": {"cidr": cidr}} for cidr in networks)], "ports": DNS_PORTS}


def _namespace(plan: Plan, namespace: str) -> dict[str, Any]:
    """Pods of a namespace: any pod of the workspace's own, or of another by its name label."""
    if namespace == plan.workspace.namespace:
        return {"podSelector": {}}
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def pod_selector(plan: Plan, app: str) -> dict[str, str]:
    """The labels of a workload's pods; LibreChat's are the chart's selector labels (fullname and release)."""
    if app == LIBRECHAT:
        return {
            "app.kubernetes.io/name": plan.librechat_fullname,
            "app.kubernetes.io/instance": plan.librechat_fullname,
        }
    return k8s.selector(plan.workspace.name, app)


def workloads(plan: Plan) -> dict[str, bool]:
    """Every workload the workspace runs, by app label, and whether it may reach the internet."""
    endpoints: list[Endpoint | None] = [
        plan.librechat,
        plan.mongodb,
        plan.meilisearch,
        plan.redis,
        plan.searxng,
        plan.firecrawl_playwright,
        plan.firecrawl_postgres,
        plan.firecrawl_redis,
        plan.speaches,
        *(model.endpoint for model in plan.model_endpoints()),
        plan.rag.endpoint if plan.rag else None,
        plan.rag.pgvector if plan.rag else None,
    ]
    apps = {e.app for e in endpoints if e is not None}
    if plan.firecrawl:
        apps |= set(FIRECRAWL_PROCESSES)
    out = {app: app in INTERNET for app in sorted(apps)}
    if plan.backups:
        uploads = plan.backups.volume is None  # the backup and restore jobs reach the bucket
        out[BACKUP] = uploads
        for database in (plan.backups.mongodb, plan.backups.pgvector):
            if database:
                out[f"{database.app}-restore"] = uploads
    return out


def _ports(ports: set[int]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in sorted(ports)]


def _policy(
    plan: Plan,
    app: str,
    reaches_internet: bool,
    connections: list[tuple[str, Endpoint]],
    extra: tuple[ClusterService, ...] = (),
) -> dict[str, Any]:
    spec = plan.spec
    callers: dict[int, set[str]] = defaultdict(set)
    for caller, endpoint in connections:
        if endpoint.app == app:
            callers[endpoint.port].add(caller)
    ingress: list[dict[str, Any]] = [
        {
            "from": [{"podSelector": {"matchLabels": pod_selector(plan, caller)}} for caller in sorted(apps)],
            "ports": _ports({port}),
        }
        for port, apps in sorted(callers.items())
    ]
    outside = []
    if app == LIBRECHAT and spec.librechat.ingress.enabled:
        outside.append((spec.network_policies.ingress_namespace, plan.librechat.port))
    if app in SCRAPED and spec.monitoring.enabled:
        port = plan.meilisearch.port if app == "meilisearch" else plan.vllm.endpoint.port if plan.vllm else 0
        outside.append((spec.network_policies.prometheus_namespace, port))
    for namespace, port in outside:
        selector = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
        ingress.append({"from": [selector], "ports": _ports({port})})
    egress: list[dict[str, Any]] = [dns(plan)]
    called: dict[str, set[int]] = defaultdict(set)
    for caller, endpoint in connections:
        if caller == app:
            called[endpoint.app].add(endpoint.port)
    egress += [
        {"to": [{"podSelector": {"matchLabels": pod_selector(plan, callee)}}], "ports": _ports(ports)}
        for callee, ports in sorted(called.items())
    ]
    services: dict[str, set[int]] = defaultdict(set)
    for service in (*plan.cluster_services, *extra):
        if service.caller == app:
            services[service.namespace].add(service.port)
    egress += [{"to": [_namespace(plan, ns)], "ports": _ports(ports)} for ns, ports in sorted(services.items())]
    if reaches_internet:
        egress.append({"to": internet(plan)})
    name = plan.librechat_fullname if app == LIBRECHAT else plan.object_name(app)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": plan.workspace.namespace,
            "labels": k8s.labels(plan.workspace.name, app),
        },
        "spec": {
            "podSelector": {"matchLabels": pod_selector(plan, app)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def existing_mongodb(ctx: Context) -> tuple[ClusterService, ...]:
    """The in-cluster Services an existing MongoDB's URI names (read from the team's Secret), each host checked as
    a URL the team writes: a public host, or a Service of its own namespace or of one the platform allows."""
    plan = ctx.plan
    ref = plan.spec.librechat.mongodb.existing_uri_secret_ref
    if ref is None:
        return ()
    uri = ctx.secrets.referenced(ref.name, ref.key)
    where = "spec.librechat.mongodb.existingUriSecretRef"
    out = []
    for host, port in mongodb_hosts(uri):
        url = f"https://{host}:{port}/" if port else f"https://{host}/"
        tenancy.check_host(where, url, plan.workspace.namespace, plan.platform.tenancy)
        namespace = tenancy.service_namespace(url)
        if namespace is not None:
            out.append(ClusterService(LIBRECHAT, namespace, port or 27017, f"{host}:{port or 27017}"))
    return tuple(out)


def mongodb_hosts(uri: str) -> list[tuple[str, int | None]]:
    """(host, port) of each server a mongodb:// URI lists, or the one name a mongodb+srv:// URI looks up (its SRV
    records, port None)."""
    scheme, _, rest = uri.partition("://")
    if scheme not in ("mongodb", "mongodb+srv"):
        return []
    hosts = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    out: list[tuple[str, int | None]] = []
    for entry in hosts.split(","):
        host, _, port = entry.strip().partition(":")
        if host:
            default = None if scheme == "mongodb+srv" else 27017
            out.append((host.lower().rstrip("."), int(port) if port.isdigit() else default))
    return out


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    mongodb = existing_mongodb(ctx)  # checked with or without policies: another team's database is never ours
    if not plan.spec.network_policies.enabled:
        return []
    connections = plan.connections()
    return [
        kubernetes_object(
            plan, f"{app}-networkpolicy", COMPONENT, _policy(plan, app, reaches_internet, connections, mongodb)
        )
        for app, reaches_internet in workloads(plan).items()
    ]

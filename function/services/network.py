"""NetworkPolicies from the wiring plan: one per workload, allowing exactly the calls plan.connections() lists.

Each workload's policy selects its pods and isolates them both ways. Ingress: from the workloads that call it,
on the port they call; LibreChat also from the ingress controller's namespace, and the scraped parts from
Prometheus's. Egress: DNS (port 53, anywhere), the endpoints it calls, and the internet only for the parts
that need it. An in-cluster destination is allowed by pod selector, never by address: CNIs such as Cilium do
not match pods with ipBlock rules, so the internet rule (0.0.0.0/0, ::/0) opens nothing inside the cluster
there, while on others (Calico) it also covers addresses outside the workspace, such as a cloud database.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from function import k8s
from function.plan import FIRECRAWL_PROCESSES, LIBRECHAT, Endpoint, Plan
from function.resources import Composed, kubernetes_object
from function.services import Context

COMPONENT = "network"
# Workloads that call out of the cluster: model providers, sign-in, MCP and buckets (LibreChat), search engines,
# the pages scraped and the LLM (Firecrawl, Playwright), model downloads (Speaches, Ollama, vLLM), embeddings
# and cloud databases (RAG API). The datastores reach nothing but DNS.
INTERNET = {LIBRECHAT, "searxng", *FIRECRAWL_PROCESSES, "firecrawl-playwright", "speaches", "ollama", "vllm", "rag-api"}
SCRAPED = {"meilisearch", "vllm"}  # what spec.monitoring's ServiceMonitors scrape
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
ANYWHERE = [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]


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
        for database in (plan.backups.mongodb, plan.backups.pgvector):
            if database:
                out[f"{database.app}-backup"] = plan.backups.volume is None  # uploads to the bucket
    return out


def _ports(ports: set[int]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in sorted(ports)]


def _policy(plan: Plan, app: str, internet: bool, connections: list[tuple[str, Endpoint]]) -> dict[str, Any]:
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
    egress: list[dict[str, Any]] = [{"ports": DNS_PORTS}]
    called: dict[str, set[int]] = defaultdict(set)
    for caller, endpoint in connections:
        if caller == app:
            called[endpoint.app].add(endpoint.port)
    egress += [
        {"to": [{"podSelector": {"matchLabels": pod_selector(plan, callee)}}], "ports": _ports(ports)}
        for callee, ports in sorted(called.items())
    ]
    if internet:
        egress.append({"to": ANYWHERE})
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


def compose(ctx: Context) -> list[Composed]:
    plan = ctx.plan
    if not plan.spec.network_policies.enabled:
        return []
    connections = plan.connections()
    return [
        kubernetes_object(plan, f"{app}-networkpolicy", COMPONENT, _policy(plan, app, internet, connections))
        for app, internet in workloads(plan).items()
    ]
